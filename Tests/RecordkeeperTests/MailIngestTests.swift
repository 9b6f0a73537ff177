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

    /// Chat exports forwarded by e-mail (the 20-day rule's legal route): found in a direct
    /// attachment, and inside a zip inside a forwarded message, zip within zip; each ingested as
    /// chat and linked to the e-mail record, whose date is the forwarding time.
    @Test func chatExportsCarriedByEmailAreIngestedAsChatAndLinkedToTheEmail() async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let mbox = packageRoot.appendingPathComponent("Tests/ConnectorsTests/Fixtures/mail-carried/carried.mbox")
        let archive = try await makeArchive(tmp)
        let request = IngestRequest(paths: [mbox], custodian: "d.kowalski@cbp.example.gov", timeZone: "America/New_York", actor: "test")
        let reports = try await IngestService(archive: archive).ingest(request)
        #expect(reports.allSatisfy { $0.error == nil }, "\(reports.compactMap(\.error))")
        let mail = reports.filter { $0.carriedBy == nil }
        let carried = reports.filter { $0.carriedBy != nil }
        #expect(mail.map(\.conversation) == ["WhatsApp chat with Port Ops", "March exports", "Berth 4 schedule"])
        #expect(mail.map(\.messagesAdded) == [1, 1, 1])
        // The PDF and the forwarded message itself are files of their e-mails, not chat.
        #expect(carried.map(\.format).allSatisfy { $0 != nil })
        let portOps = try #require(carried.first { $0.conversation == "Port Ops" }, "\(reports.map(\.conversation))")
        #expect(portOps.messagesAdded == 6)
        let harbor = try #require(carried.first { $0.carriedBy?.member == "whatsapp/WhatsApp Chat - Harbor Watch.zip" })
        #expect(harbor.messagesAdded == 3)
        let telegram = carried.filter { $0.carriedBy?.member == "telegram/result.json" }
        #expect(!telegram.isEmpty && telegram.allSatisfy { $0.messagesAdded > 0 })
        #expect(carried.count == 2 + telegram.count)

        // Each carried batch names the e-mail record that carried it and the e-mail's date.
        let first = try #require(try await archive.store.transcript(conversationID: mail[0].conversationID!, offset: 0, limit: 5).first)
        let second = try #require(try await archive.store.transcript(conversationID: mail[1].conversationID!, offset: 0, limit: 5).first)
        #expect(portOps.carriedBy?.messageID == first.id)
        #expect(portOps.carriedBy?.forwardedAt == "2024-03-22T11:30:00.000Z")
        #expect(portOps.carriedBy?.attachment.hasSuffix("/WhatsApp Chat with Port Ops.txt") == true)
        #expect(harbor.carriedBy?.messageID == second.id)
        #expect(harbor.carriedBy?.forwardedAt == "2024-03-27T12:10:00.000Z")
        let link = try #require(try await archive.store.carriage(batchID: harbor.batchID!))
        #expect(link.carrierMessageID == second.id && link.forwardedAt == 1_711_541_400)
        #expect(try await archive.store.carriedBatches(carrierMessageID: second.id).count == 1 + telegram.count)
        #expect(try await archive.store.carriedBatches(carrierMessageID: first.id).map(\.batchID) == [portOps.batchID!])

        // The chat is chat: searchable on its platform, in its own conversation.
        let hits = try await SearchService(archive: archive).search("reefer", actor: "test")
        #expect(hits.total == 1)
        let hitID = try #require(hits.hits.first).messageID
        let hit = try #require(try await archive.store.message(id: hitID))
        #expect(hit.message.platform == .whatsapp && hit.batchID == harbor.batchID)
        // The e-mail keeps its attachment as it came.
        #expect(first.message.attachments.count == 1 && first.message.attachments[0].blob != nil)

        // Forwarded again (the same mailbox): nothing new, and the archive verifies.
        let again = try await IngestService(archive: archive).ingest(request)
        #expect(again.allSatisfy { $0.messagesAdded == 0 && $0.error == nil })
        #expect(try await VerifyService(archive: archive).verify(actor: "test").ok)
    }
}
