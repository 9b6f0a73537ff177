import Foundation
import GRDB
import GRDBSQLite
import RecordkeeperCore
import Synchronization

/// The audit entries of reads, made durable beside the record store and chained into its audit
/// log moments later (decision 0011).
///
/// A read (a search, a message, a transcript page, a report) must leave its audit entry before
/// its answer goes out, but appending to the chain takes the record store's one write lock, which
/// a capture in another process may hold for seconds at a time: reads waited for it (a search's
/// p99 went from 78 ms to seconds while an ingest ran). Here a read's entry is committed to a
/// small database of its own (`<store>-read-audit.sqlite`, WAL, `synchronous = FULL`), which only
/// other reads write, and is chained into `audit_log` by whoever next takes the write lock for
/// it: a background pass after every read, `serve` every few seconds, and every reader of the
/// audit log first (`auditEntries`, so `verify`, checkpoints and the audit pages see it chained).
///
/// An entry is chained once: the store keeps, per journal, the highest journal id it chained
/// (`read_audit_mark`), updated in the same transaction as the chained entries; the journal
/// forgets entries at or below it afterwards. Journal ids are never reused (AUTOINCREMENT), and a
/// journal made afresh (its file removed) has a new identity, so its ids start a new mark.
final class ReadAuditJournal: Sendable {
    let queue: DatabaseQueue
    /// Tells this journal apart from a later one at the same path.
    let identity: String
    let path: String
    /// Whether a background pass is running, and whether another was asked for meanwhile.
    private let pass = Mutex<(running: Bool, again: Bool)>((false, false))
    /// Reads' entries waiting for the next commit (`append`).
    private let group = Mutex(Group())

    /// Where the journal of the store at `storePath` lives: beside it, `archive.sqlite` →
    /// `archive-read-audit.sqlite`.
    static func path(forStore storePath: String) -> String {
        let url = URL(fileURLWithPath: storePath)
        return url.deletingLastPathComponent()
            .appendingPathComponent(url.deletingPathExtension().lastPathComponent + "-read-audit.sqlite").path
    }

    init(path: String) throws {
        self.path = path
        var config = Configuration()
        config.busyMode = .timeout(30)
        config.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        let queue = try DatabaseQueue(path: path, configuration: config)
        // WAL: one sync per commit, and readers (the chaining pass) never block a read's append.
        try queue.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA journal_mode = WAL") }
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-read-audit-journal") { db in
            try db.execute(sql: """
                CREATE TABLE journal (identity TEXT NOT NULL);
                CREATE TABLE entry (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    at TEXT NOT NULL,
                    actor TEXT NOT NULL,
                    action TEXT NOT NULL,
                    target TEXT NOT NULL,
                    detail TEXT NOT NULL
                );
                """)
            try db.execute(sql: "INSERT INTO journal (identity) VALUES (?)", arguments: [UUID().uuidString.lowercased()])
        }
        try migrator.migrate(queue)
        guard let identity = try queue.read({ try String.fetchOne($0, sql: "SELECT identity FROM journal") }) else {
            throw ArchiveError(.storage, "the read-audit journal \(path) has no identity; it is not one Recordkeeper made")
        }
        self.queue = queue
        self.identity = identity
    }

    /// Commits a read's entry (durable when this returns). Entries that arrive while a commit is
    /// under way go in the next one together (group commit): each commit waits for the disk
    /// (`synchronous = FULL`), which takes far longer while an ingest writes, and one commit per
    /// read made the reads queue behind one another.
    func append(_ draft: AuditDraft, at: String) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let lead = group.withLock { state -> Bool in
                state.waiting.append(Waiting(draft: draft, at: at, continuation: continuation))
                if state.committing { return false }
                state.committing = true
                return true
            }
            if lead { Task { await self.commitWaiting() } }
        }
    }

    private struct Waiting: Sendable {
        var draft: AuditDraft
        var at: String
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct Group: ~Copyable {
        var waiting: [Waiting] = []
        var committing = false
    }

    /// Commits what waits, again until nothing does.
    private func commitWaiting() async {
        while true {
            let batch = group.withLock { state -> [Waiting] in
                let batch = state.waiting
                state.waiting = []
                if batch.isEmpty { state.committing = false }
                return batch
            }
            if batch.isEmpty { return }
            do {
                try await queue.write { db in
                    let insert = try db.cachedStatement(sql: "INSERT INTO entry (at, actor, action, target, detail) VALUES (?, ?, ?, ?, ?)")
                    for w in batch {
                        try insert.execute(arguments: [w.at, w.draft.actor, w.draft.action, w.draft.target, w.draft.detailJSON])
                    }
                }
                for w in batch { w.continuation.resume() }
            } catch {
                let failure = SQLiteArchiveStore.writeFailure(error)
                for w in batch { w.continuation.resume(throwing: failure) }
            }
        }
    }

    /// The highest id in the journal (0: empty).
    func lastID() async throws -> Int64 {
        try await queue.read { db in try Int64.fetchOne(db, sql: "SELECT max(id) FROM entry") ?? 0 }
    }

    /// Entries after `id`, oldest first.
    func entries(after id: Int64, limit: Int) throws -> [(id: Int64, at: String, draft: AuditDraft, detail: String)] {
        try queue.read { db in
            try Row.fetchAll(db, sql: "SELECT id, at, actor, action, target, detail FROM entry WHERE id > ? ORDER BY id LIMIT ?",
                             arguments: [id, limit]).map { row in
                (id: row[0], at: row[1], draft: AuditDraft(actor: row[2], action: row[3], target: row[4]), detail: row[5])
            }
        }
    }

    /// Drops entries the audit log already holds.
    func forget(through id: Int64) async throws {
        try await queue.write { db in try db.execute(sql: "DELETE FROM entry WHERE id <= ?", arguments: [id]) }
    }

    /// Asks for a background pass; true when the caller should start one (none is running).
    func claimPass() -> Bool {
        pass.withLock { state in
            if state.running { state.again = true; return false }
            state.running = true
            return true
        }
    }

    /// Ends a pass; true when another was asked for meanwhile (the caller runs it).
    func passEnded() -> Bool {
        pass.withLock { state in
            if state.again { state.again = false; return true }
            state.running = false
            return false
        }
    }
}

