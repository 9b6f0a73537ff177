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
                                  digest: r["digest"], importedBy: r["imported_by"], importedAt: r["imported_at"], mappingProfile: r["mapping_profile"])
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
            var added = 0, accepted = 0
            // Row by row from the reader: the list is read and written in one pass, never held whole.
            while let t = try draft.rows.next() {
                accepted += 1
                try insert.execute(arguments: [t.s10, t.ruleCode, t.ruleVersion, t.reasonCode, t.targetedAtMillis, t.targetedBy, t.expectedArrivalAtMillis,
                                               t.priority, t.originCountry, t.mailClass, t.declaredDescription, t.holdRequestedAtMillis, importID, t.line])
                guard db.changesCount == 1 else { continue } // the item was already targeted under this rule
                added += 1
                t.canonical.withUnsafeBytes { hasher.update($0) }
            }
            let rejected = draft.rows.rejected
            let reject = try db.makeStatement(sql: "INSERT INTO custody_import_rejection (import_id, line, code, detail, raw) VALUES (?, ?, ?, ?, ?)")
            for r in rejected { try reject.execute(arguments: [importID, r.line, r.code, r.detail, r.raw]) }
            let merged = draft.rows.mergedInFile + (accepted - added)
            let digest = hasher.finalize().hex
            try db.execute(sql: """
                INSERT INTO custody_import (id, kind, file_name, file_sha256, rows_total, added, rejected, merged, unknown_columns, digest, imported_by, imported_at,
                    mapping_profile)
                VALUES (?, 'targets', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [importID, draft.fileName, draft.fileHash, draft.rows.rowsTotal, added, rejected.count, merged,
                                 draft.unknownColumns.joined(separator: ","), digest, actor, Timestamp.iso(millis: Timestamp.nowMillis()), draft.mappingProfile])
            let stored = try Self.decodeImport(try Row.fetchOne(db, sql: "SELECT * FROM custody_import WHERE id = ?", arguments: [importID])!)
            try Self.appendAudit(db, AuditDraft(actor: actor, action: "custody.import", target: "custody-import:\(importID)", detail: [
                "kind": "targets", "file": draft.fileName, "file_sha256": draft.fileHash, "rows": String(draft.rows.rowsTotal), "added": String(added),
                "rejected": String(rejected.count), "merged": String(merged), "digest": digest, "profile": draft.mappingProfile ?? ""]))
            return stored
        }
    }

    public func targets(s10: String) async throws -> [StoredTarget] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT \(Self.targetColumns) FROM custody_target WHERE s10 = ? ORDER BY id", arguments: [s10]).map(Self.decodeTarget)
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
                detail TEXT, note TEXT, hash TEXT NOT NULL
            );
            CREATE TABLE custody_inspection (
                id INTEGER PRIMARY KEY, item_id INTEGER NOT NULL REFERENCES custody_item(id),
                method TEXT NOT NULL CHECK (method IN ('xray', 'canine', 'manual_open', 'field_analyzer', 'lab')),
                started_at INTEGER NOT NULL, ended_at INTEGER NOT NULL CHECK (ended_at >= started_at), officer TEXT NOT NULL, equipment TEXT,
                result TEXT NOT NULL CHECK (result IN ('no_anomaly', 'anomaly', 'alert', 'presumptive_positive', 'confirmed_positive', 'inconclusive')),
                substance TEXT, actual_desc TEXT CHECK (result = 'no_anomaly' OR actual_desc IS NOT NULL),
                start_event_id INTEGER NOT NULL UNIQUE REFERENCES custody_event(id), end_event_id INTEGER NOT NULL UNIQUE REFERENCES custody_event(id)
            );
            CREATE INDEX custody_inspection_item ON custody_inspection(item_id);
            CREATE TRIGGER custody_inspection_kept BEFORE UPDATE ON custody_inspection BEGIN SELECT RAISE(ABORT, 'inspections are kept as recorded'); END;
            CREATE TRIGGER custody_inspection_not_deleted BEFORE DELETE ON custody_inspection BEGIN SELECT RAISE(ABORT, 'inspections are kept'); END;
            CREATE INDEX custody_event_item ON custody_event(item_id, id);
            CREATE INDEX custody_event_type_at ON custody_event(type, at);
            CREATE TRIGGER custody_location_kept BEFORE UPDATE ON custody_location BEGIN SELECT RAISE(ABORT, 'locations are kept unchanged'); END;
            CREATE TRIGGER custody_location_not_deleted BEFORE DELETE ON custody_location BEGIN SELECT RAISE(ABORT, 'locations are kept'); END;
            CREATE TRIGGER custody_item_kept BEFORE UPDATE ON custody_item
                WHEN NOT (OLD.closed_at IS NULL AND NEW.closed_at IS NOT NULL AND NEW.id = OLD.id AND NEW.s10 = OLD.s10 AND NEW.episode = OLD.episode
                          AND NEW.first_arrival_at = OLD.first_arrival_at)
                BEGIN SELECT RAISE(ABORT, 'items are not changed in place (an episode is only closed, once)'); END;
            CREATE TRIGGER custody_item_not_deleted BEFORE DELETE ON custody_item BEGIN SELECT RAISE(ABORT, 'items are kept'); END;
            CREATE TRIGGER custody_event_kept BEFORE UPDATE ON custody_event BEGIN SELECT RAISE(ABORT, 'custody events are append-only'); END;
            CREATE TRIGGER custody_event_not_deleted BEFORE DELETE ON custody_event BEGIN SELECT RAISE(ABORT, 'custody events are append-only'); END;
            """)
    }

    /// A row whose first columns are `eventColumns`, read by position: by name GRDB lower-cases
    /// the name and searches the columns on every read (a sixth of verify's time over custody events).
    static func decodeEvent(_ r: Row) -> StoredCustodyEvent {
        StoredCustodyEvent(id: r[0], itemID: r[1], s10: r[2], type: r[3], atMillis: r[4], actor: r[5], toLocation: r[6], station: r[7], clientScanID: r[8],
                           manualEntry: r[9], detail: r[10], hash: r[11])
    }

    static let eventColumns = "e.id, e.item_id, i.s10, e.type, e.at, e.actor, e.to_location, e.station_id, e.client_scan_uuid, e.manual_entry, e.detail, e.hash"
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

    public func custodyEvents(s10: String) async throws -> [StoredCustodyEvent] {
        try await read { db in
            try Row.fetchAll(db, sql: """
                SELECT \(Self.eventColumns) FROM custody_event e JOIN custody_item i ON i.id = e.item_id WHERE i.s10 = ? ORDER BY e.id
                """, arguments: [s10]).map(Self.decodeEvent)
        }
    }

    public func targets(targetedFrom: Int64, to: Int64) async throws -> [StoredTarget] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT \(Self.targetColumns) FROM custody_target WHERE targeted_at >= ? AND targeted_at < ? ORDER BY targeted_at, id",
                             arguments: [targetedFrom, to]).map(Self.decodeTarget)
        }
    }

    public func firstReceipts(s10s: [String], asOf: Int64) async throws -> [String: Int64] {
        try await read { db in
            var out: [String: Int64] = [:]
            for chunk in stride(from: 0, to: s10s.count, by: 500).map({ Array(s10s[$0..<min(s10s.count, $0 + 500)]) }) {
                let marks = Array(repeating: "?", count: chunk.count).joined(separator: ",")
                for r in try Row.fetchAll(db, sql: """
                    SELECT i.s10, min(e.at) AS at FROM custody_item i CROSS JOIN custody_event e ON e.item_id = i.id
                    WHERE +e.type = 'RECEIVED' AND +e.at <= ? AND i.s10 IN (\(marks)) GROUP BY i.s10
                    """, arguments: StatementArguments([asOf] as [Int64]) + StatementArguments(chunk)) {
                    out[r["s10"]] = r["at"]
                }
            }
            return out
        }
    }

    public func custodyEventIDs(from: Int64, to: Int64) async throws -> [Int64] {
        try await read { db in try Int64.fetchAll(db, sql: Self.numberedParameters(DataQualityFacts.eventIDsSQL), arguments: [from, to]) }
    }

    public func custodyEvents(afterID: Int64, limit: Int) async throws -> [StoredCustodyEvent] {
        try await read { db in
            try Row.fetchAll(db, sql: """
                SELECT \(Self.eventColumns) FROM custody_event e JOIN custody_item i ON i.id = e.item_id WHERE e.id > ? ORDER BY e.id LIMIT ?
                """, arguments: [afterID, limit]).map(Self.decodeEvent)
        }
    }

    public func targetImports() async throws -> [StoredTargetImport] {
        try await read { db in try Row.fetchAll(db, sql: "SELECT * FROM custody_import WHERE kind = 'targets' ORDER BY id").map(Self.decodeImport) }
    }

    public func targets(importID: Int64) async throws -> [StoredTarget] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT \(Self.targetColumns) FROM custody_target WHERE import_id = ? ORDER BY line, id", arguments: [importID]).map(Self.decodeTarget)
        }
    }

    /// The columns `decodeTarget` reads, by position (a report may decode a million targets:
    /// looking each column up by name cost more than the query).
    static let targetColumns = """
        id, s10, rule_code, rule_version, reason_code, targeted_at, targeted_by, expected_arrival_at, priority, origin_country, mail_class, \
        declared_desc, hold_requested_at, import_id, line
        """

    static func decodeTarget(_ r: Row) -> StoredTarget {
        StoredTarget(id: r[0], s10: r[1], ruleCode: r[2], ruleVersion: r[3], reasonCode: r[4], targetedAtMillis: r[5], targetedBy: r[6],
                     expectedArrivalAtMillis: r[7], priority: r[8], originCountry: r[9], mailClass: r[10], declaredDescription: r[11],
                     holdRequestedAtMillis: r[12], importID: r[13], line: r[14])
    }
}

