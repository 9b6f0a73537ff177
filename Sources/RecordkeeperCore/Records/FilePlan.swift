import Foundation

/// A length of time in calendar units ("10 years", "15 years", "6 months 15 days").
public struct RetentionPeriod: Sendable, Hashable, Codable, CustomStringConvertible {
    public var years: Int
    public var months: Int
    public var days: Int
    public init(years: Int = 0, months: Int = 0, days: Int = 0) {
        self.years = years
        self.months = months
        self.days = days
    }
    enum CodingKeys: String, CodingKey { case years, months, days }
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        years = try c.decodeIfPresent(Int.self, forKey: .years) ?? 0
        months = try c.decodeIfPresent(Int.self, forKey: .months) ?? 0
        days = try c.decodeIfPresent(Int.self, forKey: .days) ?? 0
    }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        if years != 0 { try c.encode(years, forKey: .years) }
        if months != 0 { try c.encode(months, forKey: .months) }
        if days != 0 { try c.encode(days, forKey: .days) }
    }
    public var isZero: Bool { years == 0 && months == 0 && days == 0 }
    public var description: String {
        var parts: [String] = []
        if years != 0 { parts.append("\(years) year\(years == 1 ? "" : "s")") }
        if months != 0 { parts.append("\(months) month\(months == 1 ? "" : "s")") }
        if days != 0 { parts.append("\(days) day\(days == 1 ? "" : "s")") }
        return parts.isEmpty ? "0 days" : parts.joined(separator: " ")
    }
}

/// What happens to a record when its retention ends.
public enum DispositionKind: String, Sendable, Hashable, Codable, CaseIterable {
    /// Transferred to the National Archives.
    case permanent
    /// Destroyed once eligible.
    case temporary
}

/// When the retention period of a record starts to run.
public enum CutoffKind: String, Sendable, Hashable, Codable, CaseIterable {
    /// At the end of the calendar year the record was sent in (Dec 31).
    case calendarYear = "calendar-year"
    /// At the end of the fiscal year the record was sent in (the plan's first fiscal month).
    case fiscalYear = "fiscal-year"
    /// When a named event happens (for example "conversation closed"); until it is recorded,
    /// retention does not start.
    case event
}

/// One item of a records schedule.
public struct ScheduleItem: Sendable, Hashable, Codable {
    /// Short local identifier used in rules and reports, e.g. `0001`.
    public var id: String
    /// The disposition authority number, e.g. `DAA-0568-2022-0005-0001`.
    public var authority: String
    public var title: String
    public var disposition: DispositionKind
    public var cutoff: CutoffKind
    /// For `cutoff: event`, the event's name (records of a conversation use the conversation's
    /// event of that name).
    public var cutoffEvent: String?
    /// Temporary items: how long after cutoff a record may be destroyed.
    public var retention: RetentionPeriod?
    /// Permanent items: how long after cutoff a record is transferred to the National Archives.
    public var transferAfter: RetentionPeriod?

    public init(id: String, authority: String, title: String, disposition: DispositionKind, cutoff: CutoffKind,
                cutoffEvent: String? = nil, retention: RetentionPeriod? = nil, transferAfter: RetentionPeriod? = nil) {
        self.id = id
        self.authority = authority
        self.title = title
        self.disposition = disposition
        self.cutoff = cutoff
        self.cutoffEvent = cutoffEvent
        self.retention = retention
        self.transferAfter = transferAfter
    }

    enum CodingKeys: String, CodingKey {
        case id, authority, title, disposition, cutoff, retention
        case cutoffEvent = "cutoff_event"
        case transferAfter = "transfer_after"
    }
}

