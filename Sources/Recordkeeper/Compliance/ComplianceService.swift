import Archive
import Foundation
import RecordkeeperCore

/// What the agency's policy says about messaging apps (defaults; `docs/records/compliance.md`).
public struct CompliancePolicy: Sendable, Hashable, Codable {
    /// 44 U.S.C. 2911: a complete copy on an official account within this many days.
    public var forwardingLimitDays = 20
    /// How often custodians of unmanaged apps must hand over an export.
    public var exportIntervalDays = 31
    /// A registered user of an unmanaged app who has handed over nothing for this long is a finding.
    public var silenceDays = 30
    /// Two exports of one chat whose captured records leave more than this many days between
    /// them, at the boundary between the exports, leave a hole.
    public var gapDays = 7
    /// Platforms the agency captures centrally (no custodian action needed), and how.
    public var managed: [String: String] = [
        "matrix": "live: Matrix Application Service", "teams": "Teams Export API", "slack": "workspace export (admin)",
        "wickr": "AWS Wickr data-retention bot", "email": "mail journal / forwarding",
    ]
    /// Platforms custodians must export themselves, and how.
    public var unmanaged: [String: String] = [
        "whatsapp": "custodian export (Export chat)", "signal": "custodian export (signal-export)",
        "telegram": "custodian export (Telegram Desktop)", "sms": "custodian export (SMS Backup & Restore)",
    ]
    public init() {}
}

/// One thing wrong with capture, with what shows it.
public struct Finding: Sendable, Hashable, Codable {
    public enum Severity: String, Sendable, Codable, Comparable {
        case low, medium, high
        public static func < (a: Severity, b: Severity) -> Bool { a.rank < b.rank }
        var rank: Int { self == .low ? 0 : self == .medium ? 1 : 2 }
    }
    /// `one_sided`, `export_gap`, `stale_export`, `silent_user`, `deleted_before_capture` (by the
    /// agency's people), `deletion_unattributed` (deleter unknown: review), `deleted_by_others` (context).
    public var rule: String
    public var severity: Severity
    public var custodian: String
    public var platform: String
    public var conversationID: Int64?
    public var conversation: String?
    public var summary: String
    public var evidence: [String]
    /// Record ids that show it (first 20).
    public var records: [Int64]
    /// How many records it concerns, and the dates of the first and last, when it concerns records.
    public var volume: Int? = nil
    public var firstSent: String? = nil
    public var lastSent: String? = nil
}

public struct TwentyDayReport: Sendable, Codable {
    public var limitDays: Int
    public var rows: [LagRow]
    public var worst: [LagCase]
    public var totals: Totals
    public struct Totals: Sendable, Codable { public var onTime: Int; public var late: Int; public var neverForwarded: Int }
}

public struct TimerChange: Sendable, Codable {
    public var notice: TimerNotice
    /// `on`, `off` or `changed` as far as the text tells.
    public var state: String
}

public struct InventoryRow: Sendable, Codable {
    public var platform: String
    public var name: String
    public var managed: Bool
    public var captureMethod: String
    /// Custodians with a registered account on it, or with conversations from it.
    public var users: Int
    public var personalAccounts: Int
    public var conversations: Int
    public var records: Int
    /// The sent time (as written) of the newest record from this platform.
    public var newestRecord: String?
    /// `compliant`, `at risk` (open findings), `not captured` (accounts but no records), `not in use`.
    public var status: String
    public var openFindings: Int
}

/// Recordkeeper watching itself: the 20-day rule, capture completeness, disappearing-message
/// settings and the messaging-app inventory. Every report is a read of record-derived data and
/// is audited.
public struct ComplianceService: Sendable {
    public let archive: ArchiveHandle
    public var policy: CompliancePolicy
    var store: any ArchiveStore { archive.store }

    public init(archive: ArchiveHandle, policy: CompliancePolicy = CompliancePolicy()) {
        self.archive = archive
        self.policy = policy
    }

    func audit(_ actor: String, _ report: String, _ detail: [String: String] = [:]) async throws {
        try await store.appendAudit(AuditDraft(actor: actor, action: "report.\(report)", target: "archive", detail: detail))
    }

