import Foundation
import Testing
@testable import Connectors
import RecordkeeperCore

/// A one-line chat and the message it must yield.
struct HeaderCase: Sendable, CustomTestStringConvertible {
    var line: String
    var order: DateOrder?
    var sent: String
    var sender: String?
    var body: String
    var headerStyle: String

    init(_ line: String, _ order: DateOrder? = nil, sent: String, sender: String?, body: String, style: String) {
        self.line = line
        self.order = order
        self.sent = sent
        self.sender = sender
        self.body = body
        self.headerStyle = style
    }

    var testDescription: String { line.debugDescription }
}

/// Header spellings from FORMATS.md §1.2–1.3, one line each.
let headerCases: [HeaderCase] = [
    HeaderCase("[12/6/21, 9:07:12\u{202F}AM] A: x", .mdy, sent: "2021-12-06T09:07:12", sender: "A", body: "x", style: "bracket"),
    HeaderCase("12/6/21, 9:07\u{202F}AM - A: x", .mdy, sent: "2021-12-06T09:07:00", sender: "A", body: "x", style: "dash"),
    HeaderCase("12/24/19, 11:23 - John Doe: x", sent: "2019-12-24T11:23:00", sender: "John Doe", body: "x", style: "dash"),
    HeaderCase("9/24/2019 11:30 p.m. - John Doe: x", sent: "2019-09-24T23:30:00", sender: "John Doe", body: "x", style: "dash"),
    HeaderCase("12/24/2019 11:30 p. m. - John Doe: x", sent: "2019-12-24T23:30:00", sender: "John Doe", body: "x", style: "dash"),
    HeaderCase("[09/10/22 10:37:00 p.m.] John Doe: x", .mdy, sent: "2022-09-10T22:37:00", sender: "John Doe", body: "x", style: "bracket"),
    HeaderCase("09/10/22, 10:37 p.\u{00A0}m. - John Doe: x", .mdy, sent: "2022-09-10T22:37:00", sender: "John Doe", body: "x", style: "dash"),
    HeaderCase("09/10/22, 10:37\u{202F}p.\u{00A0}m. - John Doe: x", .dmy, sent: "2022-10-09T22:37:00", sender: "John Doe", body: "x", style: "dash"),
    HeaderCase("[10.24.21, 15:21:43] John-John Doe: x", sent: "2021-10-24T15:21:43", sender: "John-John Doe", body: "x", style: "bracket"),
    HeaderCase("15.04.2016, 15:04 - Pokemon Chat: x", sent: "2016-04-15T15:04:00", sender: "Pokemon Chat", body: "x", style: "dash"),
    HeaderCase("[15-01-20 02:22:56] Mary: x", sent: "2020-01-15T02:22:56", sender: "Mary", body: "x", style: "bracket"),
    HeaderCase("[3/18/22, 14:56:01] Dmitry S: x", sent: "2022-03-18T14:56:01", sender: "Dmitry S", body: "x", style: "bracket"),
    HeaderCase("13.6.2018 klo 21.25.15 - a: m", sent: "2018-06-13T21:25:15", sender: "a", body: "m", style: "dash"),
    HeaderCase("13. 6. 2018. 21:25:15 a: m", sent: "2018-06-13T21:25:15", sender: "a", body: "m", style: "bare"),
    HeaderCase("[13.06.2018 klo 21.25.15] a: m", sent: "2018-06-13T21:25:15", sender: "a", body: "m", style: "bracket"),
    HeaderCase("18/03/2022\u{060C} 2:56 \u{0645} - A: x", sent: "2022-03-18T14:56:00", sender: "A", body: "x", style: "dash"),
    HeaderCase("2022/03/18 午後2:56 - A: x", sent: "2022-03-18T14:56:00", sender: "A", body: "x", style: "dash"),
    HeaderCase("2022. 3. 18. 오전 9:05 - A: x", sent: "2022-03-18T09:05:00", sender: "A", body: "x", style: "dash"),
    HeaderCase("[2018/06/13, 21:25:15] a: m", sent: "2018-06-13T21:25:15", sender: "a", body: "m", style: "bracket"),
    HeaderCase("[06/2018/13, 21:25:15] a: m", sent: "2018-06-13T21:25:15", sender: "a", body: "m", style: "bracket"),
    HeaderCase("[2019-04-16 02:09] a: m", sent: "2019-04-16T02:09:00", sender: "a", body: "m", style: "bracket"),
    HeaderCase("2019-10-20, 10:16 - a: m", sent: "2019-10-20T10:16:00", sender: "a", body: "m", style: "dash"),
    HeaderCase("\u{200E}[1/2/22, 12:00:00 AM] A: x", .dmy, sent: "2022-02-01T00:00:00", sender: "A", body: "x", style: "bracket"),
    HeaderCase("1/2/22, 12:30 PM - A: x", .dmy, sent: "2022-02-01T12:30:00", sender: "A", body: "x", style: "dash"),
    HeaderCase("1/2/22, 12:30 pm - A: x", .dmy, sent: "2022-02-01T12:30:00", sender: "A", body: "x", style: "dash"),
    HeaderCase("1/2/22, 1:05 a.m. - A: x", .dmy, sent: "2022-02-01T01:05:00", sender: "A", body: "x", style: "dash"),
    HeaderCase("[31/12/99, 23:59:59] A: x", sent: "2099-12-31T23:59:59", sender: "A", body: "x", style: "bracket"),
    HeaderCase("23/03/2022, 13:31 - A: B: C", sent: "2022-03-23T13:31:00", sender: "A", body: "B: C", style: "dash"),
    HeaderCase("23/03/2022, 13:31 - Joined via link", sent: "2022-03-23T13:31:00", sender: nil, body: "Joined via link", style: "dash"),
    HeaderCase("[23/03/2022, 13:31:00] \u{200E}Ann left", sent: "2022-03-23T13:31:00", sender: nil, body: "Ann left", style: "bracket"),
]

