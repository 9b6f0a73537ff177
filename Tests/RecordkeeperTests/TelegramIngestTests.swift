import Archive
import Foundation
import Recordkeeper
import RecordkeeperCore
import Testing

@Suite("Telegram exports into the archive")
struct TelegramIngestTests {
    static var export: URL {
        packageRoot.appendingPathComponent("Tests/ConnectorsTests/Fixtures/telegram/DataExport_2021-03-20", isDirectory: true)
    }

    @Test func anAccountExportBecomesOneConversationPerChat() async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let copy = tmp.url.appendingPathComponent("DataExport_2021-03-20")
        try FileManager.default.copyItem(at: Self.export, to: copy)
        let archive = try await makeArchive(tmp)
        let request = IngestRequest(paths: [copy], custodian: "d.kowalski@cbp.example.gov", timeZone: "America/Phoenix", actor: "test")
        let reports = try await IngestService(archive: archive).ingest(request)
        #expect(reports.allSatisfy { $0.error == nil }, "\(reports.compactMap(\.error))")
        #expect(reports.map(\.conversation) == ["Nogales Cargo Team", "Ruth Okafor"])
        #expect(reports.map(\.messagesAdded) == [11, 2] && reports.map(\.defects) == [0, 2])
        #expect(reports[0].attachmentsStored == 1 && reports[0].attachmentsMissing == 1 && reports[1].attachmentsMissing == 1)
        let conversation = try #require(try await archive.store.conversation(id: reports[0].conversationID!))
        #expect(conversation.platform == .telegram)
        let hits = try await SearchService(archive: archive).search("MX-4471", actor: "test")
        #expect(hits.total == 2)
        let again = try await IngestService(archive: archive).ingest(request)
        #expect(again.map(\.messagesAdded) == [0, 0])
        let report = try await VerifyService(archive: archive).verify(actor: "test")
        #expect(report.ok, "\(report.problems)")
    }
}
