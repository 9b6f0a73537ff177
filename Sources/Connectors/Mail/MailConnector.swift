import Foundation
import RecordkeeperCore

/// E-mail: a single message (`.eml`) or a mailbox (`.mbox`, mboxo/mboxrd, LF or CRLF). Each
/// e-mail is a record; a thread (by its first `References`/`In-Reply-To` id, else its own
/// `Message-ID`) is a conversation. Outlook `.msg` files are recognised and refused with a clear
/// message. See docs/connectors/mail.md.
public struct MailConnector: Connector {
    public let platform = Platform.email
    static let maxMessageBytes = 64 << 20

    public init() {}

    public func detect(_ source: SourceFile) throws -> Detection? {
        let ext = source.url.pathExtension.lowercased()
        guard let handle = try? FileHandle(forReadingFrom: source.url) else { return nil }
        defer { try? handle.close() }
        let head = (try? handle.read(upToCount: 16 * 1024)) ?? Data()
        if head.starts(with: [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) && (ext == "msg" || ext.isEmpty) {
            return Detection(confidence: 95, format: "outlook-msg")
        }
        // CRLF is e-mail's own line ending; as one Swift Character it would match neither "\n" nor
        // a split on "\n", so a CRLF message was not recognised (found writing issue 17's tests).
        let text = String(decoding: head, as: UTF8.self).replacingOccurrences(of: "\r\n", with: "\n")
        if text.hasPrefix("From ") && text.contains("\nFrom:") || ext == "mbox" && text.contains("From:") {
            return Detection(confidence: 85, format: "mbox")
        }
        guard ext == "eml" || ext.isEmpty || ext == "txt" else { return nil }
        let headerNames = text.split(separator: "\n").prefix(60).compactMap { line -> String? in
            guard let colon = line.firstIndex(of: ":"), !line.hasPrefix(" "), !line.hasPrefix("\t") else { return nil }
            return line[..<colon].lowercased()
        }
        let known: Set<String> = ["from", "to", "date", "subject", "message-id", "mime-version", "received", "return-path"]
        return Set(headerNames).intersection(known).count >= 3 ? Detection(confidence: 80, format: "eml") : nil
    }

    public func open(_ source: SourceFile, options: ParseOptions, scratch: URL) throws -> any CaptureReader {
        guard let d = try detect(source) else { throw ConnectorError(.unsupported, "\(source.displayName) is not an e-mail file") }
        if d.format == "outlook-msg" {
            throw ConnectorError(.unsupported, "\(source.displayName) is an Outlook .msg file, which is not read: in Outlook, drag the message to a folder (or use Save As) to get an .eml, or export the mailbox as MBOX")
        }
        let work = scratch.appendingPathComponent("mail-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let description = SourceDescription(platform: .email, format: d.format, textMember: source.url.lastPathComponent,
                                            conversationTitle: "Mail \(source.displayName)", dateOrder: nil, headerStyle: "rfc5322")
        return try MailReader(url: source.url, mbox: d.format == "mbox", work: work, description: description,
                              zone: options.timeZone.flatMap(TimeZone.init(identifier:)) ?? TimeZone(identifier: "UTC")!)
    }
}

/// MIME, as far as archiving needs it: headers (unfolded, RFC 2047 words decoded), multipart
/// bodies, base64 and quoted-printable, charsets, file names (RFC 2231 too).
enum MIME {
    struct Part {
        var headers: [(String, String)]
        var body: [UInt8]
        func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name }?.1 }
    }

    static func split(_ bytes: [UInt8]) -> Part {
        var i = 0
        var lines: [String] = []
        while i < bytes.count {
            var j = i
            while j < bytes.count, bytes[j] != 10 { j += 1 }
            var line = Array(bytes[i..<j])
            if line.last == 13 { line.removeLast() }
            i = j + 1
            if line.isEmpty { break }
            lines.append(String(decoding: line, as: UTF8.self))
        }
        var headers: [(String, String)] = []
        for line in lines {
            if (line.hasPrefix(" ") || line.hasPrefix("\t")), !headers.isEmpty {
                headers[headers.count - 1].1 += " " + line.trimmingCharacters(in: .whitespaces)
            } else if let colon = line.firstIndex(of: ":") {
                headers.append((String(line[..<colon]), String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespaces)))
            }
        }
        return Part(headers: headers, body: i < bytes.count ? Array(bytes[i...]) : [])
    }

    static func parameter(_ header: String?, _ name: String) -> String? {
        guard let header else { return nil }
        var continued: [(Int, String)] = []
        var extended = false
        for piece in header.split(separator: ";").dropFirst() {
            let kv = piece.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard kv.count == 2 else { continue }
            var key = kv[0].lowercased()
            var value = kv[1]
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = String(value.dropFirst().dropLast()) }
            if key == name { return value }
            if key == name + "*" { return decode2231(value, first: true) }
            // RFC 2231 continuations: name*0*=utf-8''…, name*1*=…
            if key.hasPrefix(name + "*") {
                key.removeFirst(name.count + 1)
                let isExtended = key.hasSuffix("*")
                if isExtended { key.removeLast(); extended = true }
                if let n = Int(key) { continued.append((n, value)) }
            }
        }
        guard !continued.isEmpty else { return nil }
        let joined = continued.sorted { $0.0 < $1.0 }.map(\.1).joined()
        return extended ? decode2231(joined, first: true) : joined
    }

    static func decode2231(_ value: String, first: Bool) -> String {
        let parts = value.split(separator: "'", maxSplits: 2, omittingEmptySubsequences: false)
        let encoded = parts.count == 3 ? String(parts[2]) : value
        let charset = parts.count == 3 ? String(parts[0]) : "utf-8"
        let bytes = percentDecoded(encoded)
        return decode(bytes, charset: charset)
    }

    static func percentDecoded(_ s: String) -> [UInt8] {
        var out: [UInt8] = []
        let u = Array(s.utf8)
        var i = 0
        while i < u.count {
            if u[i] == 37, i + 2 < u.count, let v = UInt8(String(decoding: u[(i + 1)...(i + 2)], as: UTF8.self), radix: 16) { out.append(v); i += 3 } else { out.append(u[i]); i += 1 }
        }
        return out
    }

    /// Bytes in a charset to text. Unknown charsets are read as Windows-1252 (every byte maps).
    static func decode(_ bytes: [UInt8], charset: String?) -> String {
        switch (charset ?? "utf-8").lowercased().trimmingCharacters(in: .whitespaces) {
        case "utf-8", "utf8", "us-ascii", "ascii":
            return String(decoding: bytes, as: UTF8.self)
        case "iso-8859-1", "latin1", "iso8859-1":
            return String(bytes: bytes, encoding: .isoLatin1) ?? String(decoding: bytes, as: UTF8.self)
        case "utf-16":
            return String(bytes: bytes, encoding: .utf16) ?? String(decoding: bytes, as: UTF8.self)
        default:
            return String(bytes: bytes, encoding: .windowsCP1252) ?? String(bytes: bytes, encoding: .isoLatin1) ?? String(decoding: bytes, as: UTF8.self)
        }
    }

    /// `=?charset?B|Q?…?=` encoded words (RFC 2047), adjacent ones joined without the space between.
    static func words(_ s: String) -> String {
        guard s.contains("=?") else { return s }
        var out = ""
        var rest = s[...]
        var lastWasWord = false
        while let start = rest.range(of: "=?") {
            let between = rest[..<start.lowerBound]
            if !(lastWasWord && between.allSatisfy(\.isWhitespace)) { out += between }
            let after = rest[start.upperBound...]
            let fields = after.split(separator: "?", maxSplits: 3, omittingEmptySubsequences: false)
            // The text starts after the second '?', and its "?=" is looked for from there: one
            // looked for from the second '?' itself (`=?x?B?=…`) came before the text's start and
            // made a reversed range, a trap (found by fuzzing the mbox reader, issue 17).
            guard fields.count >= 3,
                  let textStart = after.index(after.startIndex, offsetBy: fields[0].count + fields[1].count + 2, limitedBy: after.endIndex),
                  let endRange = after.range(of: "?=", range: textStart..<after.endIndex) else {
                out += "=?"; rest = after; lastWasWord = false; continue
            }
            let charset = String(fields[0]).split(separator: "*").first.map(String.init)
            let encoding = fields[1].uppercased()
            let text = String(after[textStart..<endRange.lowerBound])
            let bytes: [UInt8]
            if encoding == "B" { bytes = Data(base64Encoded: text, options: .ignoreUnknownCharacters).map { [UInt8]($0) } ?? Array(text.utf8) }
            else { bytes = quotedPrintable(Array(text.replacingOccurrences(of: "_", with: " ").utf8)) }
            out += decode(bytes, charset: charset)
            rest = after[endRange.upperBound...]
            lastWasWord = true
        }
        return out + rest
    }

    static func quotedPrintable(_ b: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var i = 0
        while i < b.count {
            if b[i] == 61 {
                if i + 1 < b.count, b[i + 1] == 10 { i += 2; continue }
                if i + 2 < b.count, b[i + 1] == 13, b[i + 2] == 10 { i += 3; continue }
                if i + 2 < b.count, let v = UInt8(String(decoding: b[(i + 1)...(i + 2)], as: UTF8.self), radix: 16) { out.append(v); i += 3; continue }
            }
            out.append(b[i])
            i += 1
        }
        return out
    }

    static func decodedBody(_ part: Part) -> [UInt8] {
        switch (part.header("content-transfer-encoding") ?? "").lowercased().trimmingCharacters(in: .whitespaces) {
        case "base64": return Data(base64Encoded: Data(part.body), options: .ignoreUnknownCharacters).map { [UInt8]($0) } ?? part.body
        case "quoted-printable": return quotedPrintable(part.body)
        default: return part.body
        }
    }

    /// Deepest nesting of multiparts and attached messages read; deeper parts stay in the original only.
    static let maxDepth = 20
    /// Most parts of one e-mail kept as attachments; the rest stay in the original only.
    static let maxParts = 1000

    /// The leaf parts of a message, depth-first (nested messages included), bounded: `tooDeep`
    /// is set when parts below `maxDepth` were left unread.
    /// `budget`: leaves still to read; past it, parts are counted in `unread` and not read (a
    /// million-part e-mail costs a count, not a million parsed parts).
    static func leaves(_ part: Part, depth: Int = 0, tooDeep: inout Bool, budget: inout Int, unread: inout Int) -> [Part] {
        let type = (part.header("content-type") ?? "text/plain").lowercased()
        guard depth < maxDepth else {
            tooDeep = true
            return []
        }
        guard budget > 0 else {
            unread += 1
            return []
        }
        if type.hasPrefix("multipart/"), let boundary = parameter(part.header("content-type"), "boundary") {
            let marker = Array(("--" + boundary).utf8)
            var pieces: [[UInt8]] = []
            var current: [UInt8]? = nil
            var i = 0
            let b = part.body
            while i < b.count {
                var j = i
                while j < b.count, b[j] != 10 { j += 1 }
                var line = Array(b[i..<j])
                let full = Array(b[i..<min(j + 1, b.count)])
                if line.last == 13 { line.removeLast() }
                if line.starts(with: marker) {
                    if let c = current { pieces.append(c) }
                    current = line == marker + [45, 45] ? nil : []
                    if line == marker + [45, 45] { break }
                } else if current != nil {
                    current! += full
                }
                i = j + 1
            }
            if let c = current { pieces.append(c) }
            var out: [Part] = []
            for piece in pieces {
                if budget <= 0 { unread += 1; continue }
                out += leaves(split(piece), depth: depth + 1, tooDeep: &tooDeep, budget: &budget, unread: &unread)
            }
            return out
        }
        budget -= 1
        if type.hasPrefix("message/rfc822") {
            return [part] + leaves(split(decodedBody(part)), depth: depth + 1, tooDeep: &tooDeep, budget: &budget, unread: &unread)
        }
        return [part]
    }
}

