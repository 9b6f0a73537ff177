@testable import Archive
import Foundation
import GRDB
import Recordkeeper
import RecordkeeperCore
import Testing

/// A read's audit entry is durable before its answer, without waiting for the write lock a
/// capture holds, and is chained into the audit log exactly once (decision 0011).
@Suite("Reads' audit entries: durable at once, chained once", .serialized)
struct ReadAuditJournalTests {
    static func journalEntries(_ store: SQLiteArchiveStore, action: String) throws -> Int {
        let path = ReadAuditJournal.path(forStore: try #require((store.writer as? DatabasePool)?.path))
        return try DatabaseQueue(path: path).read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM entry WHERE action = ?", arguments: [action]) ?? 0
        }
    }

    /// A capture in another process holds the record store's write lock (as an ingest does for
    /// each of its transactions): a search and a message read answer, their entries are already
    /// durable in the journal and not yet in the chain; once the lock is free they are chained,
    /// stamped with the time of the read, and the chain verifies.
    @Test func readsAnswerWhileACaptureHoldsTheWriteLockAndAreChainedAfter() async throws {
        let (tmp, archive) = try await IndexTests.captured(); defer { tmp.cleanup() }
        try await IndexService(archive: archive).catchUp()
        let store = try #require(archive.store as? SQLiteArchiveStore)
        let head = try #require(try await archive.store.auditEntries(AuditFilter(limit: 1)).first).sequence

        // The capture: another connection in an immediate transaction until told to commit; at
        // the end it counts the audit entries after `head` as it sees them.
        let capture = try rawDatabase(archive)
        let holding = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0)
        let held = Task {
            try await onThread {
                var seen = -1
                try capture.inTransaction(.immediate) { db in
                    holding.signal()
                    release.wait()
                    seen = try Int.fetchOne(db, sql: "SELECT count(*) FROM audit_log WHERE seq > ?", arguments: [head]) ?? -1
                    return .commit
                }
                return seen
            }
        }
        await waitOn(holding)
        let found = try await SearchService(archive: archive).search("pallet", actor: "reader")
        #expect(found.total == 2)
        let firstID = try #require(found.hits.first?.messageID)
        _ = try await RecordService(archive: archive).message(id: firstID, actor: "reader")
        #expect(try Self.journalEntries(store, action: "search") == 1)
        #expect(try Self.journalEntries(store, action: "show.message") == 1)
        // The store's count includes what waits.
        #expect(try await archive.store.stats().auditEntries == Int(head) + 2)
        release.signal()
        // While the lock was held nothing of the reads reached the chain.
        #expect(try await held.value == 0)

        let entries = try await archive.store.auditEntries(afterSequence: head, limit: 10)
        #expect(entries.map(\.action) == ["search", "show.message"])
        #expect(entries.allSatisfy { $0.actor == "reader" && $0.detail.contains("\"read_at\":\"") })
        #expect(entries.first?.detail.contains("\"query\":\"pallet\"") == true)
        #expect(entries.last?.target == "message:\(firstID)")
        #expect(try Self.journalEntries(store, action: "search") == 0)
        #expect(try await VerifyService(archive: archive).verify(actor: "test").ok)
    }

    /// Whatever stops between chaining and forgetting, and however many processes chain at once,
    /// every entry is chained exactly once: the mark moves in the chaining transaction. A journal
    /// removed and made afresh (ids from 1 again) is chained under a mark of its own.
    @Test func everyEntryIsChainedExactlyOnce() async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let archive = try await makeArchive(tmp)
        let path = archive.directory.databaseURL.path
        let store = try #require(archive.store as? SQLiteArchiveStore)
        let journal = try #require(store.readAudits)

        // Chained, then the process stops before the journal forgets: chained again never.
        try await journal.append(AuditDraft(actor: "r", action: "show.message", target: "message:1"), at: "2026-12-07T10:00:00.000Z")
        _ = try await store.write { db in try SQLiteArchiveStore.chainReadAudits(db, journal: journal) }
        #expect(try Self.journalEntries(store, action: "show.message") == 1)
        try await store.settleReadAudits()
        #expect(try Self.journalEntries(store, action: "show.message") == 0)
        let first = try await store.auditEntries(target: "message:1", limit: 5)
        #expect(first.count == 1 && first.first?.detail.contains("\"read_at\":\"2026-12-07T10:00:00.000Z\"") == true)

        // A process that ended with entries unchained: the next to open the store chains them,
        // while this one chains too (both at once, 60 entries).
        for i in 0..<60 {
            try await journal.append(AuditDraft(actor: "r", action: "show.conversation", target: "conversation:\(i)"), at: Timestamp.iso(millis: Timestamp.nowMillis()))
        }
        let reopened = try SQLiteArchiveStore(path: path)
        async let a: Void = reopened.settleReadAudits()
        async let b: Void = store.settleReadAudits()
        _ = try await (a, b)
        let chained = try await reopened.auditEntries(AuditFilter(action: "show.conversation", limit: 1000))
        #expect(chained.count == 60 && Set(chained.map(\.target)).count == 60)

        // Concurrent reads through the store itself: each chained once.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<50 {
                group.addTask { try await reopened.appendReadAudit(AuditDraft(actor: "u\(i)", action: "search", target: "archive")) }
            }
            try await group.waitForAll()
        }
        try await reopened.settleReadAudits()
        #expect(try await reopened.auditEntries(AuditFilter(action: "search", limit: 1000)).count == 50)

        // The journal removed (an operator's mistake) and made afresh: its ids restart at 1, under
        // a new identity, and are chained all the same.
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: ReadAuditJournal.path(forStore: path) + suffix) }
        let afresh = try SQLiteArchiveStore(path: path)
        #expect(afresh.readAudits?.identity != journal.identity)
        try await afresh.appendReadAudit(AuditDraft(actor: "r", action: "show.batch", target: "batch:1"))
        try await afresh.settleReadAudits()
        #expect(try await afresh.auditEntries(target: "batch:1", limit: 5).count == 1)
        #expect(try await VerifyService(archive: ArchiveHandle(directory: archive.directory, store: afresh, blobs: archive.blobs)).verify(actor: "test").ok)
    }
}

