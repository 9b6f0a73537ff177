import Foundation

/// An attachment as archived: the name the chat gave it and, when the export carried the file,
/// the blob holding its bytes.
public struct ArchivedAttachment: Sendable, Hashable, Codable {
    public var fileName: String
    /// Nil when the chat names the file but the export did not include it (recorded as missing).
    public var blob: ContentHash?
    public var size: Int64?

    public init(fileName: String, blob: ContentHash?, size: Int64?) {
        self.fileName = fileName
        self.blob = blob
        self.size = size
    }

    public var isMissing: Bool { blob == nil }
}

/// A message record as the archive keeps it: written once, never updated.
public struct ArchivedMessage: Sendable, Hashable {
    /// Store-assigned id (nil before it is stored).
    public var id: Int64?
    /// Stable identity (see `IdentityKey`); re-ingesting the same message finds the same key.
    public var identityKey: ContentHash
    public var platform: Platform
    public var conversationKey: String
    /// Position of the message in its source (1-based).
    public var sourceOrdinal: Int
    /// Position among identical neighbours (same sender, time and text), 0 for the first.
    public var duplicateOrdinal: Int
    /// The sent time as written in the source (wall clock, no zone).
    public var sentLocal: LocalDateTime
    /// The IANA zone assumed for `sentLocal`.
    public var timeZone: String
    /// `sentLocal` read in `timeZone`, seconds since 1970 UTC.
    public var sentAt: Int64
    /// When the archive first captured the message, milliseconds since 1970 UTC.
    public var capturedAtMillis: Int64
    public var sender: String?
    public var senderRaw: String?
    public var body: String
    /// The source lines verbatim.
    public var raw: String
    public var kind: MessageKind
    public var flags: MessageFlags
    /// The original export's blob.
    public var sourceBlob: ContentHash
    /// The file (or zip member) inside the original that holds the message.
    public var sourceMember: String
    public var sourceLine: Int
    public var lineCount: Int
    public var attachments: [ArchivedAttachment]
    /// SHA-256 of the canonical serialisation (`computeContentHash()`), recomputed by `verify`.
    public var contentHash: ContentHash

    /// The version of the content-hash recipe this record was written with.
    public static let hashVersion = 1

    public init(id: Int64? = nil, identityKey: ContentHash, platform: Platform, conversationKey: String,
                sourceOrdinal: Int, duplicateOrdinal: Int, sentLocal: LocalDateTime, timeZone: String, sentAt: Int64,
                capturedAtMillis: Int64, sender: String?, senderRaw: String?, body: String, raw: String,
                kind: MessageKind, flags: MessageFlags, sourceBlob: ContentHash, sourceMember: String,
                sourceLine: Int, lineCount: Int, attachments: [ArchivedAttachment], contentHash: ContentHash? = nil) {
        self.id = id
        self.identityKey = identityKey
        self.platform = platform
        self.conversationKey = conversationKey
        self.sourceOrdinal = sourceOrdinal
        self.duplicateOrdinal = duplicateOrdinal
        self.sentLocal = sentLocal
        self.timeZone = timeZone
        self.sentAt = sentAt
        self.capturedAtMillis = capturedAtMillis
        self.sender = sender
        self.senderRaw = senderRaw
        self.body = body
        self.raw = raw
        self.kind = kind
        self.flags = flags
        self.sourceBlob = sourceBlob
        self.sourceMember = sourceMember
        self.sourceLine = sourceLine
        self.lineCount = lineCount
        self.attachments = attachments
        self.contentHash = identityKey // placeholder, replaced below
        self.contentHash = contentHash ?? computeContentHash()
    }

    /// The content hash recipe, version 1: every field the archive keeps about the message, in a
    /// fixed order, length-prefixed (see `CanonicalEncoder` and `MessageHashSource`).
    public func computeContentHash() -> ContentHash { ArchivedMessage.contentHash(from: self) }

    /// The one content-hash recipe, over any source of the fields: an `ArchivedMessage`, or a
    /// stored row read without building one (what `verify` does).
    public static func contentHash<Source: MessageHashSource>(from s: Source) -> ContentHash {
        canonicalDigest(from: s).hash
    }

    /// The content hash and the number of bytes it was computed over.
    public static func canonicalDigest<Source: MessageHashSource>(from s: Source) -> (hash: ContentHash, size: Int) {
        var e = CanonicalEncoder(kind: "message", version: hashVersion, capacity: s.estimatedSize)
        encodeCanonical(from: s, into: &e)
        return (e.hash, e.count)
    }

    /// The canonical serialisation the content hash is taken over, into a reused encoder
    /// (`verify` serialises millions of rows through one buffer).
    public static func encodeCanonical<Source: MessageHashSource>(from s: Source, into e: inout CanonicalEncoder) {
        e.reset(kind: "message", version: hashVersion)
        e.add("identity", s, .identity)
        e.add("platform", s, .platform)
        e.add("conversation", s, .conversation)
        e.add("ordinal", s.integer(.ordinal))
        e.add("dup", s.integer(.duplicateOrdinal))
        e.add("sent_local", s, .sentLocal)
        e.add("tz", s, .timeZone)
        e.add("sent_at", s.integer(.sentAt))
        e.add("captured_at", s.integer(.capturedAt))
        e.add("sender", s, .sender)
        e.add("sender_raw", s, .senderRaw)
        e.add("body", s, .body)
        e.add("raw", s, .raw)
        e.add("kind", s, .kind)
        e.add("flags", s, .flags)
        e.add("source", s, .source)
        e.add("member", s, .member)
        e.add("line", s.integer(.line))
        e.add("lines", s.integer(.lineCount))
        let attachments = s.attachments
        e.add("attachments", Int64(attachments.count))
        for a in attachments {
            e.add("a.name", a.fileName)
            e.add("a.blob", a.blob?.hex)
            e.add("a.size", a.size)
        }
    }
}

