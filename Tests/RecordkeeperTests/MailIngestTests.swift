import Archive
import Foundation
import Recordkeeper
import RecordkeeperCore
import Testing

@Suite("E-mail into the archive")
struct MailIngestTests {
    @Test func aMailboxBecomesOneConversationPerThreadAndMsgIsRefusedClearly() async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let copy = tmp.url.appendingPathComponent("mail")
        try FileManager.default.copyItem(at: packageRoot.appendingPathComponent("Tests/ConnectorsTests/Fixtures/mail"), to: copy)
        let archive = try await makeArchive(tmp)
        let request = IngestRequest(paths: [copy], custodian: "d.kowalski@cbp.example.gov", timeZone: "America/New_York", actor: "test")
        let reports = try await IngestService(archive: archive).ingest(request)
        // forward.eml, ops.mbox (two threads), outlook.msg refused with what to do.
        #expect(reports.map(\.conversation) == ["WhatsApp chat with Sam Lee", "Seals on MX-4471", "Monthly WhatsApp export reminder", nil])
        #expect(reports.map(\.messagesAdded) == [1, 2, 1, 0])
        #expect(reports[1].attachmentsStored == 1)
        #expect(reports[3].error?.contains("Outlook .msg") == true)
        let conversation = try #require(try await archive.store.conversation(id: reports[1].conversationID!))
        #expect(conversation.platform == .email)
        #expect(try await SearchService(archive: archive).search("seals", actor: "test").total == 2)
        let again = try await IngestService(archive: archive).ingest(request)
        #expect(again.prefix(3).allSatisfy { $0.messagesAdded == 0 })
        #expect(try await VerifyService(archive: archive).verify(actor: "test").ok)
    }
}
