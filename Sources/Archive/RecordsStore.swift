import Foundation
import RecordkeeperCore

/// Persistence for the records-law engine: people, designations, the versioned file plan,
/// retention assignments, legal holds, dispositions and tombstones, as four concerns.
///
/// Like `ArchiveStore`, every method is one transaction and no backend type appears here.
public protocol RecordsStore: PeopleStore, RetentionStore, HoldStore, DispositionStore {}

/// The archive's users, and custodians with their accounts and role designations.
public protocol PeopleStore: Sendable {
    func saveUser(_ user: UserAccount) async throws
    func user(name: String) async throws -> UserAccount?
    func users() async throws -> [UserAccount]

    func custodianProfiles() async throws -> [CustodianProfile]
    func custodianProfile(email: String) async throws -> CustodianProfile?
}

/// The versioned file plan, cutoff events and every record's retention assignment.
public protocol RetentionStore: Sendable {
    func currentFilePlan() async throws -> StoredFilePlan?
    func filePlanHistory() async throws -> [StoredFilePlan]
    func cutoffEvents() async throws -> [String: [String: CivilDate]]

    /// Makes a change that can move records between schedule items (a file plan version, a
    /// designation, an account, a custodian's office, a cutoff event) and recomputes every
    /// record's assignment, in one transaction with its audit entries: `audit` for the change,
    /// then `retention.recompute` with every move. Assignments are never stale after a crash.
    func applyRetentionChange(_ change: RetentionChange, audit: AuditDraft, reason: String) async throws -> RetentionChangeResult
    /// Recomputes the assignments of the records in `scope`, storing them when `apply`. With a
    /// `context`, a dry run of a change not yet made (never applied); without, the archive's own
    /// plan, custodians and events, read in the same transaction.
    func recomputeAssignments(context: RetentionContext?, scope: AssignmentScope, apply: Bool) async throws -> RetentionDiff
    func assignment(messageID: Int64) async throws -> StoredAssignment?
    /// The facts the engine used for one record (to explain an assignment).
    func retentionFacts(messageID: Int64) async throws -> RecordFacts?
    /// Records whose destruction or transfer date is on or before `asOf`, grouped by item, with
    /// how many of them active holds keep.
    func due(asOf: CivilDate) async throws -> [DueGroup]
    /// Counts of records per item and action.
    func retentionSummary() async throws -> [DueGroup]
}

/// Legal holds: what they cover is evaluated inside the transactions that check them.
public protocol HoldStore: Sendable {
    /// Each state change below commits together with its audit entry (`audit`).
    func createHold(_ hold: NewHold, audit: AuditDraft) async throws -> LegalHold
    func holds(includeReleased: Bool) async throws -> [LegalHold]
    func hold(id: Int64) async throws -> LegalHold?
    func releaseHold(id: Int64, actor: String, reason: String, atMillis: Int64, audit: AuditDraft) async throws -> LegalHold
    /// How many records a hold covers, and the ids of the newest few.
    func heldRecords(holdID: Int64, sample: Int) async throws -> (count: Int, sample: [Int64])
    /// The ids of the active holds that cover the record.
    func holdsCovering(messageID: Int64) async throws -> [Int64]
    /// What a hold with this scope would cover now, before it is placed: the count, the
    /// busiest custodians and conversations (at most 50 each) and the newest `sample` ids.
    func previewHold(scope: HoldScope, match: SearchExpression?, sample: Int) async throws -> HoldScopePreview
}

/// What the record store did, after a disposition, to what its storage kept of the records that
/// left beyond their rows.
public struct ResiduePurge: Sendable, Hashable {
    /// Each step taken, for the certificate (e.g. "search index rewritten without them").
    public var steps: [String]
    /// What could not be done, if anything: still on disk until the operator acts (or the next
    /// destruction retries).
    public var remaining: [String]
    public init(steps: [String], remaining: [String]) {
        self.steps = steps
        self.remaining = remaining
    }
}

