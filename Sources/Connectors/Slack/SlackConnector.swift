import Foundation
import RecordkeeperCore
import SafeZip
import ZIPFoundation

/// A Slack workspace export (the zip an owner downloads): `users.json`, `channels.json` (and
/// `groups.json`, `mpims.json`, `dms.json` in full exports), and a folder per conversation with
/// a JSON array of messages per day. Each conversation is named by Slack's channel id, so a
/// renamed channel stays one. File contents are not in Slack exports. See docs/connectors/slack.md.
public struct SlackConnector: Connector {
    public let platform = Platform.slack
    static let maxJSONBytes: Int64 = 256 << 20

    public init() {}

    public func detect(_ source: SourceFile) throws -> Detection? {
        guard source.url.pathExtension.lowercased() == "zip", let archive = try? Archive(url: source.url, accessMode: .read) else { return nil }
        var hasUsers = false, hasChannels = false
        for entry in archive where entry.type == .file {
            let name = entry.path.split(separator: "/").last.map(String.init) ?? ""
            let depth = entry.path.split(separator: "/").count
            if depth <= 2 && (name == "users.json" || name == "org_users.json") { hasUsers = true }
            if depth <= 2 && name == "channels.json" { hasChannels = true }
            if hasUsers && hasChannels { return Detection(confidence: 90, format: "slack-export-zip") }
        }
        return nil
    }

    public func open(_ source: SourceFile, options: ParseOptions, scratch: URL) throws -> any CaptureReader {
        let archive: Archive
        do { archive = try Archive(url: source.url, accessMode: .read) } catch {
            throw ConnectorError(.unreadable, "\(source.displayName) is not a readable zip archive", underlying: error)
        }
        try ZipNames.requireUnique(archive, displayName: source.displayName)
        let description = SourceDescription(platform: .slack, format: "slack-export-zip", textMember: source.url.lastPathComponent,
                                            conversationTitle: "Slack export \(source.displayName)", dateOrder: nil, headerStyle: "json")
        return try SlackReader(archive: archive, url: source.url, description: description, zone: options.timeZone.flatMap(TimeZone.init(identifier:)) ?? TimeZone(identifier: "UTC")!,
                               totalBytes: (try? FileManager.default.attributesOfItem(atPath: source.url.path)[.size] as? NSNumber)?.int64Value ?? 0)
    }

    /// An entry's bytes, bounded, CRC-checked.
    static func read(_ archive: Archive, _ entry: Entry, url: URL) throws -> Data {
        var data = Data()
        let crc: CRC32
        do {
            crc = try SafeZip.extract(entry, from: .file(url), bufferSize: 1 << 20) { chunk in
                data.append(chunk)
                if Int64(data.count) > maxJSONBytes {
                    throw ConnectorError(.hostileArchive, "\(entry.path) expands beyond \(maxJSONBytes) bytes; refused as a possible decompression bomb")
                }
            }
        } catch let f as SafeZip.Failure { throw ConnectorError(.unreadable, "the zip is damaged: \(f)") }
        guard crc == entry.checksum else { throw ConnectorError(.unreadable, "\(entry.path) is damaged in the zip (CRC-32 mismatch)") }
        return data
    }
}

/// Slack exports carry no file contents; every shared file is recorded as missing.
final class NoFiles: AttachmentProvider {
    func contains(named name: String) -> Bool { false }
    func withAttachment(named name: String, _ sink: (UnsafeRawBufferPointer) throws -> Void) throws -> Bool { false }
}

final class SlackReader: CaptureReader {
    struct Conversation { var folder: String; var id: String; var title: String; var days: [Entry] }
    let description: SourceDescription
    let totalBytes: Int64
    let attachments: any AttachmentProvider = NoFiles()
    var isMultiConversation: Bool { true }
    var bytesRead: Int64 { index >= conversations.count ? totalBytes : 0 }
    private let archive: Archive
    private let zone: TimeZone
    private var users: [String: String] = [:]
    private var conversations: [Conversation] = []
    private var index = 0
    private var day = -1
    private var ordinal = 0
    private var queued: [CaptureItem] = []
    /// The zip's file, read member by member (`SafeZip`).
    private let url: URL

