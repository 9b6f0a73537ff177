import Foundation
import Testing
@testable import Connectors
import RecordkeeperCore
import ZIPFoundation

@Suite("Slack workspace export")
struct SlackTests {
    /// Zips the hand-written export folder the way Slack delivers it (the folder inside the zip).
    static func zipped(in dir: URL) throws -> URL {
        let folder = try WhatsAppFixtures.directory.deletingLastPathComponent()
            .appendingPathComponent("slack/Agency Slack export Mar 15 2021 - Mar 16 2021", isDirectory: true)
        let zip = dir.appendingPathComponent("Agency Slack export Mar 15 2021 - Mar 16 2021.zip")
        try FileManager.default.zipItem(at: folder, to: zip, shouldKeepParent: true)
        return zip
    }

    @Test func readsChannelsPrivateChannelsAndDirectMessagesByTheirIDs() throws {
        let dir = try WhatsAppFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let zip = try Self.zipped(in: dir)
        #expect(try SlackConnector().detect(SourceFile(url: zip))?.format == "slack-export-zip")
        #expect(try WhatsAppConnector().detect(SourceFile(url: zip)) == nil)
        let reader = try SlackConnector().open(SourceFile(url: zip), options: ParseOptions(timeZone: "America/Denver"), scratch: dir)
        var items: [CaptureItem] = []
        while let item = try reader.next() { items.append(item) }
        let headers = items.compactMap { if case .conversation(let h) = $0 { h } else { nil } }
        #expect(headers == [ConversationHeader(sourceID: "D01DM4471", title: "Ruth Okafor, Dan Kowalski"),
                            ConversationHeader(sourceID: "C02GENERAL", title: "#general"),
                            ConversationHeader(sourceID: "G01OIG", title: "#oig-liaison (private)"),
                            ConversationHeader(sourceID: "C01PORTOPS", title: "#port-ops")])
        let m = items.compactMap { if case .message(let m) = $0 { m } else { nil } }
        #expect(m.count == 8)
        let ops = Array(m.suffix(6))
        #expect(ops[0].kind == .system && ops[0].body == "@Dan Kowalski has joined the channel")
        // Mentions by name, links as "label (url)", entities unescaped; ts in the batch's zone.
        #expect(ops[1].body == "@Dan Kowalski please check the manifest (https://example.gov/manifests/4471) for MX-4471 & confirm seals")
        #expect(ops[1].sender == "Ruth Okafor" && ops[1].flags.contains(.edited))
        #expect(ops[1].sentLocal == LocalDateTime(year: 2021, month: 3, day: 15, hour: 9, minute: 1)) // 15:01 UTC, daylight time in Denver
        #expect(ops[2].raw.contains("\"thread_ts\":\"1615820460.000200\""))
        // Files are not in Slack exports: named, recorded as missing; export tokens never archived.
        #expect(ops[3].attachments == [AttachmentReference(fileName: "seal-photo.jpg")] && ops[3].body == "seal-photo.jpg")
        #expect(!reader.attachments.contains(named: "seal-photo.jpg"))
        #expect(!ops[3].raw.contains("xoxe") && ops[3].raw.contains("t=[redacted]"))
        #expect(ops[4].sender == "LaneBot" && ops[4].body == "Lane 2 cleared @here")
        #expect(ops[5].kind == .system && ops[5].body == "@Ruth Okafor set the channel topic: Lane status & holds")
        let defects = items.compactMap { if case .defect(let d) = $0 { d } else { nil } }
        #expect(defects.count == 1 && defects[0].code == "not_a_message_list" && defects[0].file.hasSuffix("general/2021-03-15.json"))
    }
}
