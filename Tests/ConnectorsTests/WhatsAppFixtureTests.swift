import Foundation
import Testing
@testable import Connectors
import RecordkeeperCore

/// What one message of a fixture must parse to.
struct ExpectedMessage: Sendable {
    var line: Int
    var sent: String
    /// Checked unless `checkSender` is false (the iOS encryption notice carries an "author" whose
    /// role the format leaves open).
    var sender: String?
    var kind: MessageKind
    var flags: MessageFlags = []
    var attachments: [String] = []
    /// Checked when given.
    var body: String?
    var lineCount = 1
    var checkSender = true

    init(_ line: Int, _ sent: String, _ sender: String?, _ kind: MessageKind = .user, flags: MessageFlags = [],
         attachments: [String] = [], body: String? = nil, lineCount: Int = 1, checkSender: Bool = true) {
        self.line = line
        self.sent = sent
        self.sender = sender
        self.kind = kind
        self.flags = flags
        self.attachments = attachments
        self.body = body
        self.lineCount = lineCount
        self.checkSender = checkSender
    }
}

/// One fixture file and everything the reader must report for it.
struct FixtureCase: Sendable, CustomTestStringConvertible {
    var file: String
    var format: String
    var headerStyle: String
    var order: DateOrder
    var certain: Bool
    var basis = "evidence"
    var messages: [ExpectedMessage]
    var defects: [Defect] = []

    struct Defect: Sendable, Equatable {
        var line: Int
        var code: String
    }

    var testDescription: String { file }
}

let encryptionNoticeEN = "Messages and calls are end-to-end encrypted. No one outside of this chat, not even WhatsApp, can read or listen to them."

