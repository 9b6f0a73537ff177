import Foundation

/// The acceptance scenarios of CUSTODY.md §6 as files in the real formats, generated the same
/// way for the same seed (`recordkeeper custody fixture --scenario AT2 --seed 1`).
public enum CustodyFixtures {
    public enum Scenario: String, CaseIterable, Sendable {
        /// Headline reconciliation: the target list (1,000 targets, two rules, all expected by
        /// 2019-06-20); the presentations, inspections and seizures are scans.
        case at1 = "AT1"
        /// Data-entry controls: a 20-row target list with the OIG's defect classes.
        case at2 = "AT2"
    }

    /// The rules a scenario's files name (register them before importing).
    public static func rules(for scenario: Scenario) -> [TargetRule] {
        switch scenario {
        case .at1, .at2:
            [TargetRule(code: "NARC-01", version: 1, category: .narcotics, source: "ATS", description: "Narcotics indicators in advance data"),
             TargetRule(code: "COI-CN-01", version: 1, category: .coiBulk, source: "COI list", description: "Country-of-interest parcels, CN")]
        }
    }

    /// Writes the scenario's files into `directory`; returns their URLs.
    public static func write(_ scenario: Scenario, seed: UInt64, to directory: URL) throws -> [URL] {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        switch scenario {
        case .at1:
            let url = directory.appendingPathComponent("AT1-targets.csv")
            try at1Targets(seed: seed).write(to: url, atomically: true, encoding: .utf8)
            return [url]
        case .at2:
            let url = directory.appendingPathComponent("AT2-targets.csv")
            try at2Targets(seed: seed).write(to: url, atomically: true, encoding: .utf8)
            return [url]
        }
    }

    /// AT1's target list: 500 targets of NARC-01 v1 then 500 of COI-CN-01 v1, targeted 17–19 June
    /// 2019 and expected at 2019-06-19 12:00 (due with the 48-hour grace by 21 June). The S10
    /// serials are distinct and deterministic by seed.
    public static func at1Targets(seed: UInt64) -> String {
        var rng = SplitMix(seed: seed)
        let base = 10_000_000 + Int(rng.next() % 80_000_000)
        var rows = [TargetImport.columns.joined(separator: ",")]
        for i in 0..<1000 {
            let serial = String(base + i * 7)
            let s10 = "EE" + serial + String(S10.checkDigit(serial: serial.map { Int(String($0))! })) + (i < 500 ? "US" : "CN")
            let narcotics = i < 500
            rows.append([s10, narcotics ? "NARC-01" : "COI-CN-01", "1", narcotics ? "narcotics" : "coi_bulk",
                         String(format: "2019-06-%02dT%02d:%02d:00Z", 17 + i % 3, 6 + i % 12, i % 60), narcotics ? "ATS" : "COI list",
                         "2019-06-19T12:00:00Z", "1", narcotics ? "US" : "CN", "parcel", "Declared goods", ""].joined(separator: ","))
        }
        return rows.joined(separator: "\r\n") + "\r\n"
    }

    /// AT2: 14 valid rows; a wrong check digit (`EB000717594HK`); a reserved service indicator
    /// (`JA000717595HK`); a row without its rule; the date `2019-06-31`; the date `next Tuesday`;
    /// an exact copy of the first row. Expected dry run: 14 accepted; rejected `S10_CHECK`,
    /// `S10_FORMAT`, `REQUIRED_MISSING`, `DATE_INVALID` ×2; 1 merged duplicate.
    public static func at2Targets(seed: UInt64) -> String {
        var rng = SplitMix(seed: seed)
        var rows: [[String]] = []
        let origins = ["CN", "HK", "GB", "FR", "MX", "IN", "CA"]
        let classes = ["parcel", "ems", "registered", "letter_post"]
        var used = Set<String>()
        for i in 0..<14 {
            var s10: String
            repeat {
                let serial = (0..<8).map { _ in Int(rng.next() % 10) }
                let indicator = ["EE", "RR", "LX", "CP", "EB"][Int(rng.next() % 5)]
                s10 = indicator + serial.map(String.init).joined() + String(S10.checkDigit(serial: serial)) + origins[Int(rng.next() % UInt64(origins.count))]
            } while !used.insert(s10).inserted
            let narcotics = i % 2 == 0
            let day = 17 + i % 3
            rows.append([s10, narcotics ? "NARC-01" : "COI-CN-01", "1", narcotics ? "narcotics" : "coi_bulk",
                         String(format: "2019-06-%02dT%02d:%02d:00Z", day, 8 + i % 9, Int(rng.next() % 60)), narcotics ? "ATS" : "COI list",
                         String(format: "2019-06-%02dT12:00:00Z", day + 1), String(1 + i % 3), String(s10.suffix(2)), classes[i % classes.count],
                         i == 3 ? "Shoes, \"sport\" (2 pairs)" : "Declared goods \(i + 1)", ""])
        }
        let base = rows[0]
        func variant(_ s10: String? = nil, rule: String? = nil, targetedAt: String? = nil) -> [String] {
            var r = base
            if let s10 { r[0] = s10 }
            if let rule { r[1] = rule }
            if let targetedAt { r[4] = targetedAt }
            return r
        }
        rows.insert(variant("EB000717594HK"), at: 4)
        rows.insert(variant("JA000717595HK"), at: 7)
        rows.insert(variant("EE471108151FR", rule: ""), at: 9)
        rows.insert(variant("RR473124829GB", targetedAt: "2019-06-31T09:00:00Z"), at: 12)
        rows.insert(variant("EB000717595HK", targetedAt: "next Tuesday"), at: 15)
        rows.append(base)
        let header = TargetImport.columns.joined(separator: ",")
        return ([header] + rows.map { $0.map(csvField).joined(separator: ",") }).joined(separator: "\r\n") + "\r\n"
    }

    static func csvField(_ s: String) -> String {
        s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }
}

/// A small deterministic generator (SplitMix64): fixtures are the same for a seed on every machine.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