    public func twentyDayRule(worst: Int = 20, actor: String) async throws -> TwentyDayReport {
        let (rows, cases) = try await store.captureLag(limitDays: policy.forwardingLimitDays, worst: worst)
        let totals = TwentyDayReport.Totals(onTime: rows.reduce(0) { $0 + $1.onTime }, late: rows.reduce(0) { $0 + $1.late },
                                            neverForwarded: rows.reduce(0) { $0 + $1.neverForwarded })
        try await audit(actor, "twenty_day", ["late": String(totals.late), "never_forwarded": String(totals.neverForwarded)])
        return TwentyDayReport(limitDays: policy.forwardingLimitDays, rows: rows, worst: cases, totals: totals)
    }

    public func timers(actor: String) async throws -> [TimerChange] {
        let list = try await store.timerNotices().map { TimerChange(notice: $0, state: Self.timerState($0.text)) }
        try await audit(actor, "timers", ["count": String(list.count)])
        return list
    }

    /// Whether a timer notice turned disappearing messages on or off, in the languages the
    /// connectors see; anything else is a change.
    public static func timerState(_ text: String) -> String {
        let t = text.lowercased()
        let off = ["turned off", "disabled", "turned disappearing messages off", "desactivó", "desativou", "désactivé", "off"]
        let on = ["turned on", "enabled", "set messages to disappear", "set the disappearing message timer", "activó", "ativou", "activé", "expire", "burn"]
        if off.contains(where: { t.contains($0) }) && !t.contains("turned on") { return "off" }
        if on.contains(where: { t.contains($0) }) { return "on" }
        return "changed"
    }

    // MARK: Completeness

    /// The findings as of a moment. A read: it opens nothing (the read itself is audited). The
    /// incidents the findings call for are opened by `serve`'s findings job, in the system's name,
    /// or by a records officer's explicit act (`IncidentService.openForFindings`).
    public func findings(asOf: Date = Date(), actor: String) async throws -> [Finding] {
        let list = try await computeFindings(asOf: asOf)
        try await audit(actor, "findings", ["count": String(list.count), "high": String(list.filter { $0.severity == .high }.count)])
        return list
    }

    func computeFindings(asOf: Date) async throws -> [Finding] {
        var out: [Finding] = []
        let facts = try await store.conversationFacts()
        let now = asOf.timeIntervalSince1970
        for c in facts {
            out += oneSided(c) + gaps(c) + deletions(c)
            if let stale = staleExport(c, now: now) { out.append(stale) }
        }
        out += try await silentUsers(now: now)
        return out.sorted { ($0.severity, $1.custodian, $1.rule) > ($1.severity, $0.custodian, $0.rule) }
    }

    /// Internal people wrote, nobody else did, yet the room's own notices name someone who is
    /// not a custodian: the other side's messages are missing (the federated-Wickr gap).
    func oneSided(_ c: ConversationFacts) -> [Finding] {
        guard c.internalMessages >= 5, c.otherMessages == 0 else { return [] }
        let internalIDs = Set(c.participants.filter { $0.side == .internal }.flatMap { [$0.name.lowercased(), ($0.identity ?? "").lowercased()] })
        let outsiders = Set(c.systemTexts.flatMap(Self.identities)).filter { !internalIDs.contains($0.lowercased()) }
        guard !outsiders.isEmpty else { return [] }
        return [Finding(rule: "one_sided", severity: .high, custodian: c.custodian, platform: c.platform, conversationID: c.id, conversation: c.title,
                        summary: "\(c.internalMessages) messages from agency users and none from \(outsiders.sorted().prefix(5).joined(separator: ", ")), whom the conversation's own notices name as members",
                        evidence: ["internal messages: \(c.internalMessages)", "messages from anyone else: 0",
                                   "members named in notices but never heard from: \(outsiders.sorted().joined(separator: ", "))"], records: [])]
    }

