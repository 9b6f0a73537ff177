import Archive
import Foundation
import Logging
import PostgresNIO
import RecordkeeperCore

extension PostgresArchiveStore: BlobLockStore {
    public func blobLocks(after: ContentHash?, limit: Int) async throws -> [BlobLockState] {
        try await blobLocks { q in
            "SELECT hash FROM blob WHERE hash > \(q.bind(after?.hex ?? "")) AND destroyed_by IS NULL ORDER BY hash LIMIT \(q.bind(Int64(limit)))"
        }
    }

    public func blobLocks(_ hashes: [ContentHash]) async throws -> [BlobLockState] {
        guard !hashes.isEmpty else { return [] }
        return try await blobLocks { q in "SELECT hash FROM blob WHERE hash = ANY(\(q.bind(hashes.map(\.hex)))) AND destroyed_by IS NULL" }
    }

    /// As on SQLite: for the blobs `page` selects, the latest eligibility of the records naming
    /// them, whether any has none, whether any is held, and what was applied.
    func blobLocks(page: (inout SQLBuilder) -> String) async throws -> [BlobLockState] {
        try await transaction("reading what Object Lock must keep") { conn in
            var q = SQLBuilder()
            let pageSQL = page(&q)
            let held = try await Self.heldPredicate(try await Self.activeHoldFilters(conn, logger: self.logger), &q)
            let sql = """
                WITH page(hash) AS (\(pageSQL)),
                refs(hash, message_id) AS (
                    SELECT a.blob_hash, a.message_id FROM attachment a JOIN page p ON p.hash = a.blob_hash
                    UNION ALL
                    SELECT b.source_hash, m.id FROM capture_batch b JOIN page p ON p.hash = b.source_hash JOIN message m ON m.batch_id = b.id
                )
                SELECT p.hash, b.lock_until, b.lock_held, count(m.id),
                       coalesce(bool_or(m.id IS NOT NULL AND ra.eligible IS NULL), false),
                       max(ra.eligible),
                       coalesce(bool_or(m.id IS NOT NULL AND \(held)), false)
                FROM page p JOIN blob b ON b.hash = p.hash
                LEFT JOIN refs r ON r.hash = p.hash
                LEFT JOIN message m ON m.id = r.message_id
                LEFT JOIN retention_assignment ra ON ra.message_id = m.id
                GROUP BY p.hash, b.lock_until, b.lock_held ORDER BY p.hash
                """
            return try await conn.all(q.query(sql), as: (String, String?, Bool, Int64, Bool, String?, Bool).self, logger: self.logger)
                .compactMap { r in
                    guard let hash = ContentHash(hex: r.0) else { return nil }
                    let keep = r.3 > 0 && !r.4 ? r.5.flatMap { CivilDate($0) } : nil
                    return BlobLockState(hash: hash, keepUntil: keep, held: r.6, appliedUntil: r.1.flatMap { CivilDate($0) }, appliedHeld: r.2)
                }
        }
    }

    public func recordBlobLock(_ hash: ContentHash, until: CivilDate?, held: Bool) async throws {
        try await transaction("recording an object's lock") { conn in
            try await conn.run("UPDATE blob SET lock_until = \(until?.description), lock_held = \(held) WHERE hash = \(hash.hex)", logger: self.logger)
        }
    }
}