/// The fields of a message record that its content hash covers.
public enum MessageHashField: Sendable {
    case identity, platform, conversation, sentLocal, timeZone, sender, senderRaw, body, raw, kind, flags, source, member
    case ordinal, duplicateOrdinal, sentAt, capturedAt, line, lineCount
}

/// Something that can present a message's fields to the content-hash recipe.
public protocol MessageHashSource {
    /// Calls `body` with the UTF-8 bytes of a text field, or nil when the field is absent.
    func withText<R>(_ field: MessageHashField, _ body: (UnsafeRawBufferPointer?) -> R) -> R
    func integer(_ field: MessageHashField) -> Int64?
    var attachments: [ArchivedAttachment] { get }
    /// A guess of the serialised size, to size the buffer once.
    var estimatedSize: Int { get }
}

extension CanonicalEncoder {
    mutating func add<Source: MessageHashSource>(_ name: String, _ source: Source, _ field: MessageHashField) {
        source.withText(field) { add(name, utf8: $0) }
    }
}

extension ArchivedMessage: MessageHashSource {
    public func withText<R>(_ field: MessageHashField, _ body: (UnsafeRawBufferPointer?) -> R) -> R {
        func text(_ s: String?) -> R {
            guard var s else { return body(nil) }
            return s.withUTF8 { body(UnsafeRawBufferPointer($0)) }
        }
        switch field {
        case .identity: return text(identityKey.hex)
        case .platform: return text(platform.rawValue)
        case .conversation: return text(conversationKey)
        case .sentLocal: return text(sentLocal.description)
        case .timeZone: return text(timeZone)
        case .sender: return text(sender)
        case .senderRaw: return text(senderRaw)
        case .body: return text(self.body)
        case .raw: return text(raw)
        case .kind: return text(kind.rawValue)
        case .flags: return text(flags.names.joined(separator: ","))
        case .source: return text(sourceBlob.hex)
        case .member: return text(sourceMember)
        default: return body(nil)
        }
    }

    public func integer(_ field: MessageHashField) -> Int64? {
        switch field {
        case .ordinal: return Int64(sourceOrdinal)
        case .duplicateOrdinal: return Int64(duplicateOrdinal)
        case .sentAt: return sentAt
        case .capturedAt: return capturedAtMillis
        case .line: return Int64(sourceLine)
        case .lineCount: return Int64(lineCount)
        default: return nil
        }
    }

    public var estimatedSize: Int { 512 + body.utf8.count + raw.utf8.count + (sender?.utf8.count ?? 0) * 2 }
}

/// Derives the stable identity of a message (DESIGN.md "Identity and dedupe").
public enum IdentityKey {
    /// Platform, conversation, sender, the sent time as written, the text and the ordinal among
    /// identical neighbours. The zone is deliberately left out: a corrected zone must not make an
    /// old message look new.
    public static func forMessage(platform: Platform, conversationKey: String, senderKey: String,
                                  sentLocal: LocalDateTime, body: String, duplicateOrdinal: Int) -> ContentHash {
        var e = CanonicalEncoder(kind: "identity", version: 1)
        e.add("platform", platform.rawValue)
        e.add("conversation", conversationKey)
        e.add("sender", senderKey)
        e.add("sent", sentLocal.description)
        e.add("body", body)
        e.add("dup", Int64(duplicateOrdinal))
        return e.hash
    }

    /// For a message the platform names by an id that never changes (see
    /// `CapturedMessage.nativeID`): platform, conversation and that id.
    public static func forNativeMessage(platform: Platform, conversationKey: String, nativeID: String) -> ContentHash {
        var e = CanonicalEncoder(kind: "identity-native", version: 1)
        e.add("platform", platform.rawValue)
        e.add("conversation", conversationKey)
        e.add("id", nativeID)
        return e.hash
    }

    /// The identity without the ordinal, used (in memory only) to count identical neighbours.
    public static func neighbourKey(senderKey: String, sentLocal: LocalDateTime, body: String) -> UInt64 {
        var e = CanonicalEncoder(kind: "neighbour", version: 1)
        e.add("sender", senderKey)
        e.add("sent", sentLocal.description)
        e.add("body", body)
        return e.hashPrefix64
    }

    /// A sender written several ways maps to one key: phone numbers keep only `+` and digits,
    /// names are lowercased with runs of whitespace folded.
    public static func senderKey(_ sender: String?) -> String {
        guard let sender, !sender.isEmpty else { return "" }
        let phoneChars = Set("+0123456789 -().")
        if sender.allSatisfy({ phoneChars.contains($0) }), sender.contains(where: \.isNumber) {
            return String(sender.filter { $0 == "+" || $0.isNumber })
        }
        return sender.lowercased().split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }

    /// The conversation key: platform, custodian and the chat's title, normalised.
    /// For a conversation the platform names by a stable id: kept apart from title-based keys by
    /// the `::id:` that no title-based key has after the custodian.
    public static func conversationKey(platform: Platform, custodian: String, sourceID: String) -> String {
        "\(platform.rawValue):\(custodian.lowercased())::id:\(sourceID)"
    }

    public static func conversationKey(platform: Platform, custodian: String, title: String) -> String {
        let t = title.precomposedStringWithCanonicalMapping.lowercased()
            .split(whereSeparator: \.isWhitespace).joined(separator: " ")
        return "\(platform.rawValue):\(custodian.lowercased()):\(t)"
    }
}
