/// The timestamp header that starts a WhatsApp export line, as scanned from raw UTF-8 bytes.
///
/// Grammar (FORMATS.md §1.2): optional invisible marks, optional `[`, a date of three 1–4 digit
/// groups separated by `/`, `-` or `.` (each optionally followed by a space), an optional `.` and
/// `,`, whitespace, an optional locale word (`klo`) or East-Asian am/pm marker, a time `H:MM` or
/// `H.MM` with optional seconds, an optional am/pm marker in any spelling (`am`, `a.m.`, `a. m.`,
/// NBSP or U+202F before it), an optional `]`, then ` - ` (Android), a space (iOS) or a space in
/// the bare style some locales use.
struct WhatsAppHeader: Equatable {
    enum Style: String { case bracket, dash, bare }
    enum Meridiem { case am, pm }

    var a: Int, b: Int, c: Int
    var aDigits: Int, bDigits: Int, cDigits: Int
    var hour: Int, minute: Int, second: Int?
    var meridiem: Meridiem?
    var style: Style
    /// Index in the line where the author/text part starts.
    var restStart: Int

    /// The 24-hour hour (12 AM → 0, 12 PM → 12).
    var hour24: Int {
        switch meridiem {
        case nil: return hour
        case .am: return hour == 12 ? 0 : hour
        case .pm: return hour == 12 ? 12 : hour + 12
        }
    }

    /// Scans `line`; returns nil when the line does not start with a header.
    /// `bareLatinMeridiem`: whether a bare-style header may carry a Latin am/pm. In that style
    /// nothing separates the time from the author, so "9:05 Am Lee: …" is ambiguous; the file's
    /// own evidence decides (see `WhatsAppConnector.open`).
    static func scan(_ line: ArraySlice<UInt8>, bareLatinMeridiem: Bool = true) -> WhatsAppHeader? {
        var s = ByteScanner(line)
        s.skipMarks()
        let bracket = s.eat(0x5B) // [
        if bracket { s.skipMarks() }
        guard let (a, aDigits) = s.number(maxDigits: 4) else { return nil }
        guard let sep = s.peek(), sep == 0x2F || sep == 0x2D || sep == 0x2E else { return nil } // / - .
        s.advance()
        s.eatSpace()
        guard let (b, bDigits) = s.number(maxDigits: 4), s.eat(sep) else { return nil }
        s.eatSpace()
        guard let (c, cDigits) = s.number(maxDigits: 4) else { return nil }
        if sep == 0x2E { _ = s.eat(0x2E) }           // "13. 6. 2018."
        _ = s.eat(0x2C) || s.eatArabicComma()         // ","
        guard s.skipWhitespace() >= 1 else { return nil }
        var meridiem: Meridiem? = s.eastAsianMeridiem()
        if meridiem != nil {
            s.skipWhitespace()
        } else {
            s.skipLocaleWord()                         // Finnish "klo", German "um"
        }
        guard let (hour, _) = s.number(maxDigits: 2) else { return nil }
        guard let tsep = s.peek(), tsep == 0x3A || tsep == 0x2E else { return nil }
        s.advance()
        guard let (minute, mDigits) = s.number(maxDigits: 2), mDigits == 2 else { return nil }
        var second: Int?
        if let p = s.peek(), p == tsep, let d = s.peek(1), d >= 0x30, d <= 0x39 {
            s.advance()
            guard let (sec, sDigits) = s.number(maxDigits: 2), sDigits == 2 else { return nil }
            second = sec
        }
        let afterTime = s.position
        s.skipWhitespace()
        var latinMeridiem = false
        if meridiem == nil {
            let eastAsian = s.eastAsianMeridiem()
            if let m = eastAsian ?? s.meridiem() {
                meridiem = m
                latinMeridiem = eastAsian == nil
            } else {
                s.position = afterTime
            }
        } else {
            s.position = afterTime
        }
        if latinMeridiem, !bareLatinMeridiem {
            // Only a bracket or " - " after it proves a meridiem; otherwise, in a file whose
            // headers are mostly 24-hour, "Am Lee" is the author.
            var probe = s
            probe.skipWhitespace()
            let framed = probe.peek() == 0x5D || (probe.eat(0x2D) || probe.eatEnDash())
            if !framed {
                s.position = afterTime
                meridiem = nil
            }
        }
        if meridiem != nil {
            guard (1...12).contains(hour) else { return nil }
        } else {
            guard hour <= 23 else { return nil }
        }
        guard minute <= 59, (second ?? 0) <= 59 else { return nil }
        let style: Style
        if bracket {
            s.skipWhitespace()
            guard s.eat(0x5D) else { return nil } // ]
            if !s.atEnd {
                guard s.skipSpacesOnly() >= 1 else { return nil }
            }
            style = .bracket
        } else {
            let spaces = s.skipWhitespace()
            if spaces >= 1, s.eat(0x2D) {            // " - "
                guard s.atEnd || s.skipSpacesOnly() >= 1 else { return nil }
                style = .dash
            } else if spaces >= 1, s.eatEnDash() {
                guard s.atEnd || s.skipSpacesOnly() >= 1 else { return nil }
                style = .dash
            } else if spaces >= 1, !s.atEnd {
                style = .bare
            } else {
                return nil
            }
        }
        return WhatsAppHeader(a: a, b: b, c: c, aDigits: aDigits, bDigits: bDigits, cDigits: cDigits,
                              hour: hour, minute: minute, second: second, meridiem: meridiem, style: style,
                              restStart: s.position)
    }
}

/// A cursor over UTF-8 bytes with the few recognisers the header grammar needs.
struct ByteScanner {
    let bytes: ArraySlice<UInt8>
    var position: Int

