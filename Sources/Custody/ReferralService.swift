import Archive
import Foundation
import RecordkeeperCore

/// Referrals to other agencies (F7, CUSTODY.md §2 `referral`, R-REF): the facility used to alert
/// FDA, USDA and the others by hand and could not say which referrals were still waiting. An
/// officer refers an inspected item; the agency's answer, its collection of the item (which ends
/// the custody episode with a TO_AGENCY event) or its refusal are recorded once each; R-REF lists
/// the open ones by agency and age and how long collections took; an alert names a referral the
/// agency has not answered after a few days.
public struct ReferralService: Sendable {
    public typealias Store = any CustodyStore & CustodyReferralStore
    let store: Store
    let now: @Sendable () -> Int64

    public init(store: Store, now: @escaping @Sendable () -> Int64 = { Timestamp.nowMillis() }) {
        self.store = store
        self.now = now
    }

    /// Days an agency has to answer before the referral is an alert.
    public static let answerDays = 3

    public func refer(_ item: String, agency: String, method: String, violation: String?, actor: String) async throws -> StoredReferral {
        guard let a = StoredReferral.agencies.first(where: { $0.lowercased() == agency.trimmingCharacters(in: .whitespaces).lowercased() }) else {
            throw CustodyError(.invalid, "VALUE_UNKNOWN: agency \(agency) is not one of \(StoredReferral.agencies.joined(separator: ", "))")
        }
        let m = try DetentionService.vocabulary(method, StoredReferral.methods, "notification method")
        var v: String?
        if let violation, !violation.trimmingCharacters(in: .whitespaces).isEmpty {
            v = try DetentionService.vocabulary(violation, SeizureService.Violation.allCases.map(\.rawValue), "violation type")
        }
        return try await store.refer(ReferralDraft(s10: try InspectionService.s10(item), agency: a, method: m, violationType: v, atMillis: now()), actor: actor)
    }

    /// The agency answered (it will collect, or it is looking into it).
    public func recordResponse(_ referralID: Int64, note: String?, actor: String) async throws -> StoredReferral {
        try await store.recordReferralStep(referralID: referralID, step: "response", note: note, witness: nil, atMillis: now(), actor: actor)
    }

    /// The agency took the item. `directory`, when given, makes the witness a registered user.
    public func recordCollection(_ referralID: Int64, witness: String?, actor: String, directory: (any ArchiveStore)? = nil) async throws -> StoredReferral {
        if let directory, let w = witness?.trimmingCharacters(in: .whitespaces), !w.isEmpty, try await directory.user(name: w) == nil {
            throw CustodyError(.invalid, "WITNESS_REQUIRED: the witness \(w) is not a registered user")
        }
        return try await store.recordReferralStep(referralID: referralID, step: "collected", note: nil, witness: witness, atMillis: now(), actor: actor)
    }

    /// The agency declined it, with its reason.
    public func recordDecline(_ referralID: Int64, reason: String, actor: String) async throws -> StoredReferral {
        try await store.recordReferralStep(referralID: referralID, step: "declined", note: reason, witness: nil, atMillis: now(), actor: actor)
    }

    // MARK: - R-REF

    public struct Report: Sendable, Encodable {
        public struct Row: Sendable, Encodable {
            public var referral: Int64
            public var s10: String
            public var agency: String
            public var notifiedAt: String
            public var ageHours: Double
            public var answered: Bool
        }
        public struct Agency: Sendable, Encodable {
            public var agency: String
            public var referred: Int
            public var open: Int
            public var collected: Int
            public var declined: Int
            /// Notified to collected, in hours, over the collections in the period.
            public var meanHoursToCollect: Double?
            public var medianHoursToCollect: Double?
        }
        public var asOf: String
        public var agencies: [Agency]
        /// Open at `as_of`, oldest first.
        public var open: [Row]
        public var definition = """
            R-REF over referrals notified in [from, to) or still open at to: open = neither collected nor declined by as_of, with their age \
            (as_of - notified_at), oldest first; per agency the referred, open, collected and declined counts and the time from notification \
            to collection (mean, median) of those collected by as_of.
            """
    }

    public static func report(_ store: any CustodyReferralStore, from: Int64, to: Int64, asOf: Int64) async throws -> Report {
        let all = try await store.referrals(from: from, to: to).filter { $0.notifiedAtMillis <= asOf }
        func closed(_ r: StoredReferral) -> Bool { (r.closedAtMillis.map { $0 <= asOf }) ?? false }
        let open = all.filter { !closed($0) }.sorted { $0.notifiedAtMillis < $1.notifiedAtMillis }
        var agencies: [Report.Agency] = []
        for agency in StoredReferral.agencies {
            let rs = all.filter { $0.agency == agency }
            guard !rs.isEmpty else { continue }
            let times = rs.compactMap { r in r.collectedAtMillis.flatMap { $0 <= asOf ? Double($0 - r.notifiedAtMillis) / 3_600_000 : nil } }.sorted()
            let median: Double? = times.isEmpty ? nil : times.count % 2 == 1 ? times[times.count / 2] : (times[times.count / 2 - 1] + times[times.count / 2]) / 2
            agencies.append(Report.Agency(agency: agency, referred: rs.count, open: rs.filter { !closed($0) }.count,
                                          collected: rs.filter { ($0.collectedAtMillis.map { $0 <= asOf }) ?? false }.count,
                                          declined: rs.filter { ($0.declinedAtMillis.map { $0 <= asOf }) ?? false }.count,
                                          meanHoursToCollect: times.isEmpty ? nil : times.reduce(0, +) / Double(times.count), medianHoursToCollect: median))
        }
        return Report(asOf: Timestamp.iso(millis: asOf), agencies: agencies, open: open.map { r in
            Report.Row(referral: r.id, s10: r.s10, agency: r.agency, notifiedAt: Timestamp.iso(millis: r.notifiedAtMillis),
                       ageHours: Double(asOf - r.notifiedAtMillis) / 3_600_000, answered: (r.respondedAtMillis.map { $0 <= asOf }) ?? false)
        })
    }
}
