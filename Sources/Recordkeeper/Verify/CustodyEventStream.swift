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
    private var early: [Int64: (what: String, computed: String, stored: String, item: Int64)] = [:]
    private var after: Int64 = 0
    private var highestAnchor: Int64 = 0
    private(set) var checked = 0
    private(set) var problems: [VerificationProblem] = []
    /// Return batches tallied on the way (the whole archive's verify only).
    var returnBatches: ReturnBatchTally?
    /// A day's verify: the events from the first anchored to the last are read in order; the ids
    /// of the events recorded in the period that fall outside that run are looked up one by one.
    let windowed: Bool
    let recorded: [Int64]
    private var low: Int64?
    /// Where an event at the edge of a day's part of the chain is looked up.
    let log: (any ArchiveStore)?

    /// The whole archive: every event, from the first.
    init(store: any CustodyStore) {
        self.store = store
        self.windowed = false
        self.recorded = []
        self.log = nil
        self.low = 1
        self.returnBatches = ReturnBatchTally()
    }

    /// A day's part of the chain.
    init(store: any CustodyStore, window recorded: [Int64], log: any ArchiveStore) {
        self.store = store
        self.windowed = true
        self.recorded = recorded
        self.log = log
    }

    mutating func anchor(event id: Int64, hash: String, sequence: Int64) {
        if let e = early.removeValue(forKey: id) {
            compare(id, e, anchor: (hash, sequence))
        } else {
            pending[id] = (hash, sequence)
        }
        highestAnchor = max(highestAnchor, id)
        if low == nil {
            low = id
            after = id - 1
        }
    }

    private mutating func compare(_ id: Int64, _ e: (what: String, computed: String, stored: String, item: Int64), anchor: (hash: String, sequence: Int64)) {
        if e.computed != anchor.hash || e.stored != anchor.hash {
            problems.append(.init(code: "custody_event_altered", item: "custody-event:\(id)",
                                  detail: "\(e.what) no longer hashes to what audit entry \(anchor.sequence) recorded"))
        }
    }

    /// Reads and checks the events up to the highest id anchored so far.
    mutating func catchUp() async throws { try await read(through: highestAnchor) }

    private mutating func read(through end: Int64) async throws {
        guard low != nil else { return }
        while after < end {
            let raw = try await store.custodyEvents(afterID: after, limit: 5000)
            guard !raw.isEmpty else { return }
            let page = windowed ? raw.filter { $0.id <= end } : raw
            guard let last = page.last else { return }
            after = last.id
            let store = self.store
            try await returnBatches?.add(page, through: last.id, store: store)
            let hashes = try await Self.hashes(page)
            for (e, computed) in zip(page, hashes) {
                checked += 1
                let what = (what: "\(e.type) of \(e.s10)", computed: computed, stored: e.hash, item: e.itemID)
                if let a = pending.removeValue(forKey: e.id) { compare(e.id, what, anchor: a) } else { early[e.id] = what }
            }
        }
    }

    /// After the chain: the remaining events are read; anchors with no event are missing events,
    /// events with no anchor are unanchored.
    mutating func finish() async throws -> [VerificationProblem] {
        if windowed {
            if low != nil { try await read(through: highestAnchor) }
            // Anchored here but before the first anchored event (concurrent writers), or recorded in
            // the period outside the run read: each looked up by id.
            let run = low.map { $0...max($0, highestAnchor) }
            var lookups = Set(pending.keys.filter { !(run?.contains($0) ?? false) })
            lookups.formUnion(recorded.filter { !(run?.contains($0) ?? false) })
            for id in lookups.sorted() {
                guard let e = try await store.custodyEvents(afterID: id - 1, limit: 1).first, e.id == id else { continue }
                checked += 1
                let what = (what: "\(e.type) of \(e.s10)", computed: ContentHash.of(e.canonical).hex, stored: e.hash, item: e.itemID)
                if let a = pending.removeValue(forKey: id) { compare(id, what, anchor: a) } else { early[id] = what }
            }
        } else {
            try await read(through: .max)
        }
        for (id, a) in pending.sorted(by: { $0.key < $1.key }) {
            // Left over: the event is gone, or it was already paired with another entry (only a
            // forged entry names an event twice); one lookup tells which.
            if let e = try await store.custodyEvents(afterID: id - 1, limit: 1).first, e.id == id {
                problems.append(.init(code: "custody_event_anchored_twice", item: "custody-event:\(id)",
                                      detail: "\(e.type) of \(e.s10) is named again by audit entry \(a.sequence)"))
            } else {
                problems.append(.init(code: "custody_event_missing", item: "custody-event:\(id)",
                                      detail: "recorded by audit entry \(a.sequence), gone from the custody events"))
            }
        }
        for (id, e) in early.sorted(by: { $0.key < $1.key }) {
            // A day's verify reads only that day's part of the chain: an event at its edge may be
            // anchored just outside it, so it is looked up by its item.
            if windowed, let log, let a = try await Self.anchor(of: id, item: e.item, in: log) {
                compare(id, e, anchor: a)
                continue
            }
            problems.append(.init(code: "custody_event_unanchored", item: "custody-event:\(id)", detail: "\(e.what) has no audit entry recording it"))
        }
        pending = [:]; early = [:]
        return problems
    }

    /// The audit entry that recorded event `id` of `item`, found through the log's target index.
    static func anchor(of id: Int64, item: Int64, in store: any ArchiveStore) async throws -> (hash: String, sequence: Int64)? {
        // The entry must still hash to itself: it lies outside the part of the chain checked.
        for e in try await store.auditEntries(target: "custody-item:\(item)", limit: 10_000) where e.action.hasPrefix("custody.") && e.computeHash() == e.hash {
            if let d = try? JSONDecoder().decode([String: String].self, from: Data(e.detail.utf8)), d["event"] == String(id), let hash = d["hash"] {
                return (hash, e.sequence)
            }
        }
        return nil
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