    init(archive: Archive, url: URL, description: SourceDescription, zone: TimeZone, totalBytes: Int64) throws {
        self.archive = archive
        self.url = url
        self.description = description
        self.zone = zone
        self.totalBytes = totalBytes
        // The export may sit one folder down inside the zip.
        let files = archive.filter { $0.type == .file }
        let rootPrefix: String = files.first { $0.path.hasSuffix("channels.json") }.map { String($0.path.dropLast("channels.json".count)) } ?? ""
        func json(_ name: String) -> [[String: Any]] {
            guard let entry = files.first(where: { $0.path == rootPrefix + name }), let data = try? SlackConnector.read(archive, entry, url: url) else { return [] }
            return (try? JSONSerialization.jsonObject(with: data)) as? [[String: Any]] ?? []
        }
        for u in json("users.json") + json("org_users.json") {
            guard let id = u["id"] as? String else { continue }
            let profile = u["profile"] as? [String: Any] ?? [:]
            let name = [profile["real_name"], profile["display_name"], u["real_name"], u["name"]].compactMap { $0 as? String }.first { !$0.isEmpty }
            users[id] = name ?? id
        }
        var byFolder: [String: (id: String, title: String)] = [:]
        for c in json("channels.json") {
            if let name = c["name"] as? String, let id = c["id"] as? String { byFolder[name] = (id, "#" + name) }
        }
        for c in json("groups.json") {
            if let name = c["name"] as? String, let id = c["id"] as? String { byFolder[name] = (id, "#" + name + " (private)") }
        }
        for c in json("mpims.json") + json("dms.json") {
            guard let id = c["id"] as? String else { continue }
            let members = (c["members"] as? [String] ?? []).map { users[$0] ?? $0 }
            let title = members.isEmpty ? id : members.joined(separator: ", ")
            byFolder[(c["name"] as? String) ?? id] = (id, title)
            byFolder[id] = (id, title)
        }
        var days: [String: [Entry]] = [:]
        for entry in files {
            guard entry.path.hasPrefix(rootPrefix) else { continue }
            let parts = entry.path.dropFirst(rootPrefix.count).split(separator: "/")
            guard parts.count == 2, parts[1].hasSuffix(".json"), parts[1].count == 15 else { continue }
            days[String(parts[0]), default: []].append(entry)
        }
        conversations = days.keys.sorted().map { folder in
            let known = byFolder[folder]
            return Conversation(folder: folder, id: known?.id ?? "folder:" + folder, title: known?.title ?? folder,
                                days: days[folder]!.sorted { $0.path < $1.path })
        }
    }

    func close() {}

    func next() throws -> CaptureItem? {
        while queued.isEmpty {
            guard index < conversations.count else { return nil }
            let c = conversations[index]
            if day == -1 {
                queued.append(.conversation(ConversationHeader(sourceID: c.id, title: c.title)))
                day = 0
                ordinal = 0
                continue
            }
            guard day < c.days.count else { index += 1; day = -1; continue }
            let entry = c.days[day]
            day += 1
            let data: Data
            do { data = try SlackConnector.read(archive, entry, url: url) } catch {
                queued.append(.defect(CaptureDefect(file: entry.path, line: 0, code: "unreadable_member", detail: "\(error)", text: "")))
                continue
            }
            guard let messages = (try? JSONSerialization.jsonObject(with: data)) as? [Any] else {
                queued.append(.defect(CaptureDefect(file: entry.path, line: 0, code: "not_a_message_list",
                                                    detail: "this day's file is not a JSON array of messages; its bytes stay in the archived zip",
                                                    text: String(decoding: data.prefix(2000), as: UTF8.self))))
                continue
            }
            for m in messages { queued.append(item(m, member: entry.path)) }
        }
        return queued.removeFirst()
    }

