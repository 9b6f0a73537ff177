import Archive
import Foundation
import RecordkeeperCore

/// Items handed over by the carrier, and the first reconciliation: what was asked for and not
/// presented (CUSTODY.md §3, R-NP). Times are the server's (`now`), never the station's.
public struct ReceiptService: Sendable {
    let store: any CustodyStore
    let now: @Sendable () -> Int64

    public init(store: any CustodyStore, now: @escaping @Sendable () -> Int64 = { Timestamp.nowMillis() }) {
        self.store = store
        self.now = now
    }

    public enum LocationKind: String, Sendable, CaseIterable {
        case receiving, holding, examStation = "exam_station", enforcementCage = "enforcement_cage", registeredCage = "registered_cage"
        case seizedProperty = "seized_property", lab, returnDock = "return_dock"
    }

    public func addLocation(code: String, name: String, kind: LocationKind, secured: Bool, alarmed: Bool, cctvCovered: Bool, maxDwellHours: Int?,
                            actor: String) async throws -> Bool {
        guard !code.isEmpty, code.count <= 64, code.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }) else {
            throw CustodyError(.invalid, "a location code is letters, digits, '-', '_' or '.' (at most 64): \(code)")
        }
        if let h = maxDwellHours, h <= 0 { throw CustodyError(.invalid, "the longest dwell is a positive number of hours") }
        return try await store.saveLocation(StoredLocation(code: code, name: name, kind: kind.rawValue, secured: secured, alarmed: alarmed,
                                                           cctvCovered: cctvCovered, maxDwellHours: maxDwellHours), actor: actor)
    }

    /// A receipt scan: the item enters custody at `location`. A retry with the same
    /// `clientScanID` records nothing new; an item already in custody is answered with where.
    /// (One scan through `ScanService`, the path every scan takes.)
    public func receive(_ text: String, location: String, station: String?, clientScanID: String?, clientTimestampMillis: Int64? = nil,
                        manualEntry: Bool, actor: String) async throws -> ReceiptOutcome {
        let request = ScanService.Request(text: text, action: .receive(location: location, presentation: nil), station: station, clientScanID: clientScanID,
                                          clientTimestampMillis: clientTimestampMillis, manualEntry: manualEntry)
        switch try await ScanService(store: store, now: now).record(request, actor: actor) {
        case .recorded(let e): return .received(e)
        case .repeated(let e): return .repeated(e)
        case .alreadyInCustody(let e): return .alreadyInCustody(e)
        case .refused(let r): throw r.archiveError // `record` throws refusals; kept for the switch
        }
    }

    /// Hands an item back to the carrier, closing its custody episode. An item targeted and never
    /// inspected goes back only with a supervisor (not the actor) and a reason: returning it
    /// uninspected is an explicit, counted act (R-NI), never a silent default.
    public func returnToCarrier(_ text: String, carrier: String, station: String?, supervisor: String?, reason: String?,
                                actor: String) async throws -> StoredCustodyEvent {
        let request = ScanService.Request(text: text, action: .returnToCarrier(carrier: carrier, supervisor: supervisor, reason: reason), station: station)
        return try await ScanService(store: store, now: now).record(request, actor: actor).event!
    }

    public func events(_ text: String) async throws -> [StoredCustodyEvent] {
        guard case .success(let s10) = S10.parse(text) else { return try await store.custodyEvents(s10: text) }
        return try await store.custodyEvents(s10: s10.value)
    }

    /// R-NP over targets targeted in [from, to), as of `asOf`.
    public func notPresented(from: Int64, to: Int64, asOf: Int64, graceHours: Int = 48) async throws -> NotPresentedReport {
        guard from < to else { throw CustodyError(.invalid, "the period's start is not before its end") }
        guard (0...87_600).contains(graceHours) else { throw CustodyError(.invalid, "VALUE_UNKNOWN: the grace is 0 to 87,600 hours (ten years)") }
        let targets = try await store.targets(targetedFrom: from, to: to)
        let receipts = try await store.firstReceipts(s10s: Array(Set(targets.map(\.s10))).sorted(), asOf: asOf)
        let grace = Int64(graceHours) * 3_600_000
        var report = NotPresentedReport(from: from, to: to, asOf: asOf, graceHours: graceHours, targets: targets.count)
        for t in targets {
            let due = t.expectedArrivalAtMillis.map { $0 + grace }
            if let received = receipts[t.s10] {
                report.presented += 1
                if let due, received > due { report.presentedLate.append(.init(target: t, dueAtMillis: due, receivedAtMillis: received)) }
            } else if let due, due <= asOf {
                report.notPresented.append(.init(target: t, dueAtMillis: due, receivedAtMillis: nil))
            } else if due != nil {
                report.pending.append(.init(target: t, dueAtMillis: due!, receivedAtMillis: nil))
            } else {
                report.noExpectedArrival.append(t)
            }
        }
        return report
    }
}

