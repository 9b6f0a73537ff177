import Foundation
import RecordkeeperCore

/// Signal chats as written by `signal-export` (Signal Desktop's database decrypted to one folder
/// per chat): `data.json` (one JSON object per line), `chat.md` (the same messages as Markdown)
/// and `media/`. `data.json` is read when present, since it is exact; `chat.md` only when it is
/// all there is. See docs/connectors/signal.md.
public struct SignalConnector: Connector {
    public let platform = Platform.signal

    public init() {}

    public func detect(_ source: SourceFile) throws -> Detection? {
        let name = source.url.lastPathComponent.lowercased()
        guard name == "data.json" || name == "chat.md" else { return nil }
        guard let head = try? SourceHead.text(of: source.url) else { return nil }
        if name == "data.json" {
            // The first object must look like a signal-export message.
            guard let line = head.split(separator: "\n", omittingEmptySubsequences: true).first,
                  let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  object["date"] is String, object["sender"] != nil, object["body"] != nil else { return nil }
            return Detection(confidence: 90, format: "signal-export-jsonl")
        }
        guard head.split(separator: "\n").contains(where: { SignalMarkdown.header(String($0)) != nil }) else { return nil }
        return Detection(confidence: 70, format: "signal-export-md")
    }

    public func open(_ source: SourceFile, options: ParseOptions, scratch: URL) throws -> any CaptureReader {
        let folder = source.url.deletingLastPathComponent()
        let title = options.conversationTitle ?? folder.lastPathComponent
        guard !title.isEmpty, title != "/" else {
            throw ConnectorError(.needsConversationTitle, "the chat's folder gives no title; pass --title")
        }
        let isJSON = source.url.lastPathComponent.lowercased() == "data.json"
        let size = (try? FileManager.default.attributesOfItem(atPath: source.url.path)[.size] as? NSNumber)?.int64Value ?? 0
        let description = SourceDescription(platform: .signal, format: isJSON ? "signal-export-jsonl" : "signal-export-md",
                                            textMember: source.url.lastPathComponent, conversationTitle: title, dateOrder: nil,
                                            headerStyle: isJSON ? "jsonl" : "markdown")
        let attachments = SignalMedia(chatFolder: folder)
        return isJSON
            ? try SignalJSONReader(url: source.url, description: description, totalBytes: size, attachments: attachments)
            : try SignalMarkdownReader(url: source.url, description: description, totalBytes: size, attachments: attachments)
    }

    /// `2021-03-04T09:15:00`, `2021-03-04 09:15:00.123456`, `2021-03-04, 09:15`: the wall-clock
    /// time as written (signal-export writes the exporting computer's local time, no offset).
    static func localTime(_ text: String) -> LocalDateTime? {
        let scalars = Array(text.utf8)
        func n(_ from: Int, _ width: Int) -> Int? {
            guard from + width <= scalars.count else { return nil }
            var v = 0
            for i in from..<(from + width) {
                let d = Int(scalars[i]) - 48
                guard d >= 0, d <= 9 else { return nil }
                v = v * 10 + d
            }
            return v
        }
        guard let y = n(0, 4), scalars.count >= 10, scalars[4] == 45, scalars[7] == 45, let mo = n(5, 2), let d = n(8, 2) else { return nil }
        var i = 10
        if i < scalars.count, scalars[i] == 44 { i += 1 }           // ","
        while i < scalars.count, scalars[i] == 32 || scalars[i] == 84 { i += 1 } // " " or "T"
        guard let h = n(i, 2), i + 2 < scalars.count, scalars[i + 2] == 58, let mi = n(i + 3, 2) else { return nil }
        var s = 0
        if i + 5 < scalars.count, scalars[i + 5] == 58 {
            guard let sec = n(i + 6, 2) else { return nil }
            s = sec
        }
        let t = LocalDateTime(year: y, month: mo, day: d, hour: h, minute: mi, second: s)
        return t.isValid ? t : nil
    }
}

