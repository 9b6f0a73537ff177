import Archive
import Foundation
import RecordkeeperCore

/// What customs decided about each piece, for the carrier (CUSTODY.md §4.2 and §8
/// `export/cusrsp`): the role of the UPU–WCO CUSRSP message, customs' answer to the post — hold
/// this piece, it is released, it was seized, detained or handed to another agency, this duty is
/// owed. The OIG found the carrier and CBP could not say what had been asked for and given back
/// (F1, F2, F14); the post's own audit (MS-AR-19-002) traced missed holds to missing hold alerts.
///
/// The content is CUSRSP's (the item's S10 identifier, the decision, its time, the duty owed), one
/// row per decision, as CSV or JSON. The M44 wire layout and its decision codes are UPU and WCO
/// controlled documents that were not available to build against, so a site's EDI gateway maps
/// these named decisions onto its M44 codes (docs/custody/carrier.md).
public struct DecisionService: Sendable {
    public typealias Store = any CustodyStore & CustodyPrivacyStore & CustodyReferralStore & CustodyDutyStore
    let store: Store

    public init(store: Store) { self.store = store }

    /// The decisions, by name, in the order a piece meets them.
    public enum Decision: String, Sendable, Encodable, CaseIterable {
        /// A target: present the piece to customs (at the time the hold was requested, else targeted).
        case holdRequested = "hold_requested"
        /// Referred to another agency for its own examination (the piece stays in customs' custody).
        case referred
        /// Detained pending a notice to the addressee (the piece stays until it is disposed of).
        case detained
        /// Seized: the piece will not come back.
        case seized
        /// A duty or fee is owed on the piece.
        case dutyAssessed = "duty_assessed"
        /// Handed back to the carrier (inspected, or released by a supervisor uninspected, or never
        /// targeted).
        case released
        /// Collected by another agency: the piece left customs' custody, not to the carrier.
        case handedToAgency = "handed_to_agency"
        /// Abandoned and destroyed, witnessed.
        case destroyed
    }

    public struct Row: Sendable, Encodable, Equatable {
        public var s10: String
        public var decision: Decision
        public var decidedAt: String
        /// The carrier a piece was released to, or the agency it was referred or handed to.
        public var party: String?
        /// For a duty or fee: the sum in the currency's major unit, the currency, and the entry it was
        /// assessed under.
        public var kind: String?
        public var amount: String?
        public var currency: String?
        public var entry: String?
        var atMillis: Int64
        enum CodingKeys: String, CodingKey { case s10, decision, decidedAt, party, kind, amount, currency, entry }
    }

    public struct Report: Sendable, Encodable {
        public var from: String
        public var to: String
        public var asOf: String
        /// In time order (ties by identifier, then by the order of `Decision`).
        public var decisions: [Row]
        /// How many of each decision, by name.
        public var counts: [String: Int]
        public var definition = """
            One row per decision made in [from, to) and recorded by as_of: hold_requested = each piece targeted in the period (once, however \
            many rules targeted it), at the time the hold was requested or else the time it was targeted; referred = a referral notified; \
            detained = a detention; seized = a seizure, at its time as corrected; duty_assessed = a duty or fee assessed (kind, amount in \
            the currency's major unit, currency, entry); released = a RETURNED_TO_CARRIER event (party = the carrier); handed_to_agency = a \
            TO_AGENCY event (party = the agency); destroyed = a DESTROYED event. Sorted by time, then identifier, then decision. Neither the \
            targeting rule nor the violation is given: the carrier needs to know what to do with the piece, not why.
            """
    }

