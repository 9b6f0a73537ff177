import Foundation

/// A UPU S10 item identifier (`EE471108151FR`): two letters of service indicator, an 8-digit
/// serial, a check digit, and the ISO 3166-1 alpha-2 code of the issuing post. Printed on the
/// item as a Code 128 barcode; a scanner types exactly these 13 characters.
///
/// The check digit: the serial's digits weighted 8, 6, 4, 2, 3, 5, 9, 7 and summed;
/// `c = 11 − (sum mod 11)`, with 10 written as 0 and 11 as 5. Service indicators beginning with
/// J, K, S, T or W are reserved (not S10 items).
public struct S10: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The 13 characters, upper case.
    public let value: String

    public var serviceIndicator: Substring { value.prefix(2) }
    public var serial: Substring { value.dropFirst(2).prefix(8) }
    public var country: Substring { value.suffix(2) }
    public var description: String { value }

    public static func < (a: S10, b: S10) -> Bool { a.value < b.value }

    /// Why a text is not an S10 identifier, with the import's reason code.
    public enum Problem: Error, Equatable, Sendable, CustomStringConvertible {
        /// Not two letters, nine digits and two letters.
        case format
        /// A service indicator reserved for other uses (J, K, S, T, W).
        case reservedServiceIndicator(String)
        /// The last two letters are not an ISO 3166-1 country.
        case unknownCountry(String)
        /// The ninth digit does not match the serial.
        case checkDigit(expected: Int, found: Int)

        /// `S10_CHECK` for a wrong check digit, `S10_FORMAT` for everything else.
        public var code: String {
            if case .checkDigit = self { return "S10_CHECK" }
            return "S10_FORMAT"
        }

        public var description: String {
            switch self {
            case .format: "not an S10 identifier (two letters, nine digits, two letters)"
            case .reservedServiceIndicator(let s): "service indicator \(s) is reserved (J, K, S, T and W are not S10 items)"
            case .unknownCountry(let c): "\(c) is not an ISO 3166-1 country code"
            case .checkDigit(let expected, let found): "check digit \(found) does not match the serial (expected \(expected))"
            }
        }
    }

    /// Validates `text` (surrounding spaces ignored, letters in either case).
    public static func parse(_ text: String) -> Result<S10, Problem> {
        let t = text.trimmingCharacters(in: .whitespaces).uppercased()
        let bytes = Array(t.utf8)
        func isLetter(_ b: UInt8) -> Bool { b >= 65 && b <= 90 }
        func isDigit(_ b: UInt8) -> Bool { b >= 48 && b <= 57 }
        guard bytes.count == 13, bytes[0..<2].allSatisfy(isLetter), bytes[2..<11].allSatisfy(isDigit), bytes[11..<13].allSatisfy(isLetter) else {
            return .failure(.format)
        }
        if "JKSTW".utf8.contains(bytes[0]) { return .failure(.reservedServiceIndicator(String(t.prefix(2)))) }
        let country = String(t.suffix(2))
        guard ISO3166.alpha2.contains(country) else { return .failure(.unknownCountry(country)) }
        let digits = bytes[2..<10].map { Int($0 - 48) }
        let expected = checkDigit(serial: digits)
        let found = Int(bytes[10] - 48)
        guard expected == found else { return .failure(.checkDigit(expected: expected, found: found)) }
        return .success(S10(value: t))
    }

    /// The check digit of an 8-digit serial.
    public static func checkDigit(serial digits: [Int]) -> Int {
        precondition(digits.count == 8, "an S10 serial has 8 digits")
        let weights = [8, 6, 4, 2, 3, 5, 9, 7]
        let sum = zip(digits, weights).reduce(0) { $0 + $1.0 * $1.1 }
        switch 11 - sum % 11 {
        case 10: return 0
        case 11: return 5
        case let c: return c
        }
    }

    private init(value: String) { self.value = value }
}

/// ISO 3166-1 alpha-2 country codes (officially assigned).
enum ISO3166 {
    static let alpha2: Set<String> = Set("""
        AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ \
        CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR \
        GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO \
        JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR \
        MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO \
        RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV \
        TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW
        """.split(separator: " ").map(String.init))
}

extension S10 {
    /// The mail class the service indicator's first letter stands for, in the ranges every post
    /// uses (UPU S10's service indicator table as publicly described): C and H parcels, E EMS, R
    /// and V registered (V insured), L and U letter post; the letters left to domestic and
    /// bilateral use are `other`. The funnel (R-FUN) classes every piece this way, targeted or not,
    /// because the identifier is the one fact known of every piece.
    public var mailClass: MailClass {
        switch value.utf8.first {
        case UInt8(ascii: "C"), UInt8(ascii: "H"): .parcel
        case UInt8(ascii: "E"): .ems
        case UInt8(ascii: "R"), UInt8(ascii: "V"): .registered
        case UInt8(ascii: "L"), UInt8(ascii: "U"): .letterPost
        default: .other
        }
    }

    /// Whether `code` is an ISO 3166-1 alpha-2 country (upper case).
    public static func isCountry(_ code: String) -> Bool { ISO3166.alpha2.contains(code) }
}