/// Files a chat's messages point at: only regular files inside the chat's folder (`media/…`), or
/// the export's shared `exported_stickers/` folder beside it. Never a path the data invents
/// outside those, never a symbolic link.
final class SignalMedia: FileBackedAttachments {
    let chatFolder: URL

    init(chatFolder: URL) { self.chatFolder = chatFolder.standardizedFileURL }

    func resolve(_ path: String) -> URL? {
        if path.hasPrefix("../exported_stickers/"), let parts = ExportFolderFiles.safeComponents(String(path.dropFirst(3))) {
            return Self.regularFile(chatFolder.deletingLastPathComponent().appendingPathComponent(parts.joined(separator: "/")))
        }
        guard let parts = ExportFolderFiles.safeComponents(path) else { return nil }
        return Self.regularFile(chatFolder.appendingPathComponent(parts.joined(separator: "/")))
    }
}

/// `data.json`: one message object per line. A line that is not such an object is a defect,
/// kept verbatim; nothing is dropped.
final class SignalJSONReader: CaptureReader {
    let description: SourceDescription
    let totalBytes: Int64
    let attachments: any AttachmentProvider
    private let lines: LineReader
    private let file: String

    init(url: URL, description: SourceDescription, totalBytes: Int64, attachments: any AttachmentProvider) throws {
        self.description = description
        self.totalBytes = totalBytes
        self.attachments = attachments
        self.file = url.lastPathComponent
        lines = try LineReader(url: url)
    }

    var bytesRead: Int64 { lines.bytesConsumed }

    func next() throws -> CaptureItem? {
        while true {
            guard let (bytes, split) = try lines.nextLine({ (Data($0), false) }) else { return nil }
            let number = lines.lineNumber
            let text = String(decoding: bytes, as: UTF8.self)
            if text.trimmingCharacters(in: .whitespaces).isEmpty { continue }
            if split || lines.lastLineWasSplit {
                return .defect(CaptureDefect(file: file, line: number, code: "line_too_long", detail: "a line longer than 1 MiB; kept verbatim here", text: text))
            }
            if let message = Self.message(text, line: number) { return .message(message) }
            return .defect(CaptureDefect(file: file, line: number, code: "not_a_message",
                                         detail: "not a signal-export message object; kept verbatim here", text: text))
        }
    }

    func close() {}

    static func message(_ line: String, line number: Int) -> CapturedMessage? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
              let date = object["date"] as? String, let sent = SignalConnector.localTime(date) else { return nil }
        let senderRaw = object["sender"] as? String
        var body = object["body"] as? String ?? ""
        var kind = MessageKind.user
        var flags = MessageFlags()
        var refs: [AttachmentReference] = []
        for a in object["attachments"] as? [[String: Any]] ?? [] {
            if let path = a["path"] as? String, !path.isEmpty { refs.append(AttachmentReference(fileName: path)) }
            else if let name = a["name"] as? String, !name.isEmpty { refs.append(AttachmentReference(fileName: name)) }
        }
        if let sticker = object["sticker"] as? [String: Any] {
            let label = (sticker["emoji"] as? String).flatMap { $0.isEmpty ? nil : $0 } ?? "sticker"
            if body.isEmpty { body = label }
            if let pack = sticker["packId"] as? String, let id = sticker["id"] as? String, let ext = sticker["extension"] as? String {
                refs.append(AttachmentReference(fileName: "../exported_stickers/\(pack)/\(id).\(ext)"))
            }
        }
        if !refs.isEmpty { flags.insert(.hasAttachment) }
        if object["deleted"] as? Bool == true {
            kind = .deleted
            if body.isEmpty { body = "(This message was deleted)" }
        }
        if object["call"] as? Bool == true {
            flags.insert(.call)
            kind = .system
            if body.isEmpty { body = object["missed"] as? Bool == true ? "Missed call" : "Call" }
        }
        return CapturedMessage(line: number, lineCount: 1, raw: line, sentLocal: sent, senderRaw: senderRaw,
                               sender: senderRaw?.trimmingCharacters(in: .whitespaces), body: body, kind: kind, flags: flags, attachments: refs)
    }
}