/// What a rule looks at. Every condition given must hold; a list matches when any of its
/// entries does; an empty condition matches every record.
public struct RuleCondition: Sendable, Hashable, Codable {
    /// The custodian, or the sender when the sender is a custodian, held a Capstone role on the
    /// record's sent date (`true`), or neither did (`false`).
    public var capstone: Bool?
    /// The custodian or sender-custodian held one of these roles on the sent date.
    public var roles: [String]?
    public var platforms: [String]?
    /// Conversation keys or titles.
    public var conversations: [String]?
    /// The custodian's office.
    public var offices: [String]?
    /// Custodian e-mail addresses.
    public var custodians: [String]?
    public init(capstone: Bool? = nil, roles: [String]? = nil, platforms: [String]? = nil, conversations: [String]? = nil,
                offices: [String]? = nil, custodians: [String]? = nil) {
        self.capstone = capstone
        self.roles = roles
        self.platforms = platforms
        self.conversations = conversations
        self.offices = offices
        self.custodians = custodians
    }
    public var isEmpty: Bool {
        capstone == nil && roles == nil && platforms == nil && conversations == nil && offices == nil && custodians == nil
    }
}

/// Maps records to a schedule item. Rules are tried in order; the first that matches wins.
public struct RetentionRule: Sendable, Hashable, Codable {
    public var id: String
    public var item: String
    public var when: RuleCondition
    public var note: String?
    public init(id: String, item: String, when: RuleCondition = RuleCondition(), note: String? = nil) {
        self.id = id
        self.item = item
        self.when = when
        self.note = note
    }
    enum CodingKeys: String, CodingKey { case id, item, when, note }
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        item = try c.decode(String.self, forKey: .item)
        when = try c.decodeIfPresent(RuleCondition.self, forKey: .when) ?? RuleCondition()
        note = try c.decodeIfPresent(String.self, forKey: .note)
    }
}

/// The agency's file plan: schedule items and the ordered rules that assign records to them.
/// A record no rule covers is unscheduled and kept until a schedule covers it.
public struct FilePlan: Sendable, Hashable, Codable {
    /// The item id records get when no rule matches.
    public static let unscheduledID = "unscheduled"
    public static let unscheduledTitle = "Unscheduled: retain until scheduled"

    public var title: String
    /// First month of the fiscal year (October for the US federal government).
    public var fiscalYearStartMonth: Int
    public var items: [ScheduleItem]
    public var rules: [RetentionRule]

    public init(title: String, fiscalYearStartMonth: Int = 10, items: [ScheduleItem], rules: [RetentionRule]) {
        self.title = title
        self.fiscalYearStartMonth = fiscalYearStartMonth
        self.items = items
        self.rules = rules
    }

