import Foundation
import GRDB
import RecordkeeperCore

extension SQLiteArchiveStore {
    public func blobLocks(after: ContentHash?, limit: Int) async throws -> [BlobLockState] {
        try await read { db in
            try Self.blobLocks(db, page: "SELECT hash FROM blob WHERE hash > ? AND destroyed_by IS NULL ORDER BY hash LIMIT ?",
                               arguments: [after?.hex ?? "", limit])
        }
    }

    public func blobLocks(_ hashes: [ContentHash]) async throws -> [BlobLockState] {
        guard !hashes.isEmpty else { return [] }
        return try await read { db in
            try Self.blobLocks(db, page: "SELECT hash FROM blob WHERE hash IN (SELECT value FROM json_each(?)) AND destroyed_by IS NULL",
                               arguments: [String(decoding: try JSONEncoder().encode(hashes.map(\.hex)), as: UTF8.self)])
        }
    }

    /// For the blobs `page` selects: the latest eligibility of the records naming them (as an
    /// attachment or as their batch's original export), whether any record has none, whether
    /// any is held, and what was applied.
    static func blobLocks(_ db: Database, page: String, arguments: StatementArguments) throws -> [BlobLockState] {
        let (held, heldArgs) = heldPredicate(try activeHoldFilters(db))
        let sql = """
            WITH page(hash) AS (\(page)),
            refs(hash, message_id) AS (
                SELECT a.blob_hash, a.message_id FROM attachment a JOIN page p ON p.hash = a.blob_hash
                UNION ALL
                SELECT b.source_hash, m.id FROM capture_batch b JOIN page p ON p.hash = b.source_hash JOIN message m ON m.batch_id = b.id
            )
            SELECT p.hash, b.lock_until, b.lock_held, count(m.id) AS records,
                   max(CASE WHEN m.id IS NOT NULL AND ra.eligible IS NULL THEN 1 ELSE 0 END) AS undated,
                   max(ra.eligible) AS keep_until,
                   max(CASE WHEN m.id IS NOT NULL AND \(held) THEN 1 ELSE 0 END) AS held
            FROM page p JOIN blob b ON b.hash = p.hash
            LEFT JOIN refs r ON r.hash = p.hash
            LEFT JOIN message m ON m.id = r.message_id
            LEFT JOIN retention_assignment ra ON ra.message_id = m.id
            GROUP BY p.hash ORDER BY p.hash
            """
        return try Row.fetchAll(db, sql: sql, arguments: arguments + StatementArguments(heldArgs)).compactMap { row in
            guard let hash = ContentHash(hex: row["hash"]) else { return nil }
            let records: Int = row["records"]
            let undated: Int = row["undated"]
            let keep = records > 0 && undated == 0 ? (row["keep_until"] as String?).flatMap { CivilDate($0) } : nil
            return BlobLockState(hash: hash, keepUntil: keep, held: (row["held"] as Int) != 0,
                                 appliedUntil: (row["lock_until"] as String?).flatMap { CivilDate($0) }, appliedHeld: (row["lock_held"] as Int) != 0)
        }
    }

    public func recordBlobLock(_ hash: ContentHash, until: CivilDate?, held: Bool) async throws {
        try await write { db in
            try db.execute(sql: "UPDATE blob SET lock_until = ?, lock_held = ? WHERE hash = ?", arguments: [until?.description, held, hash.hex])
        }
    }
}
