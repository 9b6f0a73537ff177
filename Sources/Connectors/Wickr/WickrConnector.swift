import Foundation
import RecordkeeperCore

/// AWS Wickr's data-retention bot output: every message of every conversation the network
/// retains, as JSON objects (one per line, as the bot writes them; pretty-printed or
/// concatenated objects are read too), with decrypted files in an `attachments` folder beside
/// the `messages` folder. Conversations are interleaved and named by `vgroupid`. Times are
/// absolute (`msg_ts`, seconds since 1970, UTC). See docs/connectors/wickr.md.
public struct WickrConnector: Connector {
    public let platform = Platform.wickr

    public init() {}

    public func detect(_ source: SourceFile) throws -> Detection? {
        guard let head = try? SourceHead.text(of: source.url) else { return nil }
        var framer = JSONObjectFramer(maxBytes: 64 * 1024)
        for line in head.split(separator: "\n", omittingEmptySubsequences: true).prefix(200) {
            guard case .object(let text, _)? = framer.feed(String(line)).first else { continue }
            guard let o = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
                  o["msgtype"] != nil, o["vgroupid"] is String, o["msg_ts"] != nil || o["time_iso"] != nil else { return nil }
            return Detection(confidence: 90, format: "wickr-retention-json")
        }
        return nil
    }

    public func open(_ source: SourceFile, options: ParseOptions, scratch: URL) throws -> any CaptureReader {
        let size = (try? FileManager.default.attributesOfItem(atPath: source.url.path)[.size] as? NSNumber)?.int64Value ?? 0
        let description = SourceDescription(platform: .wickr, format: "wickr-retention-json", textMember: source.url.lastPathComponent,
                                            conversationTitle: "Wickr retention file \(source.displayName)", dateOrder: nil,
                                            headerStyle: "json", sourceTimeZone: "UTC")
        return try WickrReader(url: source.url, description: description, totalBytes: size,
                               attachments: WickrAttachments(messagesFile: source.url))
    }
}

/// Files the bot decrypted: looked up by their last path component (the messages name them by
/// the bot host's absolute path) in `attachments/` beside the messages file or its folder, or
/// in the same folder. Regular files only.
final class WickrAttachments: FileBackedAttachments {
    let folders: [URL]

    init(messagesFile: URL) {
        let dir = messagesFile.deletingLastPathComponent()
        folders = [dir.appendingPathComponent("attachments"), dir.deletingLastPathComponent().appendingPathComponent("attachments"), dir]
    }

    func resolve(_ name: String) -> URL? {
        guard let base = name.split(separator: "/").last.map(String.init), !base.isEmpty, base != ".", base != "..",
              !base.contains("\\"), !base.contains("\u{0}") else { return nil }
        return folders.lazy.compactMap { Self.regularFile($0.appendingPathComponent(base)) }.first
    }
}

final class WickrReader: CaptureReader {
    let description: SourceDescription
    let totalBytes: Int64
    let attachments: any AttachmentProvider
    var isMultiConversation: Bool { true }
    private let objects: JSONObjectStream
    private let file: String
    private var queued: [CaptureItem] = []
    private var currentGroup: String?
    private var titles: [String: String] = [:]

    init(url: URL, description: SourceDescription, totalBytes: Int64, attachments: any AttachmentProvider) throws {
        self.description = description
        self.totalBytes = totalBytes
        self.attachments = attachments
        file = url.lastPathComponent
        objects = try JSONObjectStream(url: url, maxBytes: 8 << 20)
    }

    var bytesRead: Int64 { objects.bytesConsumed }

    func close() {}

    func next() throws -> CaptureItem? {
        while queued.isEmpty {
            switch try objects.next() {
            case nil: return nil
            case .defect(let d)?: queued.append(.defect(d))
            case .object(let text, let line, let lineCount)?: handle(text, line: line, lineCount: lineCount)
            }
        }
        return queued.removeFirst()
    }

