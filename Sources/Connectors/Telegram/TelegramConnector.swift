import Foundation
import RecordkeeperCore

/// Telegram Desktop's JSON export (`result.json`): one chat, or a whole account's chats (and
/// left chats), each a conversation named by Telegram's chat id. The writer's known defects are
/// repaired in a scratch copy before parsing: `\xHH` escapes (not JSON) and unquoted
/// `document_id` values. See docs/connectors/telegram.md.
public struct TelegramConnector: Connector {
    public let platform = Platform.telegram

    public init() {}

    public func detect(_ source: SourceFile) throws -> Detection? {
        guard source.url.pathExtension.lowercased() == "json", let head = try? SourceHead.text(of: source.url) else { return nil }
        let start = head.prefix(16 * 1024)
        let singleChat = start.contains("\"messages\": [") && start.contains("\"type\": \"") && start.contains("\"id\": ")
        let account = start.contains("\"personal_information\": {") || (start.contains("\"chats\": {") && start.contains("\"about\": "))
        guard singleChat || account else { return nil }
        return Detection(confidence: 85, format: account ? "telegram-desktop-json-account" : "telegram-desktop-json-chat")
    }

    public func open(_ source: SourceFile, options: ParseOptions, scratch: URL) throws -> any CaptureReader {
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        let repaired = scratch.appendingPathComponent("telegram-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: repaired) }
        let (lineOf, repairs) = try TelegramRepair.copy(from: source.url, to: repaired)
        let root: Any
        do {
            root = try JSONSerialization.jsonObject(with: try Data(contentsOf: repaired))
        } catch {
            throw ConnectorError(.unreadable, "\(source.displayName) is not readable JSON even after repairing Telegram's known defects; the file is archived as it is", underlying: error)
        }
        guard let object = root as? [String: Any] else {
            throw ConnectorError(.unreadable, "\(source.displayName) is JSON but not a Telegram export (no object at its root)")
        }
        var dialogs: [[String: Any]] = []
        if object["messages"] is [Any] {
            dialogs = [object]
        } else {
            for key in ["chats", "left_chats"] {
                dialogs += ((object[key] as? [String: Any])?["list"] as? [[String: Any]]) ?? []
            }
        }
        let description = SourceDescription(platform: .telegram, format: object["messages"] is [Any] ? "telegram-desktop-json-chat" : "telegram-desktop-json-account",
                                            textMember: source.url.lastPathComponent,
                                            conversationTitle: (object["name"] as? String) ?? "Telegram export \(source.displayName)",
                                            dateOrder: nil, headerStyle: "json")
        return TelegramReader(dialogs: dialogs, lineOf: lineOf, repairs: repairs, description: description, file: source.url.lastPathComponent,
                              zone: options.timeZone.flatMap(TimeZone.init(identifier:)),
                              attachments: ExportFolderFiles(root: source.url.deletingLastPathComponent()),
                              totalBytes: (try? FileManager.default.attributesOfItem(atPath: source.url.path)[.size] as? NSNumber)?.int64Value ?? 0)
    }
}

/// The line-by-line repair pass. It also notes where each message object starts
/// (`{` then `"id": N,` inside a `"messages": [`), so records keep their line in the original.
enum TelegramRepair {
    struct Key: Hashable { var dialog: Int; var id: Int }

    static func copy(from input: URL, to output: URL) throws -> ([Key: Int], Int) {
        let lines = try LineReader(url: input, maxLineBytes: 64 << 20)
        FileManager.default.createFile(atPath: output.path, contents: nil, attributes: [.posixPermissions: 0o600])
        let out = try FileHandle(forWritingTo: output)
        defer { try? out.close() }
        var lineOf: [Key: Int] = [:]
        var dialog = -1
        var previousWasOpenBrace = false
        var repairs = 0
        var pending = Data()
        while let line = try lines.nextLine({ String(decoding: $0, as: UTF8.self) }) {
            let number = lines.lineNumber
            var text = line
            let trimmed = text.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("\"messages\": [") { dialog += 1 }
            if previousWasOpenBrace, trimmed.hasPrefix("\"id\": "), let id = Int(trimmed.dropFirst(6).prefix { $0.isNumber }) {
                lineOf[Key(dialog: dialog, id: id)] = number - 1
            }
            previousWasOpenBrace = trimmed == "{"
            if text.contains("\\x") { let (fixed, n) = fixHexEscapes(text); text = fixed; repairs += n }
            if let fixed = quoteDocumentID(text) { text = fixed; repairs += 1 }
            pending.append(contentsOf: text.utf8)
            pending.append(0x0A)
            if pending.count >= 1 << 20 { try out.write(contentsOf: pending); pending.removeAll(keepingCapacity: true) }
        }
        try out.write(contentsOf: pending)
        return (lineOf, repairs)
    }

