import Foundation

/// The records of an RFC 4180 CSV text, each with the line it starts on and its bytes as
/// written, so a rejected row can be kept verbatim. Quoted fields may hold commas, doubled
/// quotes and line breaks; CRLF and LF both end a record; a UTF-8 byte order mark is skipped. A
/// record that breaks the quoting rules is returned with `malformed` set (and the reader goes on
/// at the next line), never dropped.
///
/// Written here rather than taken from a package: the CSV readers this project may use stop at
/// the first malformed record and do not give back a record's original text.
public struct CSVRecords: Sequence, IteratorProtocol {
    public struct Record: Sendable, Equatable {
        public var fields: [String]
        /// The 1-based line the record starts on.
        public var line: Int
        /// The record as written (without its line ending), invalid UTF-8 repaired.
        public var raw: String
        /// Why the record breaks the quoting rules, if it does.
        public var malformed: String?
    }

    private let bytes: [UInt8]
    private var position: Int
    private var line = 1

    public init(_ data: Data) {
        bytes = [UInt8](data)
        position = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
    }

    public mutating func next() -> Record? {
        guard position < bytes.count else { return nil }
        let start = position, startLine = line
        var fields: [String] = []
        var field: [UInt8] = []
        var quoted = false, inQuotes = false, afterQuote = false
        var problem: String?
        var end = bytes.count // where the record's bytes end (its line break excluded)
        scan: while position < bytes.count {
            let b = bytes[position]
            position += 1
            if inQuotes {
                if b == 0x22 {
                    if position < bytes.count, bytes[position] == 0x22 { field.append(0x22); position += 1 } else { inQuotes = false; afterQuote = true }
                } else {
                    if b == 0x0A { line += 1 }
                    field.append(b)
                }
                continue
            }
            switch b {
            case 0x2C: // ,
                fields.append(String(decoding: field, as: UTF8.self))
                field.removeAll(keepingCapacity: true)
                quoted = false; afterQuote = false
            case 0x0A:
                line += 1
                end = position - 1
                break scan
            case 0x0D where position < bytes.count && bytes[position] == 0x0A:
                continue // the LF ends the record
            case 0x22 where field.isEmpty && !quoted:
                quoted = true; inQuotes = true
            default:
                if afterQuote, problem == nil { problem = "text after a closing quote in field \(fields.count + 1)" }
                field.append(b)
            }
        }
        if inQuotes { problem = "a quoted field is not closed" }
        // A record that went wrong after a quoted field ran on past its line was most likely one
        // stray quote: only its first line is the bad row; what follows is read again.
        if problem != nil, line > startLine + (end < bytes.count ? 1 : 0), let nl = bytes[start...].firstIndex(of: 0x0A) {
            position = nl + 1
            line = startLine + 1
            end = nl
            return Record(fields: [], line: startLine, raw: rawText(start, end), malformed: problem)
        }
        fields.append(String(decoding: field, as: UTF8.self))
        return Record(fields: fields, line: startLine, raw: rawText(start, end), malformed: problem)
    }

    /// The bytes from `start` to `end`, without a carriage return before the line break.
    private func rawText(_ start: Int, _ end: Int) -> String {
        var e = end
        if e > start, bytes[e - 1] == 0x0D { e -= 1 }
        return String(decoding: bytes[start..<e], as: UTF8.self)
    }
}