extension Int64 {
    /// Floor division (toward negative infinity).
    func floorDiv(_ d: Int64) -> Int64 { self >= 0 ? self / d : -((-self + d - 1) / d) }
}

extension SQLiteArchiveStore {
    /// Appends an event to an item with its hash and audit entry (inside the caller's transaction).
    static func appendCustodyEvent(_ db: Database, itemID: Int64, s10: String, type: String, atMillis: Int64, actor: String, toLocation: String?,
                                   station: String?, clientScanID: String?, detail: String?, manualEntry: Bool = false,
                                   clientTimestampMillis: Int64? = nil) throws -> StoredCustodyEvent {
        let draft = StoredCustodyEvent.make(id: 0, itemID: itemID, s10: s10, type: type, atMillis: atMillis, actor: actor, toLocation: toLocation,
                                            station: station, clientScanID: clientScanID, manualEntry: manualEntry, detail: detail)
        try db.cachedStatement(sql: """
            INSERT INTO custody_event (item_id, type, at, client_ts, actor, to_location, station_id, client_scan_uuid, manual_entry, detail, hash)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [itemID, type, atMillis, clientTimestampMillis, actor, toLocation, station, clientScanID, manualEntry, detail, draft.hash])
        var event = draft
        event.id = db.lastInsertedRowID
        try Self.appendAudit(db, event.auditDraft)
        return event
    }

    /// The item's open episode and its last inspection event (INSPECT_START: one is open).
    static func openItem(_ db: Database, s10: String) throws -> (id: Int64, firstArrival: Int64, lastInspection: StoredCustodyEvent?)? {
        guard let item = try Row.fetchOne(db, sql: "SELECT id, first_arrival_at FROM custody_item WHERE s10 = ? AND closed_at IS NULL", arguments: [s10]) else {
            return nil
        }
        let last = try Row.fetchOne(db, sql: """
            SELECT \(Self.eventColumns) FROM custody_event e JOIN custody_item i ON i.id = e.item_id
            WHERE e.item_id = ? AND e.type IN ('INSPECT_START', 'INSPECT_END') ORDER BY e.id DESC LIMIT 1
            """, arguments: [item["id"] as Int64]).map(Self.decodeEvent)
        return (item["id"], item["first_arrival_at"], last)
    }

    public func startInspection(_ start: InspectionStart, actor: String) async throws -> StoredCustodyEvent {
        try await write { db in
            if let seen = try Row.fetchOne(db, sql: """
                SELECT \(Self.eventColumns) FROM custody_event e JOIN custody_item i ON i.id = e.item_id WHERE e.client_scan_uuid = ?
                """, arguments: [start.clientScanID]).map(Self.decodeEvent) {
                guard seen.type == "INSPECT_START", seen.s10 == start.s10 else {
                    throw ArchiveError(.refused, "SCAN_ID_REUSED: scan id \(start.clientScanID) was used for another scan (\(seen.type) of \(seen.s10))")
                }
                return seen
            }
            guard let item = try Self.openItem(db, s10: start.s10) else {
                throw ArchiveError(.notFound, "REQUIRED_MISSING: \(start.s10) is not in custody (no RECEIVED scan)")
            }
            if let last = item.lastInspection, last.type == "INSPECT_START" {
                throw ArchiveError(.refused, "an inspection of \(start.s10) is open since \(Timestamp.iso(millis: last.atMillis)) (\(last.detail ?? "")); end it first")
            }
            guard start.atMillis >= item.firstArrival else {
                throw ArchiveError(.invalid, "DATE_ORDER: an inspection cannot start before the item arrived (\(Timestamp.iso(millis: item.firstArrival)))")
            }
            try start.checkClientTime(firstArrival: item.firstArrival)
            if let l = start.location, try Bool.fetchOne(db, sql: "SELECT 1 FROM custody_location WHERE code = ?", arguments: [l]) == nil {
                throw ArchiveError(.notFound, "no location \(l)")
            }
            return try Self.appendCustodyEvent(db, itemID: item.id, s10: start.s10, type: "INSPECT_START", atMillis: start.atMillis, actor: actor,
                                               toLocation: start.location, station: start.station, clientScanID: start.clientScanID,
                                               detail: "method=\(start.method)", clientTimestampMillis: start.clientTimestampMillis)
        }
    }

    public func endInspection(_ end: InspectionEnd, actor: String) async throws -> StoredInspection {
        try await write { db in
            if let seen = try Row.fetchOne(db, sql: """
                SELECT e.type, i.s10 FROM custody_event e JOIN custody_item i ON i.id = e.item_id WHERE e.client_scan_uuid = ?
                """, arguments: [end.clientScanID]) {
                // The same end sent again is answered with its inspection; the id of another scan is refused.
                guard (seen["type"] as String) == "INSPECT_END", (seen["s10"] as String) == end.s10, let done = try Row.fetchOne(db, sql: """
                    SELECT n.*, i.s10 FROM custody_inspection n JOIN custody_item i ON i.id = n.item_id
                    JOIN custody_event e ON e.id = n.end_event_id WHERE e.client_scan_uuid = ?
                    """, arguments: [end.clientScanID]) else {
                    throw ArchiveError(.refused, "SCAN_ID_REUSED: scan id \(end.clientScanID) was used for another scan (\(seen["type"] as String) of \(seen["s10"] as String))")
                }
                return Self.decodeInspection(done)
            }
            guard let item = try Self.openItem(db, s10: end.s10), let start = item.lastInspection, start.type == "INSPECT_START" else {
                throw ArchiveError(.invalid, "REQUIRED_MISSING: no inspection of \(end.s10) is open (INSPECT_END needs an INSPECT_START)")
            }
            guard end.atMillis >= start.atMillis else {
                throw ArchiveError(.invalid, "DATE_ORDER: an inspection cannot end before it started (\(Timestamp.iso(millis: start.atMillis)))")
            }
            let method = String((start.detail ?? "").dropFirst("method=".count))
            let event = try Self.appendCustodyEvent(db, itemID: item.id, s10: end.s10, type: "INSPECT_END", atMillis: end.atMillis, actor: actor,
                                                    toLocation: nil, station: end.station, clientScanID: end.clientScanID, detail: "result=\(end.result)",
                                                    clientTimestampMillis: end.clientTimestampMillis)
            try db.execute(sql: """
                INSERT INTO custody_inspection (item_id, method, started_at, ended_at, officer, equipment, result, substance, actual_desc, start_event_id, end_event_id)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [item.id, method, start.atMillis, end.atMillis, actor, end.equipment, end.result, end.substance, end.actualDescription,
                                 start.id, event.id])
            return StoredInspection(id: db.lastInsertedRowID, itemID: item.id, s10: end.s10, method: method, startedAtMillis: start.atMillis,
                                    endedAtMillis: end.atMillis, officer: actor, equipment: end.equipment, result: end.result, substance: end.substance,
                                    actualDescription: end.actualDescription)
        }
    }

    static func decodeInspection(_ r: Row) -> StoredInspection {
        StoredInspection(id: r["id"], itemID: r["item_id"], s10: r["s10"], method: r["method"], startedAtMillis: r["started_at"], endedAtMillis: r["ended_at"],
                         officer: r["officer"], equipment: r["equipment"], result: r["result"], substance: r["substance"], actualDescription: r["actual_desc"])
    }

    public func inspections(s10: String) async throws -> [StoredInspection] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT n.*, i.s10 FROM custody_inspection n JOIN custody_item i ON i.id = n.item_id WHERE i.s10 = ? ORDER BY n.id",
                             arguments: [s10]).map(Self.decodeInspection)
        }
    }

    public func inspections(endedFrom from: Int64, to: Int64) async throws -> [StoredInspection] {
        try await read { db in
            try Row.fetchAll(db, sql: """
                SELECT n.*, i.s10 FROM custody_inspection n JOIN custody_item i ON i.id = n.item_id WHERE n.ended_at >= ? AND n.ended_at < ? ORDER BY n.ended_at, n.id
                """, arguments: [from, to]).map(Self.decodeInspection)
        }
    }

    public func custodySpells(receivedFrom: Int64, to: Int64, asOf: Int64) async throws -> [CustodySpell] {
        try await spells(where: "i.first_arrival_at >= ? AND i.first_arrival_at < ? AND i.first_arrival_at <= ? AND (i.closed_at IS NULL OR i.closed_at > ?)",
                         asOf: asOf, [receivedFrom, to, asOf, asOf])
    }

    public func openCustodySpells(receivedFrom: Int64, asOf: Int64) async throws -> [CustodySpell] {
        try await spells(where: "\(CustodySpell.openSQL(closed: "> ?")) AND i.first_arrival_at >= ? AND i.first_arrival_at <= ?", asOf: asOf,
                         [asOf, receivedFrom, asOf])
    }

    private func spells(where filter: String, asOf: Int64, _ arguments: [Int64]) async throws -> [CustodySpell] {
        try await read { db in
            try Row.fetchAll(db, sql: """
                SELECT i.id, i.s10, i.first_arrival_at, i.closed_at,
                       (SELECT e.to_location FROM custody_event e WHERE e.item_id = i.id AND e.to_location IS NOT NULL AND e.at <= ?
                        ORDER BY e.id DESC LIMIT 1) AS location,
                       (SELECT min(e.at) FROM custody_event e WHERE e.item_id = i.id AND +e.type = 'INSPECT_END' AND +e.at <= ?) AS inspected
                FROM custody_item i WHERE \(filter)
                ORDER BY i.first_arrival_at, i.id
                """, arguments: StatementArguments([asOf, asOf] + arguments)).map {
                CustodySpell(itemID: $0["id"], s10: $0["s10"], receivedAtMillis: $0["first_arrival_at"], location: $0["location"],
                             firstInspectionEndMillis: $0["inspected"])
            }
        }
    }
}

