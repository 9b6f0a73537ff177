import Archive
import Foundation
import Recordkeeper
import RecordkeeperCore
import RecordkeeperTesting
import Testing
import ZIPFoundation

@Suite("Ingest: capture batches, identity, dedupe, overlap")
struct IngestTests {
    /// An Android export with one attachment present beside it and one missing.
    static let android = """
        23/03/2022, 13:31 - Messages and calls are end-to-end encrypted. No one outside of this chat, not even WhatsApp, can read or listen to them. Tap to learn more.
        23/03/2022, 13:32 - Karen Walsh: Lane 4 is closed until 15:00
        23/03/2022, 13:33 - Javier Alvarez: copy that
        23/03/2022, 13:33 - Javier Alvarez: copy that
        23/03/2022, 13:40 - Javier Alvarez: IMG-20220323-WA0001.jpg (file attached)
        Secondary inspection queue
        23/03/2022, 13:41 - Karen Walsh: IMG-20220323-WA0002.jpg (file attached)
        23/03/2022, 13:45 - Karen Walsh: This message was deleted
        24/03/2022, 08:02 - Javier Alvarez: Reunión a las 9 en la garita,
        traigan la revisión del operativo.

        24/03/2022, 08:05 - Karen Walsh: <Media omitted>

        """

    @Test func ingestsAnAndroidExportWithMediaBesideIt() async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let archive = try await makeArchive(tmp)
        let exports = try tmp.sub("export")
        let txt = try writeText(Self.android, named: "WhatsApp Chat with Javier Alvarez.txt", in: exports)
        try Data([0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3]).write(to: exports.appendingPathComponent("IMG-20220323-WA0001.jpg"))

        let r = try await ingest(archive, txt)
        #expect(r.format == "whatsapp-android-txt")
        #expect(r.dateOrder?.order == .dmy)
        #expect(r.dateOrder?.certain == true)
        #expect(r.conversation == "Javier Alvarez")
        #expect(r.messagesAdded == 9)
        #expect(r.duplicatesSkipped == 0)
        #expect(r.attachmentsStored == 1)
        #expect(r.attachmentsMissing == 1)
        #expect(r.timeZone == "America/Phoenix")
        #expect(r.timeZoneBasis == "flag")

