import Foundation

/// A wall-clock time as written in a source, with no zone (WhatsApp exports carry none).
///
/// Stored as text `YYYY-MM-DDTHH:MM:SS`; the zone that was assumed to turn it into an instant is
/// recorded beside it on the message, never folded into it.
public struct LocalDateTime: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var year: Int
    public var month: Int
    public var day: Int
    public var hour: Int
    public var minute: Int
    public var second: Int

    public init(year: Int, month: Int, day: Int, hour: Int = 0, minute: Int = 0, second: Int = 0) {
        self.year = year
        self.month = month
        self.day = day
        self.hour = hour
        self.minute = minute
        self.second = second
    }

    /// The wall-clock time an absolute instant (seconds since 1970, UTC) shows in `zone`, to the
    /// second; nil outside years 1970…9999. For sources that write absolute times (Wickr,
    /// Slack, Teams, SMS backups, e-mail), so they are read in the batch's zone like any other.
    public init?(secondsSinceEpoch seconds: Double, in zone: TimeZone) {
        guard seconds.isFinite, seconds >= 0, seconds < 253_402_300_800 else { return nil }
        let whole = Int64(seconds.rounded(.down))
        let local = whole + Int64(zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(whole))))
        let days = local >= 0 ? local / 86_400 : (local - 86_399) / 86_400
        let (y, m, d) = CivilDate.civil(dayNumber: Int(days))
        let rest = Int(local - days * 86_400)
        let t = LocalDateTime(year: y, month: m, day: d, hour: rest / 3600, minute: rest % 3600 / 60, second: rest % 60)
        guard t.isValid else { return nil }
        self = t
    }

    /// True when the fields name a real calendar date and time (Gregorian, proleptic).
    public var isValid: Bool {
        (1...9999).contains(year) && (1...12).contains(month)
            && (1...LocalDateTime.daysIn(month: month, year: year)).contains(day)
            && (0...23).contains(hour) && (0...59).contains(minute) && (0...60).contains(second)
    }

    public static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// `YYYY-MM-DDTHH:MM:SS`, sortable as text.
    public var description: String {
        String(unsafeUninitializedCapacity: 19) { buf in
            func put(_ value: Int, _ width: Int, _ at: Int) {
                var v = value
                var i = at + width - 1
                while i >= at { buf[i] = UInt8(48 + v % 10); v /= 10; i -= 1 }
            }
            put(year, 4, 0); buf[4] = 45; put(month, 2, 5); buf[7] = 45; put(day, 2, 8); buf[10] = 84
            put(hour, 2, 11); buf[13] = 58; put(minute, 2, 14); buf[16] = 58; put(second, 2, 17)
            return 19
        }
    }

    /// `YYYY-MM-DD`.
    public var dateString: String { String(description.prefix(10)) }

    /// Parses `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM` or `YYYY-MM-DDTHH:MM:SS` (a space may replace `T`).
    public init?(iso text: String) {
        // Fast path: the stored form `YYYY-MM-DDTHH:MM:SS`.
        var copy = text
        let fast: LocalDateTime?? = copy.withUTF8 { b -> LocalDateTime?? in
            guard b.count == 19, b[4] == 45, b[7] == 45, b[10] == 84, b[13] == 58, b[16] == 58 else { return .none }
            func n(_ from: Int, _ width: Int) -> Int? {
                var v = 0
                for i in from..<(from + width) {
                    let d = Int(b[i]) - 48
                    guard d >= 0, d <= 9 else { return nil }
                    v = v * 10 + d
                }
                return v
            }
            guard let y = n(0, 4), let mo = n(5, 2), let d = n(8, 2), let h = n(11, 2), let mi = n(14, 2), let s = n(17, 2) else {
                return .some(nil)
            }
            let t = LocalDateTime(year: y, month: mo, day: d, hour: h, minute: mi, second: s)
            return .some(t.isValid ? t : nil)
        }
        if let fast {
            guard let fast else { return nil }
            self = fast
            return
        }
        let parts = text.split(whereSeparator: { $0 == "-" || $0 == "T" || $0 == " " || $0 == ":" }).map { Int($0) }
        guard parts.count >= 3, parts.count <= 6, !parts.contains(where: { $0 == nil }) else { return nil }
        let p = parts.map { $0! }
        self.init(year: p[0], month: p[1], day: p[2], hour: p.count > 3 ? p[3] : 0,
                  minute: p.count > 4 ? p[4] : 0, second: p.count > 5 ? p[5] : 0)
        guard isValid else { return nil }
    }

    /// Seconds since 1970-01-01T00:00:00 if this wall-clock time were UTC.
    public var secondsSinceEpochAsUTC: Int64 {
        let days = Int64(CivilDate.dayNumber(year: year, month: month, day: day))
        return days * 86_400 + Int64(hour * 3600 + minute * 60 + second)
    }

    /// The instant this wall-clock time denotes in `zone` (for a time skipped or repeated by a
    /// daylight-saving change, the offset in force one hour earlier is used, which is deterministic).
    public func instant(in zone: TimeZone) -> Date {
        let asUTC = secondsSinceEpochAsUTC
        let guess = Date(timeIntervalSince1970: TimeInterval(asUTC))
        let offset = zone.secondsFromGMT(for: guess.addingTimeInterval(-3600))
        let first = asUTC - Int64(offset)
        let refined = zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(first)))
        return Date(timeIntervalSince1970: TimeInterval(asUTC - Int64(refined)))
    }

    public static func < (lhs: LocalDateTime, rhs: LocalDateTime) -> Bool {
        (lhs.year, lhs.month, lhs.day, lhs.hour, lhs.minute, lhs.second)
            < (rhs.year, rhs.month, rhs.day, rhs.hour, rhs.minute, rhs.second)
    }
}