    /// The decisions of [from, to) recorded by `asOf`; at most 31 days at a time (a carrier's feed is daily).
    public func report(from: Int64, to: Int64, asOf: Int64) async throws -> Report {
        guard from < to else { throw CustodyError(.invalid, "DATE_ORDER: the period's start is not before its end") }
        guard to - from <= 31 * 86_400_000 else { throw CustodyError(.invalid, "VALUE_UNKNOWN: the carrier's decisions cover at most 31 days at a time") }
        var rows: [Row] = []
        func add(_ s10: String, _ d: Decision, _ at: Int64, party: String? = nil) {
            rows.append(Row(s10: s10, decision: d, decidedAt: Timestamp.iso(millis: at), party: party, atMillis: at))
        }
        var holds: [String: Int64] = [:]
        for t in try await store.targets(targetedFrom: from, to: to) {
            let at = t.holdRequestedAtMillis ?? t.targetedAtMillis
            holds[t.s10] = min(holds[t.s10] ?? at, at)
        }
        for (s10, at) in holds { add(s10, .holdRequested, at) }
        for r in try await store.referrals(from: from, to: to) where r.notifiedAtMillis >= from && r.notifiedAtMillis < to {
            add(r.s10, .referred, r.notifiedAtMillis, party: r.agency)
        }
        for d in try await store.detentions(from: from, to: to) where d.detainedAtMillis >= from && d.detainedAtMillis < to {
            add(d.s10, .detained, d.detainedAtMillis)
        }
        for z in try await store.seizures(seizedFrom: from, to: to) { add(z.s10, .seized, z.seizedAtMillis) }
        for a in try await store.dutyAssessments(from: from, to: to) {
            let money = DutyService.money(a.amountMinor, a.currency) // "USD 12.50"
            rows.append(Row(s10: a.s10, decision: .dutyAssessed, decidedAt: Timestamp.iso(millis: a.assessedAtMillis), kind: a.kind,
                            amount: String(money.dropFirst(a.currency.count + 1)), currency: a.currency, entry: a.entryReference, atMillis: a.assessedAtMillis))
        }
        for e in try await store.custodyEvents(from: from, to: to, types: ["RETURNED_TO_CARRIER", "TO_AGENCY", "DESTROYED"]) {
            switch e.type {
            case "RETURNED_TO_CARRIER": add(e.s10, .released, e.atMillis, party: Self.value("carrier", in: e.detail))
            case "TO_AGENCY": add(e.s10, .handedToAgency, e.atMillis, party: Self.value("agency", in: e.detail))
            default: add(e.s10, .destroyed, e.atMillis)
            }
        }
        let order = Dictionary(uniqueKeysWithValues: Decision.allCases.enumerated().map { ($1, $0) })
        rows = rows.filter { $0.atMillis <= asOf }
        rows.sort { ($0.atMillis, $0.s10, order[$0.decision]!) < ($1.atMillis, $1.s10, order[$1.decision]!) }
        return Report(from: Timestamp.iso(millis: from), to: Timestamp.iso(millis: to), asOf: Timestamp.iso(millis: asOf), decisions: rows,
                      counts: Dictionary(rows.map { ($0.decision.rawValue, 1) }, uniquingKeysWith: +))
    }

    /// `key=value` out of an event's detail: the value runs to the next ` name=` or the end (a
    /// carrier is written as scanned, spaces and all: `carrier=USPS 4471 return_batch=3`).
    static func value(_ key: String, in detail: String?) -> String? {
        guard let detail else { return nil }
        let padded = " " + detail
        guard let r = padded.range(of: " \(key)=") else { return nil }
        let rest = padded[r.upperBound...]
        return String(rest[..<(rest.firstMatch(of: /\ [a-z_]+=/)?.range.lowerBound ?? rest.endIndex)])
    }
}

extension DecisionService.Report {
    public static let csvHeaders = ["s10", "decision", "decided_at", "party", "kind", "amount", "currency", "entry"]

    /// The report's rows, and the carrier's file made of them (RFC 4180, CRLF line ends).
    public var tableRows: [[String]] {
        decisions.map { [$0.s10, $0.decision.rawValue, $0.decidedAt, $0.party ?? "", $0.kind ?? "", $0.amount ?? "", $0.currency ?? "", $0.entry ?? ""] }
    }

    public var csv: String { ReportTable(title: "", figures: [], headers: Self.csvHeaders, rows: tableRows, definition: "").csv }
}
