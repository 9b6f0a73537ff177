import Foundation
import RecordkeeperCore

/// How one source's target list maps onto the canonical columns (CUSTODY.md §4.1): which of its
/// columns is which field, fixed values for fields it lacks, the date format and time zone its
/// times are written in, whether Excel serial numbers are dates, and value maps (its codes to the
/// canonical vocabularies). ATS's export layout is not public, so a site writes a profile for
/// whatever its export looks like; the profile is registered once per version, never changed,
/// and each import records the profile and version it was read with.
///
///     {"name": "ats-jfk", "version": 1, "description": "ATS export, JFK IMF",
///      "columns": {"Item Number": "s10", "Rule": "rule_code", "Rule Ver": "rule_version",
///                  "Reason": "reason_code", "Targeted (ET)": "targeted_at", "ETA (ET)": "expected_arrival_at"},
///      "constants": {"targeted_by": "ATS"},
///      "date_format": "MM/DD/YYYY HH:mm", "time_zone": "America/New_York", "excel_serial_dates": true,
///      "values": {"reason_code": {"NARC": "narcotics", "AG": "agriculture"}}}
public struct MappingProfile: Codable, Sendable, Equatable {
    public var name: String
    public var version: Int
    public var description: String?
    /// The source's column (its header, matched without regard to case or surrounding blanks) → a canonical field.
    public var columns: [String: String]
    /// Canonical fields the source does not carry, with the value every row gets.
    public var constants: [String: String]?
    /// How the source writes times (`YYYY`, `MM` or `M`, `DD` or `D`, `HH` or `H`, `mm`, `ss`;
    /// anything else is literal). ISO 8601 with a zone is always accepted as well.
    public var dateFormat: String?
    /// The IANA zone the source's times are in (default UTC).
    public var timeZone: String?
    /// A number in a time field is an Excel serial date (days since 1899-12-30) in `timeZone`.
    public var excelSerialDates: Bool?
    /// Per canonical field: the source's value → the canonical one (matched without regard to case).
    public var values: [String: [String: String]]?

    enum CodingKeys: String, CodingKey {
        case name, version, description, columns, constants, dateFormat = "date_format", timeZone = "time_zone", excelSerialDates = "excel_serial_dates", values
    }

    public var label: String { "\(name) v\(version)" }

    /// Reads and checks a profile; every mistake is named.
    public static func parse(_ data: Data) throws -> MappingProfile {
        let p: MappingProfile
        do { p = try JSONDecoder().decode(MappingProfile.self, from: data) } catch {
            throw CustodyError(.invalid, "the mapping profile is not the expected JSON (name, version, columns, and optionally constants, date_format, "
                                + "time_zone, excel_serial_dates, values): \(error)")
        }
        try p.check()
        return p
    }

