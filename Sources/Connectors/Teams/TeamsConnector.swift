import Foundation
import RecordkeeperCore

/// Microsoft Teams messages as the Teams Export API returns them: Graph `chatMessage` objects,
/// in response pages (`{"@odata.context": …, "value": [ … ]}`), saved one page per line, as
/// concatenated pages, or one message per line. Chats are named by `chatId`, channel posts by
/// team and channel. See docs/connectors/teams.md.
public struct TeamsConnector: Connector {
    public let platform = Platform.teams

    public init() {}

    public func detect(_ source: SourceFile) throws -> Detection? {
        let ext = source.url.pathExtension.lowercased()
        guard ext == "json" || ext == "jsonl", let head = try? SourceHead.text(of: source.url) else { return nil }
        let start = head.prefix(32 * 1024)
        guard start.contains("\"messageType\""), start.contains("\"createdDateTime\""),
              start.contains("\"chatId\"") || start.contains("\"channelIdentity\"") else { return nil }
        return Detection(confidence: 85, format: "teams-graph-chatmessage-json")
    }

    public func open(_ source: SourceFile, options: ParseOptions, scratch: URL) throws -> any CaptureReader {
        let description = SourceDescription(platform: .teams, format: "teams-graph-chatmessage-json", textMember: source.url.lastPathComponent,
                                            conversationTitle: "Teams export \(source.displayName)", dateOrder: nil, headerStyle: "json")
        return try TeamsReader(url: source.url, description: description, zone: options.timeZone.flatMap(TimeZone.init(identifier:)) ?? TimeZone(identifier: "UTC")!,
                               totalBytes: (try? FileManager.default.attributesOfItem(atPath: source.url.path)[.size] as? NSNumber)?.int64Value ?? 0)
    }

