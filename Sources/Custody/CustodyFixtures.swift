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
        /// A site's own export: an XLSX workbook with its own column names, codes, US-style local
        /// times and Excel serial dates, and the mapping profile that reads it.
        case atsXLSX = "ATS-XLSX"
    }

    /// The rules a scenario's files name (register them before importing).
    public static func rules(for scenario: Scenario) -> [TargetRule] {
        switch scenario {
        case .at1, .at2, .atsXLSX:
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
        case .atsXLSX:
            let book = directory.appendingPathComponent("ATS-export.xlsx")
            try atsWorkbook(seed: seed).write(to: book)
            let profile = directory.appendingPathComponent("ATS-profile.json")
            try atsProfile.write(to: profile, atomically: true, encoding: .utf8)
            return [book, profile]
        }
    }

    /// The mapping profile of the ATS-XLSX scenario: its columns, its codes, US Eastern local time
    /// as MM/DD/YYYY HH:mm, Excel serial dates, and ATS as the targeter of every row.
    public static let atsProfile = """
        {
          "name": "ats-jfk",
          "version": 1,
          "description": "ATS target export as the JFK targeting unit saves it from Excel",
          "columns": {
            "Item Number": "s10", "Rule": "rule_code", "Rule Ver": "rule_version", "Reason": "reason_code",
            "Targeted (ET)": "targeted_at", "ETA (ET)": "expected_arrival_at", "Origin": "origin_country", "Class": "mail_class"
          },
          "constants": {"targeted_by": "ATS"},
          "date_format": "MM/DD/YYYY HH:mm",
          "time_zone": "America/New_York",
          "excel_serial_dates": true,
          "values": {
            "reason_code": {"NARC": "narcotics", "COI": "coi_bulk"},
            "mail_class": {"EMS": "ems", "PARCEL": "parcel", "LC": "letter_post"}
          }
        }

        """

    /// The ATS-XLSX workbook: 12 rows. Eight valid (targeted times as text in the profile's format
    /// or as Excel serial numbers, all 2019-06-17 08:15 Eastern = 12:15 UTC for the first);
    /// `06/31/2019 08:00` (no such date) and `03/10/2019 02:30` (skipped by the change to daylight
    /// time in New York) rejected `DATE_INVALID`; reason `XYZ` rejected `VALUE_UNKNOWN`; a copy of
    /// the first row merged. A `Notes` column is not mapped: kept with the import, not read.
    public static func atsWorkbook(seed: UInt64) throws -> Data {
        var rng = SplitMix(seed: seed)
        typealias C = XLSXWriter.Cell
        var rows: [[C]] = [["Item Number", "Rule", "Rule Ver", "Reason", "Targeted (ET)", "ETA (ET)", "Origin", "Class", "Notes"].map { .text($0) }]
        var items: [String] = []
        for i in 0..<11 {
            let serial = (0..<8).map { _ in Int(rng.next() % 10) }
            items.append(["EE", "LX", "RR"][i % 3] + serial.map(String.init).joined() + String(S10.checkDigit(serial: serial)) + ["CN", "HK", "US"][i % 3])
        }
        let narcotics: [C] = [.text("NARC-01"), .number(1), .text("NARC")]
        let coi: [C] = [.text("COI-CN-01"), .number(1), .text("COI")]
        for i in 0..<8 {
            // Serial 43633 is 2019-06-17; 0.34375 of a day is 08:15.
            let targeted: C = i % 2 == 0 ? .text(String(format: "06/17/2019 %02d:15", 8 + i)) : .number(43633.34375 + Double(i) / 24)
            rows.append([.text(items[i])] + (i % 2 == 0 ? narcotics : coi)
                        + [targeted, .text("06/18/2019 12:00"), .text(["CN", "HK", "US"][i % 3]), .text(["EMS", "PARCEL", "LC"][i % 3]), .text("row \(i + 1)")])
        }
        rows.append([.text(items[8])] + narcotics + [.text("06/31/2019 08:00"), .text("06/18/2019 12:00"), .text("CN"), .text("EMS"), .text("")])
        rows.append([.text(items[9])] + narcotics + [.text("03/10/2019 02:30"), .text("06/18/2019 12:00"), .text("HK"), .text("EMS"), .text("")])
        rows.append([.text(items[10]), .text("NARC-01"), .number(1), .text("XYZ"), .text("06/17/2019 09:00"), .text("06/18/2019 12:00"), .text("US"),
                     .text("EMS"), .text("")])
        rows.append(rows[1])
        return try XLSXWriter.workbook(rows)
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
