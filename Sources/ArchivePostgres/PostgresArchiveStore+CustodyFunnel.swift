import Archive
import Foundation
import Logging
import PostgresNIO
import RecordkeeperCore

/// The volume funnel's inputs on PostgreSQL (category requests, carrier counts, the
/// countries-of-interest list): the same rows, guards and audit entries as SQLite's.
extension PostgresArchiveStore: CustodyFunnelStore {
    typealias BulkRow = (Int64, String, String, String, Int64?, String, String, Int64)
    static let bulkColumns = "id, day, origin_country, mail_class, requested_count, reason, requested_by, requested_at"

    static func decodeBulkRequest(_ r: BulkRow) -> StoredBulkRequest {
        StoredBulkRequest(id: r.0, day: r.1, originCountry: r.2, mailClass: r.3, requestedCount: r.4.map(Int.init), reason: r.5, requestedBy: r.6,
                          requestedAtMillis: r.7)
    }

    typealias CountRow = (Int64, Int64, String, String, String, Int64)
    static let countColumns = "import_id, line, day, origin_country, mail_class, pieces"

    static func decodeCarrierCount(_ r: CountRow) -> StoredCarrierCount {
        StoredCarrierCount(importID: r.0, line: Int(r.1), day: r.2, originCountry: r.3, mailClass: r.4, pieces: Int(r.5))
    }

    public func requestBulk(_ d: BulkRequestDraft, actor: String) async throws -> StoredBulkRequest {
        try await transaction("recording a category request") { conn in
            let logger = self.logger
            let row = try await conn.all("""
                INSERT INTO custody_bulk_request (day, origin_country, mail_class, requested_count, reason, requested_by, requested_at)
                VALUES (\(d.day), \(d.originCountry), \(d.mailClass), \(d.requestedCount.map(Int64.init)), \(d.reason), \(actor), \(d.atMillis))
                RETURNING \(unescaped: Self.bulkColumns)
                """, as: BulkRow.self, logger: logger)[0]
            let stored = Self.decodeBulkRequest(row)
            _ = try await Self.appendAudit(conn, AuditDraft(actor: actor, action: "custody.bulk-request", target: "custody-bulk-request:\(stored.id)",
                                                            detail: stored.auditDetail), logger: logger)
            return stored
        }
    }

    public func bulkRequests(fromDay: String, toDay: String) async throws -> [StoredBulkRequest] {
        try await rows("reading category requests", """
            SELECT \(unescaped: Self.bulkColumns) FROM custody_bulk_request WHERE day >= \(fromDay) AND day < \(toDay) ORDER BY day, id
            """, as: BulkRow.self).map(Self.decodeBulkRequest)
    }

    public func arrivalImport(fileHash: String) async throws -> StoredTargetImport? {
        try await rows("reading an import", """
            SELECT \(unescaped: Self.importColumns) FROM custody_import WHERE kind = 'arrivals' AND file_sha256 = \(fileHash)
            """, as: ImportRow.self).first.map(Self.decodeImport)
    }

    public func commitArrivalImport(_ draft: ArrivalImportDraft, actor: String) async throws -> StoredTargetImport {
        try await transaction("importing carrier counts") { conn in
            let logger = self.logger
            // One import at a time, as target lists: the id taken here is the next one.
            try await conn.run("LOCK TABLE custody_import IN SHARE ROW EXCLUSIVE MODE", logger: logger)
            if let done = try await conn.all("""
                SELECT \(unescaped: Self.importColumns) FROM custody_import WHERE kind = 'arrivals' AND file_sha256 = \(draft.fileHash)
                """, as: ImportRow.self, logger: logger).first {
                return Self.decodeImport(done)
            }
            let importID = Int64(try await conn.count("SELECT coalesce(max(id), 0) FROM custody_import", logger: logger)) + 1
            let rows = draft.rows.map { var c = $0; c.importID = importID; return c }
            // Counts in force for the file's days, to say how many it replaces.
            let days = Array(Set(rows.map(\.day))).sorted()
            var current: [String: Int] = [:]
            if !days.isEmpty {
                for r in try await conn.all("""
                    SELECT DISTINCT ON (day, origin_country, mail_class) day, origin_country, mail_class, pieces FROM custody_carrier_count
                    WHERE day = ANY(\(days)) AND import_id IN (SELECT id FROM custody_import WHERE kind = 'arrivals')
                    ORDER BY day, origin_country, mail_class, import_id DESC
                    """, as: (String, String, String, Int64).self, logger: logger) {
                    current["\(r.0)|\(r.1)|\(r.2)"] = Int(r.3)
                }
            }
            let superseded = rows.filter { c in current["\(c.day)|\(c.originCountry)|\(c.mailClass)"].map { $0 != c.pieces } ?? false }.count
            if !rows.isEmpty {
                try await conn.copyRows("custody_carrier_count", columns: ["import_id", "line", "day", "origin_country", "mail_class", "pieces"],
                                        rows: rows.map { [.int(importID), .int(Int64($0.line)), .text($0.day), .text($0.originCountry), .text($0.mailClass),
                                                          .int(Int64($0.pieces))] }, logger: logger)
            }
            if !draft.rejected.isEmpty {
                try await conn.copyRows("custody_import_rejection", columns: ["import_id", "line", "code", "detail", "raw"],
                                        rows: draft.rejected.map { [.int(importID), .int(Int64($0.line)), .text($0.code), .text($0.detail), .text($0.raw)] },
                                        logger: logger)
            }
            let digest = StoredCarrierCount.digest(rows)
            let at = Timestamp.iso(millis: Timestamp.nowMillis())
            try await conn.run("""
                INSERT INTO custody_import (id, kind, file_name, file_sha256, rows_total, added, rejected, merged, unknown_columns, digest, imported_by, imported_at)
                VALUES (\(importID), 'arrivals', \(draft.fileName), \(draft.fileHash), \(Int64(draft.rowsTotal)), \(Int64(rows.count)),
                        \(Int64(draft.rejected.count)), 0, \(draft.unknownColumns.joined(separator: ",")), \(digest), \(actor), \(at))
                """, logger: logger)
            _ = try await Self.appendAudit(conn, AuditDraft(actor: actor, action: "custody.arrivals.import", target: "custody-import:\(importID)", detail: [
                "file": draft.fileName, "file_sha256": draft.fileHash, "rows": String(draft.rowsTotal), "added": String(rows.count),
                "rejected": String(draft.rejected.count), "superseded": String(superseded), "digest": digest]), logger: logger)
            return StoredTargetImport(id: importID, fileName: draft.fileName, fileHash: draft.fileHash, rowsTotal: draft.rowsTotal, added: rows.count,
                                      rejected: draft.rejected.count, merged: 0, unknownColumns: draft.unknownColumns, digest: digest, importedBy: actor,
                                      importedAt: at)
        }
    }

