import Archive
import Foundation
import RecordkeeperCore

/// Proof that a disposition happened lawfully: what left, under which authority, who approved.
public struct DispositionCertificate: Sendable, Codable, Hashable {
    public struct Item: Sendable, Codable, Hashable {
        public var itemID: String
        public var authority: String?
        public var title: String?
        public var records: Int
        public var firstSent: String?
        public var lastSent: String?
        enum CodingKeys: String, CodingKey {
            case itemID = "item_id", authority, title, records, firstSent = "first_sent", lastSent = "last_sent"
        }
    }
    enum CodingKeys: String, CodingKey {
        case kind, dispositionID = "disposition_id", asOf = "as_of", filePlanVersion = "file_plan_version", items, records, withheld
        case heldAtProposal = "held_at_proposal", disposedHashesDigest = "disposed_hashes_digest", blobsDestroyed = "blobs_destroyed"
        case proposedBy = "proposed_by", proposedAt = "proposed_at", approvedBy = "approved_by", approvedAt = "approved_at"
        case executedBy = "executed_by", executedAt = "executed_at", accession, bagDigest = "bag_digest", note
        case blobStore = "blob_store", blobsKeptUnderLock = "blobs_kept_under_lock", lockEndsBy = "lock_ends_by"
        case sanitization, method, notYetPurged = "not_yet_purged", originalsKept = "originals_kept"
    }
    /// `certificate-of-destruction` or `certificate-of-transfer`.
    public var kind: String
    public var dispositionID: Int64
    public var asOf: String
    public var filePlanVersion: Int
    public var items: [Item]
    public var records: Int
    /// Proposed but kept at execution (placed under hold, or no longer due).
    public var withheld: Int
    /// Eligible when proposed but under an active hold, so never proposed.
    public var heldAtProposal: Int
    /// SHA-256 over "<identity key> <content hash>\n" of every disposed record, in record-id order.
    public var disposedHashesDigest: String
    /// Files deleted from the blob store when the certificate was issued.
    public var blobsDestroyed: Int
    /// Where the files were (`file:///…/blobs/`, `s3://bucket/blobs/ at https://…`).
    public var blobStore: String?
    /// Files released by this disposition that the object store still kept under Object Lock
    /// when the certificate was issued; the archive deletes them once the lock ends (by
    /// `lockEndsBy`), and each deletion is audited.
    public var blobsKeptUnderLock: Int?
    public var lockEndsBy: String?
    /// The sanitization category of NIST SP 800-88 Rev. 1 the destruction reaches.
    public var sanitization: String?
    /// How the records' content left the archive's storage, step by step.
    public var method: [String]?
    /// What the archive could not remove itself and the operator must (a write-ahead log held by
    /// readers, PostgreSQL's dead row versions); absent when nothing remains.
    public var notYetPurged: [String]?
    /// Original exports (by SHA-256) from which records were disposed of here but which other,
    /// retained records still come from: they keep the disposed records' text, sealed, until the
    /// last of those records goes (decision 0009). Absent when there are none.
    public var originalsKept: [String]?
    public var proposedBy: String
    public var proposedAt: String
    public var approvedBy: String
    public var approvedAt: String
    public var executedBy: String
    public var executedAt: String
    public var accession: String?
    public var bagDigest: String?
    public var note: String?

    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self) + "\n"
    }

    public var html: String {
        let title = kind == "certificate-of-transfer" ? "Certificate of transfer to the National Archives" : "Certificate of destruction"
        var rows = ""
        for i in items {
            rows += "<tr><td>\(TextRecipes.htmlEscaped(i.itemID))</td><td>\(TextRecipes.htmlEscaped(i.authority ?? ""))</td><td>\(TextRecipes.htmlEscaped(i.title ?? ""))</td>"
            rows += "<td class=n>\(i.records)</td><td>\(TextRecipes.htmlEscaped(i.firstSent ?? ""))</td><td>\(TextRecipes.htmlEscaped(i.lastSent ?? ""))</td></tr>\n"
        }
        func row(_ k: String, _ v: String?) -> String { v.map { "<tr><th scope=row>\(k)</th><td>\(TextRecipes.htmlEscaped($0))</td></tr>\n" } ?? "" }
        return """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>\(title) — disposition \(dispositionID)</title>
            <style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;color:#111}table{border-collapse:collapse;margin:1rem 0}
            th,td{border:1px solid #888;padding:.3rem .6rem;text-align:left}td.n{text-align:right}code{word-break:break-all}</style></head>
            <body><h1>\(title)</h1>
            <p>Disposition \(dispositionID) was executed under the approved records schedule items below (file plan version \(filePlanVersion)).
            Each record removed is accounted for by a tombstone in the archive carrying its identity key and content hash.</p>
            <table><caption>Records by schedule item</caption>
            <tr><th scope=col>Item</th><th scope=col>Disposition authority</th><th scope=col>Title</th><th scope=col>Records</th><th scope=col>First sent</th><th scope=col>Last sent</th></tr>
            \(rows)</table>
            <table><caption>Approvals and proof</caption>
            \(row("Records disposed", String(records)))\(row("Withheld at execution (hold or no longer due)", String(withheld)))\
            \(row("Kept by legal holds when proposed", String(heldAtProposal)))\(row("Files destroyed (attachments, original exports)", String(blobsDestroyed)))\(row("Where the files were", blobStore))\
            \(row("Files kept under Object Lock, deleted when it ends", blobsKeptUnderLock.map { "\($0), lock ends by \(lockEndsBy ?? "unknown")" }))\
            \(row("Sanitization (NIST SP 800-88 Rev. 1)", sanitization))\(row("Method", method?.joined(separator: "; ")))\
            \(row("Not yet purged (the operator's)", notYetPurged.flatMap { $0.isEmpty ? nil : $0.joined(separator: "; ") }))\
            \(row("Original exports kept for retained records (they still hold the disposed records' text, sealed, until the last of those goes)", originalsKept.flatMap { $0.isEmpty ? nil : $0.joined(separator: ", ") }))\
            \(row("Eligible as of", asOf))\(row("Proposed by", "\(proposedBy), \(proposedAt)"))\(row("Approved by", "\(approvedBy), \(approvedAt)"))\
            \(row("Executed by", "\(executedBy), \(executedAt)"))\(row("NARA accession", accession))\(row("Transfer package digest", bagDigest))\
            \(row("Note", note))\
            <tr><th scope=row>Digest of disposed record hashes (SHA-256)</th><td><code>\(disposedHashesDigest)</code></td></tr>
            </table>
            <p>The records disposed of are listed, record by record, at <code>/dispositions/\(dispositionID)/records</code> in the archive's web
            interface (tombstones keep their identity and content hashes).</p>
            <p>To check this certificate: <code>recordkeeper verify</code> recomputes the digest from the tombstones and compares it with the
            one recorded in the audit log when the disposition was executed.</p>
            </body></html>

            """
    }
}

