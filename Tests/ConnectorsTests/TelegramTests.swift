import Foundation
import Testing
@testable import Connectors
import RecordkeeperCore

@Suite("Telegram Desktop JSON export")
struct TelegramTests {
    static var result: URL {
        get throws {
            try WhatsAppFixtures.directory.deletingLastPathComponent().appendingPathComponent("telegram/DataExport_2021-03-20/result.json")
        }
    }

    @Test func readsAWholeAccountExportAfterRepairingTheWritersDefects() throws {
        let url = try Self.result
        #expect(try TelegramConnector().detect(SourceFile(url: url))?.format == "telegram-desktop-json-account")
        #expect(try WickrConnector().detect(SourceFile(url: url)) == nil)
        let scratch = try WhatsAppFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let reader = try TelegramConnector().open(SourceFile(url: url), options: ParseOptions(timeZone: "America/Phoenix"), scratch: scratch)
        var items: [CaptureItem] = []
        while let item = try reader.next() { items.append(item) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path).isEmpty) // the repaired copy is gone

        let headers = items.compactMap { if case .conversation(let h) = $0 { h } else { nil } }
        #expect(headers == [ConversationHeader(sourceID: "private_group:4471820931", title: "Nogales Cargo Team"),
                            ConversationHeader(sourceID: "personal_chat:7781", title: "Ruth Okafor")])
        let m = items.compactMap { if case .message(let m) = $0 { m } else { nil } }
        #expect(m.count == 13)
        #expect(m[0].kind == .system && m[0].sender == "Dan Kowalski" && m[0].body == "create group: “Nogales Cargo Team”: Dan Kowalski, Ruth Okafor")
        #expect(m[1].flags.contains(.disappearing) && m[1].body == "set messages ttl: period 86400 s")
        // Text arrays with entities are joined; times come from date_unixtime in the given zone.
        #expect(m[2].body == "Trailer MX-4471 cleared the x-ray at https://example.gov/lane/2")
        #expect(m[2].sentLocal == LocalDateTime(year: 2021, month: 3, day: 15, hour: 9) && m[2].line == 47)
        #expect(m[3].flags.contains(.edited))
        #expect(m[4].attachments == [AttachmentReference(fileName: "photos/photo_1@15-03-2021_09-05-00.jpg")])
        #expect(reader.attachments.contains(named: "photos/photo_1@15-03-2021_09-05-00.jpg"))
        #expect(!reader.attachments.contains(named: "../result.json") && !reader.attachments.contains(named: "/etc/passwd"))
        // A file the export skipped: named as missing, with Telegram's sentence.
        #expect(m[5].attachments.first?.fileName == "file: (File not included. Change data exporting settings to download.)")
        #expect(!reader.attachments.contains(named: m[5].attachments[0].fileName) && m[5].body == "(video file)")
        #expect(m[6].body == "Location: 31.3323, -110.9436" && m[6].flags.contains(.location))
        #expect(m[7].body == "Poll: Second shift at dock 2? — Yes (2); No (0)") // no date_unixtime: the written time
        #expect(m[7].sentLocal == LocalDateTime(year: 2021, month: 3, day: 15, hour: 9, minute: 12))
        #expect(m[8].body == "Seal number 88412\u{01}B")           // the \x01 escape, repaired
        #expect(m[9].body == "👍")                                   // the unquoted document_id, repaired
        #expect(m[10].flags.contains(.call) && m[10].body == "phone call: 94 s: hangup")
        #expect(m[12].body == "👌" && m[12].attachments.first?.fileName == "stickers/sticker.webp")
        let defects = items.compactMap { if case .defect(let d) = $0 { d } else { nil } }
        #expect(defects.map(\.code) == ["no_time", "repaired_json"])
        #expect(defects[0].text.contains("no date at all") && defects[1].detail.hasPrefix("2 place(s)"))
    }

    @Test func repairsOnlyWhatIsBroken() {
        #expect(TelegramRepair.fixHexEscapes(#"a\x01b\\x02c\"x"#) == (#"a\u0001b\\x02c\"x"#, 1))
        #expect(TelegramRepair.quoteDocumentID(#"  "document_id": video_files/x.webm"#) == #"  "document_id": "video_files/x.webm""#)
        #expect(TelegramRepair.quoteDocumentID(#""document_id": 5368324170671202286,"#) == nil)
        #expect(TelegramRepair.quoteDocumentID(#""document_id": "ok""#) == nil)
    }

    @Test func notJSONAtAllIsAClearError() throws {
        let dir = try WhatsAppFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("result.json")
        try Data(#"{"name": "x", "type": "personal_chat", "id": 1, "messages": [ {"id": 1, "#.utf8).write(to: url)
        #expect(throws: ConnectorError.self) { try TelegramConnector().open(SourceFile(url: url), options: ParseOptions(), scratch: dir) }
    }
}