    public func arrivalImports() async throws -> [StoredTargetImport] {
        try await rows("reading imports", "SELECT \(unescaped: Self.importColumns) FROM custody_import WHERE kind = 'arrivals' ORDER BY id",
                       as: ImportRow.self).map(Self.decodeImport)
    }

    public func carrierCounts(importID: Int64) async throws -> [StoredCarrierCount] {
        try await rows("reading carrier counts", """
            SELECT \(unescaped: Self.countColumns) FROM custody_carrier_count WHERE import_id = \(importID) ORDER BY line
            """, as: CountRow.self).map(Self.decodeCarrierCount)
    }

    public func carrierCounts(fromDay: String, toDay: String) async throws -> [StoredCarrierCount] {
        try await rows("reading carrier counts", """
            SELECT DISTINCT ON (day, origin_country, mail_class) \(unescaped: Self.countColumns) FROM custody_carrier_count
            WHERE day >= \(fromDay) AND day < \(toDay) AND import_id IN (SELECT id FROM custody_import WHERE kind = 'arrivals')
            ORDER BY day, origin_country, mail_class, import_id DESC
            """, as: CountRow.self).map(Self.decodeCarrierCount)
    }

    public func carrierCountsOutsideArrivalImports() async throws -> Int {
        try await column("checking carrier counts", "\(unescaped: CarrierCountChecks.outsideSQL)", as: Int64.self).first.map(Int.init) ?? 0
    }

    public func firstArrivals(from: Int64, to: Int64, asOf: Int64) async throws -> [String: Int64] {
        let found = try await rows("reading arrivals", """
            SELECT s10, min(first_arrival_at) FROM custody_item WHERE first_arrival_at >= \(from) AND first_arrival_at < \(to) AND first_arrival_at <= \(asOf)
            GROUP BY s10
            """, as: (String, Int64).self)
        return Dictionary(found.map { ($0.0, $0.1) }, uniquingKeysWith: min)
    }

    public func targetsDue(from: Int64, to: Int64) async throws -> [StoredTarget] {
        let found: [TargetRow] = try await rows("reading targets", """
            \(unescaped: Self.targetSelect) WHERE (expected_arrival_at >= \(from) AND expected_arrival_at < \(to))
               OR (expected_arrival_at IS NULL AND targeted_at >= \(from) AND targeted_at < \(to)) ORDER BY id
            """, as: TargetRow.self)
        return found.map(Self.decodeTarget)
    }

    public func targetCategories(s10s: [String], asOf: Int64) async throws -> [String: Set<String>] {
        var out: [String: Set<String>] = [:]
        for start in stride(from: 0, to: s10s.count, by: 10_000) {
            let chunk = Array(s10s[start..<min(s10s.count, start + 10_000)])
            for r in try await rows("reading targets", """
                SELECT DISTINCT t.s10, r.category FROM custody_target t JOIN custody_target_rule r ON r.code = t.rule_code AND r.version = t.rule_version
                WHERE t.targeted_at <= \(asOf) AND t.s10 = ANY(\(chunk))
                """, as: (String, String).self) {
                out[r.0, default: []].insert(r.1)
            }
        }
        return out
    }

    public func coiCountries() async throws -> [String] { COISetting.countries(try await setting(COISetting.key)) }

    public func coiCountries(asOf: Int64) async throws -> [String] { COISetting.countries(try await setting(COISetting.key, asOf: asOf)) }

    public func settingHistory() async throws -> [StoredCustodySetting] {
        try await rows("reading the custody settings", "SELECT key, value, reason, set_by, set_at FROM custody_setting ORDER BY id",
                       as: (String, String, String, String, Int64).self).map {
            StoredCustodySetting(key: $0.0, value: $0.1, reason: $0.2, setBy: $0.3, setAtMillis: $0.4)
        }
    }

    public func setCOICountries(_ countries: [String], reason: String, atMillis: Int64, actor: String) async throws {
        try await transaction("changing the countries of interest") { conn in
            try await Self.changeSetting(conn, COISetting.key, to: COISetting.value(countries), unset: "", reason: reason, atMillis: atMillis, actor: actor,
                                         logger: self.logger)
        }
    }
}
