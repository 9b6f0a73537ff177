import Archive
import Foundation
import GRDB
import Recordkeeper
import RecordkeeperCore
import Testing

/// Issue 16, item 3: destroyed means unreadable. Records carrying a unique canary string are
/// captured, indexed, searched, disposed of; then every byte the data directory holds (database,
/// WAL, shared memory, blobs, scratch, keys) is scanned for the canary, as a forensic examiner
/// would, case-insensitively (the search index keeps terms folded to lower case).
@Suite("Destruction leaves nothing readable", .serialized)
struct DestructionTests {
    static let disposedCanary = "Qvxdisposedcanary7731"
    static let attachmentCanary = "Qvxattachmentcanary5309"
    static let heldCanary = "Qvxheldcanary4410"
    static let jane = "jane.doe@agency.example.gov"
    static let sam = "sam.lee@agency.example.gov"

    /// Jane's chat with a contractor, due for destruction in 2032: every message names the canary
    /// somewhere (body, a multi-line body, an attachment's caption, the attachment's bytes).
    static let disposedChat = """
        12/01/2021, 09:15 - Jane Doe: Gate code for the annex is \(disposedCanary)
        12/01/2021, 09:16 - Pat Kim: Noted, \(disposedCanary) until Friday
        13/01/2021, 10:02 - Jane Doe: DOC-20210113-WA0001.pdf (file attached)
        Inventory sheet \(disposedCanary)
        14/01/2021, 17:45 - Pat Kim: Second line follows
        and \(disposedCanary) is on it

        """
    /// Sam's chat, under a legal hold: it must stay whole and findable.
    static let heldChat = """
        02/02/2021, 08:00 - Sam Lee: Pallet 17 reference \(heldCanary)
        02/02/2021, 08:05 - Lee Park: Copy, \(heldCanary) logged

        """

