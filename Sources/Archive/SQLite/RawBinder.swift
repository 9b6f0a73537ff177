import GRDB
import GRDBSQLite

/// Binds and runs a prepared statement through the SQLite C API, for the ingest hot path only.
///
/// GRDB's `StatementArguments` boxes every value in an existential, which cost as much as
/// SQLite's own work when inserting millions of messages. This binder is used inside a GRDB
/// write transaction on a GRDB-prepared statement; nothing outside `SQLiteArchiveStore` sees it.
struct RawBinder {
    private let statement: SQLiteStatement
    private let connection: SQLiteConnection
    private var index: Int32 = 0
    /// SQLITE_TRANSIENT: SQLite copies the bytes before the call returns.
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    init(_ statement: Statement, _ db: Database) {
        self.statement = statement.sqliteStatement
        self.connection = db.sqliteConnection!
        sqlite3_reset(self.statement)
        sqlite3_clear_bindings(self.statement)
    }

    mutating func bind(_ value: String?) {
        index += 1
        guard var value else { sqlite3_bind_null(statement, index); return }
        value.withUTF8 { utf8 in
            _ = sqlite3_bind_text(statement, index, UnsafeRawPointer(utf8.baseAddress!).assumingMemoryBound(to: CChar.self),
                                  Int32(utf8.count), RawBinder.transient)
        }
    }

    mutating func bind(_ value: Int64?) {
        index += 1
        guard let value else { sqlite3_bind_null(statement, index); return }
        sqlite3_bind_int64(statement, index, value)
    }

    mutating func bind(_ value: Int) { bind(Int64(value)) }

    /// Runs the statement; returns the number of rows it changed.
    func step() throws -> Int {
        let code = sqlite3_step(statement)
        guard code == SQLITE_DONE else {
            let message = String(cString: sqlite3_errmsg(connection))
            sqlite3_reset(statement)
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: message)
        }
        return Int(sqlite3_changes(connection))
    }
}
