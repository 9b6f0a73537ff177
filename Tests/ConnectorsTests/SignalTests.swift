import Foundation
import Testing
@testable import Connectors
import RecordkeeperCore

@Suite("Signal: signal-export data.json and chat.md")
struct SignalTests {
    static func folder(_ chat: String) throws -> URL {
        try WhatsAppFixtures.directory.deletingLastPathComponent().appendingPathComponent("signal/signal-export/\(chat)", isDirectory: true)
    }

    static func parse(_ url: URL) throws -> (ParsedExport, any CaptureReader) {
        let reader = try SignalConnector().open(SourceFile(url: url), options: ParseOptions(), scratch: FileManager.default.temporaryDirectory)
        var items: [CaptureItem] = []
        while let item = try reader.next() { items.append(item) }
        return (ParsedExport(description: reader.description, items: items), reader)
    }

    @Test func detectsDataJSONOverChatMarkdownAndNothingElse() throws {
        let lane = try Self.folder("Lane 7 Team")
        let json = try #require(try SignalConnector().detect(SourceFile(url: lane.appendingPathComponent("data.json"))))
        let md = try #require(try SignalConnector().detect(SourceFile(url: lane.appendingPathComponent("chat.md"))))
        #expect(json.format == "signal-export-jsonl" && md.format == "signal-export-md" && json > md)
        let whatsapp = try WhatsAppFixtures.url("android-fr.txt")
        #expect(try SignalConnector().detect(SourceFile(url: whatsapp)) == nil)
        #expect(try WhatsAppConnector().detect(SourceFile(url: lane.appendingPathComponent("data.json"))) == nil)
    }

    @Test func readsEveryMessageTypeFromDataJSONAndKeepsTheBrokenLine() throws {
        let (export, reader) = try Self.parse(try Self.folder("Lane 7 Team").appendingPathComponent("data.json"))
        #expect(export.description.platform == .signal && export.description.conversationTitle == "Lane 7 Team")
        let m = export.messages
        #expect(m.count == 9)
        #expect(m[0].sender == "Javier Alvarez" && m[0].body == "Inspection at lane 7 starts at ten")
        #expect(m[0].sentLocal == LocalDateTime(year: 2021, month: 3, day: 12, hour: 9, minute: 15, second: 4))
        // Fractional seconds, a multi-line body, the quoted text kept in the raw line only.
        #expect(m[1].sentLocal == LocalDateTime(year: 2021, month: 3, day: 12, hour: 9, minute: 20, second: 31))
        #expect(m[1].sender == "Me" && m[1].body == "Copy.\nBring the seizure forms" && m[1].raw.contains("> Inspection"))
        #expect(m[2].attachments == [AttachmentReference(fileName: "media/2021-03-12_seal.jpg")] && m[2].flags.contains(.hasAttachment))
        #expect(m[5].body == "👍" && m[5].attachments.first?.fileName == "../exported_stickers/c0ffee/12.webp")
        #expect(m[6].kind == .deleted && m[6].body == "(This message was deleted)")
        #expect(m[7].kind == .system && m[7].flags.contains(.call) && m[7].body == "Missed call")
        #expect(m[8].body == "Operación concluida ✅" && m[8].line == 10) // older exports add a "name" key
        // The cut-off line is a defect with its line number and exact text.
        let d = try #require(export.defects.first)
        #expect(export.defects.count == 1 && d.line == 9 && d.code == "not_a_message" && d.text.hasSuffix("the rest was cut off"))
        // Media: only files inside the chat folder (or the export's sticker folder); never a path out.
        #expect(reader.attachments.contains(named: "media/2021-03-12_seal.jpg"))
        #expect(!reader.attachments.contains(named: "media/2021-03-12_manifest.pdf")) // named, not exported
        #expect(!reader.attachments.contains(named: "../../../../etc/passwd"))
        #expect(!reader.attachments.contains(named: "media/../data.json"))
        #expect(!reader.attachments.contains(named: "/etc/passwd"))
    }

    @Test func readsChatMarkdownWhenThatIsAllThereIs() throws {
        let (export, _) = try Self.parse(try Self.folder("Ana Ruiz").appendingPathComponent("chat.md"))
        let m = export.messages
        #expect(m.count == 4)
        #expect(m[1].sender == "Me" && m[1].body == "Yes, both.\nSecond line of the same message" && m[1].lineCount == 2)
        #expect(m[2].attachments == [AttachmentReference(fileName: "./media/seal.jpg")])
        #expect(m[3].kind == .deleted && m[3].sentLocal == LocalDateTime(year: 2021, month: 3, day: 14, hour: 10, minute: 4))
        #expect(export.defects.map(\.line) == [1] && export.defects[0].text == "exported from Signal Desktop")
    }

    @Test func timesAreReadAsWrittenOrNotAtAll() {
        #expect(SignalConnector.localTime("2021-03-04T09:15:00") == LocalDateTime(year: 2021, month: 3, day: 4, hour: 9, minute: 15))
        #expect(SignalConnector.localTime("2021-03-04 09:15:07.5") == LocalDateTime(year: 2021, month: 3, day: 4, hour: 9, minute: 15, second: 7))
        #expect(SignalConnector.localTime("2021-03-04, 09:15") == LocalDateTime(year: 2021, month: 3, day: 4, hour: 9, minute: 15))
        #expect(SignalConnector.localTime("2021-02-30T09:15:00") == nil)
        #expect(SignalConnector.localTime("yesterday") == nil)
    }
}
