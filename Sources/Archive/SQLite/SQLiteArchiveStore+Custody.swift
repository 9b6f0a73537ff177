import Foundation
import GRDB
import RecordkeeperCore

extension SQLiteArchiveStore {
    /// Custody records (issue 15): rules, imports with their rejected rows, targets. Rules,
    /// imports and rejected rows are never changed; a target is changed only to cancel it (not
    /// built yet, so refused too).
    static func migrateCustodyTargets(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE custody_target_rule (
                code TEXT NOT NULL, version INTEGER NOT NULL CHECK (version > 0), category TEXT NOT NULL, source TEXT NOT NULL,
                description TEXT NOT NULL, created_by TEXT NOT NULL, created_at TEXT NOT NULL,
                PRIMARY KEY (code, version)
            );
            CREATE TABLE custody_import (
                id INTEGER PRIMARY KEY, kind TEXT NOT NULL, file_name TEXT NOT NULL, file_sha256 TEXT NOT NULL,
                rows_total INTEGER NOT NULL, added INTEGER NOT NULL, rejected INTEGER NOT NULL, merged INTEGER NOT NULL,
                unknown_columns TEXT NOT NULL, digest TEXT NOT NULL, imported_by TEXT NOT NULL, imported_at TEXT NOT NULL,
                UNIQUE (kind, file_sha256)
            );
            CREATE TABLE custody_import_rejection (
                import_id INTEGER NOT NULL REFERENCES custody_import(id) DEFERRABLE INITIALLY DEFERRED, line INTEGER NOT NULL, code TEXT NOT NULL, detail TEXT NOT NULL,
                raw TEXT NOT NULL, PRIMARY KEY (import_id, line)
            );
            CREATE TABLE custody_target (
                id INTEGER PRIMARY KEY, s10 TEXT NOT NULL, rule_code TEXT NOT NULL, rule_version INTEGER NOT NULL, reason_code TEXT NOT NULL,
                targeted_at INTEGER NOT NULL, targeted_by TEXT NOT NULL, expected_arrival_at INTEGER, priority INTEGER, origin_country TEXT,
                mail_class TEXT, declared_desc TEXT, hold_requested_at INTEGER CHECK (hold_requested_at IS NULL OR hold_requested_at >= targeted_at),
                import_id INTEGER REFERENCES custody_import(id) DEFERRABLE INITIALLY DEFERRED, line INTEGER,
                UNIQUE (s10, rule_code, rule_version),
                FOREIGN KEY (rule_code, rule_version) REFERENCES custody_target_rule(code, version)
            );
            CREATE INDEX custody_target_expected ON custody_target(expected_arrival_at);
            CREATE TRIGGER custody_target_rule_kept BEFORE UPDATE ON custody_target_rule
                BEGIN SELECT RAISE(ABORT, 'a rule version is never changed; register a new version'); END;
            CREATE TRIGGER custody_target_rule_not_deleted BEFORE DELETE ON custody_target_rule
                BEGIN SELECT RAISE(ABORT, 'rule versions are kept'); END;
            CREATE TRIGGER custody_import_kept BEFORE UPDATE ON custody_import BEGIN SELECT RAISE(ABORT, 'imports are kept unchanged'); END;
            CREATE TRIGGER custody_import_not_deleted BEFORE DELETE ON custody_import BEGIN SELECT RAISE(ABORT, 'imports are kept'); END;
            CREATE TRIGGER custody_rejection_kept BEFORE UPDATE ON custody_import_rejection
                BEGIN SELECT RAISE(ABORT, 'rejected rows are kept as written'); END;
            CREATE TRIGGER custody_rejection_not_deleted BEFORE DELETE ON custody_import_rejection
                BEGIN SELECT RAISE(ABORT, 'rejected rows are kept'); END;
            CREATE TRIGGER custody_target_kept BEFORE UPDATE ON custody_target BEGIN SELECT RAISE(ABORT, 'targets are not changed in place'); END;
            CREATE TRIGGER custody_target_not_deleted BEFORE DELETE ON custody_target BEGIN SELECT RAISE(ABORT, 'targets are kept'); END;
            """)
    }
}

extension SQLiteArchiveStore: CustodyStore {
    public func saveTargetRule(_ rule: StoredTargetRule, actor: String) async throws -> Bool {
        try await write { db in
            if let row = try Row.fetchOne(db, sql: "SELECT category, source, description FROM custody_target_rule WHERE code = ? AND version = ?",
                                          arguments: [rule.code, rule.version]) {
                guard row["category"] == rule.category, row["source"] == rule.source, row["description"] == rule.description else {
                    throw ArchiveError(.refused, "rule \(rule.code) v\(rule.version) is registered with other content; a version is never changed, register v\(rule.version + 1)")
                }
                return false
            }
            try db.execute(sql: """
                INSERT INTO custody_target_rule (code, version, category, source, description, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
                """, arguments: [rule.code, rule.version, rule.category, rule.source, rule.description, actor, Timestamp.iso(millis: Timestamp.nowMillis())])
            try Self.appendAudit(db, AuditDraft(actor: actor, action: "custody.rule.add", target: "custody-rule:\(rule.code):\(rule.version)",
                                                detail: ["category": rule.category, "source": rule.source, "description": rule.description]))
            return true
        }
    }

    public func targetRules() async throws -> [StoredTargetRule] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT code, version, category, source, description FROM custody_target_rule ORDER BY code, version").map {
                StoredTargetRule(code: $0["code"], version: $0["version"], category: $0["category"], source: $0["source"], description: $0["description"])
            }
        }
    }

    static func decodeImport(_ r: Row) -> StoredTargetImport {
        let unknown: String = r["unknown_columns"]
        return StoredTargetImport(id: r["id"], fileName: r["file_name"], fileHash: r["file_sha256"], rowsTotal: r["rows_total"], added: r["added"],
                                  rejected: r["rejected"], merged: r["merged"], unknownColumns: unknown.isEmpty ? [] : unknown.components(separatedBy: ","),
                                  digest: r["digest"], importedBy: r["imported_by"], importedAt: r["imported_at"])
    }

    public func targetImport(fileHash: String) async throws -> StoredTargetImport? {
        try await read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM custody_import WHERE kind = 'targets' AND file_sha256 = ?", arguments: [fileHash]).map(Self.decodeImport)
        }
    }

    public func commitTargetImport(_ draft: TargetImportDraft, actor: String) async throws -> StoredTargetImport {
        try await write { db in
            if let done = try Row.fetchOne(db, sql: "SELECT * FROM custody_import WHERE kind = 'targets' AND file_sha256 = ?", arguments: [draft.fileHash]) {
                return Self.decodeImport(done)
            }
            // The import's row is written once, complete, after its targets (its id is taken
            // first: one writer at a time; the references to it are checked at commit).
            let importID = (try Int64.fetchOne(db, sql: "SELECT max(id) FROM custody_import") ?? 0) + 1
            let insert = try db.makeStatement(sql: """
                INSERT OR IGNORE INTO custody_target (s10, rule_code, rule_version, reason_code, targeted_at, targeted_by, expected_arrival_at, priority,
                    origin_country, mail_class, declared_desc, hold_requested_at, import_id, line)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            var hasher = StreamingHasher()
            var added = 0
            for t in draft.targets {
                try insert.execute(arguments: [t.s10, t.ruleCode, t.ruleVersion, t.reasonCode, t.targetedAtMillis, t.targetedBy, t.expectedArrivalAtMillis,
                                               t.priority, t.originCountry, t.mailClass, t.declaredDescription, t.holdRequestedAtMillis, importID, t.line])
                guard db.changesCount == 1 else { continue } // the item was already targeted under this rule
                added += 1
                t.canonical.withUnsafeBytes { hasher.update($0) }
            }
            let reject = try db.makeStatement(sql: "INSERT INTO custody_import_rejection (import_id, line, code, detail, raw) VALUES (?, ?, ?, ?, ?)")
            for r in draft.rejected { try reject.execute(arguments: [importID, r.line, r.code, r.detail, r.raw]) }
            let merged = draft.mergedInFile + (draft.targets.count - added)
            let digest = hasher.finalize().hex
            try db.execute(sql: """
                INSERT INTO custody_import (id, kind, file_name, file_sha256, rows_total, added, rejected, merged, unknown_columns, digest, imported_by, imported_at)
                VALUES (?, 'targets', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [importID, draft.fileName, draft.fileHash, draft.rowsTotal, added, draft.rejected.count, merged,
                                 draft.unknownColumns.joined(separator: ","), digest, actor, Timestamp.iso(millis: Timestamp.nowMillis())])
            let stored = try Self.decodeImport(try Row.fetchOne(db, sql: "SELECT * FROM custody_import WHERE id = ?", arguments: [importID])!)
            try Self.appendAudit(db, AuditDraft(actor: actor, action: "custody.import", target: "custody-import:\(importID)", detail: [
                "kind": "targets", "file": draft.fileName, "file_sha256": draft.fileHash, "rows": String(draft.rowsTotal), "added": String(added),
                "rejected": String(draft.rejected.count), "merged": String(merged), "digest": digest]))
            return stored
        }
    }

    public func targets(s10: String) async throws -> [StoredTarget] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM custody_target WHERE s10 = ? ORDER BY id", arguments: [s10]).map(Self.decodeTarget)
        }
    }

    public func targetCount() async throws -> Int {
        try await read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM custody_target") ?? 0 }
    }

    public func rejectedRows(importID: Int64) async throws -> [StoredRejectedRow] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT line, code, detail, raw FROM custody_import_rejection WHERE import_id = ? ORDER BY line", arguments: [importID]).map {
                StoredRejectedRow(line: $0["line"], code: $0["code"], detail: $0["detail"], raw: $0["raw"])
            }
        }
    }
}

extension SQLiteArchiveStore {
    /// Locations, items (one per custody episode; at most one open per identifier, which the
    /// database itself enforces) and custody events (append-only, each hashed).
    static func migrateCustodyReceipts(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE custody_location (
                code TEXT PRIMARY KEY, name TEXT NOT NULL,
                kind TEXT NOT NULL CHECK (kind IN ('receiving', 'holding', 'exam_station', 'enforcement_cage', 'registered_cage', 'seized_property', 'lab', 'return_dock')),
                secured INTEGER NOT NULL, alarmed INTEGER NOT NULL, cctv_covered INTEGER NOT NULL, max_dwell_h INTEGER,
                created_by TEXT NOT NULL, created_at TEXT NOT NULL
            );
            CREATE TABLE custody_item (
                id INTEGER PRIMARY KEY, s10 TEXT NOT NULL, episode TEXT NOT NULL, first_arrival_at INTEGER NOT NULL, closed_at INTEGER,
                UNIQUE (s10, episode)
            );
            CREATE UNIQUE INDEX custody_item_open ON custody_item(s10) WHERE closed_at IS NULL;
            CREATE TABLE custody_event (
                id INTEGER PRIMARY KEY, item_id INTEGER NOT NULL REFERENCES custody_item(id), type TEXT NOT NULL
                    CHECK (type IN ('RECEIVED', 'MOVED', 'INSPECT_START', 'INSPECT_END', 'SEALED', 'UNSEALED', 'TO_LAB', 'FROM_LAB', 'TO_AGENCY',
                                    'RETURNED_TO_CARRIER', 'DESTROYED', 'AUDIT_SEEN')),
                at INTEGER NOT NULL, client_ts INTEGER, actor TEXT NOT NULL, witness TEXT, from_location TEXT REFERENCES custody_location(code),
                to_location TEXT REFERENCES custody_location(code), station_id TEXT, client_scan_uuid TEXT UNIQUE, manual_entry INTEGER NOT NULL,
                note TEXT, hash TEXT NOT NULL
            );
            CREATE INDEX custody_event_item ON custody_event(item_id, id);
            CREATE INDEX custody_event_type_at ON custody_event(type, at);
            CREATE TRIGGER custody_location_kept BEFORE UPDATE ON custody_location BEGIN SELECT RAISE(ABORT, 'locations are kept unchanged'); END;
            CREATE TRIGGER custody_location_not_deleted BEFORE DELETE ON custody_location BEGIN SELECT RAISE(ABORT, 'locations are kept'); END;
            CREATE TRIGGER custody_item_kept BEFORE UPDATE ON custody_item BEGIN SELECT RAISE(ABORT, 'items are not changed in place'); END;
            CREATE TRIGGER custody_item_not_deleted BEFORE DELETE ON custody_item BEGIN SELECT RAISE(ABORT, 'items are kept'); END;
            CREATE TRIGGER custody_event_kept BEFORE UPDATE ON custody_event BEGIN SELECT RAISE(ABORT, 'custody events are append-only'); END;
            CREATE TRIGGER custody_event_not_deleted BEFORE DELETE ON custody_event BEGIN SELECT RAISE(ABORT, 'custody events are append-only'); END;
            """)
    }

    static func decodeEvent(_ r: Row) -> StoredCustodyEvent {
        StoredCustodyEvent(id: r["id"], itemID: r["item_id"], s10: r["s10"], type: r["type"], atMillis: r["at"], actor: r["actor"],
                           toLocation: r["to_location"], station: r["station_id"], clientScanID: r["client_scan_uuid"],
                           manualEntry: r["manual_entry"], hash: r["hash"])
    }

    static let eventColumns = "e.id, e.item_id, i.s10, e.type, e.at, e.actor, e.to_location, e.station_id, e.client_scan_uuid, e.manual_entry, e.hash"
}

extension SQLiteArchiveStore {
    public func saveLocation(_ l: StoredLocation, actor: String) async throws -> Bool {
        try await write { db in
            if let existing = try Row.fetchOne(db, sql: "SELECT * FROM custody_location WHERE code = ?", arguments: [l.code]) {
                let same = existing["name"] == l.name && existing["kind"] == l.kind && existing["secured"] == l.secured && existing["alarmed"] == l.alarmed
                    && existing["cctv_covered"] == l.cctvCovered && (existing["max_dwell_h"] as Int?) == l.maxDwellHours
                guard same else { throw ArchiveError(.refused, "location \(l.code) is registered with other facts; locations are kept as registered") }
                return false
            }
            try db.execute(sql: """
                INSERT INTO custody_location (code, name, kind, secured, alarmed, cctv_covered, max_dwell_h, created_by, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [l.code, l.name, l.kind, l.secured, l.alarmed, l.cctvCovered, l.maxDwellHours, actor, Timestamp.iso(millis: Timestamp.nowMillis())])
            try Self.appendAudit(db, AuditDraft(actor: actor, action: "custody.location.add", target: "custody-location:\(l.code)",
                                                detail: ["name": l.name, "kind": l.kind, "secured": String(l.secured), "alarmed": String(l.alarmed),
                                                         "cctv_covered": String(l.cctvCovered)]))
            return true
        }
    }

    public func locations() async throws -> [StoredLocation] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM custody_location ORDER BY code").map {
                StoredLocation(code: $0["code"], name: $0["name"], kind: $0["kind"], secured: $0["secured"], alarmed: $0["alarmed"],
                               cctvCovered: $0["cctv_covered"], maxDwellHours: $0["max_dwell_h"])
            }
        }
    }

    public func receive(_ scan: ReceiptScan, actor: String) async throws -> ReceiptOutcome {
        try await write { db in
            if let seen = try Row.fetchOne(db, sql: """
                SELECT \(Self.eventColumns) FROM custody_event e JOIN custody_item i ON i.id = e.item_id WHERE e.client_scan_uuid = ?
                """, arguments: [scan.clientScanID]) {
                let event = Self.decodeEvent(seen)
                guard event.s10 == scan.s10, event.type == "RECEIVED" else {
                    throw ArchiveError(.refused, "scan id \(scan.clientScanID) was used for another scan (\(event.type) of \(event.s10))")
                }
                return .repeated(event)
            }
            if let open = try Row.fetchOne(db, sql: """
                SELECT \(Self.eventColumns) FROM custody_event e JOIN custody_item i ON i.id = e.item_id
                WHERE i.s10 = ? AND i.closed_at IS NULL ORDER BY e.id DESC LIMIT 1
                """, arguments: [scan.s10]) {
                return .alreadyInCustody(Self.decodeEvent(open))
            }
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM custody_location WHERE code = ?", arguments: [scan.location]) != nil else {
                throw ArchiveError(.notFound, "no location \(scan.location); register it first (recordkeeper custody location add)")
            }
            let episode = CivilDate(dayNumber: Int(scan.atMillis.floorDiv(86_400_000))).description
            try db.execute(sql: "INSERT INTO custody_item (s10, episode, first_arrival_at) VALUES (?, ?, ?)",
                           arguments: [scan.s10, episode, scan.atMillis])
            let itemID = db.lastInsertedRowID
            let hash = ContentHash.of(StoredCustodyEvent.canonical(itemID: itemID, s10: scan.s10, type: "RECEIVED", atMillis: scan.atMillis, actor: actor,
                                                                   toLocation: scan.location, station: scan.station, clientScanID: scan.clientScanID,
                                                                   manualEntry: scan.manualEntry)).hex
            try db.execute(sql: """
                INSERT INTO custody_event (item_id, type, at, client_ts, actor, to_location, station_id, client_scan_uuid, manual_entry, hash)
                VALUES (?, 'RECEIVED', ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [itemID, scan.atMillis, scan.clientTimestampMillis, actor, scan.location, scan.station, scan.clientScanID,
                                 scan.manualEntry, hash])
            let event = StoredCustodyEvent(id: db.lastInsertedRowID, itemID: itemID, s10: scan.s10, type: "RECEIVED", atMillis: scan.atMillis, actor: actor,
                                           toLocation: scan.location, station: scan.station, clientScanID: scan.clientScanID,
                                           manualEntry: scan.manualEntry, hash: hash)
            try Self.appendAudit(db, AuditDraft(actor: actor, action: "custody.received", target: "custody-item:\(itemID)",
                                                detail: ["s10": scan.s10, "event": String(event.id), "hash": hash, "location": scan.location]))
            return .received(event)
        }
    }

    public func custodyEvents(s10: String) async throws -> [StoredCustodyEvent] {
        try await read { db in
            try Row.fetchAll(db, sql: """
                SELECT \(Self.eventColumns) FROM custody_event e JOIN custody_item i ON i.id = e.item_id WHERE i.s10 = ? ORDER BY e.id
                """, arguments: [s10]).map(Self.decodeEvent)
        }
    }

    public func targets(targetedFrom: Int64, to: Int64) async throws -> [StoredTarget] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM custody_target WHERE targeted_at >= ? AND targeted_at < ? ORDER BY targeted_at, id",
                             arguments: [targetedFrom, to]).map(Self.decodeTarget)
        }
    }

    public func firstReceipts(s10s: [String], asOf: Int64) async throws -> [String: Int64] {
        try await read { db in
            var out: [String: Int64] = [:]
            for chunk in stride(from: 0, to: s10s.count, by: 500).map({ Array(s10s[$0..<min(s10s.count, $0 + 500)]) }) {
                let marks = Array(repeating: "?", count: chunk.count).joined(separator: ",")
                for r in try Row.fetchAll(db, sql: """
                    SELECT i.s10, min(e.at) AS at FROM custody_event e JOIN custody_item i ON i.id = e.item_id
                    WHERE e.type = 'RECEIVED' AND e.at <= ? AND i.s10 IN (\(marks)) GROUP BY i.s10
                    """, arguments: StatementArguments([asOf] as [Int64]) + StatementArguments(chunk)) {
                    out[r["s10"]] = r["at"]
                }
            }
            return out
        }
    }

    public func custodyEvents(afterID: Int64, limit: Int) async throws -> [StoredCustodyEvent] {
        try await read { db in
            try Row.fetchAll(db, sql: """
                SELECT \(Self.eventColumns) FROM custody_event e JOIN custody_item i ON i.id = e.item_id WHERE e.id > ? ORDER BY e.id LIMIT ?
                """, arguments: [afterID, limit]).map(Self.decodeEvent)
        }
    }

    public func targetImports() async throws -> [StoredTargetImport] {
        try await read { db in try Row.fetchAll(db, sql: "SELECT * FROM custody_import ORDER BY id").map(Self.decodeImport) }
    }

    public func targets(importID: Int64) async throws -> [StoredTarget] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM custody_target WHERE import_id = ? ORDER BY line, id", arguments: [importID]).map(Self.decodeTarget)
        }
    }

    static func decodeTarget(_ r: Row) -> StoredTarget {
        StoredTarget(id: r["id"], s10: r["s10"], ruleCode: r["rule_code"], ruleVersion: r["rule_version"], reasonCode: r["reason_code"],
                     targetedAtMillis: r["targeted_at"], targetedBy: r["targeted_by"], expectedArrivalAtMillis: r["expected_arrival_at"],
                     priority: r["priority"], originCountry: r["origin_country"], mailClass: r["mail_class"], declaredDescription: r["declared_desc"],
                     holdRequestedAtMillis: r["hold_requested_at"], importID: r["import_id"], line: r["line"])
    }
}

extension Int64 {
    /// Floor division (toward negative infinity).
    func floorDiv(_ d: Int64) -> Int64 { self >= 0 ? self / d : -((-self + d - 1) / d) }
}
