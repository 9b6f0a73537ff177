import Archive
import Foundation
import RecordkeeperCore

/// A hold with what it covers now.
public struct HoldDetail: Sendable {
    public var hold: LegalHold
    public var heldRecords: Int
    /// The newest held records (the newest `sample` of them).
    public var sample: [StoredMessage]
    /// With an object store under Object Lock: the legal-hold flags set on the objects of what
    /// the hold covers when it was placed (nil otherwise).
    public var objectLock: ObjectLockReport?
}

/// Legal holds (litigation, FOIA requests, IG audits, congressional inquiries): while active,
/// nothing in scope can be disposed of, whatever the schedule says. Holds are kept forever.
public struct HoldService: Sendable {
    public let archive: ArchiveHandle
    public init(archive: ArchiveHandle) { self.archive = archive }
    var store: any ArchiveStore { archive.store }

    /// Places a hold. A custodian the archive does not know is refused (with the closest known
    /// names) unless `allowFutureCustodians`: holding the records of someone not yet captured is
    /// lawful, but it must be meant, not a typo that holds nothing.
    public func create(name: String, matter: MatterType, reference: String?, requestedBy: String, scope: HoldScope,
                       allowFutureCustodians: Bool = false, actor: String) async throws -> HoldDetail {
        let access = RecordsAccess(store: store)
        try await access.require(.recordsOfficer, actor: actor, action: "hold.create", target: "holds")
        guard !name.trimmingCharacters(in: .whitespaces).isEmpty else { throw ArchiveError(.invalid, "a hold needs a --name") }
        guard !requestedBy.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw ArchiveError(.invalid, "say who asked for the hold with --requested-by (e.g. \"Office of General Counsel\")")
        }
        let (scope, match) = try await validated(scope, allowFutureCustodians: allowFutureCustodians)
        let hold = try await store.createHold(
            NewHold(name: name, matter: matter, reference: reference, requestedBy: requestedBy, scope: scope, match: match, actor: actor,
                    createdAtMillis: Timestamp.nowMillis()),
            audit: AuditDraft(actor: actor, action: "hold.create", target: "hold", detail: [
                "name": name, "matter": matter.rawValue, "reference": reference ?? "", "requested_by": requestedBy, "scope": scope.summary,
            ]))
        let (count, _) = try await store.heldRecords(holdID: hold.id, sample: 0)
        return HoldDetail(hold: hold, heldRecords: count, sample: [], objectLock: await objectLockPass(actor: actor))
    }

    /// With an object store under Object Lock, sets or lifts the objects' legal-hold flags at once
    /// (the archive's own hold already protects the records; the flag adds the store's refusal).
    /// A failure leaves the hold in place and is reported; the next pass retries.
    func objectLockPass(actor: String) async -> ObjectLockReport? {
        let service = ObjectLockService(archive: archive)
        guard archive.blobs is any LockingBlobStore else { return nil }
        do { return try await service.sync(actor: actor) } catch {
            var report = ObjectLockReport()
            report.active = true
            report.failures = ["the pass stopped: \(error)"]
            return report
        }
    }

    /// What a hold with this scope would cover if placed now: counts by custodian and by
    /// conversation and the newest records (audited as a read of the hold's scope). The same
    /// checks as `create`, so a preview that succeeds places a hold that does what it showed.
    public func preview(scope: HoldScope, sample: Int = 10, allowFutureCustodians: Bool = false, actor: String) async throws -> (HoldScopePreview, [StoredMessage]) {
        try await RecordsAccess(store: store).require(.recordsOfficer, actor: actor, action: "hold.preview", target: "holds")
        let (scope, match) = try await validated(scope, allowFutureCustodians: allowFutureCustodians)
        try await IndexService(archive: archive).catchUp() // a scope by query sees indexed records only
        let preview = try await store.previewHold(scope: scope, match: match, sample: sample)
        var messages: [StoredMessage] = []
        for id in preview.sample { if let m = try await store.message(id: id) { messages.append(m) } }
        try await store.appendReadAudit(AuditDraft(actor: actor, action: "hold.preview", target: "holds", detail: [
            "scope": scope.summary, "records": String(preview.records)]))
        return (preview, messages)
    }

    /// The scope as stored: custodians known (or allowed as future ones), conversations resolved
    /// to keys, dates in order, the query parsed.
    func validated(_ scope: HoldScope, allowFutureCustodians: Bool) async throws -> (HoldScope, SearchExpression?) {
        guard !scope.isEmpty else {
            throw ArchiveError(.invalid, "a hold needs a scope: --custodian, --conversation, --from/--to, --query, or --everything")
        }
        if let from = scope.from, let to = scope.to, to < from { throw ArchiveError(.invalid, "--to \(to) is before --from \(from)") }
        var scope = scope
        scope.custodians = scope.custodians.map { $0.map { $0.lowercased() } }
        let known = try await store.custodianProfiles().map(\.email)
        for email in scope.custodians ?? [] {
            guard IngestService.isPlausibleEmail(email) else {
                throw ArchiveError(.invalid, "'\(email)' is not an e-mail address; custodians are named by their official address." + Suggestions.phrase(email, among: known))
            }
            if !allowFutureCustodians, !known.contains(where: { $0.lowercased() == email }) {
                throw ArchiveError(.notFound, "no custodian \(email) in the archive, so the hold would cover nothing of theirs." + Suggestions.phrase(email, among: known)
                    + " To hold the records of someone not yet captured, confirm it (--future-custodian; on the web, the box under Custodians)")
            }
        }
        var keys: [String] = []
        for c in scope.conversations ?? [] {
            if let id = Int64(c), let conv = try await store.conversation(id: id) { keys.append(conv.key) }
            else if let conv = try await store.conversation(key: c) { keys.append(conv.key) }
            else { throw ArchiveError(.notFound, "no conversation \(c) (give an id or key from `recordkeeper show conversations`)") }
        }
        if scope.conversations != nil { scope.conversations = keys }
        if scope.query?.trimmingCharacters(in: .whitespaces).isEmpty == true { scope.query = nil }
        return (scope, try scope.query.map(Self.parse))
    }

    public func list(includeReleased: Bool, actor: String) async throws -> [(LegalHold, Int)] {
        var out: [(LegalHold, Int)] = []
        for hold in try await store.holds(includeReleased: includeReleased) {
            out.append((hold, try await store.heldRecords(holdID: hold.id, sample: 0).count))
        }
        try await store.appendReadAudit(AuditDraft(actor: actor, action: "hold.list", target: "holds"))
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
        try await store.appendReadAudit(AuditDraft(actor: actor, action: "hold.show", target: "hold:\(id)",
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
        _ = await objectLockPass(actor: actor)
        return hold
    }

    static func parse(_ query: String) throws -> SearchExpression {
        do { return try SearchQuery.parse(query) } catch let e as SearchQuery.Invalid {
            throw ArchiveError(.badQuery, "the hold's query cannot be read: \(e.description)")
        }
    }
}
