import Foundation
import RecordkeeperCore

/// Streams the messages of one WhatsApp chat text, line by line.
///
/// Two passes over the text, both streaming: the first reads only the headers to decide the date
/// order and header style from the evidence; the second builds messages. At most one message is
/// held in memory at a time.
final class WhatsAppReader: CaptureReader {
    let description: SourceDescription
    let attachments: any AttachmentProvider
    private let lines: LineReader
    private let order: DateOrder
    private let uncertain: Bool
    private let acceptBare: Bool
    private let bareLatinMeridiem: Bool
    private let fileLabel: String
    /// The chat's title, normalised: iOS writes group events as if the group itself said them.
    private let titleKey: String
    private var pending: [CaptureItem] = []
    private var pendingIndex = 0
    private var current: Builder?
    private var finished = false
    private let cleanup: () -> Void
    let totalBytes: Int64

    var bytesRead: Int64 { lines.bytesConsumed }

    private struct Builder {
        var header: WhatsAppHeader
        var sent: LocalDateTime
        var line: Int
        var lineCount: Int
        var raw: [UInt8]
        var text: [UInt8]
    }

    init(textURL: URL, fileLabel: String, description: SourceDescription, order: DateOrderDecision,
         acceptBare: Bool, bareLatinMeridiem: Bool = true, attachments: any AttachmentProvider, totalBytes: Int64,
         cleanup: @escaping () -> Void) throws {
        self.lines = try LineReader(url: textURL)
        self.description = description
        self.order = order.order
        self.uncertain = !order.certain
        self.acceptBare = acceptBare
        self.bareLatinMeridiem = bareLatinMeridiem
        self.fileLabel = fileLabel
        self.titleKey = WhatsAppMarkers.normalize(description.conversationTitle)
        self.attachments = attachments
        self.totalBytes = totalBytes
        self.cleanup = cleanup
    }

    func close() { cleanup() }

    func next() throws -> CaptureItem? {
        while true {
            if pendingIndex < pending.count {
                let item = pending[pendingIndex]
                pendingIndex += 1
                if pendingIndex == pending.count { pending.removeAll(keepingCapacity: true); pendingIndex = 0 }
                return item
            }
            if finished { return nil }
            let more: Void? = try lines.nextLine { bytes -> Void in consume(bytes) }
            if more == nil {
                finished = true
                if let b = current {
                    current = nil
                    finishAndQueue(b)
                }
            }
        }
    }

    /// Largest message kept whole in memory; beyond it, further lines become defects (the
    /// original export keeps every byte).
    static let maxMessageBytes = 8 << 20
    /// Longest excerpt of source text copied into a defect (the original keeps the rest).
    static let maxDefectTextBytes = 4096
    private var lastConsumedLine = 0

    private func defect(_ line: Int, _ code: String, _ detail: String, _ bytes: ArraySlice<UInt8>) -> CaptureItem {
        var text = String(decoding: bytes.prefix(Self.maxDefectTextBytes), as: UTF8.self)
        if bytes.count > Self.maxDefectTextBytes {
            text += "… [\(bytes.count) bytes in all; the original export holds the rest]"
        }
        return .defect(CaptureDefect(file: fileLabel, line: line, code: code, detail: detail, text: text))
    }

    /// Handles one line: starts a message, continues one, or records a defect.
    private func consume(_ bytes: ArraySlice<UInt8>) {
        let lineNo = lines.lineNumber
        let laterPiece = lines.lastLineWasSplit && lineNo == lastConsumedLine
        lastConsumedLine = lineNo
        if laterPiece {
            // The rest of an over-long line: same line, so no line break.
            guard current != nil else {
                pending.append(defect(lineNo, "orphan_line", "rest of a long line before the first message header; kept verbatim here", bytes))
                return
            }
            guard current!.raw.count + bytes.count <= Self.maxMessageBytes else {
                pending.append(defect(lineNo, "message_too_long",
                                      "the message starting at line \(current!.line) exceeds \(Self.maxMessageBytes) bytes; this part of the line is kept here", bytes))
                return
            }
            current!.raw.append(contentsOf: bytes)
            current!.text.append(contentsOf: bytes)
            return
        }
        if lines.lastLineWasSplit {
            pending.append(defect(lineNo, "long_line", "line is longer than \(lines.maxLineBytes) bytes; read in pieces and kept whole where the message size allows", bytes.prefix(0)))
        }
        if let h = WhatsAppHeader.scan(bytes, bareLatinMeridiem: bareLatinMeridiem), h.style != .bare || acceptBare {
            if let sent = date(of: h) {
                if let b = current { finishAndQueue(b) }
                current = Builder(header: h, sent: sent, line: lineNo, lineCount: 1, raw: Array(bytes),
                                  text: Array(bytes[h.restStart...]))
                return
            }
            pending.append(defect(lineNo, "invalid_header_date", current == nil
                    ? "line starts like a message header but its date is impossible in \(order.rawValue) order; kept here as a defect"
                    : "line starts like a message header but its date is impossible in \(order.rawValue) order; kept as a continuation of the previous message",
                bytes))
            if current == nil { return }
        }
        guard current != nil else {
            pending.append(defect(lineNo, "orphan_line", "line before the first message header; kept verbatim here", bytes))
            return
        }
        if current!.raw.count + bytes.count > Self.maxMessageBytes {
            pending.append(defect(lineNo, "message_too_long",
                                  "the message starting at line \(current!.line) exceeds \(Self.maxMessageBytes) bytes; this line is kept here", bytes))
            return
        }
        current!.raw.append(0x0A)
        current!.raw.append(contentsOf: bytes)
        current!.text.append(0x0A)
        current!.text.append(contentsOf: bytes)
        current!.lineCount += 1
    }

