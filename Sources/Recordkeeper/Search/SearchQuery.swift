import Foundation
import RecordkeeperCore

/// The archive's query language, read into a `SearchExpression` (see there for the syntax).
/// Backends compile the tree for their own engines; nothing here knows one.
public enum SearchQuery {
    public typealias Invalid = SearchExpression.Invalid

    public static func parse(_ query: String) throws -> SearchExpression {
        try SearchExpression.parse(query)
    }
}
