import Foundation
import GRDB
import RecordkeeperCore

extension SQLiteArchiveStore: CustodyAdvanceDataStore {
    /// Advance electronic data per piece (R-AED), kept as imported; a later import's row for the
    /// same identifier is the one in force.
    static func migrateCustodyAdvanceData(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE custody_aed (
                import_id INTEGER NOT NULL REFERENCES custody_import(id) DEFERRABLE INITIALLY DEFERRED, line INTEGER NOT NULL, item_id TEXT NOT NULL,
                id_scheme TEXT NOT NULL CHECK (id_scheme IN ('s10', 'other')), origin_country TEXT NOT NULL, received_at INTEGER NOT NULL,
                content_lines INTEGER NOT NULL CHECK (content_lines >= 0), hs_coded_lines INTEGER NOT NULL CHECK (hs_coded_lines BETWEEN 0 AND content_lines),
                recipient INTEGER NOT NULL CHECK (recipient IN (0, 1)),
                PRIMARY KEY (import_id, line), UNIQUE (import_id, item_id)
            );
            CREATE INDEX custody_aed_item ON custody_aed(item_id, import_id);
            CREATE INDEX custody_aed_received ON custody_aed(received_at);
            CREATE TRIGGER custody_aed_kept BEFORE UPDATE ON custody_aed BEGIN SELECT RAISE(ABORT, 'advance data is kept as imported'); END;
            CREATE TRIGGER custody_aed_not_deleted BEFORE DELETE ON custody_aed BEGIN SELECT RAISE(ABORT, 'advance data is kept'); END;
            """)
    }

    static func decodeAED(_ r: Row) -> StoredAdvanceData {
        StoredAdvanceData(importID: r["import_id"], line: r["line"], itemID: r["item_id"], idScheme: r["id_scheme"], originCountry: r["origin_country"],
                          receivedAtMillis: r["received_at"], contentLines: r["content_lines"], hsCodedLines: r["hs_coded_lines"], recipientPresent: r["recipient"])
    }

    public func aedImport(fileHash: String) async throws -> StoredTargetImport? {
        try await read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM custody_import WHERE kind = 'aed' AND file_sha256 = ?", arguments: [fileHash]).map(Self.decodeImport)
        }
    }

    public func commitAEDImport(_ draft: AEDImportDraft, actor: String) async throws -> StoredTargetImport {
        try await write { db in
            if let done = try Row.fetchOne(db, sql: "SELECT * FROM custody_import WHERE kind = 'aed' AND file_sha256 = ?", arguments: [draft.fileHash]) {
                return Self.decodeImport(done)
            }
            let importID = (try Int64.fetchOne(db, sql: "SELECT max(id) FROM custody_import") ?? 0) + 1
            let rows = draft.rows.map { var r = $0; r.importID = importID; return r }
            let insert = try db.makeStatement(sql: """
                INSERT INTO custody_aed (import_id, line, item_id, id_scheme, origin_country, received_at, content_lines, hs_coded_lines, recipient)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            for r in rows {
                try insert.execute(arguments: [importID, r.line, r.itemID, r.idScheme, r.originCountry, r.receivedAtMillis, r.contentLines, r.hsCodedLines,
                                               r.recipientPresent])
            }
            let reject = try db.makeStatement(sql: "INSERT INTO custody_import_rejection (import_id, line, code, detail, raw) VALUES (?, ?, ?, ?, ?)")
            for r in draft.rejected { try reject.execute(arguments: [importID, r.line, r.code, r.detail, r.raw]) }
            let digest = StoredAdvanceData.digest(rows)
            try db.execute(sql: """
                INSERT INTO custody_import (id, kind, file_name, file_sha256, rows_total, added, rejected, merged, unknown_columns, digest, imported_by, imported_at)
                VALUES (?, 'aed', ?, ?, ?, ?, ?, 0, ?, ?, ?, ?)
                """, arguments: [importID, draft.fileName, draft.fileHash, draft.rowsTotal, rows.count, draft.rejected.count,
                                 draft.unknownColumns.joined(separator: ","), digest, actor, Timestamp.iso(millis: Timestamp.nowMillis())])
            try Self.appendAudit(db, AuditDraft(actor: actor, action: "custody.aed.import", target: "custody-import:\(importID)", detail: [
                "file": draft.fileName, "file_sha256": draft.fileHash, "rows": String(draft.rowsTotal), "added": String(rows.count),
                "rejected": String(draft.rejected.count), "digest": digest]))
            return Self.decodeImport(try Row.fetchOne(db, sql: "SELECT * FROM custody_import WHERE id = ?", arguments: [importID])!)
        }
    }

    public func aedImports() async throws -> [StoredTargetImport] {
        try await read { db in try Row.fetchAll(db, sql: "SELECT * FROM custody_import WHERE kind = 'aed' ORDER BY id").map(Self.decodeImport) }
    }

    public func advanceData(importID: Int64) async throws -> [StoredAdvanceData] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM custody_aed WHERE import_id = ? ORDER BY line", arguments: [importID]).map(Self.decodeAED)
        }
    }

    public func advanceData(itemIDs: [String], asOf: Int64) async throws -> [String: AdvanceDataInForce] {
        try await read { db in
            var rows: [StoredAdvanceData] = []
            for chunk in stride(from: 0, to: itemIDs.count, by: 500).map({ Array(itemIDs[$0..<min(itemIDs.count, $0 + 500)]) }) {
                let marks = Array(repeating: "?", count: chunk.count).joined(separator: ",")
                rows += try Row.fetchAll(db, sql: """
                    SELECT a.* FROM custody_aed a JOIN custody_import i ON i.id = a.import_id AND i.kind = 'aed'
                    WHERE a.received_at <= ? AND a.item_id IN (\(marks))
                    """, arguments: StatementArguments([asOf]) + StatementArguments(chunk)).map(Self.decodeAED)
            }
            return AdvanceDataInForce.fold(rows)
        }
    }

    public func advanceDataOtherIDs(from: Int64, to: Int64, asOf: Int64) async throws -> [StoredAdvanceData] {
        try await read { db in
            try Row.fetchAll(db, sql: Self.numberedParameters(AdvanceDataInForce.otherIDsSQL), arguments: [from, to, asOf]).map(Self.decodeAED)
        }
    }

    public func advanceDataOutsideImports() async throws -> Int {
        try await read { db in try Int.fetchOne(db, sql: AdvanceDataInForce.outsideImportsSQL) ?? 0 }
    }
}