/// Disposition: records due under the schedule are proposed, approved by a second records
/// officer, and executed; destruction leaves tombstones and a certificate. There is no other way
/// for a record to leave the archive.
public struct DispositionService: Sendable {
    public let archive: ArchiveHandle
    public init(archive: ArchiveHandle) { self.archive = archive }
    var store: any ArchiveStore { archive.store }
    var access: RecordsAccess { RecordsAccess(store: store) }

    /// Proposes every record due by `asOf` (at the latest today; `retention due` looks ahead).
    public func propose(action: DispositionAction, asOf: CivilDate, items: [String]?, note: String?, actor: String,
                        today: CivilDate = .today()) async throws -> DispositionBatch {
        let attempted = action == .destroy ? "disposition.propose" : "transfer.propose"
        try await access.require(.recordsOfficer, actor: actor, action: attempted, target: "dispositions")
        guard asOf <= today else {
            try await access.refuse(actor: actor, action: attempted, target: "dispositions",
                                    reason: "records can be proposed only once they are due: --as-of \(asOf) is after today (\(today)); "
                                        + "use `recordkeeper retention due --as-of \(asOf)` to plan ahead")
        }
        try await RetentionService(archive: archive).assignUnassigned(actor: actor)
        // Holds by search query see only indexed records: the index catches up first (the store
        // refuses otherwise).
        try await IndexService(archive: archive).catchUp()
        return try await store.proposeDisposition(
            DispositionProposal(action: action, asOf: asOf, items: items, actor: actor, note: note, atMillis: Timestamp.nowMillis()),
            audit: AuditDraft(actor: actor, action: attempted, target: "dispositions", detail: ["action": action.rawValue, "as_of": asOf.description]))
    }

