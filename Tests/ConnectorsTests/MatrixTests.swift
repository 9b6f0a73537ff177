import Foundation
import Testing
@testable import Connectors
import RecordkeeperCore

@Suite("Matrix Application Service transactions")
struct MatrixTests {
    @Test func everyEventBecomesARecordIdentifiedByItsEventID() throws {
        let source = SourceFile(url: try WhatsAppFixtures.directory.deletingLastPathComponent().appendingPathComponent("matrix/txn-port-ops.json"))
        #expect(try MatrixConnector().detect(source)?.format == "matrix-appservice-transaction")
        #expect(try TeamsConnector().detect(source) == nil && (try TelegramConnector().detect(source)) == nil && (try WickrConnector().detect(source)) == nil)
        let reader = try MatrixConnector().open(source, options: ParseOptions(timeZone: "America/New_York"), scratch: FileManager.default.temporaryDirectory)
        defer { reader.close() }
        #expect(reader.description.sourceTimeZone == "UTC")
        var items: [CaptureItem] = []
        while let item = try reader.next() { items.append(item) }
        let headers = items.compactMap { if case .conversation(let h) = $0 { h } else { nil } }
        // Named from the m.room.name event in the transaction, or from the sidecar the live service wrote.
        #expect(headers == [ConversationHeader(sourceID: "!portops:agency.example.gov", title: "Port Ops"),
                            ConversationHeader(sourceID: "!harbor:agency.example.gov", title: "Harbor Watch"),
                            ConversationHeader(sourceID: "!portops:agency.example.gov", title: "Port Ops")])
        let m = items.compactMap { if case .message(let m) = $0 { m } else { nil } }
        #expect(m.count == 18)
        #expect(Set(m.compactMap(\.nativeID)).count == 18)
        #expect(m[0].kind == .system && m[0].body == "Dan Kowalski (@d.kowalski:agency.example.gov) created the room")
        #expect(m[3].body == "Dan Kowalski (@d.kowalski:agency.example.gov) invited @rita:partner.example.org")
        #expect(m[4].body == "Rita Gomez joined")
        // Times are UTC instants (origin_server_ts), in UTC.
        #expect(m[5].body == "Inspection at berth 4 at 10:00" && m[5].kind == .user && m[5].sender == "@d.kowalski:agency.example.gov"
                && m[5].sentLocal == LocalDateTime(year: 2024, month: 3, day: 15, hour: 8, minute: 2))
        // Two equal messages in the same second are two events: two records.
        #expect(m[6].body == "ok" && m[7].body == "ok" && m[6].nativeID != m[7].nativeID)
        // An edit is the new text, flagged; the event it replaces is named in the raw JSON.
        #expect(m[8].body == "Inspection at berth 4 moved to 11:00" && m[8].flags.contains(.edited) && m[8].raw.contains("\"event_id\":\"$msg1\""))
        // The redacted original is a record, and the redaction another.
        #expect(m[9].body == "Seal numbers do not match the manifest" && m[9].kind == .user)
        #expect(m[10].kind == .deleted && m[10].body.contains("redacted $msg4") && m[10].body.contains("sent too early"))
        // Media: the fetched file is there; one the service could not fetch is missing.
        #expect(m[11].attachments == [AttachmentReference(fileName: "mxc/agency.example.gov/SealPhoto4471/seal-4471.png")])
        #expect(reader.attachments.contains(named: m[11].attachments[0].fileName))
        #expect(m[12].attachments.count == 1 && !reader.attachments.contains(named: m[12].attachments[0].fileName))
        #expect(m[13].flags.contains(.disappearing) && m[13].body.hasSuffix("set messages to disappear after 7 days"))
        #expect(m[14].body.contains("turned on end-to-end encryption"))
        #expect(m[15].body.contains("cannot read") && m[15].raw.contains("ciphertext"))
        #expect(m[16].body == "* is holding the reefer container")
        #expect(m[17].body == "Rita Gomez (@rita:partner.example.org) reacted 👍 to $msg1")
        let defects = items.compactMap { if case .defect(let d) = $0 { d } else { nil } }
        #expect(defects.map(\.code) == ["incomplete_event", "not_an_event"] && defects[0].text.contains("no sender, no time"))
    }

    @Test func hostileMediaNamesNeverLeaveTheMediaFolder() {
        #expect(MatrixConnector.mxcParts("mxc://agency.example.gov/Abc_123-x")! == ("agency.example.gov", "Abc_123-x"))
        #expect(MatrixConnector.mxcParts("mxc://../etc") == nil)
        #expect(MatrixConnector.mxcParts("mxc://server/../../passwd") == nil)
        #expect(MatrixConnector.mxcParts("mxc://server/a/b") == nil)
        #expect(MatrixConnector.mxcParts("https://server/a") == nil)
        #expect(MatrixConnector.attachmentName(mxc: "mxc://s/id", fileName: "../../x.png") == "mxc/s/id/x.png")
    }
}
