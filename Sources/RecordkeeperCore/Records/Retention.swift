import Foundation

/// A role a custodian held for a span of dates, e.g. a Capstone designation on NARA form NA-1005.
public struct RoleDesignation: Sendable, Hashable, Codable {
    public var role: String
    /// True for Capstone roles (GRS 6.1): the holder's messages are permanent.
    public var capstone: Bool
    /// First day the role was held.
    public var starts: CivilDate
    /// Last day the role was held (inclusive); nil while it is still held.
    public var ends: CivilDate?
    public init(role: String, capstone: Bool, starts: CivilDate, ends: CivilDate? = nil) {
        self.role = role
        self.capstone = capstone
        self.starts = starts
        self.ends = ends
    }
    public func covers(_ date: CivilDate) -> Bool { date >= starts && (ends.map { date <= $0 } ?? true) }
}

/// What the retention engine knows about a custodian.
public struct CustodianFacts: Sendable, Hashable {
    public var email: String
    public var office: String?
    public var designations: [RoleDesignation]
    public init(email: String, office: String?, designations: [RoleDesignation]) {
        self.email = email.lowercased()
        self.office = office
        self.designations = designations
    }
}

/// What the retention engine needs to know about one record.
public struct RecordFacts: Sendable, Hashable {
    public var messageID: Int64
    /// The sent date as the record shows it (the custodian's local date).
    public var sentDate: CivilDate
    public var platform: String
    public var conversationKey: String
    public var conversationTitle: String
    public var custodianEmail: String
    /// The custodian who sent the message, when the sender is one (resolved through accounts).
    public var senderCustodianEmail: String?
    public init(messageID: Int64, sentDate: CivilDate, platform: String, conversationKey: String, conversationTitle: String,
                custodianEmail: String, senderCustodianEmail: String?) {
        self.messageID = messageID
        self.sentDate = sentDate
        self.platform = platform
        self.conversationKey = conversationKey
        self.conversationTitle = conversationTitle
        self.custodianEmail = custodianEmail.lowercased()
        self.senderCustodianEmail = senderCustodianEmail?.lowercased()
    }
}

/// What happens to a record, and when.
public enum RetentionAction: String, Sendable, Hashable, Codable, CaseIterable {
    /// Temporary: destroyed once `eligible` has come.
    case destroy
    /// Permanent: transferred to the National Archives once `eligible` has come.
    case transfer
    /// Unscheduled: kept until a schedule covers it.
    case retain
    /// Scheduled with an event cutoff whose event has not happened yet.
    case awaitingCutoff = "awaiting-cutoff"
}

/// A record's place in the file plan.
public struct RetentionAssignment: Sendable, Hashable, Codable {
    public var itemID: String
    /// The rule that matched; nil when none did (unscheduled).
    public var ruleID: String?
    public var action: RetentionAction
    public var cutoff: CivilDate?
    /// The first day the record may be destroyed or must be transferred.
    public var eligible: CivilDate?
    public init(itemID: String, ruleID: String?, action: RetentionAction, cutoff: CivilDate?, eligible: CivilDate?) {
        self.itemID = itemID
        self.ruleID = ruleID
        self.action = action
        self.cutoff = cutoff
        self.eligible = eligible
    }
}

/// Everything rules are evaluated against, besides the record itself.
public struct RetentionContext: Sendable {
    public var plan: FilePlan
    public var custodians: [String: CustodianFacts]
    /// Recorded cutoff events: conversation key → event name (lowercased) → date.
    public var events: [String: [String: CivilDate]]
    private let itemsByID: [String: ScheduleItem]