    public func show(id: Int64) async throws -> DispositionBatch {
        guard let b = try await store.disposition(id: id) else {
            throw ArchiveError(.notFound, "no disposition batch with id \(id); `recordkeeper dispose list` lists them")
        }
        return b
    }

    public func list(actor: String) async throws -> [DispositionBatch] {
        let list = try await store.dispositions()
        try await store.appendReadAudit(AuditDraft(actor: actor, action: "disposition.list", target: "dispositions"))
        return list
    }

    /// The records of a batch, for the second officer to see what they approve: a page in sent
    /// order (of one schedule item if asked), or a random sample. Audited as a read of the
    /// records listed.
    public func records(id: Int64, itemID: String?, offset: Int, limit: Int, randomSample: Bool, actor: String) async throws -> (total: Int, members: [DispositionReviewRow]) {
        _ = try await show(id: id)
        let page = try await store.dispositionReview(id: id, itemID: itemID, offset: max(0, offset), limit: max(1, min(limit, 500)), randomSample: randomSample)
        try await store.appendReadAudit(AuditDraft(actor: actor, action: "disposition.records", target: "disposition:\(id)", detail: [
            "item": itemID ?? "", "offset": String(offset), "shown": String(page.members.count), "sample": String(randomSample)]))
        return page
    }

    /// A batch for review (audited).
    public func review(id: Int64, actor: String) async throws -> DispositionBatch {
        let b = try await show(id: id)
        try await store.appendReadAudit(AuditDraft(actor: actor, action: "disposition.show", target: "disposition:\(id)"))
        return b
    }

    public func approve(id: Int64, actor: String) async throws -> DispositionBatch {
        try await access.require(.recordsOfficer, actor: actor, action: "disposition.approve", target: "disposition:\(id)")
        let batch = try await access.audited(actor: actor, action: "disposition.approve", target: "disposition:\(id)") {
            try await store.approveDisposition(id: id, actor: actor, atMillis: Timestamp.nowMillis(),
                                               audit: AuditDraft(actor: actor, action: "disposition.approve", target: "disposition:\(id)"))
        }
        return batch
    }

    public func cancel(id: Int64, reason: String, actor: String) async throws -> DispositionBatch {
        try await access.require(.recordsOfficer, actor: actor, action: "disposition.cancel", target: "disposition:\(id)")
        guard !reason.trimmingCharacters(in: .whitespaces).isEmpty else { throw ArchiveError(.invalid, "say why with --reason") }
        let batch = try await access.audited(actor: actor, action: "disposition.cancel", target: "disposition:\(id)") {
            try await store.cancelDisposition(id: id, actor: actor, reason: reason, atMillis: Timestamp.nowMillis(),
                                              audit: AuditDraft(actor: actor, action: "disposition.cancel", target: "disposition:\(id)", detail: ["reason": reason]))
        }
        return batch
    }

