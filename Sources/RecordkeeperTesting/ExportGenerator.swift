import Foundation
import RecordkeeperCore

/// Writes synthetic WhatsApp "Export chat" files (FORMATS.md §1) for tests, demos and load runs.
///
/// The chat text is generated front to back from `spec.seed` and nothing in it depends on
/// `messageCount`, so a longer export of the same spec starts with exactly the bytes of a shorter
/// one. Output is streamed through a 1 MB buffer; memory stays flat whatever the message count
/// (apart from one small central-directory record per zip entry).
///
/// Conventions written:
/// * iOS: `[M/D/YY, H:MM:SS AM] Author: text` (U+202F before AM/PM; `D/M/YY` when `dayFirst`;
///   `HH:MM:SS` on a 24-hour clock), CRLF line ends, group events and the encryption notice as
///   lines authored by the group name (the other party in a one-to-one chat) with a leading U+200E.
/// * Android: `M/D/YY, H:MM PM - Author: text` (no seconds), LF line ends, authorless system lines
///   with the encryption notice first.
/// * Attachments: iOS `‎<attached: 00000012-PHOTO-2021-03-05-14-22-10.jpg>` (8-digit message
///   number), Android `IMG-20210305-WA0003.jpg (file attached)` (per-day counter, optional caption
///   on the next line); PDFs, PNG screenshots and vCards keep their own names.
public enum ExportGenerator {
    /// Writes the export; returns the file written (a .zip for zip styles, a .txt for androidTxt,
    /// named as WhatsApp names them: "WhatsApp Chat - <title>.zip" (iOS), "WhatsApp Chat with
    /// <title>.txt" / ".zip" (Android); for androidTxt the media are written side by side in the
    /// same directory as the .txt). `directory` is created if needed; an existing export of the
    /// same name is overwritten.
    public static func write(_ spec: ExportSpec, to directory: URL) throws -> URL {
        try write(spec, count: spec.messageCount, to: directory)
    }

    /// The same export plus `extra` further messages continuing the same conversation (a later
    /// export that overlaps an earlier one: its first `messageCount` messages, and the media they
    /// name, are byte-for-byte those of `write(spec, to:)`). The file name is the same as the
    /// earlier export's, so write it to a different directory.
    public static func writeLater(_ spec: ExportSpec, extra: Int, to directory: URL) throws -> URL {
        guard extra >= 0 else { throw ExportGeneratorError.invalidSpec("extra must not be negative") }
        return try write(spec, count: spec.messageCount + extra, to: directory)
    }

    static func write(_ spec: ExportSpec, count: Int, to directory: URL) throws -> URL {
        let vocabulary = try validate(spec)
        let fm = FileManager.default
        try fm.createDirectory(at: directory, withIntermediateDirectories: true)
        let target = directory.appendingPathComponent(spec.exportFileName)
        do {
            switch spec.style {
            case .androidTxt:
                _ = try generate(spec, vocabulary, count: count, textURL: target,
                                 media: DirectoryMediaSink(directory: directory))
            case .iosZip, .androidZip:
                let temp = fm.temporaryDirectory.appendingPathComponent("recordkeeper-chat-\(UUID().uuidString).txt")
                defer { try? fm.removeItem(at: temp) }
                let zip = try ZipStreamWriter(creating: target)
                let exported = try generate(spec, vocabulary, count: count, textURL: temp, media: zip)
                try zip.addFile(name: spec.chatEntryName, contentsOf: temp, modified: exported)
                try zip.finish()
            }
        } catch {
            try? fm.removeItem(at: target)
            throw error
        }
        return target
    }

    private static func validate(_ spec: ExportSpec) throws -> Vocabulary {
        guard let vocabulary = Vocabulary.forLanguage(spec.language) else {
            throw ExportGeneratorError.invalidSpec("unsupported language \(spec.language) (en, es, pt, fr, de, it)")
        }
        guard spec.participants.count >= 2 else {
            throw ExportGeneratorError.invalidSpec("a chat needs at least two participants")
        }
        guard spec.participants.allSatisfy({ !$0.isEmpty && !$0.contains(where: \.isNewline) && !$0.contains(": ") }) else {
            throw ExportGeneratorError.invalidSpec("participant names must be non-empty single lines without \": \"")
        }
        guard !spec.chatTitle.isEmpty, !spec.chatTitle.contains(where: \.isNewline) else {
            throw ExportGeneratorError.invalidSpec("the chat title must be a non-empty single line")
        }
        guard spec.messageCount >= 0, spec.mediaEvery >= 0, spec.missingMediaEvery >= 0 else {
            throw ExportGeneratorError.invalidSpec("counts must not be negative")
        }
        guard spec.start.isValid, spec.start.year >= 1970 else {
            throw ExportGeneratorError.invalidSpec("start \(spec.start) is not a valid time after 1970")
        }
        return vocabulary
    }