    private func date(of h: WhatsAppHeader) -> LocalDateTime? {
        var (y, m, d) = order.resolve(h.a, h.b, h.c)
        if y < 100 { y += 2000 }
        let t = LocalDateTime(year: y, month: m, day: d, hour: h.hour24, minute: h.minute, second: h.second ?? 0)
        return t.isValid ? t : nil
    }

    /// Queues a finished message, after a defect when its bytes are not all UTF-8 (they are shown
    /// as U+FFFD; the original export keeps them as they were).
    private func finishAndQueue(_ b: Builder) {
        let message = finish(b)
        if String(validating: b.raw, as: UTF8.self) == nil {
            notUTF8 += 1
            // One defect per message for the first few; an export in another encoding would
            // otherwise give one for every message.
            if notUTF8 <= Self.maxNotUTF8Defects {
                let more = notUTF8 == Self.maxNotUTF8Defects ? "; later messages like it are not reported one by one (is the export in another encoding?)" : ""
                pending.append(defect(b.line, "not_utf8", "the message starting at line \(b.line) holds bytes that are not UTF-8; they are shown as U+FFFD, and the original export keeps them as they were" + more, b.raw.prefix(0)))
            }
        }
        pending.append(message)
    }
    static let maxNotUTF8Defects = 20
    private var notUTF8 = 0

    private func finish(_ b: Builder) -> CaptureItem {
        let sent = b.sent
        let raw = String(decoding: b.raw, as: UTF8.self)
        var flags: MessageFlags = uncertain ? [.uncertainDate] : []
        var senderRaw: String?
        var sender: String?
        var body: String
        var kind = MessageKind.user
        var groupAuthored = false

        // The author is the shortest prefix ending in ": " on the header line (FORMATS.md §1.2).
        let text = b.text
        var split: Int?
        var i = text.startIndex
        while i + 1 < text.endIndex, text[i] != 0x0A {
            if text[i] == 0x3A, text[i + 1] == 0x20 { split = i; break }
            i += 1
        }
        var disappearingPlaceholder = false
        if split == nil, let nl = text.firstIndex(of: 0x0A) ?? Optional(text.endIndex), nl > text.startIndex {
            if text[nl - 1] == 0x3A {
                split = nl - 1 // "Author:" with the text on the following lines
            } else if nl - text.startIndex >= 3, text[nl - 2] == 0x3A, text[nl - 1] == 0x2E, nl == text.endIndex {
                // "Author:." marks a disappearing message (FORMATS.md §1.5, after chat-miner).
                split = nl - 2
                disappearingPlaceholder = true
            }
        }
        if let at = split, at > text.startIndex {
            let author = String(decoding: text[..<at], as: UTF8.self)
            if WhatsAppReader.looksLikeSystemEvent(author) {
                kind = .system
                body = WhatsAppText.stripMarks(String(decoding: text, as: UTF8.self))
            } else {
                senderRaw = author
                let cleaned = WhatsAppText.cleanSender(author)
                sender = cleaned.name
                if cleaned.nonContact { flags.insert(.nonContactSender) }
                let from = min(at + (disappearingPlaceholder ? 1 : 2), text.endIndex)
                body = WhatsAppText.stripMarks(String(decoding: text[from...], as: UTF8.self))
                if disappearingPlaceholder {
                    // The timer removed the text: a deletion marker, kept literally.
                    flags.insert(.disappearing)
                    kind = .deleted
                }
                // "[…] Group: ‎Ann added Bob": iOS group events carry the group as author and an LRM.
                let lrm = text.count - from >= 3 && text[from] == 0xE2 && text[from + 1] == 0x80 && text[from + 2] == 0x8E
                if lrm, !titleKey.isEmpty, WhatsAppMarkers.normalize(cleaned.name) == titleKey {
                    groupAuthored = true
                }
            }
        } else {
            kind = .system
            body = WhatsAppText.stripMarks(String(decoding: text, as: UTF8.self))
        }

        var attachments: [AttachmentReference] = []
        if kind == .user, !disappearingPlaceholder {
            classify(&body, &kind, &flags, &attachments)
            if groupAuthored, kind == .user, attachments.isEmpty {
                kind = .system
            }
            // A system notice written as if someone said it has no sender; the raw author stays.
            if kind == .system { sender = nil }
        }
        // A timer notice, authorless or written as someone's line ("Dan: Disappearing messages were turned on").
        if kind == .system, !disappearingPlaceholder, body.utf8.count < 400,
           WhatsAppText.containsBytes(body.lowercased(), "disappearing") || WhatsAppText.containsBytes(body.lowercased(), "message timer") {
            flags.insert(.disappearing)
        }
        return .message(CapturedMessage(
            line: b.line, lineCount: b.lineCount, raw: raw, sentLocal: sent, senderRaw: senderRaw, sender: sender,
            body: body, kind: kind, flags: flags, attachments: attachments))
    }

