@testable import Archive
import Foundation
import GRDB
import Recordkeeper
import RecordkeeperCore
import Testing

/// The search index behind capture: consistent with its mark, never indexing a row twice, never
/// letting a record escape a hold by query, and checked by verify.
@Suite("Search index behind capture", .serialized)
struct IndexTests {
    /// Ingests Jane's chat without waiting for the index.
    static func captured() async throws -> (TempDir, ArchiveHandle) {
        let tmp = try TempDir()
        let archive = try await makeArchive(tmp)
        let txt = try writeText(RecordsLawTests.chat, named: "WhatsApp Chat with Sam Lee.txt", in: try tmp.sub("export"))
        var request = IngestRequest(paths: [txt], custodian: RecordsLawTests.jane, timeZone: "America/New_York", actor: "test")
        request.waitForIndex = false
        let reports = try await IngestService(archive: archive).ingest(request)
        #expect(reports.first?.messagesAdded == 10)
        return (tmp, archive)
    }

    @Test func capturedRecordsWaitInTheLagUntilIndexed() async throws {
        let (tmp, archive) = try await Self.captured(); defer { tmp.cleanup() }
        let before = try await archive.store.indexStatus()
        #expect(before.pending == 10 && before.pendingIsExact && before.indexedThrough == 0 && before.capturedThrough == 10)
        #expect(before.coverageStatement.contains("10 messages captured since are not yet searchable"))
        // The lag is not damage: verify passes and reports it.
        let report = try await VerifyService(archive: archive).verify(actor: "test")
        #expect(report.ok && report.notYetIndexed == 10)
        // Two indexers at once (small batches) add every row exactly once.
        var a = IndexService(archive: archive); a.batchSize = 3
        var b = IndexService(archive: archive); b.batchSize = 2
        async let x = a.catchUp()
        async let y = b.catchUp()
        let (added1, added2) = try await (x, y)
        #expect(added1 + added2 == 10)
        let after = try await archive.store.indexStatus()
        #expect(after.pending == 0 && after.indexedThrough == 10)
        #expect(after.coverageStatement == "Search covers every captured message.")
        #expect(try await SearchService(archive: archive).search("pallet", actor: "test").total == 2)
        #expect(try await VerifyService(archive: archive).verify(actor: "test").ok)
    }

