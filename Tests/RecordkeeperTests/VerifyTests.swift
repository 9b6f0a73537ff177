import Archive
import Foundation
import GRDB
import Recordkeeper
import RecordkeeperCore
import RecordkeeperTesting
import Testing

@Suite("Verify: tamper evidence")
struct VerifyTests {
    /// An archive with one iOS zip (attachments) ingested, searched and shown.
    static func populated(_ tmp: TempDir) async throws -> (ArchiveHandle, BatchReport) {
        let archive = try await makeArchive(tmp)
        let zip = try ExportGenerator.write(ExportSpec(style: .iosZip, messageCount: 300, mediaEvery: 10, seed: 5), to: try tmp.sub("x"))
        let r = try await ingest(archive, zip)
        _ = try await SearchService(archive: archive).search("lane", actor: "test")
        _ = try await RecordService(archive: archive).message(id: 1, actor: "test")
        return (archive, r)
    }

    func withDatabase(_ archive: ArchiveHandle, _ body: (Database) throws -> Void) throws {
        let queue = try rawDatabase(archive)
        // An attacker with write access to the file first drops the store's guard triggers
        // (they refuse in-place changes and deletions); verify must catch what follows.
        try queue.writeWithoutTransaction { db in
            for name in ["message_no_update", "message_delete_only_by_disposition", "audit_log_no_update", "audit_log_no_delete"] {
                try db.execute(sql: "DROP TRIGGER IF EXISTS \(name)")
            }
            try body(db)
        }
    }