/// Dispositions, from proposal to certificate, and the tombstones they leave.
public protocol DispositionStore: Sendable {
    /// Active holds are read and applied inside the transaction: held records are left out.
    func proposeDisposition(_ proposal: DispositionProposal, audit: AuditDraft) async throws -> DispositionBatch
    func disposition(id: Int64) async throws -> DispositionBatch?
    func dispositions() async throws -> [DispositionBatch]
    /// The records of a batch for review: a page (optionally of one schedule item) in sent
    /// order, or a random sample of `limit`; with the total the page is taken from.
    func dispositionReview(id: Int64, itemID: String?, offset: Int, limit: Int, randomSample: Bool) async throws -> (total: Int, members: [DispositionReviewRow])
    func approveDisposition(id: Int64, actor: String, atMillis: Int64, audit: AuditDraft) async throws -> DispositionBatch
    func cancelDisposition(id: Int64, actor: String, reason: String, atMillis: Int64, audit: AuditDraft) async throws -> DispositionBatch
    /// Turns the approved batch's records into tombstones and removes their content, in one
    /// transaction that first reassigns the members, then withholds any that on `today` are not
    /// due or are under an active hold, and finally writes the `auditAction` entry with the digest
    /// of the tombstones. A transfer (with `accession`) is refused instead if anything would be
    /// withheld: the bag already holds it. Delete the files of `releasedBlobs` afterwards.
    func executeDisposition(id: Int64, actor: String, atMillis: Int64, today: CivilDate, accession: String?,
                            auditAction: String) async throws -> DispositionExecution
    /// Before packaging a transfer: reassigns its members and withholds those not due on `today`
    /// or under an active hold. Returns how many were withheld.
    func withholdIneligible(id: Int64, today: CivilDate) async throws -> Int
    /// Marks a transfer batch packaged (the bag was written and validated).
    func markPackaged(id: Int64, bagDigest: String, atMillis: Int64, audit: AuditDraft) async throws -> DispositionBatch
    /// Member records of a batch still to be disposed of, by conversation and sent time.
    func dispositionMembers(id: Int64) async throws -> [DispositionMember]
    func tombstones(dispositionID: Int64) async throws -> [Tombstone]
    func tombstone(messageID: Int64) async throws -> Tombstone?
    /// The tombstones of one conversation in sent order (at most `limit`): where its records
    /// left the archive, and under which disposition.
    func tombstones(conversationID: Int64, limit: Int) async throws -> [Tombstone]
    /// Blobs marked destroyed (their files must be gone), all or those of one disposition.
    func destroyedBlobs(dispositionID: Int64?) async throws -> [ContentHash]
    /// After records left (a disposition executed, a purge): removes what the storage engine still
    /// keeps of them beyond their rows (freed pages, superseded search-index segments, the
    /// write-ahead log). Idempotent; says what it did in words a certificate carries.
    func purgeResidue() async throws -> ResiduePurge
    /// Stores the certificate of an executed disposition (once).
    func saveCertificate(dispositionID: Int64, json: String, audit: AuditDraft) async throws
    func certificate(dispositionID: Int64) async throws -> String?
    /// Message ids that are both a record and a tombstone (must be none).
    func tombstonesWithRecords(limit: Int) async throws -> [Int64]
    /// Tombstones whose disposition is not executed (must be none).
    func tombstonesOutsideExecutedDispositions(limit: Int) async throws -> [Int64]
}

public struct UserAccount: Sendable, Hashable, Codable {
    public var name: String
    public var displayName: String
    public var roles: [UserRole]
    public var createdAt: String
    /// For the custodian role: the custodian whose records this user may see and upload.
    public var custodianEmail: String?
    public init(name: String, displayName: String, roles: [UserRole], createdAt: String, custodianEmail: String? = nil) {
        self.name = name
        self.displayName = displayName
        self.roles = roles
        self.createdAt = createdAt
        self.custodianEmail = custodianEmail
    }
    public func has(_ role: UserRole) -> Bool { roles.contains(role) }
}

