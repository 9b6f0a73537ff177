import Archive
import Foundation
import RecordkeeperCore

/// One thing `verify` found wrong.
public struct VerificationProblem: Sendable, Codable, Hashable {
    /// `blob_missing`, `blob_altered`, `message_altered`, `batch_source_missing`, `batch_altered`,
    /// `batch_messages_altered`, `search_index_incomplete`, `audit_altered`, `audit_broken_link`,
    /// `audit_gap`, `checkpoint_signature_invalid`, `checkpoint_chain_broken`, `checkpoint_key_changed` (witness),
    /// `checkpoint_unreadable`, `archive_truncated`, `chain_diverges`, `batch_not_vouched`, `disposition_not_vouched`,
    /// `checkpoints_missing`, `checkpoint_not_by_archive_key`, `audit_anchor_repeated`, `custody_event_altered`, `custody_event_unanchored`, `custody_event_missing`, `custody_event_anchored_twice`,
    /// `custody_import_altered`, `custody_import_missing`, `custody_seizure_altered`,
    /// `custody_seizure_unanchored`, `custody_seizure_missing`, `custody_seacats_altered`, `custody_seacats_missing`,
    /// `custody_presentation_altered`, `custody_presentation_missing`, `custody_correction_altered`, `custody_correction_missing`,
    /// `custody_security_check_altered`, `custody_security_check_missing`,
    /// `custody_item_closed_without_event`, `custody_detention_altered`, `custody_detention_missing`,
    /// `custody_addressee_altered`, `custody_addressee_missing`, `custody_purge_altered`, `custody_purge_missing`,
    /// `custody_setting_altered`, `custody_referral_altered`, `custody_referral_missing`, `custody_item_altered`.
    public var code: String
    /// What it concerns: `blob:<hash>`, `message:<id>`, `audit:<seq>`.
    public var item: String
    public var detail: String
}

public struct VerificationReport: Sendable, Codable {
    public var ok: Bool
    public var blobsChecked: Int
    public var blobBytes: Int64
    /// Every byte run through SHA-256: blobs, message serialisations, audit entries.
    public var bytesHashed: Int64
    public var messagesChecked: Int
    /// Completed batches whose messages were checked against their audit anchor.
    public var batchesChecked: Int
    /// Executed dispositions whose tombstones and certificate were checked.
    public var dispositionsChecked: Int
    /// Batches with no anchor yet: interrupted ingests (run the same ingest again to finish them).
    public var unanchoredBatches: [Int64]
    public var auditEntriesChecked: Int
    public var auditHead: String?
    public var seconds: Double
    public var problems: [VerificationProblem]
    /// Captured messages not yet in the search index when verify ran (not a problem: the lag).
    public var notYetIndexed: Int = 0
    /// Files released by executed dispositions that the object store keeps under Object Lock
    /// until it ends (not a problem: the certificate says so; a later sweep removes them).
    public var destroyedKeptUnderLock: Int = 0
    /// Custody events whose hashes were recomputed and compared with their audit entries.
    public var custodyEventsChecked: Int = 0
    /// A period's verify (`verify --day`): what it covered and what it left to the whole verify.
    public var window: VerificationWindow?
    /// Signed checkpoints in the archive checked; notes on them that are not problems by themselves
    /// (a change of signing key the old key did not vouch for; the archive's key not readable here,
    /// so not checked against); a witness's checkpoints checked (`verify --against`).
    public var checkpointsChecked: Int = 0
    public var checkpointKeyChanges: [String] = []
    public var witnessCheckpointsChecked: Int?
    /// Blobs sealed at rest (with a data key); nil when the archive neither seals nor holds a
    /// sealed blob. Fewer than `blobsChecked`: some are stored in the clear (`keys seal`).
    public var blobsSealed: Int?
    /// Dispositions an interruption had left without their files removed or their certificate,
    /// finished by this verify before it checked (their execution was vouched for by a checkpoint).
    public var dispositionsFinished: [Int64] = []
}

/// Recomputes every blob hash, every message's content hash and the whole audit chain.
public struct VerifyService: Sendable {
    public let archive: ArchiveHandle
    public init(archive: ArchiveHandle) { self.archive = archive }

    struct MessageCheck: Sendable {
        var count = 0
        var bytes: Int64 = 0
        var problems: [VerificationProblem] = []
    }

    /// Checks the messages with ids in `(after, through]`, page by page.
    static func checkMessages(_ store: any ArchiveStore, after: Int64, through: Int64, present: Set<ContentHash>) async throws -> MessageCheck {
        var result = MessageCheck()
        var lastID = after
        while true {
            let page = try await store.verifyMessageHashes(afterID: lastID, throughID: through, limit: 5000)
            guard let last = page.last else { return result }
            lastID = last.id
            for m in page {
                result.count += 1
                result.bytes += Int64(m.bytes)
                if let mismatch = m.mismatch {
                    result.problems.append(.init(code: "message_altered", item: "message:\(m.id)",
                                                 detail: "content hash recomputed from the stored fields is \(mismatch.computed.hex), stored \(mismatch.stored?.hex ?? "not a hash")"))
                }
                for h in m.attachmentBlobs where !present.contains(h) {
                    result.problems.append(.init(code: "blob_missing", item: "message:\(m.id)",
                                                 detail: "attachment blob \(h.hex) is gone from the blob store"))
                }
                if m.sourceBlob.map({ !present.contains($0) }) ?? true {
                    result.problems.append(.init(code: "batch_source_missing", item: "message:\(m.id)",
                                                 detail: "the original export \(m.sourceBlob?.hex ?? "(unreadable reference)") is gone from the blob store"))
                }
            }
        }
    }

    /// Each blob of `page` rehashed (nil: its file is gone), in the page's order, spread over
    /// one task per core.
    static func rehash(_ page: [BlobInfo], in blobs: any BlobStore) async throws -> [BlobInfo?] {
        let workers = max(1, min(ProcessInfo.processInfo.activeProcessorCount, 8, page.count))
        return try await withThrowingTaskGroup(of: [(Int, BlobInfo?)].self) { group in
            for w in 0..<workers {
                group.addTask {
                    var out: [(Int, BlobInfo?)] = []
                    for i in stride(from: w, to: page.count, by: workers) { out.append((i, try await blobs.rehash(page[i].hash))) }
                    return out
                }
            }
            var results = [BlobInfo?](repeating: nil, count: page.count)
            for try await part in group { for (i, r) in part { results[i] = r } }
            return results
        }
    }