    /// Writes the chat text to `textURL`; returns the export time (two minutes after the last message).
    private static func generate(_ spec: ExportSpec, _ vocabulary: Vocabulary, count: Int, textURL: URL,
                                 media: any MediaSink) throws -> LocalDateTimeParts {
        guard FileManager.default.createFile(atPath: textURL.path, contents: nil) else {
            throw ExportGeneratorError.io("cannot create \(textURL.path)")
        }
        let handle = try FileHandle(forWritingTo: textURL)
        defer { try? handle.close() }
        var generator = ChatGenerator(spec: spec, vocabulary: vocabulary, target: count, handle: handle, media: media)
        try generator.run()
        return ChatGenerator.parts(of: generator.time + 120)
    }
}

/// The message stream of one export. A struct so the hot loop appends without reference counting
/// or exclusivity checks.
struct ChatGenerator {
    let spec: ExportSpec
    let vocab: Vocabulary
    let ios: Bool
    let group: Bool
    let target: Int
    let handle: FileHandle
    let media: any MediaSink
    var rng: SeededGenerator
    var out: [UInt8] = []
    var written = 0
    /// Current message time, seconds since 1970 reading the wall clock as UTC.
    var time: Int64
    var lastSpeaker = -1
    var attachments = 0
    let weights: [Int]
    let totalWeight: Int
    let firstNames: [String?]
    let systemAuthor: String
    /// Participants with a written first name, and colleague names that are nobody's in this chat.
    let namedParticipants: [Int]
    let fallbackNames: [String]
    let newMembers: [String]
    var nextNewMember = 0

    var cachedDay: Int64 = .min
    var year = 0, month = 0, day = 0
    var datePrefix: [UInt8] = []
    var waDay: Int64 = .min
    var waCounter = 0
    var docDay: Int64 = .min
    var docNamesToday: [String: Int] = [:]
    var contactUses: [String: Int] = [:]

    static let flushThreshold = 1 << 20
    static let lrm = "\u{200E}"

    init(spec: ExportSpec, vocabulary: Vocabulary, target: Int, handle: FileHandle, media: any MediaSink) {
        self.spec = spec
        self.vocab = vocabulary
        self.ios = spec.style.isIOS
        self.group = spec.isGroup
        self.target = target
        self.handle = handle
        self.media = media
        self.rng = SeededGenerator(seed: spec.seed)
        self.time = spec.start.secondsSinceEpochAsUTC
        var weights = [3]
        for _ in 1..<spec.participants.count { weights.append(rng.between(1...5)) }
        self.weights = weights
        self.totalWeight = weights.reduce(0, +)
        let firstNames: [String?] = spec.participants.map { raw in
            let clean = String(String.UnicodeScalarView(raw.unicodeScalars.filter {
                !(0x200B...0x200F).contains($0.value) && !(0x202A...0x202E).contains($0.value)
            }))
            let name = clean.hasPrefix("~") ? String(clean.dropFirst()).trimmingCharacters(in: .whitespaces) : clean
            guard let first = name.first, first.isLetter else { return nil }
            let words = name.split(separator: " ")
            // "Officer Daniels", "Sgt. Patel": a rank or title is not a first name.
            if let word = words.first, word == "Officer" || word.hasSuffix(".") { return name }
            return words.first.map(String.init)
        }
        self.firstNames = firstNames
        self.namedParticipants = firstNames.indices.filter { firstNames[$0] != nil }
        let taken = Set(firstNames.compactMap { $0 })
        self.fallbackNames = Vocabulary.fallbackNames.filter { !taken.contains($0) }
        self.systemAuthor = spec.isGroup ? spec.chatTitle : spec.participants[1]
        self.newMembers = Vocabulary.contactNames.filter { !spec.participants.contains($0) }
        out.reserveCapacity(ChatGenerator.flushThreshold + 65_536)
    }

    mutating func run() throws {
        try preamble()
        while written < target { try step() }
        if !out.isEmpty { try handle.write(contentsOf: out) }
        out.removeAll()
    }

    // MARK: conversation

