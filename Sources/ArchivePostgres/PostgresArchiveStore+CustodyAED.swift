import Archive
import Foundation
import Logging
import PostgresNIO
import RecordkeeperCore

/// Advance electronic data on PostgreSQL: the same rows, guards and audit entries as SQLite's.
extension PostgresArchiveStore: CustodyAdvanceDataStore {
    typealias AEDRow = (Int64, Int64, String, String, String, Int64, Int64, Int64, Bool)
    static let aedColumns = "a.import_id, a.line, a.item_id, a.id_scheme, a.origin_country, a.received_at, a.content_lines, a.hs_coded_lines, a.recipient"

    static func decodeAED(_ r: AEDRow) -> StoredAdvanceData {
        StoredAdvanceData(importID: r.0, line: Int(r.1), itemID: r.2, idScheme: r.3, originCountry: r.4, receivedAtMillis: r.5, contentLines: Int(r.6),
                          hsCodedLines: Int(r.7), recipientPresent: r.8)
    }

    public func aedImport(fileHash: String) async throws -> StoredTargetImport? {
        try await rows("reading an import", """
            SELECT \(unescaped: Self.importColumns) FROM custody_import WHERE kind = 'aed' AND file_sha256 = \(fileHash)
            """, as: ImportRow.self).first.map(Self.decodeImport)
    }

    public func commitAEDImport(_ draft: AEDImportDraft, actor: String) async throws -> StoredTargetImport {
        try await transaction("importing advance data") { conn in
            let logger = self.logger
            try await conn.run("LOCK TABLE custody_import IN SHARE ROW EXCLUSIVE MODE", logger: logger)
            if let done = try await conn.all("""
                SELECT \(unescaped: Self.importColumns) FROM custody_import WHERE kind = 'aed' AND file_sha256 = \(draft.fileHash)
                """, as: ImportRow.self, logger: logger).first {
                return Self.decodeImport(done)
            }
            let importID = Int64(try await conn.count("SELECT coalesce(max(id), 0) FROM custody_import", logger: logger)) + 1
            let rows = draft.rows.map { var r = $0; r.importID = importID; return r }
            if !rows.isEmpty {
                try await conn.copyRows("custody_aed", columns: ["import_id", "line", "item_id", "id_scheme", "origin_country", "received_at", "content_lines",
                                                                 "hs_coded_lines", "recipient"],
                                        rows: rows.map { [.int(importID), .int(Int64($0.line)), .text($0.itemID), .text($0.idScheme), .text($0.originCountry),
                                                          .int($0.receivedAtMillis), .int(Int64($0.contentLines)), .int(Int64($0.hsCodedLines)),
                                                          .bool($0.recipientPresent)] }, logger: logger)
            }
            if !draft.rejected.isEmpty {
                try await conn.copyRows("custody_import_rejection", columns: ["import_id", "line", "code", "detail", "raw"],
                                        rows: draft.rejected.map { [.int(importID), .int(Int64($0.line)), .text($0.code), .text($0.detail), .text($0.raw)] },
                                        logger: logger)
            }
            let digest = StoredAdvanceData.digest(rows)
            let at = Timestamp.iso(millis: Timestamp.nowMillis())
            try await conn.run("""
                INSERT INTO custody_import (id, kind, file_name, file_sha256, rows_total, added, rejected, merged, unknown_columns, digest, imported_by, imported_at)
                VALUES (\(importID), 'aed', \(draft.fileName), \(draft.fileHash), \(Int64(draft.rowsTotal)), \(Int64(rows.count)),
                        \(Int64(draft.rejected.count)), 0, \(draft.unknownColumns.joined(separator: ",")), \(digest), \(actor), \(at))
                """, logger: logger)
            _ = try await Self.appendAudit(conn, AuditDraft(actor: actor, action: "custody.aed.import", target: "custody-import:\(importID)", detail: [
                "file": draft.fileName, "file_sha256": draft.fileHash, "rows": String(draft.rowsTotal), "added": String(rows.count),
                "rejected": String(draft.rejected.count), "digest": digest]), logger: logger)
            return StoredTargetImport(id: importID, fileName: draft.fileName, fileHash: draft.fileHash, rowsTotal: draft.rowsTotal, added: rows.count,
                                      rejected: draft.rejected.count, merged: 0, unknownColumns: draft.unknownColumns, digest: digest, importedBy: actor,
                                      importedAt: at)
        }
    }

    public func aedImports() async throws -> [StoredTargetImport] {
        try await rows("reading imports", "SELECT \(unescaped: Self.importColumns) FROM custody_import WHERE kind = 'aed' ORDER BY id",
                       as: ImportRow.self).map(Self.decodeImport)
    }

    public func advanceData(importID: Int64) async throws -> [StoredAdvanceData] {
        try await rows("reading advance data", "SELECT \(unescaped: Self.aedColumns) FROM custody_aed a WHERE a.import_id = \(importID) ORDER BY a.line",
                       as: AEDRow.self).map(Self.decodeAED)
    }

    public func advanceData(itemIDs: [String], asOf: Int64) async throws -> [String: AdvanceDataInForce] {
        var rows: [StoredAdvanceData] = []
        for start in stride(from: 0, to: itemIDs.count, by: 10_000) {
            let chunk = Array(itemIDs[start..<min(itemIDs.count, start + 10_000)])
            rows += try await self.rows("reading advance data", """
                SELECT \(unescaped: Self.aedColumns) FROM custody_aed a JOIN custody_import i ON i.id = a.import_id AND i.kind = 'aed'
                WHERE a.received_at <= \(asOf) AND a.item_id = ANY(\(chunk))
                """, as: AEDRow.self).map(Self.decodeAED)
        }
        return AdvanceDataInForce.fold(rows)
    }

    public func advanceDataOtherIDs(from: Int64, to: Int64, asOf: Int64) async throws -> [StoredAdvanceData] {
        let sql = AdvanceDataInForce.otherIDsSQL.replacingOccurrences(of: "SELECT a.*", with: "SELECT \(Self.aedColumns)")
        return try await rows("reading advance data", PostgresQuery(unsafeSQL: sql, binds: {
            var b = PostgresBindings()
            b.append(from); b.append(to); b.append(asOf)
            return b
        }()), as: AEDRow.self).map(Self.decodeAED)
    }

    public func advanceDataOutsideImports() async throws -> Int {
        try await column("checking advance data", "\(unescaped: AdvanceDataInForce.outsideImportsSQL)", as: Int64.self).first.map(Int.init) ?? 0
    }
}
