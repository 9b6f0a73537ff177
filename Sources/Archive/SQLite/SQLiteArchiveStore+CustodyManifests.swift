import Foundation
import GRDB
import RecordkeeperCore

extension SQLiteArchiveStore: CustodyManifestStore {
    /// Carrier manifests per container (R-MAN), kept as imported; for a container and day a later
    /// import's list is the one in force.
    static func migrateCustodyManifests(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE custody_manifest (
                import_id INTEGER NOT NULL REFERENCES custody_import(id) DEFERRABLE INITIALLY DEFERRED, line INTEGER NOT NULL,
                day TEXT NOT NULL CHECK (length(day) = 10), container TEXT NOT NULL CHECK (length(container) BETWEEN 1 AND 64),
                direction TEXT NOT NULL CHECK (direction IN ('in', 'out')), s10 TEXT NOT NULL CHECK (length(s10) = 13),
                PRIMARY KEY (import_id, line), UNIQUE (import_id, day, container, s10)
            );
            CREATE INDEX custody_manifest_day ON custody_manifest(day, container);
            CREATE TRIGGER custody_manifest_kept BEFORE UPDATE ON custody_manifest BEGIN SELECT RAISE(ABORT, 'manifests are kept as imported'); END;
            CREATE TRIGGER custody_manifest_not_deleted BEFORE DELETE ON custody_manifest BEGIN SELECT RAISE(ABORT, 'manifests are kept'); END;
            """)
    }

    static func decodeManifestRow(_ r: Row) -> StoredManifestRow {
        StoredManifestRow(importID: r["import_id"], line: r["line"], day: r["day"], container: r["container"], direction: r["direction"], s10: r["s10"])
    }

    public func manifestImport(fileHash: String) async throws -> StoredTargetImport? {
        try await read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM custody_import WHERE kind = 'manifest' AND file_sha256 = ?", arguments: [fileHash]).map(Self.decodeImport)
        }
    }

    public func commitManifestImport(_ draft: ManifestImportDraft, actor: String) async throws -> StoredTargetImport {
        try await write { db in
            if let done = try Row.fetchOne(db, sql: "SELECT * FROM custody_import WHERE kind = 'manifest' AND file_sha256 = ?", arguments: [draft.fileHash]) {
                return Self.decodeImport(done)
            }
            let importID = (try Int64.fetchOne(db, sql: "SELECT max(id) FROM custody_import") ?? 0) + 1
            let rows = draft.rows.map { var r = $0; r.importID = importID; return r }
            let insert = try db.makeStatement(sql: "INSERT INTO custody_manifest (import_id, line, day, container, direction, s10) VALUES (?, ?, ?, ?, ?, ?)")
            for r in rows { try insert.execute(arguments: [importID, r.line, r.day, r.container, r.direction, r.s10]) }
            let reject = try db.makeStatement(sql: "INSERT INTO custody_import_rejection (import_id, line, code, detail, raw) VALUES (?, ?, ?, ?, ?)")
            for r in draft.rejected { try reject.execute(arguments: [importID, r.line, r.code, r.detail, r.raw]) }
            let digest = StoredManifestRow.digest(rows)
            try db.execute(sql: """
                INSERT INTO custody_import (id, kind, file_name, file_sha256, rows_total, added, rejected, merged, unknown_columns, digest, imported_by, imported_at)
                VALUES (?, 'manifest', ?, ?, ?, ?, ?, 0, ?, ?, ?, ?)
                """, arguments: [importID, draft.fileName, draft.fileHash, draft.rowsTotal, rows.count, draft.rejected.count,
                                 draft.unknownColumns.joined(separator: ","), digest, actor, Timestamp.iso(millis: Timestamp.nowMillis())])
            try Self.appendAudit(db, AuditDraft(actor: actor, action: "custody.manifest.import", target: "custody-import:\(importID)",
                                                detail: ManifestImportAudit.detail(draft, added: rows.count, digest: digest)))
            return Self.decodeImport(try Row.fetchOne(db, sql: "SELECT * FROM custody_import WHERE id = ?", arguments: [importID])!)
        }
    }

    public func manifestImports() async throws -> [StoredTargetImport] {
        try await read { db in try Row.fetchAll(db, sql: "SELECT * FROM custody_import WHERE kind = 'manifest' ORDER BY id").map(Self.decodeImport) }
    }

    public func manifestRows(importID: Int64) async throws -> [StoredManifestRow] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM custody_manifest WHERE import_id = ? ORDER BY line", arguments: [importID]).map(Self.decodeManifestRow)
        }
    }

    public func manifestRows(fromDay: String, toDay: String) async throws -> [StoredManifestRow] {
        try await read { db in
            try Row.fetchAll(db, sql: Self.numberedParameters(ManifestSQL.rowsForDays), arguments: [fromDay, toDay]).map(Self.decodeManifestRow)
        }
    }

    public func presentationContents(ids: [Int64], asOf: Int64) async throws -> [Int64: [ContainerScan]] {
        try await read { db in
            var out: [Int64: [ContainerScan]] = [:]
            for chunk in stride(from: 0, to: ids.count, by: 500).map({ Array(ids[$0..<min(ids.count, $0 + 500)]) }) {
                let marks = Array(repeating: "?", count: chunk.count).joined(separator: ",")
                let args = StatementArguments(chunk) + StatementArguments([asOf])
                for r in try Row.fetchAll(db, sql: """
                    SELECT i.presentation_id AS p, i.s10, i.first_arrival_at AS at FROM custody_item i
                    WHERE i.presentation_id IN (\(marks)) AND i.first_arrival_at <= ?
                    UNION ALL
                    SELECT m.presentation_id AS p, i.s10, e.at FROM custody_return_member m CROSS JOIN custody_event e ON e.id = m.event_id
                    CROSS JOIN custody_item i ON i.id = e.item_id
                    WHERE m.presentation_id IN (\(marks)) AND e.at <= ?
                    """, arguments: args + args) {
                    out[r["p"], default: []].append(ContainerScan(s10: r["s10"], atMillis: r["at"], presentationID: r["p"]))
                }
            }
            return out
        }
    }

    public func containerScans(s10s: [String], direction: String, from: Int64, asOf: Int64) async throws -> [ContainerScan] {
        try await read { db in
            var out: [ContainerScan] = []
            for chunk in stride(from: 0, to: s10s.count, by: 500).map({ Array(s10s[$0..<min(s10s.count, $0 + 500)]) }) {
                let marks = Array(repeating: "?", count: chunk.count).joined(separator: ",")
                // An item's episodes are found by its identifier; its return by its own events.
                let sql = direction == "in" ? """
                    SELECT i.s10, i.first_arrival_at AS at, i.presentation_id AS p FROM custody_item i
                    WHERE i.s10 IN (\(marks)) AND i.first_arrival_at >= ? AND i.first_arrival_at <= ?
                    """ : """
                    SELECT i.s10, e.at, m.presentation_id AS p FROM custody_item i CROSS JOIN custody_event e ON e.item_id = i.id
                    LEFT JOIN custody_return_member m ON m.event_id = e.id
                    WHERE i.s10 IN (\(marks)) AND +e.type = 'RETURNED_TO_CARRIER' AND +e.at >= ? AND +e.at <= ?
                    """
                for r in try Row.fetchAll(db, sql: sql, arguments: StatementArguments(chunk) + StatementArguments([from, asOf])) {
                    out.append(ContainerScan(s10: r["s10"], atMillis: r["at"], presentationID: r["p"]))
                }
            }
            return out
        }
    }

    public func manifestRowsOutsideImports() async throws -> Int {
        try await read { db in try Int.fetchOne(db, sql: ManifestSQL.outsideImports) ?? 0 }
    }
}
