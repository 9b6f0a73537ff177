import Foundation
import Testing
@testable import Connectors
import RecordkeeperCore

@Suite("SMS Backup & Restore XML")
struct SMSTests {
    static func fixture(_ name: String) throws -> URL {
        try WhatsAppFixtures.directory.deletingLastPathComponent().appendingPathComponent("sms/\(name)")
    }

    static func parse(_ url: URL, zone: String = "America/New_York") throws -> ([CaptureItem], any CaptureReader) {
        let scratch = try WhatsAppFixtures.temporaryDirectory()
        let reader = try SMSBackupConnector().open(SourceFile(url: url), options: ParseOptions(timeZone: zone), scratch: scratch)
        var items: [CaptureItem] = []
        while let item = try reader.next() { items.append(item) }
        return (items, reader)
    }

    @Test func threadsTextsPictureMessagesAndEmojiSurrogates() throws {
        let url = try Self.fixture("sms-20210302100011.xml")
        #expect(try SMSBackupConnector().detect(SourceFile(url: url))?.format == "sms-backup-restore-xml")
        #expect(try WickrConnector().detect(SourceFile(url: url)) == nil && (try WhatsAppConnector().detect(SourceFile(url: url))) == nil)
        let (items, reader) = try Self.parse(url)
        defer { reader.close() }
        let headers = items.compactMap { if case .conversation(let h) = $0 { h } else { nil } }
        #expect(headers.map(\.sourceID) == ["tel:2025550143", "tel:3035550188", "tel:2025550143", "tel:2025550143~tel:3035550188", "tel:2025550143"])
        #expect(headers.map(\.title) == ["Sam Lee", "+13035550188", "Sam Lee", "+13035550188, Sam Lee", "Sam Lee"])
        let m = items.compactMap { if case .message(let m) = $0 { m } else { nil } }
        #expect(m.count == 6)
        // Times: ms since 1970, shown in the batch's zone (14:00 UTC is 09:00 in New York).
        #expect(m[0].sentLocal == LocalDateTime(year: 2021, month: 3, day: 1, hour: 9) && m[0].sender == "Sam Lee")
        #expect(m[1].sender == "Me" && m[1].body == "Hold it there, inspector on the way\nETA 20 min")
        #expect(m[2].body == "Seal intact 👍 photos coming" && m[3].body == "Thanks 😀")
        // The picture message: its text, its photo decoded from base64, never the SMIL layout.
        #expect(m[4].body == "Seal photo for the file" && m[4].sender == "+13035550188")
        #expect(m[4].attachments == [AttachmentReference(fileName: "mms1/IMG_0412.jpg")] && m[4].flags.contains(.hasAttachment))
        var bytes = Data()
        #expect(try reader.attachments.withAttachment(named: "mms1/IMG_0412.jpg") { bytes.append(contentsOf: $0) })
        #expect(bytes.prefix(4) == Data([0xFF, 0xD8, 0xFF, 0xE0]) && bytes.count == 16)
        #expect(m[4].raw.contains("[24 base64 characters, stored as an attachment]") && !m[4].raw.contains("/9j/"))
        #expect(m[5].body == "" && m[5].raw.contains("type=\"3\"")) // a draft, kept
        let defects = items.compactMap { if case .defect(let d) = $0 { d } else { nil } }
        #expect(defects.map(\.code) == ["no_time"] && defects[0].text.contains("Broken date"))
    }

    @Test func theCallLogIsReadAsCallsPerNumber() throws {
        let (items, reader) = try Self.parse(try Self.fixture("calls-20210302100011.xml"), zone: "UTC")
        defer { reader.close() }
        let m = items.compactMap { if case .message(let m) = $0 { m } else { nil } }
        #expect(m.map(\.body) == ["Outgoing call, 2 min 5 s", "Missed call"])
        #expect(m.allSatisfy { $0.kind == .system && $0.flags.contains(.call) } && m[0].sender == "Me")
    }

    @Test func brokenXMLStopsWithADefectAfterKeepingWhatCameBefore() throws {
        let dir = try WhatsAppFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("sms-broken.xml")
        try Data("""
            <?xml version='1.0' encoding='UTF-8' standalone='yes' ?>
            <smses count="3">
              <sms address="+12025550143" date="1614607200000" type="1" body="First" contact_name="Sam Lee" />
              <sms address="+12025550143" date="1614607260000" type="1" body="Second &#55357; half a pair" contact_name="Sam Lee" />
              <sms address="+12025550143" date="1614607320000" type="1" body="Cut <off
            """.utf8).write(to: url)
        let (items, reader) = try Self.parse(url, zone: "UTC")
        defer { reader.close() }
        let m = items.compactMap { if case .message(let m) = $0 { m } else { nil } }
        #expect(m.map(\.body) == ["First", "Second \u{FFFD} half a pair"])
        let defects = items.compactMap { if case .defect(let d) = $0 { d } else { nil } }
        // Nothing from the broken element on reaches Foundation's parser (XMLGate: some malformed XML
        // makes it trap); the defect says where the XML stopped being read, and why.
        #expect(defects.map(\.code) == ["xml_error", "lone_surrogate"] && defects[0].line == 5, "\(defects)")
        #expect(defects[0].detail.contains("a '<' inside an attribute value"), "\(defects[0].detail)")
    }

    @Test func surrogateRepairWorksAcrossChunkBoundaries() {
        let (fixed, lone) = SurrogateRepair.repair(Array("a&#55357;&#56832;b&#xD83D;&#xDE00;c&#56832;d&#38;".utf8))
        #expect(String(decoding: fixed, as: UTF8.self) == "a&#128512;b&#128512;c&#65533;d&#38;" && lone == 1)
    }
}
