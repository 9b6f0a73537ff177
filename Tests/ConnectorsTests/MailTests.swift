import Foundation
import Testing
@testable import Connectors
import RecordkeeperCore

@Suite("E-mail: EML and MBOX")
struct MailTests {
    static func fixture(_ name: String) throws -> URL {
        try WhatsAppFixtures.directory.deletingLastPathComponent().appendingPathComponent("mail/\(name)")
    }

    static func parse(_ url: URL) throws -> ([CaptureItem], any CaptureReader) {
        let scratch = try WhatsAppFixtures.temporaryDirectory()
        let reader = try MailConnector().open(SourceFile(url: url), options: ParseOptions(timeZone: "America/New_York"), scratch: scratch)
        var items: [CaptureItem] = []
        while let item = try reader.next() { items.append(item) }
        return (items, reader)
    }

    @Test func aMailboxIsThreadedDecodedAndItsAttachmentsKept() throws {
        let url = try Self.fixture("ops.mbox")
        #expect(try MailConnector().detect(SourceFile(url: url))?.format == "mbox")
        let (items, reader) = try Self.parse(url)
        defer { reader.close() }
        let headers = items.compactMap { if case .conversation(let h) = $0 { h } else { nil } }
        #expect(headers == [ConversationHeader(sourceID: "thread:m1.4471@cbp.example.gov", title: "Seals on MX-4471"),
                            ConversationHeader(sourceID: "thread:m3.reminder@cbp.example.gov", title: "Monthly WhatsApp export reminder")])
        let m = items.compactMap { if case .message(let m) = $0 { m } else { nil } }
        #expect(m.count == 3)
        // RFC 2047 names and subjects, quoted-printable, mboxrd's ">From " unquoted.
        #expect(m[0].sender == "Ruth Okaçor")
        #expect(m[0].body == "Subject: Seals on MX-4471\n\nPlease confirm the seals on MX-4471 — both of them.\nFrom the dock log: seal 88412 was replaced.")
        #expect(m[0].sentLocal == LocalDateTime(year: 2021, month: 3, day: 15, hour: 11, minute: 1))
        // RFC 2231 file name; the bytes decoded from base64.
        #expect(m[0].attachments == [AttachmentReference(fileName: "part1/sello nº1.jpg")])
        var bytes = Data()
        #expect(try reader.attachments.withAttachment(named: "part1/sello nº1.jpg") { bytes.append(contentsOf: $0) } && bytes.count == 14)
        // No Date header: the mbox envelope's time; an unknown charset still reads.
        #expect(m[1].sentLocal == LocalDateTime(year: 2021, month: 3, day: 15, hour: 11, minute: 30) && m[1].body.contains("Confirmed."))
        // CRLF lines and an HTML-only body; the zone comment in Date is ignored.
        #expect(m[2].body == "Subject: Monthly WhatsApp export reminder\n\nPlease forward your WhatsApp exports within 20 days.")
        #expect(m[2].sentLocal == LocalDateTime(year: 2021, month: 3, day: 16, hour: 9))
        #expect(m[2].raw.contains("Message-ID: <m3.reminder@cbp.example.gov>"))
    }

    @Test func aSingleMessageFileAndOutlookMsgRefused() throws {
        let eml = try Self.fixture("forward.eml")
        #expect(try MailConnector().detect(SourceFile(url: eml))?.format == "eml")
        let (items, reader) = try Self.parse(eml)
        defer { reader.close() }
        let m = items.compactMap { if case .message(let m) = $0 { m } else { nil } }
        #expect(m.count == 1 && m[0].sender == "Sam Lee" && m[0].body.hasSuffix("Forwarding my chat export as required by the records schedule."))
        let msg = try Self.fixture("outlook.msg")
        #expect(try MailConnector().detect(SourceFile(url: msg))?.format == "outlook-msg")
        #expect(throws: ConnectorError.self) { _ = try MailConnector().open(SourceFile(url: msg), options: ParseOptions(), scratch: FileManager.default.temporaryDirectory) }
    }

    /// Issue 17 (fuzzing): a Date header with text that is not ASCII made Foundation's
    /// DateFormatter trap; it is now no date, and the message is kept as a defect.
    @Test func aDateThatIsNotASCIIIsNoDateAndNoCrash() throws {
        let dir = try WhatsAppFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("odd-date.eml")
        try Data("From: Sam Lee <sam.lee@agency.example.gov>\r\nTo: records@agency.example.gov\r\nMessage-ID: <x1@agency.example.gov>\r\nMIME-Version: 1.0\r\nSubject: lane 7\r\nDate: Thu, 1\u{07BE}\u{FFFD} 2021 10:15:00 -0400\r\n\r\nThe pallet goes to the locker.\r\n".utf8).write(to: url)
        let (items, reader) = try Self.parse(url)
        defer { reader.close() }
        let defects = items.compactMap { if case .defect(let d) = $0 { d } else { nil } }
        #expect(defects.map(\.code) == ["no_date"] && defects[0].text.contains("Subject: lane 7"), "\(defects)")
    }

    /// RFC 5322's own line ending: a CRLF message is recognised and read like an LF one.
    @Test func aMessageWithCRLFLinesIsRecognisedAndRead() throws {
        let dir = try WhatsAppFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let lf = try String(contentsOf: try Self.fixture("forward.eml"), encoding: .utf8)
        let url = dir.appendingPathComponent("forward-crlf.eml")
        try Data(lf.replacingOccurrences(of: "\n", with: "\r\n").utf8).write(to: url)
        #expect(try MailConnector().detect(SourceFile(url: url))?.format == "eml")
        let (items, reader) = try Self.parse(url)
        defer { reader.close() }
        let m = items.compactMap { if case .message(let m) = $0 { m } else { nil } }
        #expect(m.count == 1 && m[0].sender == "Sam Lee" && m[0].body.hasSuffix("Forwarding my chat export as required by the records schedule."), "\(m.map(\.body))")
    }

    /// Issue 17 (fuzzing): an encoded word whose text begins with '=' made a reversed range.
    @Test func encodedWordsThatEndAtOnceAreReadNotTrapped() {
        #expect(MIME.words("=?utf-8?B?=rest") == "=?utf-8?B?=rest")
        #expect(MIME.words("=?utf-8?Q??= after") == " after")
        #expect(MIME.words("Sam =?utf-8?B?TMOzcGV6?= Lee") == "Sam López Lee")
        #expect(MIME.words("=?x?=?=") == "=?x?=?=")
    }

    @Test func encodedWordsAndParameters() {
        #expect(MIME.words("=?UTF-8?B?SMOpbMOobmU=?= =?UTF-8?Q?_L=C3=B3pez?=") == "Hélène López")
        #expect(MIME.words("plain =?iso-8859-1?q?caf=E9?= au lait") == "plain café au lait")
        #expect(MIME.words("broken =?utf-8?x") == "broken =?utf-8?x")
        #expect(MIME.parameter("attachment; filename*0*=utf-8''r%C3%A9; filename*1*=sum%C3%A9.pdf", "filename") == "résumé.pdf")
        #expect(MIME.parameter("text/plain; charset=\"utf-8\"", "charset") == "utf-8")
    }
}
