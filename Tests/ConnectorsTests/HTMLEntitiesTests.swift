import Foundation
import RecordkeeperCore
import Testing

/// Character references are decoded in one deterministic pass (a dictionary of replacements
/// once decoded `&amp;lt;` differently from one process to the next).
@Suite("HTML character references")
struct HTMLEntitiesTests {
    @Test(arguments: [
        ("&amp;lt;", "&lt;"), ("&lt;b&gt;", "<b>"), ("&amp;amp;", "&amp;"), ("Tom &amp; Jerry", "Tom & Jerry"),
        ("it&#8217;s", "it\u{2019}s"), ("it&#x2019;s", "it\u{2019}s"), ("&#X41;&#65;", "AA"), ("&quot;hi&quot; &apos;x&#39;", "\"hi\" 'x'"),
        ("a&nbsp;b", "a\u{00A0}b"), ("&#0;", "\u{FFFD}"), ("&#xD800;", "\u{FFFD}"), ("&#99999999999999;", "\u{FFFD}"),
        ("&bogus; &amp", "&bogus; &amp"), ("& ; &; &#; &#x; &#xG; &", "& ; &; &#; &#x; &#xG; &"), ("&&amp;;", "&&;"),
        ("no references", "no references"), ("", ""), ("&hellip;&mdash;&euro;", "\u{2026}\u{2014}\u{20AC}"),
    ])
    func decodes(_ input: String, _ expected: String) {
        #expect(HTMLEntities.decode(input) == expected)
    }

    /// A small seeded generator: the same soups on every run.
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static let atoms = ["&", "amp", ";", "lt", "gt", "#", "x", "X", "3", "9", "C", "&amp;", "&lt;", "&gt;", "&#60;", "&#x3C;", "&#x3c;",
                        "&quot;", "&nbsp;", "&bogus;", "&#0;", "&#1114112;", "a", "<", ">", " ", "é", "\u{202E}", "😀", "\n"]

    /// Reference model: references matched left to right by a regular expression, each replaced
    /// by its value (or kept when unknown). The decoder must agree on every soup.
    static func reference(_ s: String) -> String {
        let regex = try! NSRegularExpression(pattern: "&(#[0-9]+|#[xX][0-9A-Fa-f]+|[A-Za-z0-9]+);")
        let ns = s as NSString
        var out = ""
        var last = 0
        for m in regex.matches(in: s, range: NSRange(location: 0, length: ns.length)) {
            out += ns.substring(with: NSRange(location: last, length: m.range.location - last))
            let body = ns.substring(with: m.range(at: 1))
            var scalar: Unicode.Scalar?
            var known = true
            if body.hasPrefix("#x") || body.hasPrefix("#X") {
                let v = UInt64(body.dropFirst(2).prefix(12), radix: 16) ?? .max
                scalar = v == 0 || v > 0x10FFFF || body.dropFirst(2).count > 12 ? "\u{FFFD}" : Unicode.Scalar(UInt32(v)) ?? "\u{FFFD}"
            } else if body.hasPrefix("#") {
                let v = UInt64(body.dropFirst().prefix(15)) ?? .max
                scalar = v == 0 || v > 0x10FFFF || body.dropFirst().count > 15 ? "\u{FFFD}" : Unicode.Scalar(UInt32(v)) ?? "\u{FFFD}"
            } else if let named = HTMLEntities.named[body] {
                scalar = named
            } else {
                known = false
            }
            out += known ? String(Character(scalar!)) : ns.substring(with: m.range)
            last = m.range.location + m.range.length
        }
        return out + ns.substring(from: last)
    }

    @Test func agreesWithTheReferenceOnGeneratedSoups() {
        var rng = SplitMix(state: 20_261_204)
        for _ in 0..<5000 {
            let soup = (0..<Int.random(in: 0...24, using: &rng)).map { _ in Self.atoms.randomElement(using: &rng)! }.joined()
            #expect(HTMLEntities.decode(soup) == Self.reference(soup), "soup: \(soup.debugDescription)")
        }
    }

    /// Whatever the web layer escapes (bidi overrides included) decodes back to itself.
    @Test func undoesTheArchivesOwnEscaping() {
        var rng = SplitMix(state: 42)
        for _ in 0..<5000 {
            let text = (0..<Int.random(in: 0...24, using: &rng)).map { _ in Self.atoms.randomElement(using: &rng)! }.joined()
            #expect(HTMLEntities.decode(TextRecipes.htmlEscaped(text)) == text, "text: \(text.debugDescription)")
        }
    }
}
