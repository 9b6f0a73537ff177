import Foundation
import GRDB
import RecordkeeperCore

/// One stored value as it leaves a table, for copying an archive to another backend.
public enum TableValue: Sendable, Hashable, Codable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case bytes([UInt8])
}

/// A table of the embedded store as `migrate` reads it: its columns, and the key its rows are
/// read in order of (the rowid, or the primary key of a table without one).
public struct ExportedTable: Sendable, Hashable {
    public var name: String
    public var columns: [String]
    /// Columns (or `rowid`) that order the rows and let a copy resume after the last one it
    /// committed.
    public var key: [String]
}

extension SQLiteArchiveStore {
    /// Every table of the record store (not SQLite's own, nor GRDB's migration list, nor the
    /// shadow tables behind full-text indexes), with its columns and paging key.
    public func exportedTables() async throws -> [ExportedTable] {
        try await read { db in
            let names = try String.fetchAll(db, sql: """
                SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'grdb_migrations'
                ORDER BY name
                """)
            let virtual = Set(try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL TABLE%'"))
            // FTS5 keeps each index in shadow tables named after it (`message_fts_data`, …).
            let shadows = ["_data", "_idx", "_content", "_docsize", "_config"]
            var tables: [ExportedTable] = []
            for name in names where !virtual.contains(name) && !virtual.contains(where: { v in shadows.contains { name == v + $0 } }) {
                let info = try Row.fetchAll(db, sql: "SELECT name, pk FROM pragma_table_info(?)", arguments: [name])
                let columns: [String] = info.map { $0["name"] }
                let withoutRowID = try Bool.fetchOne(db, sql: "SELECT wr FROM pragma_table_list WHERE name = ? AND schema = 'main'", arguments: [name]) ?? false
                let key: [String]
                if withoutRowID {
                    key = info.filter { ($0["pk"] as Int) > 0 }.sorted { ($0["pk"] as Int) < ($1["pk"] as Int) }.map { $0["name"] }
                } else {
                    key = ["rowid"]
                }
                tables.append(ExportedTable(name: name, columns: columns, key: key))
            }
            return tables
        }
    }

    /// Rows of `table` in key order after `after` (the key values of the last row already
    /// copied; nil from the start), at most `limit`: each row's `columns`, then its key values.
    public func exportedRows(_ table: ExportedTable, columns: [String], after: [TableValue]?, limit: Int) async throws -> [(values: [TableValue], key: [TableValue])] {
        try await read { db in
            let keyList = table.key.map { $0 == "rowid" ? "rowid" : $0.quotedDatabaseIdentifier }
            let selected = (columns.map(\.quotedDatabaseIdentifier) + keyList).joined(separator: ", ")
            var sql = "SELECT \(selected) FROM \(table.name.quotedDatabaseIdentifier)"
            var arguments = StatementArguments()
            if let after {
                sql += " WHERE (\(keyList.joined(separator: ", "))) > (\(Array(repeating: "?", count: after.count).joined(separator: ", ")))"
                for v in after { _ = arguments.append(contentsOf: [Self.databaseValue(v)]) }
            }
            sql += " ORDER BY \(keyList.joined(separator: ", ")) LIMIT \(limit)"
            return try Row.fetchAll(db, sql: sql, arguments: arguments).map { row in
                let all = (0..<row.count).map { Self.tableValue(row[$0] as DatabaseValue) }
                return (Array(all[0..<columns.count]), Array(all[columns.count...]))
            }
        }
    }

    /// How many rows `table` holds.
    public func exportedCount(_ table: String) async throws -> Int {
        try await read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM \(table.quotedDatabaseIdentifier)") ?? 0 }
    }

    static func tableValue(_ v: DatabaseValue) -> TableValue {
        switch v.storage {
        case .null: .null
        case .int64(let i): .integer(i)
        case .double(let d): .real(d)
        case .string(let s): .text(s)
        case .blob(let b): .bytes([UInt8](b))
        }
    }

    static func databaseValue(_ v: TableValue) -> DatabaseValue {
        switch v {
        case .null: .null
        case .integer(let i): i.databaseValue
        case .real(let d): d.databaseValue
        case .text(let s): s.databaseValue
        case .bytes(let b): Data(b).databaseValue
        }
    }
}
