import Foundation
import GRDB
import GRDBSQLite
import RecordkeeperCore

/// A message row presented to the content-hash recipe straight from SQLite's column buffers,
/// so `verify` hashes stored bytes without building Swift values (see decision 0001).
struct SQLiteMessageRow: MessageHashSource {
    /// Columns in this order; `id` and `content_hash` follow the hashed fields.
    static let select = """
        SELECT identity_key, platform, conversation_key, source_ordinal, dup_ordinal, sent_local, time_zone, sent_at,
               captured_at, sender, sender_raw, body, raw, kind, flags, source_hash, source_member, source_line, line_count,
               id, content_hash
        FROM message WHERE id > ? AND id <= ? ORDER BY id
        """
    static let idColumn: Int32 = 19
    static let contentHashColumn: Int32 = 20

    let statement: SQLiteStatement
    let attachments: [ArchivedAttachment]

    private static func column(_ field: MessageHashField) -> Int32 {
        switch field {
        case .identity: return 0
        case .platform: return 1
        case .conversation: return 2
        case .ordinal: return 3
        case .duplicateOrdinal: return 4
        case .sentLocal: return 5
        case .timeZone: return 6
        case .sentAt: return 7
        case .capturedAt: return 8
        case .sender: return 9
        case .senderRaw: return 10
        case .body: return 11
        case .raw: return 12
        case .kind: return 13
        case .flags: return 14
        case .source: return 15
        case .member: return 16
        case .line: return 17
        case .lineCount: return 18
        }
    }

    func withText<R>(_ field: MessageHashField, _ body: (UnsafeRawBufferPointer?) -> R) -> R {
        text(Self.column(field), body)
    }

    func text<R>(_ column: Int32, _ body: (UnsafeRawBufferPointer?) -> R) -> R {
        guard sqlite3_column_type(statement, column) != SQLITE_NULL else { return body(nil) }
        // sqlite3_column_text before sqlite3_column_bytes, as SQLite's documentation requires.
        let pointer = sqlite3_column_text(statement, column)
        let count = Int(sqlite3_column_bytes(statement, column))
        return body(UnsafeRawBufferPointer(start: pointer, count: count))
    }

    func integer(_ field: MessageHashField) -> Int64? {
        let c = Self.column(field)
        // Only a stored integer counts: text such as "12 (edited)" would otherwise read as 12.
        // Anything else hashes as absent, which no record was written with.
        guard sqlite3_column_type(statement, c) == SQLITE_INTEGER else { return nil }
        return sqlite3_column_int64(statement, c)
    }

    var estimatedSize: Int {
        512 + Int(sqlite3_column_bytes(statement, 11)) + Int(sqlite3_column_bytes(statement, 12))
    }

    /// A text column as a hash, nil when it is not one.
    func hash(_ column: Int32) -> ContentHash? {
        text(column) { $0.flatMap { ContentHash(hex: String(decoding: $0, as: UTF8.self)) } }
    }
}

extension SQLiteArchiveStore {
    /// Byte equality of a column's text and a buffer, with memcmp.
    static func equal(_ a: UnsafeRawBufferPointer, _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        guard let base = a.baseAddress, !b.isEmpty else { return true }
        return b.withUnsafeBytes { memcmp(base, $0.baseAddress!, b.count) == 0 }
    }

    public func verifyMessageHashes(afterID: Int64, throughID: Int64, limit: Int) async throws -> [MessageHashCheck] {
        try await read { db in
            guard let last = try Int64.fetchOne(db, sql: "SELECT max(id) FROM (SELECT id FROM message WHERE id > ? AND id <= ? ORDER BY id LIMIT ?)",
                                                arguments: [afterID, throughID, limit]) else { return [] }
            let attachments = try Self.fetchAttachments(db, messageIDs: (afterID + 1)...last)
            let statement = try db.makeStatement(sql: SQLiteMessageRow.select)
            var binder = RawBinder(statement, db)
            binder.bind(afterID)
            binder.bind(last)
            let raw = statement.sqliteStatement
            var out: [MessageHashCheck] = []
            out.reserveCapacity(limit)
            // One buffer for every row's serialisation and one for its hex digest; the export a run
            // of rows names is parsed once (every message of a batch names the same one).
            var encoder = CanonicalEncoder(kind: "message", version: ArchivedMessage.hashVersion, capacity: 4096)
            var hex = [UInt8](repeating: 0, count: 64)
            var sourceText: [UInt8] = []
            var source: ContentHash?
            while true {
                let code = sqlite3_step(raw)
                if code == SQLITE_DONE { break }
                guard code == SQLITE_ROW else {
                    throw DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
                }
                let id = sqlite3_column_int64(raw, SQLiteMessageRow.idColumn)
                let row = SQLiteMessageRow(statement: raw, attachments: attachments[id] ?? [])
                ArchivedMessage.encodeCanonical(from: row, into: &encoder)
                encoder.hexDigest(into: &hex)
                let matches = row.text(SQLiteMessageRow.contentHashColumn) { stored in stored.map { Self.equal($0, hex) } ?? false }
                let sameSource = row.text(15) { text in text.map { Self.equal($0, sourceText) } ?? false }
                if !sameSource {
                    sourceText = row.text(15) { $0.map { Array($0) } ?? [] }
                    source = row.hash(15)
                }
                out.append(MessageHashCheck(
                    id: id,
                    mismatch: matches ? nil : .init(computed: ContentHash(hex: String(decoding: hex, as: UTF8.self))!,
                                                    stored: row.hash(SQLiteMessageRow.contentHashColumn)),
                    sourceBlob: source, attachmentBlobs: row.attachments.compactMap(\.blob), bytes: encoder.count))
            }
            sqlite3_reset(raw)
            return out
        }
    }
}