    /// A hold by search query sees only indexed records, so nothing is proposed or executed while
    /// the index lags: the store refuses, and the disposition service catches the index up first.
    @Test func aHoldByQueryIsNeverOutrunByTheIndex() async throws {
        let (tmp, archive) = try await Self.captured(); defer { tmp.cleanup() }
        let users = UserService(archive: archive)
        _ = try await users.save(name: "alice", displayName: nil, roles: [.recordsOfficer], actor: "test")
        _ = try await users.save(name: "bob", displayName: nil, roles: [.recordsOfficer], actor: "test")
        try await IndexService(archive: archive).catchUp()
        _ = try await HoldService(archive: archive).create(name: "Pallet", matter: .litigation, reference: nil, requestedBy: "OGC",
                                                           scope: HoldScope(query: "pallet"), actor: "alice")
        // More records arrive and wait for the index.
        let more = try writeText("06/05/2021, 09:00 - +1 (202) 555-0143: The pallet goes to the inspector today\n",
                                 named: "WhatsApp Chat with Sam Lee.txt", in: try tmp.sub("more"))
        var request = IngestRequest(paths: [more], custodian: RecordsLawTests.jane, timeZone: "America/New_York", actor: "test")
        request.waitForIndex = false
        _ = try await IngestService(archive: archive).ingest(request)
        #expect(try await archive.store.indexStatus().pending == 1)
        let proposal = DispositionProposal(action: .destroy, asOf: CivilDate("2032-01-01")!, items: nil, actor: "alice", note: nil, atMillis: 0)
        let refused = await #expect(throws: ArchiveError.self) {
            try await archive.store.proposeDisposition(proposal, audit: AuditDraft(actor: "alice", action: "disposition.propose", target: "dispositions"))
        }
        #expect(refused?.code == .refused && refused?.message.contains("not in the search index yet") == true)
        // Through the service the index catches up first, and the new pallet record is held.
        let batch = try await DispositionService(archive: archive).propose(action: .destroy, asOf: CivilDate("2032-01-01")!, items: nil, note: nil,
                                                                           actor: "alice", today: CivilDate("2032-01-01")!)
        #expect(batch.heldAtProposal == 3)
        #expect(try await archive.store.indexStatus().pending == 0)
    }

    /// Index rows beyond the mark (a tampered or broken index) are named by verify; a rebuild fixes it.
    @Test func verifyNamesAnIndexThatDisagreesWithItsMark() async throws {
        let (tmp, archive) = try await Self.captured(); defer { tmp.cleanup() }
        try await IndexService(archive: archive).catchUp()
        let queue = try rawDatabase(archive)
        try await queue.write { try $0.execute(sql: "UPDATE search_index_state SET indexed_through = 4") }
        let report = try await VerifyService(archive: archive).verify(actor: "test")
        let problem = try #require(report.problems.first { $0.code == "search_index_incomplete" })
        #expect(problem.detail.contains("indexed beyond the index mark: message:5, message:6"))
        #expect(try await IndexService(archive: archive).rebuild(actor: "test") == 10)
        #expect(try await VerifyService(archive: archive).verify(actor: "test").ok)
        #expect(try await archive.store.auditEntries(AuditFilter(action: "index.rebuild", limit: 5)).count == 1)
    }

    /// A disposition of records that were never indexed leaves the index consistent (nothing is
    /// deleted from it that it never held).
    @Test func destroyingUnindexedRecordsKeepsTheIndexConsistent() async throws {
        let (tmp, archive) = try await Self.captured(); defer { tmp.cleanup() }
        let users = UserService(archive: archive)
        _ = try await users.save(name: "alice", displayName: nil, roles: [.recordsOfficer], actor: "test")
        _ = try await users.save(name: "bob", displayName: nil, roles: [.recordsOfficer], actor: "test")
        _ = try await archive.store.indexNext(limit: 4) // four indexed, six waiting
        let batch = try await archive.store.proposeDisposition(
            DispositionProposal(action: .destroy, asOf: CivilDate("2032-01-01")!, items: nil, actor: "alice", note: nil, atMillis: 0),
            audit: AuditDraft(actor: "alice", action: "disposition.propose", target: "dispositions"))
        _ = try await DispositionService(archive: archive).approve(id: batch.id, actor: "bob")
        _ = try await archive.store.executeDisposition(id: batch.id, actor: "bob", atMillis: 0, today: CivilDate("2032-01-02")!, accession: nil,
                                                       auditAction: "disposition.execute")
        let gaps = try await archive.store.searchIndexGaps(limit: 20)
        #expect(gaps.unindexedMessages.isEmpty && gaps.orphanEntries == 0 && gaps.indexedBeyondMark.isEmpty)
        try await IndexService(archive: archive).catchUp()
        #expect(try await archive.store.searchIndexGaps(limit: 20) == SearchIndexGaps(unindexedMessages: [], orphanEntries: 0))
    }
}