    private mutating func preamble() throws {
        try system(vocab.encryption + (ios ? "" : vocab.encryptionAndroidSuffix))
        guard group else { return }
        let people = spec.participants
        let creator = rng.below(people.count)
        time += Int64(rng.between(0...2))
        if creator == 0 {
            try system(fill(vocab.createdYou, a: "", b: ""))
        } else {
            try system(fill(vocab.createdOther, a: people[creator], b: ""))
            try system(fill(vocab.addedYou, a: people[creator], b: ""))
        }
        for member in 1..<people.count where member != creator {
            time += Int64(rng.between(1...25))
            try system(fill(creator == 0 ? vocab.addedByYou : vocab.addedOther, a: people[creator], b: people[member]))
        }
    }

    private mutating func step() throws {
        let continuing = lastSpeaker >= 0 && rng.percent(group ? 22 : 30)
        let speaker = continuing ? lastSpeaker : pickSpeaker()
        advance(short: continuing)
        if group {
            if rng.oneIn(700), !newMembers.isEmpty {
                let actor = pickSpeaker()
                let member = newMembers[nextNewMember % newMembers.count]
                nextNewMember += 1
                try system(fill(actor == 0 ? vocab.addedByYou : vocab.addedOther, a: spec.participants[actor], b: member))
                return
            }
            if rng.oneIn(2500) {
                let actor = pickSpeaker()
                try system(actor == 0 ? vocab.descriptionYou : fill(vocab.descriptionOther, a: spec.participants[actor], b: ""))
                return
            }
        }
        let replyTo = lastSpeaker
        lastSpeaker = speaker
        beginMessage(author: spec.participants[speaker])
        if rng.oneIn(spec.mediaEvery) {
            try attachment(speaker: speaker)
        } else {
            let roll = rng.below(1000)
            if roll < 8 {
                appendText(ios ? ChatGenerator.lrm + (speaker == 0 ? vocab.deletedYou : vocab.deletedOther) + "."
                                : (speaker == 0 ? vocab.deletedYou : vocab.deletedOther))
            } else if roll < 14 {
                appendText(ios ? ChatGenerator.lrm + rng.pick(vocab.omittedIOS) : vocab.mediaOmittedAndroid)
            } else if roll < 18 {
                appendText(ios ? vocab.missedCall : "null")
            } else if roll < 23, vocab.hasLocation {
                let place = rng.pick(Vocabulary.places)
                appendText(ios ? ChatGenerator.lrm + "Location: https://maps.google.com/?q=" : "location: https://maps.google.com/?q=")
                appendText(place.0 + "," + place.1)
            } else if roll < 55 {
                appendTemplate(rng.pick(vocab.multiline), speaker: speaker)
            } else if replyTo >= 0, replyTo != speaker, rng.percent(30) {
                appendTemplate(rng.pick(vocab.replies), speaker: speaker)
            } else {
                appendTemplate(rng.pick(vocab.templates), speaker: speaker)
                if rng.oneIn(9) { appendText(" "); appendText(rng.pick(Vocabulary.emoji)) }
                if rng.oneIn(60) { appendText(" "); appendText(vocab.edited) }
            }
        }
        try endMessage()
    }

    private mutating func pickSpeaker() -> Int {
        var r = rng.below(totalWeight)
        for (i, w) in weights.enumerated() {
            if r < w { return i }
            r -= w
        }
        return 0
    }

    /// Moves the clock on: seconds within bursts, minutes to hours otherwise, mostly between 06:00
    /// and 22:00 and mostly on weekdays. Every message is at least two seconds after the previous one.
    private mutating func advance(short: Bool) {
        let gap: Int
        if short {
            gap = rng.between(2...45)
        } else {
            switch rng.below(100) {
            case ..<30: gap = rng.between(3...90)
            case ..<65: gap = rng.between(60...900)
            case ..<85: gap = rng.between(900...5_400)
            case ..<95: gap = rng.between(5_400...14_400)
            default: gap = rng.between(14_400...72_000)
            }
        }
        time += Int64(short ? gap : max(2, gap / max(1, spec.pace)))
        var dayNumber = ChatGenerator.floorDiv(time, 86_400)
        let hour = (time - dayNumber * 86_400) / 3_600
        if (hour >= 22 || hour < 6), rng.percent(90) {
            if hour >= 22 { dayNumber += 1 }
            time = dayNumber * 86_400 + 6 * 3_600 + Int64(rng.between(0...9_000))
        }
        let weekday = ChatGenerator.weekday(dayNumber)
        if (weekday == 6 || weekday == 0), rng.percent(65) {
            dayNumber += weekday == 6 ? 2 : 1
            time = dayNumber * 86_400 + 6 * 3_600 + Int64(rng.between(0...9_000))
        }
    }

