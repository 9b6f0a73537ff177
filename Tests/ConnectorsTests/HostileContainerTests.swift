import Foundation
@testable import Connectors
import RecordkeeperCore
import Testing
import ZIPFoundation

/// Containers and encodings built to mislead (issue 17 item 2): each is refused, or read with a
/// defect that names where, and nothing is silently dropped.
@Suite("Hostile containers: duplicate names, bad bytes, MIME floods and depths")
struct HostileContainerTests {
    static func zip(_ members: [(String, Data)], in dir: URL, named name: String) throws -> URL {
        let url = dir.appendingPathComponent(name)
        let archive = try Archive(url: url, accessMode: .create)
        for (path, data) in members {
            try archive.addEntry(with: path, type: .file, uncompressedSize: Int64(data.count), compressionMethod: .deflate) { position, size in
                data.subdata(in: Int(position)..<Int(position) + size)
            }
        }
        return url
    }

    /// Two members of one name (ZIPFoundation writes what it is given): a WhatsApp export, a
    /// Slack export and a zip of exports are each refused with the name and both entries, rather
    /// than read one way here and another way by another tool.
    @Test func aZipThatNamesAMemberTwiceIsRefusedNamingIt() throws {
        let dir = try WhatsAppFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let chat = "01/02/2021, 10:00 - Sam Lee: IMG-20210201-WA0001.jpg (file attached)\n"
        let twoChats = try Self.zip([("WhatsApp Chat with Sam Lee.txt", Data(chat.utf8)),
                                     ("WhatsApp Chat with Sam Lee.txt", Data("01/02/2021, 10:00 - Sam Lee: the other copy\n".utf8))], in: dir, named: "two-chats.zip")
        let twoPhotos = try Self.zip([("WhatsApp Chat with Sam Lee.txt", Data(chat.utf8)), ("IMG-20210201-WA0001.jpg", Data([0xFF, 0xD8, 0x01])),
                                      ("IMG-20210201-WA0001.jpg", Data([0xFF, 0xD8, 0x02]))], in: dir, named: "two-photos.zip")
        // Two members the reader would take for one file: the same name in two folders, and in another case.
        let sameName = try Self.zip([("WhatsApp Chat with Sam Lee.txt", Data(chat.utf8)), ("a/IMG-20210201-WA0001.jpg", Data([0xFF, 0xD8, 0x01])),
                                     ("b/img-20210201-wa0001.JPG", Data([0xFF, 0xD8, 0x02]))], in: dir, named: "same-name.zip")
        #expect {
            _ = try WhatsAppConnector().detect(SourceFile(url: sameName))
        } throws: { ($0 as? ConnectorError)?.message.contains("which name the same file") == true }
        for url in [twoChats, twoPhotos] {
            #expect {
                _ = try WhatsAppConnector().detect(SourceFile(url: url))
            } throws: { error in
                let e = error as? ConnectorError
                return e?.code == .hostileArchive && e?.message.contains("twice (entries ") == true && e?.message.contains(url.lastPathComponent) == true
            }
            #expect(throws: ConnectorError.self) { _ = try WhatsAppConnector().open(SourceFile(url: url), options: ParseOptions(), scratch: dir) }
        }
        let slack = try Self.zip([("users.json", Data("[]".utf8)), ("channels.json", Data("[]".utf8)), ("general/2021-02-01.json", Data("[]".utf8)),
                                  ("general/2021-02-01.json", Data("[]".utf8))], in: dir, named: "slack.zip")
        #expect(throws: ConnectorError.self) { _ = try SlackConnector().open(SourceFile(url: slack), options: ParseOptions(), scratch: dir) }
        let outer = try Self.zip([("a/export.zip", Data("x".utf8)), ("a/export.zip", Data("y".utf8))], in: dir, named: "outer.zip")
        #expect {
            _ = try NestedZip.unpack(outer, into: dir.appendingPathComponent("out"))
        } throws: { error in
            (error as? ConnectorError)?.message.contains("'a/export.zip' twice (entries 1 and 2)") == true
        }
    }

    /// Bytes that are not UTF-8 in a chat: the message is kept (shown with U+FFFD) and a defect
    /// names its line; the original export keeps the bytes.
    @Test func bytesThatAreNotUTF8AreKeptShownAndReported() throws {
        var data = Data("01/02/2021, 10:00 - Sam Lee: price \u{20AC}".utf8)
        data.append(contentsOf: [0xFF, 0xFE, 0x80])
        data.append(contentsOf: Array(" per ton\n01/02/2021, 10:01 - Sam Lee: fine\n01/02/2021, 10:02 - Sam Lee: cut ".utf8) + [0xE2, 0x82] + Array("\n".utf8))
        let dir = try WhatsAppFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("WhatsApp Chat with Sam Lee.txt")
        try data.write(to: url)
        let parsed = try WhatsAppFixtures.parse(url)
        #expect(parsed.messages.count == 3)
        #expect(parsed.messages[0].body.hasPrefix("price \u{20AC}\u{FFFD}") && parsed.messages[0].body.hasSuffix(" per ton"))
        #expect(parsed.messages[1].body == "fine")
        #expect(parsed.defects.map(\.code) == ["not_utf8", "not_utf8"])
        #expect(parsed.defects.map(\.line) == [1, 3])
        #expect(parsed.defects.allSatisfy { $0.text.isEmpty }) // the defect names the place; it copies nothing
    }

    static func mail(_ body: String, in dir: URL) throws -> URL {
        let url = dir.appendingPathComponent("flood.eml")
        try Data(("From: Sam Lee <sam.lee@agency.example.gov>\r\nTo: ops@agency.example.gov\r\nSubject: Manifests\r\nDate: Mon, 1 Feb 2021 10:00:00 -0500\r\n"
            + "Message-ID: <flood@agency.example.gov>\r\nMIME-Version: 1.0\r\n" + body).utf8).write(to: url)
        return url
    }

    /// Five thousand parts: the first thousand are kept as attachments and a defect counts the
    /// rest (which the archived original keeps); the text part is still the body.
    @Test func anEMailWithThousandsOfPartsKeepsABoundedNumberAndSaysSo() throws {
        let dir = try WhatsAppFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var body = "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nSee the attached scans.\r\n"
        for i in 0..<5000 { body += "--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"scan\(i).bin\"\r\n\r\n\(i)\r\n" }
        body += "--b--\r\n"
        let (items, reader) = try MailTests.parse(try Self.mail(body, in: dir))
        defer { reader.close() }
        let messages = items.compactMap { if case .message(let m) = $0 { m } else { nil } }
        let defects = items.compactMap { if case .defect(let d) = $0 { d } else { nil } }
        #expect(messages.count == 1 && messages[0].body.contains("See the attached scans."))
        #expect(messages[0].attachments.count == MIME.maxParts)
        #expect(defects.map(\.code) == ["mime_too_many_parts"])
        #expect(defects.first?.detail.contains("the other 4000 stay in the archived original") == true)
    }

    /// Multiparts nested five hundred deep: read to the depth limit, a defect says the rest was
    /// not read, and nothing overflows the stack.
    @Test func anEMailNestedWithoutEndIsReadToALimitAndSaysSo() throws {
        let dir = try WhatsAppFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var body = ""
        for i in 0..<500 { body += "Content-Type: multipart/mixed; boundary=\"b\(i)\"\r\n\r\n--b\(i)\r\n" }
        body += "Content-Type: text/plain\r\n\r\nThe innermost part.\r\n"
        for i in (0..<500).reversed() { body += "--b\(i)--\r\n" }
        let (items, reader) = try MailTests.parse(try Self.mail(body, in: dir))
        defer { reader.close() }
        let messages = items.compactMap { if case .message(let m) = $0 { m } else { nil } }
        let defects = items.compactMap { if case .defect(let d) = $0 { d } else { nil } }
        #expect(messages.count == 1)
        #expect(defects.map(\.code) == ["mime_too_deep"])
    }
}
