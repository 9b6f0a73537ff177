import Archive
import Foundation
import RecordkeeperCore

/// What one pass of the Object Lock job changed.
public struct ObjectLockReport: Sendable, Codable, Hashable {
    /// False when the blob store has no lock (files on a filesystem): nothing to do.
    public var active = false
    public var blobsExamined = 0
    /// Objects whose COMPLIANCE retention was extended (to their records' disposition date, or
    /// to the horizon for records with no date, renewed when half of it has run down).
    public var retentionExtended = 0
    public var legalHoldsSet = 0
    public var legalHoldsLifted = 0
    /// `<hash>: <what failed>`; the pass carries on and the next one tries again.
    public var failures: [String] = []
    public var horizonDays = 0
    public var seconds = 0.0
}

/// Keeps each blob's Object Lock in step with the records that name it (issue 14):
///
/// - retention: until the latest date on which any of those records becomes eligible for
///   disposition, but never more than the store's horizon (`retention-days`) ahead; records with
///   no date (permanent until transferred, waiting for a cutoff event) get the horizon, renewed
///   once half of it has run down. A lock is never shortened (COMPLIANCE forbids it): a later,
///   shorter schedule takes effect when the current lock ends, which the horizon bounds.
/// - legal hold: the object's legal-hold flag is on while any of those records is under an
///   active hold, and lifted when the last such hold is released.
///
/// Only what differs from what was last applied is sent to the store. `serve` runs a pass every
/// hour (one instance at a time, under a lease), placing or releasing a hold runs one at once,
/// and `recordkeeper object-lock sync` runs one by hand or from cron.
public struct ObjectLockService: Sendable {
    public let archive: ArchiveHandle
    public init(archive: ArchiveHandle) { self.archive = archive }

    /// The date to extend a blob's retention to now, or nil to leave it.
    public static func retentionTarget(_ s: BlobLockState, today: CivilDate, horizonDays: Int) -> CivilDate? {
        guard horizonDays > 0 else { return nil }
        let cap = today.addingDays(horizonDays)
        let want = min(s.keepUntil ?? cap, cap)
        guard want > today else { return nil } // already eligible: nothing left to keep it for
        if let applied = s.appliedUntil {
            if applied >= want { return nil }
            // Capped by the horizon: renew only once half of it has run down.
            let capped = s.keepUntil.map { $0 > cap } ?? true
            if capped && applied >= today.addingDays(horizonDays / 2) { return nil }
        }
        return want
    }

    /// The instant a retain-until date ends: the start of the next day, UTC.
    public static func endOf(_ date: CivilDate) -> Date {
        Date(timeIntervalSince1970: Double(date.addingDays(1).dayNumber) * 86_400)
    }

    /// One pass over every live blob (or only `hashes`).
    public func sync(actor: String, only hashes: [ContentHash]? = nil, today: CivilDate = .today(),
                     progress: (@Sendable (ObjectLockReport) -> Void)? = nil) async throws -> ObjectLockReport {
        var report = ObjectLockReport()
        guard let blobs = archive.blobs as? any LockingBlobStore else { return report }
        let started = Date()
        report.active = true
        report.horizonDays = blobs.lockHorizonDays
        let store = archive.store
        var after: ContentHash?
        var remaining = hashes
        while true {
            let page: [BlobLockState]
            if let list = remaining {
                guard !list.isEmpty else { break }
                page = try await store.blobLocks(Array(list.prefix(500)))
                remaining = Array(list.dropFirst(500))
            } else {
                page = try await store.blobLocks(after: after, limit: 500)
                guard let last = page.last else { break }
                after = last.hash
            }
            let horizon = blobs.lockHorizonDays
            let outcomes = await withTaskGroup(of: (extended: Bool, set: Bool, lifted: Bool, failure: String?).self) { group in
                var out: [(extended: Bool, set: Bool, lifted: Bool, failure: String?)] = []
                for (i, s) in page.enumerated() {
                    if i >= 8, let r = await group.next() { out.append(r) }
                    group.addTask {
                        let target = Self.retentionTarget(s, today: today, horizonDays: horizon)
                        guard target != nil || s.held != s.appliedHeld else { return (false, false, false, nil) }
                        var until = s.appliedUntil
                        var held = s.appliedHeld
                        do {
                            if let target {
                                try await blobs.extendRetention(s.hash, until: Self.endOf(target))
                                until = target
                            }
                            if s.held != s.appliedHeld {
                                try await blobs.setLegalHold(s.hash, on: s.held)
                                held = s.held
                            }
                            try await store.recordBlobLock(s.hash, until: until, held: held)
                            return (target != nil, s.held && !s.appliedHeld, !s.held && s.appliedHeld, nil)
                        } catch {
                            // What succeeded is recorded, so the next pass does only the rest.
                            try? await store.recordBlobLock(s.hash, until: until, held: held)
                            return (until != s.appliedUntil, held && !s.appliedHeld, !held && s.appliedHeld, "\(s.hash.hex): \(error)")
                        }
                    }
                }
                for await r in group { out.append(r) }
                return out
            }
            for o in outcomes {
                if o.extended { report.retentionExtended += 1 }
                if o.set { report.legalHoldsSet += 1 }
                if o.lifted { report.legalHoldsLifted += 1 }
                if let f = o.failure { report.failures.append(f) }
            }
            report.blobsExamined += page.count
            progress?(report)
        }
        report.seconds = Date().timeIntervalSince(started)
        if report.retentionExtended + report.legalHoldsSet + report.legalHoldsLifted + report.failures.count > 0 {
            try await store.appendAudit(AuditDraft(actor: actor, action: "object_lock.sync", target: "blobs", detail: [
                "blobs": String(report.blobsExamined), "retention_extended": String(report.retentionExtended),
                "legal_holds_set": String(report.legalHoldsSet), "legal_holds_lifted": String(report.legalHoldsLifted),
                "failures": String(report.failures.count), "horizon_days": String(report.horizonDays), "store": blobs.locationDescription,
            ]))
        }
        return report
    }
}
