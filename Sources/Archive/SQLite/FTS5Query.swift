import Foundation
import RecordkeeperCore

/// Compiles a `SearchExpression` into an FTS5 `MATCH` expression. Every phrase is quoted (so
/// nothing a user typed is FTS5 syntax) and every group is parenthesized (so FTS5's precedence
/// never has to agree with the tree's).
enum FTS5Query {
    static func compile(_ e: SearchExpression) -> String {
        switch e {
        case .phrase(let text, let prefix):
            return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" + (prefix ? "*" : "")
        case .all(let parts): return parts.map(group).joined(separator: " AND ")
        case .any(let parts): return parts.map(group).joined(separator: " OR ")
        case .but(let a, let b): return group(a) + " NOT " + group(b)
        }
    }

    private static func group(_ e: SearchExpression) -> String {
        if case .phrase = e { return compile(e) }
        return "(" + compile(e) + ")"
    }
}

extension SearchRequest {
    /// The query as an FTS5 expression; empty when the filters alone collect.
    var match: String { query.map(FTS5Query.compile) ?? "" }
}