    /// The audit chain read in sequence order: no sequence missing, each entry hashing to itself and
    /// linking to the one before (`previous` nil: the one before is not known, no link checked).
    /// The audit actions written once per record: the entries verify anchors records on.
    static let onceActions: Set<String> = [
        "ingest", "custody.import", "custody.arrivals.import", "custody.aed.import", "custody.manifest.import", "custody.seize", "custody.seacats",
        "custody.detain", "custody.detention.notice", "custody.detention.response", "custody.detention.dispose", "custody.refer", "custody.duty",
        "custody.bulk-request", "custody.presentation.open", "custody.presentation.close", "custody.pii.purge",
    ]

    struct AuditChainCheck {
        var expected: Int64
        var previous: ContentHash?

        mutating func check(_ e: AuditEntry, hashes: Bool) -> [VerificationProblem] {
            var problems: [VerificationProblem] = []
            if e.sequence != expected {
                problems.append(.init(code: "audit_gap", item: "audit:\(e.sequence)", detail: "entries \(expected)…\(e.sequence - 1) are missing"))
            }
            if !hashes {
                problems.append(.init(code: "audit_altered", item: "audit:\(e.sequence)",
                                      detail: "entry no longer hashes to its recorded hash (action \(e.action), target \(e.target))"))
            }
            if let previous, e.previousHash != previous {
                problems.append(.init(code: "audit_broken_link", item: "audit:\(e.sequence)", detail: "does not link to the entry before it"))
            }
            previous = e.hash
            expected = e.sequence + 1
            return problems
        }
    }

    /// Each entry of a page: whether it still hashes to its recorded hash, and a custody entry's
    /// detail decoded; computed on every core, in the page's order.
    static func auditChecks(_ page: [AuditEntry]) async throws -> [(hashes: Bool, detail: [String: String]?)] {
        @Sendable func check(_ e: AuditEntry) -> (hashes: Bool, detail: [String: String]?) {
            (e.computeHash() == e.hash,
             e.action.hasPrefix("custody.") ? try? JSONDecoder().decode([String: String].self, from: Data(e.detail.utf8)) : nil)
        }
        let workers = max(1, min(ProcessInfo.processInfo.activeProcessorCount, 8, page.count / 500))
        guard workers > 1 else { return page.map(check) }
        return try await withThrowingTaskGroup(of: (Int, [(hashes: Bool, detail: [String: String]?)]).self) { group in
            let span = (page.count + workers - 1) / workers
            for w in 0..<workers {
                let slice = Array(page[min(page.count, w * span)..<min(page.count, (w + 1) * span)])
                group.addTask { (w, slice.map(check)) }
            }
            var parts = [[(hashes: Bool, detail: [String: String]?)]](repeating: [], count: workers)
            for try await (w, part) in group { parts[w] = part }
            return parts.flatMap { $0 }
        }
    }