enum SignalMarkdown {
    /// `[2021-03-04 09:15:00] Sender: text` (or the older `[2021-03-04, 09:15]`): the time, the
    /// sender and the rest of the line.
    static func header(_ line: String) -> (LocalDateTime, String, String)? {
        guard line.hasPrefix("["), let close = line.firstIndex(of: "]") else { return nil }
        let stamp = String(line[line.index(after: line.startIndex)..<close])
        guard stamp.count >= 16, let time = SignalConnector.localTime(stamp) else { return nil }
        let rest = line[line.index(after: close)...].drop(while: { $0 == " " })
        guard let colon = rest.range(of: ": ") ?? (rest.hasSuffix(":") ? rest.range(of: ":", options: .backwards) : nil) else { return nil }
        return (time, String(rest[..<colon.lowerBound]), String(rest[colon.upperBound...]))
    }

    /// `![name](./media/x.jpg)` and `[name](./media/x.pdf)` links to exported files.
    static func attachmentPaths(_ text: String) -> [String] {
        var out: [String] = []
        var rest = text[...]
        while let open = rest.range(of: "]("), let close = rest[open.upperBound...].firstIndex(of: ")") {
            let path = String(rest[open.upperBound..<close])
            if path.hasPrefix("./media/") || path.hasPrefix("media/") || path.hasPrefix("../exported_stickers/") { out.append(path) }
            rest = rest[rest.index(after: close)...]
        }
        return out
    }
}

/// `chat.md`, when no `data.json` came with it. Continuation lines join the message above; lines
/// before the first message are defects.
final class SignalMarkdownReader: CaptureReader {
    let description: SourceDescription
    let totalBytes: Int64
    let attachments: any AttachmentProvider
    private let lines: LineReader
    private let file: String
    private var pending: (line: Int, time: LocalDateTime, sender: String, text: [String], raw: [String])?
    private var queued: [CaptureItem] = []

    init(url: URL, description: SourceDescription, totalBytes: Int64, attachments: any AttachmentProvider) throws {
        self.description = description
        self.totalBytes = totalBytes
        self.attachments = attachments
        self.file = url.lastPathComponent
        lines = try LineReader(url: url)
    }

    var bytesRead: Int64 { lines.bytesConsumed }

    func next() throws -> CaptureItem? {
        while queued.isEmpty {
            guard let text = try lines.nextLine({ String(decoding: $0, as: UTF8.self) }) else {
                if let done = finish() { return done }
                return nil
            }
            let number = lines.lineNumber
            if let (time, sender, first) = SignalMarkdown.header(text) {
                if let done = finish() { queued.append(done) }
                pending = (number, time, sender, [first], [text])
            } else if pending != nil {
                pending!.text.append(text)
                pending!.raw.append(text)
            } else if !text.trimmingCharacters(in: .whitespaces).isEmpty {
                queued.append(.defect(CaptureDefect(file: file, line: number, code: "orphan_line",
                                                    detail: "line before the first message; kept verbatim here", text: text)))
            }
        }
        return queued.removeFirst()
    }

    private func finish() -> CaptureItem? {
        guard let p = pending else { return nil }
        pending = nil
        var textLines = p.text
        while let last = textLines.last, last.isEmpty { textLines.removeLast() }
        let body = textLines.joined(separator: "\n")
        let paths = SignalMarkdown.attachmentPaths(body)
        var flags = MessageFlags()
        if !paths.isEmpty { flags.insert(.hasAttachment) }
        let kind: MessageKind = body == "(This message was deleted)" ? .deleted : .user
        var raw = p.raw
        while let last = raw.last, last.isEmpty { raw.removeLast() }
        return .message(CapturedMessage(line: p.line, lineCount: raw.count, raw: raw.joined(separator: "\n"), sentLocal: p.time,
                                        senderRaw: p.sender, sender: p.sender, body: body, kind: kind, flags: flags,
                                        attachments: paths.map(AttachmentReference.init(fileName:))))
    }

    func close() {}
}
