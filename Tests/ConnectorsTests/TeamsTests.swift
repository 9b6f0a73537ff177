import Foundation
import Testing
@testable import Connectors
import RecordkeeperCore

@Suite("Microsoft Teams chatMessage JSON")
struct TeamsTests {
    @Test func readsExportAPIPagesIntoChatsAndChannels() throws {
        let url = try WhatsAppFixtures.directory.deletingLastPathComponent().appendingPathComponent("teams/getAllMessages-2021-03-15.json")
        #expect(try TeamsConnector().detect(SourceFile(url: url))?.format == "teams-graph-chatmessage-json")
        #expect(try TelegramConnector().detect(SourceFile(url: url)) == nil && (try WickrConnector().detect(SourceFile(url: url))) == nil)
        let reader = try TeamsConnector().open(SourceFile(url: url), options: ParseOptions(timeZone: "America/New_York"), scratch: FileManager.default.temporaryDirectory)
        var items: [CaptureItem] = []
        while let item = try reader.next() { items.append(item) }
        let headers = items.compactMap { if case .conversation(let h) = $0 { h } else { nil } }
        #expect(headers.map(\.sourceID) == ["chat:19:2da4c29f6d7041eca70b638b43d45437@thread.v2",
                                            "channel:fbe2bf47-16c8-47cf-b4a5-4b9b187c508b/19:4a95f7d8db4c4e7fae857bcebe0623e6@thread.tacv2",
                                            "chat:19:2da4c29f6d7041eca70b638b43d45437@thread.v2"])
        #expect(headers[1].title == "Teams channel 19:4a95f7d8db4c4e7fae857") // a post's subject names its thread, not the channel
        let m = items.compactMap { if case .message(let m) = $0 { m } else { nil } }
        #expect(m.count == 6)
        #expect(m[0].kind == .system && m[0].body == "membersAdded: Dan Kowalski")
        // HTML to text; UTC times shown in the batch's zone (15:01Z is 11:01 in New York, daylight time).
        #expect(m[1].body == "Please check the manifest for MX-4471 & confirm the seals today.\nThanks" && m[1].sender == "Ruth Okafor")
        #expect(m[1].sentLocal == LocalDateTime(year: 2021, month: 3, day: 15, hour: 11, minute: 1))
        #expect(m[2].body == "Confirmed: seals 88412 <and> 88413" && m[2].flags.contains(.edited))
        #expect(m[3].attachments == [AttachmentReference(fileName: "manifest-4471.pdf")] && !reader.attachments.contains(named: "manifest-4471.pdf"))
        #expect(m[4].body == "Lane 2 closes at 1800 for maintenance")
        #expect(m[5].kind == .deleted && m[5].body == "(This message was deleted)")
        let defects = items.compactMap { if case .defect(let d) = $0 { d } else { nil } }
        #expect(defects.map(\.code) == ["no_time"] && defects[0].text.contains("no time on this one"))
    }

    @Test func htmlBecomesText() {
        #expect(TeamsConnector.text(fromHTML: "<p>a &amp; b</p><p>c<br>d</p>") == "a & b\nc\nd")
        #expect(TeamsConnector.text(fromHTML: "x <unclosed") == "x <unclosed")
    }
}