    /// Export-token query parameters (`?t=xoxe-…`) are secrets: removed from what is archived as text.
    static func redacted(_ s: String) -> String {
        guard s.contains("t=xox") else { return s }
        var out = ""
        var rest = s[...]
        while let r = rest.range(of: "t=xox") {
            out += rest[..<r.lowerBound] + "t=[redacted]"
            rest = rest[r.upperBound...].drop { $0 != "&" && $0 != "\"" && $0 != " " && $0 != ">" }
        }
        return out + rest
    }

    /// Slack mrkdwn to plain text: mentions by name, links as "label (url)", entities unescaped.
    func plain(_ text: String) -> String {
        var out = ""
        var rest = text[...]
        while let open = rest.firstIndex(of: "<"), let close = rest[open...].firstIndex(of: ">") {
            out += rest[..<open]
            let inner = String(rest[rest.index(after: open)..<close])
            let parts = inner.split(separator: "|", maxSplits: 1).map(String.init)
            let target = parts.first ?? ""
            let label = parts.count > 1 ? parts[1] : nil
            if target.hasPrefix("@") { out += "@" + (label ?? users[String(target.dropFirst())] ?? String(target.dropFirst())) }
            else if target.hasPrefix("#") { out += "#" + (label ?? String(target.dropFirst())) }
            else if target.hasPrefix("!") { out += "@" + (label ?? String(target.dropFirst()).split(separator: "^").first.map(String.init) ?? "") }
            else { out += label.map { "\($0) (\(target))" } ?? target }
            rest = rest[rest.index(after: close)...]
        }
        out += rest
        return HTMLEntities.decode(out) // Slack escapes &, < and >; decoded in one pass
    }

    private func item(_ element: Any, member: String) -> CaptureItem {
        ordinal += 1
        let raw = Self.redacted(JSONText.canonical(element))
        guard let o = element as? [String: Any] else {
            return .defect(CaptureDefect(file: member, line: ordinal, code: "not_a_message", detail: "an entry that is not a message object; kept here", text: raw))
        }
        guard let ts = (o["ts"] as? String).flatMap(Double.init), ts > 0, let sent = LocalDateTime(secondsSinceEpoch: ts, in: zone) else {
            return .defect(CaptureDefect(file: member, line: ordinal, code: "no_time", detail: "a message without a readable ts; kept here", text: raw))
        }
        let userID = o["user"] as? String
        let profileName = (o["user_profile"] as? [String: Any])?["real_name"] as? String
        let sender = profileName.flatMap { $0.isEmpty ? nil : $0 } ?? userID.flatMap { users[$0] } ?? (o["username"] as? String) ?? userID ?? (o["bot_id"] as? String)
        var body = plain(o["text"] as? String ?? "")
        var flags = MessageFlags()
        if o["edited"] != nil { flags.insert(.edited) }
        var files = o["files"] as? [[String: Any]] ?? []
        if let legacy = o["file"] as? [String: Any] { files.append(legacy) }
        let refs = files.map { f in AttachmentReference(fileName: (f["name"] as? String) ?? (f["title"] as? String) ?? (f["id"] as? String) ?? "file") }
        if !refs.isEmpty { flags.insert(.hasAttachment) }
        let subtype = o["subtype"] as? String
        let systemTypes: Set<String> = ["channel_join", "channel_leave", "channel_topic", "channel_purpose", "channel_name", "channel_archive",
                                        "channel_unarchive", "group_join", "group_leave", "group_topic", "group_purpose", "group_name",
                                        "bot_add", "bot_remove", "pinned_item", "unpinned_item", "tombstone"]
        var kind = MessageKind.user
        if let subtype, systemTypes.contains(subtype) { kind = .system }
        if subtype == "tombstone" || subtype == "message_deleted" { kind = .deleted }
        if body.isEmpty && refs.isEmpty { kind = kind == .user ? .mediaPlaceholder : kind }
        if body.isEmpty, !refs.isEmpty { body = refs.map(\.fileName).joined(separator: ", ") }
        return .message(CapturedMessage(line: ordinal, lineCount: 1, raw: raw, sentLocal: sent, senderRaw: userID ?? sender, sender: sender,
                                        body: body, kind: kind, flags: flags, attachments: refs))
    }
}
