/// Decoding of HTML character references in text taken from HTML bodies (Teams messages,
/// HTML e-mail, Slack's escaped text).
///
/// One left-to-right pass: each `&…;` is decoded once and its result is never read again, so
/// `&amp;lt;` is always `&lt;` (a multi-pass replacement decodes it to `<` or `&lt;` depending
/// on the order of the passes, and the identity key of a message, hence deduplication, must not
/// depend on that). Numeric references (`&#8217;`, `&#x2019;`) and the named references that
/// chat and mail HTML use are decoded; an unknown or malformed reference is kept as written, so
/// nothing is lost. References to code points HTML forbids (NUL, surrogates, beyond U+10FFFF)
/// become U+FFFD, as the HTML standard says.
public enum HTMLEntities {
    /// Named references decoded (the ones Teams, Outlook, Gmail and Slack emit; HTML knows more).
    public static let named: [String: Unicode.Scalar] = [
        "amp": "&", "lt": "<", "gt": ">", "quot": "\"", "apos": "'", "nbsp": "\u{00A0}",
        "ndash": "\u{2013}", "mdash": "\u{2014}", "lsquo": "\u{2018}", "rsquo": "\u{2019}", "sbquo": "\u{201A}",
        "ldquo": "\u{201C}", "rdquo": "\u{201D}", "bdquo": "\u{201E}", "hellip": "\u{2026}", "bull": "\u{2022}",
        "middot": "\u{00B7}", "copy": "\u{00A9}", "reg": "\u{00AE}", "trade": "\u{2122}", "euro": "\u{20AC}",
        "pound": "\u{00A3}", "yen": "\u{00A5}", "cent": "\u{00A2}", "sect": "\u{00A7}", "para": "\u{00B6}", "deg": "\u{00B0}",
        "plusmn": "\u{00B1}", "times": "\u{00D7}", "divide": "\u{00F7}", "laquo": "\u{00AB}", "raquo": "\u{00BB}",
        "iexcl": "\u{00A1}", "iquest": "\u{00BF}", "shy": "\u{00AD}", "zwj": "\u{200D}", "zwnj": "\u{200C}",
        "ensp": "\u{2002}", "emsp": "\u{2003}", "thinsp": "\u{2009}",
    ]

    /// Longest name in `named`, so a scan never reads far past an `&` that starts no reference.
    static let longestName = named.keys.map(\.count).max() ?? 0

    /// `text` with its character references decoded in one pass. Teams and mail callers map
    /// U+00A0 (`&nbsp;`) to a space themselves where they want to.
    public static func decode(_ text: String) -> String {
        guard text.utf8.contains(UInt8(ascii: "&")) else { return text }
        let scalars = Array(text.unicodeScalars)
        var out = String.UnicodeScalarView()
        var i = 0
        while i < scalars.count {
            let c = scalars[i]
            guard c == "&", let (decoded, length) = reference(in: scalars, at: i) else {
                out.append(c)
                i += 1
                continue
            }
            out.append(decoded)
            i += length
        }
        return String(out)
    }

    /// The reference starting at `start` (an `&`) and how many scalars it spans, if it is one.
    static func reference(in s: [Unicode.Scalar], at start: Int) -> (Unicode.Scalar, Int)? {
        var i = start + 1
        guard i < s.count else { return nil }
        if s[i] == "#" {
            i += 1
            var radix: UInt32 = 10
            if i < s.count, s[i] == "x" || s[i] == "X" { radix = 16; i += 1 }
            var value: UInt32 = 0
            var digits = 0
            while i < s.count, let d = digit(s[i], radix: radix) {
                if value <= 0x10FFFF { value = value * radix + d } // stays > 0x10FFFF once past it
                digits += 1
                i += 1
            }
            guard digits > 0, i < s.count, s[i] == ";" else { return nil }
            let scalar = (value == 0 || value > 0x10FFFF) ? nil : Unicode.Scalar(value)
            return (scalar ?? "\u{FFFD}", i + 1 - start)
        }
        var name = ""
        while i < s.count, name.unicodeScalars.count <= longestName, s[i].isASCII, s[i].properties.isAlphabetic || digit(s[i], radix: 10) != nil {
            name.unicodeScalars.append(s[i])
            i += 1
        }
        guard i < s.count, s[i] == ";", let scalar = named[name] else { return nil }
        return (scalar, i + 1 - start)
    }

    static func digit(_ c: Unicode.Scalar, radix: UInt32) -> UInt32? {
        switch c.value {
        case 0x30...0x39: return c.value - 0x30
        case 0x61...0x66 where radix == 16: return c.value - 0x61 + 10
        case 0x41...0x46 where radix == 16: return c.value - 0x41 + 10
        default: return nil
        }
    }
}