let fixtureCases: [FixtureCase] = [
    FixtureCase(
        file: "ios-en-us-12h.txt", format: "whatsapp-ios-txt", headerStyle: "bracket", order: .mdy, certain: true,
        messages: [
            .init(1, "2021-12-06T09:07:12", "Family Group", .system, body: encryptionNoticeEN, checkSender: false),
            .init(2, "2021-12-06T09:07:30", nil, .system, body: "Ann Smith added Bob Jones"),
            .init(3, "2021-12-06T09:08:15", "Ann Smith", flags: .hasAttachment,
                  attachments: ["00000003-PHOTO-2021-12-06-09-08-15.jpg"],
                  body: "<attached: 00000003-PHOTO-2021-12-06-09-08-15.jpg>"),
            .init(4, "2021-12-06T09:09:01", "Bob Jones", .mediaPlaceholder, body: "image omitted"),
            .init(5, "2021-12-06T10:15:44", "Bob Jones", .deleted, body: "This message was deleted."),
            .init(6, "2021-12-06T12:00:00", "Ann Smith", body: "Lunch?"),
            .init(7, "2021-12-07T00:05:09", "Ann Smith", body: "Line one\nline two\n\nline four", lineCount: 4),
            .init(11, "2021-12-13T20:30:00", "Bob Jones", flags: .edited,
                  body: "See you Monday <This message was edited>"),
            .init(12, "2021-12-13T20:31:02", "Bob Jones", flags: .hasAttachment, attachments: ["00000005-report.pdf"],
                  body: "report.pdf • 2 pages <attached: 00000005-report.pdf>"),
            .init(13, "2021-12-13T20:32:00", "Ann Smith", .mediaPlaceholder, body: "Contact card omitted"),
            .init(14, "2021-12-13T20:33:00", "Ann Smith", flags: .call, body: "Missed voice call"),
        ]),
    FixtureCase(
        file: "android-en-24h/WhatsApp Chat with Trip.txt", format: "whatsapp-android-txt", headerStyle: "dash",
        order: .dmy, certain: true,
        messages: [
            .init(1, "2022-03-23T13:31:00", nil, .system, body: encryptionNoticeEN + " Tap to learn more."),
            .init(2, "2022-03-23T13:31:00", nil, .system, body: "Ann created group \"Trip\""),
            .init(3, "2022-03-23T13:32:00", nil, .system, body: "Ann added Bob"),
            .init(4, "2022-03-23T13:35:00", "Ann", flags: .hasAttachment, attachments: ["IMG-20220323-WA0001.jpg"],
                  body: "IMG-20220323-WA0001.jpg (file attached)\nLook at this view", lineCount: 2),
            .init(6, "2022-03-23T13:36:00", "Bob", .mediaPlaceholder, body: "<Media omitted>"),
            .init(7, "2022-03-23T13:37:00", "Bob", .mediaPlaceholder, flags: .viewOnce, body: "null"),
            .init(8, "2022-03-23T13:40:00", "Ann",
                  body: "First line\n23/03/2022, 13:40 was when we landed\n12/06/2022 is the return date\n\nLast line",
                  lineCount: 5),
            .init(13, "2022-03-23T13:45:00", nil, .system,
                  body: "Ann changed the subject from \"Trip\" to \"Trip: Lisbon 2022\""),
            .init(14, "2022-03-23T14:00:00", "Bob", .deleted, body: "This message was deleted"),
            .init(15, "2022-03-23T14:01:00", "Ann", .deleted, body: "You deleted this message"),
            .init(16, "2022-03-24T08:15:00", "Bob", flags: .hasAttachment, attachments: ["VID-20220324-WA0000.mp4"]),
            .init(17, "2022-04-05T10:00:00", "Ann", flags: .hasAttachment, attachments: ["Itinerary.pdf"],
                  body: "Itinerary.pdf (file attached)\nItinerary.pdf", lineCount: 2),
            .init(19, "2022-04-05T10:01:00", nil, .system, body: "You're now an admin"),
        ]),
    FixtureCase(
        file: "android-es-12h.txt", format: "whatsapp-android-txt", headerStyle: "dash", order: .dmy, certain: true,
        messages: [
            .init(1, "2022-09-22T22:37:00", nil, .system),
            .init(2, "2022-09-22T22:38:00", "Lucía Pérez", body: "Hola a todos"),
            .init(3, "2022-09-22T22:40:00", "Lucía Pérez", flags: .hasAttachment, attachments: ["IMG-20220922-WA0003.jpg"],
                  body: "IMG-20220922-WA0003.jpg (archivo adjunto)\nFoto de la playa", lineCount: 2),
            .init(5, "2022-09-22T23:59:00", "Jorge", .mediaPlaceholder, body: "<Multimedia omitido>"),
            .init(6, "2022-09-23T00:15:00", "Jorge", .deleted, body: "Se eliminó este mensaje"),
            .init(7, "2022-09-23T07:05:00", "Lucía Pérez", flags: .edited, body: "¿Vamos mañana? <Se editó este mensaje.>"),
            .init(8, "2022-09-23T12:00:00", "Jorge", body: "Sí: a las 10"),
        ]),
    FixtureCase(
        file: "android-pt-br.txt", format: "whatsapp-android-txt", headerStyle: "dash", order: .dmy, certain: true,
        messages: [
            .init(1, "2022-03-23T13:31:00", nil, .system),
            .init(2, "2022-03-23T13:32:00", "João Silva", body: "Oi, tudo bem?"),
            .init(3, "2022-03-23T13:33:00", "Maria", .mediaPlaceholder, body: "<Arquivo de mídia oculto>"),
            .init(4, "2022-03-23T13:34:00", "João Silva", flags: .hasAttachment, attachments: ["IMG-20220323-WA0002.jpg"]),
            .init(5, "2022-03-23T13:35:00", "Maria", .deleted, body: "Esta mensagem foi apagada"),
            .init(6, "2022-03-23T13:36:00", "Maria", flags: .edited, body: "Vamos às 10? <Mensagem editada>"),
        ]),
    FixtureCase(
        file: "android-fr.txt", format: "whatsapp-android-txt", headerStyle: "dash", order: .dmy, certain: true,
        messages: [
            .init(1, "2022-03-23T13:31:00", nil, .system),
            .init(2, "2022-03-23T13:32:00", "Élodie", body: "Salut !"),
            .init(3, "2022-03-23T13:33:00", "Luc", .mediaPlaceholder, body: "<Médias omis>"),
            .init(4, "2022-03-23T13:34:00", "Élodie", flags: .hasAttachment, attachments: ["IMG-20220323-WA0004.jpg"]),
            .init(5, "2022-03-23T13:35:00", "Luc", .deleted, body: "Ce message a été supprimé"),
            .init(6, "2022-03-23T13:36:00", "Élodie", flags: .edited, body: "Rendez-vous à 10 h <Ce message a été modifié>"),
        ]),
    FixtureCase(
        file: "android-de-dotted.txt", format: "whatsapp-android-txt", headerStyle: "dash", order: .dmy, certain: true,
        messages: [
            .init(1, "2016-04-15T15:04:00", nil, .system, body: "Anna hat die Gruppe „Urlaub: Sommer 2016“ erstellt"),
            .init(2, "2016-04-15T15:05:00", nil, .system),
            .init(3, "2016-04-15T15:06:00", "Anna", flags: .hasAttachment, attachments: ["IMG-20160415-WA0000.jpg"],
                  body: "IMG-20160415-WA0000.jpg (Datei angehängt)\nUnser Hotel", lineCount: 2),
            .init(5, "2016-04-15T15:07:00", "Jörg", .mediaPlaceholder, body: "<Medien ausgeschlossen>"),
            .init(6, "2016-04-16T09:15:00", "Jörg", .deleted, body: "Diese Nachricht wurde gelöscht"),
            .init(7, "2016-04-16T09:16:00", "Anna", flags: .edited,
                  body: "Treffpunkt: Bahnhof <Diese Nachricht wurde bearbeitet>"),
        ]),
    FixtureCase(
        file: "android-it.txt", format: "whatsapp-android-txt", headerStyle: "dash", order: .dmy, certain: true,
        messages: [
            .init(1, "2024-06-12T21:34:00", nil, .system),
            .init(2, "2024-06-12T21:35:00", "Giulia", body: "Ciao!"),
            .init(3, "2024-06-12T21:36:00", "Marco", .mediaPlaceholder, body: "<Media omessi>"),
            .init(4, "2024-06-13T08:00:00", "Giulia", flags: .hasAttachment, attachments: ["IMG-20240613-WA0000.jpg"]),
            .init(5, "2024-06-13T08:01:00", "Marco", .deleted, body: "Questo messaggio è stato eliminato"),
            .init(6, "2024-06-13T08:02:00", "Giulia", flags: .edited,
                  body: "Ci vediamo alle 9 <Questo messaggio è stato modificato>"),
        ]),
    FixtureCase(
        file: "android-dashes-12h-seconds.txt", format: "whatsapp-android-txt", headerStyle: "dash",
        order: .mdy, certain: true,
        messages: [
            .init(1, "2022-09-10T22:37:00", "John Doe", body: "Evening"),
            .init(2, "2022-09-10T23:59:59", "Jane Roe", body: "Late"),
            .init(3, "2022-09-11T00:00:01", "John Doe", body: "Midnight"),
            .init(4, "2022-09-13T07:05:30", "Jane Roe", body: "Morning"),
        ]),
    FixtureCase(
        file: "bracket-dmy-dashes.txt", format: "whatsapp-ios-txt", headerStyle: "bracket", order: .dmy, certain: true,
        messages: [
            .init(1, "2020-01-15T02:22:56", "Mary", body: "Lorem ipsum"),
            .init(2, "2020-01-15T02:23:10", "John", body: "dolor sit amet"),
            .init(3, "2020-01-16T14:05:00", "Mary", body: "consectetur\nadipiscing elit", lineCount: 2),
        ]),
    FixtureCase(
        file: "iso-bracket.txt", format: "whatsapp-ios-txt", headerStyle: "bracket", order: .ymd, certain: true,
        messages: [
            .init(1, "2019-04-16T02:09:00", "Mary", body: "Early"),
            .init(2, "2019-04-16T23:45:00", "John", body: "Late"),
        ]),
    FixtureCase(
        file: "iso-dash.txt", format: "whatsapp-android-txt", headerStyle: "dash", order: .ymd, certain: true,
        messages: [
            .init(1, "2019-10-20T10:16:00", "John", body: "Morning"),
            .init(2, "2019-11-02T18:00:00", "Mary", body: "Evening"),
        ]),
    FixtureCase(
        file: "ambiguous-decreasing-field.txt", format: "whatsapp-android-txt", headerStyle: "dash",
        order: .dmy, certain: true,
        messages: [
            .init(1, "2022-01-10T09:00:00", "Ann", body: "a"),
            .init(2, "2022-01-11T09:30:00", "Bob", body: "b"),
            .init(3, "2022-02-03T10:00:00", "Ann", body: "c"),
            .init(4, "2022-02-04T10:00:00", "Bob", body: "d"),
        ]),
    FixtureCase(
        file: "ambiguous-undecided.txt", format: "whatsapp-ios-txt", headerStyle: "bracket",
        order: .mdy, certain: false, basis: "default",
        messages: [
            .init(1, "2022-05-06T09:00:00", "Ann", flags: .uncertainDate, body: "a"),
            .init(2, "2022-05-06T09:01:00", "Bob", flags: .uncertainDate, body: "b"),
        ]),
    FixtureCase(
        file: "bom-no-final-newline.txt", format: "whatsapp-android-txt", headerStyle: "dash", order: .dmy, certain: true,
        messages: [
            .init(1, "2022-03-23T13:31:00", "Ann", body: "First message after BOM"),
            .init(2, "2022-03-23T13:32:00", "Bob", body: "Multi\nline without final newline", lineCount: 2),
        ]),
    FixtureCase(
        file: "orphan-lines.txt", format: "whatsapp-android-txt", headerStyle: "dash", order: .dmy, certain: true,
        messages: [
            .init(3, "2022-03-23T13:31:00", "Ann", body: "hello\n31/02/2022, 10:00 - Bob: impossible date", lineCount: 2),
            .init(5, "2022-03-24T09:00:00", "Bob", body: "next"),
        ],
        defects: [.init(line: 1, code: "orphan_line"), .init(line: 2, code: "orphan_line"),
                  .init(line: 4, code: "invalid_header_date")]),
    FixtureCase(
        file: "authors-special.txt", format: "whatsapp-android-txt", headerStyle: "dash", order: .dmy, certain: true,
        messages: [
            .init(1, "2022-03-18T14:56:00", "Ann Lee", flags: .nonContactSender, body: "Hi from a non-contact"),
            .init(2, "2022-03-18T14:57:00", "+40 521 028 62 18", body: "Hi from a number"),
            .init(3, "2022-03-18T14:58:00", "John-John Doe", body: "Note: this has a colon"),
            .init(4, "2022-03-18T14:59:00", "Zoë 🌻 (Work)", body: "Emoji name"),
            .init(5, "2022-03-18T15:00:00", "Bea", flags: .nonContactSender, body: "Narrow space after the tilde"),
        ]),
    FixtureCase(
        file: "mixed-styles.txt", format: "whatsapp-mixed-txt", headerStyle: "mixed", order: .dmy, certain: true,
        messages: [
            .init(1, "2022-03-23T13:31:05", "Ann", body: "bracket, 24h, seconds"),
            .init(2, "2022-03-23T13:32:00", "Bob", body: "dash, 24h, no seconds"),
            .init(3, "2022-03-24T13:33:00", "Ann", body: "bracket, 12h, seconds"),
            .init(4, "2022-03-24T13:34:00", "Bob", body: "dash, 12h, p.m."),
            .init(5, "2022-03-25T09:00:00", "Ann", body: "bracket, 12h, no seconds, a. m."),
            .init(6, "2022-03-25T09:01:00", "Bob", body: "dash, 12h, narrow space am"),
            .init(7, "2022-03-25T00:00:30", "Ann", body: "dash, 12h, seconds, midnight"),
        ]),
]

