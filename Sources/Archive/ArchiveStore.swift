import Foundation
import RecordkeeperCore

/// The whole archive as one backend offers it: every concern's protocol at once.
///
/// Each concern has its own small protocol (conversations, capture, reading, the audit log,
/// integrity checks, the search index, leases, web sessions, records law, access, identity,
/// compliance, oversight) with its own conformance suite that every backend must pass.
/// Services name the protocols they use (`any CaptureStore & AuditLog`), never a backend type
/// (GRDB, PostgresNIO); this composition exists so that one object can be handed around. Every
/// method is one transaction.
public protocol ArchiveStore: ConversationStore, CaptureStore, MessageStore, AuditLog, IntegrityStore,
    RecordsStore, AccessStore, IdentityStore, ComplianceStore, OversightStore, TrackerStore, SearchIndexStore, BlobLockStore,
    LeaseStore, WebSessionStore, BlobKeyStore {}

/// Custodians (the people whose accounts are captured) and their conversations.
public protocol ConversationStore: Sendable {
    func custodian(email: String) async throws -> Custodian?
    /// Creates the custodian, or sets its time zone when `timeZone` is given.
    func saveCustodian(email: String, timeZone: String?) async throws -> Custodian
    func conversation(key: String) async throws -> Conversation?
    func conversation(id: Int64) async throws -> Conversation?
    func ensureConversation(key: String, platform: Platform, custodianID: Int64, title: String) async throws -> Conversation
    /// Conversations whose title contains `titleContains` (case-insensitive), or all.
    func conversations(titleContains: String?, limit: Int) async throws -> [Conversation]
    /// The same, only for one custodian's conversations.
    func conversations(titleContains: String?, custodianID: Int64, limit: Int) async throws -> [Conversation]
}

/// The capture path: batches, the messages and defects they store, and the blobs they name.
/// Capture never waits on the search index (`SearchIndexStore` builds it behind).
public protocol CaptureStore: Sendable {
    /// Records that a blob exists in the blob store (idempotent).
    func registerBlob(_ blob: BlobInfo) async throws
    /// The latest unfinished batch for the same original bytes and custodian, to resume.
    func unfinishedBatch(sourceHash: ContentHash, custodianID: Int64) async throws -> CaptureBatch?
    /// The same, for one conversation of a source that holds several.
    func unfinishedBatch(sourceHash: ContentHash, custodianID: Int64, conversationID: Int64) async throws -> CaptureBatch?
    func startBatch(_ batch: NewBatch) async throws -> CaptureBatch
    /// Stores a chunk of messages and defects atomically, and adds what it stored to the batch's
    /// totals in the same transaction. Messages whose identity key is already archived (or was
    /// disposed of) are skipped and counted as duplicates. Each stored message gets its retention
    /// assignment under the current file plan in the same transaction.
    func append(batchID: Int64, conversationID: Int64, messages: [ArchivedMessage], defects: [CaptureDefect]) async throws -> AppendResult
    /// Marks the batch complete.
    /// Marks a batch complete and, in the same transaction, appends `audit` (its creating
    /// `ingest` entry): a capture killed between the two would otherwise leave a batch complete
    /// but unanchored, which a rerun does not resume.
    func finishBatch(id: Int64, audit: AuditDraft?) async throws
    func batch(id: Int64) async throws -> CaptureBatch?
    func defects(batchID: Int64, limit: Int) async throws -> [CaptureDefect]
}

extension CaptureStore {
    public func finishBatch(id: Int64) async throws { try await finishBatch(id: id, audit: nil) }
}

/// Reading records: one message, transcripts, totals. (Search is `SearchIndexStore`'s.)
public protocol MessageStore: Sendable {
    func message(id: Int64) async throws -> StoredMessage?
    /// Messages of a conversation in sent order (paging by offset).
    func transcript(conversationID: Int64, offset: Int, limit: Int) async throws -> [StoredMessage]
    /// How many messages come before this one in its conversation's transcript (nil if not there).
    func transcriptPosition(conversationID: Int64, messageID: Int64) async throws -> Int?
    /// Number of messages in a conversation.
    func messageCount(conversationID: Int64) async throws -> Int
    func stats() async throws -> ArchiveStats
    /// How many records and (not destroyed) files the archive holds: the two counts a signed
    /// checkpoint states, without the rest of `stats` (which counts the whole audit log).
    func recordCounts() async throws -> (messages: Int, blobs: Int)
}