    /// Destroys an approved destruction batch (or, with `accession`, completes a packaged
    /// transfer), then issues the certificate. The records leave in one transaction, which a
    /// signed checkpoint vouches for at once; the files and the certificate follow. Running it
    /// again on an executed batch finishes whatever an interruption left undone (files to remove,
    /// the certificate) and changes nothing else; `verify` finishes it too once the checkpoint
    /// vouches for the act (`finishInterrupted`).
    public func execute(id: Int64, actor: String, accession: String? = nil, today: CivilDate = .today()) async throws -> DispositionCertificate {
        let purpose = accession == nil ? "disposition.execute" : "transfer.confirm"
        let wasExecuted = try await show(id: id).status == .executed
        if wasExecuted, try await store.certificate(dispositionID: id) == nil {
            // Finishing an execution an earlier run left half done: only one the archive's key
            // vouched for. One nobody vouched for may be forged (rows written by someone with the
            // database but not the key); signing for it here would certify it unchecked.
            try await requireVouched(id: id, actor: actor)
        }
        try await archive.withWriteLock(purpose: purpose) {
            try await executeLocked(id: id, actor: actor, accession: accession, today: today)
        }
        // A destructive act is followed by a signed checkpoint naming it (issue 16), before its
        // files go: an act the archive's key vouched for can be finished by whoever comes next.
        do {
            try await CheckpointService(archive: archive).signIfSigning(vouching: ["disposition:\(id)"], reason: accession == nil ? "disposition" : "transfer",
                                                                        actor: actor)
        } catch {
            throw ArchiveError(.invalid, "disposition \(id) was executed (its records and their files' data keys are gone), but no checkpoint could be signed for it: "
                                + ((error as? ArchiveError)?.message ?? "\(error)") + "; `verify` lists it as not vouched for until one is. Check its "
                                + "tombstones against the approved batch, vouch for it (`recordkeeper checkpoint sign --vouch disposition:\(id)@SEQ`, "
                                + "SEQ as `verify` names it), then run `recordkeeper dispose execute \(id)` again to remove its files and issue the certificate")
        }
        return try await archive.withWriteLock(purpose: purpose) { try await finish(id: id, actor: actor) }
    }

    /// The execution entry of an executed disposition, if a checkpoint signed with the archive's
    /// key vouches for it (or the archive does not sign at all: then there is nothing to check).
    func vouchedExecution(_ b: DispositionBatch) async throws -> (entry: AuditEntry?, vouched: Bool) {
        let action = b.action == .transfer ? "transfer.confirm" : "disposition.execute"
        let entry = try await store.auditEntries(AuditFilter(action: action, target: "disposition:\(b.id)", limit: 10)).first { $0.action == action }
        let checkpoints = CheckpointService(archive: archive)
        guard try await checkpoints.signs() else { return (entry, true) }
        guard let entry else { return (nil, false) }
        return (entry, try await checkpoints.vouchedByArchiveKey(entry))
    }

    private func requireVouched(id: Int64, actor: String) async throws {
        let b = try await show(id: id)
        let (entry, vouched) = try await vouchedExecution(b)
        guard !vouched else { return }
        try await access.refuse(actor: actor, action: b.action == .transfer ? "transfer.confirm" : "disposition.execute", target: "disposition:\(id)",
                                reason: "disposition \(id) is executed but no signed checkpoint vouches for its execution"
                                    + (entry.map { " (entry \($0.sequence))" } ?? "") + ": it may have been written by someone without the signing key, "
                                    + "or its run stopped before it signed. Check its tombstones against the approved batch, then vouch for it "
                                    + "(`recordkeeper checkpoint sign --vouch disposition:\(id)\(entry.map { "@\($0.sequence)" } ?? "")`) and run this again")
    }

