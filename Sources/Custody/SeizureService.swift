import Archive
import Foundation
import RecordkeeperCore

/// Seizures and the 24-hour SEACATS clock (CUSTODY.md §2.8, F6, R2): the clock starts at the
/// seizure, here, where it happens; a SEACATS entry after 24 hours needs a reason; R-LATE lists
/// the late and the overdue ones. Times are the server's (`now`).
public struct SeizureService: Sendable {
    let store: any CustodyStore
    let now: @Sendable () -> Int64

    public init(store: any CustodyStore, now: @escaping @Sendable () -> Int64 = { Timestamp.nowMillis() }) {
        self.store = store
        self.now = now
    }

    public enum Violation: String, Sendable, CaseIterable { case narcotics, agriculture, ipr, currency, weapons, prohibited, revenue, other }

    /// A CF 6051S number as this module accepts it: 6 to 24 letters, digits or hyphens (the
    /// agency's exact layout is configuration to come; this refuses free text and blanks).
    static func formNumber(_ text: String) throws -> String {
        let t = text.trimmingCharacters(in: .whitespaces).uppercased()
        guard (6...24).contains(t.count), t.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }) else {
            throw CustodyError(.invalid, "REQUIRED_MISSING: a CF 6051S number is 6 to 24 letters, digits or hyphens (got \(text))")
        }
        return t
    }

    /// `directory` (the archive's users), when given, makes the witness a registered user other
    /// than the seizing officer (the CLI gives it).
    public func seize(_ item: String, witness: String, violation: Violation, substance: String, netWeightGrams: Double, form6051S: String,
                      storageLocation: String, actor: String, directory: (any ArchiveStore)? = nil) async throws -> StoredSeizure {
        let witness = witness.trimmingCharacters(in: .whitespaces)
        guard !witness.isEmpty else { throw CustodyError(.invalid, "REQUIRED_MISSING: a seizure needs a witness") }
        guard witness.lowercased() != actor.lowercased() else { throw CustodyError(.invalid, "WITNESS_REQUIRED: the witness is someone other than the seizing officer") }
        if let directory, try await directory.user(name: witness) == nil {
            throw CustodyError(.invalid, "WITNESS_REQUIRED: the witness \(witness) is not a registered user")
        }
        guard let substance = try InspectionService.bounded(substance, "the substance", max: 200) else {
            throw CustodyError(.invalid, "REQUIRED_MISSING: say what substance")
        }
        guard netWeightGrams > 0, netWeightGrams.isFinite else { throw CustodyError(.invalid, "REQUIRED_MISSING: the net weight is a positive number of grams") }
        return try await store.seize(SeizureDraft(s10: try InspectionService.s10(item), witness: witness, violationType: violation.rawValue,
                                                  substance: substance, netWeightGrams: netWeightGrams, form6051S: try Self.formNumber(form6051S),
                                                  storageLocation: storageLocation, atMillis: now()), actor: actor)
    }

    public func recordSEACATS(seizureID: Int64, caseNumber: String, lateReason: String?, actor: String) async throws -> StoredSeizure {
        guard let number = try InspectionService.bounded(caseNumber, "the SEACATS case number", max: 40) else {
            throw CustodyError(.invalid, "REQUIRED_MISSING: the SEACATS case number")
        }
        return try await store.recordSEACATS(seizureID: seizureID, caseNumber: number, atMillis: now(),
                                             lateReason: try InspectionService.bounded(lateReason, "the reason it is late"), actor: actor)
    }

    /// A supervisor corrects a seizure's time, with a reason (never the seizing officer). The
    /// seizure's row is kept as first recorded; the correction is a new row with the old and new
    /// times, anchored in the audit log; every report reads the corrected time. `directory` is
    /// the archive's user list: the actor must hold the custody-supervisor role (a refusal is
    /// audited).
    public func correctSeizedAt(_ seizureID: Int64, to newAtMillis: Int64, reason: String, actor: String,
                                directory: any ArchiveStore) async throws -> StoredSeizureCorrection {
        guard let user = try await directory.user(name: actor), user.has(.custodySupervisor) else {
            try await directory.appendAudit(AuditDraft(actor: actor, action: "refused", target: "custody-seizure:\(seizureID)",
                                                       detail: ["attempted": "custody.seizure.correct", "reason": "not a custody supervisor"]))
            throw ArchiveError(.refused, "only a custody supervisor corrects a seizure's time (\(actor) is not one)")
        }
        return try await store.correctSeizedAt(seizureID: seizureID, newAtMillis: newAtMillis, reason: reason, atMillis: now(), actor: actor)
    }

    /// R-LATE for seizures made in [from, to), as of `asOf`.
    public func late(from: Int64, to: Int64, asOf: Int64) async throws -> LateSeizureReport {
        guard from < to else { throw CustodyError(.invalid, "the period's start is not before its end") }
        var report = LateSeizureReport(asOf: Timestamp.iso(millis: asOf))
        for z in try await store.seizures(seizedFrom: from, to: to) where z.seizedAtMillis <= asOf {
            report.seizures += 1
            if let at = z.seacatsRecordedAtMillis, at <= asOf {
                if at > z.deadlineAtMillis { report.recordedLate.append(.init(z, recordedAt: at)) } else { report.onTime += 1 }
            } else if asOf > z.deadlineAtMillis {
                report.overdueOpen.append(.init(z, recordedAt: nil))
            } else {
                report.open.append(.init(z, recordedAt: nil))
            }
        }
        return report
    }
}

public struct LateSeizureReport: Sendable, Encodable {
    public struct Row: Sendable, Encodable {
        public var seizure: Int64
        public var s10: String
        public var seizedAt: String
        public var deadline: String
        public var seizingOfficer: String
        public var form6051S: String
        public var seacatsCase: String?
        public var recordedAt: String?
        /// How long after the seizure it was recorded (or is still unrecorded), in hours.
        public var hours: Double?
        public var lateReason: String?

        init(_ z: StoredSeizure, recordedAt: Int64?) {
            seizure = z.id
            s10 = z.s10
            seizedAt = Timestamp.iso(millis: z.seizedAtMillis)
            deadline = Timestamp.iso(millis: z.deadlineAtMillis)
            seizingOfficer = z.seizingOfficer
            form6051S = z.form6051S
            seacatsCase = recordedAt == nil ? nil : z.seacatsCase
            self.recordedAt = recordedAt.map { Timestamp.iso(millis: $0) }
            hours = recordedAt.map { Double($0 - z.seizedAtMillis) / 3_600_000 }
            lateReason = recordedAt == nil ? nil : z.lateReason
        }
    }
    public var asOf: String
    public var seizures = 0
    public var onTime = 0
    public var recordedLate: [Row] = []
    /// Not in SEACATS and past the 24-hour deadline.
    public var overdueOpen: [Row] = []
    /// Not in SEACATS, still within the 24 hours.
    public var open: [Row] = []
    public var definition = """
        seizures made in [from, to) and by as_of: recorded late = SEACATS entry more than 24 h after the seizure (exactly 24 h 00 m 00 s is on \
        time); overdue open = no SEACATS entry by as_of and as_of more than 24 h after the seizure
        """
}