/// The audit log: one hash chain, kept linear however many writers append to it.
public protocol AuditLog: Sendable {
    /// Appends to the hash chain atomically.
    @discardableResult
    func appendAudit(_ draft: AuditDraft) async throws -> AuditEntry
    func auditEntries(afterSequence: Int64, limit: Int) async throws -> [AuditEntry]
    /// Audit entries about one target, newest last.
    func auditEntries(target: String, limit: Int) async throws -> [AuditEntry]
    /// Audit entries matching the filter, newest first.
    func auditEntries(_ filter: AuditFilter) async throws -> [AuditEntry]
    /// Records a read's audit entry: durable when this returns, in the chain moments later, so
    /// that a read never waits behind a capture's write transaction (decision 0011). Every
    /// `auditEntries` chains what is waiting first.
    func appendReadAudit(_ draft: AuditDraft) async throws
    /// Chains every read's entry still waiting, now.
    func settleReadAudits() async throws
}

extension AuditLog {
    /// A store whose appends do not wait behind captures chains a read's entry at once.
    public func appendReadAudit(_ draft: AuditDraft) async throws { try await appendAudit(draft) }
    public func settleReadAudits() async throws {}
}

/// What `verify` reads, paged so memory stays flat.
public protocol IntegrityStore: Sendable {
    /// The content hashes of messages with `afterID < id <= throughID` (at most `limit`),
    /// recomputed from the stored fields without decoding them, beside the stored hashes.
    func verifyMessageHashes(afterID: Int64, throughID: Int64, limit: Int) async throws -> [MessageHashCheck]
    /// Ids of every capture batch, in order.
    func batchIDs() async throws -> [Int64]
    /// A digest over a batch's key fields and every message it stored (identity and content
    /// hash, in id order): written into the batch's audit entry when it completes, recomputed by
    /// `verify`, so a deleted or replaced message breaks the anchor.
    func batchDigest(batchID: Int64) async throws -> BatchDigest
    /// The lowest and highest message ids, or nil when there are no messages.
    func messageIDRange() async throws -> ClosedRange<Int64>?
    func blobs(after: ContentHash?, limit: Int) async throws -> [BlobInfo]
}

public struct Custodian: Sendable, Hashable, Codable {
    public var id: Int64
    public var email: String
    public var timeZone: String?
    public init(id: Int64, email: String, timeZone: String?) {
        self.id = id
        self.email = email
        self.timeZone = timeZone
    }
}

public struct Conversation: Sendable, Hashable, Codable {
    public var id: Int64
    public var key: String
    public var platform: Platform
    public var custodianID: Int64
    public var custodianEmail: String
    public var title: String
    public var messageCount: Int
    public var participants: [String]
    public var firstSent: String?
    public var lastSent: String?
    public init(id: Int64, key: String, platform: Platform, custodianID: Int64, custodianEmail: String, title: String,
                messageCount: Int, participants: [String], firstSent: String?, lastSent: String?) {
        self.id = id
        self.key = key
        self.platform = platform
        self.custodianID = custodianID
        self.custodianEmail = custodianEmail
        self.title = title
        self.messageCount = messageCount
        self.participants = participants
        self.firstSent = firstSent
        self.lastSent = lastSent
    }
}

public struct BlobInfo: Sendable, Hashable, Codable {
    public var hash: ContentHash
    public var size: Int64
    public init(hash: ContentHash, size: Int64) {
        self.hash = hash
        self.size = size
    }
}

