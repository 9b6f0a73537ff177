import Archive
import Foundation
import Recordkeeper
import RecordkeeperCore
import Testing

@Suite("Signal exports into the archive")
struct SignalIngestTests {
    /// The hand-written signal-export destination (one folder per chat) in the connector fixtures.
    static var exportRoot: URL {
        packageRoot.appendingPathComponent("Tests/ConnectorsTests/Fixtures/signal/signal-export", isDirectory: true)
    }

    @Test func aSignalExportFolderBecomesOneBatchPerChat() async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let copy = tmp.url.appendingPathComponent("signal-export")
        try FileManager.default.copyItem(at: Self.exportRoot, to: copy)
        let archive = try await makeArchive(tmp)
        let request = IngestRequest(paths: [copy], custodian: "j.alvarez@cbp.example.gov", timeZone: "America/Los_Angeles", actor: "test")
        let reports = try await IngestService(archive: archive).ingest(request)
        #expect(reports.map(\.source) == ["Ana Ruiz/chat.md", "Lane 7 Team/data.json"]) // data.json wins over chat.md
        #expect(reports.allSatisfy { $0.error == nil && $0.format?.hasPrefix("signal-export") == true })
        let lane = try #require(reports.last)
        #expect(lane.messagesAdded == 9 && lane.defects == 1 && lane.attachmentsStored == 1 && lane.attachmentsMissing == 3)
        let ana = try #require(reports.first)
        #expect(ana.messagesAdded == 4 && ana.defects == 1 && ana.attachmentsStored == 1)

        let conversation = try #require(try await archive.store.conversation(id: lane.conversationID!))
        #expect(conversation.platform == .signal && conversation.title == "Lane 7 Team")
        let hits = try await SearchService(archive: archive).search("seizure", actor: "test")
        #expect(hits.total == 1 && hits.hits.first?.conversationTitle == "Lane 7 Team")
        let accented = try await SearchService(archive: archive).search("operacion", actor: "test")
        #expect(accented.total == 1)

        // The original data.json is what the archive keeps and hashes; a second run adds nothing.
        let again = try await IngestService(archive: archive).ingest(request)
        #expect(again.map(\.messagesAdded) == [0, 0] && again.map(\.duplicatesSkipped) == [4, 9])
        let report = try await VerifyService(archive: archive).verify(actor: "test")
        #expect(report.ok, "\(report.problems)")
    }
}
