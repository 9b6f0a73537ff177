import Foundation
import GRDB
import RecordkeeperCore

/// The FTS5 index behind capture (see `SearchIndexStore`): `search_index_state.indexed_through`
/// is the mark; `message_fts` holds exactly the messages with `id <= indexed_through`.
extension SQLiteArchiveStore {
    static func migrateDeferredIndex(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE search_index_state (
                id INTEGER PRIMARY KEY CHECK (id = 1),
                indexed_through INTEGER NOT NULL
            );
            CREATE TABLE lease (
                name TEXT PRIMARY KEY,
                holder TEXT NOT NULL,
                expires_at INTEGER NOT NULL
            );
            """)
        // Until now every message was indexed as it was stored.
        try db.execute(sql: "INSERT INTO search_index_state (id, indexed_through) VALUES (1, (SELECT coalesce(max(id), 0) FROM message))")
    }

    static func indexMark(_ db: Database) throws -> Int64 {
        try Int64.fetchOne(db, sql: "SELECT indexed_through FROM search_index_state WHERE id = 1") ?? 0
    }

    public func indexStatus() async throws -> IndexStatus {
        try await read { db in
            let mark = try Self.indexMark(db)
            let newest = try Int64.fetchOne(db, sql: "SELECT coalesce(max(id), 0) FROM message") ?? 0
            guard newest > mark else { return IndexStatus(indexedThrough: mark, pending: 0, oldestPendingCapturedAtMillis: nil, capturedThrough: newest) }
            // Ids are (nearly) dense, so their span bounds the count; a short lag is counted
            // exactly, a long one is not read row by row on every search.
            let span = Int(newest - mark)
            let exact = span <= Self.exactPendingCountLimit
            let pending = exact ? try Int.fetchOne(db, sql: "SELECT count(*) FROM message WHERE id > ?", arguments: [mark]) ?? 0 : span
            let oldest = try Int64.fetchOne(db, sql: "SELECT captured_at FROM message WHERE id > ? ORDER BY id LIMIT 1", arguments: [mark])
            var status = IndexStatus(indexedThrough: mark, pending: pending, oldestPendingCapturedAtMillis: oldest, capturedThrough: newest)
            status.pendingIsExact = exact
            return status
        }
    }

    /// Beyond this many ids between the mark and the newest message, the lag is reported as an upper bound.
    static let exactPendingCountLimit = 100_000

    public func indexNext(limit: Int) async throws -> Int {
        try await write { db in
            // Read and moved inside one write transaction: a second indexer waits for this one
            // and then starts after the rows it added.
            let mark = try Self.indexMark(db)
            guard let range = try Row.fetchOne(db, sql: """
                SELECT count(*), max(id) FROM (SELECT id FROM message WHERE id > ? ORDER BY id LIMIT ?)
                """, arguments: [mark, max(1, limit)]), let through = range[1] as Int64?, let count = range[0] as Int?, count > 0 else {
                return 0
            }
            try db.execute(sql: """
                INSERT INTO message_fts (rowid, body, sender) SELECT search_key, body, sender FROM message WHERE id > ? AND id <= ?
                """, arguments: [mark, through])
            try db.execute(sql: "UPDATE search_index_state SET indexed_through = ? WHERE id = 1", arguments: [through])
            return count
        }
    }

    public func resetIndex() async throws {
        try await write { db in
            try db.execute(sql: "INSERT INTO message_fts (message_fts) VALUES ('delete-all')")
            try db.execute(sql: "UPDATE search_index_state SET indexed_through = 0 WHERE id = 1")
        }
    }

    public func searchIndexGaps(limit: Int) async throws -> SearchIndexGaps {
        try await read { db in
            let mark = try Self.indexMark(db)
            // message_fts_docsize holds one row per indexed key (FTS5's own bookkeeping).
            let missing = try Int64.fetchAll(db, sql: """
                SELECT id FROM message WHERE id <= ? AND search_key NOT IN (SELECT id FROM message_fts_docsize) ORDER BY id LIMIT ?
                """, arguments: [mark, limit])
            let beyond = try Int64.fetchAll(db, sql: """
                SELECT id FROM message WHERE id > ? AND search_key IN (SELECT id FROM message_fts_docsize) ORDER BY id LIMIT ?
                """, arguments: [mark, limit])
            let orphans = try Int.fetchOne(db, sql: """
                SELECT count(*) FROM message_fts_docsize WHERE id NOT IN (SELECT search_key FROM message)
                """) ?? 0
            return SearchIndexGaps(unindexedMessages: missing, orphanEntries: orphans, indexedBeyondMark: beyond)
        }
    }

    /// Refuses a destructive step while holds by search query cannot see every record: such a
    /// hold covers only indexed messages, so a record captured but not yet indexed could escape it.
    static func requireIndexCoversHolds(_ db: Database) throws {
        guard try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM legal_hold WHERE released_at IS NULL AND fts_match IS NOT NULL)") == true else { return }
        let mark = try indexMark(db)
        let pending = try Int.fetchOne(db, sql: "SELECT count(*) FROM message WHERE id > ?", arguments: [mark]) ?? 0
        guard pending == 0 else {
            throw ArchiveError(.refused, "\(grouped(pending)) captured message(s) are not in the search index yet, and a legal hold by search query "
                + "covers only indexed records; nothing was changed. Run `recordkeeper index catch-up` (or let `serve` finish indexing) and try again")
        }
    }

    public func acquireLease(_ name: String, holder: String, ttlMillis: Int64) async throws -> Bool {
        try await write { db in
            let now = Timestamp.nowMillis()
            try db.execute(sql: """
                INSERT INTO lease (name, holder, expires_at) VALUES (?, ?, ?)
                ON CONFLICT(name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
                WHERE lease.holder = excluded.holder OR lease.expires_at < ?
                """, arguments: [name, holder, now + ttlMillis, now])
            return try String.fetchOne(db, sql: "SELECT holder FROM lease WHERE name = ?", arguments: [name]) == holder
        }
    }

    public func releaseLease(_ name: String, holder: String) async throws {
        try await write { db in
            try db.execute(sql: "DELETE FROM lease WHERE name = ? AND holder = ?", arguments: [name, holder])
        }
    }

    public func leaseHolder(_ name: String) async throws -> String? {
        try await read { db in
            try String.fetchOne(db, sql: "SELECT holder FROM lease WHERE name = ? AND expires_at >= ?", arguments: [name, Timestamp.nowMillis()])
        }
    }
}
