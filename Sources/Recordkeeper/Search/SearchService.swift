import Archive
import Foundation
import RecordkeeperCore

/// Filters a user can put on a search (all optional).
public struct SearchFilters: Sendable, Hashable {
    public var custodian: String?
    /// A conversation id, or text contained in its title.
    public var conversation: String?
    /// A participant's name or phone number (any conversation they took part in); a custodian's
    /// e-mail or a known party's name (or `#id`) finds them on every platform through their
    /// registered identities.
    public var participant: String?
    /// Inclusive first day (`YYYY-MM-DD`) of the sent time as written.
    public var from: String?
    /// Inclusive last day (`YYYY-MM-DD`).
    public var to: String?
    /// A platform (`whatsapp`, `signal`…).
    public var platform: String?
    public var hasAttachment: Bool = false
    /// Only records an active legal hold covers.
    public var underHold: Bool = false
    /// The search is confined to one custodian's own records (a custodian signed in): the
    /// custodian filter is theirs, not typed, and an error names nothing outside their records.
    public var confined: Bool = false
    public var limit: Int
    public var offset: Int
    public var sort: SearchRequest.Sort

    public init(custodian: String? = nil, conversation: String? = nil, participant: String? = nil, from: String? = nil,
                to: String? = nil, limit: Int = 20, offset: Int = 0, sort: SearchRequest.Sort = .date) {
        self.custodian = custodian
        self.conversation = conversation
        self.participant = participant
        self.from = from
        self.to = to
        self.limit = limit
        self.offset = offset
        self.sort = sort
    }
}

/// Full-text search over the archive, audited.
public struct SearchService: Sendable {
    public let archive: ArchiveHandle

    public init(archive: ArchiveHandle) { self.archive = archive }

    /// True when at least one filter narrows the search (what a collection without words needs).
    public static func narrows(_ f: SearchFilters) -> Bool {
        f.custodian != nil || f.conversation != nil || f.participant != nil || f.from != nil || f.to != nil
            || !(f.platform ?? "").isEmpty || f.hasAttachment || f.underHold
    }