/// Lines that must NOT start a message: after a valid header they are continuation lines.
let notHeaders: [String] = [
    "12/06/2019 is a date",
    "23/03/2022, 24:00 - B: hour 24",
    "23/03/2022, 13:00 PM - B: 13 PM",
    "23/03/2022, 0:30 AM - B: 0 AM",
    "23/03/2022, 9:7 - B: one-digit minute",
    "23/03/2022, 10:60 - B: minute 60",
    "23/03/2022, 10:00:61 - B: second 61",
    "23/03/2022 - B: no time",
    "23/03/2022, 10:00 amazing day",
    "[23/03/2022, 10:00]B: no space after the bracket",
    "[23/03/2022, 10:00 - B: unclosed bracket",
    "23/03/2022, 10:00 -B: no space after the dash",
    "23/03/12345, 10:00 - B: five-digit year",
    "1.2, 10:00 - B: two date fields",
    "23/03-2022, 10:00 - B: mixed separators",
    " 23/03/2022, 10:00 - B: leading space",
]

@Suite("WhatsApp header grammar (through the reader)")
struct WhatsAppHeaderTests {
    @Test("a header line yields one message with the right time, sender and body", arguments: headerCases)
    func header(_ c: HeaderCase) throws {
        let parsed = try WhatsAppFixtures.parse(text: c.line + "\n", dateOrder: c.order)
        #expect(parsed.defects.isEmpty)
        let m = try #require(parsed.messages.count == 1 ? parsed.messages.first : nil, "expected exactly one message")
        #expect(m.sentLocal.description == c.sent)
        #expect(m.sender == c.sender)
        #expect(m.kind == (c.sender == nil ? .system : .user))
        #expect(m.body == c.body)
        #expect(m.raw == c.line)
        #expect(parsed.description.headerStyle == c.headerStyle)
    }

