import Foundation

/// Small text recipes shared by every place that shows records to people.
public enum TextRecipes {
    /// Text made safe inside HTML elements and quoted attributes. Bidirectional overrides in
    /// hostile text could reorder what a reviewer reads, so they are shown as references too.
    public static func htmlEscaped(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for c in s.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            case "\u{202A}"..."\u{202E}", "\u{2066}"..."\u{2069}": out += "&#x\(String(c.value, radix: 16));"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    /// 1234567 → "1,234,567" (for counts people read).
    public static func grouped(_ n: Int) -> String {
        let digits = String(n.magnitude)
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0, (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return (n < 0 ? "-" : "") + out
    }
}
