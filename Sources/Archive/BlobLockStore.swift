import Foundation
import RecordkeeperCore

/// What the records behind one blob ask of the object store's lock, and what was last applied.
public struct BlobLockState: Sendable, Hashable {
    public var hash: ContentHash
    /// The latest date on which any record naming this blob (as an attachment, or as the
    /// original export it was captured from) becomes eligible for disposition; nil when some
    /// such record has no date (permanent until transferred, waiting for a cutoff event, not
    /// yet scheduled) or when no record names it: then nothing bounds how long it is kept.
    public var keepUntil: CivilDate?
    /// Some record naming this blob is under an active legal hold.
    public var held: Bool
    /// The retain-until date last applied to the object (nil: none yet).
    public var appliedUntil: CivilDate?
    /// Whether the object's legal-hold flag was last set on.
    public var appliedHeld: Bool

    public init(hash: ContentHash, keepUntil: CivilDate?, held: Bool, appliedUntil: CivilDate?, appliedHeld: Bool) {
        self.hash = hash
        self.keepUntil = keepUntil
        self.held = held
        self.appliedUntil = appliedUntil
        self.appliedHeld = appliedHeld
    }
}

/// The record store's side of Object Lock: for each live blob, the retention and holds of the
/// records that name it, and what was last applied to the object, so that a pass changes only
/// what differs (one request per changed object, not two per object per pass).
public protocol BlobLockStore: Sendable {
    /// Live blobs (not destroyed) in hash order after `after`, at most `limit`.
    func blobLocks(after: ContentHash?, limit: Int) async throws -> [BlobLockState]
    /// The same for the named blobs only (those absent or destroyed are left out).
    func blobLocks(_ hashes: [ContentHash]) async throws -> [BlobLockState]
    /// Records what was applied to a blob's object.
    func recordBlobLock(_ hash: ContentHash, until: CivilDate?, held: Bool) async throws
}

/// A blob store that can lock what it holds (S3 Object Lock in COMPLIANCE mode).
public protocol LockingBlobStore: BlobStore {
    /// How many days ahead the store locks a new object, and the furthest ahead a pass sets a
    /// lock (renewed as it runs down), so that a later, shorter schedule can still be honoured.
    var lockHorizonDays: Int { get }
    /// Extends the blob's retention to the end of `until` (UTC; never shortens it).
    func extendRetention(_ hash: ContentHash, until: Date) async throws
    /// Sets or lifts the object's legal-hold flag.
    func setLegalHold(_ hash: ContentHash, on: Bool) async throws
    /// When the lock on the blob's bytes ends (nil: not locked), and whether a legal hold is on.
    func lockState(_ hash: ContentHash) async throws -> (until: Date?, legalHold: Bool)
}