/// Compares a parsed export against its expectation, message by message.
func check(_ parsed: ParsedExport, against expected: FixtureCase, sourceLocation: SourceLocation = #_sourceLocation) {
    let d = parsed.description
    #expect(d.platform == .whatsapp, sourceLocation: sourceLocation)
    #expect(d.format == expected.format, sourceLocation: sourceLocation)
    #expect(d.headerStyle == expected.headerStyle, sourceLocation: sourceLocation)
    #expect(d.dateOrder?.order == expected.order, sourceLocation: sourceLocation)
    #expect(d.dateOrder?.certain == expected.certain, sourceLocation: sourceLocation)
    #expect(d.dateOrder?.basis == expected.basis, sourceLocation: sourceLocation)
    #expect(d.dateOrder?.evidence.isEmpty == false, sourceLocation: sourceLocation)

    let messages = parsed.messages
    #expect(messages.count == expected.messages.count, "message count", sourceLocation: sourceLocation)
    for (m, e) in zip(messages, expected.messages) {
        let at = "message at line \(e.line)"
        #expect(m.line == e.line, "\(at): line", sourceLocation: sourceLocation)
        #expect(m.sentLocal.description == e.sent, "\(at): sent", sourceLocation: sourceLocation)
        if e.checkSender {
            #expect(m.sender == e.sender, "\(at): sender", sourceLocation: sourceLocation)
            if e.sender == nil { #expect(m.senderRaw == nil, "\(at): senderRaw", sourceLocation: sourceLocation) }
        }
        #expect(m.kind == e.kind, "\(at): kind", sourceLocation: sourceLocation)
        #expect(m.flags == e.flags, "\(at): flags", sourceLocation: sourceLocation)
        #expect(m.attachments.map(\.fileName) == e.attachments, "\(at): attachments", sourceLocation: sourceLocation)
        #expect(m.lineCount == e.lineCount, "\(at): lineCount", sourceLocation: sourceLocation)
        if let body = e.body {
            #expect(m.body == body, "\(at): body", sourceLocation: sourceLocation)
        }
    }
    let defects = parsed.defects.map { FixtureCase.Defect(line: $0.line, code: $0.code) }
    #expect(defects == expected.defects, "defects", sourceLocation: sourceLocation)
}

@Suite("WhatsApp fixtures")
struct WhatsAppFixtureTests {
    @Test("each fixture parses to the expected messages", arguments: fixtureCases)
    func fixture(_ expected: FixtureCase) throws {
        let parsed = try WhatsAppFixtures.parseFixture(expected.file)
        check(parsed, against: expected)
    }

    @Test("every fixture file in the folder has a table entry")
    func everyFixtureCovered() throws {
        let dir = try WhatsAppFixtures.directory
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".txt") }
        let covered = Set(fixtureCases.map(\.file))
        #expect(Set(files).subtracting(covered).isEmpty, "fixtures without expectations: \(Set(files).subtracting(covered))")
    }

    @Test("raw text keeps the invisible marks and the narrow space; body and sender drop the marks")
    func rawKeepsMarks() throws {
        let parsed = try WhatsAppFixtures.parseFixture("ios-en-us-12h.txt")
        let messages = parsed.messages
        try #require(messages.count == 11)
        #expect(messages[0].raw.hasPrefix("[12/6/21, 9:07:12\u{202F}AM] Family Group: \u{200E}Messages"))
        #expect(messages[1].raw.hasPrefix("\u{200E}[12/6/21, 9:07:30\u{202F}AM] \u{200E}Ann Smith added"))
        #expect(messages[4].raw.hasSuffix("Bob Jones: \u{200E}This message was deleted."))
        // CRLF line ends are not part of the raw text; continuation lines are joined by "\n".
        #expect(messages[6].raw == "[12/7/21, 12:05:09\u{202F}AM] Ann Smith: Line one\nline two\n\nline four")
        #expect(!messages.contains { $0.raw.contains("\r") })
        #expect(!messages.contains { $0.body.unicodeScalars.contains { $0.value == 0x200E } })
    }

    @Test("a phone-number sender keeps its LRE/PDF and NBSPs raw; the clean sender folds them")
    func phoneSenderRaw() throws {
        let parsed = try WhatsAppFixtures.parseFixture("authors-special.txt")
        let phone = try #require(parsed.messages.first { $0.line == 2 })
        #expect(phone.senderRaw == "\u{202A}+40\u{00A0}521\u{00A0}028\u{00A0}62\u{00A0}18\u{202C}")
        #expect(phone.sender == "+40 521 028 62 18")
        let tilde = try #require(parsed.messages.first { $0.line == 1 })
        #expect(tilde.senderRaw == "~ Ann Lee")
    }

    @Test("a UTF-8 BOM is not part of the first message")
    func bomDropped() throws {
        let parsed = try WhatsAppFixtures.parseFixture("bom-no-final-newline.txt")
        let first = try #require(parsed.messages.first)
        #expect(first.raw == "23/03/2022, 13:31 - Ann: First message after BOM")
        #expect(first.senderRaw == "Ann")
    }

    @Test("orphan lines before the first header are kept verbatim as defects with their line numbers")
    func orphanDefects() throws {
        let parsed = try WhatsAppFixtures.parseFixture("orphan-lines.txt")
        let defects = parsed.defects
        try #require(defects.count == 3)
        #expect(defects[0].text == "Exported by a mail client")
        #expect(defects[1].text == "Forwarded message follows")
        #expect(defects[2].text == "31/02/2022, 10:00 - Bob: impossible date")
        #expect(defects.allSatisfy { $0.file == "orphan-lines.txt" })
        // Items stay in source order: both orphans come before the first message.
        guard case .defect(let first) = parsed.items.first else {
            Issue.record("first item is not a defect")
            return
        }
        #expect(first.line == 1)
    }

    @Test("the conversation title comes from the export's file name")
    func conversationTitle() throws {
        let parsed = try WhatsAppFixtures.parseFixture("android-en-24h/WhatsApp Chat with Trip.txt")
        #expect(parsed.description.conversationTitle == "Trip")
        #expect(parsed.description.textMember == "WhatsApp Chat with Trip.txt")
    }

    @Test("date-order evidence names the deciding line")
    func evidenceNamesLine() throws {
        let parsed = try WhatsAppFixtures.parseFixture("android-es-12h.txt")
        let evidence = try #require(parsed.description.dateOrder?.evidence.joined(separator: " "))
        #expect(evidence.contains("line 1"))
    }
}