    /// True when what precedes the first `": "` is really a system event, not an author: a
    /// subject change whose quoted subject contains a colon, or a known notice. Author names are
    /// short, so long candidates are checked and short ones skip the work.
    static func looksLikeSystemEvent(_ author: String) -> Bool {
        // Every phrase in the tables spans at least three spaces ("Ann changed the subject from
        // "A"); most names have fewer, and skip the work.
        guard author.utf8.count > 12, author.utf8.lazy.filter({ $0 == 0x20 }).count >= 3 else { return false }
        let lower = WhatsAppMarkers.normalize(author)
        return WhatsAppMarkers.systemInfixes.contains(where: { WhatsAppText.containsBytes(lower, $0) })
            || WhatsAppMarkers.systemPrefixes.contains(where: { lower.hasPrefix($0) })
    }

    /// Sorts a user message into deleted / media placeholder / system notice / attachment.
    private func classify(_ body: inout String, _ kind: inout MessageKind, _ flags: inout MessageFlags,
                          _ attachments: inout [AttachmentReference]) {
        let utf8 = body.utf8
        // Edited notices end the text with ">".
        if utf8.last == UInt8(ascii: ">"), WhatsAppMarkers.editedSuffixes.contains(where: { body.hasSuffix($0) }) {
            flags.insert(.edited)
        }
        if body == "null" {
            kind = .mediaPlaceholder
            flags.insert(.viewOnce)
            return
        }
        let firstLine = body.prefix(while: { $0 != "\n" })
        let firstLineBytes = firstLine.utf8.count
        // Every marker WhatsApp writes is short; long first lines are ordinary text. The
        // encryption notice is the longest (about 170 bytes in German).
        guard firstLineBytes <= 240 else { return }
        let norm = WhatsAppMarkers.normalize(firstLine)
        if WhatsAppMarkers.deleted.contains(norm) {
            kind = .deleted
            return
        }
        if norm.utf8.count > 30, WhatsAppMarkers.systemPrefixes.contains(where: { norm.hasPrefix($0) }) {
            // iOS writes the encryption notice as if the other party (or the group) said it.
            kind = .system
            return
        }
        if WhatsAppMarkers.mediaOmitted.contains(norm)
            || (norm.hasSuffix("omitted") || norm.hasSuffix("omitido") || norm.hasSuffix("ocultado") || norm.hasSuffix("omis")
                || norm.hasSuffix("weggelassen") || norm.hasSuffix("omesso"))
            && WhatsAppMarkers.mediaOmittedSuffixes.contains(where: { norm.hasSuffix($0) }) {
            kind = .mediaPlaceholder
            return
        }
        if WhatsAppMarkers.callTexts.contains(norm) || norm.hasPrefix("voice call,") || norm.hasPrefix("video call,") {
            flags.insert(.call)
        }
        if norm.hasPrefix("location:") || norm == "live location shared" || norm.utf8.count > 20 && WhatsAppText.containsBytes(norm, "maps.google.com/?q=") {
            flags.insert(.location)
        }
        let last = norm.utf8.last
        if last == UInt8(ascii: ">") || last == UInt8(ascii: ")"), let name = WhatsAppReader.attachmentName(in: String(firstLine)) {
            attachments.append(AttachmentReference(fileName: name))
            flags.insert(.hasAttachment)
        }
    }

    /// Finds the file named by an attachment line: iOS `<attached: NAME>` (word localized; may
    /// follow `name.pdf • 2 pages`), old iOS `NAME <attached>`, Android `NAME (file attached)`.
    static func attachmentName(in line: String) -> String? {
        let text = WhatsAppText.trim(WhatsAppText.stripMarks(line))
        if let open = text.range(of: "<", options: .backwards), text.hasSuffix(">") {
            let inner = text[open.upperBound..<text.index(before: text.endIndex)]
            if let colon = inner.firstIndex(of: ":") {
                let word = inner[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
                let name = inner[inner.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                if WhatsAppMarkers.attachedWords.contains(word), !name.isEmpty { return name }
            } else if WhatsAppMarkers.attachedWords.contains(inner.trimmingCharacters(in: .whitespaces).lowercased()) {
                let name = text[..<open.lowerBound].trimmingCharacters(in: .whitespaces)
                if !name.isEmpty { return name }
            }
        }
        if text.hasSuffix(")"), let open = text.range(of: " (", options: .backwards) {
            let words = text[open.upperBound..<text.index(before: text.endIndex)].lowercased()
            if WhatsAppMarkers.fileAttachedWords.contains(words) {
                let name = text[..<open.lowerBound].trimmingCharacters(in: .whitespaces)
                if !name.isEmpty { return name }
            }
        }
        return nil
    }
}
