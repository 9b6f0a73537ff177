import Archive
import Foundation
import Logging
import PostgresNIO
import RecordkeeperCore

/// Carrier manifests per container on PostgreSQL: the same rows, guards and audit entries as SQLite's.
extension PostgresArchiveStore: CustodyManifestStore {
    typealias ManifestRow = (Int64, Int64, String, String, String, String)
    static let manifestColumns = "m.import_id, m.line, m.day, m.container, m.direction, m.s10"

    static func decodeManifestRow(_ r: ManifestRow) -> StoredManifestRow {
        StoredManifestRow(importID: r.0, line: Int(r.1), day: r.2, container: r.3, direction: r.4, s10: r.5)
    }

    public func manifestImport(fileHash: String) async throws -> StoredTargetImport? {
        try await rows("reading an import", """
            SELECT \(unescaped: Self.importColumns) FROM custody_import WHERE kind = 'manifest' AND file_sha256 = \(fileHash)
            """, as: ImportRow.self).first.map(Self.decodeImport)
    }

    public func commitManifestImport(_ draft: ManifestImportDraft, actor: String) async throws -> StoredTargetImport {
        try await transaction("importing a manifest") { conn in
            let logger = self.logger
            try await conn.run("LOCK TABLE custody_import IN SHARE ROW EXCLUSIVE MODE", logger: logger)
            if let done = try await conn.all("""
                SELECT \(unescaped: Self.importColumns) FROM custody_import WHERE kind = 'manifest' AND file_sha256 = \(draft.fileHash)
                """, as: ImportRow.self, logger: logger).first {
                return Self.decodeImport(done)
            }
            let importID = Int64(try await conn.count("SELECT coalesce(max(id), 0) FROM custody_import", logger: logger)) + 1
            let rows = draft.rows.map { var r = $0; r.importID = importID; return r }
            if !rows.isEmpty {
                try await conn.copyRows("custody_manifest", columns: ["import_id", "line", "day", "container", "direction", "s10"],
                                        rows: rows.map { [.int(importID), .int(Int64($0.line)), .text($0.day), .text($0.container), .text($0.direction), .text($0.s10)] },
                                        logger: logger)
            }
            if !draft.rejected.isEmpty {
                try await conn.copyRows("custody_import_rejection", columns: ["import_id", "line", "code", "detail", "raw"],
                                        rows: draft.rejected.map { [.int(importID), .int(Int64($0.line)), .text($0.code), .text($0.detail), .text($0.raw)] },
                                        logger: logger)
            }
            let digest = StoredManifestRow.digest(rows)
            let at = Timestamp.iso(millis: Timestamp.nowMillis())
            try await conn.run("""
                INSERT INTO custody_import (id, kind, file_name, file_sha256, rows_total, added, rejected, merged, unknown_columns, digest, imported_by, imported_at)
                VALUES (\(importID), 'manifest', \(draft.fileName), \(draft.fileHash), \(Int64(draft.rowsTotal)), \(Int64(rows.count)),
                        \(Int64(draft.rejected.count)), 0, \(draft.unknownColumns.joined(separator: ",")), \(digest), \(actor), \(at))
                """, logger: logger)
            _ = try await Self.appendAudit(conn, AuditDraft(actor: actor, action: "custody.manifest.import", target: "custody-import:\(importID)",
                                                            detail: ManifestImportAudit.detail(draft, added: rows.count, digest: digest)), logger: logger)
            return StoredTargetImport(id: importID, fileName: draft.fileName, fileHash: draft.fileHash, rowsTotal: draft.rowsTotal, added: rows.count,
                                      rejected: draft.rejected.count, merged: 0, unknownColumns: draft.unknownColumns, digest: digest, importedBy: actor,
                                      importedAt: at)
        }
    }

    public func manifestImports() async throws -> [StoredTargetImport] {
        try await rows("reading imports", "SELECT \(unescaped: Self.importColumns) FROM custody_import WHERE kind = 'manifest' ORDER BY id",
                       as: ImportRow.self).map(Self.decodeImport)
    }

    public func manifestRows(importID: Int64) async throws -> [StoredManifestRow] {
        try await rows("reading a manifest", "SELECT \(unescaped: Self.manifestColumns) FROM custody_manifest m WHERE m.import_id = \(importID) ORDER BY m.line",
                       as: ManifestRow.self).map(Self.decodeManifestRow)
    }

    public func manifestRows(fromDay: String, toDay: String) async throws -> [StoredManifestRow] {
        try await rows("reading manifests", PostgresQuery(unsafeSQL: ManifestSQL.rowsForDays, binds: {
            var b = PostgresBindings()
            b.append(fromDay); b.append(toDay)
            return b
        }()), as: ManifestRow.self).map(Self.decodeManifestRow)
    }

    public func presentationContents(ids: [Int64], asOf: Int64) async throws -> [Int64: [ContainerScan]] {
        var out: [Int64: [ContainerScan]] = [:]
        for r in try await rows("reading containers", """
            SELECT i.presentation_id, i.s10, i.first_arrival_at FROM custody_item i
            WHERE i.presentation_id = ANY(\(ids)) AND i.first_arrival_at <= \(asOf)
            UNION ALL
            SELECT m.presentation_id, i.s10, e.at FROM custody_return_member m JOIN custody_event e ON e.id = m.event_id
            JOIN custody_item i ON i.id = e.item_id
            WHERE m.presentation_id = ANY(\(ids)) AND e.at <= \(asOf)
            """, as: (Int64, String, Int64).self) {
            out[r.0, default: []].append(ContainerScan(s10: r.1, atMillis: r.2, presentationID: r.0))
        }
        return out
    }

    public func containerScans(s10s: [String], direction: String, from: Int64, asOf: Int64) async throws -> [ContainerScan] {
        var out: [ContainerScan] = []
        for start in stride(from: 0, to: s10s.count, by: 10_000) {
            let chunk = Array(s10s[start..<min(s10s.count, start + 10_000)])
            let query: PostgresQuery = direction == "in" ? """
                SELECT i.s10, i.first_arrival_at, i.presentation_id FROM custody_item i
                WHERE i.s10 = ANY(\(chunk)) AND i.first_arrival_at >= \(from) AND i.first_arrival_at <= \(asOf)
                """ : """
                SELECT i.s10, e.at, m.presentation_id FROM custody_item i JOIN custody_event e ON e.item_id = i.id
                LEFT JOIN custody_return_member m ON m.event_id = e.id
                WHERE i.s10 = ANY(\(chunk)) AND e.type = 'RETURNED_TO_CARRIER' AND e.at >= \(from) AND e.at <= \(asOf)
                """
            for r in try await rows("reading receipts", query, as: (String, Int64, Int64?).self) {
                out.append(ContainerScan(s10: r.0, atMillis: r.1, presentationID: r.2))
            }
        }
        return out
    }

    public func manifestRowsOutsideImports() async throws -> Int {
        try await column("checking manifests", "\(unescaped: ManifestSQL.outsideImports)", as: Int64.self).first.map(Int.init) ?? 0
    }
}
