import Archive
import Foundation
import Recordkeeper
import RecordkeeperCore
import Testing
import ZIPFoundation

@Suite("Slack exports into the archive")
struct SlackIngestTests {
    @Test func aWorkspaceExportBecomesOneConversationPerChannelAndKeepsNoTokens() async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let folder = packageRoot.appendingPathComponent("Tests/ConnectorsTests/Fixtures/slack/Agency Slack export Mar 15 2021 - Mar 16 2021", isDirectory: true)
        let zip = tmp.url.appendingPathComponent("slack-export.zip")
        try FileManager.default.zipItem(at: folder, to: zip, shouldKeepParent: true)
        let archive = try await makeArchive(tmp)
        let request = IngestRequest(paths: [zip], custodian: "r.okafor@cbp.example.gov", timeZone: "America/Denver", actor: "test")
        let reports = try await IngestService(archive: archive).ingest(request)
        #expect(reports.allSatisfy { $0.error == nil }, "\(reports.compactMap(\.error))")
        #expect(reports.map(\.conversation) == ["Ruth Okafor, Dan Kowalski", "#general", "#oig-liaison (private)", "#port-ops"])
        #expect(reports.map(\.messagesAdded) == [1, 0, 1, 6] && reports.map(\.defects) == [0, 1, 0, 0])
        #expect(reports[3].attachmentsMissing == 1)
        let hits = try await SearchService(archive: archive).search("seals", actor: "test")
        #expect(hits.total == 3)
        // No export token reaches the record store.
        let (_, ops) = try await RecordService(archive: archive).transcript(conversationID: reports[3].conversationID!, actor: "test")
        #expect(ops.allSatisfy { !$0.message.raw.contains("xoxe") })
        let again = try await IngestService(archive: archive).ingest(request)
        #expect(again.allSatisfy { $0.messagesAdded == 0 })
        let report = try await VerifyService(archive: archive).verify(actor: "test")
        #expect(report.ok, "\(report.problems)")
    }
}