    /// `witness`: checkpoints an outside witness kept (`checkpoint export`), and where they came
    /// from: the archive must still extend every one of them.
    public func verify(actor: String, witness: (source: String, checkpoints: [SignedCheckpoint])? = nil,
                       progress: (@Sendable (String) -> Void)? = nil) async throws -> VerificationReport {
        let started = Date()
        let store = archive.store
        // A destruction or transfer whose records left but whose files and certificate an
        // interruption left undone is finished first, if the archive's key vouched for it; one
        // nobody vouched for is left for the checks below to name.
        let finished = try await DispositionService(archive: archive).finishInterrupted(actor: actor).finished
        var problems: [VerificationProblem] = []
        var blobCount = 0
        var blobBytes: Int64 = 0
        /// Blobs registered in the record store whose bytes are present (altered or not).
        var present = Set<ContentHash>()

        // 1. Blobs: the bytes under each hash must still hash to it.
        var after: ContentHash?
        while true {
            let page = try await store.blobs(after: after, limit: 1000)
            guard let last = page.last else { break }
            after = last.hash
            // Hashed on every core; findings are taken in hash order, as before.
            let rehashed = try await Self.rehash(page, in: archive.blobs)
            for (blob, result) in zip(page, rehashed) {
                blobCount += 1
                guard let actual = result else {
                    problems.append(.init(code: "blob_missing", item: "blob:\(blob.hash.hex)", detail: "the file for this blob is gone from the blob store"))
                    continue
                }
                blobBytes += actual.size
                present.insert(blob.hash)
                if actual.hash != blob.hash || actual.size != blob.size {
                    problems.append(.init(code: "blob_altered", item: "blob:\(blob.hash.hex)",
                                          detail: "stored bytes hash to \(actual.hash.hex) (\(actual.size) bytes), expected \(blob.size) bytes"))
                }
            }
            progress?("blobs: \(blobCount) checked")
        }

        // 2. Messages: the content hash recomputed from the stored fields must match. The id range
        //    is split between concurrent readers (one per core).
        var messageCount = 0
        var recordBytes: Int64 = 0
        if let range = try await store.messageIDRange() {
            let parts = max(1, min(ProcessInfo.processInfo.activeProcessorCount, 8))
            let span = (range.upperBound - range.lowerBound + 1 + Int64(parts) - 1) / Int64(parts)
            let presentBlobs = present
            try await withThrowingTaskGroup(of: MessageCheck.self) { group in
                for part in 0..<parts {
                    let low = range.lowerBound - 1 + Int64(part) * span
                    let high = min(range.upperBound, low + span)
                    guard low < high else { continue }
                    group.addTask { try await Self.checkMessages(store, after: low, through: high, present: presentBlobs) }
                }
                for try await result in group {
                    messageCount += result.count
                    recordBytes += result.bytes
                    problems += result.problems
                    progress?("messages: \(messageCount) checked")
                }
            }
        }

        // 3. Batches: each completed batch's messages still digest to the anchor its audit entry
        //    recorded, so a deleted message, or one replaced with a fresh hash, is found.
        var batchesChecked = 0
        var unanchored: [Int64] = []
        for id in try await store.batchIDs() {
            let entries = try await store.auditEntries(target: "batch:\(id)", limit: 10_000)
            guard let entry = entries.last(where: { $0.action == "ingest" }),
                  let detail = try? JSONDecoder().decode([String: String].self, from: Data(entry.detail.utf8)),
                  let expected = detail["batch_digest"] else {
                unanchored.append(id)
                continue
            }
            batchesChecked += 1
            let actual = try await store.batchDigest(batchID: id)
            if actual.digest.hex != expected {
                problems.append(.init(code: "batch_messages_altered", item: "batch:\(id)",
                                      detail: "the batch's messages or key fields no longer match the anchor in audit entry \(entry.sequence) (\(detail["batch_messages"] ?? "?") messages then, \(actual.messages) now)"))
            }
        }

        // A conversation's title is anchored by the batches that captured it; the only lawful
        // change is a retitle the audit log records (a live room named after its first events).
        for (conversationID, title, latest) in try await store.uncapturedConversationTitles() {
            let retitled = try await store.auditEntries(target: "conversation:\(conversationID)", limit: 10_000).contains { e in
                e.action == "conversation.retitle" && (try? JSONDecoder().decode([String: String].self, from: Data(e.detail.utf8)))?["to"] == title
            }
            if !retitled {
                problems.append(.init(code: "batch_messages_altered", item: "batch:\(latest)",
                                      detail: "conversation \(conversationID)'s title is not the one its batches captured, and no audited retitle gave it"))
            }
        }

        // 4. Dispositions: each executed one's tombstones still digest to what its audit entry
        //    recorded, its certificate is the one issued, destroyed files are gone, and no
        //    tombstoned record is still present.
        var dispositionsChecked = 0
        var destroyedKeptUnderLock = 0
        for d in try await store.dispositions() where d.status == .executed {
            dispositionsChecked += 1
            let item = "disposition:\(d.id)"
            let entries = try await store.auditEntries(target: item, limit: 10_000)
            guard let entry = entries.last(where: { $0.action == "disposition.execute" || $0.action == "transfer.confirm" }),
                  let detail = try? JSONDecoder().decode([String: String].self, from: Data(entry.detail.utf8)) else {
                problems.append(.init(code: "disposition_unanchored", item: item,
                                      detail: "executed, but no audit entry records the digest of what it disposed of"))
                continue
            }
            let actual = DisposalDigest(try await store.tombstones(dispositionID: d.id)).hex
            if actual != detail["disposed_digest"] {
                problems.append(.init(code: "disposition_tombstones_altered", item: item,
                                      detail: "its tombstones digest to \(actual), audit entry \(entry.sequence) recorded \(detail["disposed_digest"] ?? "nothing")"))
            }
            let certificate = try await store.certificate(dispositionID: d.id)
            let issued = entries.last(where: { $0.action == "disposition.certificate" })
                .flatMap { try? JSONDecoder().decode([String: String].self, from: Data($0.detail.utf8)) }
            switch (certificate, issued) {
            case (nil, _), (_, nil):
                problems.append(.init(code: "certificate_missing", item: item,
                                      detail: "the disposition has no issued certificate; run `recordkeeper dispose execute \(d.id)` again to issue it"))
            case (let c?, let i?) where ContentHash.of(c).hex != i["certificate_sha256"]:
                problems.append(.init(code: "certificate_altered", item: item, detail: "the stored certificate is not the one issued"))
            default: break
            }
        }
        for id in try await store.tombstonesOutsideExecutedDispositions(limit: 20) {
            problems.append(.init(code: "tombstone_without_disposition", item: "message:\(id)",
                                  detail: "a tombstone names a disposition that was never executed"))
        }
        for hash in try await store.destroyedBlobs(dispositionID: nil) where try await archive.blobs.contains(hash) {
            // Released by a disposition but kept by the object store's lock until it ends: the
            // disposition's certificate says so, and a later sweep removes it.
            if let locking = archive.blobs as? any LockingBlobStore, let until = try? await locking.lockState(hash).until, until > Date() {
                destroyedKeptUnderLock += 1
                continue
            }
            problems.append(.init(code: "destroyed_blob_present", item: "blob:\(hash.hex)",
                                  detail: "a disposition destroyed this file but it is still in the blob store; run the disposition's execute again"))
        }
        for id in try await store.tombstonesWithRecords(limit: 20) {
            problems.append(.init(code: "tombstone_with_record", item: "message:\(id)", detail: "the record has a tombstone but is still present"))
        }

        // 5. Search: every captured message is either in the index or in its lag (beyond the
        // mark, waiting for the indexer), and the index holds nothing else.
        let gaps = try await store.searchIndexGaps(limit: 20)
        if !gaps.unindexedMessages.isEmpty || gaps.orphanEntries > 0 || !gaps.indexedBeyondMark.isEmpty {
            func ids(_ list: [Int64]) -> String { list.map { "message:\($0)" }.joined(separator: ", ") + (list.count == 20 ? ", …" : "") }
            problems.append(.init(code: "search_index_incomplete", item: "search_index",
                                  detail: "messages missing from the search index: \(ids(gaps.unindexedMessages)); index entries with no message: \(gaps.orphanEntries)"
                                      + (gaps.indexedBeyondMark.isEmpty ? "" : "; indexed beyond the index mark: \(ids(gaps.indexedBeyondMark))")
                                      + ". Rebuild it with `recordkeeper index rebuild`"))
        }
        let indexLag = try await store.indexStatus()

        // 6. Audit chain: contiguous sequence, each entry's hash recomputed, each link to the previous.
        var auditCount = 0
        var custodyEvents = (store as? any CustodyStore).map { CustodyEventStream(store: $0) } // checked behind the chain
        var importAnchors: [Int64: (digest: String, sequence: Int64)] = [:]
        var importDetails: [Int64: [String: String]] = [:] // what each target import's entry recorded (file hash, counts)
        var seizureAnchors: [Int64: (detail: [String: String], sequence: Int64)] = [:] // seizure id → what its audit entry recorded
        var seacatsAnchors: [Int64: (detail: [String: String], sequence: Int64)] = [:]
        var presentationAnchors: [Int64: (opened: [String: String]?, closed: [String: String]?, sequence: Int64)] = [:]
        var correctionAnchors: [[String: String]] = [] // what each correction's audit entry recorded, with its actor
        var checkAnchors: [String: (detail: [String: String], actor: String, sequence: Int64)] = [:] // location|day → the security check's entry
        var detentionAnchors: [Int64: [String: [String: String]]] = [:] // detention id → its entries' details by action
        var purgeAnchors: [Int64: (detail: [String: String], sequence: Int64)] = [:]
        var retentionAnchor: String? // the addressee retention the last custody.setting entry recorded
        var referralAnchors: [Int64: [String: [String: String]]] = [:] // referral id → its entries' details by action
        var funnelAnchors = FunnelAnchors()
        var chain = AuditChainCheck(expected: 1, previous: AuditEntry.genesis)
        var created: [String: Int64] = [:] // "action target" of each record-creating entry → its sequence
        var seq: Int64 = 0
        while true {
            let page = try await store.auditEntries(afterSequence: seq, limit: 5000)
            guard let last = page.last else { break }
            seq = last.sequence
            let checked = try await Self.auditChecks(page)
            for (e, check) in zip(page, checked) {
                auditCount += 1
                recordBytes += Int64(e.detail.utf8.count + e.action.utf8.count + e.target.utf8.count + 200)
                problems += chain.check(e, hashes: check.hashes)
                // A record is created once: a second creating entry for it was chained in later (with
                // the digest of altered rows, say), and the checks below would read the later one.
                if Self.onceActions.contains(e.action) {
                    let key = e.action + " " + e.target
                    if let first = created[key] {
                        problems.append(.init(code: "audit_anchor_repeated", item: e.target,
                                              detail: "audit entries \(first) and \(e.sequence) both record its \(e.action); a record is created once: one of them was chained in later"))
                    } else {
                        created[key] = e.sequence
                    }
                }
                // Every custody event's audit entry names it and its hash; an import's, its digest.
                if let detail = check.detail {
                    if e.action == "custody.setting", e.target.hasPrefix("custody-setting:") {
                        funnelAnchors.recordSetting(String(e.target.dropFirst("custody-setting:".count)), detail, by: e.actor)
                    }
                    if let id = detail["event"].flatMap(Int64.init), let hash = detail["hash"] {
                        custodyEvents?.anchor(event: id, hash: hash, sequence: e.sequence)
                    } else if e.action == "custody.import", let id = Int64(e.target.dropFirst("custody-import:".count)), let digest = detail["digest"] {
                        importAnchors[id] = (digest, e.sequence)
                        importDetails[id] = detail
                    } else if e.action == "custody.seize", let id = Int64(e.target.dropFirst("custody-seizure:".count)) {
                        seizureAnchors[id] = (detail, e.sequence)
                    } else if e.action == "custody.seacats", let id = Int64(e.target.dropFirst("custody-seizure:".count)) {
                        seacatsAnchors[id] = (detail, e.sequence)
                    } else if e.action == "custody.seizure.correct" {
                        correctionAnchors.append(detail.merging(["by": e.actor]) { a, _ in a })
                    } else if e.action == "custody.security-check", let l = detail["location"], let d = detail["day"] {
                        checkAnchors["\(l)|\(d)"] = (detail, e.actor, e.sequence)
                    } else if ["custody.detain", "custody.detention.notice", "custody.detention.response", "custody.detention.dispose"].contains(e.action),
                              let id = Int64(e.target.dropFirst("custody-detention:".count)) {
                        detentionAnchors[id, default: [:]][e.action] = detail.merging(["by": e.actor]) { a, _ in a }
                    } else if e.action == "custody.pii.purge", let id = Int64(e.target.dropFirst("custody-pii-purge:".count)) {
                        purgeAnchors[id] = (detail, e.sequence)
                    } else if e.action == "custody.refer" || e.action.hasPrefix("custody.referral."),
                              let id = Int64(e.target.dropFirst("custody-referral:".count)) {
                        referralAnchors[id, default: [:]][e.action] = detail.merging(["by": e.actor]) { a, _ in a }
                    } else if e.action == "custody.setting", e.target == "custody-setting:\(PrivacyPolicy.retentionSetting)" {
                        retentionAnchor = detail["new"]
                    } else if e.action == "custody.setting", e.target == "custody-setting:\(COISetting.key)" {
                        funnelAnchors.coi = detail["new"]
                    } else if e.action == "custody.arrivals.import", let id = Int64(e.target.dropFirst("custody-import:".count)), detail["digest"] != nil {
                        funnelAnchors.imports[id] = (detail, e.sequence)
                    } else if e.action == "custody.aed.import", let id = Int64(e.target.dropFirst("custody-import:".count)), detail["digest"] != nil {
                        funnelAnchors.aedImports[id] = (detail, e.sequence)
                    } else if e.action == "custody.manifest.import", let id = Int64(e.target.dropFirst("custody-import:".count)), detail["digest"] != nil {
                        funnelAnchors.manifestImports[id] = (detail, e.sequence)
                    } else if e.action == "custody.duty", let id = Int64(e.target.dropFirst("custody-duty:".count)) {
                        funnelAnchors.duties[id] = (detail.merging(["by": e.actor]) { a, _ in a }, e.sequence)
                    } else if e.action == "custody.bulk-request", let id = Int64(e.target.dropFirst("custody-bulk-request:".count)) {
                        funnelAnchors.requests[id] = (detail.merging(["by": e.actor]) { a, _ in a }, e.sequence)
                    } else if e.action.hasPrefix("custody.presentation."), let id = Int64(e.target.dropFirst("custody-presentation:".count)) {
                        var a = presentationAnchors[id] ?? (nil, nil, e.sequence)
                        if e.action == "custody.presentation.open" { a.opened = detail } else { a.closed = detail }
                        presentationAnchors[id] = a
                    }
                }
            }
            try await custodyEvents?.catchUp()
            progress?("audit entries: \(auditCount) checked")
        }

        // 7. Custody records: each custody event still hashes to what it stored and to what its
        //    audit entry recorded, none recorded is gone, and each target import's targets still
        //    digest to its anchor.
        var custodyEventsChecked = 0
        if let custody = store as? any CustodyStore, var events = custodyEvents {
            problems += try await events.finish()
            custodyEventsChecked = events.checked
            var tally = events.returnBatches ?? ReturnBatchTally()
            let returnBatchMismatches = try await tally.finish(store: custody)
            var imports = Set<Int64>()
            for i in try await custody.targetImports() {
                imports.insert(i.id)
                var hasher = StreamingHasher()
                for t in try await custody.targets(importID: i.id) { t.canonical.withUnsafeBytes { hasher.update($0) } }
                let digest = hasher.finalize().hex
                if digest != i.digest || importAnchors[i.id]?.digest != digest {
                    problems.append(.init(code: "custody_import_altered", item: "custody-import:\(i.id)",
                                          detail: "the targets of import \(i.id) (\(i.fileName)) no longer digest to what its audit entry recorded"))
                } else if let d = importDetails[i.id],
                          d["file_sha256"] != i.fileHash || d["rows"] != String(i.rowsTotal) || d["added"] != String(i.added) || d["rejected"] != String(i.rejected) {
                    problems.append(.init(code: "custody_import_altered", item: "custody-import:\(i.id)",
                                          detail: "import \(i.id) (\(i.fileName)): its file hash or counts are not what its audit entry recorded"))
                }
            }
            for (id, anchor) in importAnchors where !imports.contains(id) {
                problems.append(.init(code: "custody_import_missing", item: "custody-import:\(id)",
                                      detail: "recorded by audit entry \(anchor.sequence), gone from the imports"))
            }
            // An episode closes only with the event that closes it (else an item could vanish
            // from custody without a trace).
            for closed in try await custody.custodyItemsClosedWithoutEvent(limit: 100) {
                problems.append(.init(code: "custody_item_closed_without_event", item: "custody-item:\(closed.itemID)",
                                      detail: "\(closed.s10) left custody with no return, hand-over or destruction recorded"))
            }
            // An item's arrival time and container are its RECEIVED event's (R-LAT, R-AGE, R-DQ and
            // the container counts read them from the item).
            for item in try await custody.custodyItemsDisagreeingWithReceipt(limit: 100) {
                problems.append(.init(code: "custody_item_altered", item: "custody-item:\(item.itemID)",
                                      detail: "\(item.s10)'s arrival time or container is not what its receipt event recorded"))
            }
            // Seizures and their SEACATS entries: the time, form, witness and case as recorded.
            var seizureIDs = Set<Int64>()
            var recordedSeizedAt: [Int64: Int64] = [:]
            for z in try await custody.seizures(seizedFrom: Int64.min, to: Int64.max) {
                seizureIDs.insert(z.id)
                recordedSeizedAt[z.id] = z.recordedSeizedAtMillis
                let item = "custody-seizure:\(z.id)"
                if let a = seizureAnchors[z.id] {
                    if a.detail["seized_at"] != String(z.recordedSeizedAtMillis) || a.detail["form_6051s"] != z.form6051S || a.detail["witness"] != z.witness
                        || a.detail["violation"] != z.violationType || a.detail["s10"] != z.s10 {
                        problems.append(.init(code: "custody_seizure_altered", item: item,
                                              detail: "seizure of \(z.s10) no longer says what audit entry \(a.sequence) recorded (time, form, witness or violation)"))
                    }
                } else {
                    problems.append(.init(code: "custody_seizure_unanchored", item: item, detail: "seizure of \(z.s10) has no audit entry recording it"))
                }
                if let case_ = z.seacatsCase {
                    let a = seacatsAnchors[z.id]
                    if a?.detail["case"] != case_ || a?.detail["recorded_at"] != z.seacatsRecordedAtMillis.map(String.init) {
                        problems.append(.init(code: "custody_seacats_altered", item: item,
                                              detail: "the SEACATS entry (case \(case_)) is not the one the audit log recorded"))
                    }
                } else if let a = seacatsAnchors[z.id] {
                    problems.append(.init(code: "custody_seacats_missing", item: item,
                                          detail: "audit entry \(a.sequence) recorded SEACATS case \(a.detail["case"] ?? "?"), gone from the seizure"))
                }
            }
            // Corrections of seizure times: each as its audit entry recorded it (who made it
            // included), none added or removed behind the log's back, and each seizure's
            // corrections a chain from the time first recorded (the latest one is the time every
            // report reads, so their order matters).
            let corrections = try await custody.seizureCorrections(from: Int64.min, to: Int64.max)
            func key(_ d: [String: String]) -> String { d.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "|") }
            var recorded = correctionAnchors.map(key)
            var previous: [Int64: Int64] = [:] // seizure → the time its last correction set
            for c in corrections {
                if let i = recorded.firstIndex(of: key(c.auditDetail.merging(["by": c.correctedBy]) { a, _ in a })) {
                    recorded.remove(at: i)
                } else {
                    problems.append(.init(code: "custody_correction_altered", item: "custody-seizure:\(c.seizureID)",
                                          detail: "correction \(c.id) of seizure \(c.seizureID)'s time is not one the audit log recorded"))
                }
                let from = previous[c.seizureID] ?? recordedSeizedAt[c.seizureID]
                if from != c.oldAtMillis {
                    problems.append(.init(code: "custody_correction_altered", item: "custody-seizure:\(c.seizureID)",
                                          detail: "correction \(c.id) does not follow from the seizure's time before it (the corrections were reordered or changed)"))
                }
                previous[c.seizureID] = c.newAtMillis
            }
            if !recorded.isEmpty {
                problems.append(.init(code: "custody_correction_missing", item: "custody-corrections",
                                      detail: "\(recorded.count) correction(s) recorded in the audit log are gone from the corrections"))
            }
            // Security checks: as recorded, by whom recorded.
            var checked = Set<String>()
            for c in try await custody.securityChecks(fromDay: "0000-01-01", toDay: "9999-12-31") {
                let k = "\(c.location)|\(c.day)"
                checked.insert(k)
                if let a = checkAnchors[k] {
                    if a.detail != c.auditDetail || a.actor != c.checkedBy {
                        problems.append(.init(code: "custody_security_check_altered", item: "custody-location:\(c.location)",
                                              detail: "the check of \(c.day) no longer says what audit entry \(a.sequence) recorded"))
                    }
                } else {
                    problems.append(.init(code: "custody_security_check_altered", item: "custody-location:\(c.location)",
                                          detail: "the check of \(c.day) has no audit entry recording it"))
                }
            }
            for (k, a) in checkAnchors where !checked.contains(k) {
                problems.append(.init(code: "custody_security_check_missing", item: "custody-location:\(k.split(separator: "|")[0])",
                                      detail: "recorded by audit entry \(a.sequence), gone from the security checks"))
            }
            // Containers: the declared count and hand-over as opened, the count and note as closed.
            var presentationIDs = Set<Int64>()
            for p in try await custody.presentations(from: Int64.min, to: Int64.max) {
                presentationIDs.insert(p.id)
                let item = "custody-presentation:\(p.id)"
                let a = presentationAnchors[p.id]
                if a?.opened != p.openedDetail {
                    problems.append(.init(code: "custody_presentation_altered", item: item,
                                          detail: "container \(p.containerID) no longer says what its opening's audit entry recorded (declared count, carrier, seal, time)"))
                }
                if p.closedAtMillis == nil, a?.closed != nil {
                    problems.append(.init(code: "custody_presentation_altered", item: item,
                                          detail: "container \(p.containerID) is open, but the audit log recorded its closing"))
                }
                if let closedAt = p.closedAtMillis {
                    let c = a?.closed
                    if c?["declared"] != String(p.declaredCount) || c?["scanned"] != String(p.scannedCount) || c?["note"] != (p.discrepancyNote ?? "")
                        || c?["at"] != String(closedAt) {
                        problems.append(.init(code: "custody_presentation_altered", item: item,
                                              detail: "container \(p.containerID)'s closing (scanned count, note, time) is not what the audit log recorded"))
                    }
                }
            }
            // Return batches: their members are exactly the return events that name them, and a
            // closed one's count is its members'.
            for b in returnBatchMismatches {
                problems.append(.init(code: "custody_return_batch_altered", item: "custody-presentation:\(b.id)",
                                      detail: "return batch \(b.id): \(b.members) member(s), \(b.events) return event(s) naming it, \(b.strays) member(s) naming another event"
                                          + (b.scanned.map { ", \($0) counted at its close" } ?? "")))
            }
            for (id, anchor) in presentationAnchors where !presentationIDs.contains(id) {
                problems.append(.init(code: "custody_presentation_missing", item: "custody-presentation:\(id)",
                                      detail: "recorded by audit entry \(anchor.sequence), gone from the presentations"))
            }
            for (id, anchor) in seizureAnchors where !seizureIDs.contains(id) {
                problems.append(.init(code: "custody_seizure_missing", item: "custody-seizure:\(id)",
                                      detail: "recorded by audit entry \(anchor.sequence), gone from the seizures"))
            }
        }

