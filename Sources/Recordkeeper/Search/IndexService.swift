import Archive
import Foundation
import Logging
import RecordkeeperCore

/// Progress of bringing the search index up to date.
public struct IndexProgress: Sendable {
    /// Messages added to the index so far in this run.
    public var indexed: Int
    /// Messages still waiting when the run last looked.
    public var pending: Int
    public var elapsed: Double
}

/// Makes captured records findable: brings the full-text index up to date behind capture, in
/// batches, resumably, one indexer per archive at a time (a lease in the store).
///
/// Capture never waits for this. `ingest` runs it after capture (unless told not to), `serve`
/// runs it continuously (`BackgroundIndexer`), `recordkeeper index catch-up|rebuild` by hand.
public struct IndexService: Sendable {
    public let archive: ArchiveHandle
    /// Messages per index transaction: large enough that FTS5 merges little, small enough that a
    /// capture waiting for the writer waits well under a second.
    public var batchSize = IndexService.configuredBatchSize()
    /// The lease is held this long and renewed every batch; an indexer that dies frees it by expiry.
    public var leaseMillis: Int64 = 30_000
    static let leaseName = "search-indexer"
    let logger: Logger

    /// Environment variable: messages per index transaction (default 20,000). Smaller batches
    /// shorten the moments capture waits for the writer; larger ones index faster.
    public static let batchSizeVariable = "RECORDKEEPER_INDEX_BATCH"

    static func configuredBatchSize(environment: [String: String] = ProcessInfo.processInfo.environment) -> Int {
        environment[batchSizeVariable].flatMap(Int.init).map { max(1, $0) } ?? 20_000
    }

    public init(archive: ArchiveHandle, logger: Logger = Logger(label: "recordkeeper.index")) {
        self.archive = archive
        self.logger = logger
    }

    /// This process's name as a lease holder.
    static let holder: String = {
        let host = ProcessInfo.processInfo.hostName
        return "\(host):\(getpid()):\(UUID().uuidString.prefix(8))"
    }()

    /// True for a holder named by a process of this host that no longer exists.
    static func isDeadLocalHolder(_ holder: String) -> Bool {
        let parts = holder.split(separator: ":")
        guard parts.count >= 3, String(parts[parts.count - 3]) == ProcessInfo.processInfo.hostName,
              let pid = Int32(parts[parts.count - 2]), pid != getpid() else { return false }
        return kill(pid, 0) != 0 && errno == ESRCH
    }

    /// Takes or renews the indexer lease. A holder on this machine whose process is gone (killed
    /// mid-batch) is relieved of it now rather than when it expires.
    func acquireLease() async throws -> Bool {
        let store = archive.store
        if try await store.acquireLease(Self.leaseName, holder: Self.holder, ttlMillis: leaseMillis) { return true }
        guard let other = try await store.leaseHolder(Self.leaseName), Self.isDeadLocalHolder(other) else { return false }
        try await store.releaseLease(Self.leaseName, holder: other)
        return try await store.acquireLease(Self.leaseName, holder: Self.holder, ttlMillis: leaseMillis)
    }

    public func status() async throws -> IndexStatus { try await archive.store.indexStatus() }

    /// Indexes everything captured so far, then returns how many messages this call indexed.
    /// When another process holds the indexer lease, waits for it to finish instead (or takes
    /// over when its lease expires), so the caller returns only once the index has caught up
    /// with what was captured before the call.
    @discardableResult
    public func catchUp(progress: (@Sendable (IndexProgress) -> Void)? = nil) async throws -> Int {
        let store = archive.store
        let started = Date()
        let indexed: Int
        let target = try await store.indexStatus()
        guard target.pending > 0 else { return 0 }
        let targetMark = target.capturedThrough
        do {
            indexed = try await loop(targetMark: targetMark, started: started, progress: progress)
        } catch {
            try? await store.releaseLease(Self.leaseName, holder: Self.holder)
            throw error
        }
        try? await store.releaseLease(Self.leaseName, holder: Self.holder)
        if indexed > 0 {
            logger.info("index.caught_up", metadata: ["index.added": "\(indexed)", "index.seconds": "\(Int(Date().timeIntervalSince(started)))"])
        }
        return indexed
    }

    private func loop(targetMark: Int64, started: Date, progress: (@Sendable (IndexProgress) -> Void)?) async throws -> Int {
        let store = archive.store
        var indexed = 0
        while true {
            try Task.checkCancellation()
            guard try await acquireLease() else {
                // Another indexer is at work: wait until it has covered what we were asked to.
                let now = try await store.indexStatus()
                if now.pending == 0 || now.indexedThrough >= targetMark { break }
                progress?(IndexProgress(indexed: indexed, pending: now.pending, elapsed: Date().timeIntervalSince(started)))
                try await Task.sleep(for: .milliseconds(200))
                continue
            }
            let added = try await store.indexNext(limit: batchSize)
            indexed += added
            if added == 0 { break }
            let now = try await store.indexStatus()
            progress?(IndexProgress(indexed: indexed, pending: now.pending, elapsed: Date().timeIntervalSince(started)))
            if now.indexedThrough >= targetMark { break } // what was captured before the call is findable
        }
        return indexed
    }

    /// Empties the index and builds it again from every captured message (audited).
    public func rebuild(actor: String, progress: (@Sendable (IndexProgress) -> Void)? = nil) async throws -> Int {
        // Nobody else indexes while the index is emptied and rebuilt.
        guard try await acquireLease() else {
            let other = try await archive.store.leaseHolder(Self.leaseName) ?? "another process"
            throw ArchiveError(.busy, "the search index is being built by \(other); try again when it has finished")
        }
        try await archive.store.resetIndex()
        try await archive.store.appendAudit(AuditDraft(actor: actor, action: "index.rebuild", target: "search-index"))
        return try await catchUp(progress: progress)
    }
}

extension IndexStatus {
    /// Everything captured before this instant is searchable (nil: everything captured is).
    public var searchableBefore: String? {
        guard pending > 0, let oldest = oldestPendingCapturedAtMillis else { return nil }
        return Timestamp.iso(millis: oldest)
    }

    /// The sentence every search answer carries: what the index covered when it ran.
    public var coverageStatement: String {
        guard pending > 0 else { return "Search covers every captured message." }
        let count = TextRecipes.grouped(pending)
        let n = pendingIsExact ? count : "at most " + count
        return "Search covers everything captured before \(searchableBefore ?? "now"); \(n) message\(pending == 1 ? "" : "s") captured since "
            + "\(pending == 1 ? "is" : "are") not yet searchable (browse conversations, custodians and dates to reach them now)."
    }
}

/// What the index covered, as search answers report it (CLI `--json` and the API).
public struct SearchCoverage: Sendable, Codable, Hashable {
    /// True when every captured message was in the index.
    public var complete: Bool
    /// Captured messages the search could not see yet.
    public var notYetSearchable: Int
    public var notYetSearchableIsExact: Bool
    /// Everything captured before this instant (UTC) was searchable; nil when `complete`.
    public var searchableBefore: String?
    public var statement: String

    public init(_ s: IndexStatus) {
        complete = s.pending == 0
        notYetSearchable = s.pending
        notYetSearchableIsExact = s.pendingIsExact
        searchableBefore = s.searchableBefore
        statement = s.coverageStatement
    }
}
