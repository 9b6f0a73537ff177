import Foundation
import Testing
@testable import Connectors
import RecordkeeperCore

@Suite("Wickr: data-retention bot output")
struct WickrTests {
    static var messagesFile: URL {
        get throws {
            try WhatsAppFixtures.directory.deletingLastPathComponent()
                .appendingPathComponent("wickr/compliance/messages/receivedMessages_20230804.txt")
        }
    }

    @Test func readsEveryTypeAcrossInterleavedConversationsAndKeepsWhatItCannotRead() throws {
        let url = try Self.messagesFile
        #expect(try WickrConnector().detect(SourceFile(url: url))?.format == "wickr-retention-json")
        #expect(try WhatsAppConnector().detect(SourceFile(url: url)) == nil)
        let reader = try WickrConnector().open(SourceFile(url: url), options: ParseOptions(), scratch: FileManager.default.temporaryDirectory)
        #expect(reader.isMultiConversation && reader.description.sourceTimeZone == "UTC")
        var items: [CaptureItem] = []
        while let item = try reader.next() { items.append(item) }
        let headers = items.compactMap { if case .conversation(let h) = $0 { h } else { nil } }
        // Room, direct, room, direct, room: each switch is announced; titles come from the room's
        // creation, or from the two people of a direct conversation.
        #expect(headers.map(\.title) == ["Denver Field Ops", "Wickr: m.chen@cbp.example.gov and r.okafor@cbp.example.gov",
                                          "Denver Field Ops", "Wickr: m.chen@cbp.example.gov and r.okafor@cbp.example.gov", "Denver Field Ops"])
        #expect(headers[0].sourceID.hasPrefix("S7c2e9a41"))
        let messages = items.compactMap { if case .message(let m) = $0 { m } else { nil } }
        #expect(messages.count == 13)
        let create = messages[0]
        #expect(create.kind == .system && create.flags.contains(.disappearing))
        #expect(create.body == "Room created: Denver Field Ops; members r.okafor@cbp.example.gov, m.chen@cbp.example.gov, l.park@cbp.example.gov; messages expire after 30 day(s); burn-on-read after 1 day(s)")
        #expect(create.sentLocal == LocalDateTime(year: 2023, month: 8, day: 4, hour: 19, minute: 10, second: 58))
        #expect(messages[1].body == "Roll call for the 0600 shift" && messages[1].flags.contains(.disappearing))
        #expect(messages[3].body == "gate3-log.pdf" && messages[3].attachments.first?.fileName.hasSuffix("9f8e7d6c_gate3-log.pdf") == true)
        #expect(reader.attachments.contains(named: "/tmp/retbot/compliance/attachments/9f8e7d6c_gate3-log.pdf"))
        #expect(!reader.attachments.contains(named: "../../etc/passwd") && !reader.attachments.contains(named: "/etc/passwd"))
        #expect(messages[5].body == "Present, at the west lot" && messages[5].flags.contains(.edited))
        #expect(messages[6].body == "l.park@cbp.example.gov reacted (thumbs up) to message a1000000000000000000000000000002")
        // The pretty-printed recall spans its lines; the recalled message itself stays a record.
        #expect(messages[7].body == "m.chen@cbp.example.gov recalled message a1000000000000000000000000000003 for everyone")
        #expect(messages[7].lineCount == 12 && messages[7].line == 8)
        #expect(messages[8].body == "Missed call" && messages[8].flags.contains(.call))
        #expect(messages[9].body == "Location: 39.7392, -104.9903" && messages[9].flags.contains(.location))
        // Two objects on one line are two records; a timer change is an event.
        #expect(messages[10].body == "r.okafor@cbp.example.gov changed the room settings; messages expire after 7 day(s); burn-on-read off")
        #expect(messages[11].body == "r.okafor@cbp.example.gov added j.diaz@cbp.example.gov" && messages[10].line == messages[11].line)
        #expect(messages[12].body == "Wickr message of type 4015")
        let defects = items.compactMap { if case .defect(let d) = $0 { d } else { nil } }
        #expect(defects.count == 1 && defects[0].code == "truncated_object" && defects[0].text == "{\"message\": \"Meet at gate 3 at")
    }

    @Test func theFramerCutsObjectsNotStrings() {
        var f = JSONObjectFramer(maxBytes: 1000)
        #expect(f.feed(#"{"a": "}{", "b": {"c": 1}}{"d": 2}"#) == [.object(#"{"a": "}{", "b": {"c": 1}}"#, line: 1), .object(#"{"d": 2}"#, line: 1)])
        #expect(f.feed("{").isEmpty && f.feed(#""e": "x\"y""#).isEmpty && f.feed("}") == [.object("{\n\"e\": \"x\\\"y\"\n}", line: 2)])
        #expect(f.feed("garbage") == [.stray("garbage")])
        #expect(f.feed(#"{"open": "no end"#) == [.broken(#"{"open": "no end"#)])
        var small = JSONObjectFramer(maxBytes: 10)
        #expect(small.feed(#"{"long": "#).isEmpty)     // 10 bytes with its line break: at the limit
        #expect(small.feed("1234567890") == [.tooLarge]) // past it
        #expect(small.feed(#"{"ok": 1}"#) == [.object(#"{"ok": 1}"#, line: 3)]) // and reading goes on
    }
}