        if let referrals = store as? any CustodyReferralStore {
            problems += try await Self.checkReferrals(referrals, anchors: referralAnchors)
        }
        if let funnel = store as? any CustodyFunnelStore {
            problems += try await Self.checkFunnel(funnel, anchors: funnelAnchors)
        }
        if let aed = store as? any CustodyAdvanceDataStore {
            problems += try await Self.checkAdvanceData(aed, anchors: funnelAnchors.aedImports)
        }
        if let manifests = store as? any CustodyManifestStore {
            problems += try await Self.checkManifests(manifests, anchors: funnelAnchors.manifestImports)
        }
        if let duties = store as? any CustodyDutyStore {
            problems += try await Self.checkDuties(duties, anchors: funnelAnchors.duties)
        }
        if let privacy = store as? any CustodyPrivacyStore {
            problems += try await Self.checkDetentions(privacy, anchors: detentionAnchors, purgeAnchors: purgeAnchors, settingAnchor: retentionAnchor)
        }

        // Signed checkpoints (issue 16): the archive's own, and a witness's copy when given.
        progress?("checking signed checkpoints")
        let checkpoints = CheckpointService(archive: archive)
        let own = try await checkpoints.checkArchive()
        problems += own.problems
        if let witness { problems += try await checkpoints.check(witness.checkpoints, source: witness.source, witness: true) }