    @Test("a line that only looks like a header continues the previous message", arguments: notHeaders)
    func notAHeader(_ line: String) throws {
        let text = "23/03/2022, 10:00 - A: first\n" + line + "\n"
        let parsed = try WhatsAppFixtures.parse(text: text)
        #expect(parsed.defects.isEmpty)
        let m = try #require(parsed.messages.count == 1 ? parsed.messages.first : nil, "expected exactly one message")
        #expect(m.lineCount == 2)
        #expect(m.body == "first\n" + line)
        #expect(m.sender == "A")
    }

    @Test("the same line without a preceding header is an orphan defect, never dropped", arguments: notHeaders.prefix(3))
    func orphan(_ line: String) throws {
        let parsed = try WhatsAppFixtures.parse(text: line + "\n23/03/2022, 10:00 - A: first\n")
        #expect(parsed.defects.map(\.line) == [1])
        #expect(parsed.defects.first?.code == "orphan_line")
        #expect(parsed.defects.first?.text == line)
        #expect(parsed.messages.map(\.line) == [2])
    }

    @Test("CR-only, LF and CRLF line ends give the same messages")
    func lineEnds() throws {
        let lines = ["[23/03/2022, 10:00:00] A: one", "two", "[23/03/2022, 10:01:00] B: three"]
        var bodies: [[String]] = []
        for eol in ["\n", "\r\n", "\r"] {
            let parsed = try WhatsAppFixtures.parse(text: lines.joined(separator: eol) + eol)
            bodies.append(parsed.messages.map(\.body))
            #expect(parsed.messages.map(\.line) == [1, 3], "eol \(eol.debugDescription)")
        }
        #expect(bodies == Array(repeating: ["one\ntwo", "three"], count: 3))
    }

    @Test("a bare-style line inside a dashed file is a continuation, not a message")
    func bareInsideDashed() throws {
        let text = "23/03/2022, 10:00 - A: first\n23/03/2022, 10:05 B: looks bare\n23/03/2022, 10:06 - B: second\n"
        let parsed = try WhatsAppFixtures.parse(text: text)
        #expect(parsed.messages.map(\.line) == [1, 3])
        #expect(parsed.messages.first?.body == "first\n23/03/2022, 10:05 B: looks bare")
        #expect(parsed.description.headerStyle == "dash")
    }
}

@Suite("WhatsApp detection")
struct WhatsAppDetectTests {
    @Test("a WhatsApp .txt is detected; other text is not")
    func detectText() throws {
        let connector = WhatsAppConnector()
        let chat = try WhatsAppFixtures.url("android-de-dotted.txt")
        #expect(try connector.detect(SourceFile(url: chat)) == Detection(confidence: 90, format: "whatsapp-txt"))

        let dir = try WhatsAppFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let other = dir.appendingPathComponent("notes.txt")
        try Data("Shopping list\n- milk\n- 12/06/2019 is a date\n".utf8).write(to: other)
        #expect(try connector.detect(SourceFile(url: other)) == nil)
        let csv = dir.appendingPathComponent("chat.csv")
        try Data("23/03/2022, 10:00 - A: first\n".utf8).write(to: csv)
        #expect(try connector.detect(SourceFile(url: csv)) == nil)
    }

    @Test("conversation titles from localized export file names", arguments: [
        ("WhatsApp Chat with Ann.txt", "Ann"),
        ("WhatsApp Chat - Dmitry S.zip", "Dmitry S"),
        ("WhatsApp_Chat_with_Family_Group.txt", "Family Group"),
        ("Chat de WhatsApp con Lucía.txt", "Lucía"),
        ("WhatsApp Chat mit Jörg (1).txt", "Jörg"),
    ])
    func titles(_ fileName: String, _ title: String) {
        #expect(WhatsAppConnector.conversationTitle(fileName: fileName) == title)
    }
}