    /// Executed dispositions whose files or certificate an interruption (a crash, a kill, a full
    /// disk) left undone, finished now, if a checkpoint signed with the archive's key vouches for
    /// their execution; returns their ids and, apart, those it left (not vouched for: `verify`
    /// names them; a records officer checks them and runs `dispose execute`). An act nobody
    /// vouched for is never finished automatically: that would certify a forged one.
    public func finishInterrupted(actor: String) async throws -> (finished: [Int64], left: [Int64]) {
        var finished: [Int64] = [], left: [Int64] = []
        for b in try await store.dispositions() where b.status == .executed {
            guard try await store.certificate(dispositionID: b.id) == nil else { continue }
            let (entry, vouched) = try await vouchedExecution(b)
            // Only what the vouched entry released: a file marked since (by someone with the
            // database) makes the counts differ, and then nothing is removed here.
            let released = try await store.destroyedBlobs(dispositionID: b.id)
            let fields = entry.flatMap { (try? JSONSerialization.jsonObject(with: Data($0.detail.utf8))) as? [String: String] }
            guard vouched, let entry, fields?["blobs_released"] == String(released.count) else {
                left.append(b.id)
                continue
            }
            do {
                try await store.appendAudit(AuditDraft(actor: actor, action: "disposition.resume", target: "disposition:\(b.id)",
                                                       detail: ["executed_by": b.executedBy ?? "", "entry": String(entry.sequence),
                                                                "reason": "its files and certificate were left undone"]))
                _ = try await archive.withWriteLock(purpose: "disposition.resume") {
                    // Another process may have finished it meanwhile (it held the lock).
                    guard try await store.certificate(dispositionID: b.id) == nil else { return }
                    _ = try await finish(id: b.id, actor: b.executedBy ?? actor)
                }
                finished.append(b.id)
            } catch {
                // Verify goes on and names what is left (certificate_missing, destroyed_blob_present).
                left.append(b.id)
            }
        }
        return (finished, left)
    }

    private func executeLocked(id: Int64, actor: String, accession: String?, today: CivilDate) async throws {
        let action = accession == nil ? "disposition.execute" : "transfer.confirm"
        try await access.require(.recordsOfficer, actor: actor, action: action, target: "disposition:\(id)")
        let existing = try await show(id: id)
        if existing.status != .executed {
            if accession == nil, existing.action == .transfer {
                try await access.refuse(actor: actor, action: action, target: "disposition:\(id)",
                                        reason: "disposition \(id) is a transfer; it completes with `recordkeeper transfer confirm \(id) --accession ID`")
            }
            if accession != nil, existing.action == .destroy {
                try await access.refuse(actor: actor, action: action, target: "disposition:\(id)", reason: "disposition \(id) is a destruction, not a transfer")
            }
            try await IndexService(archive: archive).catchUp() // see `propose`
            _ = try await access.audited(actor: actor, action: action, target: "disposition:\(id)") {
                try await store.executeDisposition(id: id, actor: actor, atMillis: Timestamp.nowMillis(), today: today, accession: accession,
                                                   auditAction: action)
            }
        }
    }