        problems.sort { ($0.item, $0.code) < ($1.item, $1.code) }
        var report = VerificationReport(ok: problems.isEmpty, blobsChecked: blobCount, blobBytes: blobBytes,
                                        bytesHashed: blobBytes + recordBytes, messagesChecked: messageCount,
                                        batchesChecked: batchesChecked, dispositionsChecked: dispositionsChecked, unanchoredBatches: unanchored,
                                        auditEntriesChecked: auditCount,
                                        auditHead: auditCount > 0 ? chain.previous?.hex : nil,
                                        seconds: Date().timeIntervalSince(started), problems: problems)
        report.notYetIndexed = indexLag.pending
        report.custodyEventsChecked = custodyEventsChecked
        report.destroyedKeptUnderLock = destroyedKeptUnderLock
        report.dispositionsFinished = finished
        report.checkpointsChecked = own.checked
        report.checkpointKeyChanges = own.keyChanges + (own.keyNotChecked.map { [$0] } ?? [])
        report.witnessCheckpointsChecked = witness?.checkpoints.count
        // Sealed at rest: counted from the data keys (those of destroyed blobs are gone).
        var keys = 0
        var afterKey: ContentHash?
        while true {
            let page = try await store.blobKeys(after: afterKey, limit: 5000)
            guard let last = page.last else { break }
            keys += page.count
            afterKey = last.hash
        }
        if keys > 0 || archive.blobs.sealer?.seals == true { report.blobsSealed = min(keys, blobCount) }
        try await store.appendAudit(AuditDraft(actor: actor, action: "verify", target: "archive", detail: [
            "ok": String(report.ok), "problems": String(problems.count), "blobs": String(blobCount),
            "messages": String(messageCount), "audit_entries": String(auditCount), "audit_head": report.auditHead ?? "",
        ]))
        // Records missing or altered outside a lawful disposition: a 36 CFR 1230.14 incident.
        if !report.ok { _ = try await IncidentService(archive: archive).openFromVerify(report, actor: actor) }
        return report
    }
}

