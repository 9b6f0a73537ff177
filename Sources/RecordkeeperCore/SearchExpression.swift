import Foundation

/// A search query as a tree, in no engine's syntax: the services parse what a user typed into
/// it, and each backend compiles it for its own engine (SQLite FTS5 `MATCH`, PostgreSQL
/// `tsquery`). No engine syntax crosses the store boundary.
///
/// The language: words (all must match), `"exact phrases"`, `prefix*` (also `"a phrase"*`),
/// `AND`, `OR`, `NOT` (in capitals), parentheses. `NOT` binds tightest, then `AND` (also
/// implied between neighbours), then `OR`: `a OR b c` is `a OR (b AND c)`; `a b NOT c` is
/// `a AND (b NOT c)`. Anything else is taken literally: punctuation inside a word (`e-mail`,
/// `+1-555-0100`, `j.doe@agency.gov`) makes it a phrase of its parts, never a syntax error.
public indirect enum SearchExpression: Sendable, Hashable, CustomStringConvertible {
    /// Text whose words must appear together, in order (one word is a phrase of one). With
    /// `prefix`, its last word may continue (`sec*` finds `secondary`).
    case phrase(String, prefix: Bool)
    /// Every part matches.
    case all([SearchExpression])
    /// At least one part matches.
    case any([SearchExpression])
    /// The first matches and the second does not.
    case but(SearchExpression, not: SearchExpression)

    public struct Invalid: Error, CustomStringConvertible, Sendable {
        public let description: String
        public init(_ description: String) { self.description = description }
    }

    /// Parses the archive's query language.
    /// Most parentheses open at once: the parser and every reader of the tree recurse once per
    /// level (a fuzzed query of 2,000 '(' overflowed the stack, which ends the server).
    public static let maxNesting = 50
    /// Most terms and operators in one query (a chain of NOTs nests the tree as deep as it is long).
    public static let maxTokens = 1_000

    public static func parse(_ query: String) throws -> SearchExpression {
        var parser = Parser(tokens: try tokenize(query))
        guard !parser.tokens.isEmpty else { throw Invalid("the query is empty") }
        guard parser.tokens.count <= maxTokens else {
            throw Invalid("the query has \(parser.tokens.count) terms and operators; at most \(maxTokens) (split it into several searches)")
        }
        let e = try parser.orExpression()
        if parser.position < parser.tokens.count {
            throw Invalid(parser.tokens[parser.position] == .close ? "a closing parenthesis has no opening one"
                                                                   : "\(parser.tokens[parser.position]) is out of place")
        }
        return e
    }

    /// The canonical text of the query in its own language: every phrase quoted, every group
    /// parenthesized. It parses back to the same tree (holds store their query this way).
    public var description: String {
        switch self {
        case .phrase(let text, let prefix):
            return "\"" + text.replacingOccurrences(of: "\"", with: " ") + "\"" + (prefix ? "*" : "")
        case .all(let parts): return parts.map { $0.grouped(inside: .all) }.joined(separator: " AND ")
        case .any(let parts): return parts.map { $0.grouped(inside: .any) }.joined(separator: " OR ")
        case .but(let a, let b): return a.grouped(inside: .but) + " NOT " + b.grouped(inside: .but)
        }
    }

    /// Every phrase in the query, left to right.
    public var phrases: [(text: String, prefix: Bool)] {
        switch self {
        case .phrase(let text, let prefix): return [(text, prefix)]
        case .all(let parts), .any(let parts): return parts.flatMap(\.phrases)
        case .but(let a, let b): return a.phrases + b.phrases
        }
    }

    private enum Context { case all, any, but }

    private func grouped(inside context: Context) -> String {
        switch (self, context) {
        case (.phrase, _), (.all, .any): return description
        default: return "(" + description + ")"
        }
    }

    // MARK: Parsing

    enum Token: Equatable, CustomStringConvertible {
        case phrase(String, prefix: Bool)
        case and, or, not, open, close
        var description: String {
            switch self {
            case .phrase(let t, _): return "'\(t)'"
            case .and: return "AND"
            case .or: return "OR"
            case .not: return "NOT"
            case .open: return "'('"
            case .close: return "')'"
            }
        }
        var startsOperand: Bool {
            switch self {
            case .phrase, .open: return true
            default: return false
            }
        }
    }

    static func tokenize(_ query: String) throws -> [Token] {
        var out: [Token] = []
        var i = query.startIndex
        while i < query.endIndex {
            let c = query[i]
            if c.isWhitespace { i = query.index(after: i); continue }
            if c == "\"" {
                var j = query.index(after: i)
                var phrase = ""
                while j < query.endIndex, query[j] != "\"" { phrase.append(query[j]); j = query.index(after: j) }
                guard j < query.endIndex else { throw Invalid("a phrase is missing its closing quote (\")") }
                i = query.index(after: j)
                var prefix = false
                if i < query.endIndex, query[i] == "*" { prefix = true; i = query.index(after: i) }
                let trimmed = phrase.trimmingCharacters(in: .whitespaces)
                if !trimmed.isEmpty { out.append(.phrase(trimmed, prefix: prefix)) }
                continue
            }
            if c == "(" { out.append(.open); i = query.index(after: i); continue }
            if c == ")" { out.append(.close); i = query.index(after: i); continue }
            var j = i
            var word = ""
            while j < query.endIndex, !query[j].isWhitespace, query[j] != "(", query[j] != ")", query[j] != "\"" {
                word.append(query[j]); j = query.index(after: j)
            }
            i = j
            switch word {
            case "AND": out.append(.and)
            case "OR": out.append(.or)
            case "NOT": out.append(.not)
            default:
                var prefix = false
                while word.hasSuffix("*") { prefix = true; word.removeLast() }
                if !word.isEmpty { out.append(.phrase(word, prefix: prefix)) }
            }
        }
        return out
    }

    struct Parser {
        let tokens: [Token]
        var position = 0
        var depth = 0

        var next: Token? { position < tokens.count ? tokens[position] : nil }

        mutating func orExpression() throws -> SearchExpression {
            var parts = [try andExpression()]
            while next == .or {
                position += 1
                parts.append(try andExpression(after: "OR"))
            }
            return parts.count == 1 ? parts[0] : .any(parts.flatMap { if case .any(let p) = $0 { p } else { [$0] } })
        }

        mutating func andExpression(after op: String? = nil) throws -> SearchExpression {
            var parts = [try notExpression(after: op)]
            while let t = next, t == .and || t.startsOperand {
                if t == .and { position += 1 }
                parts.append(try notExpression(after: t == .and ? "AND" : nil))
            }
            return parts.count == 1 ? parts[0] : .all(parts.flatMap { if case .all(let p) = $0 { p } else { [$0] } })
        }

        mutating func notExpression(after op: String?) throws -> SearchExpression {
            var e = try primary(after: op)
            while next == .not {
                position += 1
                e = .but(e, not: try primary(after: "NOT"))
            }
            return e
        }

        mutating func primary(after op: String?) throws -> SearchExpression {
            guard let t = next else {
                if let op { throw Invalid(op == "NOT" || op == "AND" || op == "OR" ? "the query ends with an operator (\(op))" : "the query is incomplete") }
                throw Invalid("the query is empty")
            }
            switch t {
            case .phrase(let text, let prefix):
                position += 1
                return .phrase(text, prefix: prefix)
            case .open:
                position += 1
                depth += 1
                guard depth <= SearchExpression.maxNesting else {
                    throw Invalid("parentheses are nested more than \(SearchExpression.maxNesting) deep")
                }
                guard next != .close else { throw Invalid("a pair of parentheses holds nothing") }
                let e = try orExpression()
                guard next == .close else { throw Invalid("a parenthesis is not closed") }
                position += 1
                depth -= 1
                return e
            case .close:
                throw Invalid(depth == 0 ? "a closing parenthesis has no opening one" : "an operator or '(' is followed by nothing")
            case .and, .or, .not:
                throw Invalid("\(t) needs a term on both sides")
            }
        }
    }
}