    /// Teams bodies are HTML: tags dropped (line breaks kept), entities decoded.
    public static func text(fromHTML html: String) -> String {
        var out = ""
        var rest = html[...]
        while let open = rest.firstIndex(of: "<") {
            out += rest[..<open]
            guard let close = rest[open...].firstIndex(of: ">") else { out += rest[open...]; rest = ""; break }
            let tag = rest[rest.index(after: open)..<close].lowercased()
            if tag.hasPrefix("br") || tag.hasPrefix("/p") || tag.hasPrefix("/div") || tag.hasPrefix("/li") { out += "\n" }
            rest = rest[rest.index(after: close)...]
        }
        out += rest
        // One pass, in order: `&amp;lt;` is always `&lt;` (a dictionary of replacements once
        // decoded it differently from one process to the next, and re-ingest made duplicates).
        out = HTMLEntities.decode(out).replacingOccurrences(of: "\u{00A0}", with: " ")
        return out.split(separator: "\n", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            .joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// Teams files are SharePoint and OneDrive links, not content: every one is recorded as missing.
final class TeamsReader: CaptureReader {
    let description: SourceDescription
    let totalBytes: Int64
    let attachments: any AttachmentProvider = NoFiles()
    var isMultiConversation: Bool { true }
    var bytesRead: Int64 { objects.bytesConsumed }
    private let objects: JSONObjectStream
    private let file: String
    private let zone: TimeZone
    private let iso = ISO8601DateFormatter()
    private var queued: [CaptureItem] = []
    private var current: String?

    init(url: URL, description: SourceDescription, zone: TimeZone, totalBytes: Int64) throws {
        self.description = description
        self.zone = zone
        self.totalBytes = totalBytes
        file = url.lastPathComponent
        objects = try JSONObjectStream(url: url, maxBytes: 64 << 20)
    }

    func close() {}

    func next() throws -> CaptureItem? {
        while queued.isEmpty {
            switch try objects.next() {
            case nil:
                return nil
            case .defect(let d)?:
                queued.append(.defect(d))
            case .object(let text, let start, _)?:
                guard let o = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
                    queued.append(.defect(CaptureDefect(file: file, line: start, code: "bad_json", detail: "not valid JSON; kept verbatim here", text: text)))
                    continue
                }
                // A response page carries its messages in `value`; a line may also be one message.
                if let page = o["value"] as? [Any] {
                    for m in page { handle(m, line: start) }
                } else {
                    handle(o, line: start)
                }
            }
        }
        return queued.removeFirst()
    }

    private func handle(_ element: Any, line: Int) {
        let raw = JSONText.canonical(element)
        guard let o = element as? [String: Any] else {
            queued.append(.defect(CaptureDefect(file: file, line: line, code: "not_a_message", detail: "not a chatMessage object; kept verbatim here", text: raw)))
            return
        }
        let channel = o["channelIdentity"] as? [String: Any]
        let conversation: (id: String, title: String)?
        if let chat = o["chatId"] as? String, !chat.isEmpty {
            conversation = ("chat:" + chat, (o["subject"] as? String).flatMap { $0.isEmpty ? nil : $0 } ?? "Teams chat \(chat.prefix(24))")
        } else if let team = channel?["teamId"] as? String, let ch = channel?["channelId"] as? String {
            conversation = ("channel:\(team)/\(ch)", "Teams channel \(ch.prefix(24))")
        } else {
            conversation = nil
        }
        guard let conversation else {
            queued.append(.defect(CaptureDefect(file: file, line: line, code: "no_conversation", detail: "a message with neither chatId nor channelIdentity; kept verbatim here", text: raw)))
            return
        }
        guard let created = o["createdDateTime"] as? String, let instant = instant(created),
              let sent = LocalDateTime(secondsSinceEpoch: instant.timeIntervalSince1970, in: zone) else {
            queued.append(.defect(CaptureDefect(file: file, line: line, code: "no_time", detail: "a message without a readable createdDateTime; kept verbatim here", text: raw)))
            return
        }
        if conversation.id != current {
            current = conversation.id
            queued.append(.conversation(ConversationHeader(sourceID: conversation.id, title: conversation.title)))
        }
        let from = o["from"] as? [String: Any]
        let sender = ["user", "application", "device"].lazy.compactMap { (from?[$0] as? [String: Any])?["displayName"] as? String }.first
        // The Entra ID object id identifies the sender; the display name can change.
        let senderID = ["user", "application", "device"].lazy.compactMap { (from?[$0] as? [String: Any])?["id"] as? String }.first
        let bodyObject = o["body"] as? [String: Any]
        let content = bodyObject?["content"] as? String ?? ""
        var body = (bodyObject?["contentType"] as? String)?.lowercased() == "html" ? TeamsConnector.text(fromHTML: content) : content
        var kind = MessageKind.user
        var flags = MessageFlags()
        let type = o["messageType"] as? String ?? "message"
        if type != "message" {
            kind = .system
            if body.isEmpty, let detail = o["eventDetail"] as? [String: Any] {
                let event = (detail["@odata.type"] as? String)?.split(separator: ".").last.map(String.init)?
                    .replacingOccurrences(of: "EventMessageDetail", with: "") ?? "event"
                let members = (detail["members"] as? [[String: Any]] ?? []).compactMap { $0["displayName"] as? String }
                body = ([event] + (members.isEmpty ? [] : [members.joined(separator: ", ")])).joined(separator: ": ")
                if event.lowercased().contains("call") { flags.insert(.call) }
            }
        }
        if o["lastEditedDateTime"] is String { flags.insert(.edited) }
        if o["deletedDateTime"] is String {
            kind = .deleted
            if body.isEmpty { body = "(This message was deleted)" }
        }
        let refs = (o["attachments"] as? [[String: Any]] ?? []).compactMap { a -> AttachmentReference? in
            guard (a["contentType"] as? String) == "reference" || a["contentUrl"] is String else { return nil }
            return AttachmentReference(fileName: (a["name"] as? String) ?? (a["id"] as? String) ?? "file")
        }
        if !refs.isEmpty { flags.insert(.hasAttachment) }
        if body.isEmpty && refs.isEmpty && kind == .user { kind = .mediaPlaceholder }
        queued.append(.message(CapturedMessage(line: line, lineCount: 1, raw: raw, sentLocal: sent, senderRaw: senderID ?? sender, sender: sender,
                                               body: body, kind: kind, flags: flags, attachments: refs)))
    }

    /// ISO 8601 in UTC, with or without fractional seconds (one formatter per reader, not per message).
    private func instant(_ text: String) -> Date? {
        iso.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let d = iso.date(from: text) { return d }
        iso.formatOptions = [.withInternetDateTime]
        return iso.date(from: text)
    }
}
