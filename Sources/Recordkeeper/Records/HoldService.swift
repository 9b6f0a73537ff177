import Archive
import Foundation
import RecordkeeperCore

/// A hold with what it covers now.
public struct HoldDetail: Sendable {
    public var hold: LegalHold
    public var heldRecords: Int
    /// The newest held records (the newest `sample` of them).
    public var sample: [StoredMessage]
}

/// Legal holds (litigation, FOIA requests, IG audits, congressional inquiries): while active,
/// nothing in scope can be disposed of, whatever the schedule says. Holds are kept forever.
public struct HoldService: Sendable {
    public let archive: ArchiveHandle
    public init(archive: ArchiveHandle) { self.archive = archive }
    var store: any ArchiveStore { archive.store }

    public func create(name: String, matter: MatterType, reference: String?, requestedBy: String, scope: HoldScope,
                       actor: String) async throws -> HoldDetail {
        let access = RecordsAccess(store: store)
        try await access.require(.recordsOfficer, actor: actor, action: "hold.create", target: "holds")
        guard !name.trimmingCharacters(in: .whitespaces).isEmpty else { throw ArchiveError(.invalid, "a hold needs a --name") }
        guard !requestedBy.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw ArchiveError(.invalid, "say who asked for the hold with --requested-by (e.g. \"Office of General Counsel\")")
        }
        guard !scope.isEmpty else {
            throw ArchiveError(.invalid, "a hold needs a scope: --custodian, --conversation, --from/--to, --query, or --everything")
        }
        if let from = scope.from, let to = scope.to, to < from { throw ArchiveError(.invalid, "--to \(to) is before --from \(from)") }
        var scope = scope
        scope.custodians = scope.custodians.map { $0.map { $0.lowercased() } }
        // A custodian not yet in the archive may be held: the hold covers their records when they are captured.
        for email in scope.custodians ?? [] where !IngestService.isPlausibleEmail(email) {
            throw ArchiveError(.invalid, "'\(email)' is not an e-mail address; custodians are named by their official address")
        }
        var keys: [String] = []
        for c in scope.conversations ?? [] {
            if let id = Int64(c), let conv = try await store.conversation(id: id) { keys.append(conv.key) }
            else if let conv = try await store.conversation(key: c) { keys.append(conv.key) }
            else { throw ArchiveError(.notFound, "no conversation \(c) (give an id or key from `recordkeeper show conversations`)") }
        }
        if scope.conversations != nil { scope.conversations = keys }
        if scope.query?.trimmingCharacters(in: .whitespaces).isEmpty == true { scope.query = nil }
        let match = try scope.query.map(Self.translate)
        let hold = try await store.createHold(
            NewHold(name: name, matter: matter, reference: reference, requestedBy: requestedBy, scope: scope, match: match, actor: actor,
                    createdAtMillis: Timestamp.nowMillis()),
            audit: AuditDraft(actor: actor, action: "hold.create", target: "hold", detail: [
                "name": name, "matter": matter.rawValue, "reference": reference ?? "", "requested_by": requestedBy, "scope": scope.summary,
            ]))
        let (count, _) = try await store.heldRecords(holdID: hold.id, sample: 0)
        return HoldDetail(hold: hold, heldRecords: count, sample: [])
    }

    public func list(includeReleased: Bool, actor: String) async throws -> [(LegalHold, Int)] {
        var out: [(LegalHold, Int)] = []
        for hold in try await store.holds(includeReleased: includeReleased) {
            out.append((hold, try await store.heldRecords(holdID: hold.id, sample: 0).count))
        }
        try await store.appendAudit(AuditDraft(actor: actor, action: "hold.list", target: "holds"))
        return out
    }

    /// A hold, how many records it covers and a sample of them (reading them is audited).
    public func show(id: Int64, sample: Int = 5, actor: String) async throws -> HoldDetail {
        guard let hold = try await store.hold(id: id) else {
            throw ArchiveError(.notFound, "no hold with id \(id); `recordkeeper hold list --all` lists them")
        }
        let (count, ids) = try await store.heldRecords(holdID: hold.id, sample: sample)
        var messages: [StoredMessage] = []
        for mid in ids { if let m = try await store.message(id: mid) { messages.append(m) } }
        try await store.appendAudit(AuditDraft(actor: actor, action: "hold.show", target: "hold:\(id)",
                                               detail: ["records": String(count), "sample": ids.map(String.init).joined(separator: ",")]))
        return HoldDetail(hold: hold, heldRecords: count, sample: messages)
    }

    public func release(id: Int64, reason: String, actor: String) async throws -> LegalHold {
        let access = RecordsAccess(store: store)
        try await access.require(.recordsOfficer, actor: actor, action: "hold.release", target: "hold:\(id)")
        guard !reason.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw ArchiveError(.invalid, "say why the hold ends with --reason (e.g. \"case dismissed with prejudice\")")
        }
        let hold = try await access.audited(actor: actor, action: "hold.release", target: "hold:\(id)") {
            try await store.releaseHold(id: id, actor: actor, reason: reason, atMillis: Timestamp.nowMillis(),
                                        audit: AuditDraft(actor: actor, action: "hold.release", target: "hold:\(id)", detail: ["reason": reason]))
        }
        return hold
    }

    static func translate(_ query: String) throws -> String {
        do { return try SearchQuery.translate(query) } catch let e as SearchQuery.Invalid {
            throw ArchiveError(.badQuery, "the hold's query cannot be read: \(e.description)")
        }
    }
}