@Suite("WhatsApp sibling attachments")
struct WhatsAppSiblingAttachmentTests {
    func read(_ reader: any CaptureReader, _ name: String) throws -> Data? {
        var data = Data()
        let found = try reader.attachments.withAttachment(named: name) { data.append(contentsOf: $0) }
        return found ? data : nil
    }

    @Test("media beside an Android .txt is found by name; absent media and paths are not")
    func siblings() throws {
        let chat = try WhatsAppFixtures.url("android-en-24h/WhatsApp Chat with Trip.txt")
        let scratch = try WhatsAppFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let reader = try WhatsAppConnector().open(SourceFile(url: chat), options: ParseOptions(), scratch: scratch)
        defer { reader.close() }

        let image = try WhatsAppFixtures.url("android-en-24h/IMG-20220323-WA0001.jpg")
        let bytes = try read(reader, "IMG-20220323-WA0001.jpg")
        #expect(bytes == (try Data(contentsOf: image)))
        #expect(bytes?.prefix(2) == Data([0xFF, 0xD8]))
        #expect(try read(reader, "VID-20220324-WA0000.mp4") == nil)
        #expect(try read(reader, "Itinerary.pdf") == nil)
        #expect(try read(reader, "WhatsApp Chat with Trip.txt") == nil, "the chat text is not its own attachment")
        #expect(try read(reader, "../android-en-24h/IMG-20220323-WA0001.jpg") == nil, "paths are refused")
    }
}