extension SQLiteArchiveStore {
    /// Seizures (each after an inspection, witnessed by someone else, into seized property) and
    /// their SEACATS entries (written once; a late one carries its reason).
    static func migrateCustodySeizures(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE custody_seizure (
                id INTEGER PRIMARY KEY, item_id INTEGER NOT NULL REFERENCES custody_item(id), inspection_id INTEGER NOT NULL REFERENCES custody_inspection(id),
                seized_at INTEGER NOT NULL, seizing_officer TEXT NOT NULL, witness TEXT NOT NULL CHECK (witness <> seizing_officer),
                violation_type TEXT NOT NULL CHECK (violation_type IN ('narcotics', 'agriculture', 'ipr', 'currency', 'weapons', 'prohibited', 'revenue', 'other')),
                substance TEXT NOT NULL, net_weight_g REAL NOT NULL CHECK (net_weight_g > 0), form_6051s_no TEXT NOT NULL UNIQUE,
                storage_location TEXT NOT NULL REFERENCES custody_location(code), event_id INTEGER NOT NULL UNIQUE REFERENCES custody_event(id)
            );
            CREATE INDEX custody_seizure_at ON custody_seizure(seized_at);
            CREATE TABLE custody_seacats_entry (
                seizure_id INTEGER PRIMARY KEY REFERENCES custody_seizure(id), case_no TEXT NOT NULL, recorded_at INTEGER NOT NULL,
                recorded_by TEXT NOT NULL, late_reason TEXT
            );
            CREATE TRIGGER custody_seizure_kept BEFORE UPDATE ON custody_seizure BEGIN SELECT RAISE(ABORT, 'seizures are kept as recorded'); END;
            CREATE TRIGGER custody_seizure_not_deleted BEFORE DELETE ON custody_seizure BEGIN SELECT RAISE(ABORT, 'seizures are kept'); END;
            CREATE TRIGGER custody_seacats_kept BEFORE UPDATE ON custody_seacats_entry BEGIN SELECT RAISE(ABORT, 'a SEACATS entry is recorded once'); END;
            CREATE TRIGGER custody_seacats_not_deleted BEFORE DELETE ON custody_seacats_entry BEGIN SELECT RAISE(ABORT, 'SEACATS entries are kept'); END;
            """)
    }

    static let seizureSelect = """
        SELECT z.*, i.s10, c.case_no, c.recorded_at, c.recorded_by, c.late_reason, \(StoredSeizureCorrection.effectiveSeizedAtSQL) AS effective_at
        FROM custody_seizure z JOIN custody_item i ON i.id = z.item_id LEFT JOIN custody_seacats_entry c ON c.seizure_id = z.id
        """

    static func decodeSeizure(_ r: Row) -> StoredSeizure {
        StoredSeizure(id: r["id"], itemID: r["item_id"], s10: r["s10"], inspectionID: r["inspection_id"], seizedAtMillis: r["effective_at"],
                      seizingOfficer: r["seizing_officer"], witness: r["witness"], violationType: r["violation_type"], substance: r["substance"],
                      netWeightGrams: r["net_weight_g"], form6051S: r["form_6051s_no"], storageLocation: r["storage_location"], seacatsCase: r["case_no"],
                      seacatsRecordedAtMillis: r["recorded_at"], seacatsRecordedBy: r["recorded_by"], lateReason: r["late_reason"],
                      recordedSeizedAtMillis: r["seized_at"])
    }

    public func seize(_ z: SeizureDraft, actor: String) async throws -> StoredSeizure {
        try await write { db in
            guard z.witness.lowercased() != actor.lowercased() else { throw ArchiveError(.refused, "the witness of a seizure is someone other than the seizing officer") }
            guard let item = try Self.openItem(db, s10: z.s10) else { throw ArchiveError(.notFound, "REQUIRED_MISSING: \(z.s10) is not in custody") }
            guard let inspection = try Row.fetchOne(db, sql: "SELECT id, started_at FROM custody_inspection WHERE item_id = ? ORDER BY id DESC LIMIT 1",
                                                    arguments: [item.id]) else {
                throw ArchiveError(.invalid, "REQUIRED_MISSING: \(z.s10) has no inspection; an outcome follows an inspection")
            }
            guard z.atMillis >= (inspection["started_at"] as Int64) else {
                throw ArchiveError(.invalid, "DATE_ORDER: a seizure cannot precede the inspection that found it")
            }
            guard try String.fetchOne(db, sql: "SELECT kind FROM custody_location WHERE code = ?", arguments: [z.storageLocation]) == "seized_property" else {
                throw ArchiveError(.invalid, "\(z.storageLocation) is not a seized-property location")
            }
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM custody_seizure WHERE item_id = ?", arguments: [item.id]) != nil {
                throw ArchiveError(.refused, "\(z.s10) is seized already")
            }
            let event = try Self.appendCustodyEvent(db, itemID: item.id, s10: z.s10, type: "MOVED", atMillis: z.atMillis, actor: actor,
                                                    toLocation: z.storageLocation, station: nil, clientScanID: nil,
                                                    detail: "seized form_6051s=\(z.form6051S) witness=\(z.witness)")
            try db.execute(sql: """
                INSERT INTO custody_seizure (item_id, inspection_id, seized_at, seizing_officer, witness, violation_type, substance, net_weight_g,
                    form_6051s_no, storage_location, event_id)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [item.id, inspection["id"] as Int64, z.atMillis, actor, z.witness, z.violationType, z.substance, z.netWeightGrams,
                                 z.form6051S, z.storageLocation, event.id])
            let id = db.lastInsertedRowID
            try Self.appendAudit(db, AuditDraft(actor: actor, action: "custody.seize", target: "custody-seizure:\(id)", detail: [
                "s10": z.s10, "witness": z.witness, "form_6051s": z.form6051S, "violation": z.violationType, "seized_at": String(z.atMillis)]))
            return Self.decodeSeizure(try Row.fetchOne(db, sql: Self.seizureSelect + " WHERE z.id = ?", arguments: [id])!)
        }
    }

    public func recordSEACATS(seizureID: Int64, caseNumber: String, atMillis: Int64, lateReason: String?, actor: String) async throws -> StoredSeizure {
        try await write { db in
            guard let row = try Row.fetchOne(db, sql: Self.seizureSelect + " WHERE z.id = ?", arguments: [seizureID]) else {
                throw ArchiveError(.notFound, "no seizure \(seizureID)")
            }
            let z = Self.decodeSeizure(row)
            if let done = z.seacatsCase { throw ArchiveError(.refused, "seizure \(seizureID) was recorded in SEACATS as \(done) already") }
            guard atMillis >= z.seizedAtMillis else { throw ArchiveError(.invalid, "DATE_ORDER: SEACATS cannot hold a seizure before it happened") }
            if atMillis > z.deadlineAtMillis, (lateReason ?? "").trimmingCharacters(in: .whitespaces).isEmpty {
                throw ArchiveError(.invalid, "REQUIRED_MISSING: recorded after the 24-hour deadline; say why (--late-reason)")
            }
            try db.execute(sql: "INSERT INTO custody_seacats_entry (seizure_id, case_no, recorded_at, recorded_by, late_reason) VALUES (?, ?, ?, ?, ?)",
                           arguments: [seizureID, caseNumber, atMillis, actor, lateReason])
            try Self.appendAudit(db, AuditDraft(actor: actor, action: "custody.seacats", target: "custody-seizure:\(seizureID)",
                                                detail: ["case": caseNumber, "recorded_at": String(atMillis), "late": String(atMillis > z.deadlineAtMillis)]))
            return Self.decodeSeizure(try Row.fetchOne(db, sql: Self.seizureSelect + " WHERE z.id = ?", arguments: [seizureID])!)
        }
    }

    public func seizures(seizedFrom: Int64, to: Int64) async throws -> [StoredSeizure] {
        try await read { db in
            try Row.fetchAll(db, sql: Self.seizureSelect + " WHERE \(StoredSeizureCorrection.effectiveSeizedAtSQL) >= ? AND \(StoredSeizureCorrection.effectiveSeizedAtSQL) < ? ORDER BY effective_at, z.id",
                             arguments: [seizedFrom, to]).map(Self.decodeSeizure)
        }
    }
}

