import Archive
import Foundation
import Recordkeeper
import RecordkeeperCore
import Testing

/// A destruction stopped after its records left but before its files went and its certificate
/// was written (a kill, a crash, a full disk: issue 17 item 3). The records leave in one
/// transaction that a signed checkpoint vouches for at once; whoever comes next finishes the
/// rest. An execution nobody vouched for is never finished automatically.
@Suite("A destruction interrupted half-way", .serialized)
struct InterruptedDispositionTests {
    /// Proposed by alice, approved by bob; then the records leave (the execute transaction) and,
    /// when `vouched`, the checkpoint is signed — and the process stops there.
    static func interrupted(_ tmp: TempDir, vouched: Bool) async throws -> (ArchiveHandle, DispositionBatch, [ContentHash]) {
        let archive = try await DestructionTests.archiveWithOfficers(tmp)
        try await CheckpointService(archive: archive).sign(reason: "archive created", actor: "test", createKey: true) // as `init` does
        let a = try tmp.sub("export")
        let export = try writeText(DestructionTests.disposedChat, named: "WhatsApp Chat with Pat Kim.txt", in: a)
        try Data("%PDF-1.4\n% \(DestructionTests.attachmentCanary)\n%%EOF\n".utf8).write(to: a.appendingPathComponent("DOC-20210113-WA0001.pdf"))
        let captured = try await ingest(archive, export, custodian: DestructionTests.jane, timeZone: "America/New_York")
        try await CheckpointService(archive: archive).sign(vouching: ["batch:\(captured.batchID!)"], reason: "capture", actor: "test") // as `ingest` does
        let disposition = DispositionService(archive: archive)
        let batch = try await disposition.propose(action: .destroy, asOf: CivilDate("2032-01-01")!, items: nil, note: nil, actor: "alice",
                                                  today: CivilDate("2032-01-01")!)
        _ = try await disposition.approve(id: batch.id, actor: "bob")
        _ = try await archive.withWriteLock(purpose: "test") {
            try await archive.store.executeDisposition(id: batch.id, actor: "bob", atMillis: Timestamp.nowMillis(), today: CivilDate("2032-01-02")!,
                                                       accession: nil, auditAction: "disposition.execute")
        }
        if vouched {
            _ = try await CheckpointService(archive: archive).signIfSigning(vouching: ["disposition:\(batch.id)"], reason: "disposition", actor: "bob")
        }
        let released = try await archive.store.destroyedBlobs(dispositionID: batch.id)
        #expect(released.count == 2) // the export and the attachment
        for hash in released {
            #expect(try await archive.blobs.contains(hash)) // still there: the run stopped
            // …but unreadable: their data keys went in the execution's own transaction.
            #expect(try await archive.store.blobKey(hash) == nil)
            let left = try await archive.blobs.data(hash)
            #expect(left.starts(with: BlobSealer.magic)) // ciphertext whose key is gone
            #expect(left.range(of: Data(DestructionTests.attachmentCanary.utf8)) == nil && left.range(of: Data("Gate code".utf8)) == nil)
        }
        return (archive, batch, released)
    }

