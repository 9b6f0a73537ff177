import Foundation
import RecordkeeperCore

/// One export of the demo corpus and whose records it is.
public struct DemoExport: Sendable {
    /// The export file (`.zip`, or `.txt` with its media beside it).
    public var url: URL
    /// The custodian's official e-mail address (the account the export was forwarded to).
    public var custodian: String
    /// The IANA time zone the custodian's phone ran in, to interpret the zone-less timestamps.
    public var timeZone: String

    /// Describes one demo export.
    public init(url: URL, custodian: String, timeZone: String) {
        self.url = url
        self.custodian = custodian
        self.timeZone = timeZone
    }
}

/// A fixed, realistic sample corpus of WhatsApp exports from border-agency officers.
public enum DemoCorpus {
    private struct Custodian {
        var email: String
        var name: String
        var timeZone: String
        var style: ExportStyle
        var dayFirst: Bool
        var twelveHour: Bool
    }

    private struct Chat {
        var custodian: Int
        var title: String
        var others: [String]
        var language: String
        var messages: Int
        var start: LocalDateTime
    }

    private static let custodians: [Custodian] = [
        Custodian(email: "j.alvarez@cbp.example.gov", name: "Javier Alvarez", timeZone: "America/Los_Angeles",
                  style: .iosZip, dayFirst: false, twelveHour: true),
        Custodian(email: "m.chen@cbp.example.gov", name: "Michael Chen", timeZone: "America/Chicago",
                  style: .androidTxt, dayFirst: false, twelveHour: true),
        Custodian(email: "r.okafor@cbp.example.gov", name: "Ruth Okafor", timeZone: "America/Denver",
                  style: .androidZip, dayFirst: true, twelveHour: false),
        Custodian(email: "s.pereira@cbp.example.gov", name: "Sofia Pereira", timeZone: "America/New_York",
                  style: .iosZip, dayFirst: true, twelveHour: false),
        Custodian(email: "d.kowalski@cbp.example.gov", name: "Dan Kowalski", timeZone: "America/Phoenix",
                  style: .androidZip, dayFirst: false, twelveHour: true),
    ]

    /// Chat 0 is also exported again later with more messages (the overlapping export).
    private static let chats: [Chat] = [
        Chat(custodian: 0, title: "SY Ops Coordination",
             others: ["Karen Walsh", "Marcus Reed", "Lucía Fernández", "Brian Nguyen", "\u{202A}+1 (619) 555-0134\u{202C}"],
             language: "en", messages: 520, start: LocalDateTime(year: 2021, month: 3, day: 1, hour: 6, minute: 42, second: 10)),
        Chat(custodian: 0, title: "Ana Gutiérrez", others: ["Ana Gutiérrez"],
             language: "es", messages: 240, start: LocalDateTime(year: 2021, month: 3, day: 3, hour: 8, minute: 15, second: 2)),
        Chat(custodian: 0, title: "Enlace Tijuana – Garita", others: ["Rosa Medina", "José Ramírez", "Ana Gutiérrez"],
             language: "es", messages: 380, start: LocalDateTime(year: 2021, month: 3, day: 8, hour: 9, minute: 3, second: 41)),
        Chat(custodian: 1, title: "Laredo Bridge 2 Shift",
             others: ["Derek Stone", "Priya Natarajan", "Tom Becker", "Rosa Medina"],
             language: "en", messages: 480, start: LocalDateTime(year: 2021, month: 4, day: 5, hour: 5, minute: 58, second: 0)),
        Chat(custodian: 1, title: "+1 956-555-0187", others: ["\u{202A}+1 956-555-0187\u{202C}"],
             language: "en", messages: 160, start: LocalDateTime(year: 2021, month: 4, day: 12, hour: 13, minute: 20, second: 0)),
        Chat(custodian: 1, title: "Luis Herrera", others: ["Luis Herrera"],
             language: "es", messages: 200, start: LocalDateTime(year: 2021, month: 4, day: 7, hour: 10, minute: 5, second: 0)),
        Chat(custodian: 2, title: "BOTA Vehicle Checks",
             others: ["Kevin O'Brien", "Derek Stone", "Priya Natarajan", "Officer Daniels", "Tom Becker", "Brian Nguyen"],
             language: "en", messages: 450, start: LocalDateTime(year: 2021, month: 5, day: 3, hour: 7, minute: 1, second: 0)),
        Chat(custodian: 2, title: "Kevin O'Brien", others: ["Kevin O'Brien"],
             language: "en", messages: 180, start: LocalDateTime(year: 2021, month: 5, day: 4, hour: 15, minute: 30, second: 0)),
        Chat(custodian: 3, title: "Ligação CBP – PF Guarulhos",
             others: ["João Silva", "Fernanda Costa", "Thiago Almeida"],
             language: "pt", messages: 360, start: LocalDateTime(year: 2021, month: 3, day: 15, hour: 9, minute: 12, second: 30)),
        Chat(custodian: 3, title: "Thiago Almeida", others: ["Thiago Almeida"],
             language: "pt", messages: 200, start: LocalDateTime(year: 2021, month: 3, day: 16, hour: 11, minute: 45, second: 9)),
        Chat(custodian: 3, title: "Attaché Office Miami",
             others: ["Marcus Reed", "Karen Walsh", "Sgt. Patel"],
             language: "en", messages: 260, start: LocalDateTime(year: 2021, month: 3, day: 22, hour: 8, minute: 30, second: 0)),
        Chat(custodian: 4, title: "Nogales Mariposa Cargo",
             others: ["Karen Walsh", "José Ramírez", "Derek Stone", "Lucía Fernández"],
             language: "en", messages: 420, start: LocalDateTime(year: 2021, month: 6, day: 1, hour: 6, minute: 10, second: 0)),
        Chat(custodian: 4, title: "Karen Walsh", others: ["Karen Walsh"],
             language: "en", messages: 150, start: LocalDateTime(year: 2021, month: 6, day: 2, hour: 12, minute: 0, second: 0)),
    ]