extension SQLiteArchiveStore {
    public func inspectionsAndHits(s10s: [String], asOf: Int64) async throws -> [String: InspectionAndHit] {
        try await read { db in
            var out: [String: InspectionAndHit] = [:]
            for chunk in stride(from: 0, to: s10s.count, by: 500).map({ Array(s10s[$0..<min(s10s.count, $0 + 500)]) }) {
                let marks = Array(repeating: "?", count: chunk.count).joined(separator: ",")
                for r in try Row.fetchAll(db, sql: """
                    SELECT i.s10,
                           (SELECT min(n.ended_at) FROM custody_inspection n JOIN custody_item j ON j.id = n.item_id WHERE j.s10 = i.s10 AND n.ended_at <= ?) AS inspected,
                           (SELECT min(\(StoredSeizureCorrection.effectiveSeizedAtSQL)) FROM custody_item j CROSS JOIN custody_seizure z ON z.item_id = j.id WHERE j.s10 = i.s10 AND \(StoredSeizureCorrection.effectiveSeizedAtSQL) <= ?) AS hit,
                           (SELECT z.violation_type FROM custody_item j CROSS JOIN custody_seizure z ON z.item_id = j.id WHERE j.s10 = i.s10 AND \(StoredSeizureCorrection.effectiveSeizedAtSQL) <= ?
                            ORDER BY \(StoredSeizureCorrection.effectiveSeizedAtSQL) LIMIT 1) AS violation,
                           (SELECT d.detained_at FROM custody_detention d JOIN custody_item j ON j.id = d.item_id WHERE j.s10 = i.s10 AND d.detained_at <= ?
                            ORDER BY d.detained_at LIMIT 1) AS dhit,
                           (SELECT d.violation_type FROM custody_detention d JOIN custody_item j ON j.id = d.item_id WHERE j.s10 = i.s10 AND d.detained_at <= ?
                            ORDER BY d.detained_at LIMIT 1) AS dviolation,
                           (SELECT f.notified_at FROM custody_referral f JOIN custody_item j ON j.id = f.item_id
                            WHERE j.s10 = i.s10 AND f.notified_at <= ? AND f.violation_type IS NOT NULL ORDER BY f.notified_at LIMIT 1) AS rhit,
                           (SELECT f.violation_type FROM custody_referral f JOIN custody_item j ON j.id = f.item_id
                            WHERE j.s10 = i.s10 AND f.notified_at <= ? AND f.violation_type IS NOT NULL ORDER BY f.notified_at LIMIT 1) AS rviolation,
                           (SELECT min(u.assessed_at) FROM custody_duty u JOIN custody_item j ON j.id = u.item_id WHERE j.s10 = i.s10 AND u.assessed_at <= ?) AS uhit
                    FROM (SELECT DISTINCT c.s10 FROM custody_item c WHERE c.s10 IN (\(marks))
                          AND EXISTS (SELECT 1 FROM custody_inspection x WHERE x.item_id = c.id)) i
                    """, arguments: StatementArguments([asOf, asOf, asOf, asOf, asOf, asOf, asOf, asOf] as [Int64]) + StatementArguments(chunk)) {
                    let uhit: Int64? = r["uhit"]
                    let v = InspectionAndHit.first(inspected: r["inspected"], hits: [(r["hit"], r["violation"]), (r["dhit"], r["dviolation"]),
                                                                                     (r["rhit"], r["rviolation"]), (uhit, uhit.map { _ in "revenue" })])
                    if v.inspectedAtMillis != nil || v.hitAtMillis != nil { out[r["s10"]] = v }
                }
            }
            return out
        }
    }
}