    private func defect(_ line: Int, _ code: String, _ detail: String, _ text: String) -> CaptureItem {
        .defect(CaptureDefect(file: file, line: line, code: code, detail: detail, text: text))
    }

    private func handle(_ text: String, line: Int, lineCount: Int) {
        guard let o = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
            queued.append(defect(line, "bad_json", "not valid JSON; kept verbatim here", text))
            return
        }
        guard let group = o["vgroupid"] as? String, !group.isEmpty else {
            queued.append(defect(line, "no_conversation", "a message with no vgroupid; kept verbatim here", text))
            return
        }
        guard let sent = Self.time(o) else {
            queued.append(defect(line, "no_time", "a message with no readable msg_ts or time_iso; kept verbatim here", text))
            return
        }
        let control = o["control"] as? [String: Any] ?? [:]
        if titles[group] == nil {
            titles[group] = (control["title"] as? String).flatMap { $0.isEmpty ? nil : $0 } ?? Self.defaultTitle(group, o)
        }
        if group != currentGroup {
            currentGroup = group
            queued.append(.conversation(ConversationHeader(sourceID: group, title: titles[group]!)))
        }
        var (kind, body, flags, refs) = Self.interpret(o, control: control)
        if Self.seconds(o["bor"]) > 0 || Self.seconds(o["ttl"]) > 0 { flags.insert(.disappearing) }
        if !refs.isEmpty { flags.insert(.hasAttachment) }
        if body.isEmpty, kind == .user { kind = .mediaPlaceholder }
        let sender = o["sender"] as? String
        queued.append(.message(CapturedMessage(line: line, lineCount: lineCount, raw: text, sentLocal: sent, senderRaw: sender,
                                               sender: sender, body: body, kind: kind, flags: flags, attachments: refs)))
    }

    static func defaultTitle(_ group: String, _ o: [String: Any]) -> String {
        if group.hasPrefix("S") || group.hasPrefix("G") {
            return "Wickr \(group.hasPrefix("S") ? "room" : "group") \(group.prefix(9))"
        }
        let people = [o["sender"] as? String, o["receiver"] as? String].compactMap { $0 }.sorted()
        return people.count == 2 ? "Wickr: \(people[0]) and \(people[1])" : "Wickr conversation \(group.prefix(8))"
    }

    /// `msg_ts` (`"1691176258.000000"`, seconds since 1970, UTC), else `time_iso` (taken as UTC).
    static func time(_ o: [String: Any]) -> LocalDateTime? {
        let ts: Double? = (o["msg_ts"] as? String).flatMap(Double.init) ?? (o["msg_ts"] as? NSNumber)?.doubleValue
        if let ts, ts > 0, let t = LocalDateTime(secondsSinceEpoch: ts, in: utc) { return t }
        return (o["time_iso"] as? String).flatMap { SignalConnector.localTime($0) }
    }

    static let utc = TimeZone(identifier: "UTC")!

    static func seconds(_ v: Any?) -> Double {
        if let n = v as? NSNumber { return n.doubleValue }
        if let s = v as? String { return Double(s) ?? 0 }
        return 0
    }

    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds)
        if s % 86_400 == 0 { return "\(s / 86_400) day(s)" }
        if s % 3600 == 0 { return "\(s / 3600) hour(s)" }
        if s % 60 == 0 { return "\(s / 60) minute(s)" }
        return "\(s) second(s)"
    }

    /// Expiration and burn-on-read settings in a room control message, as words.
    static func timers(_ c: [String: Any]) -> [String] {
        var out: [String] = []
        if c["ttl"] != nil { let t = seconds(c["ttl"]); out.append(t > 0 ? "messages expire after \(duration(t))" : "message expiration off") }
        if c["bor"] != nil { let b = seconds(c["bor"]); out.append(b > 0 ? "burn-on-read after \(duration(b))" : "burn-on-read off") }
        return out
    }

    static func interpret(_ o: [String: Any], control c: [String: Any]) -> (MessageKind, String, MessageFlags, [AttachmentReference]) {
        let type = (o["msgtype"] as? NSNumber)?.intValue ?? Int(o["msgtype"] as? String ?? "") ?? -1
        let sender = o["sender"] as? String ?? "someone"
        func list(_ key: String) -> String { (c[key] as? [Any])?.map { "\($0)" }.joined(separator: ", ") ?? "" }
        switch type {
        case 1000:
            return (.user, o["message"] as? String ?? "", [], [])
        case 3000:
            return (.system, "\(sender) verified a key", [], [])
        case 4001:
            var parts = ["Room created" + ((c["title"] as? String).map { ": \($0)" } ?? "")]
            if !list("members").isEmpty { parts.append("members \(list("members"))") }
            let timers = Self.timers(c)
            parts += timers
            return (.system, parts.joined(separator: "; "), timers.isEmpty ? [] : .disappearing, [])
        case 4002:
            if !list("addedusers").isEmpty { return (.system, "\(sender) added \(list("addedusers"))", [], []) }
            return (.system, "\(sender) removed \(list("deletedusers"))", [], [])
        case 4003:
            return (.system, "\(sender) left the room", [], [])
        case 4004:
            var parts = ["\(sender) changed the room settings"]
            if let title = c["title"] as? String { parts.append("title: \(title)") }
            if let d = c["description"] as? String { parts.append("description: \(d)") }
            let timers = Self.timers(c)
            parts += timers
            return (.system, parts.joined(separator: "; "), timers.isEmpty ? [] : .disappearing, [])
        case 4005:
            return (.system, "\(sender) deleted the room", [], [])
        case 4011:
            let target = c["msgid"] as? String ?? "?"
            let recall = c["isrecall"] as? Bool == true
            return (.system, recall ? "\(sender) recalled message \(target) for everyone" : "\(sender) deleted message \(target) on their devices", [], [])
        case 4012, 4013:
            return (.system, "\(sender) changed message attributes", [], [])
        case 4014:
            let pinned = (c["pinned"] as? Bool).map { $0 ? "pinned" : "unpinned" } ?? "changed a private property of"
            return (.system, "\(sender) \(pinned) the conversation", [], [])
        case 6000:
            let f = o["file"] as? [String: Any] ?? [:]
            let name = f["filename"] as? String ?? "file"
            let stored = (f["localfilename"] as? String).flatMap { $0.isEmpty ? nil : $0 } ?? name
            var flags = MessageFlags()
            if f["isscreenshot"] as? Bool == true { flags.insert(.viewOnce) }
            return (.user, name, flags, [AttachmentReference(fileName: stored)])
        case 7000:
            let call = o["call"] as? [String: Any] ?? [:]
            let status = (call["status"] as? NSNumber)?.intValue ?? -1
            let text: String
            switch status {
            case 0: text = "Call started"
            case 1: text = "Call ended" + ((call["duration"] as? NSNumber).map { " after \(duration($0.doubleValue))" } ?? "")
            case 2: text = "Missed call"
            case 3: text = "Call cancelled"
            default: text = "Call"
            }
            return (.system, text, .call, [])
        case 8000:
            let l = o["location"] as? [String: Any] ?? [:]
            return (.user, "Location: \(l["latitude"] ?? "?"), \(l["longitude"] ?? "?")", .location, [])
        case 9000:
            let e = o["edit"] as? [String: Any] ?? [:]
            if e["type"] as? String == "location" {
                return (.user, "Location update: \(e["latitude"] ?? "?"), \(e["longitude"] ?? "?")", [.location, .edited], [])
            }
            return (.user, e["text"] as? String ?? "", .edited, [])
        case 9100:
            let e = o["edit"] as? [String: Any] ?? [:]
            let added = e["reactAdded"] as? Bool ?? true
            return (.system, "\(sender) \(added ? "reacted" : "removed the reaction") \(e["reaction"] as? String ?? "") to message \(e["originalmessageid"] as? String ?? "?")", [], [])
        default:
            return (.system, "Wickr message of type \(type)", [], [])
        }
    }
}