extension VerifyService {
    /// Detentions and the addressee particulars: each detention and step as its audit entry
    /// recorded it; each sealed record still hashing to what its notice's entry recorded; a record
    /// gone only by a purge (a tombstone with the same hash); each purge's tombstones still
    /// digesting to its anchor. Needs no key: the hashes are over the sealed bytes.
    static func checkDetentions(_ store: any CustodyPrivacyStore, anchors: [Int64: [String: [String: String]]],
                                purgeAnchors: [Int64: (detail: [String: String], sequence: Int64)],
                                settingAnchor: String? = nil) async throws -> [VerificationProblem] {
        var problems: [VerificationProblem] = []
        func altered(_ id: Int64, _ why: String) {
            problems.append(.init(code: "custody_detention_altered", item: "custody-detention:\(id)", detail: why))
        }
        let detentions = try await store.detentions(from: Int64.min, to: Int64.max)
        var seen = Set<Int64>()
        for d in detentions {
            seen.insert(d.id)
            let a = anchors[d.id] ?? [:]
            let detain = a["custody.detain"]
            if detain?["s10"] != d.s10 { altered(d.id, "detention \(d.id) now names \(d.s10), not the item its audit entry recorded") }
            if detain?["violation"] != d.violationType || detain?["reason"] != d.reasonCode || detain?["contents"] != d.contentsCategory
                || detain?["detained_at"] != String(d.detainedAtMillis) || detain?["by"] != d.detainedBy {
                altered(d.id, "detention \(d.id) of \(d.s10) no longer says what its audit entry recorded (violation, reason, contents, time, officer)")
            }
            let notice = a["custody.detention.notice"]
            if (notice == nil) != (d.noticeSentAtMillis == nil) || (notice != nil && (notice?["sent_at"] != d.noticeSentAtMillis.map(String.init)
                || notice?["due_at"] != d.responseDueAtMillis.map(String.init) || notice?["by"] != d.noticeSentBy)) {
                altered(d.id, "the notice of detention \(d.id) is not what the audit log recorded")
            }
            let response = a["custody.detention.response"]
            if (response == nil) != (d.response == nil) || (response != nil && (response?["response"] != d.response || response?["at"] != d.responseAtMillis.map(String.init))) {
                altered(d.id, "the answer to detention \(d.id) is not what the audit log recorded")
            }
            let disposal = a["custody.detention.dispose"]
            if (disposal == nil) != (d.disposition == nil) || (disposal != nil && (disposal?["disposition"] != d.disposition
                || disposal?["at"] != d.disposedAtMillis.map(String.init) || disposal?["by"] != d.disposedBy || (disposal?["witness"] ?? "") != (d.witness ?? ""))) {
                altered(d.id, "the disposition of detention \(d.id) is not what the audit log recorded")
            }
        }
        for id in anchors.keys where !seen.contains(id) {
            problems.append(.init(code: "custody_detention_missing", item: "custody-detention:\(id)", detail: "recorded in the audit log, gone from the detentions"))
        }
        // Sealed particulars held now.
        let status = try await store.addresseeStatus(detentionIDs: Array(anchors.keys))
        var held = Set<Int64>()
        for (id, sealed) in try await store.addresseeSeals() {
            held.insert(id)
            let recorded = anchors[id]?["custody.detention.notice"]?["sealed_sha256"]
            if sealed.currentSHA256 != sealed.sealedSHA256 || recorded != sealed.sealedSHA256 {
                problems.append(.init(code: "custody_addressee_altered", item: "custody-detention:\(id)",
                                      detail: "the sealed addressee particulars no longer hash to what the notice's audit entry recorded"))
            }
        }
        // Purges: tombstones digest to the anchor; a record that left did so by a purge.
        var tombstoned: [Int64: String] = [:]
        var purgeIDs = Set<Int64>()
        for p in try await store.addresseePurges() {
            purgeIDs.insert(p.id)
            let tombstones = try await store.addresseeTombstones(purgeID: p.id)
            for t in tombstones { tombstoned[t.detentionID] = t.sealedSHA256 }
            let digest = AddresseeTombstone.digest(tombstones)
            let anchor = purgeAnchors[p.id]
            let rebuilt = StoredAddresseePurge.certificate(id: p.id, atMillis: p.purgedAtMillis, actor: p.purgedBy, retentionDays: p.retentionDays,
                                                           cutoffMillis: p.cutoffMillis, tombstones: tombstones)
            if digest != p.digest || tombstones.count != p.count || anchor?.detail["digest"] != p.digest || anchor?.detail["count"] != String(p.count)
                || rebuilt != p.certificate {
                problems.append(.init(code: "custody_purge_altered", item: "custody-pii-purge:\(p.id)",
                                      detail: "purge \(p.id)'s tombstones or certificate no longer match what its audit entry recorded"))
            }
        }
        // The retention in force is the one the audit log last recorded (a lowered setting would purge early, looking lawful).
        if let recorded = settingAnchor, try await String(store.addresseeRetentionDays()) != recorded {
            problems.append(.init(code: "custody_setting_altered", item: "custody-setting:\(PrivacyPolicy.retentionSetting)",
                                  detail: "the addressee retention in force is not the one its last audit entry recorded (\(recorded) days)"))
        }
        for (id, a) in purgeAnchors where !purgeIDs.contains(id) {
            problems.append(.init(code: "custody_purge_missing", item: "custody-pii-purge:\(id)", detail: "recorded by audit entry \(a.sequence), gone from the purges"))
        }
        for (id, a) in anchors {
            guard let sha = a["custody.detention.notice"]?["sealed_sha256"], !held.contains(id) else { continue }
            if let t = tombstoned[id] {
                if t != sha {
                    problems.append(.init(code: "custody_addressee_altered", item: "custody-detention:\(id)",
                                          detail: "the purge's tombstone names other particulars than the notice recorded"))
                }
            } else {
                // Gone, and no purge the audit log recorded names it (a tombstone written by hand does not count).
                problems.append(.init(code: "custody_addressee_missing", item: "custody-detention:\(id)",
                                      detail: status[id] == .purged ? "the addressee particulars are gone; their tombstone belongs to no recorded purge"
                                                                    : "the addressee particulars are gone without a purge (no tombstone)"))
            }
        }
        return problems
    }
}