    /// A realistic sample corpus: 5 custodians (e-mails like "j.alvarez@cbp.example.gov"), each with
    /// 2–3 chats, both platforms (iOS zips, Android txt and zip), a mix of languages (mostly
    /// English, some Spanish/Portuguese), groups and 1:1s, about 4,000 messages in all (±10 % per
    /// chat with the seed), attachments (some missing), plus one later overlapping export of one
    /// chat (the first custodian's group, 120–160 messages longer). Deterministic for a seed. Each
    /// export is in its own subdirectory of `directory` (`<custodian>-<n>`, the later one
    /// `<custodian>-<n>-later`); the list is in that order, the later export last.
    public static func write(to directory: URL, seed: UInt64 = 2021) throws -> [DemoExport] {
        var rng = SeededGenerator(seed: seed)
        var results: [DemoExport] = []
        var perCustodian = [Int](repeating: 0, count: custodians.count)
        var laterSpec: ExportSpec?
        var laterDirectory = ""
        for (index, chat) in chats.enumerated() {
            let custodian = custodians[chat.custodian]
            perCustodian[chat.custodian] += 1
            let jitter = chat.messages / 10
            let spec = ExportSpec(
                style: custodian.style,
                chatTitle: chat.title,
                participants: [custodian.name] + chat.others,
                messageCount: chat.messages - jitter + rng.below(2 * jitter + 1),
                start: chat.start,
                dayFirst: custodian.dayFirst,
                twelveHour: custodian.twelveHour,
                language: chat.language,
                mediaEvery: rng.between(14...30),
                missingMediaEvery: rng.between(5...9),
                seed: rng.next())
            let local = String(custodian.email.prefix { $0 != "@" })
            let subdirectory = "\(local)-\(perCustodian[chat.custodian])"
            let url = try ExportGenerator.write(spec, to: directory.appendingPathComponent(subdirectory, isDirectory: true))
            results.append(DemoExport(url: url, custodian: custodian.email, timeZone: custodian.timeZone))
            if index == 0 {
                laterSpec = spec
                laterDirectory = subdirectory + "-later"
            }
        }
        if let laterSpec {
            let custodian = custodians[chats[0].custodian]
            let url = try ExportGenerator.writeLater(laterSpec, extra: rng.between(120...160),
                                                     to: directory.appendingPathComponent(laterDirectory, isDirectory: true))
            results.append(DemoExport(url: url, custodian: custodian.email, timeZone: custodian.timeZone))
        }
        return results
    }
}