        let (conversation, messages) = try await RecordService(archive: archive).transcript(conversationID: r.conversationID!, actor: "test")
        #expect(conversation.participants == ["Javier Alvarez", "Karen Walsh"])
        #expect(messages.map(\.message.kind) == [.system, .user, .user, .user, .user, .user, .deleted, .user, .mediaPlaceholder])
        // Two identical "copy that" in the same minute are both kept, with distinct identities.
        #expect(messages[2].message.body == "copy that" && messages[3].message.body == "copy that")
        #expect(messages[2].message.duplicateOrdinal == 0 && messages[3].message.duplicateOrdinal == 1)
        #expect(messages[2].message.identityKey != messages[3].message.identityKey)
        // The caption is the continuation line; the attachment is stored and hashed.
        let photo = messages[4].message
        #expect(photo.body == "IMG-20220323-WA0001.jpg (file attached)\nSecondary inspection queue")
        #expect(photo.attachments.first?.blob == ContentHash.of(Data([0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3])))
        #expect(messages[5].message.attachments.first?.isMissing == true)
        // Multi-line body with a blank line kept; provenance points at the source line.
        let multi = messages[7].message
        #expect(multi.body == "Reunión a las 9 en la garita,\ntraigan la revisión del operativo.\n")
        #expect(multi.sourceLine == 9 && multi.lineCount == 3)
        // Sent time as written plus the zone assumed; the instant follows from both.
        #expect(multi.sentLocal.description == "2022-03-24T08:02:00")
        #expect(multi.sentAt == 1_648_134_120) // 08:02 MST (UTC-7, Arizona keeps no DST) = 15:02Z
        // The original bytes are a blob with their SHA-256.
        #expect(r.sourceSHA256 == ContentHash.of(Data(Self.android.utf8)).hex)
        #expect(try await archive.blobs.contains(ContentHash(hex: r.sourceSHA256!)!))
    }

    @Test func sameExportTwiceAddsNothing() async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let archive = try await makeArchive(tmp)
        let zip = try ExportGenerator.write(ExportSpec(style: .iosZip, messageCount: 700, seed: 7), to: try tmp.sub("a"))
        let first = try await ingest(archive, zip)
        #expect(first.messagesAdded == 700)
        #expect(first.attachmentsStored > 0)
        #expect(first.attachmentsMissing > 0)
        let second = try await ingest(archive, zip)
        #expect(second.messagesAdded == 0)
        #expect(second.duplicatesSkipped == 700)
        #expect(second.conversationID == first.conversationID)
        let stats = try await archive.store.stats()
        #expect(stats.messages == 700)
        #expect(stats.batches == 2)
        #expect(stats.conversations == 1)
    }

    @Test(arguments: [ExportStyle.iosZip, .androidTxt, .androidZip])
    func laterOverlappingExportAddsOnlyNewMessages(style: ExportStyle) async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let archive = try await makeArchive(tmp)
        let spec = ExportSpec(style: style, chatTitle: "Lane Ops", messageCount: 400, seed: 11)
        let early = try ExportGenerator.write(spec, to: try tmp.sub("early"))
        let later = try ExportGenerator.writeLater(spec, extra: 150, to: try tmp.sub("later"))
        let a = try await ingest(archive, early)
        let b = try await ingest(archive, later)
        #expect(a.messagesAdded == 400)
        #expect(b.messagesAdded == 150)
        #expect(b.duplicatesSkipped == 400)
        #expect(b.conversationID == a.conversationID)
        #expect(try await archive.store.stats().messages == 550)
    }

    @Test func sameChatFromTwoCustodiansStaysTwoRecords() async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let archive = try await makeArchive(tmp)
        let zip = try ExportGenerator.write(ExportSpec(style: .iosZip, messageCount: 50, seed: 3), to: try tmp.sub("a"))
        let a = try await ingest(archive, zip, custodian: "a.one@agency.example.gov")
        let b = try await ingest(archive, zip, custodian: "b.two@agency.example.gov")
        #expect(a.messagesAdded == 50 && b.messagesAdded == 50)
        #expect(a.conversationID != b.conversationID)
    }

    @Test func custodiansZoneIsUsedWhenNoFlagIsGiven() async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let archive = try await makeArchive(tmp)
        _ = try await archive.store.saveCustodian(email: officer, timeZone: "Europe/Madrid")
        let txt = try writeText("23/03/2022, 13:32 - Karen Walsh: hola\n", named: "WhatsApp Chat with Ana.txt", in: try tmp.sub("x"))
        let r = try await ingest(archive, txt, timeZone: nil)
        #expect(r.timeZone == "Europe/Madrid")
        #expect(r.timeZoneBasis == "custodian")
    }

    @Test func dateOrderOverrideWinsAndIsRecorded() async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let archive = try await makeArchive(tmp)
        let txt = try writeText("03/04/2022, 10:00 - Ann: one\n03/04/2022, 10:05 - Bob: two\n", named: "WhatsApp Chat with Ann.txt", in: try tmp.sub("x"))
        let r = try await ingest(archive, txt, dateOrder: .mdy)
        #expect(r.dateOrder?.basis == "override")
        let batch = try await archive.store.batch(id: r.batchID!)
        #expect(batch?.dateOrder?.order == .mdy)
        let (_, messages) = try await RecordService(archive: archive).transcript(conversationID: r.conversationID!, actor: "test")
        #expect(messages.first?.message.sentLocal.description == "2022-03-04T10:00:00")
    }

    @Test func linesBeforeTheFirstHeaderBecomeDefectsNotLosses() async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let archive = try await makeArchive(tmp)
        let text = "garbage before the chat\n23/03/2022, 13:32 - Karen Walsh: hello\n"
        let r = try await ingest(archive, try writeText(text, named: "WhatsApp Chat with X.txt", in: try tmp.sub("x")))
        #expect(r.messagesAdded == 1)
        #expect(r.defects == 1)
        let defects = try await archive.store.defects(batchID: r.batchID!, limit: 10)
        #expect(defects == [CaptureDefect(file: "WhatsApp Chat with X.txt", line: 1, code: "orphan_line",
                                          detail: defects.first?.detail ?? "", text: "garbage before the chat")])
    }

    @Test func badRequestsAreRefusedClearly() async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let archive = try await makeArchive(tmp)
        let service = IngestService(archive: archive)
        await #expect(throws: IngestError.self) {
            _ = try await service.ingest(IngestRequest(paths: [tmp.url], custodian: "not-an-email", actor: "t"))
        }
        await #expect(throws: IngestError.self) {
            _ = try await service.ingest(IngestRequest(paths: [tmp.url.appendingPathComponent("nope.txt")], custodian: officer, actor: "t"))
        }
        await #expect(throws: IngestError.self) {
            _ = try await service.ingest(IngestRequest(paths: [tmp.url], custodian: officer, timeZone: "Mars/Olympus", actor: "t"))
        }
        // A file that is not an export is reported, not ingested, and nothing is stored.
        let junk = try writeText("just some notes\nnothing like a chat\n", named: "notes.txt", in: try tmp.sub("j"))
        let reports = try await service.ingest(IngestRequest(paths: [junk], custodian: officer, actor: "t"))
        #expect(reports.first?.error != nil)
        #expect(try await archive.store.stats().messages == 0)
    }
}