extension VerifyService {
    /// Referrals and their steps as their audit entries recorded them.
    static func checkReferrals(_ store: any CustodyReferralStore, anchors: [Int64: [String: [String: String]]]) async throws -> [VerificationProblem] {
        var problems: [VerificationProblem] = []
        var seen = Set<Int64>()
        for r in try await store.referrals(from: Int64.min, to: Int64.max) {
            seen.insert(r.id)
            let a = anchors[r.id] ?? [:]
            let refer = a["custody.refer"]
            var wrong: [String] = []
            if refer?["s10"] != r.s10 || refer?["agency"] != r.agency || refer?["method"] != r.method || refer?["violation"] != (r.violationType ?? "")
                || refer?["notified_at"] != String(r.notifiedAtMillis) || refer?["by"] != r.notifiedBy { wrong.append("the referral") }
            for (action, at, by) in [("custody.referral.response", r.respondedAtMillis, r.respondedBy), ("custody.referral.collected", r.collectedAtMillis, r.collectedBy),
                                     ("custody.referral.declined", r.declinedAtMillis, r.declinedBy)] {
                let e = a[action]
                if (e == nil) != (at == nil) || (e != nil && (e?["at"] != at.map(String.init) || e?["by"] != by)) { wrong.append(String(action.dropFirst("custody.referral.".count))) }
            }
            if a["custody.referral.declined"].map({ $0["note_sha256"] != StoredReferral.noteHash(r.declineReason) }) ?? false { wrong.append("the reason it was declined") }
            if !wrong.isEmpty {
                problems.append(.init(code: "custody_referral_altered", item: "custody-referral:\(r.id)",
                                      detail: "referral \(r.id) of \(r.s10): \(wrong.joined(separator: ", ")) not as the audit log recorded"))
            }
        }
        for id in anchors.keys where !seen.contains(id) {
            problems.append(.init(code: "custody_referral_missing", item: "custody-referral:\(id)", detail: "recorded in the audit log, gone from the referrals"))
        }
        return problems
    }

    /// What the audit log recorded of the funnel's inputs.
    struct FunnelAnchors {
        var imports: [Int64: (detail: [String: String], sequence: Int64)] = [:]
        var requests: [Int64: (detail: [String: String], sequence: Int64)] = [:]
        var coi: String?
        var duties: [Int64: (detail: [String: String], sequence: Int64)] = [:]
        var aedImports: [Int64: (detail: [String: String], sequence: Int64)] = [:]
        var manifestImports: [Int64: (detail: [String: String], sequence: Int64)] = [:]
        /// Each setting key's entries in order: the value set, the reason, who.
        var settings: [String: [(value: String, reason: String, by: String)]] = [:]

        mutating func recordSetting(_ key: String, _ detail: [String: String], by: String) {
            settings[key, default: []].append((detail["new"] ?? "", detail["reason"] ?? "", by))
        }
    }