    func check() throws {
        guard !name.isEmpty, name.count <= 64, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }) else {
            throw CustodyError(.invalid, "a profile name is letters, digits, '-', '_' or '.' (at most 64): \(name)")
        }
        guard version > 0 else { throw CustodyError(.invalid, "a profile version is a positive whole number") }
        var mapped: [String: String] = [:]
        for (source, field) in columns {
            guard TargetImport.columns.contains(field) else {
                throw CustodyError(.invalid, "column \"\(source)\" maps to \(field), which is not one of \(TargetImport.columns.joined(separator: ", "))")
            }
            if let other = mapped[field] { throw CustodyError(.invalid, "columns \"\(other)\" and \"\(source)\" both map to \(field)") }
            mapped[field] = source
        }
        let keys = Set(columns.keys.map(Self.normalized))
        guard keys.count == columns.count else { throw CustodyError(.invalid, "two source columns differ only in case or blanks") }
        for field in (constants ?? [:]).keys {
            guard TargetImport.columns.contains(field) else { throw CustodyError(.invalid, "constant \(field) is not a canonical field") }
            if mapped[field] != nil { throw CustodyError(.invalid, "\(field) is both a column (\"\(mapped[field]!)\") and a constant") }
        }
        for field in (values ?? [:]).keys where !TargetImport.columns.contains(field) {
            throw CustodyError(.invalid, "values for \(field): not a canonical field")
        }
        let missing = TargetImport.required.filter { mapped[$0] == nil && constants?[$0] == nil }
        guard missing.isEmpty else {
            throw CustodyError(.invalid, "the profile gives no column or constant for \(missing.joined(separator: ", ")) (required)")
        }
        if let zone = timeZone, TimeZone(identifier: zone) == nil { throw CustodyError(.invalid, "time zone \(zone) is not an IANA zone") }
        if let format = dateFormat {
            let tokens = Self.tokens(format)
            let names: [(Character, String)] = [("Y", "YYYY"), ("M", "MM"), ("D", "DD"), ("H", "HH"), ("m", "mm")]
            for (needed, name) in names where !tokens.contains(where: { if case .field(let f, _) = $0 { f == needed } else { false } }) {
                throw CustodyError(.invalid, "date_format \(format) has no \(name)")
            }
        }
    }

    static func normalized(_ header: String) -> String { header.trimmingCharacters(in: .whitespaces).lowercased() }

    /// The canonical definition (sorted keys): what is stored and hashed, and compared when the
    /// same version is registered again.
    public var canonicalJSON: String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? e.encode(self)) ?? Data(), as: UTF8.self)
    }

    /// The canonical field a header names under this profile (nil: not mapped).
    func field(forHeader header: String) -> String? {
        let h = Self.normalized(header)
        return columns.first { Self.normalized($0.key) == h }?.value
    }

    /// A source value through the field's value map.
    func mapped(_ value: String, field: String) -> String {
        guard let map = values?[field] else { return value }
        if let v = map[value] { return v }
        let lower = value.lowercased()
        return map.first { $0.key.lowercased() == lower }?.value ?? value
    }

    // MARK: - Times

    enum Token: Equatable {
        /// Y, M, D, H, m or s, with its width (0: one or two digits).
        case field(Character, Int)
        case literal(UInt8)
    }

    static func tokens(_ format: String) -> [Token] {
        var out: [Token] = []
        let c = Array(format)
        var i = 0
        while i < c.count {
            let ch = c[i]
            var run = 1
            while i + run < c.count, c[i + run] == ch { run += 1 }
            switch (ch, run) {
            case ("Y", 4): out.append(.field("Y", 4))
            case ("M", 2), ("D", 2), ("H", 2), ("m", 2), ("s", 2): out.append(.field(ch, 2))
            case ("M", 1), ("D", 1), ("H", 1): out.append(.field(ch, 0))
            default:
                for _ in 0..<run { for b in String(ch).utf8 { out.append(.literal(b)) } }
            }
            i += run
        }
        return out
    }

    /// Milliseconds for a time written in this profile's format and zone, in ISO 8601 with a zone,
    /// or (when allowed) as an Excel serial number; nil when it is none of them or not a real
    /// date and time (2019-06-31, or a local time a daylight-saving change skips).
    public func millis(_ text: String) -> Int64? {
        if let t = ISOInstant.millis(text) { return t }
        let zone = TimeZone(identifier: timeZone ?? "UTC") ?? TimeZone(identifier: "UTC")!
        if let format = dateFormat, let c = Self.components(text, Self.tokens(format)) { return Self.local(c, zone) }
        if excelSerialDates == true, text.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }), let serial = Double(text), serial.isFinite, serial >= 1,
           serial < 2_958_466 { // 9999-12-31
            // Days since 1899-12-30 (Excel's 1900 system, its phantom 29 February 1900 included), the fraction the time of day.
            var whole = serial.rounded(.down)
            var secondsOfDay = Int(((serial - whole) * 86_400).rounded())
            if secondsOfDay == 86_400 { whole += 1; secondsOfDay = 0 } // rounds up to the next midnight
            let date = CivilDate(dayNumber: CivilDate(year: 1899, month: 12, day: 30)!.dayNumber + Int(whole))
            return Self.local((date.year, date.month, date.day, secondsOfDay / 3600, secondsOfDay % 3600 / 60, secondsOfDay % 60), zone)
        }
        return nil
    }

    static func components(_ text: String, _ tokens: [Token]) -> (Int, Int, Int, Int, Int, Int)? {
        let b = Array(text.utf8)
        var i = 0
        var v: [Character: Int] = ["s": 0]
        for t in tokens {
            switch t {
            case .literal(let l):
                guard i < b.count, b[i] == l else { return nil }
                i += 1
            case .field(let f, let width):
                var n = 0, digits = 0
                let most = width == 0 ? 2 : width
                while digits < most, i < b.count, b[i] >= 48, b[i] <= 57 { n = n * 10 + Int(b[i] - 48); i += 1; digits += 1 }
                guard width == 0 ? digits >= 1 : digits == width else { return nil }
                v[f] = n
            }
        }
        guard i == b.count, let y = v["Y"], let mo = v["M"], let d = v["D"], let h = v["H"], let mi = v["m"], let s = v["s"] else { return nil }
        return (y, mo, d, h, mi, s)
    }

    /// A local date and time in `zone`, refused when it does not exist there, or happens twice
    /// there (the hour clocks go back): which of the two was meant cannot be told.
    static func local(_ c: (Int, Int, Int, Int, Int, Int), _ zone: TimeZone) -> Int64? {
        guard (1...12).contains(c.1), c.3 < 24, c.4 < 60, c.5 < 60, CivilDate(year: c.0, month: c.1, day: c.2) != nil else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        guard let date = calendar.date(from: DateComponents(year: c.0, month: c.1, day: c.2, hour: c.3, minute: c.4, second: c.5)) else { return nil }
        let back = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        guard back.year == c.0, back.month == c.1, back.day == c.2, back.hour == c.3, back.minute == c.4, back.second == c.5 else { return nil }
        for shift in [-3600.0, 3600.0] {
            let other = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date.addingTimeInterval(shift))
            if other == back { return nil }
        }
        return Int64((date.timeIntervalSince1970 * 1000).rounded())
    }
}