public struct PlatformAccount: Sendable, Hashable, Codable {
    public var id: Int64
    public var platform: String
    /// As written ("+1 (202) 555-0143").
    public var address: String
    /// As compared (`AccountAddress.normalize`).
    public var normalized: String
    /// Official (agency-issued) or personal.
    public var official: Bool
    public init(id: Int64 = 0, platform: String, address: String, official: Bool) {
        self.id = id
        self.platform = platform.lowercased()
        self.address = address
        self.normalized = AccountAddress.normalize(address)
        self.official = official
    }
}

public struct StoredDesignation: Sendable, Hashable, Codable {
    public var id: Int64
    public var custodianEmail: String
    public var designation: RoleDesignation
    public var createdAt: String
    public var createdBy: String
    public init(id: Int64, custodianEmail: String, designation: RoleDesignation, createdAt: String, createdBy: String) {
        self.id = id
        self.custodianEmail = custodianEmail
        self.designation = designation
        self.createdAt = createdAt
        self.createdBy = createdBy
    }
}

public struct CustodianProfile: Sendable, Hashable, Codable {
    public var id: Int64
    public var email: String
    public var name: String?
    public var office: String?
    public var accounts: [PlatformAccount]
    public var designations: [StoredDesignation]
    public init(id: Int64, email: String, name: String?, office: String?, accounts: [PlatformAccount], designations: [StoredDesignation]) {
        self.id = id
        self.email = email
        self.name = name
        self.office = office
        self.accounts = accounts
        self.designations = designations
    }
    public var facts: CustodianFacts { CustodianFacts(email: email, office: office, designations: designations.map(\.designation)) }
}

public struct StoredFilePlan: Sendable, Hashable, Codable {
    public var version: Int
    public var plan: FilePlan
    public var createdAt: String
    public var createdBy: String
    public var note: String?
    /// SHA-256 of the plan's JSON as stored.
    public var digest: String
    public init(version: Int, plan: FilePlan, createdAt: String, createdBy: String, note: String?, digest: String) {
        self.version = version
        self.plan = plan
        self.createdAt = createdAt
        self.createdBy = createdBy
        self.note = note
        self.digest = digest
    }
}

extension StoredFilePlan {
    /// A plan as every backend stores it: sorted-key JSON, whose SHA-256 is the version's digest
    /// (the same plan has the same digest on any backend).
    public static func document(_ plan: FilePlan) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(plan), as: UTF8.self)
    }

    /// The note on version 1, the plan every new archive starts with.
    public static let standardNote = "default plan (DAA-0568-2022-0005, GRS 6.1 Capstone)"
}

public enum AssignmentScope: Sendable, Hashable {
    case all
    case batch(Int64)
    case unassigned
    /// The records a disposition batch still has to dispose of.
    case pendingMembers(Int64)
}

/// The digest that anchors a disposition: SHA-256 over "<identity key> <content hash>\n" of every
/// disposed record in record-id order. Execution records it; `verify` recomputes it from the
/// tombstones; the certificate carries it.
public struct DisposalDigest: Sendable {
    private var hasher = StreamingHasher()
    public init() {}
    public init(_ tombstones: [Tombstone]) {
        for t in tombstones { add(identityKey: t.identityKey, contentHash: t.contentHash) }
    }
    public mutating func add(identityKey: String, contentHash: String) {
        hasher.update(Array("\(identityKey) \(contentHash)\n".utf8))
    }
    public var hex: String { hasher.finalize().hex }
}

/// A change that can move records between schedule items.
public enum RetentionChange: Sendable, Hashable {
    case filePlan(FilePlan, note: String?)
    /// Creates the custodian if needed; nil fields stay as they are.
    case profile(email: String, name: String?, office: String?)
    case account(custodianEmail: String, PlatformAccount)
    case designation(custodianEmail: String, RoleDesignation)
    case endDesignation(id: Int64, ends: CivilDate)
    case cutoffEvent(conversationID: Int64, name: String, date: CivilDate)
    /// Nothing changes but the assignments are recomputed (after an interrupted change, or to check).
    case recompute
}