    public init(plan: FilePlan, custodians: [CustodianFacts], events: [String: [String: CivilDate]] = [:]) {
        self.plan = plan
        self.custodians = Dictionary(custodians.map { ($0.email, $0) }, uniquingKeysWith: { a, _ in a })
        self.events = events
        self.itemsByID = Dictionary(plan.items.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
    }

    /// The assignment the plan gives this record, and (when `explain`) why, in words.
    public func assign(_ r: RecordFacts, explain: Bool = false) -> (RetentionAssignment, [String]) {
        var why: [String] = []
        let holders = [r.custodianEmail] + (r.senderCustodianEmail.map { $0 == r.custodianEmail ? [] : [$0] } ?? [])
        var held: [(String, RoleDesignation)] = []
        for email in holders {
            for d in custodians[email]?.designations ?? [] where d.covers(r.sentDate) { held.append((email, d)) }
        }
        if explain {
            if held.isEmpty {
                why.append("no designated role held on \(r.sentDate) by \(holders.joined(separator: " or "))")
            }
            for (email, d) in held {
                why.append("\(email) held \(d.capstone ? "Capstone role" : "role") '\(d.role)' on \(r.sentDate) (\(d.starts) – \(d.ends.map(\.description) ?? "present"))")
            }
        }
        for rule in plan.rules where matches(rule.when, r, held: held) {
            guard let item = itemsByID[rule.item] else { continue }
            if explain { why.append("rule '\(rule.id)' is the first that matches: item \(item.id) (\(item.authority))") }
            return (schedule(r, item: item, ruleID: rule.id, why: &why, explain: explain), why)
        }
        if explain { why.append("no rule matches: unscheduled, kept until a schedule covers it") }
        return (RetentionAssignment(itemID: FilePlan.unscheduledID, ruleID: nil, action: .retain, cutoff: nil, eligible: nil), why)
    }

    /// The cutoff for a record of `item` sent on `sent`, or nil when it waits for an event.
    public func cutoff(for item: ScheduleItem, sent: CivilDate, conversationKey: String) -> CivilDate? {
        switch item.cutoff {
        case .calendarYear:
            return CivilDate.endOf(month: 12, year: sent.year)
        case .fiscalYear:
            let start = plan.fiscalYearStartMonth
            if !(2...12).contains(start) { return CivilDate.endOf(month: 12, year: sent.year) }
            let endYear = sent.month >= start ? sent.year + 1 : sent.year
            return CivilDate.endOf(month: start - 1, year: endYear)
        case .event:
            guard let name = item.cutoffEvent?.lowercased(), let date = events[conversationKey]?[name] else { return nil }
            return max(date, sent)
        }
    }

    private func schedule(_ r: RecordFacts, item: ScheduleItem, ruleID: String, why: inout [String], explain: Bool) -> RetentionAssignment {
        let action: RetentionAction = item.disposition == .temporary ? .destroy : .transfer
        guard let cutoff = cutoff(for: item, sent: r.sentDate, conversationKey: r.conversationKey) else {
            if explain { why.append("cutoff waits for the event '\(item.cutoffEvent ?? "")' in this conversation") }
            return RetentionAssignment(itemID: item.id, ruleID: ruleID, action: .awaitingCutoff, cutoff: nil, eligible: nil)
        }
        let period = (item.disposition == .temporary ? item.retention : item.transferAfter) ?? RetentionPeriod()
        // The period runs from the day after cutoff: 10 years after a 2021-12-31 cutoff is 2032-01-01.
        let eligible = cutoff.addingDays(1).adding(period)
        if explain {
            why.append("\(item.cutoff.rawValue) cutoff \(cutoff); \(action == .destroy ? "destroy" : "transfer") \(period) after cutoff: from \(eligible)")
        }
        return RetentionAssignment(itemID: item.id, ruleID: ruleID, action: action, cutoff: cutoff, eligible: eligible)
    }

    private func matches(_ c: RuleCondition, _ r: RecordFacts, held: [(String, RoleDesignation)]) -> Bool {
        if let capstone = c.capstone, held.contains(where: { $0.1.capstone }) != capstone { return false }
        if let roles = c.roles, !held.contains(where: { h in roles.contains { $0.caseInsensitiveCompare(h.1.role) == .orderedSame } }) { return false }
        if let platforms = c.platforms, !platforms.contains(where: { $0.caseInsensitiveCompare(r.platform) == .orderedSame }) { return false }
        if let conversations = c.conversations, !conversations.contains(where: {
            $0 == r.conversationKey || $0.caseInsensitiveCompare(r.conversationTitle) == .orderedSame
        }) { return false }
        if let offices = c.offices {
            guard let office = custodians[r.custodianEmail]?.office,
                  offices.contains(where: { $0.caseInsensitiveCompare(office) == .orderedSame }) else { return false }
        }
        if let emails = c.custodians, !emails.contains(where: { $0.lowercased() == r.custodianEmail }) { return false }
        return true
    }
}

/// Platform account addresses in a comparable form: phone numbers in any written form reduce to
/// their digits, e-mail addresses and handles to lower case.
public enum AccountAddress {
    public static func normalize(_ raw: String) -> String {
        let trimmed = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        if isPhoneLike(trimmed) { return "tel:" + trimmed.unicodeScalars.filter { CharacterSet.decimalDigits.contains($0) && $0.isASCII }.map(String.init).joined() }
        var s = trimmed.lowercased()
        // An e-mail header's "Name <address>" compares by the address.
        if s.hasSuffix(">"), let lt = s.lastIndex(of: "<"), s[lt...].contains("@") {
            s = String(s[s.index(after: lt)..<s.index(before: s.endIndex)]).trimmingCharacters(in: .whitespaces)
        }
        if s.hasPrefix("mailto:") { s.removeFirst(7) }
        if s.hasPrefix("@") { s.removeFirst() }
        return s
    }

    /// "+1 (202) 555-0143", "202.555.0143", "00 44 20 7946 0958": digits with phone punctuation only.
    public static func isPhoneLike(_ s: String) -> Bool {
        var digits = 0
        for u in s.unicodeScalars {
            switch u {
            case "0"..."9": digits += 1
            case "+", " ", "-", ".", "(", ")", "\u{00A0}", "\u{202A}", "\u{202C}", "\u{2011}": continue
            default: return false
            }
        }
        return digits >= 7
    }

    /// True when two normalised addresses name the same account. Phone numbers match when equal,
    /// or when one is the other without its country code or trunk prefix (at least 9 digits).
    public static func same(_ a: String, _ b: String) -> Bool {
        if a == b { return true }
        guard a.hasPrefix("tel:"), b.hasPrefix("tel:") else { return false }
        var x = a.dropFirst(4), y = b.dropFirst(4)
        while x.first == "0" { x.removeFirst() }
        while y.first == "0" { y.removeFirst() }
        if x == y { return !x.isEmpty }
        let (short, long) = x.count < y.count ? (x, y) : (y, x)
        return short.count >= 9 && long.hasSuffix(short)
    }
}
