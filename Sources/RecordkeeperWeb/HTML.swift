import Foundation
import RecordkeeperCore

/// A fragment of HTML. Interpolated `String`s (and numbers) are escaped; interpolated `HTML` is
/// inserted as it is. So record content — which is hostile input — can only reach a page escaped,
/// and the compiler checks every page's fields (the reason for this over an untyped template file).
public struct HTML: Sendable, Hashable, ExpressibleByStringInterpolation, CustomStringConvertible {
    public private(set) var rendered: String

    public init(stringLiteral value: String) { rendered = value }
    public init(unsafeRaw value: String) { rendered = value }
    public init(stringInterpolation: Interpolation) { rendered = stringInterpolation.out }
    public static let empty = HTML(unsafeRaw: "")
    public var description: String { rendered }

    public struct Interpolation: StringInterpolationProtocol {
        var out = ""
        public init(literalCapacity: Int, interpolationCount: Int) { out.reserveCapacity(literalCapacity * 2) }
        public mutating func appendLiteral(_ literal: String) { out += literal }
        public mutating func appendInterpolation(_ html: HTML) { out += html.rendered }
        public mutating func appendInterpolation(_ html: HTML?) { out += html?.rendered ?? "" }
        public mutating func appendInterpolation(_ text: String) { out += HTML.escape(text) }
        public mutating func appendInterpolation(_ text: String?) { out += HTML.escape(text ?? "") }
        public mutating func appendInterpolation(_ text: Substring) { out += HTML.escape(String(text)) }
        public mutating func appendInterpolation<N: BinaryInteger>(_ n: N) { out += String(n) }
        public mutating func appendInterpolation(_ list: [HTML]) { for h in list { out += h.rendered } }
    }

    public static func escape(_ s: String) -> String { TextRecipes.htmlEscaped(s) }

    public static func + (a: HTML, b: HTML) -> HTML { HTML(unsafeRaw: a.rendered + b.rendered) }

    /// Joins fragments.
    public static func join(_ parts: [HTML], separator: HTML = .empty) -> HTML {
        HTML(unsafeRaw: parts.map(\.rendered).joined(separator: separator.rendered))
    }
}

extension Sequence {
    /// Renders each element and joins them.
    func html(_ render: (Element) -> HTML) -> HTML { HTML.join(map(render)) }
}

/// Query-string encoding for links built from user input.
enum URLQuery {
    static let allowed: CharacterSet = {
        var s = CharacterSet.alphanumerics
        s.insert(charactersIn: "-._~")
        return s
    }()

    static func encode(_ s: String) -> String { s.addingPercentEncoding(withAllowedCharacters: allowed) ?? "" }

    static func string(_ pairs: [(String, String?)]) -> String {
        pairs.compactMap { k, v in v.flatMap { $0.isEmpty ? nil : "\(encode(k))=\(encode($0))" } }.joined(separator: "&")
    }
}