/// Targets not presented (R-NP): T − P, for targets whose expected arrival plus the grace has
/// passed; the ones still within the grace are pending; late presentations are listed with how
/// late they were.
extension NotPresentedReport {
    /// The re-request file for the carrier (CUSTODY.md §3 R-NP, §8 `export/renotify.csv`): one row
    /// per target not presented once its grace passed, RFC 4180 with CRLF line ends.
    public var renotifyCSV: String {
        var lines = ["s10,rule,targeted_at,expected_arrival_at,due_at"]
        for r in notPresented { lines.append([r.s10, r.rule, r.targetedAt, r.expectedArrivalAt ?? "", r.dueAt].joined(separator: ",")) }
        return lines.joined(separator: "\r\n") + "\r\n"
    }
}

public struct NotPresentedReport: Sendable, Encodable {
    public struct Row: Sendable, Encodable {
        public var s10: String
        public var rule: String
        public var targetedAt: String
        public var expectedArrivalAt: String?
        public var dueAt: String
        public var receivedAt: String?
        /// For a late presentation: how long after the due time.
        public var lateBySeconds: Int64?

        init(target t: StoredTarget, dueAtMillis: Int64, receivedAtMillis: Int64?) {
            s10 = t.s10
            rule = "\(t.ruleCode) v\(t.ruleVersion)"
            targetedAt = Timestamp.iso(millis: t.targetedAtMillis)
            expectedArrivalAt = t.expectedArrivalAtMillis.map { Timestamp.iso(millis: $0) }
            dueAt = Timestamp.iso(millis: dueAtMillis)
            receivedAt = receivedAtMillis.map { Timestamp.iso(millis: $0) }
            lateBySeconds = receivedAtMillis.map { ($0 - dueAtMillis) / 1_000 }
        }
    }

    public var from: String
    public var to: String
    public var asOf: String
    public var graceHours: Int
    public var targets: Int
    public var presented = 0
    public var notPresented: [Row] = []
    public var pending: [Row] = []
    public var presentedLate: [Row] = []
    public var noExpectedArrival: [StoredTarget] = []
    /// The definition, so an auditor can reproduce the figure.
    public var definition: String { Self.definitionText }
    public static let definitionText = """
        T = targets with targeted_at in [from, to); P = T with a RECEIVED event at or before as_of. Not presented = T − P with \
        expected_arrival_at + grace ≤ as_of; pending = T − P with expected_arrival_at + grace > as_of. Late = P received after \
        expected_arrival_at + grace.
        """

    enum CodingKeys: String, CodingKey {
        case from, to, asOf, graceHours, targets, presented, notPresented, pending, presentedLate, noExpectedArrival, definition
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(from, forKey: .from)
        try c.encode(to, forKey: .to)
        try c.encode(asOf, forKey: .asOf)
        try c.encode(graceHours, forKey: .graceHours)
        try c.encode(targets, forKey: .targets)
        try c.encode(presented, forKey: .presented)
        try c.encode(notPresented, forKey: .notPresented)
        try c.encode(pending, forKey: .pending)
        try c.encode(presentedLate, forKey: .presentedLate)
        try c.encode(noExpectedArrival, forKey: .noExpectedArrival)
        try c.encode(definition, forKey: .definition)
    }

    init(from: Int64, to: Int64, asOf: Int64, graceHours: Int, targets: Int) {
        self.from = Timestamp.iso(millis: from)
        self.to = Timestamp.iso(millis: to)
        self.asOf = Timestamp.iso(millis: asOf)
        self.graceHours = graceHours
        self.targets = targets
    }
}
