import RecordkeeperCore

/// How WhatsApp packaged an export, which decides the container, the header style and the line ends.
public enum ExportStyle: String, Sendable, CaseIterable {
    /// iPhone: `WhatsApp Chat - <title>.zip` holding `_chat.txt` (CRLF, bracketed headers with
    /// seconds) and the media at the zip root.
    case iosZip
    /// Android without a container: `WhatsApp Chat with <title>.txt` (LF, `date, time - ` headers),
    /// media written side by side in the same directory.
    case androidTxt
    /// Android zipped by the receiving app: `WhatsApp Chat with <title>.zip` holding
    /// `WhatsApp Chat with <title>.txt` and the media at the zip root.
    case androidZip

    /// True for the iPhone style.
    var isIOS: Bool { self == .iosZip }
}

/// One chat export to write.
public struct ExportSpec: Sendable {
    /// Container and platform conventions.
    public var style: ExportStyle
    /// The group name, or the other party's name for a one-to-one chat; used in the file name.
    public var chatTitle: String
    /// Display names or phone numbers exactly as WhatsApp writes them as authors. The first is the
    /// exporting user (the custodian). Three or more make a group chat; two make a one-to-one chat
    /// whose other party is `participants[1]`.
    public var participants: [String]
    /// Number of messages (header lines), system notices included.
    public var messageCount: Int
    /// Time of the first message (the encryption notice).
    public var start: LocalDateTime
    /// Day before month in header dates (`D/M/YY`) instead of `M/D/YY`.
    public var dayFirst: Bool
    /// 12-hour clock with AM/PM (U+202F before the marker) instead of 24-hour.
    public var twelveHour: Bool
    /// Language of system notices and media/deleted/edited markers, and of most message text:
    /// `en`, `es`, `pt`, `fr`, `de` or `it`.
    public var language: String
    /// Roughly one attachment per this many messages (0 = no attachments).
    public var mediaEvery: Int
    /// One in this many attachments is named in the chat but left out of the export (0 = none).
    public var missingMediaEvery: Int
    /// Seed for everything random in the export.
    public var seed: UInt64
    /// Divides the gaps between messages (not within bursts): 1 is an ordinary group; 20 is a
    /// very busy one. Keeps very large exports within a realistic span of years (2-digit years
    /// in headers repeat after a century).
    public var pace: Int = 1

    /// Describes an export; every parameter has a realistic default (a 500-message English iPhone
    /// group chat of port-of-entry officers starting 1 March 2021).
    public init(
        style: ExportStyle = .iosZip,
        chatTitle: String = "POE Ops Coordination",
        participants: [String] = ["Javier Alvarez", "Karen Walsh", "Marcus Reed", "Lucía Fernández"],
        messageCount: Int = 500,
        start: LocalDateTime = LocalDateTime(year: 2021, month: 3, day: 1, hour: 6, minute: 42, second: 10),
        dayFirst: Bool = false,
        twelveHour: Bool = true,
        language: String = "en",
        mediaEvery: Int = 25,
        missingMediaEvery: Int = 8,
        seed: UInt64 = 1
    ) {
        self.style = style
        self.chatTitle = chatTitle
        self.participants = participants
        self.messageCount = messageCount
        self.start = start
        self.dayFirst = dayFirst
        self.twelveHour = twelveHour
        self.language = language
        self.mediaEvery = mediaEvery
        self.missingMediaEvery = missingMediaEvery
        self.seed = seed
    }

    /// Three or more participants.
    var isGroup: Bool { participants.count >= 3 }

    /// The file name WhatsApp gives the export (`.zip` or `.txt`).
    var exportFileName: String {
        switch style {
        case .iosZip: return "WhatsApp Chat - \(safeTitle).zip"
        case .androidTxt: return "WhatsApp Chat with \(safeTitle).txt"
        case .androidZip: return "WhatsApp Chat with \(safeTitle).zip"
        }
    }

    /// The name of the chat text inside a zip.
    var chatEntryName: String {
        style.isIOS ? "_chat.txt" : "WhatsApp Chat with \(safeTitle).txt"
    }

    /// The title with characters that cannot appear in a file name replaced.
    var safeTitle: String {
        String(chatTitle.map { $0 == "/" || $0 == ":" || $0 == "\\" ? "_" : $0 })
    }
}

/// Why an export could not be generated.
enum ExportGeneratorError: Error, CustomStringConvertible {
    case invalidSpec(String)
    case io(String)

    var description: String {
        switch self {
        case .invalidSpec(let why): return "invalid export spec: \(why)"
        case .io(let why): return "cannot write export: \(why)"
        }
    }
}