    // MARK: attachments

    private mutating func attachment(speaker: Int) throws {
        attachments += 1
        let number = attachments
        let missing = spec.missingMediaEvery > 0 && number % spec.missingMediaEvery == 0
        var mrng = SeededGenerator(seed: spec.seed ^ (UInt64(number) &* 0xD1B5_4A32_D192_ED03))
        let p = ChatGenerator.parts(of: time)
        let messageNumber = ChatGenerator.pad(written + 1, 8)
        let kind = rng.below(100)
        let file: String
        let bytes: () -> [UInt8]
        if kind < 58 {
            let size = mrng.pick([(64, 48), (48, 64), (96, 72), (72, 96)])
            bytes = { [mrng] in var g = mrng; return MediaFactory.jpeg(width: size.0, height: size.1, rng: &g) }
            if ios {
                file = messageNumber + "-PHOTO-" + p.pad(p.year, 4) + "-" + p.pad(p.month, 2) + "-" + p.pad(p.day, 2) + "-"
                    + p.pad(p.hour, 2) + "-" + p.pad(p.minute, 2) + "-" + p.pad(p.second, 2) + ".jpg"
                appendText(ChatGenerator.lrm + "<" + vocab.attachedWord + ": " + file + ">")
            } else {
                let today = ChatGenerator.floorDiv(time, 86_400)
                if today != waDay { waDay = today; waCounter = 0 }
                file = "IMG-" + p.pad(p.year, 4) + p.pad(p.month, 2) + p.pad(p.day, 2) + "-WA" + p.pad(waCounter, 4) + ".jpg"
                waCounter += 1
                appendText(file + " (" + vocab.fileAttached + ")")
                if rng.percent(25) { appendText("\n"); appendTemplate(Vocabulary.parse(rng.pick(vocab.captions)), speaker: speaker) }
            }
        } else if kind < 72 {
            let today = ChatGenerator.floorDiv(time, 86_400)
            if today != docDay { docDay = today; docNamesToday.removeAll() }
            let title = rng.pick(vocab.docTitles)
            let seen = docNamesToday[title, default: 0]
            docNamesToday[title] = seen + 1
            let name = title + " " + p.pad(p.year, 4) + "-" + p.pad(p.month, 2) + "-" + p.pad(p.day, 2)
                + (seen == 0 ? "" : " (\(seen))") + ".pdf"
            let pages = 1 + mrng.below(3)
            let author = spec.participants[speaker]
            bytes = { [mrng] in
                var g = mrng
                var lines = ["Port of entry: " + g.pick(Vocabulary.ports),
                             "Date: " + p.pad(p.year, 4) + "-" + p.pad(p.month, 2) + "-" + p.pad(p.day, 2),
                             "Prepared by: " + author]
                let pool = ["Lanes open: 1-\(g.between(4...24))", "Secondary referrals: \(g.between(2...60))",
                            "Average wait: \(g.between(3...36) * 5) min", "Vehicles inspected: \(g.between(40...900))",
                            "Staffing: \(g.between(6...40)) officers", "Notes: no incidents reported",
                            "Next review: \(g.pick(["Monday", "Wednesday", "Friday"])) 0800"]
                for _ in 0..<g.between(3...5) { lines.append(g.pick(pool)) }
                return MediaFactory.pdf(title: title, lines: lines, pages: pages, created: p)
            }
            if ios {
                file = messageNumber + "-" + name
                appendText(name + " • " + ChatGenerator.lrm + "\(pages) " + (pages == 1 ? vocab.pageOne : vocab.pageMany) + " "
                           + ChatGenerator.lrm + "<" + vocab.attachedWord + ": " + file + ">")
            } else {
                file = name
                appendText(file + " (" + vocab.fileAttached + ")\n" + name)
            }
        } else if kind < 84 {
            bytes = { [mrng] in var g = mrng; return MediaFactory.png(width: 45, height: 80, rng: &g) }
            if ios {
                file = messageNumber + "-Screenshot " + p.pad(p.year, 4) + "-" + p.pad(p.month, 2) + "-" + p.pad(p.day, 2)
                    + " at " + p.pad(p.hour, 2) + "." + p.pad(p.minute, 2) + "." + p.pad(p.second, 2) + ".png"
                appendText(ChatGenerator.lrm + "<" + vocab.attachedWord + ": " + file + ">")
            } else {
                file = "Screenshot_" + p.pad(p.year, 4) + p.pad(p.month, 2) + p.pad(p.day, 2) + "-"
                    + p.pad(p.hour, 2) + p.pad(p.minute, 2) + p.pad(p.second, 2) + ".png"
                appendText(file + " (" + vocab.fileAttached + ")")
            }
        } else {
            let contact = rng.pick(Vocabulary.contactNames)
            bytes = { [mrng] in var g = mrng; return MediaFactory.vcard(name: contact, rng: &g) }
            if ios {
                file = messageNumber + "-" + contact + ".vcf"
                appendText(ChatGenerator.lrm + "<" + vocab.attachedWord + ": " + file + ">")
            } else {
                let used = contactUses[contact, default: 0]
                contactUses[contact] = used + 1
                file = contact + (used == 0 ? "" : " (\(used))") + ".vcf"
                appendText(file + " (" + vocab.fileAttached + ")")
            }
        }
        if !missing { try media.add(name: file, bytes: bytes(), modified: p) }
    }