    /// The funnel's inputs (R-FUN): each carrier-count import's counts still digesting to what its
    /// audit entry recorded, none gone; each category request as recorded, none added or removed
    /// behind the log's back; the countries-of-interest list in force the one last recorded.
    static func checkFunnel(_ store: any CustodyFunnelStore, anchors: FunnelAnchors) async throws -> [VerificationProblem] {
        var problems: [VerificationProblem] = []
        var imports = Set<Int64>()
        for i in try await store.arrivalImports() {
            imports.insert(i.id)
            let digest = StoredCarrierCount.digest(try await store.carrierCounts(importID: i.id))
            let a = anchors.imports[i.id]?.detail
            if digest != i.digest || a?["digest"] != digest {
                problems.append(.init(code: "custody_import_altered", item: "custody-import:\(i.id)",
                                      detail: "the carrier counts of import \(i.id) (\(i.fileName)) no longer digest to what its audit entry recorded"))
            } else if a?["file_sha256"] != i.fileHash || a?["rows"] != String(i.rowsTotal) || a?["added"] != String(i.added) || a?["rejected"] != String(i.rejected) {
                problems.append(.init(code: "custody_import_altered", item: "custody-import:\(i.id)",
                                      detail: "import \(i.id) (\(i.fileName)): its file hash or counts are not what its audit entry recorded"))
            }
        }
        let stray = try await store.carrierCountsOutsideArrivalImports()
        if stray > 0 {
            problems.append(.init(code: "custody_carrier_count_unanchored", item: "custody_carrier_count",
                                  detail: "\(stray) carrier count(s) belong to no carrier-count import"))
        }
        for (id, a) in anchors.imports where !imports.contains(id) {
            problems.append(.init(code: "custody_import_missing", item: "custody-import:\(id)", detail: "recorded by audit entry \(a.sequence), gone from the imports"))
        }
        var requests = Set<Int64>()
        for r in try await store.bulkRequests(fromDay: "0000-01-01", toDay: "9999-99-99") {
            requests.insert(r.id)
            let item = "custody-bulk-request:\(r.id)"
            guard let a = anchors.requests[r.id] else {
                problems.append(.init(code: "custody_bulk_request_unanchored", item: item, detail: "category request \(r.id) has no audit entry recording it"))
                continue
            }
            if a.detail != r.auditDetail.merging(["by": r.requestedBy]) { x, _ in x } {
                problems.append(.init(code: "custody_bulk_request_altered", item: item,
                                      detail: "category request \(r.id) (\(r.day) \(r.originCountry) \(r.mailClass)) is not what audit entry \(a.sequence) recorded"))
            }
        }
        for (id, a) in anchors.requests where !requests.contains(id) {
            problems.append(.init(code: "custody_bulk_request_missing", item: "custody-bulk-request:\(id)", detail: "recorded by audit entry \(a.sequence), gone from the category requests"))
        }
        // Every setting row, not only the one in force: each as its entry recorded it, in order.
        var rows: [String: [StoredCustodySetting]] = [:]
        for r in try await store.settingHistory() { rows[r.key, default: []].append(r) }
        for key in Set(rows.keys).union(anchors.settings.keys).sorted() {
            let held = rows[key] ?? [], recorded = anchors.settings[key] ?? []
            let same = held.count == recorded.count && zip(held, recorded).allSatisfy { $0.value == $1.value && $0.reason == $1.reason && $0.setBy == $1.by }
            if !same {
                problems.append(.init(code: "custody_setting_altered", item: "custody-setting:\(key)",
                                      detail: "the history of \(key) (\(held.count) row(s)) is not what the audit log recorded (\(recorded.count) change(s))"))
            }
        }
        let coi = COISetting.value(try await store.coiCountries())
        if coi != (anchors.coi ?? "") {
            problems.append(.init(code: "custody_setting_altered", item: "custody-setting:\(COISetting.key)",
                                  detail: "the countries of interest in force (\(coi.isEmpty ? "none" : coi)) are not the list its last audit entry recorded"))
        }
        return problems
    }

    /// Duty assessments, each as its audit entry recorded it, none added or removed behind the log's back.
    static func checkDuties(_ store: any CustodyDutyStore, anchors: [Int64: (detail: [String: String], sequence: Int64)]) async throws -> [VerificationProblem] {
        var problems: [VerificationProblem] = []
        var seen = Set<Int64>()
        for d in try await store.dutyAssessments(from: Int64.min, to: Int64.max) {
            seen.insert(d.id)
            let item = "custody-duty:\(d.id)"
            guard let a = anchors[d.id] else {
                problems.append(.init(code: "custody_duty_unanchored", item: item, detail: "the assessment on \(d.s10) has no audit entry recording it"))
                continue
            }
            if a.detail != d.auditDetail.merging(["by": d.assessedBy], uniquingKeysWith: { x, _ in x }) {
                problems.append(.init(code: "custody_duty_altered", item: item, detail: "the assessment on \(d.s10) is not what audit entry \(a.sequence) recorded"))
            }
        }
        for (id, a) in anchors where !seen.contains(id) {
            problems.append(.init(code: "custody_duty_missing", item: "custody-duty:\(id)", detail: "recorded by audit entry \(a.sequence), gone from the assessments"))
        }
        return problems
    }

    /// Advance-data imports: each one's rows still digesting to what its audit entry recorded, its
    /// file hash and counts as recorded, none gone.
    static func checkAdvanceData(_ store: any CustodyAdvanceDataStore, anchors: [Int64: (detail: [String: String], sequence: Int64)]) async throws -> [VerificationProblem] {
        var problems = try await checkRowImports(try await store.aedImports(), anchors: anchors, what: "advance data") {
            StoredAdvanceData.digest(try await store.advanceData(importID: $0))
        }
        let stray = try await store.advanceDataOutsideImports()
        if stray > 0 {
            problems.append(.init(code: "custody_aed_unanchored", item: "custody_aed", detail: "\(stray) advance-data row(s) belong to no advance-data import"))
        }
        return problems
    }

    /// Carrier manifests: each import's rows still digesting to what its audit entry recorded, none gone.
    static func checkManifests(_ store: any CustodyManifestStore, anchors: [Int64: (detail: [String: String], sequence: Int64)]) async throws -> [VerificationProblem] {
        var problems = try await checkRowImports(try await store.manifestImports(), anchors: anchors, what: "manifest") {
            StoredManifestRow.digest(try await store.manifestRows(importID: $0))
        }
        let stray = try await store.manifestRowsOutsideImports()
        if stray > 0 {
            problems.append(.init(code: "custody_manifest_unanchored", item: "custody_manifest", detail: "\(stray) manifest row(s) belong to no manifest import"))
        }
        return problems
    }

    /// Imports kept row by row (advance data, manifests): each one's rows digest to what its audit
    /// entry recorded, with its file hash and counts as recorded; none recorded is gone.
    static func checkRowImports(_ imports: [StoredTargetImport], anchors: [Int64: (detail: [String: String], sequence: Int64)], what: String,
                                digest rowsDigest: (Int64) async throws -> String) async throws -> [VerificationProblem] {
        var problems: [VerificationProblem] = []
        var seen = Set<Int64>()
        for i in imports {
            seen.insert(i.id)
            let digest = try await rowsDigest(i.id)
            let a = anchors[i.id]?.detail
            if digest != i.digest || a?["digest"] != digest || a?["file_sha256"] != i.fileHash || a?["rows"] != String(i.rowsTotal)
                || a?["added"] != String(i.added) || a?["rejected"] != String(i.rejected) {
                problems.append(.init(code: "custody_import_altered", item: "custody-import:\(i.id)",
                                      detail: "the \(what) of import \(i.id) (\(i.fileName)) is not what its audit entry recorded"))
            }
        }
        for (id, a) in anchors where !seen.contains(id) {
            problems.append(.init(code: "custody_import_missing", item: "custody-import:\(id)", detail: "recorded by audit entry \(a.sequence), gone from the imports"))
        }
        return problems
    }
}
