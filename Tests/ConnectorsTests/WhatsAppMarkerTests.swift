import Foundation
import Testing
@testable import Connectors
import RecordkeeperCore

/// A one-message chat line and how its body must be classified (FORMATS.md §1.4–1.5).
struct MarkerCase: Sendable, CustomTestStringConvertible {
    var line: String
    var kind: MessageKind
    var flags: MessageFlags
    var attachments: [String]

    init(_ line: String, _ kind: MessageKind = .user, flags: MessageFlags = [], attachments: [String] = []) {
        self.line = line
        self.kind = kind
        self.flags = attachments.isEmpty ? flags : flags.union(.hasAttachment)
        self.attachments = attachments
    }

    var testDescription: String { line.debugDescription }
}

private let ios = "[18/03/2022, 10:00:00] Ann: "
private let android = "18/03/2022, 10:00 - Ann: "

let markerCases: [MarkerCase] = [
    // Attachments, iOS.
    MarkerCase(ios + "\u{200E}<attached: 00000001-PHOTO-2019-01-01-12-00-00.jpg>",
               attachments: ["00000001-PHOTO-2019-01-01-12-00-00.jpg"]),
    MarkerCase(ios + "\u{200E}<attached: 00000010-AUDIO-2022-03-18-10-00-00.opus>",
               attachments: ["00000010-AUDIO-2022-03-18-10-00-00.opus"]),
    MarkerCase(ios + "\u{200E}<attached: 00000042-John Doe.vcf>", attachments: ["00000042-John Doe.vcf"]),
    MarkerCase(ios + "name.pdf • \u{200E}2 pages \u{200E}<attached: 00000047-name.pdf>", attachments: ["00000047-name.pdf"]),
    MarkerCase(ios + "2015-08-04-PHOTO-00004762.jpg <\u{200E}attached>", attachments: ["2015-08-04-PHOTO-00004762.jpg"]),
    MarkerCase(ios + "\u{200E}<adjunto: 00000007-PHOTO-2022-03-18-10-00-00.jpg>",
               attachments: ["00000007-PHOTO-2022-03-18-10-00-00.jpg"]),
    // Attachments, Android.
    MarkerCase(android + "John Doe.vcf (file attached)", attachments: ["John Doe.vcf"]),
    MarkerCase(android + "STK-20220318-WA0000.webp (file attached)", attachments: ["STK-20220318-WA0000.webp"]),
    MarkerCase(android + "PTT-20220318-WA0001.opus (file attached)", attachments: ["PTT-20220318-WA0001.opus"]),
    MarkerCase(android + "\u{200E}IMG-20220318-WA0002.jpg (file attached)", attachments: ["IMG-20220318-WA0002.jpg"]),
    MarkerCase(android + "Überweisung März 2022.pdf (file attached)", attachments: ["Überweisung März 2022.pdf"]),
    MarkerCase(android + "IMG-20220318-WA0003.jpg (Datei angehängt)", attachments: ["IMG-20220318-WA0003.jpg"]),
    // Media left out of the export.
    MarkerCase(ios + "\u{200E}video omitted", .mediaPlaceholder),
    MarkerCase(ios + "\u{200E}audio omitted", .mediaPlaceholder),
    MarkerCase(ios + "\u{200E}GIF omitted", .mediaPlaceholder),
    MarkerCase(ios + "\u{200E}sticker omitted", .mediaPlaceholder),
    MarkerCase(ios + "report.pdf • \u{200E}3 pages \u{200E}document omitted", .mediaPlaceholder),
    MarkerCase(android + "<Media omitted>", .mediaPlaceholder),
    MarkerCase(android + "<Multimedia omitido>", .mediaPlaceholder),
    MarkerCase(android + "<Medien ausgeschlossen>", .mediaPlaceholder),
    MarkerCase(android + "<médias omis>", .mediaPlaceholder),
    MarkerCase(android + "<Mídia oculta>", .mediaPlaceholder),
    MarkerCase(android + "null", .mediaPlaceholder, flags: .viewOnce),
    // Deletions.
    MarkerCase(ios + "\u{200E}You deleted this message.", .deleted),
    MarkerCase(android + "Este mensaje fue eliminado", .deleted),
    MarkerCase(android + "Diese Nachricht wurde gelöscht", .deleted),
    // Calls and locations.
    MarkerCase(ios + "\u{200E}Missed video call", flags: .call),
    MarkerCase(ios + "Voice call, 2 min", flags: .call),
    MarkerCase(ios + "Helsinki (Helsinki): https://maps.google.com/?q=60.1699,24.9384", flags: .location),
    MarkerCase(ios + "\u{200E}Location: https://maps.google.com/?q=60.1699,24.9384", flags: .location),
    MarkerCase(android + "location: https://maps.google.com/?q=60.1699,24.9384", flags: .location),
    MarkerCase(android + "live location shared", flags: .location),
    // Edits.
    MarkerCase(ios + "Fixed the typo \u{200E}<This message was edited>", flags: .edited),
    // System notices.
    MarkerCase("18/03/2022, 10:00 - You updated the message timer. New messages will disappear from this chat 7 days after they're sent, except when kept.",
               .system, flags: .disappearing),
    MarkerCase(ios + "\u{200E}Messages and calls are end-to-end encrypted. No one outside of this chat, not even WhatsApp, can read or listen to them.",
               .system),
    // Ordinary text that merely mentions a marker stays ordinary.
    MarkerCase(android + "The image omitted from the report was fine"),
    MarkerCase(android + "I think null is fine"),
    MarkerCase(android + "This message was deleted yesterday, sorry"),
    MarkerCase(android + "Please read page 2 (file attached to the email)"),
]

@Suite("WhatsApp body markers")
struct WhatsAppMarkerTests {
    @Test("attachments, placeholders, deletions, calls, locations and notices are classified", arguments: markerCases)
    func classify(_ c: MarkerCase) throws {
        let parsed = try WhatsAppFixtures.parse(text: c.line + "\n")
        let m = try #require(parsed.messages.count == 1 ? parsed.messages.first : nil, "expected exactly one message")
        #expect(m.kind == c.kind)
        #expect(m.flags == c.flags)
        #expect(m.attachments.map(\.fileName) == c.attachments)
        #expect(m.sentLocal.description.hasPrefix("2022-03-18T10:00"))
    }
}