final class MailReader: CaptureReader {
    let description: SourceDescription
    let totalBytes: Int64
    var attachments: any AttachmentProvider { parts }
    var isMultiConversation: Bool { true }
    var bytesRead: Int64 { lines.bytesConsumed }
    private let parts = DecodedParts()
    private let lines: LineReader
    private let mbox: Bool
    private let work: URL
    private let zone: TimeZone
    private let file: String
    private var pending: (line: Int, envelope: String?, bytes: [UInt8])?
    private var queued: [CaptureItem] = []
    private var current: String?
    private var previousBlank = true
    private var partCount = 0
    private var done = false

    init(url: URL, mbox: Bool, work: URL, description: SourceDescription, zone: TimeZone) throws {
        self.mbox = mbox
        self.work = work
        self.description = description
        self.zone = zone
        file = url.lastPathComponent
        totalBytes = (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? NSNumber)?.int64Value ?? 0
        lines = try LineReader(url: url, maxLineBytes: 16 << 20)
    }

    func close() { try? FileManager.default.removeItem(at: work) }

    func next() throws -> CaptureItem? {
        while queued.isEmpty {
            guard !done else { return nil }
            guard let line = try lines.nextLine({ Array($0) }) else {
                done = true
                if let p = pending { finish(p) }
                pending = nil
                continue
            }
            let number = lines.lineNumber
            if mbox, previousBlank || number == 1, line.starts(with: Array("From ".utf8)) {
                if let p = pending { finish(p) }
                pending = (number + 1, String(decoding: line, as: UTF8.self), [])
                previousBlank = false
                continue
            }
            previousBlank = line.isEmpty || line == [13]
            if pending == nil {
                if mbox && !previousBlank {
                    queued.append(.defect(CaptureDefect(file: file, line: number, code: "orphan_line", detail: "text before the first From_ line; kept verbatim here", text: String(decoding: line, as: UTF8.self))))
                    continue
                }
                pending = (number, nil, [])
            }
            var content = line
            // mboxrd: a quoted ">From " (any number of >) loses one >.
            if mbox, let first = content.firstIndex(where: { $0 != 62 }), first > 0, content[first...].starts(with: Array("From ".utf8)) { content.removeFirst() }
            if pending!.bytes.count + content.count > MailConnector.maxMessageBytes {
                queued.append(.defect(CaptureDefect(file: file, line: pending!.line, code: "message_too_large", detail: "an e-mail larger than 64 MiB; its bytes stay in the archived original", text: "")))
                pending = nil
                continue
            }
            pending!.bytes += content + [10]
        }
        return queued.removeFirst()
    }

