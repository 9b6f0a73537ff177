import Foundation
import RecordkeeperCore

/// The queries behind the oversight reports (issue 6): each one aggregate, read-only.
public protocol ComplianceStore {
    /// Capture lag of every user message in a conversation on a personal account (the custodian's
    /// registered accounts on that platform are all personal), per custodian, platform and
    /// month; with the `worst` largest lags.
    func captureLag(limitDays: Int, worst: Int) async throws -> (rows: [LagRow], worst: [LagCase])
    /// Records carrying the disappearing flag that are system notices: timer settings.
    func timerNotices() async throws -> [TimerNotice]
    /// Per conversation: the facts the completeness rules look at.
    func conversationFacts() async throws -> [ConversationFacts]
    /// Per custodian account: when that custodian last handed over anything from its platform.
    func accountActivity() async throws -> [AccountActivity]
}

public struct LagRow: Sendable, Hashable, Codable {
    public var custodian: String
    public var platform: String
    /// `YYYY-MM` of the sent time as written.
    public var month: String
    public var onTime: Int
    public var late: Int
    public var neverForwarded: Int
    /// The largest lag in the group, in days (forwarding date, else capture date, minus sent).
    public var worstLagDays: Double
    public init(custodian: String, platform: String, month: String, onTime: Int, late: Int, neverForwarded: Int, worstLagDays: Double) {
        self.custodian = custodian
        self.platform = platform
        self.month = month
        self.onTime = onTime
        self.late = late
        self.neverForwarded = neverForwarded
        self.worstLagDays = worstLagDays
    }
}

public struct LagCase: Sendable, Hashable, Codable {
    public var messageID: Int64
    public var custodian: String
    public var platform: String
    public var conversationID: Int64
    public var conversation: String
    public var sentLocal: String
    /// `forwarded` (an e-mail carried it) or `collected` (ingested any other way).
    public var route: String
    /// When it reached an official account: the forwarding e-mail's date, else the capture time (UTC).
    public var arrived: String
    public var lagDays: Double
    public init(messageID: Int64, custodian: String, platform: String, conversationID: Int64, conversation: String, sentLocal: String,
                route: String, arrived: String, lagDays: Double) {
        self.messageID = messageID
        self.custodian = custodian
        self.platform = platform
        self.conversationID = conversationID
        self.conversation = conversation
        self.sentLocal = sentLocal
        self.route = route
        self.arrived = arrived
        self.lagDays = lagDays
    }
}

public struct TimerNotice: Sendable, Hashable, Codable {
    public var messageID: Int64
    public var conversationID: Int64
    public var conversation: String
    public var platform: String
    public var custodian: String
    public var who: String?
    public var sentLocal: String
    public var text: String
    public init(messageID: Int64, conversationID: Int64, conversation: String, platform: String, custodian: String, who: String?, sentLocal: String, text: String) {
        self.messageID = messageID
        self.conversationID = conversationID
        self.conversation = conversation
        self.platform = platform
        self.custodian = custodian
        self.who = who
        self.sentLocal = sentLocal
        self.text = text
    }
}

/// What the completeness rules need to know of one conversation.
public struct ConversationFacts: Sendable, Hashable {
    public struct Batch: Sendable, Hashable {
        public var id: Int64
        public var startedAt: String
        /// Sent times (as written) of the first and last records this batch added.
        public var firstSent: String?
        public var lastSent: String?
        public var added: Int
        public init(id: Int64, startedAt: String, firstSent: String?, lastSent: String?, added: Int) {
            self.id = id
            self.startedAt = startedAt
            self.firstSent = firstSent
            self.lastSent = lastSent
            self.added = added
        }
    }
    public var id: Int64
    public var title: String
    public var platform: String
    public var custodian: String
    public var participants: [ResolvedParticipant]
    /// User messages by side.
    public var internalMessages: Int
    public var otherMessages: Int
    /// Bodies of system records (membership, settings): evidence of who was in the room.
    public var systemTexts: [String]
    /// Deletion markers, with who deleted (the marker's sender key; empty when the export does not say).
    public var deletedMarkers: [DeletionMarker]
    public var batches: [Batch]
    public static func == (a: ConversationFacts, b: ConversationFacts) -> Bool { a.id == b.id }
    public func hash(into h: inout Hasher) { h.combine(id) }
    public init(id: Int64, title: String, platform: String, custodian: String, participants: [ResolvedParticipant], internalMessages: Int,
                otherMessages: Int, systemTexts: [String], deletedMarkers: [DeletionMarker], batches: [Batch]) {
        self.id = id
        self.title = title
        self.platform = platform
        self.custodian = custodian
        self.participants = participants
        self.internalMessages = internalMessages
        self.otherMessages = otherMessages
        self.systemTexts = systemTexts
        self.deletedMarkers = deletedMarkers
        self.batches = batches
    }
}

/// A "this message was deleted" record: where it sits, and who the export says deleted it.
public struct DeletionMarker: Sendable, Hashable {
    public var id: Int64
    public var sentLocal: String
    public var body: String
    /// The sender's key (`IdentityKey.senderKey`), empty when the export names nobody.
    public var senderKey: String
    public init(id: Int64, sentLocal: String, body: String, senderKey: String) {
        self.id = id; self.sentLocal = sentLocal; self.body = body; self.senderKey = senderKey
    }
}

public struct AccountActivity: Sendable, Hashable, Codable {
    public var custodian: String
    public var platform: String
    public var address: String
    public var official: Bool
    /// The newest capture batch of this custodian on this platform (UTC, ISO 8601), if any.
    public var lastCapture: String?
    public var records: Int
    public init(custodian: String, platform: String, address: String, official: Bool, lastCapture: String?, records: Int) {
        self.custodian = custodian
        self.platform = platform
        self.address = address
        self.official = official
        self.lastCapture = lastCapture
        self.records = records
    }
}
