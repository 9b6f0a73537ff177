/// Why records are frozen.
public enum MatterType: String, Sendable, Hashable, Codable, CaseIterable {
    case litigation
    case foia = "foia-request"
    case inspectorGeneral = "ig-audit"
    case congressional = "congressional-inquiry"
    case other
}

/// Which records a legal hold covers. Every criterion given must hold; within a list any entry
/// may match. `everything` freezes the whole archive.
public struct HoldScope: Sendable, Hashable, Codable {
    /// Custodian e-mail addresses.
    public var custodians: [String]?
    /// Conversation keys.
    public var conversations: [String]?
    /// First sent date covered (inclusive).
    public var from: CivilDate?
    /// Last sent date covered (inclusive).
    public var to: CivilDate?
    /// A search in the archive's query syntax.
    public var query: String?
    public var everything: Bool?

    public init(custodians: [String]? = nil, conversations: [String]? = nil, from: CivilDate? = nil, to: CivilDate? = nil,
                query: String? = nil, everything: Bool? = nil) {
        self.custodians = custodians
        self.conversations = conversations
        self.from = from
        self.to = to
        self.query = query
        self.everything = everything
    }

    public var isEmpty: Bool {
        (custodians ?? []).isEmpty && (conversations ?? []).isEmpty && from == nil && to == nil && (query ?? "").isEmpty && everything != true
    }

    /// A one-line description for lists and certificates.
    public var summary: String {
        if everything == true { return "every record" }
        var parts: [String] = []
        if let c = custodians, !c.isEmpty { parts.append("custodians " + c.joined(separator: ", ")) }
        if let c = conversations, !c.isEmpty { parts.append("conversations " + c.joined(separator: ", ")) }
        if from != nil || to != nil { parts.append("sent \(from?.description ?? "…") to \(to?.description ?? "…")") }
        if let q = query, !q.isEmpty { parts.append("search: \(q)") }
        return parts.joined(separator: "; ")
    }
}

/// Roles of the people who use the archive.
public enum UserRole: String, Sendable, Hashable, Codable, CaseIterable {
    case admin
    /// File plan, designations, holds, disposition review and approval, transfer.
    case recordsOfficer = "records-officer"
    /// eDiscovery, FOIA and OIG liaison staff.
    case reviewer
    /// Audit log and verification, read-only.
    case auditor
    /// Sees only their own records (the custodian named on their account) and uploads their exports.
    case custodian
    /// Custody of physical items (issue 15, docs/custody/roles.md): imports target lists.
    case targeter
    /// Scans items and containers in and out at a scan station.
    case receiver
    /// Inspects items, records outcomes and seizures (and scans like a receiver).
    case custodyOfficer = "custody-officer"
    /// Allows the exceptions (uninspected returns, count differences) and reads every custody report.
    case custodySupervisor = "custody-supervisor"
    /// Records detentions' notices: reads and writes the addressee's particulars (every read audited).
    case noticeClerk = "notice-clerk"
    /// Keeps the privacy inventory, sets the particulars' retention and runs their purge; reads them (audited).
    case privacyOfficer = "privacy-officer"
}
