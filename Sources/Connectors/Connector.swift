import Foundation
import RecordkeeperCore

/// A source of records: one export file (or folder of files) a custodian handed over.
public struct SourceFile: Sendable, Hashable {
    /// Where the bytes are.
    public var url: URL
    /// The name to record (the file name as handed over).
    public var displayName: String

    public init(url: URL, displayName: String? = nil) {
        self.url = url
        self.displayName = displayName ?? url.lastPathComponent
    }
}

/// Options a user can give a connector for one source.
public struct ParseOptions: Sendable, Hashable {
    /// Forces the date order instead of deciding it from the file's evidence.
    public var dateOrder: DateOrder?
    /// Names the conversation when the file name does not.
    public var conversationTitle: String?
    /// The zone the batch's times are shown in, for sources that write absolute times.
    public var timeZone: String?

    public init(dateOrder: DateOrder? = nil, conversationTitle: String? = nil, timeZone: String? = nil) {
        self.dateOrder = dateOrder
        self.conversationTitle = conversationTitle
        self.timeZone = timeZone
    }
}

/// What a connector found out about a source before streaming it.
public struct SourceDescription: Sendable, Hashable, Codable {
    public var platform: Platform
    /// Detected variant, e.g. `whatsapp-ios-zip`, `whatsapp-android-txt`.
    public var format: String
    /// The chat text inside the source (the file itself, or the zip member).
    public var textMember: String
    /// The conversation's title as far as the source tells it.
    public var conversationTitle: String
    public var dateOrder: DateOrderDecision?
    /// Whether the header style was bracketed (iOS), dashed (Android), bare or mixed.
    public var headerStyle: String
    /// Set when the source writes absolute times (Wickr's `msg_ts`): the zone its wall-clock
    /// times are given in, which then wins over --timezone.
    public var sourceTimeZone: String?

    public init(platform: Platform, format: String, textMember: String, conversationTitle: String,
                dateOrder: DateOrderDecision?, headerStyle: String, sourceTimeZone: String? = nil) {
        self.platform = platform
        self.format = format
        self.textMember = textMember
        self.conversationTitle = conversationTitle
        self.dateOrder = dateOrder
        self.headerStyle = headerStyle
        self.sourceTimeZone = sourceTimeZone
    }
}

/// A conversation within a source that holds several (a Wickr, SMS, Slack or Telegram export).
/// Items after it belong to it, until the next one; it may come again when a source interleaves
/// its conversations.
public struct ConversationHeader: Sendable, Hashable {
    /// The platform's own stable id for the conversation (a Wickr `vgroupid`, a Telegram chat
    /// id, a phone-number thread): it names the conversation in the archive, so a renamed group
    /// stays one conversation.
    public var sourceID: String
    /// The conversation's title as the source gives it now.
    public var title: String
    public init(sourceID: String, title: String) {
        self.sourceID = sourceID
        self.title = title
    }
}

/// One thing read from a source, in source order.
public enum CaptureItem: Sendable, Hashable {
    case message(CapturedMessage)
    case defect(CaptureDefect)
    /// What follows belongs to this conversation (multi-conversation sources only).
    case conversation(ConversationHeader)
}

/// The bytes of an attachment the source carries.
public protocol AttachmentProvider {
    /// True when the source carries a file of this name.
    func contains(named name: String) -> Bool
    /// Streams the named file's bytes to `sink` in chunks; returns false when the source does not
    /// carry a file of that name (the attachment is then recorded as missing).
    func withAttachment(named name: String, _ sink: (UnsafeRawBufferPointer) throws -> Void) throws -> Bool
}

/// A streaming reader over one opened source.
public protocol CaptureReader: AnyObject {
    var description: SourceDescription { get }
    /// Bytes of chat text consumed so far (for progress).
    var bytesRead: Int64 { get }
    /// Total bytes of chat text, when known.
    var totalBytes: Int64 { get }
    /// The next item, or nil at the end. Never holds more than one message in memory.
    func next() throws -> CaptureItem?
    var attachments: any AttachmentProvider { get }
    /// True when the source announces its conversations with `.conversation` items; false when
    /// it is one conversation, titled by `description`.
    var isMultiConversation: Bool { get }
    /// Removes temporary files.
    func close()
}

extension CaptureReader {
    public var isMultiConversation: Bool { false }
}

/// How sure a connector is that it can read a source.
public struct Detection: Sendable, Hashable, Comparable {
    public var confidence: Int
    public var format: String
    public init(confidence: Int, format: String) {
        self.confidence = confidence
        self.format = format
    }
    public static func < (lhs: Detection, rhs: Detection) -> Bool { lhs.confidence < rhs.confidence }
}

/// A source of messages: detects whether it can read a source and streams what it holds.
///
/// Connectors know nothing of storage: they turn bytes into `CaptureItem`s and stop there.
public protocol Connector: Sendable {
    var platform: Platform { get }
    /// Returns nil when this connector cannot read the source.
    func detect(_ source: SourceFile) throws -> Detection?
    /// Opens the source for streaming. `scratch` is a directory for temporary files.
    func open(_ source: SourceFile, options: ParseOptions, scratch: URL) throws -> any CaptureReader
}

/// Errors raised while reading sources. `description` never quotes the source's content.
public struct ConnectorError: Error, CustomStringConvertible, Sendable {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public static let unreadable = Code(rawValue: "unreadable")
        public static let unsupported = Code(rawValue: "unsupported")
        public static let noChatText = Code(rawValue: "no_chat_text")
        public static let ambiguousChatText = Code(rawValue: "ambiguous_chat_text")
        public static let hostileArchive = Code(rawValue: "hostile_archive")
        public static let needsConversationTitle = Code(rawValue: "needs_conversation_title")
        public var description: String { rawValue }
    }

    public var code: Code
    public var message: String
    public var underlying: (any Error)?

    public init(_ code: Code, _ message: String, underlying: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.underlying = underlying
    }

    public var description: String { "\(code): \(message)" }
}
