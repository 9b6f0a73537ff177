import Archive
import Foundation
import Recordkeeper
import RecordkeeperCore
import Testing

/// A file still being written while it is captured (a copy in progress, a sync client): no
/// message may be stored that the kept original does not hold (issue 17 item 2).
@Suite("Ingest: a source that changes while it is read")
struct SourceChangeTests {
    static func chat(_ count: Int) -> String {
        var lines: [String] = []
        for i in 0..<count {
            let day: Int = 1 + (i / 1440) % 28, month: Int = 1 + (i / 40320) % 12, hour: Int = (i / 60) % 24, minute: Int = i % 60
            let who = i % 2 == 0 ? "Sam Lee" : "Omar Reyes"
            lines.append(String(format: "%02d/%02d/2021, %02d:%02d - ", day, month, hour, minute) + "\(who): Manifest line \(i) checked")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The file grows after the first chunk is read: the ingest stops with `source_changed`
    /// naming the file, keeps only chunks read before the change (an interrupted batch whose
    /// messages are all in the kept original), and verify passes. Once the file is complete a
    /// new ingest stores everything, each message once.
    @Test func aFileThatGrowsWhileItIsCapturedKeepsOnlyWhatCameBefore() async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let archive = try await makeArchive(tmp)
        let url = try writeText(Self.chat(3000), named: "WhatsApp Chat with Sam Lee.txt", in: try tmp.sub("export"))
        var service = IngestService(archive: archive)
        service.chunkSize = 100
        let appended = LockedFlag()
        let reports = try await service.ingest(IngestRequest(paths: [url], custodian: officer, timeZone: "UTC", dateOrder: .dmy, actor: "test"),
                                               progress: { _ in
                                                   // The first progress report comes with the first chunk: the sync client writes now.
                                                   guard appended.set() else { return }
                                                   let h = try! FileHandle(forWritingTo: url)
                                                   _ = try! h.seekToEnd()
                                                   try! h.write(contentsOf: Data("28/12/2021, 23:59 - Sam Lee: one more line\n".utf8))
                                                   try! h.close()
                                               })
        #expect(appended.isSet)
        let error = try #require(reports.first?.error)
        #expect(error.contains("WhatsApp Chat with Sam Lee.txt changed while it was being captured") && error.contains("its size went from"), "\(error)")
        let stats = try await archive.store.stats()
        #expect(stats.messages > 0 && stats.messages < 3000 && stats.messages % 100 == 0, "\(stats.messages) kept")
        #expect(stats.unfinishedBatches == 1)
        let verified = try await VerifyService(archive: archive).verify(actor: "test")
        #expect(verified.ok, "\(verified.problems)")
        // Every kept message is in the original that was kept.
        let batch = try #require(try await archive.store.batch(id: 1))
        let original = try await archive.blobs.data(batch.sourceHash)
        #expect(original.count == Self.chat(3000).utf8.count)

        let again = try await IngestService(archive: archive).ingest(IngestRequest(paths: [url], custodian: officer, timeZone: "UTC", dateOrder: .dmy, actor: "test"))
        #expect(again.first?.error == nil)
        #expect(again.first?.messagesAdded == 3001 - stats.messages && again.first?.duplicatesSkipped == stats.messages)
        #expect(try await archive.store.stats().messages == 3001)
        #expect(try await VerifyService(archive: archive).verify(actor: "test").ok)
    }
}

/// A flag set once, from any thread.
final class LockedFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    /// True the first time.
    func set() -> Bool { lock.withLock { defer { value = true }; return !value } }
    var isSet: Bool { lock.withLock { value } }
}
