/// The order of the day, month and year fields in a numeric date.
public enum DateOrder: String, Sendable, Codable, CaseIterable {
    case dmy = "DMY"
    case mdy = "MDY"
    case ymd = "YMD"
    case ydm = "YDM"
    /// Year in the middle, month first (seen in the wild: `[06/2018/13, 21:25:15]`).
    case myd = "MYD"
    case dym = "DYM"

    /// Maps three written components to (year, month, day).
    public func resolve(_ a: Int, _ b: Int, _ c: Int) -> (year: Int, month: Int, day: Int) {
        switch self {
        case .dmy: return (c, b, a)
        case .mdy: return (c, a, b)
        case .ymd: return (a, b, c)
        case .ydm: return (a, c, b)
        case .myd: return (b, a, c)
        case .dym: return (b, c, a)
        }
    }
}

/// How a date order was decided for one file, kept on the capture batch as evidence.
public struct DateOrderDecision: Sendable, Codable, Hashable {
    public var order: DateOrder
    /// False when the evidence did not settle it and a default or a weak hint was used.
    public var certain: Bool
    /// `override` (the user said), `evidence`, or `default`.
    public var basis: String
    /// Human-readable reasons, e.g. "first field exceeds 12 at line 14 (23/03/2022)".
    public var evidence: [String]

    public init(order: DateOrder, certain: Bool, basis: String, evidence: [String]) {
        self.order = order
        self.certain = certain
        self.basis = basis
        self.evidence = evidence
    }
}