    /// Files under `root` holding any needle, or its last 14 characters: the search index stores a
    /// term after the prefix it shares with the term before it, so a whole-word scan alone would
    /// miss a canary left in it.
    static func scan(_ root: URL, for words: [String]) throws -> [String] {
        var hits: [String] = []
        let needles = words.flatMap { [$0, String($0.suffix(14))] }
        let lowered = needles.map { Data($0.lowercased().utf8) }
        let enumerator = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey])!
        for case let url as URL in enumerator where (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true {
            let bytes = Data(try Data(contentsOf: url).map { $0 >= 0x41 && $0 <= 0x5A ? $0 + 32 : $0 })
            for (needle, n) in zip(needles, lowered) where bytes.range(of: n) != nil {
                hits.append("\(url.path.replacingOccurrences(of: root.path, with: "")): \(needle)")
            }
        }
        return hits
    }

    /// A new archive with two records officers, alice and bob.
    static func archiveWithOfficers(_ tmp: TempDir) async throws -> ArchiveHandle {
        let archive = try await makeArchive(tmp)
        let users = UserService(archive: archive)
        _ = try await users.save(name: "alice", displayName: "Alice Ortiz", roles: [.recordsOfficer], actor: "test")
        _ = try await users.save(name: "bob", displayName: "Bob Chen", roles: [.recordsOfficer], actor: "test")
        return archive
    }

    /// Everything due on 2032-01-01 destroyed: alice proposes, bob approves and executes.
    static func destroyDue(_ archive: ArchiveHandle) async throws -> (batch: DispositionBatch, certificate: DispositionCertificate) {
        let disposition = DispositionService(archive: archive)
        let batch = try await disposition.propose(action: .destroy, asOf: CivilDate("2032-01-01")!, items: nil, note: nil, actor: "alice",
                                                  today: CivilDate("2032-01-01")!)
        _ = try await disposition.approve(id: batch.id, actor: "bob")
        return (batch, try await disposition.execute(id: batch.id, actor: "bob", today: CivilDate("2032-01-02")!))
    }

    @Test func disposedRecordsLeaveNoTraceOnDiskAndHeldOnesStayReadable() async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let archive = try await Self.archiveWithOfficers(tmp)
        let a = try tmp.sub("export-a"), b = try tmp.sub("export-b")
        let disposedExport = try writeText(Self.disposedChat, named: "WhatsApp Chat with Pat Kim.txt", in: a)
        try Data("%PDF-1.4\n% \(Self.attachmentCanary)\n%%EOF\n".utf8).write(to: a.appendingPathComponent("DOC-20210113-WA0001.pdf"))
        let heldExport = try writeText(Self.heldChat, named: "WhatsApp Chat with Lee Park.txt", in: b)
        let first = try await ingest(archive, disposedExport, custodian: Self.jane, timeZone: "America/New_York")
        #expect(first.messagesAdded == 4 && first.attachmentsStored == 1)
        _ = try await ingest(archive, heldExport, custodian: Self.sam, timeZone: "America/New_York")
        // Found before, as a records officer would find them. (The audit log keeps the words each
        // search asked for, as the record of that search: the canary is never typed in.)
        let search = SearchService(archive: archive)
        #expect(try await search.search("annex OR friday OR inventory OR follows", actor: "alice").total == 4)
        #expect(try await search.search(Self.heldCanary, actor: "alice").total == 2)
        // At rest the files are sealed: the export and the attachment are nowhere in the clear,
        // only the database holds the text (for search).
        #expect(try Self.scan(archive.directory.blobsURL, for: [Self.disposedCanary, Self.attachmentCanary, Self.heldCanary]).isEmpty)
        #expect(try Self.scan(archive.directory.url, for: [Self.disposedCanary]).contains { $0.hasPrefix("/archive.sqlite") })
        let sealedFiles = try await archive.store.blobKeys(after: nil, limit: 10)
        #expect(sealedFiles.count == 3) // two exports and the attachment
        let attachmentHash = ContentHash.of(try Data(contentsOf: a.appendingPathComponent("DOC-20210113-WA0001.pdf")))
        let sealedBytes = try Data(contentsOf: (archive.blobs as! FileBlobStore).path(for: attachmentHash))
        #expect(sealedBytes.starts(with: BlobSealer.magic))
        // A copy of a sealed file, as a backup of the blob store would keep it.
        let backup = tmp.url.appendingPathComponent("backup-of-attachment")
        try sealedBytes.write(to: backup)

        // As in an archive that has run a while: the WAL has been copied into the database file.
        let queue = try rawDatabase(archive)
        try await queue.writeWithoutTransaction { try $0.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
        try queue.close()
        let checkpointed = try Self.scan(archive.directory.databaseURL.deletingLastPathComponent(), for: [Self.disposedCanary])
        #expect(checkpointed.contains { $0.hasSuffix("archive.sqlite: \(Self.disposedCanary)") })

        _ = try await HoldService(archive: archive).create(name: "Pallet 17", matter: .litigation, reference: "1:31-cv-00017", requestedBy: "OGC",
                                                          scope: HoldScope(custodians: [Self.sam]), actor: "alice")
        let (batch, certificate) = try await Self.destroyDue(archive)
        #expect(batch.records == 4 && batch.heldAtProposal == 2)
        #expect(certificate.records == 4)
        #expect(certificate.blobsDestroyed == 2) // the export and its attachment
        #expect(certificate.originalsKept == nil)  // no retained record came from them

        let hits = try Self.scan(archive.directory.url, for: [Self.disposedCanary, Self.attachmentCanary])
        #expect(hits.isEmpty, "disposed text is still on disk: \(hits)")
        #expect(certificate.sanitization?.hasPrefix("purge by cryptographic erase") == true)
        #expect(certificate.method?.contains { $0.contains("data key destroyed") } == true)
        // The files' data keys are gone: the backup copy cannot be opened, even by the archive.
        #expect(try await archive.store.blobKey(attachmentHash) == nil)
        #expect(try await archive.store.blobKeys(after: nil, limit: 10).count == 1) // the held export's
        try FileManager.default.createDirectory(at: (archive.blobs as! FileBlobStore).path(for: attachmentHash).deletingLastPathComponent(),
                                                withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: backup, to: (archive.blobs as! FileBlobStore).path(for: attachmentHash))
        let erased = try await archive.blobs.data(attachmentHash) // no data key: only its sealed bytes come back
        #expect(erased.starts(with: BlobSealer.magic))
        #expect(erased.range(of: Data(Self.attachmentCanary.utf8)) == nil)
        #expect(try await archive.blobs.rehash(attachmentHash)?.hash != attachmentHash)
        try FileManager.default.removeItem(at: (archive.blobs as! FileBlobStore).path(for: attachmentHash))

        // The held records are whole and found.
        #expect(try await search.search(Self.heldCanary, actor: "alice").total == 2)
        #expect(try await search.search("annex OR friday OR inventory OR follows", actor: "alice").total == 0)
        #expect(!(try Self.scan(archive.directory.url, for: [Self.heldCanary]).isEmpty))
        #expect(try await archive.blobs.data(ContentHash.of(try Data(contentsOf: heldExport))) == (try Data(contentsOf: heldExport)))
        let report = try await VerifyService(archive: archive).verify(actor: "test")
        #expect(report.ok, "\(report.problems)")
    }

    /// An archive that held records before secure_delete was on (upgraded to v29) may keep deleted
    /// text in free pages: its first destruction rewrites the file once, and says so.
    @Test func anArchiveFromBeforeSecureDeleteIsRewrittenByItsFirstDestruction() async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let archive = try await Self.archiveWithOfficers(tmp)
        let a = try tmp.sub("export-a")
        _ = try await ingest(archive, try writeText(Self.disposedChat, named: "WhatsApp Chat with Pat Kim.txt", in: a), custodian: Self.jane,
                             timeZone: "America/New_York")
        // What an older release left: text deleted without secure_delete, in free pages.
        let legacy = "Qvxlegacyfreepage8812"
        let queue = try rawDatabase(archive)
        try await queue.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA secure_delete = OFF")
            try db.execute(sql: "CREATE TABLE old_scratch (t TEXT)")
            try db.execute(sql: "INSERT INTO old_scratch SELECT ? || ' ' || hex(randomblob(2000)) FROM (SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3)",
                           arguments: [legacy])
            try db.execute(sql: "DROP TABLE old_scratch")
            try db.execute(sql: "UPDATE storage_scrub SET needs_rewrite = 1")
            try db.checkpoint(.truncate)
        }
        #expect(!(try Self.scan(archive.directory.url, for: [legacy]).isEmpty))

        let certificate = try await Self.destroyDue(archive).certificate
        #expect(certificate.method?.contains { $0.contains("VACUUM") } == true)
        #expect(certificate.notYetPurged == nil)
        #expect(try Self.scan(archive.directory.url, for: [legacy, Self.disposedCanary, Self.attachmentCanary]).isEmpty)
        #expect(try await queue.read { try Int.fetchOne($0, sql: "SELECT needs_rewrite FROM storage_scrub") } == 0)
        try queue.close()
        #expect(try await VerifyService(archive: archive).verify(actor: "test").ok)
    }
}
