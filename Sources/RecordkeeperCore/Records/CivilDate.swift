/// A calendar date with no time and no zone (proleptic Gregorian), as retention law uses them:
/// "10 years after cutoff" is counted in calendar days, months and years.
///
/// Foundation's `Calendar` would serve, but it is zone-dependent and slow in a loop over a
/// million records; the arithmetic here is the standard days-from-civil conversion.
public struct CivilDate: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public let year: Int
    public let month: Int
    public let day: Int

    /// Nil when the parts do not name a real date (2023-02-29, month 13…).
    public init?(year: Int, month: Int, day: Int) {
        guard (1...9999).contains(year), (1...12).contains(month), day >= 1, day <= CivilDate.daysIn(month: month, year: year) else { return nil }
        self.year = year
        self.month = month
        self.day = day
    }

    /// Parses `YYYY-MM-DD` (anything after the tenth character, such as a time, is ignored).
    public init?(_ text: some StringProtocol) {
        let u = Array(text.utf8.prefix(10))
        guard u.count == 10, u[4] == 0x2D, u[7] == 0x2D else { return nil }
        func num(_ r: Range<Int>) -> Int? {
            var v = 0
            for i in r { let c = u[i]; guard c >= 0x30, c <= 0x39 else { return nil }; v = v * 10 + Int(c - 0x30) }
            return v
        }
        guard let y = num(0..<4), let m = num(5..<7), let d = num(8..<10) else { return nil }
        self.init(year: y, month: m, day: d)
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let d = CivilDate(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a date in YYYY-MM-DD form: \(text)"))
        }
        self = d
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }

    public static func isLeap(_ y: Int) -> Bool { (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 }

    public static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days since 1970-01-01.
    public var dayNumber: Int { CivilDate.dayNumber(year: year, month: month, day: day) }

    /// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days-from-civil); the one
    /// calendar recipe the archive uses (wall-clock instants, timestamps, retention dates).
    public static func dayNumber(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The last date the type represents; arithmetic past it stops here.
    public static let latest = CivilDate(year: 9999, month: 12, day: 31)!

    public init(dayNumber z0: Int) {
        let (y, m, d) = CivilDate.civil(dayNumber: min(z0, 2_932_896)) // up to 9999-12-31
        self.year = y
        self.month = m
        self.day = d
    }

    /// Year, month and day of a day number (civil-from-days), with no range limit.
    public static func civil(dayNumber: Int) -> (year: Int, month: Int, day: Int) {
        let z = dayNumber + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    public func addingDays(_ n: Int) -> CivilDate { CivilDate(dayNumber: dayNumber + n) }

    /// Adds a period: years and months first, then days. When the day does not exist in the
    /// target month (Feb 29 in a common year, the 31st in a 30-day month) the result rolls
    /// forward to the first of the next month, so a retention period never ends early.
    public func adding(_ p: RetentionPeriod) -> CivilDate {
        let totalMonths = (year * 12 + (month - 1)) + p.years * 12 + p.months
        guard totalMonths / 12 <= 9999 else { return .latest }
        guard totalMonths >= 12 else { return CivilDate(year: 1, month: 1, day: 1)! }
        let y = totalMonths / 12
        let m = totalMonths % 12 + 1
        var base: CivilDate
        if day <= CivilDate.daysIn(month: m, year: y) {
            base = CivilDate(year: y, month: m, day: day)!
        } else {
            base = CivilDate(year: y, month: m, day: CivilDate.daysIn(month: m, year: y))!.addingDays(1)
        }
        if p.days != 0 { base = base.addingDays(p.days) }
        return base
    }

    /// The last day of the given month.
    public static func endOf(month: Int, year: Int) -> CivilDate {
        CivilDate(year: year, month: month, day: daysIn(month: month, year: year))!
    }

    public var description: String {
        let y = String(year), m = String(month), d = String(day)
        return String(repeating: "0", count: max(0, 4 - y.count)) + y + "-" + (m.count < 2 ? "0" : "") + m + "-" + (d.count < 2 ? "0" : "") + d
    }

    public static func < (a: CivilDate, b: CivilDate) -> Bool {
        (a.year, a.month, a.day) < (b.year, b.month, b.day)
    }

    /// Today where the day begins last (UTC−12): a record whose eligibility date is today is
    /// then due everywhere, so disposition is never early in any time zone.
    public static func today(nowMillis: Int64 = Timestamp.nowMillis()) -> CivilDate {
        CivilDate(dayNumber: Int((nowMillis - 12 * 3_600_000) / 86_400_000))
    }
}
