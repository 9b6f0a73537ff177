import Foundation

/// Decides how much of an XML document Foundation's `XMLParser` may be given.
///
/// swift-corelibs-foundation's `XMLParser` (Swift 6.3.1) traps — ending the whole process, server
/// included — on input libxml2 itself only reports as an error: an element that gives an
/// attribute twice (Foundation builds a dictionary and traps on the duplicate key), and an element
/// or attribute name that is not UTF-8 (Foundation force-unwraps it as a string). Both were found
/// by fuzzing the SMS backup reader (issue 17).
///
/// The gate reads the document as a strict subset of XML (the XML declaration and processing
/// instructions, comments, CDATA, elements with quoted attributes, text; no DOCTYPE) and checks
/// that every name is unique in its element and every byte is UTF-8. At the first thing outside
/// that subset it stops and says where and why; `safeLength` is then the end of the last complete
/// markup before it, and the caller gives the parser only that much (the original bytes are kept
/// by the archive, and what follows is reported, not read). A document the gate accepts is
/// tokenized by libxml2 exactly as the gate tokenized it, so neither trap can be reached.
///
/// Streaming: feed it chunks in order.
public struct XMLGate: Sendable {
    public struct Stop: Sendable, Hashable {
        public var line: Int
        public var reason: String
    }

    private enum State: Sendable {
        case text
        case lessThan
        case bang([UInt8])
        /// Passed through until `terminator`, compared with the last bytes read.
        case skipping(terminator: [UInt8], recent: [UInt8])
        /// A processing instruction's target (it must be a name, as libxml2 requires).
        case piTarget([UInt8])
        /// The XML declaration's content, up to "?>".
        case declaration([UInt8])
        case elementName([UInt8], end: Bool)
        case afterEndName
        case attributes(slash: Bool)
        case attributeName([UInt8])
        case afterAttributeName
        case beforeValue
        case value(quote: UInt8)
    }

    private var state = State.text
    private var names: Set<[UInt8]> = []
    private var utf8 = UTF8Check()
    private var offset: Int64 = 0
    /// Where the markup being read began (its '<').
    private var markupStart: Int64 = 0
    public private(set) var line = 1
    /// Bytes from the start that end on a complete piece of markup or text, all checked.
    public private(set) var safeLength: Int64 = 0
    public private(set) var stop: Stop?
    static let longestName = 1000

    public init() {}

    /// Reads a chunk; returns false once the gate has stopped (the rest need not be fed).
    @discardableResult
    public mutating func feed(_ chunk: some Sequence<UInt8>) -> Bool {
        guard stop == nil else { return false }
        for b in chunk {
            guard utf8.accept(b) else { return halt("a byte that is not UTF-8") }
            step(b)
            offset += 1
            if b == 0x0A { line += 1 }
            if stop != nil { return false }
            if case .text = state, utf8.atBoundary { safeLength = offset }
        }
        return true
    }

    /// At the end of the document: whatever markup is still open stops the gate.
    public mutating func finish() {
        guard stop == nil else { return }
        if case .text = state, utf8.atBoundary { safeLength = offset; return }
        _ = halt("the document ends inside markup")
    }

    /// Checks a whole document in memory.
    public static func check(_ bytes: some Sequence<UInt8>) -> XMLGate {
        var gate = XMLGate()
        gate.feed(bytes)
        gate.finish()
        return gate
    }

    @discardableResult
    private mutating func halt(_ reason: String) -> Bool {
        stop = Stop(line: line, reason: reason)
        return false
    }