    /// Removes the files the disposition released and issues its certificate (idempotent). A
    /// file the object store keeps under Object Lock stays until the lock ends: the certificate
    /// says how many and until when, and the sweep after later ingests (or the next execute)
    /// removes them.
    private func finish(id: Int64, actor: String) async throws -> DispositionCertificate {
        let released = try await store.destroyedBlobs(dispositionID: id)
        var failures = 0
        var destroyed = 0
        var locked: [ContentHash] = []
        var lockEnds: Date?
        // Only sealed files were erased cryptographically. How many were sealed is counted where their keys went: in the execution's transaction
        // (the `blobs_sealed` of its audit entry); an execution from before that counted them
        // here, once, before the first file went (`disposition.purge`).
        let action = try await show(id: id).action == .transfer ? "transfer.confirm" : "disposition.execute"
        func field(_ entry: AuditEntry?, _ name: String) -> Int? {
            guard let entry, let fields = (try? JSONSerialization.jsonObject(with: Data(entry.detail.utf8))) as? [String: String] else { return nil }
            return fields[name].flatMap { Int($0) }
        }
        let executed = try await store.auditEntries(AuditFilter(action: action, target: "disposition:\(id)", limit: 5)).first { $0.action == action }
        var sealedFiles = 0
        if let n = field(executed, "blobs_sealed") {
            sealedFiles = n
        } else if let n = field(try await store.auditEntries(AuditFilter(action: "disposition.purge", target: "disposition:\(id)", limit: 1)).first, "sealed_files") {
            sealedFiles = n
        } else if !released.isEmpty, try await store.certificate(dispositionID: id) == nil {
            for hash in released where try await store.blobKey(hash) != nil { sealedFiles += 1 }
            try await store.appendAudit(AuditDraft(actor: actor, action: "disposition.purge", target: "disposition:\(id)",
                                                   detail: ["files": String(released.count), "sealed_files": String(sealedFiles)]))
        }
        var lockedClear = 0
        for hash in released {
            do {
                try await archive.blobs.destroy(hash)
                destroyed += 1
            } catch let e as ArchiveError where e.code == .refused {
                locked.append(hash)
                // Its key is gone already (the execution destroyed it): the stored header says.
                if await !storedSealed(hash) { lockedClear += 1 }
                if let blobs = archive.blobs as? any LockingBlobStore, let until = try? await blobs.lockState(hash).until {
                    lockEnds = max(lockEnds ?? until, until)
                }
            } catch {
                failures += 1
            }
        }
        if !locked.isEmpty {
            try await store.appendAudit(AuditDraft(actor: actor, action: "disposition.files_kept_under_lock", target: "disposition:\(id)", detail: [
                "files": String(locked.count), "lock_ends_by": lockEnds.map { Timestamp.iso(seconds: Int64($0.timeIntervalSince1970)) } ?? "", "store": archive.blobs.locationDescription,
            ]))
        }
        let certificate: DispositionCertificate
        if let json = try await store.certificate(dispositionID: id) {
            certificate = try Self.decode(json)
        } else {
            // What the storage engine keeps beyond the deleted rows goes before the certificate
            // says how the records were destroyed (run again on a rerun: it is idempotent).
            let residue = try await store.purgeResidue()
            var issued = try await self.certificate(for: id, blobsDestroyed: destroyed)
            issued.blobStore = archive.blobs.locationDescription
            issued.method = residue.steps + (released.isEmpty ? [] : [archive.blobs.destructionMethod])
            var lockNote: [String] = []
            if !locked.isEmpty {
                lockNote = ["\(locked.count) file(s) kept under Object Lock until it ends"
                            + (lockedClear == 0 ? " (their data keys are destroyed: the sealed versions the lock keeps cannot be read; a version stored "
                                + "in the clear before sealing began stays readable until the lock ends)"
                               : ", \(lockedClear) of them stored in the clear and readable until then")]
            }
            issued.notYetPurged = residue.remaining.isEmpty && lockNote.isEmpty ? nil : residue.remaining + lockNote
            // Originals that records left from but retained records still come from.
            var sources = Set<ContentHash>()
            for batchID in Set(try await store.tombstones(dispositionID: id).map(\.captureBatchID)) {
                if let b = try await store.batch(id: batchID) { sources.insert(b.sourceHash) }
            }
            let destroyedNow = Set(try await store.destroyedBlobs(dispositionID: nil))
            let kept = sources.subtracting(destroyedNow).map(\.hex).sorted()
            issued.originalsKept = kept.isEmpty ? nil : kept
            let database = "clear for the database (rows overwritten or deleted through the storage engine)"
            if released.isEmpty {
                issued.sanitization = database
            } else if sealedFiles == released.count {
                issued.sanitization = "purge by cryptographic erase for files (attachments, original exports: each one's data key destroyed); " + database
            } else if sealedFiles > 0 {
                issued.sanitization = "purge by cryptographic erase for \(sealedFiles) of the \(released.count) files (their data keys destroyed); "
                    + "clear for the other files, stored in the clear (overwritten or deleted through the storage interface), and " + database
            } else {
                issued.sanitization = "clear: the records' bytes overwritten or deleted through the storage interface (files and database)"
            }
            if !locked.isEmpty {
                issued.blobsKeptUnderLock = locked.count
                issued.lockEndsBy = lockEnds.map { Timestamp.iso(seconds: Int64($0.timeIntervalSince1970)) }
            }
            certificate = issued
            // The certificate and the audit entry that anchors its hash commit together.
            try await store.saveCertificate(dispositionID: id, json: certificate.json, audit: AuditDraft(
                actor: actor, action: "disposition.certificate", target: "disposition:\(id)", detail: [
                    "certificate_sha256": ContentHash.of(certificate.json).hex, "disposed_digest": certificate.disposedHashesDigest,
                    "records": String(certificate.records),
                ]))
        }
        if failures > 0 {
            throw ArchiveError(.storage, "disposition \(id) is executed but \(failures) file(s) could not be removed from the blob store; fix permissions and run the same command again")
        }
        return certificate
    }

