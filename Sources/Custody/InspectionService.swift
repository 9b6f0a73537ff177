import Archive
import Foundation
import RecordkeeperCore

/// Inspections of items in custody, and the reports on how long items wait: custody aging
/// (R-AGE) and arrival-to-inspection latency (R-LAT). Times are the server's (`now`).
public struct InspectionService: Sendable {
    let store: any CustodyStore
    let now: @Sendable () -> Int64

    public init(store: any CustodyStore, now: @escaping @Sendable () -> Int64 = { Timestamp.nowMillis() }) {
        self.store = store
        self.now = now
    }

    public enum Method: String, Sendable, CaseIterable { case xray, canine, manualOpen = "manual_open", fieldAnalyzer = "field_analyzer", lab }
    public enum Result: String, Sendable, CaseIterable {
        case noAnomaly = "no_anomaly", anomaly, alert, presumptivePositive = "presumptive_positive", confirmedPositive = "confirmed_positive", inconclusive
    }

    static func s10(_ text: String) throws -> String {
        switch S10.parse(text) {
        case .success(let v): return v.value
        case .failure(let p): throw CustodyError(.invalid, "\(p.code): \(text.trimmingCharacters(in: .whitespaces)): \(p)")
        }
    }

    /// Free text an inspection keeps (what was found, the substance): at most this many characters.
    public static let maxText = 500

    static func bounded(_ text: String?, _ what: String, max: Int = InspectionService.maxText) throws -> String? {
        guard let t = text?.trimmingCharacters(in: .whitespacesAndNewlines), !t.isEmpty else { return nil }
        guard t.count <= max else { throw CustodyError(.invalid, "VALUE_UNKNOWN: \(what) is longer than \(max) characters") }
        return t
    }

    /// `clientTimestamp`: the station's own time of the step (kept as `client_ts`; the event's
    /// time is the server's); one before the item arrived is refused.
    public func start(_ item: String, method: Method, location: String?, station: String?, clientScanID: String?, clientTimestamp: Int64? = nil,
                      actor: String) async throws -> StoredCustodyEvent {
        // An inspection happens where items are examined or held, never "in" seized property, a
        // lab or the return dock (the balance would read it as a move there).
        if let location, let kind = try await store.locations().first(where: { $0.code == location })?.kind,
           ["seized_property", "lab", "return_dock"].contains(kind) {
            throw CustodyError(.invalid, "WRONG_LOCATION_KIND: an inspection is not recorded at \(location) (\(kind)); a lab analysis is a lab hand-off")
        }
        return try await store.startInspection(InspectionStart(s10: try Self.s10(item), method: method.rawValue, location: location,
                                                               station: try ScanService.station(station), clientScanID: try ScanService.scanID(clientScanID),
                                                               atMillis: now(), clientTimestampMillis: clientTimestamp), actor: actor)
    }

    /// Ends the item's open inspection. What was found is required unless the result is no anomaly.
    public func end(_ item: String, result: Result, found: String?, substance: String?, equipment: String?, station: String?, clientScanID: String?,
                    clientTimestamp: Int64? = nil, actor: String) async throws -> StoredInspection {
        let found = try Self.bounded(found, "what was found")
        guard result == .noAnomaly || found != nil else {
            throw CustodyError(.invalid, "REQUIRED_MISSING: say what was found (the result is \(result.rawValue))")
        }
        return try await store.endInspection(InspectionEnd(s10: try Self.s10(item), result: result.rawValue, equipment: try Self.bounded(equipment, "equipment", max: 64),
                                                           substance: try Self.bounded(substance, "the substance", max: 200), actualDescription: found,
                                                           station: try ScanService.station(station), clientScanID: try ScanService.scanID(clientScanID),
                                                           atMillis: now(), clientTimestampMillis: clientTimestamp),
                                             actor: actor)
    }

