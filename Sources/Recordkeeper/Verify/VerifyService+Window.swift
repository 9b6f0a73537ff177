import Archive
import Foundation
import RecordkeeperCore

/// What a verification of a period covered (`verify --day`), and what it leaves to the whole
/// archive's verify.
public struct VerificationWindow: Sendable, Codable, Equatable {
    public var from: String
    public var to: String
    /// The part of the audit chain written in the period (nil: none).
    public var firstSequence: Int64?
    public var lastSequence: Int64?
    /// Target, advance-data, carrier-count and manifest imports whose rows were digested again.
    public var importsChecked = 0
    public var notChecked: [String] = VerificationWindow.leftToTheWholeVerify

    public static let leftToTheWholeVerify = [
        "blobs and each message's content hash (the day's ingest batches are checked by their anchors)",
        "records anchored by audit entries of other days, and records deleted with the audit entries that named them only",
        "custody records other than events and imports (seizures, containers, detentions, referrals, settings), and the checks across days (return batches, episodes closed without an event)",
        "the search index",
        "signed checkpoints and the batches they vouch for (and a witness's copy: verify --against)",
    ]
}

extension VerifyService {
    /// Verifies what was written in [from, to) — CUSTODY.md §7 P5, "verification of one day":
    /// the part of the audit chain written then (each entry's hash, the sequence, the link from the
    /// entry before it), every custody event that part anchors or that was recorded in the period
    /// (hashed again, against its entry), the ingest batches it anchors (their messages' digest)
    /// and the custody imports it anchors (their rows' digest). Days verified one after another
    /// cover the chain exactly once: a day's part runs from the first entry stamped at or after its
    /// start to the first stamped at or after its end, found by bisecting the sequence. What it
    /// leaves to the whole verify is listed in the report (`window.notChecked`).
    public func verifyWindow(from: Int64, to: Int64, actor: String, progress: (@Sendable (String) -> Void)? = nil) async throws -> VerificationReport {
        guard from < to else { throw ArchiveError(.invalid, "the period's start is not before its end") }
        let started = Date()
        let store = archive.store
        var problems: [VerificationProblem] = []
        var window = VerificationWindow(from: Timestamp.iso(millis: from), to: Timestamp.iso(millis: to))
        let last = try await Self.lastSequence(store)
        let first = try await Self.firstSequence(stampedAtOrAfter: window.from, last: last, in: store)
        let end = try await Self.firstSequence(stampedAtOrAfter: window.to, last: last, in: store) ?? (last + 1)

        // The custody events recorded in the period, whatever the chain says.
        let custody = store as? any CustodyStore
        let recorded = try await custody?.custodyEventIDs(from: from, to: to) ?? []
        var events = custody.map { CustodyEventStream(store: $0, window: recorded, log: store) }

        var auditCount = 0
        var bytes: Int64 = 0
        var batchAnchors: [(id: Int64, digest: String, sequence: Int64)] = []
        var importAnchors: [(id: Int64, action: String, detail: [String: String], sequence: Int64)] = []
        if let first, first < end {
            // The link into the period: from the entry just before it (none is missing before the first).
            var previous: ContentHash? = AuditEntry.genesis
            if first > 1 {
                if let before = try await store.auditEntries(afterSequence: first - 2, limit: 1).first, before.sequence == first - 1 {
                    previous = before.hash
                } else {
                    let kept = try await store.auditEntries(afterSequence: 0, limit: 1).first.map { $0.sequence < first ? "entry \($0.sequence) is the last before them" : "none is kept before them" }
                    problems.append(.init(code: "audit_gap", item: "audit:\(first - 1)", detail: "entries before the period's first (\(first)) are missing; \(kept ?? "the log is empty")"))
                    previous = nil
                }
            }
            var chain = AuditChainCheck(expected: first, previous: previous)
            var seq = first - 1
            reading: while true {
                let page = try await store.auditEntries(afterSequence: seq, limit: 5000).filter { $0.sequence < end }
                guard let lastOfPage = page.last else { break }
                seq = lastOfPage.sequence
                for (e, check) in zip(page, try await Self.auditChecks(page)) {
                    auditCount += 1
                    bytes += Int64(e.detail.utf8.count + e.action.utf8.count + e.target.utf8.count + 200)
                    problems += chain.check(e, hashes: check.hashes)
                    if let d = check.detail {
                        if let id = d["event"].flatMap(Int64.init), let hash = d["hash"] {
                            events?.anchor(event: id, hash: hash, sequence: e.sequence)
                        } else if ["custody.import", "custody.aed.import", "custody.manifest.import", "custody.arrivals.import"].contains(e.action),
                                  let id = Int64(e.target.dropFirst("custody-import:".count)) {
                            importAnchors.append((id, e.action, d, e.sequence))
                        }
                    } else if e.action == "ingest", let id = Int64(e.target.dropFirst("batch:".count)),
                              let d = try? JSONDecoder().decode([String: String].self, from: Data(e.detail.utf8)), let digest = d["batch_digest"] {
                        batchAnchors.append((id, digest, e.sequence))
                    }
                }
                try await events?.catchUp()
                progress?("audit entries: \(auditCount) checked")
                if page.count < 5000 && seq + 1 >= end { break reading }
            }
            if chain.expected < end {
                problems.append(.init(code: "audit_gap", item: "audit:\(end - 1)", detail: "entries \(chain.expected)…\(end - 1) are missing"))
            }
            // The link out of the period: the next entry must name the period's last one as it is,
            // or the last entry was rewritten with a fresh hash.
            if let previous = chain.previous, let next = try await store.auditEntries(afterSequence: end - 1, limit: 1).first, next.sequence == end, next.previousHash != previous {
                problems.append(.init(code: "audit_broken_link", item: "audit:\(end)",
                                      detail: "the entry after the period does not link to its last entry (\(end - 1)): one of the two was rewritten"))
            }
            window.firstSequence = first
            window.lastSequence = end - 1
        }
        var custodyEventsChecked = 0
        if var stream = events {
            problems += try await stream.finish()
            custodyEventsChecked = stream.checked
        }

        // The day's ingest batches: their messages still digest to the anchor.
        for b in batchAnchors {
            let actual = try await store.batchDigest(batchID: b.id)
            if actual.digest.hex != b.digest {
                problems.append(.init(code: "batch_messages_altered", item: "batch:\(b.id)",
                                      detail: "the batch's messages or key fields no longer match the anchor in audit entry \(b.sequence)"))
            }
        }
        // The day's custody imports: each still recorded, its rows digesting to what the entry
        // recorded, its file hash and counts as recorded.
        var records: [String: [Int64: StoredTargetImport]] = [:]
        func record(_ action: String, _ id: Int64) async throws -> StoredTargetImport? {
            if records[action] == nil {
                let list: [StoredTargetImport] = switch action {
                case "custody.import": try await custody?.targetImports() ?? []
                case "custody.aed.import": try await (store as? any CustodyAdvanceDataStore)?.aedImports() ?? []
                case "custody.manifest.import": try await (store as? any CustodyManifestStore)?.manifestImports() ?? []
                default: try await (store as? any CustodyFunnelStore)?.arrivalImports() ?? []
                }
                records[action] = Dictionary(list.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
            }
            return records[action]?[id]
        }
        for i in importAnchors {
            window.importsChecked += 1
            guard let held = try await record(i.action, i.id) else {
                problems.append(.init(code: "custody_import_missing", item: "custody-import:\(i.id)", detail: "recorded by audit entry \(i.sequence), gone from the imports"))
                continue
            }
            let digest: String
            switch i.action {
            case "custody.import":
                var hasher = StreamingHasher()
                for t in try await custody?.targets(importID: i.id) ?? [] { t.canonical.withUnsafeBytes { hasher.update($0) } }
                digest = hasher.finalize().hex
            case "custody.aed.import":
                digest = StoredAdvanceData.digest(try await (store as? any CustodyAdvanceDataStore)?.advanceData(importID: i.id) ?? [])
            case "custody.manifest.import":
                digest = StoredManifestRow.digest(try await (store as? any CustodyManifestStore)?.manifestRows(importID: i.id) ?? [])
            default:
                digest = StoredCarrierCount.digest(try await (store as? any CustodyFunnelStore)?.carrierCounts(importID: i.id) ?? [])
            }
            let d = i.detail
            if digest != d["digest"] || held.digest != digest || d["file_sha256"] != held.fileHash || d["rows"] != String(held.rowsTotal)
                || d["added"] != String(held.added) || d["rejected"] != String(held.rejected) {
                problems.append(.init(code: "custody_import_altered", item: "custody-import:\(i.id)",
                                      detail: "import \(i.id) (\(held.fileName)): its rows, file hash or counts are not what audit entry \(i.sequence) recorded"))
            }
        }

        problems.sort { ($0.item, $0.code) < ($1.item, $1.code) }
        var report = VerificationReport(ok: problems.isEmpty, blobsChecked: 0, blobBytes: 0, bytesHashed: bytes, messagesChecked: 0,
                                        batchesChecked: batchAnchors.count, dispositionsChecked: 0, unanchoredBatches: [], auditEntriesChecked: auditCount,
                                        auditHead: nil, seconds: Date().timeIntervalSince(started), problems: problems)
        report.custodyEventsChecked = custodyEventsChecked
        report.window = window
        try await store.appendAudit(AuditDraft(actor: actor, action: "verify.window", target: "archive", detail: [
            "ok": String(report.ok), "problems": String(problems.count), "from": window.from, "to": window.to,
            "audit_entries": String(auditCount), "custody_events": String(custodyEventsChecked),
            "first_sequence": window.firstSequence.map(String.init) ?? "", "last_sequence": window.lastSequence.map(String.init) ?? "",
        ]))
        if !report.ok { _ = try await IncidentService(archive: archive).openFromVerify(report, actor: actor) }
        return report
    }

    /// The highest sequence of the audit log (0: empty), found by probing: no store keeps a count.
    static func lastSequence(_ store: any ArchiveStore) async throws -> Int64 {
        var low: Int64 = 0, high: Int64 = 1
        while try await !store.auditEntries(afterSequence: high - 1, limit: 1).isEmpty { low = high; high *= 2 }
        // An entry at or after `low` exists (or low is 0); none at or after `high`.
        while low + 1 < high {
            let mid = (low + high) / 2
            if try await store.auditEntries(afterSequence: mid - 1, limit: 1).isEmpty { high = mid } else { low = mid }
        }
        return try await store.auditEntries(afterSequence: max(0, low - 1), limit: 1).first?.sequence ?? 0
    }

    /// The first sequence whose entry is stamped at or after `time` (entries are stamped in order
    /// by the one writer of the chain), nil if none.
    static func firstSequence(stampedAtOrAfter time: String, last: Int64, in store: any ArchiveStore) async throws -> Int64? {
        var low: Int64 = 0, high = last + 1 // entries up to `low` are earlier; from `high` on, not
        while low + 1 < high {
            let mid = (low + high) / 2
            guard let e = try await store.auditEntries(afterSequence: mid - 1, limit: 1).first else { high = mid; continue }
            if e.at >= time { high = mid } else { low = max(mid, min(e.sequence, high - 1)) }
        }
        return high <= last ? try await store.auditEntries(afterSequence: high - 1, limit: 1).first?.sequence : nil
    }
}
