import Foundation

/// A messaging platform the archive captures from.
public enum Platform: String, Sendable, Codable, CaseIterable {
    case whatsapp
    case signal
    case wickr
    case sms
    case telegram
    case slack
    case teams
    case email
    case matrix

    /// The platform's name as its maker writes it.
    public var displayName: String {
        switch self {
        case .email: return "E-mail"
        case .teams: return "Microsoft Teams"
        case .slack: return "Slack"
        case .telegram: return "Telegram"
        case .sms: return "SMS/MMS"
        case .whatsapp: return "WhatsApp"
        case .signal: return "Signal"
        case .wickr: return "Wickr"
        case .matrix: return "Matrix"
        }
    }
}

/// What a message record is, as the archive classifies it.
public enum MessageKind: String, Sendable, Codable, CaseIterable {
    /// Written by a person.
    case user
    /// Written by the platform (group created, member added, encryption notice, timer changed…).
    case system
    /// A marker that a message was deleted ("This message was deleted"); the literal is kept.
    case deleted
    /// A placeholder for media that the export left out ("<Media omitted>", "image omitted",
    /// view-once `null`).
    case mediaPlaceholder = "media_placeholder"
}

/// Extra facts about a message that do not change its kind.
public struct MessageFlags: OptionSet, Sendable, Hashable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    /// The export marked the message as edited.
    public static let edited = MessageFlags(rawValue: 1 << 0)
    /// View-once media (Android writes the literal body `null`).
    public static let viewOnce = MessageFlags(rawValue: 1 << 1)
    /// Carries at least one attachment reference.
    public static let hasAttachment = MessageFlags(rawValue: 1 << 2)
    /// A call notice ("Missed voice call").
    public static let call = MessageFlags(rawValue: 1 << 3)
    /// A shared location.
    public static let location = MessageFlags(rawValue: 1 << 4)
    /// The sender was written as a non-contact display name (`~ Name`).
    public static let nonContactSender = MessageFlags(rawValue: 1 << 5)
    /// The day/month order of the timestamp was a guess (see the batch's date-order evidence).
    public static let uncertainDate = MessageFlags(rawValue: 1 << 6)
    /// A disappearing-message placeholder or timer notice.
    public static let disappearing = MessageFlags(rawValue: 1 << 7)

    public static let names: [(MessageFlags, String)] = [
        (.edited, "edited"), (.viewOnce, "view_once"), (.hasAttachment, "attachment"), (.call, "call"),
        (.location, "location"), (.nonContactSender, "non_contact_sender"), (.uncertainDate, "uncertain_date"),
        (.disappearing, "disappearing"),
    ]

    /// Comma-separated names, stable, for storage and display.
    public var names: [String] { MessageFlags.names.filter { contains($0.0) }.map(\.1) }

    public init(names: [String]) {
        var value = MessageFlags()
        for (flag, name) in MessageFlags.names where names.contains(name) { value.insert(flag) }
        self = value
    }
}

/// An attachment named by a message: a file the export carried, or one it only mentions.
public struct AttachmentReference: Sendable, Hashable, Codable {
    /// The file name exactly as the chat text names it.
    public var fileName: String

    public init(fileName: String) { self.fileName = fileName }
}

/// One message as a connector read it from a source, before the archive gives it an identity.
public struct CapturedMessage: Sendable, Hashable {
    /// 1-based line in the source text where the message starts.
    public var line: Int
    /// Number of source lines the message spans (header plus continuations).
    public var lineCount: Int
    /// The source lines exactly as written (marks and all), joined by `\n`.
    public var raw: String
    /// The sent time as written, interpreted with the file's date order.
    public var sentLocal: LocalDateTime
    /// The sender as written (nil for system messages).
    public var senderRaw: String?
    /// The sender with invisible marks and the `~` non-contact prefix removed.
    public var sender: String?
    /// The text, invisible directional marks removed, continuation lines joined by `\n`.
    public var body: String
    public var kind: MessageKind
    public var flags: MessageFlags
    public var attachments: [AttachmentReference]
    /// The platform's own id for the message, for sources that give one that never changes (a
    /// Matrix event id). When set, it (not the content) is the message's identity, so two equal
    /// messages in the same second stay two records and a re-delivered one stays one.
    public var nativeID: String?

    public init(line: Int, lineCount: Int, raw: String, sentLocal: LocalDateTime, senderRaw: String?,
                sender: String?, body: String, kind: MessageKind, flags: MessageFlags,
                attachments: [AttachmentReference], nativeID: String? = nil) {
        self.nativeID = nativeID
        self.line = line
        self.lineCount = lineCount
        self.raw = raw
        self.sentLocal = sentLocal
        self.senderRaw = senderRaw
        self.sender = sender
        self.body = body
        self.kind = kind
        self.flags = flags
        self.attachments = attachments
    }
}

/// Something in a source that could not be understood. The bytes stay in the archived original;
/// the defect says where.
public struct CaptureDefect: Sendable, Hashable, Codable {
    /// The file (or zip member) the defect is in.
    public var file: String
    /// 1-based line number.
    public var line: Int
    /// A stable machine-readable code, e.g. `orphan_line`, `invalid_date`.
    public var code: String
    /// What went wrong, for a person. Never quotes message content.
    public var detail: String
    /// The offending source text verbatim, kept so nothing is lost.
    public var text: String

    public init(file: String, line: Int, code: String, detail: String, text: String) {
        self.file = file
        self.line = line
        self.code = code
        self.detail = detail
        self.text = text
    }
}

/// What a placeholder, a deletion marker or a special message means, in words a reviewer can
/// read (a view-once photo is exported by WhatsApp as the text `null`, which on its own looks
/// like a fault).
public enum MessageExplanation {
    public static func text(kind: MessageKind, flags: MessageFlags) -> String? {
        if flags.contains(.viewOnce) {
            return "View-once media: the platform never exports it (WhatsApp writes “null”), so only the fact that it was sent is on record."
        }
        switch kind {
        case .deleted:
            return "The sender deleted this message before the export was made; the platform kept only this marker, not the text."
        case .mediaPlaceholder:
            return "Media left out of the export (exported without media, or a file the platform did not include); the file itself was not captured."
        case .system, .user:
            if flags.contains(.disappearing) { return "Sent while disappearing messages were on: captured before it could vanish." }
            return nil
        }
    }
}