    /// Whether a stored blob's bytes are sealed, read from its header (its data key may be gone).
    private func storedSealed(_ hash: ContentHash) async -> Bool {
        struct Enough: Error {}
        var head: [UInt8] = []
        do {
            try await archive.blobs.read(hash) { chunk in
                head += chunk.prefix(BlobSealer.headerSize - head.count)
                if head.count >= BlobSealer.headerSize { throw Enough() }
            }
        } catch {}
        return BlobSealer.keyID(ofHeader: head) != nil
    }

    func certificate(for id: Int64, blobsDestroyed: Int) async throws -> DispositionCertificate {
        let b = try await show(id: id)
        let tombstones = try await store.tombstones(dispositionID: id)
        let plan = try await store.filePlanHistory().first { $0.version == b.planVersion }?.plan
        var items: [String: DispositionCertificate.Item] = [:]
        for t in tombstones {
            var i = items[t.itemID] ?? .init(itemID: t.itemID, authority: t.authority, title: plan?.item(t.itemID)?.title, records: 0, firstSent: nil, lastSent: nil)
            i.records += 1
            i.firstSent = min(i.firstSent ?? t.sentLocal, t.sentLocal)
            i.lastSent = max(i.lastSent ?? t.sentLocal, t.sentLocal)
            items[t.itemID] = i
        }
        return DispositionCertificate(
            kind: b.action == .transfer ? "certificate-of-transfer" : "certificate-of-destruction", dispositionID: id, asOf: b.asOf.description,
            filePlanVersion: b.planVersion, items: items.values.sorted { $0.itemID < $1.itemID }, records: tombstones.count, withheld: b.withheld,
            heldAtProposal: b.heldAtProposal, disposedHashesDigest: DisposalDigest(tombstones).hex, blobsDestroyed: blobsDestroyed,
            proposedBy: b.proposedBy, proposedAt: b.proposedAt, approvedBy: b.approvedBy ?? "", approvedAt: b.approvedAt ?? "",
            executedBy: b.executedBy ?? "", executedAt: b.executedAt ?? "", accession: b.accession, bagDigest: b.bagDigest, note: b.note)
    }

    /// The stored certificate of an executed disposition.
    public func certificate(id: Int64, actor: String) async throws -> DispositionCertificate {
        guard let json = try await store.certificate(dispositionID: id) else {
            let b = try await show(id: id)
            if b.status == .executed {
                throw ArchiveError(.notFound, "disposition \(id) was executed but its certificate was not written (the run was interrupted); "
                                    + "`recordkeeper verify` or `recordkeeper dispose execute \(id)` finishes it")
            }
            throw ArchiveError(.notFound, "disposition \(id) is \(b.status.rawValue); a certificate exists once it is executed")
        }
        try await store.appendReadAudit(AuditDraft(actor: actor, action: "disposition.certificate.read", target: "disposition:\(id)"))
        return try Self.decode(json)
    }

    static func decode(_ json: String) throws -> DispositionCertificate {
        let decoder = JSONDecoder()
        return try decoder.decode(DispositionCertificate.self, from: Data(json.utf8))
    }
}