extension SQLiteArchiveStore {
    public func effectivenessCounts(targetedFrom: Int64, to: Int64, asOf: Int64) async throws -> [EffectivenessCount] {
        let sql = Self.numberedParameters(EffectivenessCount.sql(sqlite: true))
        return try await read { db in
            try Row.fetchAll(db, sql: sql, arguments: [asOf, targetedFrom, to]).map {
                EffectivenessCount(ruleCode: $0[0], ruleVersion: $0[1], presented: $0[2], inspected: $0[3], violation: $0[4], targets: $0[5])
            }
        }
    }

    public func returnsUninspected(s10s: [String], asOf: Int64) async throws -> [String: StoredCustodyEvent] {
        try await read { db in
            var out: [String: StoredCustodyEvent] = [:]
            for chunk in stride(from: 0, to: s10s.count, by: 500).map({ Array(s10s[$0..<min(s10s.count, $0 + 500)]) }) {
                let marks = Array(repeating: "?", count: chunk.count).joined(separator: ",")
                for r in try Row.fetchAll(db, sql: """
                    SELECT \(Self.eventColumns) FROM custody_item i CROSS JOIN custody_event e ON e.item_id = i.id
                    WHERE +e.type = 'RETURNED_TO_CARRIER' AND e.detail LIKE 'uninspected%' AND +e.at <= ? AND i.s10 IN (\(marks)) ORDER BY e.id
                    """, arguments: StatementArguments([asOf] as [Int64]) + StatementArguments(chunk)) {
                    let e = Self.decodeEvent(r)
                    out[e.s10] = out[e.s10] ?? e
                }
            }
            return out
        }
    }
}