@Suite("Ingest: hostile and awkward sources")
struct IngestEdgeTests {
    @Test func bareIPhoneChatTextNeedsItsConversationName() async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let archive = try await makeArchive(tmp)
        let txt = try writeText("[3/1/21, 9:07:12 AM] Ann: hello\r\n", named: "_chat.txt", in: try tmp.sub("x"))
        let refused = try await IngestService(archive: archive).ingest(IngestRequest(paths: [txt], custodian: officer, actor: "t"))
        #expect(refused.first?.error?.contains("--conversation") == true)
        #expect(try await archive.store.stats().conversations == 0)
        let named = try await IngestService(archive: archive).ingest(
            IngestRequest(paths: [txt], custodian: officer, timeZone: "UTC", conversationTitle: "Ops Group", actor: "t"))
        #expect(named.first?.conversation == "Ops Group" && named.first?.messagesAdded == 1)
    }

    @Test func theFirstZoneGivenForACustodianIsRecorded() async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let archive = try await makeArchive(tmp)
        let a = try writeText("23/03/2022, 13:32 - Ann: one\n", named: "WhatsApp Chat with Ann.txt", in: try tmp.sub("a"))
        let b = try writeText("24/03/2022, 13:32 - Bob: two\n", named: "WhatsApp Chat with Bob.txt", in: try tmp.sub("b"))
        _ = try await ingest(archive, a, timeZone: "America/Chicago")
        let second = try await ingest(archive, b, timeZone: nil)
        #expect(second.timeZone == "America/Chicago" && second.timeZoneBasis == "custodian")
    }

    @Test func aDamagedAttachmentBecomesADefectAndTheRestIsCaptured() async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let archive = try await makeArchive(tmp)
        let dir = try tmp.sub("zip")
        let chat = "[3/1/21, 9:07:12 AM] Ann: \u{200E}<attached: 00000001-PHOTO-2021-03-01-09-07-12.jpg>\r\n[3/1/21, 9:08:00 AM] Bob: got it\r\n"
        try Data(chat.utf8).write(to: dir.appendingPathComponent("_chat.txt"))
        let marker = Data(repeating: 0x4D, count: 64) + Data("PHOTO-PAYLOAD".utf8) + Data(repeating: 0x4D, count: 64)
        try marker.write(to: dir.appendingPathComponent("00000001-PHOTO-2021-03-01-09-07-12.jpg"))
        let zipURL = tmp.url.appendingPathComponent("WhatsApp Chat - Ops.zip")
        let zip = try ZIPFoundation.Archive(url: zipURL, accessMode: .create)
        try zip.addEntry(with: "_chat.txt", relativeTo: dir, compressionMethod: .deflate)
        try zip.addEntry(with: "00000001-PHOTO-2021-03-01-09-07-12.jpg", relativeTo: dir, compressionMethod: .none)
        // Flip a byte of the stored photo: its CRC no longer matches.
        var bytes = try Data(contentsOf: zipURL)
        let at = try #require(bytes.range(of: Data("PHOTO-PAYLOAD".utf8)))
        bytes[at.lowerBound] ^= 0xFF
        try bytes.write(to: zipURL)

        let r = try await ingest(archive, zipURL)
        #expect(r.messagesAdded == 2)
        #expect(r.attachmentsMissing == 1 && r.attachmentsStored == 0)
        #expect(r.defectSamples.map(\.code) == ["attachment_unreadable"])
        #expect(try await VerifyService(archive: archive).verify(actor: "t").ok)
    }
}

@Suite("Ingest: attachments beside a text export")
struct SiblingAttachmentTests {
    @Test func aSymbolicLinkNamedLikeAnAttachmentIsNotFollowed() async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let archive = try await makeArchive(tmp)
        let dir = try tmp.sub("export")
        let secret = tmp.url.appendingPathComponent("not-part-of-the-export.txt")
        try Data("private".utf8).write(to: secret)
        try FileManager.default.createSymbolicLink(at: dir.appendingPathComponent("IMG-20220323-WA0001.jpg"), withDestinationURL: secret)
        let txt = try writeText("23/03/2022, 13:40 - Ann: IMG-20220323-WA0001.jpg (file attached)\n", named: "WhatsApp Chat with Ann.txt", in: dir)
        let r = try await ingest(archive, txt)
        #expect(r.attachmentsStored == 0 && r.attachmentsMissing == 1)
        #expect(try await !archive.blobs.contains(ContentHash.of(Data("private".utf8))))
    }
}