    private static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D }
    private static func isNameStart(_ b: UInt8) -> Bool {
        (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z")) || b == UInt8(ascii: "_") || b == UInt8(ascii: ":")
    }

    /// `name="value"` (or with single quotes) in a declaration's text.
    static func pseudoAttribute(_ name: String, in text: String) -> String? {
        guard let r = text.range(of: name) else { return nil }
        var rest = text[r.upperBound...].drop(while: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" })
        guard rest.first == "=" else { return nil }
        rest = rest.dropFirst().drop(while: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" })
        guard let quote = rest.first, quote == "\"" || quote == "'" else { return nil }
        return String(rest.dropFirst().prefix(while: { $0 != quote }))
    }

    private static func endsName(_ b: UInt8) -> Bool {
        isSpace(b) || b == UInt8(ascii: ">") || b == UInt8(ascii: "/") || b == UInt8(ascii: "=")
    }
    private static func forbiddenInName(_ b: UInt8) -> Bool {
        b == UInt8(ascii: "<") || b == UInt8(ascii: "\"") || b == UInt8(ascii: "'") || b == UInt8(ascii: "&") || b < 0x20
    }

    private mutating func step(_ b: UInt8) {
        switch state {
        case .text:
            if b == UInt8(ascii: "<") {
                markupStart = offset
                state = .lessThan
            }
        case .lessThan:
            switch b {
            case UInt8(ascii: "!"): state = .bang([])
            case UInt8(ascii: "?"): state = .piTarget([])
            case UInt8(ascii: "/"): state = .elementName([], end: true)
            default:
                guard !Self.endsName(b), !Self.forbiddenInName(b) else { halt("a '<' that opens no element"); return }
                names.removeAll(keepingCapacity: true)
                state = .elementName([b], end: false)
            }
        case .bang(var head):
            head.append(b)
            if head == Array("--".utf8) {
                state = .skipping(terminator: Array("-->".utf8), recent: [])
            } else if head == Array("[CDATA[".utf8) {
                state = .skipping(terminator: Array("]]>".utf8), recent: [])
            } else if Array("--".utf8).starts(with: head) || Array("[CDATA[".utf8).starts(with: head) {
                state = .bang(head)
            } else {
                halt("a document type declaration or unknown markup (<!…), which is not read")
            }
        case .skipping(let terminator, var recent):
            // A window of the last bytes, not a count of matched ones: "]]]>" ends CDATA.
            recent.append(b)
            if recent.count > terminator.count { recent.removeFirst() }
            state = recent == terminator ? .text : .skipping(terminator: terminator, recent: recent)
        case .piTarget(var target):
            if Self.isSpace(b) || b == UInt8(ascii: "?") {
                guard let first = target.first, first >= 0x80 || Self.isNameStart(first) else {
                    halt("a processing instruction without a target name")
                    return
                }
                if target == Array("xml".utf8) {
                    // The declaration comes first, and may name only UTF-8: libxml2 would switch
                    // decoders for another encoding and read bytes the gate never saw as markup.
                    guard markupStart == 0 else { halt("an XML declaration that is not at the start"); return }
                    state = .declaration(b == UInt8(ascii: "?") ? [b] : [])
                } else {
                    state = .skipping(terminator: Array("?>".utf8), recent: b == UInt8(ascii: "?") ? [b] : [])
                }
            } else if Self.forbiddenInName(b) || b == UInt8(ascii: ">") || target.count >= Self.longestName {
                halt("a processing instruction without a target name")
            } else {
                target.append(b)
                state = .piTarget(target)
            }
        case .declaration(var text):
            text.append(b)
            if text.suffix(2).elementsEqual("?>".utf8) {
                let body = String(decoding: text.dropLast(2), as: UTF8.self)
                if let encoding = Self.pseudoAttribute("encoding", in: body),
                   !["utf-8", "utf8", "us-ascii", "ascii"].contains(encoding.lowercased()) {
                    halt("an XML declaration naming the encoding \(encoding.prefix(40)), which is not read (only UTF-8)")
                    return
                }
                state = .text
            } else if text.count > 500 {
                halt("an XML declaration that does not end")
            } else {
                state = .declaration(text)
            }
        case .elementName(var name, let end):
            if Self.endsName(b) {
                guard !name.isEmpty, b != UInt8(ascii: "=") else { halt("an element without a name"); return }
                if end {
                    guard b != UInt8(ascii: "/") else { halt("a malformed end tag"); return }
                    state = b == UInt8(ascii: ">") ? .text : .afterEndName
                } else {
                    state = b == UInt8(ascii: ">") ? .text : .attributes(slash: b == UInt8(ascii: "/"))
                }
            } else if Self.forbiddenInName(b) || name.count >= Self.longestName {
                halt("a malformed element name")
            } else {
                name.append(b)
                state = .elementName(name, end: end)
            }
        case .afterEndName:
            if b == UInt8(ascii: ">") { state = .text } else if !Self.isSpace(b) { halt("a malformed end tag") }
        case .attributes(let slash):
            if slash {
                if b == UInt8(ascii: ">") { state = .text } else { halt("a '/' inside a tag") }
            } else if b == UInt8(ascii: ">") {
                state = .text
            } else if b == UInt8(ascii: "/") {
                state = .attributes(slash: true)
            } else if Self.isSpace(b) {
                break
            } else if Self.endsName(b) || Self.forbiddenInName(b) {
                halt("a malformed attribute")
            } else {
                state = .attributeName([b])
            }
        case .attributeName(var name):
            if Self.isSpace(b) || b == UInt8(ascii: "=") {
                guard names.insert(name).inserted else {
                    halt("an element that gives the attribute \(String(decoding: name, as: UTF8.self).prefix(80)) twice")
                    return
                }
                state = b == UInt8(ascii: "=") ? .beforeValue : .afterAttributeName
            } else if Self.endsName(b) || Self.forbiddenInName(b) || name.count >= Self.longestName {
                halt("a malformed attribute")
            } else {
                name.append(b)
                state = .attributeName(name)
            }
        case .afterAttributeName:
            if b == UInt8(ascii: "=") { state = .beforeValue } else if !Self.isSpace(b) { halt("an attribute without a value") }
        case .beforeValue:
            if b == UInt8(ascii: "\"") || b == UInt8(ascii: "'") { state = .value(quote: b) } else if !Self.isSpace(b) {
                halt("an attribute value without quotes")
            }
        case .value(let quote):
            if b == quote { state = .attributes(slash: false) } else if b == UInt8(ascii: "<") { halt("a '<' inside an attribute value") }
        }
    }
}

/// Incremental UTF-8 validation (RFC 3629: no overlong forms, no surrogates, nothing past U+10FFFF).
struct UTF8Check: Sendable {
    private var needed = 0
    private var lower: UInt8 = 0x80
    private var upper: UInt8 = 0xBF

    var atBoundary: Bool { needed == 0 }

    mutating func accept(_ b: UInt8) -> Bool {
        if needed == 0 {
            switch b {
            case 0x00...0x7F: return true
            case 0xC2...0xDF: needed = 1
            case 0xE0: needed = 2; lower = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: needed = 2
            case 0xED: needed = 2; upper = 0x9F
            case 0xF0: needed = 3; lower = 0x90
            case 0xF1...0xF3: needed = 3
            case 0xF4: needed = 3; upper = 0x8F
            default: return false
            }
            return true
        }
        guard b >= lower, b <= upper else { return false }
        lower = 0x80
        upper = 0xBF
        needed -= 1
        return true
    }
}