extension SQLiteArchiveStore {
    public func custodyItemsDisagreeingWithReceipt(limit: Int) async throws -> [(itemID: Int64, s10: String)] {
        try await read { db in
            try Row.fetchAll(db, sql: CustodyItemChecks.disagreeingWithReceiptSQL + " ?", arguments: [limit]).map { (itemID: $0["id"], s10: $0["s10"]) }
        }
    }

    public func custodyItemsClosedWithoutEvent(limit: Int) async throws -> [(itemID: Int64, s10: String)] {
        try await read { db in
            try Row.fetchAll(db, sql: """
                SELECT i.id, i.s10 FROM custody_item i WHERE i.closed_at IS NOT NULL AND NOT EXISTS (
                    SELECT 1 FROM custody_event e WHERE e.item_id = i.id AND e.at = i.closed_at AND e.type IN ('RETURNED_TO_CARRIER', 'TO_AGENCY', 'DESTROYED'))
                ORDER BY i.id LIMIT ?
                """, arguments: [limit]).map { (itemID: $0["id"], s10: $0["s10"]) }
        }
    }
}

extension SQLiteArchiveStore {
    /// Mapping profiles, versioned like rules (never changed), and the profile each import was read with.
    static func migrateCustodyProfiles(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE custody_mapping_profile (
                name TEXT NOT NULL, version INTEGER NOT NULL CHECK (version > 0), definition TEXT NOT NULL, sha256 TEXT NOT NULL,
                created_by TEXT NOT NULL, created_at TEXT NOT NULL, PRIMARY KEY (name, version)
            );
            CREATE TRIGGER custody_mapping_profile_kept BEFORE UPDATE ON custody_mapping_profile
                BEGIN SELECT RAISE(ABORT, 'a profile version is never changed; register a new version'); END;
            CREATE TRIGGER custody_mapping_profile_not_deleted BEFORE DELETE ON custody_mapping_profile BEGIN SELECT RAISE(ABORT, 'profile versions are kept'); END;
            ALTER TABLE custody_import ADD COLUMN mapping_profile TEXT;
            """)
    }

    public func saveMappingProfile(_ p: StoredMappingProfile, actor: String) async throws -> Bool {
        try await write { db in
            if let existing = try String.fetchOne(db, sql: "SELECT sha256 FROM custody_mapping_profile WHERE name = ? AND version = ?", arguments: [p.name, p.version]) {
                guard existing == p.sha256 else {
                    throw ArchiveError(.refused, "profile \(p.label) is registered with another definition; a version is never changed, register version \(p.version + 1)")
                }
                return false
            }
            try db.execute(sql: "INSERT INTO custody_mapping_profile (name, version, definition, sha256, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                           arguments: [p.name, p.version, p.definition, p.sha256, actor, Timestamp.iso(millis: Timestamp.nowMillis())])
            try Self.appendAudit(db, AuditDraft(actor: actor, action: "custody.profile.add", target: "custody-profile:\(p.name):\(p.version)",
                                                detail: ["sha256": p.sha256]))
            return true
        }
    }

    public func mappingProfiles() async throws -> [StoredMappingProfile] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM custody_mapping_profile ORDER BY name, version").map {
                StoredMappingProfile(name: $0["name"], version: $0["version"], definition: $0["definition"], sha256: $0["sha256"], createdBy: $0["created_by"],
                                     createdAt: $0["created_at"])
            }
        }
    }
}