    init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        self.position = bytes.startIndex
    }

    var atEnd: Bool { position >= bytes.endIndex }

    func peek(_ offset: Int = 0) -> UInt8? {
        let i = position + offset
        return i < bytes.endIndex ? bytes[i] : nil
    }

    mutating func advance(_ n: Int = 1) { position += n }

    mutating func eat(_ byte: UInt8) -> Bool {
        if peek() == byte { position += 1; return true }
        return false
    }

    mutating func eatSpace() { _ = eat(0x20) }

    mutating func eatArabicComma() -> Bool {   // U+060C = D8 8C
        if peek() == 0xD8, peek(1) == 0x8C { position += 2; return true }
        return false
    }

    mutating func eatEnDash() -> Bool {        // U+2013 = E2 80 93
        if peek() == 0xE2, peek(1) == 0x80, peek(2) == 0x93 { position += 3; return true }
        return false
    }

    mutating func number(maxDigits: Int) -> (Int, Int)? {
        var value = 0
        var digits = 0
        while let b = peek(), b >= 0x30, b <= 0x39, digits < maxDigits {
            value = value * 10 + Int(b - 0x30)
            digits += 1
            position += 1
        }
        if let b = peek(), b >= 0x30, b <= 0x39 { return nil } // too many digits
        return digits == 0 ? nil : (value, digits)
    }

    /// Length of an invisible mark at the cursor (LRM, RLM, LRE…PDF, LRI…PDI, ZWSP/ZWNJ/ZWJ, BOM).
    func markLength() -> Int {
        guard let b0 = peek() else { return 0 }
        if b0 == 0xE2, let b1 = peek(1), let b2 = peek(2) {
            if b1 == 0x80, (0x8B...0x8F).contains(b2) || (0xAA...0xAE).contains(b2) { return 3 }
            if b1 == 0x81, (0xA6...0xA9).contains(b2) { return 3 }
        }
        if b0 == 0xEF, peek(1) == 0xBB, peek(2) == 0xBF { return 3 }
        if b0 == 0xC2, peek(1) == 0xAD { return 2 } // soft hyphen
        return 0
    }

    mutating func skipMarks() {
        while true {
            let n = markLength()
            if n == 0 { return }
            position += n
        }
    }

    /// Length of a whitespace character at the cursor: space, tab, NBSP, U+202F, U+2009, U+2007.
    func whitespaceLength() -> Int {
        guard let b0 = peek() else { return 0 }
        if b0 == 0x20 || b0 == 0x09 { return 1 }
        if b0 == 0xC2, peek(1) == 0xA0 { return 2 }
        if b0 == 0xE2, peek(1) == 0x80, let b2 = peek(2), b2 == 0xAF || b2 == 0x89 || b2 == 0x87 { return 3 }
        return 0
    }

    /// Skips whitespace and invisible marks; returns the number of whitespace characters skipped.
    @discardableResult
    mutating func skipWhitespace() -> Int {
        var count = 0
        while true {
            let w = whitespaceLength()
            if w > 0 { position += w; count += 1; continue }
            let m = markLength()
            if m > 0 { position += m; continue }
            return count
        }
    }

    /// Skips whitespace but not marks (marks after the header belong to the author, verbatim).
    @discardableResult
    mutating func skipSpacesOnly() -> Int {
        var count = 0
        while true {
            let w = whitespaceLength()
            if w == 0 { return count }
            position += w
            count += 1
        }
    }

    /// Skips a short ASCII word followed by whitespace and a digit ("klo 21.25", "um 14:30").
    mutating func skipLocaleWord() {
        let save = position
        var letters = 0
        while let b = peek(), (b | 0x20) >= 0x61, (b | 0x20) <= 0x7A { position += 1; letters += 1 }
        if letters >= 1, letters <= 4, skipWhitespace() >= 1, let d = peek(), d >= 0x30, d <= 0x39 { return }
        position = save
    }

    /// Latin am/pm in any spelling: `am`, `AM`, `a.m.`, `a. m.`, `a.m`, with NBSP/U+202F inside.
    mutating func meridiem() -> WhatsAppHeader.Meridiem? {
        let save = position
        guard let first = peek() else { return nil }
        let lower = first | 0x20
        let m: WhatsAppHeader.Meridiem
        if lower == 0x61 { m = .am } else if lower == 0x70 { m = .pm } else {
            if let e = eastAsianMeridiem() { return e }
            return nil
        }
        position += 1
        _ = eat(0x2E)
        skipWhitespace()
        guard let second = peek(), second | 0x20 == 0x6D else { position = save; return nil }
        position += 1
        _ = eat(0x2E)
        // Must not run into a letter ("amazing").
        if let next = peek(), (next | 0x20) >= 0x61, (next | 0x20) <= 0x7A { position = save; return nil }
        return m
    }

    private static let eastAsian: [([UInt8], WhatsAppHeader.Meridiem)] = [
        (Array("午前".utf8), .am), (Array("午後".utf8), .pm), (Array("오전".utf8), .am), (Array("오후".utf8), .pm),
        (Array("上午".utf8), .am), (Array("下午".utf8), .pm), (Array("ص".utf8), .am), (Array("م".utf8), .pm),
        (Array("ก่อนเที่ยง".utf8), .am), (Array("หลังเที่ยง".utf8), .pm),
    ]

    mutating func eastAsianMeridiem() -> WhatsAppHeader.Meridiem? {
        guard let b = peek(), b >= 0xC0 else { return nil }
        for (marker, value) in ByteScanner.eastAsian where matches(marker) {
            position += marker.count
            return value
        }
        return nil
    }

    func matches(_ marker: [UInt8]) -> Bool {
        guard position + marker.count <= bytes.endIndex else { return false }
        var i = position
        for m in marker {
            if bytes[i] != m { return false }
            i += 1
        }
        return true
    }
}