/// Schema v9 rebuilds the message table around a time-ordered identity index; an archive
/// written before it keeps every record, id, search key and protection.
@Suite("Upgrade to the time-ordered identity index")
struct IdentityIndexUpgradeTests {
    @Test func anArchiveFromBeforeV9KeepsEverything() async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let path = tmp.url.appendingPathComponent("archive.sqlite").path
        let old = try DatabaseQueue(path: path)
        try SQLiteArchiveStore.migrator.migrate(old, upTo: "v8-deferred-index")
        try await old.write { db in
            try db.execute(sql: """
                INSERT INTO blob (hash, size, first_seen_at) VALUES ('\(String(repeating: "a", count: 64))', 10, 'x');
                INSERT INTO custodian (id, email, time_zone, created_at) VALUES (1, 'jane.doe@agency.example.gov', 'UTC', 'x');
                INSERT INTO conversation (id, key, platform, custodian_id, title, created_at) VALUES (1, 'whatsapp:jane:c', 'whatsapp', 1, 'c', 'x');
                INSERT INTO capture_batch (id, custodian_id, conversation_id, actor, source_name, source_hash, source_size, platform, format,
                    text_member, time_zone, time_zone_basis, status, started_at)
                    VALUES (1, 1, 1, 't', 'x.txt', '\(String(repeating: "a", count: 64))', 10, 'whatsapp', 'f', 'x.txt', 'UTC', 'flag', 'complete', 'x');
                """)
            for i in 1...3 {
                try db.execute(sql: """
                    INSERT INTO message (id, identity_key, conversation_id, batch_id, platform, conversation_key, source_ordinal, dup_ordinal,
                        sent_local, time_zone, sent_at, captured_at, sender, sender_raw, sender_key, body, raw, kind, flags, source_hash,
                        source_member, source_line, line_count, content_hash, hash_version, search_key)
                    VALUES (?, ?, 1, 1, 'whatsapp', 'whatsapp:jane:c', ?, 0, ?, 'UTC', ?, 0, 'Ann', 'Ann', 'ann', ?, 'raw', 'user', '',
                        '\(String(repeating: "a", count: 64))', 'x.txt', ?, 1, '\(String(repeating: "c", count: 64))', 1, ?)
                    """, arguments: [i * 10, String(repeating: String(i), count: 64), i, "2021-03-0\(i)T09:00:00", 1_614_589_200 + i * 86_400,
                                     "gantry \(i)", i, Int64(1_614_589_200 + i * 86_400) << 24 | Int64(i)])
            }
            try db.execute(sql: "INSERT INTO message_fts (rowid, body, sender) SELECT search_key, body, sender FROM message")
            try db.execute(sql: "UPDATE search_index_state SET indexed_through = 30")
        }
        let before = try await old.read { try Row.fetchAll($0, sql: "SELECT id, identity_key, search_key, body FROM message ORDER BY id") }
        try old.close()

        let store = try SQLiteArchiveStore(path: path)
        let db = try DatabaseQueue(path: path)
        let after = try await db.read { try Row.fetchAll($0, sql: "SELECT id, identity_key, search_key, body FROM message ORDER BY id") }
        #expect(after == before && after.count == 3)
        let unique = try await db.read { try String.fetchAll($0, sql: """
            SELECT group_concat(i.name, ',') FROM pragma_index_list('message') l, pragma_index_info(l.name) i WHERE l."unique" = 1 GROUP BY l.name ORDER BY 1
            """) }
        #expect(unique == ["search_key", "sent_local,identity_key"]) // no unique index on the random key alone
        #expect(try await db.read { try String.fetchAll($0, sql: "SELECT name FROM pragma_index_list('message')") }.contains("message_batch"))
        // Still immutable, still searchable through the index it had.
        await #expect(throws: (any Error).self) { try await db.write { try $0.execute(sql: "UPDATE message SET body = 'x' WHERE id = 10") } }
        await #expect(throws: (any Error).self) { try await db.write { try $0.execute(sql: "DELETE FROM message WHERE id = 10") } }
        let hits = try await store.search(SearchRequest(query: .phrase("gantry", prefix: false), limit: 10, offset: 0, sort: .date))
        #expect(hits.total == 3 && hits.hits.first?.messageID == 30)
        #expect(try await store.searchIndexGaps(limit: 10) == SearchIndexGaps(unindexedMessages: [], orphanEntries: 0))
    }
}