/// A capture batch about to start.
public struct NewBatch: Sendable, Hashable {
    public var custodianID: Int64
    public var conversationID: Int64
    public var actor: String
    public var sourceName: String
    public var source: BlobInfo
    public var platform: Platform
    public var format: String
    public var textMember: String
    public var dateOrder: DateOrderDecision?
    public var timeZone: String
    /// `flag` (--timezone), `custodian` (the custodian's recorded zone) or `system` (this machine's).
    public var timeZoneBasis: String
    public var startedAtMillis: Int64
    public init(custodianID: Int64, conversationID: Int64, actor: String, sourceName: String, source: BlobInfo,
                platform: Platform, format: String, textMember: String, dateOrder: DateOrderDecision?, timeZone: String,
                timeZoneBasis: String, startedAtMillis: Int64) {
        self.custodianID = custodianID
        self.conversationID = conversationID
        self.actor = actor
        self.sourceName = sourceName
        self.source = source
        self.platform = platform
        self.format = format
        self.textMember = textMember
        self.dateOrder = dateOrder
        self.timeZone = timeZone
        self.timeZoneBasis = timeZoneBasis
        self.startedAtMillis = startedAtMillis
    }
}

public struct BatchTotals: Sendable, Hashable, Codable {
    public var messagesAdded = 0
    public var duplicates = 0
    public var attachmentsStored = 0
    public var attachmentsMissing = 0
    public var defects = 0
    public init() {}
}

public struct CaptureBatch: Sendable, Hashable, Codable {
    public var id: Int64
    public var custodianID: Int64
    public var conversationID: Int64
    public var sourceName: String
    public var sourceHash: ContentHash
    public var sourceSize: Int64
    public var format: String
    public var textMember: String
    public var dateOrder: DateOrderDecision?
    public var timeZone: String
    public var timeZoneBasis: String
    /// `running` until finished; a batch left `running` was interrupted and is resumed by the
    /// next ingest of the same bytes.
    public var status: String
    public var startedAt: String
    public var finishedAt: String?
    public var totals: BatchTotals
    public init(id: Int64, custodianID: Int64, conversationID: Int64, sourceName: String, sourceHash: ContentHash,
                sourceSize: Int64, format: String, textMember: String, dateOrder: DateOrderDecision?, timeZone: String,
                timeZoneBasis: String, status: String, startedAt: String, finishedAt: String?, totals: BatchTotals) {
        self.id = id
        self.custodianID = custodianID
        self.conversationID = conversationID
        self.sourceName = sourceName
        self.sourceHash = sourceHash
        self.sourceSize = sourceSize
        self.format = format
        self.textMember = textMember
        self.dateOrder = dateOrder
        self.timeZone = timeZone
        self.timeZoneBasis = timeZoneBasis
        self.status = status
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.totals = totals
    }
}

public struct AppendResult: Sendable, Hashable {
    public var added: Int
    /// Messages skipped because their identity is already archived (by any batch).
    public var duplicates: Int
    /// Of those, how many this same batch had stored before (a resumed run).
    public var alreadyInBatch: Int = 0
    /// Defects stored (a resumed run does not store the same defect twice).
    public var defectsAdded: Int = 0
    /// Attachments of the added messages whose bytes are stored.
    public var attachmentsStored: Int
    /// Attachments of the added messages that the export named but did not carry.
    public var attachmentsMissing: Int
    /// How many added messages the file plan assigned to each schedule item (in the same
    /// transaction that stored them).
    public var assigned: [String: Int] = [:]
    public init(added: Int, duplicates: Int, alreadyInBatch: Int = 0, defectsAdded: Int = 0, attachmentsStored: Int,
                attachmentsMissing: Int) {
        self.added = added
        self.duplicates = duplicates
        self.alreadyInBatch = alreadyInBatch
        self.defectsAdded = defectsAdded
        self.attachmentsStored = attachmentsStored
        self.attachmentsMissing = attachmentsMissing
    }
}

/// A message as read back, with where it lives.
public struct StoredMessage: Sendable, Hashable {
    public var message: ArchivedMessage
    public var id: Int64
    public var conversationID: Int64
    public var batchID: Int64
    /// The content hash as stored (compare with `message.computeContentHash()`).
    public var storedContentHash: ContentHash
    public init(message: ArchivedMessage, id: Int64, conversationID: Int64, batchID: Int64, storedContentHash: ContentHash) {
        self.message = message
        self.id = id
        self.conversationID = conversationID
        self.batchID = batchID
        self.storedContentHash = storedContentHash
    }
}