    // MARK: writing

    private mutating func system(_ text: String) throws {
        guard written < target else { return }
        if ios {
            beginMessage(author: systemAuthor)
            appendText(ChatGenerator.lrm + text)
        } else {
            beginMessage(author: nil)
            appendText(text)
        }
        try endMessage()
    }

    /// Fills `{A}`, `{B}` and `{T}`; iOS writes the group name in curly quotes.
    private func fill(_ template: String, a: String, b: String) -> String {
        let title = ios ? "“" + spec.chatTitle + "”" : "\"" + spec.chatTitle + "\""
        return template.replacingOccurrences(of: "\"{T}\"", with: title)
            .replacingOccurrences(of: "{A}", with: a)
            .replacingOccurrences(of: "{B}", with: b)
    }

    private mutating func beginMessage(author: String?) {
        let dayNumber = ChatGenerator.floorDiv(time, 86_400)
        if dayNumber != cachedDay {
            cachedDay = dayNumber
            (year, month, day) = ChatGenerator.civil(dayNumber)
            datePrefix.removeAll()
            if ios { datePrefix.append(0x5B) }
            ChatGenerator.appendDate(&datePrefix, year, month, day, dayFirst: spec.dayFirst)
            datePrefix += [0x2C, 0x20]
        }
        let secondOfDay = Int(time - dayNumber * 86_400)
        let hour = secondOfDay / 3_600, minute = secondOfDay / 60 % 60, second = secondOfDay % 60
        out.append(contentsOf: datePrefix)
        if spec.twelveHour {
            ChatGenerator.appendInt(&out, hour % 12 == 0 ? 12 : hour % 12)
        } else {
            ChatGenerator.append2(&out, hour)
        }
        out.append(0x3A)
        ChatGenerator.append2(&out, minute)
        if ios {
            out.append(0x3A)
            ChatGenerator.append2(&out, second)
        }
        if spec.twelveHour {
            out += [0xE2, 0x80, 0xAF, hour < 12 ? 0x41 : 0x50, 0x4D] // U+202F, "AM"/"PM"
        }
        if ios {
            out += [0x5D, 0x20]             // "] "
        } else {
            out += [0x20, 0x2D, 0x20]       // " - "
        }
        if let author {
            out.append(contentsOf: author.utf8)
            out += [0x3A, 0x20]
        }
    }

    private mutating func endMessage() throws {
        if ios { out.append(0x0D) }
        out.append(0x0A)
        written += 1
        if out.count >= ChatGenerator.flushThreshold {
            try handle.write(contentsOf: out)
            out.removeAll(keepingCapacity: true)
        }
    }

    /// Appends message text; `\n` becomes CRLF on iOS.
    private mutating func appendText(_ s: String) {
        if ios {
            for b in s.utf8 {
                if b == 0x0A { out.append(0x0D) }
                out.append(b)
            }
        } else {
            out.append(contentsOf: s.utf8)
        }
    }

