import Foundation
import GRDB
import RecordkeeperCore

extension SQLiteArchiveStore {
    /// After records left: the search index is rewritten without them, the file is rewritten once
    /// if it predates secure_delete, and the write-ahead log is copied into the file and truncated
    /// to nothing. Deleted rows were already overwritten with zeros as they were deleted
    /// (`secure_delete`, set on every connection).
    ///
    /// FTS5 deletes an external-content row by adding a delete marker to a new segment; the terms
    /// stay in the older segments until those are merged. `optimize` merges every segment into one
    /// without the deleted rows, and the freed pages are zeroed. It reads and writes the whole
    /// index: measured in decision 0009.
    public func purgeResidue() async throws -> ResiduePurge {
        guard writer is DatabasePool else {
            return ResiduePurge(steps: ["deleted from an in-memory store"], remaining: [])
        }
        var steps = ["rows overwritten with zeros as they were deleted (SQLite secure_delete)"]
        var remaining: [String] = []
        do {
            try await writer.write { db in try db.execute(sql: "INSERT INTO message_fts(message_fts) VALUES ('optimize')") }
            steps.append("search index rewritten without them (FTS5 optimize)")
            let needsRewrite = try await writer.read { db in
                try Bool.fetchOne(db, sql: "SELECT needs_rewrite FROM storage_scrub WHERE id = 1") ?? false
            }
            if needsRewrite {
                // VACUUM writes every live page anew and truncates the rest: free pages and the
                // slack left by deletes made before secure_delete was on are gone with it.
                try await writer.writeWithoutTransaction { db in
                    try db.execute(sql: "VACUUM")
                    try db.execute(sql: "UPDATE storage_scrub SET needs_rewrite = 0, rewritten_at = ? WHERE id = 1",
                                   arguments: [Timestamp.iso(millis: Timestamp.nowMillis())])
                }
                steps.append("database file rewritten once, as it predates secure_delete (VACUUM)")
            }
        } catch {
            throw ArchiveError(.storage, "the records were removed but their search-index entries could not be purged from the database file", underlying: error)
        }
        // The log holds page images written since the last checkpoint, old versions included.
        // TRUNCATE waits for readers and leaves an empty file; while it waits it holds off other
        // writers, so each try waits half a second at most (not the connection's 30 s), five
        // tries over about 7 s.
        var truncated = false
        for attempt in 0..<5 where !truncated {
            if attempt > 0 { try await Task.sleep(nanoseconds: 200_000_000 << attempt) }
            truncated = (try? await writer.writeWithoutTransaction { db -> Bool in
                try Self.withBusyTimeout(db, millis: 500) {
                    let (log, done) = try db.checkpoint(.truncate)
                    return log == done
                }
            }) ?? false
        }
        if truncated {
            steps.append("write-ahead log copied into the file and truncated to nothing")
        } else {
            remaining.append("the write-ahead log could not be truncated while readers held it; it is truncated by the next destruction "
                             + "or when the archive stops (`recordkeeper verify` reports its size)")
        }
        return ResiduePurge(steps: steps, remaining: remaining)
    }
}