public struct BatchDigest: Sendable, Hashable, Codable {
    public var messages: Int
    public var digest: ContentHash
    public init(messages: Int, digest: ContentHash) {
        self.messages = messages
        self.digest = digest
    }
}


/// One message's stored content hash beside the one recomputed from its stored fields.
public struct MessageHashCheck: Sendable, Hashable {
    public var id: Int64
    /// Set only when the content hash recomputed from the stored fields is not the stored one.
    public var mismatch: Mismatch?
    /// The original export the message names (nil when the stored value is not a hash).
    public var sourceBlob: ContentHash?
    public var attachmentBlobs: [ContentHash]
    /// How many bytes of canonical serialisation were hashed.
    public var bytes: Int

    public struct Mismatch: Sendable, Hashable {
        public var computed: ContentHash
        /// Nil when the stored value is not a hash at all.
        public var stored: ContentHash?
        public init(computed: ContentHash, stored: ContentHash?) {
            self.computed = computed
            self.stored = stored
        }
    }

    public init(id: Int64, mismatch: Mismatch?, sourceBlob: ContentHash?, attachmentBlobs: [ContentHash], bytes: Int) {
        self.id = id
        self.mismatch = mismatch
        self.sourceBlob = sourceBlob
        self.attachmentBlobs = attachmentBlobs
        self.bytes = bytes
    }
}

/// What to search for. `query` uses the archive's query syntax (see `SearchQuery`).
public struct SearchRequest: Sendable, Hashable {
    /// `date`: newest sent first, read straight off the index (fast at any size).
    /// `relevance`: BM25 over every match (costs time in proportion to the number of matches).
    public enum Sort: String, Sendable, CaseIterable { case date, relevance }
    /// Counting stops here; beyond it the total is reported as a lower bound.
    public static let countLimit = 10_000
    /// The same, when filters apply (each match is then joined to its message to be counted).
    public static let filteredCountLimit = 1_000
    /// Relevance (BM25) scores every match it ranks, about 10 µs each; a query matching more
    /// than this many messages is ranked among its newest this many (and says so).
    public static let relevanceWindow = 10_000
    /// The window for this request (tests make it small).
    public var relevanceWindow = SearchRequest.relevanceWindow
    /// What to find, as a tree each backend compiles for its engine; nil to collect by the
    /// filters alone (newest first, read from the records themselves, so the index lag does not
    /// apply).
    public var query: SearchExpression?
    public var custodianEmail: String?
    public var conversationID: Int64?
    public var conversationTitle: String?
    public var participant: String?
    /// Set when the participant names a person the archive knows (a custodian or a party): the
    /// conversations, on every platform, their registered identities took part in.
    public var participantConversations: [Int64]?
    /// Only messages from this platform (`whatsapp`, `signal`…).
    public var platform: String?
    /// Only messages with at least one attachment.
    public var hasAttachment: Bool = false
    /// Only messages an active legal hold covers.
    public var underHold: Bool = false
    /// Inclusive lower bound on the sent time as written, `YYYY-MM-DD…`.
    public var fromLocal: String?
    /// Exclusive upper bound on the sent time as written.
    public var toLocalExclusive: String?
    public var limit: Int
    public var offset: Int
    public var sort: Sort
    public init(query: SearchExpression?, custodianEmail: String? = nil, conversationID: Int64? = nil, conversationTitle: String? = nil,
                participant: String? = nil, fromLocal: String? = nil, toLocalExclusive: String? = nil, limit: Int = 20,
                offset: Int = 0, sort: Sort = .date) {
        self.query = query
        self.custodianEmail = custodianEmail
        self.conversationID = conversationID
        self.conversationTitle = conversationTitle
        self.participant = participant
        self.fromLocal = fromLocal
        self.toLocalExclusive = toLocalExclusive
        self.limit = limit
        self.offset = offset
        self.sort = sort
    }
}

