import Foundation

/// Translates the archive's query syntax into an FTS5 expression.
///
/// Syntax: words (all must match), `"exact phrases"`, `prefix*`, `AND`, `OR`, `NOT` (in capitals),
/// parentheses. Anything else is taken literally: punctuation inside a word (`e-mail`,
/// `+1-555-0100`, `j.doe@agency.gov`) makes it a phrase instead of an FTS5 syntax error.
/// Diacritics are folded by the index (`operacion` finds `operación`).
public enum SearchQuery {
    public struct Invalid: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    public static func translate(_ query: String) throws -> String {
        var out: [String] = []
        var depth = 0
        var i = query.startIndex
        var expectOperand = true
        func appendTerm(_ t: String) {
            if !expectOperand { out.append("AND") }
            out.append(t)
            expectOperand = false
        }
        while i < query.endIndex {
            let c = query[i]
            if c.isWhitespace { i = query.index(after: i); continue }
            if c == "\"" {
                var j = query.index(after: i)
                var phrase = ""
                while j < query.endIndex, query[j] != "\"" { phrase.append(query[j]); j = query.index(after: j) }
                guard j < query.endIndex else { throw Invalid(description: "a phrase is missing its closing quote (\")") }
                i = query.index(after: j)
                var prefix = false
                if i < query.endIndex, query[i] == "*" { prefix = true; i = query.index(after: i) }
                let trimmed = phrase.trimmingCharacters(in: .whitespaces)
                if trimmed.isEmpty { continue }
                appendTerm(quote(trimmed) + (prefix ? "*" : ""))
                continue
            }
            if c == "(" {
                if !expectOperand { out.append("AND") }
                out.append("(")
                depth += 1
                expectOperand = true
                i = query.index(after: i)
                continue
            }
            if c == ")" {
                guard depth > 0 else { throw Invalid(description: "a closing parenthesis has no opening one") }
                guard !expectOperand else { throw Invalid(description: "an operator or '(' is followed by nothing") }
                out.append(")")
                depth -= 1
                i = query.index(after: i)
                continue
            }
            var j = i
            var word = ""
            while j < query.endIndex, !query[j].isWhitespace, query[j] != "(", query[j] != ")", query[j] != "\"" {
                word.append(query[j]); j = query.index(after: j)
            }
            i = j
            if word == "AND" || word == "OR" || word == "NOT" {
                guard !expectOperand else {
                    throw Invalid(description: "\(word) needs a term on both sides")
                }
                out.append(word)
                expectOperand = true
                continue
            }
            var prefix = false
            if word.hasSuffix("*") {
                prefix = true
                word = String(word.dropLast(while: { $0 == "*" }))
            }
            if word.isEmpty { continue }
            appendTerm(quote(word) + (prefix ? "*" : ""))
        }
        guard depth == 0 else { throw Invalid(description: "a parenthesis is not closed") }
        guard !out.isEmpty else { throw Invalid(description: "the query is empty") }
        guard !expectOperand else { throw Invalid(description: "the query ends with an operator") }
        return out.joined(separator: " ")
    }

    private static func quote(_ s: String) -> String { "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
}

extension String {
    fileprivate func dropLast(while predicate: (Character) -> Bool) -> Substring {
        var end = endIndex
        while end > startIndex, predicate(self[index(before: end)]) { end = index(before: end) }
        return self[startIndex..<end]
    }
}
