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

    /// The message table's unique identity index becomes time-ordered: `(sent_local,
    /// identity_key)` instead of the random `identity_key` alone. Inserts of an export then land
    /// next to each other in the index instead of on a random page each (the unique random key
    /// capped bare SQLite at ~90k rows/s here, and fell further as the archive outgrew the page
    /// cache; see docs/decisions/0002). It is the same constraint: an identity key is derived
    /// from the sent time as written (`IdentityKey.forMessage`), or, for a platform's own message
    /// ids, from a source whose times are absolute (Matrix, in UTC), so one identity always has
    /// one `sent_local`. Messages also get an index by batch (batch anchors read a batch's rows).
    /// SQLite cannot drop a column's inline UNIQUE, so the table is rebuilt (immutability
    /// triggers dropped and made again around it; the copy keeps every id and search key).
    static func migrateTimeOrderedIdentity(_ db: Database) throws {
        let columns = """
            id, identity_key, conversation_id, batch_id, platform, conversation_key, source_ordinal, dup_ordinal, sent_local, time_zone,
            sent_at, captured_at, sender, sender_raw, sender_key, body, raw, kind, flags, source_hash, source_member, source_line,
            line_count, content_hash, hash_version, search_key
            """
        try db.execute(sql: """
            DROP TRIGGER message_no_update;
            DROP TRIGGER message_delete_only_by_disposition;
            CREATE TABLE message_v9 (
                id INTEGER PRIMARY KEY,
                identity_key TEXT NOT NULL,
                conversation_id INTEGER NOT NULL REFERENCES conversation(id),
                batch_id INTEGER NOT NULL REFERENCES capture_batch(id),
                platform TEXT NOT NULL,
                conversation_key TEXT NOT NULL,
                source_ordinal INTEGER NOT NULL,
                dup_ordinal INTEGER NOT NULL,
                sent_local TEXT NOT NULL,
                time_zone TEXT NOT NULL,
                sent_at INTEGER NOT NULL,
                captured_at INTEGER NOT NULL,
                sender TEXT,
                sender_raw TEXT,
                sender_key TEXT NOT NULL,
                body TEXT NOT NULL,
                raw TEXT NOT NULL,
                kind TEXT NOT NULL,
                flags TEXT NOT NULL,
                source_hash TEXT NOT NULL,
                source_member TEXT NOT NULL,
                source_line INTEGER NOT NULL,
                line_count INTEGER NOT NULL,
                content_hash TEXT NOT NULL,
                hash_version INTEGER NOT NULL,
                search_key INTEGER NOT NULL UNIQUE
            );
            INSERT INTO message_v9 (\(columns)) SELECT \(columns) FROM message ORDER BY id;
            DROP TABLE message;
            ALTER TABLE message_v9 RENAME TO message;
            CREATE INDEX message_conversation_sent ON message(conversation_id, sent_local, id);
            CREATE UNIQUE INDEX message_identity ON message(sent_local, identity_key);
            CREATE INDEX message_batch ON message(batch_id, id);
            CREATE TRIGGER message_no_update BEFORE UPDATE ON message
            BEGIN SELECT RAISE(ABORT, 'records are never changed in place'); END;
            CREATE TRIGGER message_delete_only_by_disposition BEFORE DELETE ON message
            WHEN NOT EXISTS (SELECT 1 FROM tombstone WHERE message_id = OLD.id)
            BEGIN SELECT RAISE(ABORT, 'records leave the archive only through an approved disposition'); END;
            """)
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
    static let exactPendingCountLimit = 10_000

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
            let orphans = try Int.fetchOne(db, sql: """
                SELECT count(*) FROM message_fts_docsize WHERE id NOT IN (SELECT search_key FROM message)
                """) ?? 0
            // Only the rows beyond the mark are read (none once the indexer has caught up).
            let beyondCount = try Int.fetchOne(db, sql: """
                SELECT count(*) FROM message m WHERE id > ? AND EXISTS (SELECT 1 FROM message_fts_docsize d WHERE d.id = m.search_key)
                """, arguments: [mark]) ?? 0
            var beyond: [Int64] = []
            if beyondCount > 0 {
                beyond = try Int64.fetchAll(db, sql: """
                    SELECT id FROM message m WHERE id > ? AND EXISTS (SELECT 1 FROM message_fts_docsize d WHERE d.id = m.search_key) ORDER BY id LIMIT ?
                    """, arguments: [mark, limit])
            }
            // With no orphan every entry is a distinct message's key, so the entries that are not
            // beyond the mark are messages up to it: when they number as many as those messages,
            // none is missing and the slow listing below is skipped.
            let entries = try Int.fetchOne(db, sql: "SELECT count(*) FROM message_fts_docsize") ?? 0
            // Counted in the narrow (batch_id, id) index: the table itself is ~600 bytes a row.
            let upToMark = try Int.fetchOne(db, sql: "SELECT count(*) FROM message INDEXED BY message_batch WHERE id <= ?", arguments: [mark]) ?? 0
            var missing: [Int64] = []
            if orphans > 0 || entries - beyondCount != upToMark {
                missing = try Int64.fetchAll(db, sql: """
                    SELECT id FROM message WHERE id <= ? AND search_key NOT IN (SELECT id FROM message_fts_docsize) ORDER BY id LIMIT ?
                    """, arguments: [mark, limit])
            }
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
