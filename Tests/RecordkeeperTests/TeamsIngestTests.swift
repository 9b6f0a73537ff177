import Archive
import Foundation
import Recordkeeper
import RecordkeeperCore
import Testing

@Suite("Teams export into the archive")
struct TeamsIngestTests {
    @Test func pagesOfChatMessagesBecomeChatAndChannelConversations() async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let file = tmp.url.appendingPathComponent("getAllMessages-2021-03-15.json")
        try FileManager.default.copyItem(at: packageRoot.appendingPathComponent("Tests/ConnectorsTests/Fixtures/teams/getAllMessages-2021-03-15.json"), to: file)
        let archive = try await makeArchive(tmp)
        let request = IngestRequest(paths: [file], custodian: "r.okafor@cbp.example.gov", timeZone: "America/New_York", actor: "test")
        let reports = try await IngestService(archive: archive).ingest(request)
        #expect(reports.allSatisfy { $0.error == nil }, "\(reports.compactMap(\.error))")
        // The chat comes back after the channel post: one conversation, one batch, all five.
        #expect(reports.count == 2 && reports.map(\.messagesAdded) == [5, 1] && reports[0].attachmentsMissing == 1 && reports[0].defects == 1)
        let conversation = try #require(try await archive.store.conversation(id: reports[0].conversationID!))
        #expect(conversation.platform == .teams)
        #expect(try await SearchService(archive: archive).search("seals", actor: "test").total == 2)
        let again = try await IngestService(archive: archive).ingest(request)
        #expect(again.allSatisfy { $0.messagesAdded == 0 })
        #expect(try await VerifyService(archive: archive).verify(actor: "test").ok)
    }
}
