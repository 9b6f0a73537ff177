import Archive
import Foundation
import Recordkeeper
import RecordkeeperCore
import Testing

@Suite("Wickr retention output into the archive")
struct WickrIngestTests {
    static var compliance: URL {
        packageRoot.appendingPathComponent("Tests/ConnectorsTests/Fixtures/wickr/compliance", isDirectory: true)
    }

    @Test func oneFileOfInterleavedConversationsBecomesOneBatchPerConversation() async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let copy = tmp.url.appendingPathComponent("compliance")
        try FileManager.default.copyItem(at: Self.compliance, to: copy)
        let archive = try await makeArchive(tmp)
        let file = copy.appendingPathComponent("messages/receivedMessages_20230804.txt")
        let request = IngestRequest(paths: [file], custodian: "r.okafor@cbp.example.gov", timeZone: "America/Denver", actor: "test")
        let reports = try await IngestService(archive: archive).ingest(request)
        #expect(reports.count == 2 && reports.allSatisfy { $0.error == nil })
        #expect(reports.map(\.conversation) == ["Denver Field Ops", "Wickr: m.chen@cbp.example.gov and r.okafor@cbp.example.gov"])
        #expect(reports.map(\.messagesAdded) == [10, 3] && reports.map(\.defects) == [1, 0])
        #expect(reports[1].attachmentsStored == 1)
        // Absolute times are kept in UTC, whatever --timezone says.
        #expect(reports.allSatisfy { $0.timeZone == "UTC" && $0.timeZoneBasis == "source" })
        let batches = Set(reports.compactMap(\.batchID))
        #expect(batches.count == 2)
        for id in batches { #expect(try await archive.store.batch(id: id)?.status == "complete") }

        // The room is one conversation, named by its vgroupid: a later file continues it.
        let later = copy.appendingPathComponent("messages/receivedMessages_20230805.txt")
        let room = "S7c2e9a41b05d4e8f9a1b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5a6b7"
        try Data(#"{"message": "Handover done", "message_id": "c1", "msg_ts": "1691262658.000000", "msgtype": 1000, "sender": "l.park@cbp.example.gov", "vgroupid": "\#(room)"}"#.utf8 + [0x0A]).write(to: later)
        let next = try await IngestService(archive: archive).ingest(IngestRequest(paths: [later], custodian: "r.okafor@cbp.example.gov", actor: "test"))
        #expect(next.first?.conversationID == reports[0].conversationID && next.first?.messagesAdded == 1)

        let again = try await IngestService(archive: archive).ingest(request)
        #expect(again.map(\.messagesAdded) == [0, 0] && again.map(\.duplicatesSkipped) == [10, 3])
        let hits = try await SearchService(archive: archive).search("\"west lot\"", actor: "test")
        #expect(hits.total == 1 && hits.hits.first?.sentLocal == "2023-08-04T19:13:18")
        let report = try await VerifyService(archive: archive).verify(actor: "test")
        #expect(report.ok, "\(report.problems)")
    }
}