public struct RetentionChangeResult: Sendable {
    public var diff: RetentionDiff
    public var filePlan: StoredFilePlan?
    public var profile: CustodianProfile?
    public var account: PlatformAccount?
    public var designation: StoredDesignation?
    public init(diff: RetentionDiff) { self.diff = diff }
}

/// What a recomputation changes.
public struct RetentionDiff: Sendable, Hashable, Codable {
    public struct Move: Sendable, Hashable, Codable {
        /// Nil for records that had no assignment yet.
        public var from: String?
        public var to: String
        public var count: Int
        public init(from: String?, to: String, count: Int) {
            self.from = from
            self.to = to
            self.count = count
        }
    }
    public var examined = 0
    public var unchanged = 0
    /// Records that change item.
    public var moves: [Move] = []
    /// Records that keep their item but whose dates change (a designation or event changed).
    public var datesChanged = 0
    public var applied = false
    public init() {}
    public var changed: Int { moves.reduce(0) { $0 + $1.count } + datesChanged }
}

public struct StoredAssignment: Sendable, Hashable, Codable {
    public var assignment: RetentionAssignment
    public var planVersion: Int
    public var assignedAt: String
    public init(assignment: RetentionAssignment, planVersion: Int, assignedAt: String) {
        self.assignment = assignment
        self.planVersion = planVersion
        self.assignedAt = assignedAt
    }
}

/// A hold's scope in the store's terms (the query already parsed into a tree).
public struct HoldFilter: Sendable, Hashable {
    public var holdID: Int64
    public var custodians: [String]
    public var conversationKeys: [String]
    public var fromLocal: String?
    public var toLocalExclusive: String?
    public var match: SearchExpression?
    public var everything: Bool
    /// Participants (conversation, sender key) of other custodians' conversations whose messages
    /// were sent by a held custodian (resolved through registered accounts).
    public var sentBy: [ParticipantRef] = []
    public init(holdID: Int64, custodians: [String], conversationKeys: [String], fromLocal: String?, toLocalExclusive: String?,
                match: SearchExpression?, everything: Bool) {
        self.holdID = holdID
        self.custodians = custodians
        self.conversationKeys = conversationKeys
        self.fromLocal = fromLocal
        self.toLocalExclusive = toLocalExclusive
        self.match = match
        self.everything = everything
    }
}

public struct ParticipantRef: Sendable, Hashable {
    public var conversationID: Int64
    public var senderKey: String
    public init(conversationID: Int64, senderKey: String) {
        self.conversationID = conversationID
        self.senderKey = senderKey
    }
}

public struct DueGroup: Sendable, Hashable, Codable {
    public var itemID: String
    public var action: RetentionAction
    public var records: Int
    /// Of those, kept by an active hold.
    public var held: Int
    public var firstSent: String?
    public var lastSent: String?
    public var firstEligible: String?
    public init(itemID: String, action: RetentionAction, records: Int, held: Int, firstSent: String?, lastSent: String?, firstEligible: String?) {
        self.itemID = itemID
        self.action = action
        self.records = records
        self.held = held
        self.firstSent = firstSent
        self.lastSent = lastSent
        self.firstEligible = firstEligible
    }
}

public struct NewHold: Sendable, Hashable {
    /// The scope's query, parsed (nil without a query).
    public var match: SearchExpression?
    public var name: String
    public var matter: MatterType
    public var reference: String?
    public var requestedBy: String
    public var scope: HoldScope
    public var actor: String
    public var createdAtMillis: Int64
    public init(name: String, matter: MatterType, reference: String?, requestedBy: String, scope: HoldScope, match: SearchExpression?, actor: String,
                createdAtMillis: Int64) {
        self.match = match
        self.name = name
        self.matter = matter
        self.reference = reference
        self.requestedBy = requestedBy
        self.scope = scope
        self.actor = actor
        self.createdAtMillis = createdAtMillis
    }
}