    /// `\x01` → `\u0001`, only where the backslash is not itself escaped.
    static func fixHexEscapes(_ s: String) -> (String, Int) {
        var out = ""
        var n = 0
        let chars = Array(s)
        var i = 0
        while i < chars.count {
            if chars[i] == "\\" {
                if i + 3 < chars.count, chars[i + 1] == "x", chars[i + 2].isHexDigit, chars[i + 3].isHexDigit {
                    out += "\\u00" + String(chars[i + 2]) + String(chars[i + 3])
                    i += 4
                    n += 1
                    continue
                }
                if i + 1 < chars.count { out.append(chars[i]); out.append(chars[i + 1]); i += 2; continue }
            }
            out.append(chars[i])
            i += 1
        }
        return (out, n)
    }

    /// `"document_id": video_files/x.webm` (an unquoted path, written by some 2022 builds) → quoted.
    static func quoteDocumentID(_ s: String) -> String? {
        guard let r = s.range(of: "\"document_id\": ") else { return nil }
        let rest = s[r.upperBound...]
        guard let first = rest.first, first != "\"", !first.isNumber, first != "-", first != "n" else { return nil }
        let end = rest.firstIndex(where: { $0 == "," || $0 == "}" }) ?? rest.endIndex
        let value = rest[..<end].trimmingCharacters(in: .whitespaces)
        let escaped = value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        return String(s[..<r.upperBound]) + "\"" + escaped + "\"" + String(rest[end...])
    }
}

final class TelegramReader: CaptureReader {
    let description: SourceDescription
    let totalBytes: Int64
    let attachments: any AttachmentProvider
    var isMultiConversation: Bool { true }
    var bytesRead: Int64 { dialogIndex >= dialogs.count ? totalBytes : 0 }
    private let dialogs: [[String: Any]]
    private let lineOf: [TelegramRepair.Key: Int]
    private let file: String
    private let zone: TimeZone?
    private var dialogIndex = 0
    private var messageIndex = -1
    private var queued: [CaptureItem] = []

    init(dialogs: [[String: Any]], lineOf: [TelegramRepair.Key: Int], repairs: Int, description: SourceDescription, file: String,
         zone: TimeZone?, attachments: any AttachmentProvider, totalBytes: Int64) {
        self.dialogs = dialogs
        self.lineOf = lineOf
        self.description = description
        self.file = file
        self.zone = zone
        self.attachments = attachments
        self.totalBytes = totalBytes
        if repairs > 0 {
            pendingNote = CaptureDefect(file: file, line: 0, code: "repaired_json",
                                        detail: "\(repairs) place(s) where Telegram wrote invalid JSON (\\x escapes, unquoted document_id) were repaired before reading; the original is archived as written",
                                        text: "")
        }
    }

    private var pendingNote: CaptureDefect?

    func close() {}

    func next() throws -> CaptureItem? {
        while queued.isEmpty {
            guard dialogIndex < dialogs.count else {
                if let note = pendingNote { pendingNote = nil; return .defect(note) }
                return nil
            }
            let dialog = dialogs[dialogIndex]
            let messages = dialog["messages"] as? [Any] ?? []
            if messageIndex == -1 {
                let type = dialog["type"] as? String ?? "chat"
                let id = (dialog["id"] as? NSNumber)?.stringValue ?? (dialog["id"] as? String) ?? "\(dialogIndex)"
                let title = (dialog["name"] as? String).flatMap { $0.isEmpty ? nil : $0 }
                    ?? ["saved_messages": "Saved Messages", "replies": "Replies"][type] ?? "Telegram chat \(id)"
                queued.append(.conversation(ConversationHeader(sourceID: "\(type):\(id)", title: title)))
                messageIndex = 0
                continue
            }
            guard messageIndex < messages.count else {
                dialogIndex += 1
                messageIndex = -1
                continue
            }
            let element = messages[messageIndex]
            messageIndex += 1
            queued.append(item(element, dialog: dialogIndex))
        }
        return queued.removeFirst()
    }

    /// `text` is a string, or an array of strings and `{type, text, …}` entity objects.
    static func text(_ v: Any?) -> String {
        if let s = v as? String { return s }
        guard let parts = v as? [Any] else { return "" }
        return parts.map { p in (p as? String) ?? ((p as? [String: Any])?["text"] as? String) ?? "" }.joined()
    }