/// With readers always present SQLite never restarts its write-ahead log, which grew to 3.9 GB
/// under load; the store empties it once it passes its limit and the readers of the moment let go.
@Suite("The write-ahead log stays bounded", .serialized)
struct WriteAheadLogBoundTests {
    @Test func theLogIsEmptiedOnceItPassesItsLimitAndTheReadersLetGo() async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let archive = try await makeArchive(tmp)
        let store = try #require(archive.store as? SQLiteArchiveStore)
        let wal = archive.directory.databaseURL.path + "-wal"
        func walBytes() -> Int64 { ((try? FileManager.default.attributesOfItem(atPath: wal))?[.size] as? NSNumber)?.int64Value ?? 0 }
        try await store.write { db in try db.execute(sql: "CREATE TABLE filler (b BLOB)") }

        // A reader that keeps its snapshot (as one of many users always does).
        let reader = try rawDatabase(archive)
        let reading = DispatchSemaphore(value: 0), done = DispatchSemaphore(value: 0)
        let held = Task {
            try await onThread {
                try reader.read { db in
                    _ = try Int.fetchOne(db, sql: "SELECT count(*) FROM audit_log")
                    reading.signal()
                    done.wait()
                }
            }
        }
        await waitOn(reading)
        let mib = 1 << 20
        for _ in 0..<(Int(SQLiteArchiveStore.walLimitBytes) / mib + 8) {
            try await store.write { db in try db.execute(sql: "INSERT INTO filler VALUES (zeroblob(?))", arguments: [mib]) }
        }
        // Held: nothing can empty it, and the writes went on (each try waits a quarter of a second at most).
        #expect(walBytes() > SQLiteArchiveStore.walLimitBytes)
        done.signal()
        try await held.value
        // After a failed try the store waits two seconds before the next.
        try await Task.sleep(for: .milliseconds(2_100))
        try await store.write { db in try db.execute(sql: "INSERT INTO filler VALUES (x'00')") }
        #expect(walBytes() < Int64(mib), "the log is \(walBytes()) bytes")
        #expect(try await VerifyService(archive: archive).verify(actor: "test").ok)
    }
}

/// Runs `body` on a thread of its own: a test that blocks (holding a lock until told) must not
/// block one of the few threads every test of the run shares.
func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}

/// Waits for `semaphore` without blocking a shared thread.
func waitOn(_ semaphore: DispatchSemaphore) async {
    await withCheckedContinuation { continuation in
        Thread { semaphore.wait(); continuation.resume() }.start()
    }
}

/// Hands a value that is not `Sendable` (a `Process`) to a watcher thread that only reads it.
final class UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
