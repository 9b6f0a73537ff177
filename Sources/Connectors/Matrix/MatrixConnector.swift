import Foundation
import RecordkeeperCore

/// Matrix events as a homeserver pushes them to an Application Service: the body of one
/// `PUT /_matrix/app/v1/transactions/{txnId}` (`{"events": [ … ]}`), saved byte for byte.
/// Live capture (`recordkeeper capture matrix`) writes each transaction so, with the media it
/// fetched in `<name>.media/<server>/<media id>` and room names in `<name>.rooms.json`, and
/// ingests it through this connector; a saved transaction can also be ingested by hand.
///
/// Every event becomes a record, identified by its event id: messages, edits (`m.replace`, the
/// new text with the edited flag), redactions (a record of their own; the redacted original
/// stays), membership, names, topics, encryption and retention (disappearing) settings, and any
/// other event type as a system record keeping its JSON. See docs/connectors/matrix.md.
public struct MatrixConnector: Connector {
    public let platform = Platform.matrix
    public static let format = "matrix-appservice-transaction"

    public init() {}

    public func detect(_ source: SourceFile) throws -> Detection? {
        guard source.url.pathExtension.lowercased() == "json", let head = try? SourceHead.text(of: source.url) else { return nil }
        let start = head.prefix(16 * 1024)
        guard start.contains("\"events\""), start.contains("\"event_id\"") || start.range(of: #""events"\s*:\s*\[\s*\]"#, options: .regularExpression) != nil,
              start.contains("\"origin_server_ts\"") || !start.contains("\"event_id\"") else { return nil }
        return Detection(confidence: 90, format: Self.format)
    }

    public func open(_ source: SourceFile, options: ParseOptions, scratch: URL) throws -> any CaptureReader {
        let data: Data
        do { data = try Data(contentsOf: source.url) } catch {
            throw ConnectorError(.unreadable, "\(source.displayName) could not be read", underlying: error)
        }
        guard data.count <= 256 << 20 else { throw ConnectorError(.unsupported, "\(source.displayName) is larger than a Matrix transaction can be") }
        let base = source.url.deletingPathExtension()
        let names = (try? Data(contentsOf: URL(fileURLWithPath: base.path + ".rooms.json")))
            .flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: String] } ?? [:]
        let description = SourceDescription(platform: .matrix, format: Self.format, textMember: source.url.lastPathComponent,
                                            conversationTitle: "Matrix \(source.displayName)", dateOrder: nil, headerStyle: "json",
                                            sourceTimeZone: "UTC")
        return try MatrixReader(data: data, file: source.url.lastPathComponent, roomNames: names,
                                media: ExportFolderFiles(root: URL(fileURLWithPath: base.path + ".media", isDirectory: true)), description: description)
    }

    /// The attachment name a media event gets: the mxc server and media id (which find the
    /// fetched file) and the file's own name.
    public static func attachmentName(mxc: String, fileName: String) -> String? {
        guard let (server, id) = mxcParts(mxc) else { return nil }
        let name = fileName.split(whereSeparator: { $0 == "/" || $0 == "\\" }).last.map(String.init) ?? "file"
        return "mxc/\(server)/\(id)/\(name.isEmpty ? "file" : name)"
    }

    /// `mxc://server/id` → (server, id), both restricted to the characters the spec allows.
    public static func mxcParts(_ mxc: String) -> (String, String)? {
        guard mxc.hasPrefix("mxc://") else { return nil }
        let rest = mxc.dropFirst(6).split(separator: "/", omittingEmptySubsequences: false)
        guard rest.count == 2 else { return nil }
        let server = String(rest[0]), id = String(rest[1])
        let serverOK = !server.isEmpty && !server.hasPrefix(".") && !server.contains("..") && server.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || ".-:[]".contains($0)) }
        let idOK = !id.isEmpty && id.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "_-".contains($0)) }
        return serverOK && idOK ? (server, id) : nil
    }

    /// Every mxc URI an event's content names (`url`, `info.thumbnail_url`), for fetching.
    public static func mediaURIs(in event: [String: Any]) -> [String] {
        guard let content = event["content"] as? [String: Any] else { return [] }
        var out: [String] = []
        if let url = content["url"] as? String { out.append(url) }
        if let newContent = content["m.new_content"] as? [String: Any], let url = newContent["url"] as? String { out.append(url) }
        return out.filter { mxcParts($0) != nil }
    }
}

