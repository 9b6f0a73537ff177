import Archive
import Foundation
import RecordkeeperCore

/// Duties and fees (finding F16: the facility did not target mail owing duties and fees). An
/// officer records the duty or fee an examination found owing (an outcome, once per inspection,
/// counted as a hit with violation `revenue`); R-REV follows the revenue targets from targeting
/// to assessment and totals what was assessed, on revenue targets and in other examinations.
public struct DutyService: Sendable {
    public typealias Store = any CustodyStore & CustodyDutyStore
    let store: Store
    let now: @Sendable () -> Int64

    public init(store: Store, now: @escaping @Sendable () -> Int64 = { Timestamp.nowMillis() }) {
        self.store = store
        self.now = now
    }

    /// ISO 4217 alphabetic codes of currencies in use (funds, metals and test codes left out), so
    /// a mistyped code does not split the sums.
    static let currencies: Set<String> = Set("""
        AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUP \
        CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY \
        KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK \
        NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT \
        TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XOF XPF YER ZAR ZMW ZWL
        """.split(separator: " ").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) })

    /// Currencies whose minor unit is not a hundredth (ISO 4217's exponent): none for these,
    /// a thousandth for those. The rest have two decimals.
    static let noDecimals: Set<String> = ["BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF"]
    static let threeDecimals: Set<String> = ["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"]

    /// How many decimals the currency's minor unit has (ISO 4217).
    public static func decimals(_ currency: String) -> Int { noDecimals.contains(currency) ? 0 : threeDecimals.contains(currency) ? 3 : 2 }

    /// The largest assessment taken, in major units (a typing error of a few zeros is refused, not stored).
    public static let maxAmountMajor: Int64 = 100_000_000

    /// `amount` in the currency's major unit with at most as many decimals as its minor unit has
    /// ("12.50" USD, "1500" JPY, "1.125" KWD); stored in the minor unit.
    public func assess(_ item: String, kind: String, amount: String, currency: String = "USD", entry: String?, actor: String) async throws -> StoredDutyAssessment {
        let k = try DetentionService.vocabulary(kind, StoredDutyAssessment.kinds, "assessment kind")
        let c = currency.trimmingCharacters(in: .whitespaces).uppercased()
        guard Self.currencies.contains(c) else { throw CustodyError(.invalid, "VALUE_UNKNOWN: \(currency) is not an ISO 4217 currency code") }
        let places = Self.decimals(c)
        guard let minor = Self.minorUnits(amount, decimals: places), minor > 0, minor <= Self.maxAmountMajor * Self.scale(places) else {
            throw CustodyError(.invalid, "VALUE_UNKNOWN: amount \(amount) is not a positive sum of \(c) with at most \(places) decimal\(places == 1 ? "" : "s") (up to 100,000,000)")
        }
        var e = entry?.trimmingCharacters(in: .whitespaces)
        if e?.isEmpty == true { e = nil }
        if let e, e.count > 40 || !e.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-/".contains($0)) }) {
            throw CustodyError(.invalid, "VALUE_UNKNOWN: an entry reference is up to 40 letters, digits, '-' or '/'")
        }
        return try await store.assessDuty(DutyDraft(s10: try InspectionService.s10(item), kind: k, amountMinor: minor, currency: c, entryReference: e,
                                                    atMillis: now()), actor: actor)
    }

    static func scale(_ decimals: Int) -> Int64 { [1, 10, 100, 1000][decimals] }

    /// "12.5" with 2 decimals → 1250; nil for anything but digits with an optional point and up
    /// to `decimals` decimals (none at all when the currency has no minor unit).
    static func minorUnits(_ text: String, decimals: Int = 2) -> Int64? {
        let t = text.trimmingCharacters(in: .whitespaces)
        let parts = t.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let whole = parts.first, !whole.isEmpty, whole.count <= 12, whole.allSatisfy({ $0.isASCII && $0.isNumber }), let w = Int64(whole) else {
            return nil
        }
        var fraction: Int64 = 0
        if parts.count == 2 {
            let f = parts[1]
            guard decimals > 0, !f.isEmpty, f.count <= decimals, f.allSatisfy({ $0.isASCII && $0.isNumber }), let v = Int64(f) else { return nil }
            fraction = v * scale(decimals - f.count)
        }
        return w * scale(decimals) + fraction
    }

    /// "USD 12.50", "JPY 1500", "KWD 1.125".
    public static func money(_ minor: Int64, _ currency: String) -> String {
        let places = decimals(currency)
        guard places > 0 else { return "\(currency) \(minor)" }
        let fraction = String(minor % scale(places))
        return "\(currency) \(minor / scale(places)).\(String(repeating: "0", count: places - fraction.count))\(fraction)"
    }

    // MARK: - R-REV

    public struct Report: Sendable, Encodable {
        public struct Rule: Sendable, Encodable {
            public var rule: String
            public var targeted = 0
            public var presented = 0
            public var inspected = 0
            public var assessed = 0
            /// assessed ÷ inspected, percent.
            public var yieldRate: Double?
            /// Sums by currency ("USD 1234.50").
            public var amounts: [String] = []
        }
        public struct Row: Sendable, Encodable {
            public var assessment: Int64
            public var s10: String
            public var assessedAt: String
            public var kind: String
            public var amount: String
            public var entry: String?
            public var revenueTarget: Bool
            public var by: String
        }
        public var asOf: String
        public var rules: [Rule]
        /// Assessed in the period on pieces no revenue rule targeted (found in other examinations).
        public var otherAssessments: Int
        public var otherAmounts: [String]
        public var assessments: [Row]
        public var definition = """
            R-REV: revenue targets = targets targeted in [from, to) under a rule of category revenue; per rule version T, P (received by \
            as_of), I (inspected by as_of), A (with a duty or fee assessed on the piece after it was targeted and by as_of), yield |A|/|I| \
            and the sums assessed by currency. Assessments lists every assessment made in [from, to) (by as_of); those on pieces no revenue \
            rule ever targeted (by as_of) are counted apart, as found in other examinations.
            """
    }

    public func report(from: Int64, to: Int64, asOf: Int64) async throws -> Report {
        guard from < to else { throw CustodyError(.invalid, "the period's start is not before its end") }
        let revenueRules = Set(try await store.targetRules().filter { $0.category == TargetCategory.revenue.rawValue }.map { "\($0.code) v\($0.version)" })
        let targets = try await store.targets(targetedFrom: from, to: to).filter { revenueRules.contains("\($0.ruleCode) v\($0.ruleVersion)") }
        let s10s = Array(Set(targets.map(\.s10))).sorted()
        let received = try await store.firstReceipts(s10s: s10s, asOf: asOf)
        let done = try await store.inspectionsAndHits(s10s: s10s, asOf: asOf)
        let targetedSet = Set(s10s)
        // A target's assessments: on its piece, made after it was targeted and by as_of.
        let since = targets.map(\.targetedAtMillis).min() ?? from
        var byS10: [String: [StoredDutyAssessment]] = [:]
        for a in try await store.dutyAssessments(from: since, to: asOf + 1) where targetedSet.contains(a.s10) { byS10[a.s10, default: []].append(a) }
        func sums(_ list: [StoredDutyAssessment]) -> [String] {
            Dictionary(grouping: list, by: \.currency).sorted { $0.key < $1.key }.map { Self.money($0.value.reduce(0) { $0 + $1.amountMinor }, $0.key) }
        }
        var rules: [String: Report.Rule] = [:]
        var ruleAssessments: [String: [StoredDutyAssessment]] = [:]
        for t in targets {
            let key = "\(t.ruleCode) v\(t.ruleVersion)"
            var r = rules[key] ?? Report.Rule(rule: key)
            r.targeted += 1
            if received[t.s10] != nil {
                r.presented += 1
                if done[t.s10]?.inspectedAtMillis != nil {
                    r.inspected += 1
                    let a = (byS10[t.s10] ?? []).filter { $0.assessedAtMillis >= t.targetedAtMillis }
                    if !a.isEmpty { r.assessed += 1; ruleAssessments[key, default: []] += a }
                }
            }
            rules[key] = r
        }
        let ordered = rules.values.sorted { $0.rule < $1.rule }.map { r -> Report.Rule in
            var r = r
            r.yieldRate = r.inspected == 0 ? nil : (Double(r.assessed) / Double(r.inspected) * 10_000).rounded() / 100
            r.amounts = sums(ruleAssessments[r.rule] ?? [])
            return r
        }
        let inPeriod = try await store.dutyAssessments(from: from, to: min(to, asOf + 1))
        // A piece a revenue rule targeted (in this period or before it) is a revenue target's.
        var revenueTargeted = targetedSet
        for s10 in Set(inPeriod.map(\.s10)).subtracting(targetedSet) {
            if try await store.targets(s10: s10).contains(where: { revenueRules.contains("\($0.ruleCode) v\($0.ruleVersion)") && $0.targetedAtMillis <= asOf }) {
                revenueTargeted.insert(s10)
            }
        }
        let others = inPeriod.filter { !revenueTargeted.contains($0.s10) }
        return Report(asOf: Timestamp.iso(millis: asOf), rules: ordered, otherAssessments: others.count, otherAmounts: sums(others),
                      assessments: inPeriod.map {
                          Report.Row(assessment: $0.id, s10: $0.s10, assessedAt: Timestamp.iso(millis: $0.assessedAtMillis), kind: $0.kind,
                                     amount: Self.money($0.amountMinor, $0.currency), entry: $0.entryReference, revenueTarget: revenueTargeted.contains($0.s10),
                                     by: $0.assessedBy)
                      })
    }
}
