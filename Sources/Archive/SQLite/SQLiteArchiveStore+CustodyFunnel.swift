import Foundation
import GRDB
import RecordkeeperCore

extension SQLiteArchiveStore: CustodyFunnelStore {
    /// Category requests and the carrier's daily counts (R-FUN), both kept as recorded; indexes
    /// for the funnel's reads of items by first arrival and targets by the time they were targeted.
    static func migrateCustodyFunnel(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE custody_bulk_request (
                id INTEGER PRIMARY KEY, day TEXT NOT NULL, origin_country TEXT NOT NULL,
                mail_class TEXT NOT NULL CHECK (mail_class IN ('letter_post', 'registered', 'ems', 'parcel', 'other')),
                requested_count INTEGER CHECK (requested_count IS NULL OR requested_count > 0), reason TEXT NOT NULL CHECK (length(trim(reason)) > 0),
                requested_by TEXT NOT NULL, requested_at INTEGER NOT NULL
            );
            CREATE INDEX custody_bulk_request_day ON custody_bulk_request(day);
            CREATE TABLE custody_carrier_count (
                import_id INTEGER NOT NULL REFERENCES custody_import(id) DEFERRABLE INITIALLY DEFERRED, line INTEGER NOT NULL, day TEXT NOT NULL,
                origin_country TEXT NOT NULL, mail_class TEXT NOT NULL CHECK (mail_class IN ('letter_post', 'registered', 'ems', 'parcel', 'other')),
                pieces INTEGER NOT NULL CHECK (pieces >= 0),
                PRIMARY KEY (import_id, line), UNIQUE (import_id, day, origin_country, mail_class)
            );
            CREATE INDEX custody_carrier_count_day ON custody_carrier_count(day, origin_country, mail_class, import_id);
            CREATE INDEX custody_item_first_arrival ON custody_item(first_arrival_at);
            CREATE INDEX custody_target_targeted ON custody_target(targeted_at);
            CREATE TRIGGER custody_bulk_request_kept BEFORE UPDATE ON custody_bulk_request BEGIN SELECT RAISE(ABORT, 'category requests are kept as recorded'); END;
            CREATE TRIGGER custody_bulk_request_not_deleted BEFORE DELETE ON custody_bulk_request BEGIN SELECT RAISE(ABORT, 'category requests are kept'); END;
            CREATE TRIGGER custody_carrier_count_kept BEFORE UPDATE ON custody_carrier_count BEGIN SELECT RAISE(ABORT, 'carrier counts are kept as imported'); END;
            CREATE TRIGGER custody_carrier_count_not_deleted BEFORE DELETE ON custody_carrier_count BEGIN SELECT RAISE(ABORT, 'carrier counts are kept'); END;
            """)
    }

    static func decodeBulkRequest(_ r: Row) -> StoredBulkRequest {
        StoredBulkRequest(id: r["id"], day: r["day"], originCountry: r["origin_country"], mailClass: r["mail_class"], requestedCount: r["requested_count"],
                          reason: r["reason"], requestedBy: r["requested_by"], requestedAtMillis: r["requested_at"])
    }

    static func decodeCarrierCount(_ r: Row) -> StoredCarrierCount {
        StoredCarrierCount(importID: r["import_id"], line: r["line"], day: r["day"], originCountry: r["origin_country"], mailClass: r["mail_class"],
                           pieces: r["pieces"])
    }

    public func requestBulk(_ d: BulkRequestDraft, actor: String) async throws -> StoredBulkRequest {
        try await write { db in
            try db.execute(sql: """
                INSERT INTO custody_bulk_request (day, origin_country, mail_class, requested_count, reason, requested_by, requested_at) VALUES (?, ?, ?, ?, ?, ?, ?)
                """, arguments: [d.day, d.originCountry, d.mailClass, d.requestedCount, d.reason, actor, d.atMillis])
            let stored = Self.decodeBulkRequest(try Row.fetchOne(db, sql: "SELECT * FROM custody_bulk_request WHERE id = ?", arguments: [db.lastInsertedRowID])!)
            try Self.appendAudit(db, AuditDraft(actor: actor, action: "custody.bulk-request", target: "custody-bulk-request:\(stored.id)", detail: stored.auditDetail))
            return stored
        }
    }

    public func bulkRequests(fromDay: String, toDay: String) async throws -> [StoredBulkRequest] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM custody_bulk_request WHERE day >= ? AND day < ? ORDER BY day, id", arguments: [fromDay, toDay])
                .map(Self.decodeBulkRequest)
        }
    }

    public func arrivalImport(fileHash: String) async throws -> StoredTargetImport? {
        try await read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM custody_import WHERE kind = 'arrivals' AND file_sha256 = ?", arguments: [fileHash]).map(Self.decodeImport)
        }
    }

    public func commitArrivalImport(_ draft: ArrivalImportDraft, actor: String) async throws -> StoredTargetImport {
        try await write { db in
            if let done = try Row.fetchOne(db, sql: "SELECT * FROM custody_import WHERE kind = 'arrivals' AND file_sha256 = ?", arguments: [draft.fileHash]) {
                return Self.decodeImport(done)
            }
            let importID = (try Int64.fetchOne(db, sql: "SELECT max(id) FROM custody_import") ?? 0) + 1
            let rows = draft.rows.map { var c = $0; c.importID = importID; return c }
            // How many of the file's counts replace one in force (a corrected extract).
            var superseded = 0
            let current = try db.makeStatement(sql: """
                SELECT c.pieces FROM custody_carrier_count c JOIN custody_import i ON i.id = c.import_id AND i.kind = 'arrivals'
                WHERE c.day = ? AND c.origin_country = ? AND c.mail_class = ? ORDER BY c.import_id DESC LIMIT 1
                """)
            let insert = try db.makeStatement(sql: """
                INSERT INTO custody_carrier_count (import_id, line, day, origin_country, mail_class, pieces) VALUES (?, ?, ?, ?, ?, ?)
                """)
            for c in rows {
                if let old = try Int.fetchOne(current, arguments: [c.day, c.originCountry, c.mailClass]), old != c.pieces { superseded += 1 }
                try insert.execute(arguments: [importID, c.line, c.day, c.originCountry, c.mailClass, c.pieces])
            }
            let reject = try db.makeStatement(sql: "INSERT INTO custody_import_rejection (import_id, line, code, detail, raw) VALUES (?, ?, ?, ?, ?)")
            for r in draft.rejected { try reject.execute(arguments: [importID, r.line, r.code, r.detail, r.raw]) }
            let digest = StoredCarrierCount.digest(rows)
            try db.execute(sql: """
                INSERT INTO custody_import (id, kind, file_name, file_sha256, rows_total, added, rejected, merged, unknown_columns, digest, imported_by, imported_at)
                VALUES (?, 'arrivals', ?, ?, ?, ?, ?, 0, ?, ?, ?, ?)
                """, arguments: [importID, draft.fileName, draft.fileHash, draft.rowsTotal, rows.count, draft.rejected.count,
                                 draft.unknownColumns.joined(separator: ","), digest, actor, Timestamp.iso(millis: Timestamp.nowMillis())])
            try Self.appendAudit(db, AuditDraft(actor: actor, action: "custody.arrivals.import", target: "custody-import:\(importID)", detail: [
                "file": draft.fileName, "file_sha256": draft.fileHash, "rows": String(draft.rowsTotal), "added": String(rows.count),
                "rejected": String(draft.rejected.count), "superseded": String(superseded), "digest": digest]))
            return Self.decodeImport(try Row.fetchOne(db, sql: "SELECT * FROM custody_import WHERE id = ?", arguments: [importID])!)
        }
    }

    public func arrivalImports() async throws -> [StoredTargetImport] {
        try await read { db in try Row.fetchAll(db, sql: "SELECT * FROM custody_import WHERE kind = 'arrivals' ORDER BY id").map(Self.decodeImport) }
    }

    public func carrierCounts(importID: Int64) async throws -> [StoredCarrierCount] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM custody_carrier_count WHERE import_id = ? ORDER BY line", arguments: [importID]).map(Self.decodeCarrierCount)
        }
    }

    public func carrierCounts(fromDay: String, toDay: String) async throws -> [StoredCarrierCount] {
        try await read { db in
            try Row.fetchAll(db, sql: """
                SELECT c.* FROM custody_carrier_count c WHERE c.day >= ? AND c.day < ?
                AND c.import_id = (SELECT max(n.import_id) FROM custody_carrier_count n JOIN custody_import i ON i.id = n.import_id AND i.kind = 'arrivals'
                                   WHERE n.day = c.day AND n.origin_country = c.origin_country AND n.mail_class = c.mail_class)
                ORDER BY c.day, c.origin_country, c.mail_class
                """, arguments: [fromDay, toDay]).map(Self.decodeCarrierCount)
        }
    }

    public func carrierCountsOutsideArrivalImports() async throws -> Int {
        try await read { db in try Int.fetchOne(db, sql: CarrierCountChecks.outsideSQL) ?? 0 }
    }

    public func firstArrivals(from: Int64, to: Int64, asOf: Int64) async throws -> [String: Int64] {
        try await read { db in
            var out: [String: Int64] = [:]
            let rows = try Row.fetchCursor(db, sql: """
                SELECT s10, min(first_arrival_at) AS at FROM custody_item WHERE first_arrival_at >= ? AND first_arrival_at < ? AND first_arrival_at <= ? GROUP BY s10
                """, arguments: [from, to, asOf])
            while let r = try rows.next() { out[r["s10"]] = r["at"] }
            return out
        }
    }

    public func targetsDue(from: Int64, to: Int64) async throws -> [StoredTarget] {
        try await read { db in
            try Row.fetchAll(db, sql: """
                SELECT \(Self.targetColumns) FROM custody_target WHERE (expected_arrival_at >= ? AND expected_arrival_at < ?)
                   OR (expected_arrival_at IS NULL AND targeted_at >= ? AND targeted_at < ?) ORDER BY id
                """, arguments: [from, to, from, to]).map(Self.decodeTarget)
        }
    }

    public func targetCategories(s10s: [String], asOf: Int64) async throws -> [String: Set<String>] {
        try await read { db in
            var out: [String: Set<String>] = [:]
            for chunk in stride(from: 0, to: s10s.count, by: 500).map({ Array(s10s[$0..<min(s10s.count, $0 + 500)]) }) {
                let marks = Array(repeating: "?", count: chunk.count).joined(separator: ",")
                for r in try Row.fetchAll(db, sql: """
                    SELECT DISTINCT t.s10, r.category FROM custody_target t JOIN custody_target_rule r ON r.code = t.rule_code AND r.version = t.rule_version
                    WHERE t.targeted_at <= ? AND t.s10 IN (\(marks))
                    """, arguments: StatementArguments([asOf]) + StatementArguments(chunk)) {
                    out[r["s10"], default: []].insert(r["category"])
                }
            }
            return out
        }
    }

    public func coiCountries() async throws -> [String] {
        try await read { db in COISetting.countries(try Self.setting(db, COISetting.key)) }
    }

    public func coiCountries(asOf: Int64) async throws -> [String] {
        try await read { db in COISetting.countries(try Self.setting(db, COISetting.key, asOf: asOf)) }
    }

    public func settingHistory() async throws -> [StoredCustodySetting] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT key, value, reason, set_by, set_at FROM custody_setting ORDER BY id").map {
                StoredCustodySetting(key: $0["key"], value: $0["value"], reason: $0["reason"], setBy: $0["set_by"], setAtMillis: $0["set_at"])
            }
        }
    }

    public func setCOICountries(_ countries: [String], reason: String, atMillis: Int64, actor: String) async throws {
        try await write { db in
            try Self.changeSetting(db, COISetting.key, to: COISetting.value(countries), unset: "", reason: reason, atMillis: atMillis, actor: actor)
        }
    }
}
