import Archive
import Foundation
import RecordkeeperCore

/// Custody events checked against the hashes their audit entries recorded, while the audit chain
/// is read (CUSTODY.md §7 P5: 100M audit entries). An event and its entry are written in one
/// transaction, so the chain names events in (nearly) ascending id order: the events are read in
/// id order just behind the anchors, each anchor is dropped once its event is checked, and what
/// is held at any moment is the few anchors and events not yet paired, not every event of the
/// archive. Any order is still checked correctly; only memory would grow.
struct CustodyEventStream {
    let store: any CustodyStore
    /// Anchors whose event has not been read yet: event id → (hash, audit sequence).
    private var pending: [Int64: (hash: String, sequence: Int64)] = [:]
    /// Events read before their anchor: id → what to report, the recomputed and the stored hash.
    private var early: [Int64: (what: String, computed: String, stored: String)] = [:]
    private var after: Int64 = 0
    private var exhausted = false
    private var highestAnchor: Int64 = 0
    private(set) var checked = 0
    private(set) var problems: [VerificationProblem] = []
    /// Return batches tallied on the way (the whole archive's verify only).
    var returnBatches: ReturnBatchTally?
    /// Only the events with these ids (a day's verify); nil: all.
    let only: ClosedRange<Int64>?

    init(store: any CustodyStore, only: ClosedRange<Int64>? = nil) {
        self.store = store
        self.only = only
        if let only { after = only.lowerBound - 1 } else { returnBatches = ReturnBatchTally() }
    }

    mutating func anchor(event id: Int64, hash: String, sequence: Int64) {
        if let e = early.removeValue(forKey: id) {
            compare(id, e, anchor: (hash, sequence))
        } else {
            pending[id] = (hash, sequence)
        }
        highestAnchor = max(highestAnchor, id)
    }

    private mutating func compare(_ id: Int64, _ e: (what: String, computed: String, stored: String), anchor: (hash: String, sequence: Int64)) {
        if e.computed != anchor.hash || e.stored != anchor.hash {
            problems.append(.init(code: "custody_event_altered", item: "custody-event:\(id)",
                                  detail: "\(e.what) no longer hashes to what audit entry \(anchor.sequence) recorded"))
        }
    }

    /// Reads and checks the events up to the highest id anchored so far.
    mutating func catchUp() async throws { try await read(through: highestAnchor) }

    private mutating func read(through limit: Int64) async throws {
        let end = min(limit, only?.upperBound ?? .max)
        while !exhausted, after < end {
            var page = try await store.custodyEvents(afterID: after, limit: 5000)
            if let only { page = page.filter { $0.id <= only.upperBound } }
            guard let last = page.last else { exhausted = true; return }
            after = last.id
            if var tally = returnBatches {
                try await tally.add(page, through: last.id, store: store)
                returnBatches = tally
            }
            let hashes = try await Self.hashes(page)
            for (e, computed) in zip(page, hashes) {
                checked += 1
                let what = (what: "\(e.type) of \(e.s10)", computed: computed, stored: e.hash)
                if let a = pending.removeValue(forKey: e.id) { compare(e.id, what, anchor: a) } else { early[e.id] = what }
            }
            if let only, last.id >= only.upperBound { exhausted = true }
        }
    }

    /// After the chain: the remaining events are read; anchors with no event are missing events,
    /// events with no anchor are unanchored.
    mutating func finish() async throws -> [VerificationProblem] {
        try await read(through: .max)
        for (id, a) in pending.sorted(by: { $0.key < $1.key }) {
            problems.append(.init(code: "custody_event_missing", item: "custody-event:\(id)",
                                  detail: "recorded by audit entry \(a.sequence), gone from the custody events"))
        }
        for (id, e) in early.sorted(by: { $0.key < $1.key }) {
            problems.append(.init(code: "custody_event_unanchored", item: "custody-event:\(id)", detail: "\(e.what) has no audit entry recording it"))
        }
        pending = [:]; early = [:]
        return problems
    }

    /// The events of a page hashed on every core, in the page's order.
    static func hashes(_ page: [StoredCustodyEvent]) async throws -> [String] {
        let workers = max(1, min(ProcessInfo.processInfo.activeProcessorCount, 8, page.count / 500))
        guard workers > 1 else { return page.map { ContentHash.of($0.canonical).hex } }
        return try await withThrowingTaskGroup(of: (Int, [String]).self) { group in
            let span = (page.count + workers - 1) / workers
            for w in 0..<workers {
                let slice = Array(page[min(page.count, w * span)..<min(page.count, (w + 1) * span)])
                group.addTask { (w, slice.map { ContentHash.of($0.canonical).hex }) }
            }
            var parts = [[String]](repeating: [], count: workers)
            for try await (w, part) in group { parts[w] = part }
            return parts.flatMap { $0 }
        }
    }
}