    /// Vouched for: `verify` finishes it first (files gone, certificate written, in the executor's
    /// name, crypto-erase counted right) and then passes; no incident is opened.
    @Test func verifyFinishesAVouchedDestructionAndPasses() async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let (archive, batch, released) = try await Self.interrupted(tmp, vouched: true)
        let disposition = DispositionService(archive: archive)
        await #expect {
            _ = try await disposition.certificate(id: batch.id, actor: "alice")
        } throws: { ($0 as? ArchiveError)?.message.contains("was executed but its certificate was not written") == true }
        let report = try await VerifyService(archive: archive).verify(actor: "carol")
        #expect(report.ok, "\(report.problems.map { "\($0.code) \($0.item)" })")
        #expect(report.dispositionsFinished == [batch.id])
        for hash in released { #expect(try await !archive.blobs.contains(hash)) }
        let certificate = try await disposition.certificate(id: batch.id, actor: "alice")
        #expect(certificate.records == 4 && certificate.executedBy == "bob" && certificate.blobsDestroyed == 2)
        #expect(certificate.sanitization?.hasPrefix("purge by cryptographic erase for files") == true, "\(certificate.sanitization ?? "")")
        #expect(try await IncidentService(archive: archive).list().isEmpty)
        let resumed = try await archive.store.auditEntries(AuditFilter(action: "disposition.resume", limit: 5))
        #expect(resumed.count == 1 && resumed[0].actor == "carol")
        // Again: nothing left to finish.
        #expect(try await VerifyService(archive: archive).verify(actor: "carol").dispositionsFinished.isEmpty)
    }

    /// Not vouched for (stopped before the checkpoint, or forged by someone without the key):
    /// `verify` leaves the files alone, names the problems and opens an incident; a records
    /// officer who checked it finishes it with `execute`, and verify passes again.
    @Test func anUnvouchedExecutionIsLeftForARecordsOfficer() async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let (archive, batch, released) = try await Self.interrupted(tmp, vouched: false)
        let report = try await VerifyService(archive: archive).verify(actor: "carol")
        #expect(!report.ok && report.dispositionsFinished.isEmpty)
        let codes = Set(report.problems.map(\.code))
        #expect(codes.contains("disposition_not_vouched") && codes.contains("certificate_missing"), "\(codes.sorted())")
        for hash in released { #expect(try await archive.blobs.contains(hash)) }
        #expect(try await IncidentService(archive: archive).list().count == 1)
        // Running it again does not vouch for it unchecked.
        await #expect {
            _ = try await DispositionService(archive: archive).execute(id: batch.id, actor: "alice")
        } throws: { ($0 as? ArchiveError)?.message.contains("no signed checkpoint vouches for its execution") == true }
        for hash in released { #expect(try await archive.blobs.contains(hash)) }
        // A records officer checks it and vouches for the entry verify names; then it finishes.
        let detail = try #require(report.problems.first { $0.code == "disposition_not_vouched" }?.detail)
        let target = try #require(detail.firstMatch(of: /--vouch (disposition:\d+@\d+)/)?.1)
        try await CheckpointService(archive: archive).sign(vouching: [String(target)], reason: "checked", actor: "alice")
        let certificate = try await DispositionService(archive: archive).execute(id: batch.id, actor: "alice")
        #expect(certificate.records == 4 && certificate.blobsDestroyed == 2)
        for hash in released { #expect(try await !archive.blobs.contains(hash)) }
        let after = try await VerifyService(archive: archive).verify(actor: "carol")
        #expect(after.ok, "\(after.problems.map { "\($0.code) \($0.item)" })")
    }
}

/// A capture stopped between storing its batch and signing the checkpoint that vouches for it
/// (issue 17 item 3, found by the crash matrix).
@Suite("A capture interrupted before its checkpoint", .serialized)
struct InterruptedCaptureTests {
    /// `verify` names the batch and the entry to vouch for, and opens no incident (an addition is
    /// not a disposition); running the same ingest again does not vouch for it (that would vouch
    /// for whatever the database holds under its name); a person who checked it does.
    @Test func verifyNamesTheUnvouchedBatchAndAPersonVouchesForIt() async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let archive = try await makeArchive(tmp)
        let checkpoints = CheckpointService(archive: archive)
        try await checkpoints.sign(reason: "archive created", actor: "test", createKey: true)
        let export = try writeText(DestructionTests.disposedChat, named: "WhatsApp Chat with Pat Kim.txt", in: try tmp.sub("export"))
        // The signing key away for a moment: the capture is stored, its checkpoint is not signed.
        let keyFile = SigningKey.location(dataDirectory: archive.directory.url, environment: [:])
        let aside = tmp.url.appendingPathComponent("key-aside")
        try FileManager.default.moveItem(at: keyFile, to: aside)
        await #expect(throws: ArchiveError.self) { _ = try await ingest(archive, export, custodian: DestructionTests.jane) }
        try FileManager.default.moveItem(at: aside, to: keyFile)
        let first = try await VerifyService(archive: archive).verify(actor: "test")
        #expect(first.problems.map(\.code) == ["batch_not_vouched"], "\(first.problems.map { "\($0.code) \($0.item)" })")
        #expect(try await IncidentService(archive: archive).list().isEmpty)
        let again = try await ingest(archive, export, custodian: DestructionTests.jane)
        #expect(again.messagesAdded == 0 && again.duplicatesSkipped == 4)
        #expect(try await VerifyService(archive: archive).verify(actor: "test").problems.map(\.code) == ["batch_not_vouched"])
        let target = try #require(first.problems[0].detail.firstMatch(of: /--vouch (batch:\d+@\d+)/)?.1)
        try await checkpoints.sign(vouching: [String(target)], reason: "checked against its export", actor: "alice")
        let after = try await VerifyService(archive: archive).verify(actor: "test")
        #expect(after.ok, "\(after.problems.map { "\($0.code) \($0.item)" })")
    }
}