    /// Searches for `query`, or, when it is empty, collects everything the filters select
    /// ("custodian X, 1–31 March, everything"), newest first, read from the records themselves.
    public func search(_ query: String, filters: SearchFilters = SearchFilters(), actor: String) async throws -> SearchResults {
        let match: SearchExpression?
        let words = query.trimmingCharacters(in: .whitespacesAndNewlines)
        if words.isEmpty {
            guard Self.narrows(filters) else {
                throw ArchiveError(.badQuery, "give words to search for, or at least one filter (custodian, conversation, participant, "
                    + "dates, platform, attachment, legal hold) to collect everything it selects")
            }
            match = nil
        } else {
            do { match = try SearchQuery.parse(words) } catch let e as SearchQuery.Invalid {
                throw ArchiveError(.badQuery, "cannot search for that: \(e.description)")
            }
        }
        var request = SearchRequest(query: match, custodianEmail: filters.custodian, participant: filters.participant,
                                    limit: max(1, min(filters.limit, 1000)), offset: max(0, filters.offset), sort: filters.sort)
        if let p = filters.platform, !p.isEmpty {
            guard let platform = Platform(rawValue: p.lowercased()) else {
                throw ArchiveError(.badQuery, "unknown platform '\(p)'; one of \(Platform.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            request.platform = platform.rawValue
        }
        if let p = filters.participant, let owner = try await IdentityService(archive: archive).owner(named: p) {
            // A person the archive knows: one participant across every platform they used.
            request.participantConversations = try await archive.store.conversationIDs(of: owner)
        }
        request.hasAttachment = filters.hasAttachment
        request.underHold = filters.underHold
        if let c = filters.conversation {
            if let id = Int64(c) { request.conversationID = id } else { request.conversationTitle = c }
        }
        if let from = filters.from {
            guard let d = LocalDateTime(iso: from) else { throw ArchiveError(.badQuery, "--from must be a date like 2021-03-01") }
            request.fromLocal = d.description
        }
        if let to = filters.to {
            guard let d = LocalDateTime(iso: to) else { throw ArchiveError(.badQuery, "--to must be a date like 2021-03-31") }
            // Inclusive day: everything before the start of the next day.
            let next = Date(timeIntervalSince1970: TimeInterval(d.secondsSinceEpochAsUTC + 86_400))
            var cal = Calendar(identifier: .gregorian)
            cal.timeZone = TimeZone(identifier: "UTC")!
            let c = cal.dateComponents([.year, .month, .day], from: next)
            request.toLocalExclusive = LocalDateTime(year: c.year!, month: c.month!, day: c.day!).description
        }
        if let from = request.fromLocal, let to = request.toLocalExclusive, to <= from {
            throw ArchiveError(.badQuery, "--to \(filters.to ?? "") is before --from \(filters.from ?? ""): no day is in that range; swap them")
        }
        // Read before the search: if the indexer moves on meanwhile, the statement errs on the safe side.
        // A collection by filters reads the records, not the index: it sees everything captured.
        var coverage = try await archive.store.indexStatus()
        if match == nil {
            coverage = IndexStatus(indexedThrough: coverage.capturedThrough, pending: 0, oldestPendingCapturedAtMillis: nil,
                                   capturedThrough: coverage.capturedThrough)
        }
        var results = try await archive.store.search(request)
        results.coverage = coverage
        // Only an empty answer can hide a typo: then a filter naming nobody the archive knows is
        // an error, never "no hits" (the checks cost nothing on the searches that find something).
        if results.total == 0 { try await requireKnownNames(filters) }
        // The audit log never records a capped count as if it were exact.
        var detail = ["query": words, "hits": results.totalIsExact ? String(results.total) : "at least \(results.total)"]
        if coverage.pending > 0 { detail["not_yet_indexed"] = String(coverage.pending) }
        if let v = filters.custodian { detail["custodian"] = v }
        if let v = filters.conversation { detail["conversation"] = v }
        if let v = filters.participant { detail["participant"] = v }
        if let v = filters.from { detail["from"] = v }
        if let v = filters.to { detail["to"] = v }
        if let v = request.platform { detail["platform"] = v }
        if filters.hasAttachment { detail["has_attachment"] = "true" }
        if filters.underHold { detail["under_hold"] = "true" }
        try await archive.store.appendReadAudit(AuditDraft(actor: actor, action: "search", target: "archive", detail: detail))
        return results
    }

    /// A filter naming nobody the archive knows is an error, never "no hits": a FOIA officer's
    /// typo must not read as "no responsive records". Suggestions name only what the searcher may
    /// see: none in a confined (custodian's own) search.
    func requireKnownNames(_ filters: SearchFilters) async throws {
        func suggest(_ typed: String, _ names: @autoclosure () async throws -> [String]) async rethrows -> String {
            filters.confined ? "" : Suggestions.phrase(typed, among: try await names())
        }
        let store = archive.store
        if let email = filters.custodian, !filters.confined {
            let known = try await store.custodianProfiles().map(\.email)
            if !known.contains(where: { $0.caseInsensitiveCompare(email) == .orderedSame }) {
                throw ArchiveError(.notFound, "no custodian \(email) in the archive." + Suggestions.phrase(email, among: known)
                    + " `recordkeeper custodian list` lists them")
            }
        }
        if let name = filters.participant, try await IdentityService(archive: archive).owner(named: name) == nil {
            let people = try await store.participantNames(limit: 20_000)
            let key = IdentityKey.senderKey(name)
            if !people.contains(where: { $0.senderKey == key || $0.name.localizedCaseInsensitiveContains(name) }) {
                throw ArchiveError(.notFound, "nobody named \"\(name)\" took part in any archived conversation."
                    + (try await suggest(name, people.map(\.name))))
            }
        }
        if let c = filters.conversation {
            if let id = Int64(c) {
                if try await store.conversation(id: id) == nil {
                    throw ArchiveError(.notFound, "no conversation \(id); `recordkeeper show conversations` lists them")
                }
            } else if try await store.conversations(titleContains: c, limit: 1).isEmpty {
                throw ArchiveError(.notFound, "no conversation has \"\(c)\" in its title."
                    + (try await suggest(c, try await store.conversations(titleContains: nil, limit: 5000).map(\.title))))
            }
        }
    }
}