    @Test func untouchedArchiveVerifies() async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let (archive, _) = try await Self.populated(tmp)
        let report = try await VerifyService(archive: archive).verify(actor: "test")
        #expect(report.ok)
        #expect(report.problems.isEmpty)
        #expect(report.messagesChecked == 300)
        #expect(report.blobsChecked > 1)
        #expect(report.auditEntriesChecked >= 4) // init, ingest, search, show
        // verify itself is audited, and the chain still holds afterwards
        let again = try await VerifyService(archive: archive).verify(actor: "test")
        #expect(again.ok)
        #expect(again.auditEntriesChecked == report.auditEntriesChecked + 1)
    }

    @Test func alteredBlobIsNamed() async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let (archive, r) = try await Self.populated(tmp)
        let original = ContentHash(hex: r.sourceSHA256!)!
        let path = (archive.blobs as! FileBlobStore).path(for: original)
        chmod(path.path, 0o644)
        let handle = try FileHandle(forWritingTo: path)
        try handle.seek(toOffset: 100)
        try handle.write(contentsOf: Data("X".utf8))
        try handle.close()
        let report = try await VerifyService(archive: archive).verify(actor: "test")
        #expect(!report.ok)
        #expect(report.problems.map(\.code) == ["blob_altered"])
        #expect(report.problems.first?.item == "blob:\(original.hex)")
    }

    @Test func missingAttachmentBlobIsNamed() async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let (archive, _) = try await Self.populated(tmp)
        let some = try await archive.store.transcript(conversationID: 1, offset: 0, limit: 1000)
            .first { $0.message.attachments.contains { !$0.isMissing } }!
        let blob = some.message.attachments.first { !$0.isMissing }!.blob!
        try FileManager.default.removeItem(at: (archive.blobs as! FileBlobStore).path(for: blob))
        let report = try await VerifyService(archive: archive).verify(actor: "test")
        #expect(!report.ok)
        #expect(report.problems.contains { $0.code == "blob_missing" && $0.item == "blob:\(blob.hex)" })
        #expect(report.problems.contains { $0.code == "blob_missing" && $0.item == "message:\(some.id)" })
    }

    @Test func alteredMessageRowIsNamed() async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let (archive, _) = try await Self.populated(tmp)
        try withDatabase(archive) { db in
            try db.execute(sql: "UPDATE message SET body = body || ' (amended)' WHERE id = 42")
            try db.execute(sql: "UPDATE message SET sent_local = '2019-01-01T00:00:00' WHERE id = 7")
        }
        let report = try await VerifyService(archive: archive).verify(actor: "test")
        #expect(!report.ok)
        #expect(Set(report.problems.map(\.item)) == ["message:7", "message:42"])
        #expect(report.problems.allSatisfy { $0.code == "message_altered" })
        let shown = try await RecordService(archive: archive).message(id: 42, actor: "test")
        #expect(!shown.contentHashValid)
    }

    @Test func alteredAuditRowIsNamed() async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let (archive, _) = try await Self.populated(tmp)
        try withDatabase(archive) { db in
            try db.execute(sql: "UPDATE audit_log SET actor = 'someone-else' WHERE seq = 2")
        }
        let report = try await VerifyService(archive: archive).verify(actor: "test")
        #expect(report.problems.map(\.code) == ["audit_altered"])
        #expect(report.problems.first?.item == "audit:2")
    }

    @Test func deletedAuditRowBreaksTheChain() async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let (archive, _) = try await Self.populated(tmp)
        try withDatabase(archive) { db in try db.execute(sql: "DELETE FROM audit_log WHERE seq = 3") }
        let report = try await VerifyService(archive: archive).verify(actor: "test")
        #expect(Set(report.problems.map(\.code)) == ["audit_gap", "audit_broken_link"])
        #expect(report.problems.allSatisfy { $0.item == "audit:4" })
    }

    @Test func aDeletedMessageBreaksItsBatchAnchor() async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let (archive, r) = try await Self.populated(tmp)
        try withDatabase(archive) { db in
            // A careful deletion: the message, its attachments and its search entry.
            let key = try Int64.fetchOne(db, sql: "SELECT search_key FROM message WHERE id = 120")!
            let body = try String.fetchOne(db, sql: "SELECT body FROM message WHERE id = 120")!
            let sender = try String.fetchOne(db, sql: "SELECT sender FROM message WHERE id = 120")
            try db.execute(sql: "INSERT INTO message_fts(message_fts, rowid, body, sender) VALUES('delete', ?, ?, ?)", arguments: [key, body, sender])
            try db.execute(sql: "DELETE FROM attachment WHERE message_id = 120")
            try db.execute(sql: "DELETE FROM message WHERE id = 120")
        }
        let report = try await VerifyService(archive: archive).verify(actor: "test")
        #expect(report.problems.map(\.code) == ["batch_messages_altered"])
        #expect(report.problems.first?.item == "batch:\(r.batchID!)")
        #expect(report.problems.first?.detail.contains("300 messages then, 299 now") == true)
    }

    @Test func anEditWithARecomputedHashIsStillCaught() async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let (archive, _) = try await Self.populated(tmp)
        var forged = try #require(try await archive.store.message(id: 55)).message
        forged.body = "Nothing to report."
        let hash = forged.computeContentHash()
        try withDatabase(archive) { db in
            try db.execute(sql: "UPDATE message SET body = ?, content_hash = ? WHERE id = 55", arguments: [forged.body, hash.hex])
        }
        let report = try await VerifyService(archive: archive).verify(actor: "test")
        #expect(report.problems.map(\.code) == ["batch_messages_altered"])
    }

    @Test(arguments: ["UPDATE conversation SET title = 'Renamed'", "UPDATE custodian SET email = 'someone.else@agency.example.gov'",
                      "UPDATE capture_batch SET time_zone = 'UTC'"])
    func conversationCustodianAndBatchFieldsAreAnchored(_ sql: String) async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let (archive, _) = try await Self.populated(tmp)
        try withDatabase(archive) { db in try db.execute(sql: sql) }
        let report = try await VerifyService(archive: archive).verify(actor: "test")
        #expect(report.problems.map(\.code) == ["batch_messages_altered"])
    }

    @Test func aMessageHiddenFromSearchIsNamed() async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let (archive, _) = try await Self.populated(tmp)
        try withDatabase(archive) { db in
            try db.execute(sql: "UPDATE message SET search_key = search_key + 1 WHERE id = 77")
        }
        let report = try await VerifyService(archive: archive).verify(actor: "test")
        #expect(report.problems.map(\.code) == ["search_index_incomplete"])
        #expect(report.problems.first?.detail.contains("message:77") == true)
        #expect(report.problems.first?.detail.contains("index entries with no message: 1") == true)
    }

    /// An entry removed from the index (no orphan left behind) is found by counting, then named.
    @Test func aMessageDroppedFromTheIndexIsNamed() async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let (archive, _) = try await Self.populated(tmp)
        try withDatabase(archive) { db in
            try db.execute(sql: """
                INSERT INTO message_fts (message_fts, rowid, body, sender)
                SELECT 'delete', search_key, body, sender FROM message WHERE id = 77
                """)
        }
        let report = try await VerifyService(archive: archive).verify(actor: "test")
        #expect(report.problems.map(\.code) == ["search_index_incomplete"])
        #expect(report.problems.first?.detail.contains("messages missing from the search index: message:77") == true)
        #expect(report.problems.first?.detail.contains("index entries with no message: 0") == true)
    }

    @Test func anInterruptedBatchIsUnanchoredNotAltered() async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let (archive, r) = try await Self.populated(tmp)
        try withDatabase(archive) { db in
            // As if the process died before the completion entry: no anchor for this batch.
            try db.execute(sql: "UPDATE audit_log SET action = 'ingest.start' WHERE target = ? AND action = 'ingest'", arguments: ["batch:\(r.batchID!)"])
        }
        let report = try await VerifyService(archive: archive).verify(actor: "test")
        #expect(report.unanchoredBatches == [r.batchID!])
        #expect(report.problems.map(\.code) == ["audit_altered"]) // the edit itself is caught by the chain
    }

    @Test func readsAreAudited() async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let (archive, r) = try await Self.populated(tmp)
        let entries = try await archive.store.auditEntries(afterSequence: 0, limit: 100)
        #expect(entries.map(\.action) == ["archive.init", "ingest", "retention.assign", "search", "show.message"])
        #expect(entries[1].target == "batch:\(r.batchID!)")
        #expect(entries[2].detail.contains("none->0002:300"))
        #expect(entries[3].detail.contains("\"query\":\"lane\""))
        #expect(entries.allSatisfy { $0.actor == "test" })
    }
}