public struct LegalHold: Sendable, Hashable, Codable {
    public var id: Int64
    public var name: String
    public var matter: MatterType
    public var reference: String?
    public var requestedBy: String
    public var scope: HoldScope
    public var createdBy: String
    public var createdAt: String
    public var releasedBy: String?
    public var releasedAt: String?
    public var releaseReason: String?
    public var isActive: Bool { releasedAt == nil }
    public init(id: Int64, name: String, matter: MatterType, reference: String?, requestedBy: String, scope: HoldScope, createdBy: String,
                createdAt: String, releasedBy: String?, releasedAt: String?, releaseReason: String?) {
        self.id = id
        self.name = name
        self.matter = matter
        self.reference = reference
        self.requestedBy = requestedBy
        self.scope = scope
        self.createdBy = createdBy
        self.createdAt = createdAt
        self.releasedBy = releasedBy
        self.releasedAt = releasedAt
        self.releaseReason = releaseReason
    }
}

public enum DispositionAction: String, Sendable, Hashable, Codable, CaseIterable {
    case destroy
    case transfer
}

public struct DispositionProposal: Sendable, Hashable {
    public var action: DispositionAction
    public var asOf: CivilDate
    /// Only these items (all when nil).
    public var items: [String]?
    public var actor: String
    public var note: String?
    public var atMillis: Int64
    public init(action: DispositionAction, asOf: CivilDate, items: [String]?, actor: String, note: String?, atMillis: Int64) {
        self.action = action
        self.asOf = asOf
        self.items = items
        self.actor = actor
        self.note = note
        self.atMillis = atMillis
    }
}

public struct DispositionBatch: Sendable, Hashable, Codable {
    /// proposed → approved → (transfer: packaged →) executed; or cancelled.
    public enum Status: String, Sendable, Hashable, Codable { case proposed, approved, packaged, executed, cancelled }
    public struct ItemCount: Sendable, Hashable, Codable {
        public var itemID: String
        public var records: Int
        public var firstSent: String?
        public var lastSent: String?
        public init(itemID: String, records: Int, firstSent: String?, lastSent: String?) {
            self.itemID = itemID
            self.records = records
            self.firstSent = firstSent
            self.lastSent = lastSent
        }
    }
    public var id: Int64
    public var action: DispositionAction
    public var status: Status
    public var asOf: CivilDate
    public var planVersion: Int
    public var note: String?
    public var proposedBy: String
    public var proposedAt: String
    public var approvedBy: String?
    public var approvedAt: String?
    public var packagedAt: String?
    public var bagDigest: String?
    public var executedBy: String?
    public var executedAt: String?
    public var accession: String?
    public var cancelledBy: String?
    public var cancelReason: String?
    /// Records in the batch, per item.
    public var items: [ItemCount]
    /// Records proposed but withheld at execution (placed under hold or no longer due).
    public var withheld: Int
    /// Records eligible when proposed but kept out by an active hold.
    public var heldAtProposal: Int
    public init(id: Int64, action: DispositionAction, status: Status, asOf: CivilDate, planVersion: Int, note: String?, proposedBy: String,
                proposedAt: String, approvedBy: String?, approvedAt: String?, packagedAt: String?, bagDigest: String?, executedBy: String?,
                executedAt: String?, accession: String?, cancelledBy: String?, cancelReason: String?, items: [ItemCount], withheld: Int,
                heldAtProposal: Int) {
        self.id = id
        self.action = action
        self.status = status
        self.asOf = asOf
        self.planVersion = planVersion
        self.note = note
        self.proposedBy = proposedBy
        self.proposedAt = proposedAt
        self.approvedBy = approvedBy
        self.approvedAt = approvedAt
        self.packagedAt = packagedAt
        self.bagDigest = bagDigest
        self.executedBy = executedBy
        self.executedAt = executedAt
        self.accession = accession
        self.cancelledBy = cancelledBy
        self.cancelReason = cancelReason
        self.items = items
        self.withheld = withheld
        self.heldAtProposal = heldAtProposal
    }
    public var records: Int { items.reduce(0) { $0 + $1.records } }
}