    /// RFC 5322 dates (with or without weekday or seconds, zone comments ignored) and the
    /// asctime form of mbox envelope lines. The formatters are made once per reader.
    private lazy var dateFormatters: [DateFormatter] = [
        "EEE, d MMM yyyy HH:mm:ss Z", "d MMM yyyy HH:mm:ss Z", "EEE, d MMM yyyy HH:mm Z", "EEE, d MMM yyyy HH:mm:ss zzz",
        "EEE MMM d HH:mm:ss yyyy", "EEE MMM d HH:mm:ss Z yyyy",
    ].map { format in
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = format
        return f
    }

    func date(_ text: String?) -> Date? {
        guard var t = text?.trimmingCharacters(in: .whitespaces), !t.isEmpty else { return nil }
        if let paren = t.firstIndex(of: "(") { t = String(t[..<paren]).trimmingCharacters(in: .whitespaces) }
        let normalised = t.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
        // An RFC 5322 date is printable ASCII. Anything else is not a date, and Foundation's
        // DateFormatter traps on some of it (a fatal "Incorrect range" on multi-byte text; found
        // by fuzzing the EML reader, issue 17).
        guard normalised.utf8.count <= 200, normalised.utf8.allSatisfy({ (0x20...0x7E).contains($0) }) else { return nil }
        return dateFormatters.lazy.compactMap { $0.date(from: normalised) }.first
    }