    private mutating func appendTemplate(_ pieces: [Piece], speaker: Int) {
        for piece in pieces {
            switch piece {
            case .text(let s): appendText(s)
            case .port: appendText(rng.pick(Vocabulary.ports))
            case .lane: ChatGenerator.appendInt(&out, rng.between(1...24))
            case .n: ChatGenerator.appendInt(&out, rng.between(2...40))
            case .wait: ChatGenerator.appendInt(&out, rng.between(3...36) * 5)
            case .hhmm:
                ChatGenerator.append2(&out, rng.between(6...19))
                ChatGenerator.append2(&out, rng.below(4) * 15)
            case .plate: appendPlate()
            case .name:
                var other = speaker
                if spec.participants.count > 1 {
                    other = rng.below(spec.participants.count - 1)
                    if other >= speaker { other += 1 }
                }
                if let first = firstNames[other] {
                    appendText(first)
                } else {
                    // A phone-number participant: name someone else in the chat, or a colleague outside it.
                    let named = namedParticipants.filter { $0 != speaker }
                    appendText(named.isEmpty ? rng.pick(fallbackNames) : firstNames[rng.pick(named)]!)
                }
            case .unit: appendText(rng.pick(Vocabulary.units))
            case .veh: ChatGenerator.appendInt(&out, rng.between(4_000...4_999))
            case .emoji: appendText(rng.pick(Vocabulary.emoji))
            case .day: appendText(rng.pick(vocab.weekdays))
            case .date:
                let later = ChatGenerator.civil(ChatGenerator.floorDiv(time, 86_400) + Int64(rng.between(1...10)))
                ChatGenerator.appendDate(&out, later.0, later.1, later.2, dayFirst: spec.dayFirst)
            case .ref:
                out += Array("CS-".utf8)
                ChatGenerator.appendInt(&out, year)
                out.append(0x2D)
                let n = rng.below(1_000_000)
                ChatGenerator.append2(&out, n / 10_000)
                ChatGenerator.append2(&out, n / 100 % 100)
                ChatGenerator.append2(&out, n % 100)
            }
        }
    }

    /// US plates like `CA 7KDF392`, Mexican ones like `BC AKX-12-34`.
    private mutating func appendPlate() {
        let state = rng.pick(Vocabulary.plateStates)
        appendText(state)
        out.append(0x20)
        let us = state.count == 2 && state != "BC"
        func letter(_ g: inout SeededGenerator) -> UInt8 { UInt8(0x41 + g.below(26)) }
        func digit(_ g: inout SeededGenerator) -> UInt8 { UInt8(0x30 + g.below(10)) }
        if us {
            out += [digit(&rng), letter(&rng), letter(&rng), letter(&rng), digit(&rng), digit(&rng), digit(&rng)]
        } else {
            out += [letter(&rng), letter(&rng), letter(&rng), 0x2D, digit(&rng), digit(&rng), 0x2D, digit(&rng), digit(&rng)]
        }
    }

    // MARK: calendar and number helpers

    static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }

    /// 0 = Sunday … 6 = Saturday (1970-01-01 was a Thursday).
    static func weekday(_ dayNumber: Int64) -> Int {
        Int(((dayNumber + 4) % 7 + 7) % 7)
    }

    /// Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    static func civil(_ dayNumber: Int64) -> (Int, Int, Int) {
        let z = dayNumber + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        return (Int(y), Int(m), Int(d))
    }

    static func parts(of time: Int64) -> LocalDateTimeParts {
        let dayNumber = floorDiv(time, 86_400)
        let (y, m, d) = civil(dayNumber)
        let s = Int(time - dayNumber * 86_400)
        return LocalDateTimeParts(year: y, month: m, day: d, hour: s / 3_600, minute: s / 60 % 60, second: s % 60)
    }

    /// `M/D/YY` or `D/M/YY`.
    static func appendDate(_ out: inout [UInt8], _ y: Int, _ m: Int, _ d: Int, dayFirst: Bool) {
        appendInt(&out, dayFirst ? d : m)
        out.append(0x2F)
        appendInt(&out, dayFirst ? m : d)
        out.append(0x2F)
        append2(&out, y % 100)
    }

    static func appendInt(_ out: inout [UInt8], _ value: Int) {
        if value < 10 && value >= 0 {
            out.append(UInt8(0x30 + value))
        } else if value < 100 && value >= 0 {
            out.append(UInt8(0x30 + value / 10))
            out.append(UInt8(0x30 + value % 10))
        } else {
            out.append(contentsOf: String(value).utf8)
        }
    }

    static func append2(_ out: inout [UInt8], _ value: Int) {
        out.append(UInt8(0x30 + value / 10 % 10))
        out.append(UInt8(0x30 + value % 10))
    }

    static func pad(_ value: Int, _ width: Int) -> String {
        let s = String(value)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }
}
