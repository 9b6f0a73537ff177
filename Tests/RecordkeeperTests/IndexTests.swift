import Archive
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
        let queue = try DatabaseQueue(path: archive.directory.databaseURL.path)
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