    /// E-mail addresses, Matrix ids and phone numbers written in a text.
    static func identities(in text: String) -> [String] {
        let patterns = [#"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"#, #"@[A-Za-z0-9._=-]+:[A-Za-z0-9.-]+"#, #"\+?\d[\d ().-]{7,}\d"#]
        var out: [String] = []
        for p in patterns {
            guard let re = try? NSRegularExpression(pattern: p) else { continue }
            for m in re.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                if let r = Range(m.range, in: text) { out.append(String(text[r])) }
            }
        }
        // An address inside a Matrix id is the Matrix id, not a second identity.
        return out.filter { id in !out.contains { $0 != id && $0.contains(id) } }
    }

    /// Consecutive exports of one chat whose records leave a long silence exactly where one
    /// export ends and the next begins.
    func gaps(_ c: ConversationFacts) -> [Finding] {
        guard policy.unmanaged[c.platform] != nil else { return [] }
        let batches = c.batches.filter { $0.added > 0 && $0.firstSent != nil }.sorted { $0.firstSent! < $1.firstSent! }
        var out: [Finding] = []
        for (a, b) in zip(batches, batches.dropFirst()) {
            guard let end = a.lastSent.flatMap(LocalDateTime.init(iso:)), let start = b.firstSent.flatMap(LocalDateTime.init(iso:)) else { continue }
            let days = Double(start.secondsSinceEpochAsUTC - end.secondsSinceEpochAsUTC) / 86_400
            guard days > Double(policy.gapDays) else { continue }
            out.append(Finding(rule: "export_gap", severity: .medium, custodian: c.custodian, platform: c.platform, conversationID: c.id, conversation: c.title,
                               summary: String(format: "%.0f days with no records between two exports of this chat", days),
                               evidence: ["batch \(a.id) ends \(a.lastSent!)", "batch \(b.id) begins \(b.firstSent!)",
                                          "the exports do not overlap: what was said between them may have been lost"], records: []))
        }
        return out
    }

    /// "This message was deleted" with no original captured, by who deleted it. Only a deletion
    /// by the agency's own people is a potential unauthorized disposition (36 CFR 1230.14), a
    /// high finding that calls for an incident. A marker whose deleter the archive cannot place
    /// (the export names nobody, or someone not resolved to either side) is flagged for review, not
    /// opened as an incident. Someone outside the agency deleting in their own copy is context: the
    /// agency's record was never theirs to keep. Matrix redactions keep their originals, so they
    /// are not counted.
    func deletions(_ c: ConversationFacts) -> [Finding] {
        guard c.platform != Platform.matrix.rawValue, !c.deletedMarkers.isEmpty else { return [] }
        var side: [String: ResolvedParticipant.Side] = [:]
        for p in c.participants {
            let key = IdentityKey.senderKey(p.name)
            // A name resolved to both sides is not placed.
            side[key] = side[key].map { $0 == p.side ? $0 : .unresolved } ?? p.side
        }
        var byAgency: [DeletionMarker] = [], unplaced: [DeletionMarker] = [], byOthers: [DeletionMarker] = []
        for m in c.deletedMarkers {
            switch m.senderKey.isEmpty ? .unresolved : side[m.senderKey] ?? .unresolved {
            case .internal: byAgency.append(m)
            case .external: byOthers.append(m)
            case .unresolved: unplaced.append(m)
            }
        }
        func finding(_ rule: String, _ severity: Finding.Severity, _ markers: [DeletionMarker], _ what: String) -> Finding? {
            guard let first = markers.first?.sentLocal, let last = markers.last?.sentLocal else { return nil }
            return Finding(rule: rule, severity: severity, custodian: c.custodian, platform: c.platform, conversationID: c.id, conversation: c.title,
                           summary: "\(markers.count) deletion marker\(markers.count == 1 ? "" : "s") with no captured original \(what), \(first) … \(last)",
                           evidence: markers.prefix(5).map { "record \($0.id), \($0.sentLocal): \($0.body)" }, records: markers.prefix(20).map(\.id),
                           volume: markers.count, firstSent: first, lastSent: last)
        }
        return [finding("deleted_before_capture", .high, byAgency, "deleted by the agency's own people"),
                finding("deletion_unattributed", .medium, unplaced, "whose deleter the archive cannot tell (review: the agency's or someone else's?)"),
                finding("deleted_by_others", .low, byOthers, "deleted by people outside the agency in their own copy (context)")].compactMap { $0 }
    }