    static func address(_ header: String?) -> (name: String?, address: String?) {
        guard let header = header.map(MIME.words) else { return (nil, nil) }
        if let lt = header.lastIndex(of: "<"), let gt = header.lastIndex(of: ">"), lt < gt {
            let name = header[..<lt].trimmingCharacters(in: CharacterSet(charactersIn: " \""))
            return (name.isEmpty ? nil : name, String(header[header.index(after: lt)..<gt]))
        }
        return (nil, header.trimmingCharacters(in: .whitespaces))
    }

    private func finish(_ p: (line: Int, envelope: String?, bytes: [UInt8])) {
        let message = MIME.split(p.bytes)
        let headerText = message.headers.map { "\($0.0): \($0.1)" }.joined(separator: "\n")
        guard !message.headers.isEmpty else {
            queued.append(.defect(CaptureDefect(file: file, line: p.line, code: "not_an_email", detail: "no e-mail headers here; kept verbatim", text: String(decoding: p.bytes.prefix(4000), as: UTF8.self))))
            return
        }
        // The envelope line's date stands in when the Date header is missing or unreadable.
        let envelopeDate = p.envelope.flatMap { line -> Date? in
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            return fields.count >= 3 ? self.date(fields.dropFirst(2).joined(separator: " ")) : nil
        }
        guard let when = date(message.header("date")) ?? envelopeDate else {
            queued.append(.defect(CaptureDefect(file: file, line: p.line, code: "no_date", detail: "an e-mail with no readable Date header (and no mbox envelope date); kept here", text: headerText)))
            return
        }
        let ids = (message.header("references") ?? "").split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            + [message.header("in-reply-to"), message.header("message-id")].compactMap { $0 }
        let subject = MIME.words(message.header("subject") ?? "(no subject)")
        var root = ids.first { $0.contains("@") }?.trimmingCharacters(in: CharacterSet(charactersIn: "<> ")) ?? ""
        if root.isEmpty {
            var s = subject.lowercased()
            while let r = s.range(of: #"^\s*(re|fwd?|aw|wg)\s*:\s*"#, options: .regularExpression) { s.removeSubrange(r) }
            root = "subject:" + s
        }
        if root != current {
            current = root
            var title = subject
            while let r = title.range(of: #"^\s*(Re|RE|Fwd?|FWD?|Fw|AW|WG)\s*:\s*"#, options: .regularExpression) { title.removeSubrange(r) }
            queued.append(.conversation(ConversationHeader(sourceID: "thread:" + root, title: title.isEmpty ? "(no subject)" : title)))
        }
        guard let sent = LocalDateTime(secondsSinceEpoch: when.timeIntervalSince1970, in: zone) else {
            queued.append(.defect(CaptureDefect(file: file, line: p.line, code: "no_date", detail: "an e-mail dated before 1970 or after 9999; kept here", text: headerText)))
            return
        }
        let from = Self.address(message.header("from"))
        var text: String?
        var html: String?
        var refs: [AttachmentReference] = []
        var tooDeep = false
        var unkept = 0
        // The text and the HTML body besides the attachments kept.
        var budget = MIME.maxParts + 2
        for leaf in MIME.leaves(message, tooDeep: &tooDeep, budget: &budget, unread: &unkept) {
            let type = (leaf.header("content-type") ?? "text/plain").lowercased()
            let disposition = leaf.header("content-disposition")
            let name = MIME.parameter(disposition, "filename") ?? MIME.parameter(leaf.header("content-type"), "name")
            let isAttachment = (disposition?.lowercased().hasPrefix("attachment") ?? false) || name != nil
            if !isAttachment, type.hasPrefix("text/plain"), text == nil {
                text = MIME.decode(MIME.decodedBody(leaf), charset: MIME.parameter(leaf.header("content-type"), "charset"))
            } else if !isAttachment, type.hasPrefix("text/html"), html == nil {
                html = MIME.decode(MIME.decodedBody(leaf), charset: MIME.parameter(leaf.header("content-type"), "charset"))
            } else if isAttachment || !type.hasPrefix("multipart/") && !type.hasPrefix("message/") {
                guard refs.count < MIME.maxParts else {
                    unkept += 1
                    continue
                }
                partCount += 1
                let fileName = MIME.words(name ?? "part\(partCount)").split(separator: "/").last.map(String.init) ?? "part"
                let key = "part\(partCount)/\(fileName)"
                let url = work.appendingPathComponent("part-\(partCount)")
                if (try? Data(MIME.decodedBody(leaf)).write(to: url)) != nil { parts.add(key, url) }
                refs.append(AttachmentReference(fileName: key))
            }
        }
        if tooDeep {
            queued.append(.defect(CaptureDefect(file: file, line: p.line, code: "mime_too_deep",
                                                detail: "parts nested more than \(MIME.maxDepth) levels deep were not read; they stay in the archived original", text: headerText)))
        }
        if unkept > 0 {
            queued.append(.defect(CaptureDefect(file: file, line: p.line, code: "mime_too_many_parts",
                                                detail: "an e-mail with more than \(MIME.maxParts) parts: the first \(MIME.maxParts) are kept as attachments, the other \(unkept) stay in the archived original",
                                                text: headerText)))
        }
        var body = "Subject: \(subject)\n\n" + (text ?? html.map(TeamsConnector.text(fromHTML:)) ?? "")
        body = body.replacingOccurrences(of: "\r\n", with: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
        var flags = MessageFlags()
        if !refs.isEmpty { flags.insert(.hasAttachment) }
        queued.append(.message(CapturedMessage(line: p.line, lineCount: 1, raw: headerText, sentLocal: sent, senderRaw: message.header("from"),
                                               sender: from.name ?? from.address, body: body, kind: .user, flags: flags, attachments: refs)))
    }
}