    enum CodingKeys: String, CodingKey {
        case title, items, rules
        case fiscalYearStartMonth = "fiscal_year_start_month"
    }
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        title = try c.decodeIfPresent(String.self, forKey: .title) ?? "File plan"
        fiscalYearStartMonth = try c.decodeIfPresent(Int.self, forKey: .fiscalYearStartMonth) ?? 10
        items = try c.decode([ScheduleItem].self, forKey: .items)
        rules = try c.decodeIfPresent([RetentionRule].self, forKey: .rules) ?? []
    }

    public func item(_ id: String) -> ScheduleItem? { items.first { $0.id == id } }

    /// The plan that mirrors the agency's draft schedule DAA-0568-2022-0005 ("Electronic
    /// Messaging Records") under GRS 6.1 Capstone: designated officials' messages are permanent,
    /// every other message is destroyed 10 years after calendar-year cutoff.
    public static let standard = FilePlan(
        title: "Electronic Messaging Records (DAA-0568-2022-0005)",
        fiscalYearStartMonth: 10,
        items: [
            ScheduleItem(id: "0001", authority: "DAA-0568-2022-0005-0001",
                         title: "Electronic messages of designated Capstone officials",
                         disposition: .permanent, cutoff: .calendarYear, transferAfter: RetentionPeriod(years: 15)),
            ScheduleItem(id: "0002", authority: "DAA-0568-2022-0005-0002",
                         title: "Electronic messages of all other employees",
                         disposition: .temporary, cutoff: .calendarYear, retention: RetentionPeriod(years: 10)),
        ],
        rules: [
            RetentionRule(id: "capstone-officials", item: "0001", when: RuleCondition(capstone: true),
                          note: "Custodian or sender held a Capstone role (NA-1005) on the sent date"),
            RetentionRule(id: "all-other-messages", item: "0002", when: RuleCondition(),
                          note: "Every other electronic message"),
        ])

    /// Things that are allowed but probably wrong, for the records officer to confirm.
    public func warnings() -> [String] {
        var out: [String] = []
        let firstCapstone = rules.firstIndex { $0.when.capstone == true }
        for (i, rule) in rules.enumerated() {
            guard let item = item(rule.item) else { continue }
            if let c = firstCapstone, i < c, item.disposition == .temporary, rule.when.capstone != false {
                out.append("rule \(rule.id) (temporary item \(item.id)) comes before the Capstone rule \(rules[c].id): a Capstone official's records it matches would be destroyed; add `capstone: false` to it or move it after")
            }
            if rule.when.conversations?.isEmpty == false {
                out.append("rule \(rule.id) matches conversations by key or title; any participant can rename a chat, so prefer conversation keys")
            }
        }
        if !items.contains(where: { $0.disposition == .permanent }) {
            out.append("the plan has no permanent item: no record will ever be transferred to the National Archives")
        }
        return out
    }

    /// Problems that make the plan unusable, in words a records officer can act on.
    public func problems() -> [String] {
        var out: [String] = []
        if !(1...12).contains(fiscalYearStartMonth) { out.append("fiscal_year_start_month must be 1–12 (got \(fiscalYearStartMonth))") }
        if items.isEmpty { out.append("the plan has no items") }
        var ids = Set<String>()
        for item in items {
            let name = "item \(item.id.isEmpty ? "(no id)" : item.id)"
            if item.id.isEmpty { out.append("an item has no id") }
            if item.id == FilePlan.unscheduledID { out.append("\(name): '\(FilePlan.unscheduledID)' is reserved for records no rule covers") }
            if !ids.insert(item.id).inserted { out.append("\(name) appears twice") }
            if item.authority.trimmingCharacters(in: .whitespaces).isEmpty { out.append("\(name) has no disposition authority") }
            if item.title.trimmingCharacters(in: .whitespaces).isEmpty { out.append("\(name) has no title") }
            switch item.disposition {
            case .temporary:
                if item.retention == nil { out.append("\(name) is temporary but has no retention period") }
                if item.transferAfter != nil { out.append("\(name) is temporary; transfer_after applies to permanent items only") }
            case .permanent:
                if item.transferAfter == nil { out.append("\(name) is permanent but has no transfer_after period") }
                if item.retention != nil { out.append("\(name) is permanent; use transfer_after, not retention") }
            }
            for p in [item.retention, item.transferAfter].compactMap({ $0 }) {
                if p.years < 0 || p.months < 0 || p.days < 0 { out.append("\(name): periods cannot be negative") }
                if p.years > 1000 || p.months > 12_000 || p.days > 365_000 { out.append("\(name): a period over 1,000 years is not a retention period") }
            }
            if item.cutoff == .event, (item.cutoffEvent ?? "").trimmingCharacters(in: .whitespaces).isEmpty {
                out.append("\(name) has an event cutoff but no cutoff_event name")
            }
            if item.cutoff != .event, item.cutoffEvent != nil { out.append("\(name): cutoff_event needs cutoff: event") }
        }
        var ruleIDs = Set<String>()
        for rule in rules {
            if rule.id.isEmpty { out.append("a rule has no id") }
            if !ruleIDs.insert(rule.id).inserted { out.append("rule \(rule.id) appears twice") }
            if !ids.contains(rule.item) { out.append("rule \(rule.id) names item \(rule.item), which the plan does not have") }
            for list in [rule.when.roles, rule.when.platforms, rule.when.conversations, rule.when.offices, rule.when.custodians] {
                if let list, list.isEmpty { out.append("rule \(rule.id) has an empty list, which could never match; remove it") }
            }
        }
        return out
    }
}
