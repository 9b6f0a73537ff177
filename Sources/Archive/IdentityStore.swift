import Foundation
import RecordkeeperCore

/// Who takes part in conversations, how exports reached the archive, and the live-capture
/// bookkeeping: the store side of issue 5's identity, e-mail carriage and Matrix capture.
public protocol IdentityStore {
    // MARK: Known external parties
    func createParty(name: String, organization: String?, note: String?, actor: String) async throws -> ExternalParty
    func parties() async throws -> [ExternalParty]
    func party(id: Int64) async throws -> ExternalParty?
    /// Registers a platform identity for a party. Refused when a custodian or another party
    /// already holds the same identity on that platform.
    func addPartyAccount(partyID: Int64, platform: String, address: String) async throws -> PlatformAccount

    // MARK: Participants
    /// Everyone who sent a message in the conversation, resolved through the registered
    /// accounts: internal (a custodian), external (a known party) or unresolved. The
    /// conversation's own custodian counts as internal.
    func participants(conversationID: Int64) async throws -> [ResolvedParticipant]
    /// Every conversation, on any platform, in which the owner's registered identities sent a
    /// message (and, for a custodian, every conversation that is theirs).
    func conversationIDs(of owner: IdentityOwner) async throws -> [Int64]
    /// Distinct participant names and their sender keys (at most `limit`), to check a typed name.
    func participantNames(limit: Int) async throws -> [(name: String, senderKey: String)]

    /// Gives a conversation its first real title: only while its title is still `standIn` (the
    /// platform's id, used until the source named it). Returns true when it changed.
    func retitleConversation(id: Int64, standIn: String, title: String) async throws -> Bool

    /// Conversations whose current title is not one any of their batches captured (each with its
    /// newest batch): `verify` then wants an audited retitle to that title.
    func uncapturedConversationTitles() async throws -> [(conversationID: Int64, title: String, latestBatch: Int64)]

    // MARK: E-mail carriage
    /// The archived record of a message by its identity key (and the sent time as written that
    /// the key was derived from, which is how the identity index is ordered).
    func messageID(identityKey: ContentHash, sentLocal: LocalDateTime) async throws -> Int64?
    /// Links a capture batch to the e-mail that carried its export (idempotent per batch).
    func recordCarriage(_ carriage: Carriage) async throws
    func carriage(batchID: Int64) async throws -> Carriage?
    /// The batches an e-mail carried.
    func carriedBatches(carrierMessageID: Int64) async throws -> [Carriage]

    // MARK: Live capture
    /// True when an Application Service transaction with this id was already archived whole.
    func liveTransactionDone(source: String, id: String) async throws -> Bool
    func recordLiveTransaction(source: String, id: String, events: Int, batches: [Int64]) async throws
}

/// A person or organisation outside the agency whose platform identities are known.
public struct ExternalParty: Sendable, Hashable, Codable {
    public var id: Int64
    public var name: String
    public var organization: String?
    public var note: String?
    public var accounts: [PlatformAccount]
    public var createdAt: String
    public var createdBy: String
    public init(id: Int64, name: String, organization: String?, note: String?, accounts: [PlatformAccount], createdAt: String, createdBy: String) {
        self.id = id
        self.name = name
        self.organization = organization
        self.note = note
        self.accounts = accounts
        self.createdAt = createdAt
        self.createdBy = createdBy
    }
}

/// One sender in a conversation and who they are.
public struct ResolvedParticipant: Sendable, Hashable, Codable {
    public enum Side: String, Sendable, Codable { case `internal`, external, unresolved }
    /// The name as the platform showed it.
    public var name: String
    /// The platform identity as written (number, address, user id), when the source gave one.
    public var identity: String?
    public var side: Side
    /// The custodian's e-mail when internal.
    public var custodian: String?
    /// The party when external and known.
    public var partyID: Int64?
    public var partyName: String?
    public var organization: String?
    public var messages: Int
    public var firstSent: String?
    public var lastSent: String?
    public init(name: String, identity: String?, side: Side, custodian: String?, partyID: Int64?, partyName: String?,
                organization: String?, messages: Int, firstSent: String?, lastSent: String?) {
        self.name = name
        self.identity = identity
        self.side = side
        self.custodian = custodian
        self.partyID = partyID
        self.partyName = partyName
        self.organization = organization
        self.messages = messages
        self.firstSent = firstSent
        self.lastSent = lastSent
    }
}

/// How an export reached the archive inside an e-mail: the evidence for the 20-day rule
/// (the e-mail's date is when the custodian forwarded the messages to an official account).
public struct Carriage: Sendable, Hashable, Codable {
    /// The batch that captured the carried export.
    public var batchID: Int64
    /// The e-mail record that carried it.
    public var carrierMessageID: Int64
    /// The e-mail's date (Unix seconds, like a record's sent time): the forwarding time.
    public var forwardedAt: Int64
    /// The attachment's name in the e-mail, and the path inside a carried zip when it was nested.
    public var attachment: String
    public var member: String?
    public init(batchID: Int64, carrierMessageID: Int64, forwardedAt: Int64, attachment: String, member: String?) {
        self.batchID = batchID
        self.carrierMessageID = carrierMessageID
        self.forwardedAt = forwardedAt
        self.attachment = attachment
        self.member = member
    }
}