extension SQLiteArchiveStore {
    /// How many journal entries one transaction chains.
    static let readAuditChainBatch = 2_000

    public func appendReadAudit(_ draft: AuditDraft) async throws {
        guard let journal = readAudits else {
            try await appendAudit(draft)
            return
        }
        try await journal.append(draft, at: Timestamp.iso(millis: Timestamp.nowMillis()))
        chainReadAuditsInBackground()
    }

    /// Chains what the journal holds, now (waits for the write lock when something is pending).
    public func settleReadAudits() async throws { try await settleReadAudits(waiting: true) }

    /// `waiting: false`: chains only if the write lock is free at once, else leaves the entries
    /// to the background pass (an audit history shown on a page must not wait for a capture).
    func settleReadAudits(waiting: Bool) async throws {
        guard let journal = readAudits else { return }
        while true {
            let pending = try await journal.lastID()
            guard pending > 0 else { return }
            let mark = try await read { db in try Self.readAuditMark(db, journal: journal.identity) }
            if pending > mark {
                let chained: (count: Int, through: Int64)
                if waiting {
                    chained = try await writeWhenFree { db in try Self.chainReadAudits(db, journal: journal) }
                } else {
                    guard let done = try await writeIfFree({ db in try Self.chainReadAudits(db, journal: journal) }) else { return }
                    chained = done
                }
                try await journal.forget(through: chained.through)
                if chained.count == Self.readAuditChainBatch { continue }
            } else {
                // Chained by a pass that ended before forgetting them (a crash, another process).
                try await journal.forget(through: mark)
            }
            return
        }
    }

    /// Entries read from the journal but not chained yet (stats).
    func pendingReadAudits() async throws -> Int {
        guard let journal = readAudits else { return 0 }
        let mark = try await read { db in try Self.readAuditMark(db, journal: journal.identity) }
        return try await journal.queue.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM entry WHERE id > ?", arguments: [mark]) ?? 0 }
    }

    /// A pass off the caller's path: the read has answered; its entry is chained when the write
    /// lock is free. A failure is left for the next pass (the entry stays in the journal).
    func chainReadAuditsInBackground() {
        guard let journal = readAudits, journal.claimPass() else { return }
        let store = self
        Task.detached(priority: .utility) {
            repeat { try? await store.settleReadAudits() } while journal.passEnded()
        }
    }

    static func readAuditMark(_ db: Database, journal: String) throws -> Int64 {
        try Int64.fetchOne(db, sql: "SELECT last_id FROM read_audit_mark WHERE journal = ?", arguments: [journal]) ?? 0
    }

    /// Inside a write transaction: appends the journal's entries after the mark to the chain,
    /// each stamped with the time it is chained (entries are stamped in chain order) and its read's
    /// own time in `read_at`, and moves the mark.
    static func chainReadAudits(_ db: Database, journal: ReadAuditJournal) throws -> (count: Int, through: Int64) {
        let mark = try readAuditMark(db, journal: journal.identity)
        let entries = try journal.entries(after: mark, limit: readAuditChainBatch)
        guard let last = entries.last?.id else { return (0, mark) }
        for e in entries {
            var draft = e.draft
            draft.detail = (try? JSONDecoder().decode([String: String].self, from: Data(e.detail.utf8))) ?? ["detail": e.detail]
            draft.detail["read_at"] = e.at
            try appendAudit(db, draft)
        }
        try db.execute(sql: """
            INSERT INTO read_audit_mark (journal, last_id) VALUES (?, ?)
            ON CONFLICT (journal) DO UPDATE SET last_id = excluded.last_id
            """, arguments: [journal.identity, last])
        return (entries.count, last)
    }
}
