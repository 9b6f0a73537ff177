import Archive
import Foundation
import RecordkeeperCore

/// What was asked for against what was done with it (CUSTODY.md §3): targeting effectiveness per
/// rule version (R-EFF) and targets presented but not inspected (R-NI), over targets targeted in
/// [from, to), as of `asOf`. Sets: T = the targets; P = T with a receipt by as_of; I = P with an
/// inspection ended by as_of; H = I with a seizure by as_of.
public struct ReconciliationService: Sendable {
    let store: any CustodyStore

    public init(store: any CustodyStore) { self.store = store }

    struct Sets {
        var targets: [StoredTarget]
        var received: [String: Int64]
        var done: [String: InspectionAndHit]
    }

    func sets(from: Int64, to: Int64, asOf: Int64) async throws -> Sets {
        guard from < to else { throw CustodyError(.invalid, "the period's start is not before its end") }
        let targets = try await store.targets(targetedFrom: from, to: to)
        let s10s = Array(Set(targets.map(\.s10))).sorted()
        return Sets(targets: targets, received: try await store.firstReceipts(s10s: s10s, asOf: asOf),
                    done: try await store.inspectionsAndHits(s10s: s10s, asOf: asOf))
    }

    /// Counted by the store in one read (`EffectivenessCount`): the work grows with the targets
    /// in the period, not with the archive's events, so the OIG's nine-month window is one query.
    public func effectiveness(from: Int64, to: Int64, asOf: Int64) async throws -> EffectivenessReport {
        guard from < to else { throw CustodyError(.invalid, "the period's start is not before its end") }
        var byRule: [String: EffectivenessReport.Row] = [:]
        var total = EffectivenessReport.Row(rule: "all")
        for c in try await store.effectivenessCounts(targetedFrom: from, to: to, asOf: asOf) {
            let key = "\(c.ruleCode) v\(c.ruleVersion)"
            let inspected = c.presented && c.inspected
            let hit = inspected ? c.violation : nil
            var row = byRule[key] ?? EffectivenessReport.Row(rule: key)
            row.add(c.targets, presented: c.presented, inspected: inspected, hit: hit)
            total.add(c.targets, presented: c.presented, inspected: inspected, hit: hit)
            byRule[key] = row
        }
        return EffectivenessReport(asOf: Timestamp.iso(millis: asOf), rules: byRule.values.sorted { $0.rule < $1.rule }.map { $0.withRates() },
                                   total: total.withRates())
    }

    public func notInspected(from: Int64, to: Int64, asOf: Int64) async throws -> NotInspectedReport {
        let s = try await sets(from: from, to: to, asOf: asOf)
        var report = NotInspectedReport(asOf: Timestamp.iso(millis: asOf))
        let returned = try await store.returnsUninspected(s10s: Array(Set(s.targets.map(\.s10))).sorted(), asOf: asOf)
        var seen = Set<String>()
        for t in s.targets where seen.insert(t.s10).inserted {
            guard let received = s.received[t.s10], s.done[t.s10]?.inspectedAtMillis == nil else { continue }
            var row = NotInspectedReport.Row(s10: t.s10, rule: "\(t.ruleCode) v\(t.ruleVersion)", receivedAt: Timestamp.iso(millis: received))
            if let r = returned[t.s10] {
                row.returnedAt = Timestamp.iso(millis: r.atMillis)
                row.returnDetail = r.detail
                report.returnedUninspected.append(row)
            } else {
                report.inCustody.append(row)
            }
        }
        return report
    }
}

public struct EffectivenessReport: Sendable, Encodable {
    public struct Row: Sendable, Encodable {
        public var rule: String
        public var targeted = 0
        public var presented = 0
        public var inspected = 0
        public var hits = 0
        public var hitsByViolation: [String: Int] = [:]
        /// presented ÷ targeted, inspected ÷ presented, hits ÷ inspected (the OIG's detection rate), in percent.
        public var presentationRate: Double?
        public var inspectionRate: Double?
        public var hitRate: Double?

        init(rule: String) { self.rule = rule }

        mutating func add(_ n: Int, presented: Bool, inspected: Bool, hit: String?) {
            targeted += n
            if presented { self.presented += n }
            if inspected { self.inspected += n }
            if let hit { hits += n; hitsByViolation[hit, default: 0] += n }
        }

        func withRates() -> Row {
            var r = self
            func pct(_ a: Int, _ b: Int) -> Double? { b == 0 ? nil : (Double(a) / Double(b) * 10_000).rounded() / 100 }
            r.presentationRate = pct(presented, targeted)
            r.inspectionRate = pct(inspected, presented)
            r.hitRate = pct(hits, inspected)
            return r
        }
    }
    public var asOf: String
    public var rules: [Row]
    public var total: Row
    public var definition = """
        T = targets targeted in [from, to); P = T with a receipt by as_of; I = P with an inspection ended by as_of; H = I with a seizure by as_of. \
        Rates in percent, rounded to two places: presentation |P|/|T|, inspection |I|/|P|, hit |H|/|I|.
        """
}

public struct NotInspectedReport: Sendable, Encodable {
    public struct Row: Sendable, Encodable {
        public var s10: String
        public var rule: String
        public var receivedAt: String
        public var returnedAt: String?
        /// The return's supervisor, carrier and reason.
        public var returnDetail: String?
    }
    public var asOf: String
    /// Presented, not inspected, still in custody.
    public var inCustody: [Row] = []
    /// Presented and handed back to the carrier without an inspection, each with its supervisor
    /// and reason.
    public var returnedUninspected: [Row] = []
    public var definition = "P − I: targets received by as_of with no inspection ended by as_of, split into still in custody and returned uninspected"
}