public struct SearchHit: Sendable, Hashable, Codable {
    public var messageID: Int64
    public var conversationID: Int64
    public var conversationTitle: String
    public var custodian: String
    public var sender: String?
    public var sentLocal: String
    public var timeZone: String
    public var kind: String
    /// Text around the match; matched terms are wrapped in `SearchHit.markOpen`/`markClose`.
    public var snippet: String
    /// The sent instant, UTC seconds since 1970 (nil when not known).
    public var sentAt: Int64?
    public static let markOpen = "\u{E000}"
    public static let markClose = "\u{E001}"
    public init(messageID: Int64, conversationID: Int64, conversationTitle: String, custodian: String, sender: String?,
                sentLocal: String, timeZone: String, kind: String, snippet: String, sentAt: Int64? = nil) {
        self.sentAt = sentAt
        self.messageID = messageID
        self.conversationID = conversationID
        self.conversationTitle = conversationTitle
        self.custodian = custodian
        self.sender = sender
        self.sentLocal = sentLocal
        self.timeZone = timeZone
        self.kind = kind
        self.snippet = snippet
    }

    /// The snippet with the match markers replaced.
    public func snippet(open: String, close: String) -> String {
        snippet.replacingOccurrences(of: SearchHit.markOpen, with: open).replacingOccurrences(of: SearchHit.markClose, with: close)
    }
}

public struct SearchResults: Sendable, Hashable {
    /// Number of matching messages, exact up to `SearchRequest.countLimit`.
    public var total: Int
    /// False when counting stopped at `SearchRequest.countLimit` (there are at least `total`).
    public var totalIsExact: Bool
    public var hits: [SearchHit]
    /// What the index covered when the search ran (set by the search service): every answer
    /// says how many captured messages it could not see yet.
    public var coverage: IndexStatus?
    /// Set when a relevance search matched more than `SearchRequest.relevanceWindow` messages:
    /// the hits are the most relevant among the newest this many matches.
    public var rankedAmongNewest: Int?
    /// The order the hits are in: relevance needs words, so a collection by filters alone is
    /// newest first whatever was asked.
    public var order: SearchRequest.Sort = .date
    public init(total: Int, totalIsExact: Bool = true, hits: [SearchHit], coverage: IndexStatus? = nil) {
        self.total = total
        self.totalIsExact = totalIsExact
        self.hits = hits
        self.coverage = coverage
    }
}

public struct ArchiveStats: Sendable, Hashable, Codable {
    public var conversations: Int
    public var messages: Int
    public var attachments: Int
    public var attachmentsMissing: Int
    public var batches: Int
    public var unfinishedBatches: Int
    public var custodians: Int
    public var blobs: Int
    public var blobBytes: Int64
    public var defects: Int
    public var auditEntries: Int
    public init(conversations: Int, messages: Int, attachments: Int, attachmentsMissing: Int, batches: Int,
                unfinishedBatches: Int, custodians: Int, blobs: Int, blobBytes: Int64, defects: Int, auditEntries: Int) {
        self.conversations = conversations
        self.messages = messages
        self.attachments = attachments
        self.attachmentsMissing = attachmentsMissing
        self.batches = batches
        self.unfinishedBatches = unfinishedBatches
        self.custodians = custodians
        self.blobs = blobs
        self.blobBytes = blobBytes
        self.defects = defects
        self.auditEntries = auditEntries
    }
}

/// Errors from the archive. `description` never includes record content.
public struct ArchiveError: Error, CustomStringConvertible, Sendable {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public static let notInitialized = Code("not_initialized")
        public static let alreadyInitialized = Code("already_initialized")
        public static let badQuery = Code("bad_query")
        public static let storage = Code("storage")
        public static let notFound = Code("not_found")
        public static let blobMissing = Code("blob_missing")
        /// A sealed blob does not open: its bytes were altered, cut short, or replaced by a file
        /// sealed under another data key.
        public static let blobDamaged = Code("blob_damaged")
        /// The record was lawfully disposed of or purged: only its tombstone remains (HTTP 410).
        public static let gone = Code("gone")
        /// The law or the archive's rules forbid this (a hold, an unapproved disposition…).
        public static let refused = Code("refused")
        public static let invalid = Code("invalid")
        /// Another writer holds the archive (the write lock) for longer than this one would wait.
        public static let busy = Code("busy")
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