/// What is left of a record after disposition: enough to prove it existed, what it was, and
/// who let it go.
public struct Tombstone: Sendable, Hashable, Codable {
    public var messageID: Int64
    public var identityKey: String
    public var contentHash: String
    public var captureBatchID: Int64
    public var conversationKey: String
    public var sentLocal: String
    public var itemID: String
    public var authority: String?
    public var dispositionID: Int64
    /// `destroyed` or `transferred`.
    public var outcome: String
    public var accession: String?
    public var disposedAt: String
    public init(messageID: Int64, identityKey: String, contentHash: String, captureBatchID: Int64, conversationKey: String, sentLocal: String,
                itemID: String, authority: String?, dispositionID: Int64, outcome: String, accession: String?, disposedAt: String) {
        self.messageID = messageID
        self.identityKey = identityKey
        self.contentHash = contentHash
        self.captureBatchID = captureBatchID
        self.conversationKey = conversationKey
        self.sentLocal = sentLocal
        self.itemID = itemID
        self.authority = authority
        self.dispositionID = dispositionID
        self.outcome = outcome
        self.accession = accession
        self.disposedAt = disposedAt
    }
}

public struct DispositionExecution: Sendable, Hashable {
    public var batch: DispositionBatch
    public var disposed: Int
    public var withheld: Int
    /// Blobs (attachments, original exports) no surviving record uses: delete their files.
    public var releasedBlobs: [ContentHash]
    public init(batch: DispositionBatch, disposed: Int, withheld: Int, releasedBlobs: [ContentHash]) {
        self.batch = batch
        self.disposed = disposed
        self.withheld = withheld
        self.releasedBlobs = releasedBlobs
    }
}

public struct DispositionMember: Sendable, Hashable {
    public var messageID: Int64
    public var conversationID: Int64
    public var sentLocal: String
    public var itemID: String
    public init(messageID: Int64, conversationID: Int64, sentLocal: String, itemID: String) {
        self.messageID = messageID
        self.conversationID = conversationID
        self.sentLocal = sentLocal
        self.itemID = itemID
    }
}

/// What a hold would cover if placed now (shown before it is placed).
public struct HoldScopePreview: Sendable, Hashable, Codable {
    public struct Group: Sendable, Hashable, Codable {
        /// A custodian's e-mail, or a conversation id.
        public var key: String
        /// The e-mail, or the conversation's title.
        public var label: String
        public var records: Int
        public init(key: String, label: String, records: Int) {
            self.key = key
            self.label = label
            self.records = records
        }
    }
    public var records: Int
    public var byCustodian: [Group]
    public var byConversation: [Group]
    /// Newest message ids in scope.
    public var sample: [Int64]
    public init(records: Int, byCustodian: [Group], byConversation: [Group], sample: [Int64]) {
        self.records = records
        self.byCustodian = byCustodian
        self.byConversation = byConversation
        self.sample = sample
    }
}

/// One record of a disposition batch, as a reviewer sees it. A disposed record keeps what its
/// tombstone keeps (no sender, no text).
public struct DispositionReviewRow: Sendable, Hashable, Codable {
    public var messageID: Int64
    public var itemID: String
    public var sentLocal: String
    /// pending, disposed or withheld.
    public var state: String
    public var conversationID: Int64?
    public var conversationTitle: String?
    public var sender: String?
    /// The first words of the message (nil once disposed of).
    public var excerpt: String?
    public init(messageID: Int64, itemID: String, sentLocal: String, state: String, conversationID: Int64?, conversationTitle: String?,
                sender: String?, excerpt: String?) {
        self.messageID = messageID
        self.itemID = itemID
        self.sentLocal = sentLocal
        self.state = state
        self.conversationID = conversationID
        self.conversationTitle = conversationTitle
        self.sender = sender
        self.excerpt = excerpt
    }
}