/// Media fetched for a transaction: `<server>/<media id>` under the media folder.
private struct MatrixMedia: FileBackedAttachments {
    let folder: ExportFolderFiles
    func resolve(_ name: String) -> URL? {
        let parts = name.split(separator: "/")
        guard parts.count >= 4, parts[0] == "mxc" else { return nil }
        return folder.resolve(parts[1] + "/" + parts[2])
    }
}

final class MatrixReader: CaptureReader {
    let description: SourceDescription
    let totalBytes: Int64
    var bytesRead: Int64 { position < events.count ? 0 : totalBytes }
    var attachments: any AttachmentProvider { media }
    var isMultiConversation: Bool { true }
    private let media: MatrixMedia
    private let events: [Any]
    private let file: String
    private let roomNames: [String: String]
    private var position = 0
    private var queued: [CaptureItem] = []
    private var currentRoom: String?
    private var displayNames: [String: String] = [:]

    init(data: Data, file: String, roomNames: [String: String], media: ExportFolderFiles, description: SourceDescription) throws {
        guard let top = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw ConnectorError(.unreadable, "\(file) is not a JSON object; a Matrix transaction is {\"events\": [...]}")
        }
        guard let events = top["events"] as? [Any] else {
            throw ConnectorError(.unsupported, "\(file) has no \"events\" list")
        }
        self.events = events
        self.file = file
        self.roomNames = roomNames
        self.media = MatrixMedia(folder: media)
        self.description = description
        totalBytes = Int64(data.count)
        // Names set inside this transaction win over the names known before it.
        for case let e as [String: Any] in events where e["type"] as? String == "m.room.member" {
            if let key = e["state_key"] as? String, let name = (e["content"] as? [String: Any])?["displayname"] as? String { displayNames[key] = name }
        }
    }

    func close() {}

    func next() throws -> CaptureItem? {
        while queued.isEmpty {
            guard position < events.count else { return nil }
            let index = position
            position += 1
            read(events[index], index: index + 1)
        }
        return queued.removeFirst()
    }

    private func defect(_ index: Int, _ code: String, _ detail: String, _ value: Any) {
        queued.append(.defect(CaptureDefect(file: file, line: index, code: code, detail: detail, text: JSONText.canonical(value))))
    }

    private func read(_ value: Any, index: Int) {
        guard let e = value as? [String: Any] else { return defect(index, "not_an_event", "an entry of the events list that is not an object; kept verbatim", value) }
        guard let eventID = e["event_id"] as? String, let type = e["type"] as? String, let roomID = e["room_id"] as? String,
              let ts = (e["origin_server_ts"] as? NSNumber)?.int64Value else {
            return defect(index, "incomplete_event", "an event without event_id, type, room_id or origin_server_ts; kept verbatim", e)
        }
        guard let sent = LocalDateTime(secondsSinceEpoch: Double(ts) / 1000, in: TimeZone(identifier: "UTC")!) else {
            return defect(index, "invalid_date", "an event whose origin_server_ts is out of range; kept verbatim", e)
        }
        if roomID != currentRoom {
            currentRoom = roomID
            // Until the room is named, its id stands in as the title (replaced once a name is seen).
            queued.append(.conversation(ConversationHeader(sourceID: roomID, title: roomNames[roomID] ?? latestName(roomID) ?? roomID)))
        }
        let sender = e["sender"] as? String
        let content = e["content"] as? [String: Any] ?? [:]
        let who = sender.map { displayNames[$0].map { name in "\(name) (\(sender!))" } ?? $0 } ?? "someone"
        var kind = MessageKind.system
        var flags = MessageFlags()
        var body: String
        var refs: [AttachmentReference] = []
        switch type {
        case "m.room.message":
            kind = .user
            var shown = content
            if let relation = content["m.relates_to"] as? [String: Any], relation["rel_type"] as? String == "m.replace" {
                // An edit: the new text, flagged; the event it replaces is in the raw JSON.
                flags.insert(.edited)
                if let replacement = content["m.new_content"] as? [String: Any] { shown = replacement }
            }
            let msgtype = shown["msgtype"] as? String ?? content["msgtype"] as? String ?? ""
            let text = shown["body"] as? String ?? ""
            switch msgtype {
            case "m.image", "m.file", "m.video", "m.audio":
                let fileName = shown["filename"] as? String ?? text
                if let url = shown["url"] as? String, let name = MatrixConnector.attachmentName(mxc: url, fileName: fileName) {
                    refs.append(AttachmentReference(fileName: name))
                    flags.insert(.hasAttachment)
                } else if shown["file"] != nil {
                    // Encrypted media (`file` instead of `url`): the key is in the event, the bytes are not fetched.
                    defect(index, "encrypted_media", "an encrypted attachment; its ciphertext is not fetched", e)
                }
                body = (shown["filename"] as? String).map { $0 == text ? text : "\(text)\n[\($0)]" } ?? text
            case "m.emote":
                body = "* \(text)"
            case "m.location":
                flags.insert(.location)
                body = "\(text) \(shown["geo_uri"] as? String ?? "")".trimmingCharacters(in: .whitespaces)
            default:
                body = text
            }
            if content.isEmpty { kind = .deleted; body = "(content removed by a redaction before capture)" }
        case "m.sticker":
            kind = .user
            body = content["body"] as? String ?? "sticker"
            if let url = content["url"] as? String, let name = MatrixConnector.attachmentName(mxc: url, fileName: body + ".png") {
                refs.append(AttachmentReference(fileName: name)); flags.insert(.hasAttachment)
            }
        case "m.room.redaction":
            kind = .deleted
            let target = e["redacts"] as? String ?? content["redacts"] as? String ?? "an event"
            body = "\(who) redacted \(target)" + ((content["reason"] as? String).map { " (reason: \($0))" } ?? "")
                + ". The original stays in the archive."
        case "m.room.member":
            let target = e["state_key"] as? String ?? "?"
            let name = content["displayname"] as? String
            switch content["membership"] as? String ?? "" {
            case "join": body = sender == target ? "\(name ?? target) joined" : "\(who) joined \(target)"
            case "invite": body = "\(who) invited \(target)"
            case "leave": body = sender == target ? "\(target) left" : "\(who) removed \(target)"
            case "ban": body = "\(who) banned \(target)"
            case "knock": body = "\(target) asked to join"
            default: body = "\(who) changed the membership of \(target)"
            }
            if let name, content["membership"] as? String == "join" { displayNames[target] = name }
        case "m.room.name":
            body = "\(who) named the room \"\(content["name"] as? String ?? "")\""
        case "m.room.topic":
            body = "\(who) set the topic to \"\(content["topic"] as? String ?? "")\""
        case "m.room.create":
            body = "\(who) created the room"
        case "m.room.encryption":
            body = "\(who) turned on end-to-end encryption (\(content["algorithm"] as? String ?? "?")); later messages reach the archive only as ciphertext"
        case "m.room.encrypted":
            body = "An end-to-end encrypted message the archive cannot read (from \(who)); its ciphertext is kept"
        case "m.room.retention", "org.matrix.msc1763.retention":
            flags.insert(.disappearing)
            if let ms = (content["max_lifetime"] as? NSNumber)?.int64Value {
                body = "\(who) set messages to disappear after \(Self.duration(ms))"
            } else {
                body = "\(who) turned disappearing messages off"
            }
        case "m.reaction":
            let relation = content["m.relates_to"] as? [String: Any] ?? [:]
            body = "\(who) reacted \(relation["key"] as? String ?? "?") to \(relation["event_id"] as? String ?? "an event")"
        default:
            body = "\(who) sent a \(type) event"
        }
        queued.append(.message(CapturedMessage(line: index, lineCount: 1, raw: JSONText.canonical(e), sentLocal: sent, senderRaw: sender,
                                               sender: sender, body: body, kind: kind, flags: flags, attachments: refs, nativeID: eventID)))
    }

    private func latestName(_ roomID: String) -> String? {
        var name: String?
        for case let e as [String: Any] in events where e["room_id"] as? String == roomID && e["type"] as? String == "m.room.name" {
            name = (e["content"] as? [String: Any])?["name"] as? String
        }
        return name.flatMap { $0.isEmpty ? nil : $0 }
    }

    static func duration(_ ms: Int64) -> String {
        let s = ms / 1000
        if s % 86_400 == 0 { return "\(s / 86_400) day\(s / 86_400 == 1 ? "" : "s")" }
        if s % 3600 == 0 { return "\(s / 3600) hour\(s / 3600 == 1 ? "" : "s")" }
        if s % 60 == 0 { return "\(s / 60) minute\(s / 60 == 1 ? "" : "s")" }
        return "\(s) seconds"
    }
}
