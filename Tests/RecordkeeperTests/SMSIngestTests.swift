import Archive
import Foundation
import Recordkeeper
import RecordkeeperCore
import Testing

@Suite("SMS Backup & Restore into the archive")
struct SMSIngestTests {
    static var fixtures: URL { packageRoot.appendingPathComponent("Tests/ConnectorsTests/Fixtures/sms", isDirectory: true) }

    @Test func aPhoneBackupBecomesOneConversationPerThreadWithLocalTimes() async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let copy = tmp.url.appendingPathComponent("phone")
        try FileManager.default.copyItem(at: Self.fixtures, to: copy)
        let archive = try await makeArchive(tmp)
        let request = IngestRequest(paths: [copy], custodian: "m.chen@cbp.example.gov", timeZone: "America/Denver", actor: "test")
        let reports = try await IngestService(archive: archive).ingest(request)
        #expect(reports.allSatisfy { $0.error == nil }, "\(reports.compactMap(\.error))")
        // calls-….xml: two threads; sms-….xml: Sam Lee, the unknown number, and the group.
        #expect(reports.map(\.conversation) == ["Sam Lee", "+13035550188", "Sam Lee", "+13035550188", "+13035550188, Sam Lee"])
        #expect(Set(reports.compactMap(\.conversationID)).count == 3) // calls and texts with one number are one conversation
        let sam = reports[2]
        #expect(sam.messagesAdded == 4 && sam.timeZone == "America/Denver" && sam.timeZoneBasis == "flag")
        let group = reports[4]
        #expect(group.messagesAdded == 1 && group.attachmentsStored == 1 && group.defects == 1)
        let conversation = try #require(try await archive.store.conversation(id: sam.conversationID!))
        #expect(conversation.platform == .sms)
        let (_, messages) = try await RecordService(archive: archive).transcript(conversationID: sam.conversationID!, actor: "test")
        #expect(messages.first?.message.sentLocal.description == "2021-03-01T07:00:00") // 14:00 UTC in Denver
        #expect(messages.contains { $0.message.body == "Thanks 😀" })
        let again = try await IngestService(archive: archive).ingest(request)
        #expect(again.allSatisfy { $0.messagesAdded == 0 })
        let report = try await VerifyService(archive: archive).verify(actor: "test")
        #expect(report.ok, "\(report.problems)")
        // The decoded MMS parts were scratch files only: nothing is left behind.
        let scratch = (try? FileManager.default.contentsOfDirectory(atPath: archive.directory.scratchURL.path)) ?? []
        #expect(scratch.filter { $0.hasPrefix("sms-") }.isEmpty)
    }
}