    /// The newest export of a custodian-exported chat is older than the export policy allows.
    func staleExport(_ c: ConversationFacts, now: Double) -> Finding? {
        guard policy.unmanaged[c.platform] != nil, let last = c.batches.map(\.startedAt).max(), let when = Self.instant(last) else { return nil }
        let days = (now - when) / 86_400
        guard days > Double(policy.exportIntervalDays) else { return nil }
        return Finding(rule: "stale_export", severity: .medium, custodian: c.custodian, platform: c.platform, conversationID: c.id, conversation: c.title,
                       summary: String(format: "latest export is %.0f days old; policy asks for one every %d days", days, policy.exportIntervalDays),
                       evidence: ["latest capture \(last)", "newest record \(c.batches.compactMap(\.lastSent).max() ?? "-")"], records: [])
    }

    /// Registered users of an unmanaged app who have handed over nothing for `silenceDays`.
    func silentUsers(now: Double) async throws -> [Finding] {
        var out: [Finding] = []
        var seen = Set<String>()
        for a in try await store.accountActivity() where policy.unmanaged[a.platform] != nil {
            guard seen.insert(a.custodian + "\u{0}" + a.platform).inserted else { continue }
            let days = a.lastCapture.flatMap(Self.instant).map { (now - $0) / 86_400 }
            guard days.map({ $0 > Double(policy.silenceDays) }) ?? true else { continue }
            out.append(Finding(rule: "silent_user", severity: .medium, custodian: a.custodian, platform: a.platform, conversationID: nil, conversation: nil,
                               summary: days.map { String(format: "nothing handed over from %@ for %.0f days", a.platform, $0) }
                                   ?? "registered on \(a.platform) (\(a.address)) and has never handed over an export",
                               evidence: ["account \(a.address) (\(a.official ? "official" : "personal"))", "last capture \(a.lastCapture ?? "never")",
                                          "records from \(a.platform): \(a.records)"], records: []))
        }
        return out
    }

    static func instant(_ iso: String) -> Double? {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let d = f.date(from: iso) { return d.timeIntervalSince1970 }
        f.formatOptions = [.withInternetDateTime]
        return f.date(from: iso)?.timeIntervalSince1970
    }

    // MARK: Inventory

    /// `findings`: the caller's, when it has just computed them (the dashboard), else computed here.
    public func inventory(asOf: Date = Date(), findings known: [Finding]? = nil, actor: String) async throws -> [InventoryRow] {
        let activity = try await store.accountActivity()
        let findings: [Finding]
        if let known { findings = known } else { findings = try await computeFindings(asOf: asOf) }
        var rows: [InventoryRow] = []
        let conversations = try await store.conversations(titleContains: nil, limit: 1_000_000)
        for p in Platform.allCases {
            let key = p.rawValue
            let accounts = activity.filter { $0.platform == key }
            let convs = conversations.filter { $0.platform == p }
            let users = Set(accounts.map(\.custodian) + convs.map(\.custodianEmail))
            let records = convs.reduce(0) { $0 + $1.messageCount }
            let newest = convs.compactMap(\.lastSent).max()
            let open = findings.filter { $0.platform == key }.count
            let managed = policy.managed[key] != nil
            let status = users.isEmpty ? "not in use" : records == 0 ? "not captured" : open > 0 ? "at risk" : "compliant"
            rows.append(InventoryRow(platform: key, name: p.displayName, managed: managed,
                                     captureMethod: policy.managed[key] ?? policy.unmanaged[key] ?? "none", users: users.count,
                                     personalAccounts: accounts.filter { !$0.official }.count, conversations: convs.count, records: records,
                                     newestRecord: newest, status: status, openFindings: open))
        }
        try await audit(actor, "inventory", ["platforms": String(rows.filter { $0.status != "not in use" }.count)])
        return rows
    }
}