    /// `date_unixtime` (absolute) in the batch's zone; else `date`, the exporting computer's local time.
    func time(_ o: [String: Any]) -> LocalDateTime? {
        if let zone, let unix = (o["date_unixtime"] as? String).flatMap(Double.init) ?? (o["date_unixtime"] as? NSNumber)?.doubleValue,
           unix > 0, let t = LocalDateTime(secondsSinceEpoch: unix, in: zone) { return t }
        return (o["date"] as? String).flatMap(SignalConnector.localTime)
    }

    private func item(_ element: Any, dialog: Int) -> CaptureItem {
        let raw = JSONText.canonical(element)
        guard let o = element as? [String: Any] else {
            return .defect(CaptureDefect(file: file, line: 0, code: "not_a_message", detail: "an entry of messages[] that is not an object; kept verbatim here", text: raw))
        }
        let id = (o["id"] as? NSNumber)?.intValue ?? -1
        let line = lineOf[TelegramRepair.Key(dialog: dialog, id: id)] ?? 0
        guard let sent = time(o) else {
            return .defect(CaptureDefect(file: file, line: line, code: "no_time", detail: "a message with no readable date; kept verbatim here", text: raw))
        }
        var body = Self.text(o["text"])
        var flags = MessageFlags()
        var kind = MessageKind.user
        var refs: [AttachmentReference] = []
        if o["edited"] != nil { flags.insert(.edited) }
        if o["self_destruct_period_seconds"] != nil { flags.insert(.disappearing) }
        for key in ["photo", "file"] {
            guard let path = o[key] as? String else { continue }
            // A file the export skipped is written as a sentence instead of a path.
            if path.hasPrefix("(") {
                refs.append(AttachmentReference(fileName: "\(key): \(path)"))
            } else {
                refs.append(AttachmentReference(fileName: path))
            }
        }
        if !refs.isEmpty { flags.insert(.hasAttachment) }
        if let l = o["location_information"] as? [String: Any] {
            flags.insert(.location)
            if body.isEmpty { body = "Location: \(l["latitude"] ?? "?"), \(l["longitude"] ?? "?")" }
        }
        if let c = o["contact_information"] as? [String: Any], body.isEmpty {
            body = "Contact: " + [c["first_name"], c["last_name"], c["phone_number"]].compactMap { $0 as? String }.filter { !$0.isEmpty }.joined(separator: " ")
        }
        if let poll = o["poll"] as? [String: Any], body.isEmpty {
            let answers = (poll["answers"] as? [[String: Any]] ?? []).map { "\($0["text"] as? String ?? "") (\($0["voters"] ?? 0))" }
            body = "Poll: \(poll["question"] as? String ?? "") — " + answers.joined(separator: "; ")
        }
        if body.isEmpty, let sticker = o["sticker_emoji"] as? String { body = sticker }
        if body.isEmpty, let media = o["media_type"] as? String { body = "(\(media.replacingOccurrences(of: "_", with: " ")))" }
        var sender = (o["from"] as? String) ?? (o["author"] as? String)
        // The account's id ("user5512", "channel77"): what identifies a sender across renames.
        var senderID = o["from_id"] as? String
        if o["type"] as? String == "service" {
            kind = .system
            sender = o["actor"] as? String
            senderID = o["actor_id"] as? String
            let action = o["action"] as? String ?? "service"
            var words = [action.replacingOccurrences(of: "_", with: " ")]
            if let title = o["title"] as? String { words.append("“\(title)”") }
            if let members = o["members"] as? [Any] { words.append(members.map { "\($0)" }.joined(separator: ", ")) }
            if action == "set_messages_ttl" {
                flags.insert(.disappearing)
                words.append("period \(o["period"] ?? o["period_seconds"] ?? 0) s")
            }
            if action == "phone_call" || action == "group_call" {
                flags.insert(.call)
                if let d = o["duration_seconds"] { words.append("\(d) s") }
                if let r = o["discard_reason"] as? String { words.append(r) }
            }
            if let info = o["information_text"] as? String { words.append(info) }
            body = body.isEmpty ? words.joined(separator: ": ") : body
        } else if o["type"] as? String == "unsupported" {
            kind = .mediaPlaceholder
            if body.isEmpty { body = "(message type this Telegram export does not support)" }
        } else if body.isEmpty && refs.isEmpty {
            kind = .mediaPlaceholder
        }
        return .message(CapturedMessage(line: line, lineCount: 1, raw: raw, sentLocal: sent, senderRaw: senderID ?? sender, sender: sender,
                                        body: body, kind: kind, flags: flags, attachments: refs))
    }
}