    /// R-AGE: items received in [from, to), still in custody as of `asOf`, held longer than
    /// `hours` (a location's own longest dwell, when it has one, overrides), oldest first.
    /// `throughOpenItems`: find the items through those still in custody at `asOf` (the alerts,
    /// which look back a year at the present moment) instead of through the period's arrivals.
    public func aging(from: Int64, to: Int64, asOf: Int64, hours: Int = 72, throughOpenItems: Bool = false) async throws -> AgingReport {
        guard from < to, (1...87_600).contains(hours) else {
            throw CustodyError(.invalid, "the period's start is not before its end, or the hours are not 1 to 87,600 (ten years)")
        }
        let locations = try await store.locations()
        let dwell = Dictionary(locations.compactMap { l in l.maxDwellHours.map { (l.code, $0) } }, uniquingKeysWith: { a, _ in a })
        // Seized property holds evidence for as long as its case runs (its clock is the SEACATS
        // entry and the forfeiture, not R-AGE): aged only where the vault has a longest dwell of its own.
        let evidence = Set(locations.filter { $0.kind == "seized_property" && $0.maxDwellHours == nil }.map(\.code))
        let spells = throughOpenItems ? try await store.openCustodySpells(receivedFrom: from, asOf: asOf).filter { $0.receivedAtMillis < to }
            : try await store.custodySpells(receivedFrom: from, to: to, asOf: asOf)
        var report = AgingReport(asOf: Timestamp.iso(millis: asOf), hours: hours, inCustody: spells.count)
        for s in spells {
            if let l = s.location, evidence.contains(l) {
                report.heldAsEvidence += 1
                continue
            }
            let limit = Int64(s.location.flatMap { dwell[$0] } ?? hours) * 3_600_000
            let held = asOf - s.receivedAtMillis
            if held > limit {
                report.items.append(.init(s10: s.s10, receivedAt: Timestamp.iso(millis: s.receivedAtMillis), location: s.location,
                                          heldHours: Double(held) / 3_600_000, inspected: s.firstInspectionEndMillis != nil))
            }
        }
        report.items.sort { $0.receivedAt < $1.receivedAt }
        return report
    }

    /// R-LAT: for items received in [from, to) and inspected by `asOf`, the time from arrival to
    /// the end of the first inspection.
    public func latency(from: Int64, to: Int64, asOf: Int64) async throws -> LatencyReport {
        guard from < to else { throw CustodyError(.invalid, "the period's start is not before its end") }
        let spells = try await store.custodySpells(receivedFrom: from, to: to, asOf: asOf)
        let waits = spells.compactMap { s in s.firstInspectionEndMillis.map { $0 - s.receivedAtMillis } }.sorted()
        var report = LatencyReport(asOf: Timestamp.iso(millis: asOf), received: spells.count, inspected: waits.count)
        guard !waits.isEmpty else { return report }
        let days = waits.map { Double($0) / 86_400_000 }
        report.meanDays = days.reduce(0, +) / Double(days.count)
        report.medianDays = days.count % 2 == 1 ? days[days.count / 2] : (days[days.count / 2 - 1] + days[days.count / 2]) / 2
        report.p90Days = days[min(days.count - 1, Int((Double(days.count) * 0.9).rounded(.up)) - 1)]
        report.maxDays = days.last
        return report
    }
}

public struct AgingReport: Sendable, Encodable {
    public struct Item: Sendable, Encodable {
        public var s10: String
        public var receivedAt: String
        public var location: String?
        public var heldHours: Double
        public var inspected: Bool
    }
    public var asOf: String
    public var hours: Int
    public var inCustody: Int
    /// Of those, in seized property with no longest dwell of its own: held as evidence, not aged.
    public var heldAsEvidence = 0
    public var items: [Item] = []
    public var definition = "items received in [from, to), still in custody as of as_of, held longer than the hours (or their location's longest dwell); "
        + "items in seized property are aged only where it has a longest dwell of its own (held_as_evidence counts the others)"
}

public struct LatencyReport: Sendable, Encodable {
    public var asOf: String
    public var received: Int
    public var inspected: Int
    public var meanDays: Double?
    public var medianDays: Double?
    public var p90Days: Double?
    public var maxDays: Double?
    public var definition = "for items received in [from, to): the end of the first inspection at or before as_of minus the receipt, in days"
}
