import Foundation
import RecordkeeperCore

/// The full-text index, built behind capture.
///
/// A message is captured when its row, its original bytes and its audit entry are durable;
/// nothing on that path waits for the index. An indexer then brings the index up to date in
/// batches, in message-id order (ids are never reused, so they only grow): the index holds
/// exactly the messages with `id <= indexedThrough`, and each batch moves the mark in the same
/// transaction as the rows it adds, so a crash at any point leaves index and mark consistent
/// and the next batch resumes after the mark. Two indexers never add the same rows: each batch
/// reads and moves the mark inside one write transaction.
public protocol SearchIndexStore: Sendable {
    /// Words through the index (or, with no query, the filters alone over the records).
    func search(_ request: SearchRequest) async throws -> SearchResults
    /// Where the index stands: the mark, the messages captured beyond it, and when they were captured.
    func indexStatus() async throws -> IndexStatus
    /// Adds the next `limit` captured messages (beyond the mark) to the index and moves the mark,
    /// in one transaction. Returns how many were added (0: the index is up to date).
    func indexNext(limit: Int) async throws -> Int
    /// Empties the index and sets the mark to 0 (for a rebuild), in one transaction.
    func resetIndex() async throws
    /// Messages at or below the mark that the index lacks, messages beyond the mark it holds,
    /// and index entries that belong to no message (first ids of each).
    func searchIndexGaps(limit: Int) async throws -> SearchIndexGaps
}


/// Leases on background jobs (the indexer, retention sweeps, reminders, capture bridges), so
/// that among many server instances one does each job and another takes over when it dies.
public protocol LeaseStore: Sendable {
    /// Takes (or renews) the lease `name` for `holder` until `ttlMillis` from now, unless another
    /// holder's lease on it has not expired. Returns whether `holder` has it.
    func acquireLease(_ name: String, holder: String, ttlMillis: Int64) async throws -> Bool
    /// Gives the lease up (when `holder` has it).
    func releaseLease(_ name: String, holder: String) async throws
    /// Who holds the lease `name` now (nil when nobody does or it expired).
    func leaseHolder(_ name: String) async throws -> String?
}

/// How far the search index lags behind capture.
public struct IndexStatus: Sendable, Hashable, Codable {
    /// The highest message id the index covers (every message with an id up to it is indexed).
    public var indexedThrough: Int64
    /// Messages captured but not yet in the index (an upper bound when `pendingIsExact` is false:
    /// counting a long lag exactly would read every pending row, so it is then taken from the ids).
    public var pending: Int
    public var pendingIsExact: Bool = true
    /// When the oldest of those was captured (milliseconds since 1970), nil when none is pending.
    public var oldestPendingCapturedAtMillis: Int64?
    /// The highest message id captured so far.
    public var capturedThrough: Int64

    public init(indexedThrough: Int64, pending: Int, oldestPendingCapturedAtMillis: Int64?, capturedThrough: Int64) {
        self.indexedThrough = indexedThrough
        self.capturedThrough = capturedThrough
        self.pending = pending
        self.oldestPendingCapturedAtMillis = oldestPendingCapturedAtMillis
    }

    /// Seconds since the oldest pending message was captured (0 when nothing is pending).
    public func lagSeconds(nowMillis: Int64 = Timestamp.nowMillis()) -> Double {
        guard pending > 0, let oldest = oldestPendingCapturedAtMillis else { return 0 }
        return max(0, Double(nowMillis - oldest) / 1000)
    }
}

public struct SearchIndexGaps: Sendable, Hashable {
    /// Ids of messages at or below the mark that the search index does not hold.
    public var unindexedMessages: [Int64]
    /// Number of index entries that belong to no message.
    public var orphanEntries: Int
    /// Ids of messages beyond the mark that the index already holds (a broken mark).
    public var indexedBeyondMark: [Int64]
    public init(unindexedMessages: [Int64], orphanEntries: Int, indexedBeyondMark: [Int64] = []) {
        self.unindexedMessages = unindexedMessages
        self.orphanEntries = orphanEntries
        self.indexedBeyondMark = indexedBeyondMark
    }
}

extension SearchHit {
    /// The first 16 words of a message, as a search snippet shows them (FTS5's snippet length);
    /// `cut`: the body was shortened before it came here. Every backend's collection by filters
    /// shows this.
    public static func opening(_ body: String, cut: Bool = false) -> String {
        var words = 0
        var end = body.startIndex
        var inWord = false
        for i in body.indices {
            let space = body[i].isWhitespace
            if !space && !inWord {
                words += 1
                if words > 16 { return String(body[..<end]) + "…" }
            }
            if !space { end = body.index(after: i) }
            inWord = !space
        }
        return cut ? body + "…" : body
    }

    /// The time-ordered key of a message in the search index, the same on every backend: its
    /// sent instant in the high bits (newest-first is the key read backwards, a date range a
    /// key range) and 24 bits of its identity below.
    public static func searchKey(sentAt: Int64, identity: ContentHash) -> Int64 {
        let low = Int64(identity.hex.prefix(6).utf8.reduce(0) { $0 << 4 | Int($1 <= 57 ? $1 - 48 : $1 - 87) })
        return sentAt << 24 | low
    }
}
