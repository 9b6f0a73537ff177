import Foundation
import Testing
@testable import Connectors
import RecordkeeperCore
import ZIPFoundation

/// iOS "Export chat → Attach media" zips, built at test time from `Fixtures/whatsapp/ios-zip/`.
@Suite("WhatsApp iOS zip")
struct WhatsAppZipTests {
    static let members = [
        "_chat.txt",
        "00000002-PHOTO-2022-03-18-14-57-10.png",
        "00000003-John Doe.vcf",
        "00000004-Itinerary.pdf",
    ]
    /// Named in `_chat.txt`, deliberately absent from the zip.
    static let missingMedia = "00000005-PHOTO-2022-03-18-15-00-00.jpg"

    static let expected = FixtureCase(
        file: "ios-zip/_chat.txt", format: "whatsapp-ios-zip", headerStyle: "bracket", order: .mdy, certain: true,
        messages: [
            .init(1, "2022-03-18T14:56:01", nil, .system, body: encryptionNoticeEN, checkSender: false),
            .init(2, "2022-03-18T14:57:10", "Dmitry S", flags: .hasAttachment,
                  attachments: ["00000002-PHOTO-2022-03-18-14-57-10.png"]),
            .init(3, "2022-03-18T14:58:00", "Me", flags: .hasAttachment, attachments: ["00000003-John Doe.vcf"]),
            .init(4, "2022-03-18T14:59:30", "Dmitry S", flags: .hasAttachment, attachments: ["00000004-Itinerary.pdf"],
                  body: "Itinerary.pdf • 1 page <attached: 00000004-Itinerary.pdf>"),
            .init(5, "2022-03-18T15:00:00", "Me", flags: .hasAttachment, attachments: [missingMedia]),
            .init(6, "2022-03-19T09:00:00", "Dmitry S", body: "Thanks!"),
        ])

    /// Zips `members` of the `ios-zip` fixture folder (at the zip root) into `directory/zipName`.
    static func makeZip(in directory: URL, named zipName: String = "WhatsApp Chat - Dmitry S.zip",
                        members: [String] = members) throws -> URL {
        let source = try WhatsAppFixtures.url("ios-zip")
        let zipURL = directory.appendingPathComponent(zipName)
        let archive = try Archive(url: zipURL, accessMode: .create)
        for member in members {
            try archive.addEntry(with: member, relativeTo: source, compressionMethod: .deflate)
        }
        return zipURL
    }

    static func read(_ reader: any CaptureReader, _ name: String) throws -> Data? {
        var data = Data()
        let found = try reader.attachments.withAttachment(named: name) { data.append(contentsOf: $0) }
        return found ? data : nil
    }

    @Test("messages, sources and date order of an iOS zip")
    func messages() throws {
        let dir = try WhatsAppFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let zip = try Self.makeZip(in: dir)
        let parsed = try WhatsAppFixtures.parse(zip)
        check(parsed, against: Self.expected)
        #expect(parsed.description.textMember == "_chat.txt")
        #expect(parsed.description.conversationTitle == "Dmitry S")
        #expect(parsed.messages.first?.senderRaw == "\u{202A}+40\u{00A0}521\u{00A0}028\u{00A0}62\u{00A0}18\u{202C}")
    }

    @Test("the zip is detected as WhatsApp")
    func detect() throws {
        let dir = try WhatsAppFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let zip = try Self.makeZip(in: dir)
        #expect(try WhatsAppConnector().detect(SourceFile(url: zip)) == Detection(confidence: 90, format: "whatsapp-zip"))
    }

    @Test("media in the zip stream back byte for byte; media named but not carried is reported missing")
    func attachments() throws {
        let dir = try WhatsAppFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let zip = try Self.makeZip(in: dir)
        let scratch = dir.appendingPathComponent("scratch", isDirectory: true)
        let reader = try WhatsAppConnector().open(SourceFile(url: zip), options: ParseOptions(), scratch: scratch)
        defer { reader.close() }

        var named: [String] = []
        while let item = try reader.next() {
            if case .message(let m) = item { named += m.attachments.map(\.fileName) }
        }
        #expect(named == Array(Self.members.dropFirst()) + [Self.missingMedia])

        let source = try WhatsAppFixtures.url("ios-zip")
        for name in Self.members.dropFirst() {
            let bytes = try Self.read(reader, name)
            #expect(bytes == (try Data(contentsOf: source.appendingPathComponent(name))), "\(name)")
        }
        #expect(try Self.read(reader, "00000002-PHOTO-2022-03-18-14-57-10.png")?.prefix(8)
                == Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))
        #expect(try Self.read(reader, Self.missingMedia) == nil)
    }

    @Test("close() removes the chat text extracted to scratch")
    func closeCleansScratch() throws {
        let dir = try WhatsAppFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let zip = try Self.makeZip(in: dir)
        let scratch = dir.appendingPathComponent("scratch", isDirectory: true)
        let reader = try WhatsAppConnector().open(SourceFile(url: zip), options: ParseOptions(), scratch: scratch)
        while try reader.next() != nil {}
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path).count == 1)
        reader.close()
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path).isEmpty)
    }

    @Test("a zip without chat text is refused with no_chat_text")
    func noChatText() throws {
        let dir = try WhatsAppFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let zip = try Self.makeZip(in: dir, named: "photos.zip", members: ["00000002-PHOTO-2022-03-18-14-57-10.png"])
        #expect(try WhatsAppConnector().detect(SourceFile(url: zip)) == nil)
        let error = #expect(throws: ConnectorError.self) {
            _ = try WhatsAppConnector().open(SourceFile(url: zip), options: ParseOptions(), scratch: dir)
        }
        #expect(error?.code == .noChatText)
    }
}
