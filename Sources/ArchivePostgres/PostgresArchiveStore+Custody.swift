import Archive
import Foundation
import Logging
import PostgresNIO
import RecordkeeperCore

/// Custody records (issue 15) on PostgreSQL: the same rows, guards and audit entries as SQLite's
/// (`CustodyStore` conformance suite).
extension PostgresArchiveStore: CustodyStore {
    public func saveTargetRule(_ rule: StoredTargetRule, actor: String) async throws -> Bool {
        try await transaction("registering a targeting rule") { conn in
            let existing = try await conn.all("""
                SELECT category, source, description FROM custody_target_rule WHERE code = \(rule.code) AND version = \(Int32(rule.version))
                """, as: (String, String, String).self, logger: self.logger)
            if let row = existing.first {
                guard row.0 == rule.category, row.1 == rule.source, row.2 == rule.description else {
                    throw ArchiveError(.refused, "rule \(rule.code) v\(rule.version) is registered with other content; a version is never changed, register v\(rule.version + 1)")
                }
                return false
            }
            try await conn.run("""
                INSERT INTO custody_target_rule (code, version, category, source, description, created_by, created_at)
                VALUES (\(rule.code), \(Int32(rule.version)), \(rule.category), \(rule.source), \(rule.description), \(actor), \(Timestamp.iso(millis: Timestamp.nowMillis())))
                """, logger: self.logger)
            _ = try await Self.appendAudit(conn, AuditDraft(actor: actor, action: "custody.rule.add", target: "custody-rule:\(rule.code):\(rule.version)",
                                                            detail: ["category": rule.category, "source": rule.source, "description": rule.description]),
                                           logger: self.logger)
            return true
        }
    }

    public func targetRules() async throws -> [StoredTargetRule] {
        try await rows("reading targeting rules", "SELECT code, version, category, source, description FROM custody_target_rule ORDER BY code, version",
                       as: (String, Int32, String, String, String).self)
            .map { StoredTargetRule(code: $0.0, version: Int($0.1), category: $0.2, source: $0.3, description: $0.4) }
    }

    static let importColumns = "id, file_name, file_sha256, rows_total, added, rejected, merged, unknown_columns, digest, imported_by, imported_at, mapping_profile"

    static func decodeImport(_ r: ImportRow) -> StoredTargetImport {
        StoredTargetImport(id: r.0, fileName: r.1, fileHash: r.2, rowsTotal: Int(r.3), added: Int(r.4), rejected: Int(r.5), merged: Int(r.6),
                           unknownColumns: r.7.isEmpty ? [] : r.7.components(separatedBy: ","), digest: r.8, importedBy: r.9, importedAt: r.10,
                           mappingProfile: r.11)
    }

    typealias ImportRow = (Int64, String, String, Int64, Int64, Int64, Int64, String, String, String, String, String?)

    public func targetImport(fileHash: String) async throws -> StoredTargetImport? {
        try await rows("reading an import", """
            SELECT \(unescaped: Self.importColumns) FROM custody_import WHERE kind = 'targets' AND file_sha256 = \(fileHash)
            """, as: ImportRow.self).first.map(Self.decodeImport)
    }

    public func commitTargetImport(_ draft: TargetImportDraft, actor: String) async throws -> StoredTargetImport {
        try await transaction("importing a target list") { conn in
            let logger = self.logger
            // One import at a time, so the id taken here is the next one and a file is imported once.
            try await conn.run("LOCK TABLE custody_import IN SHARE ROW EXCLUSIVE MODE", logger: logger)
            if let done = try await conn.all("""
                SELECT \(unescaped: Self.importColumns) FROM custody_import WHERE kind = 'targets' AND file_sha256 = \(draft.fileHash)
                """, as: ImportRow.self, logger: logger).first {
                return Self.decodeImport(done)
            }
            let importID = Int64(try await conn.count("SELECT coalesce(max(id), 0) FROM custody_import", logger: logger)) + 1
            var hasher = StreamingHasher()
            var added = 0, accepted = 0
            // A thousand rows at a time from the reader: the list is never held whole.
            while true {
                var chunk: [StoredTarget] = []
                chunk.reserveCapacity(1000)
                while chunk.count < 1000, let t = try draft.rows.next() { chunk.append(t) }
                if chunk.isEmpty { break }
                accepted += chunk.count
                let rows = chunk.map { t -> [Bind] in
                    [.text(t.s10), .text(t.ruleCode), .int(Int64(t.ruleVersion)), .text(t.reasonCode), .int(t.targetedAtMillis), .text(t.targetedBy),
                     .int(t.expectedArrivalAtMillis), .int(t.priority.map(Int64.init)), .text(t.originCountry), .text(t.mailClass),
                     .text(t.declaredDescription), .int(t.holdRequestedAtMillis), .int(importID), .int(t.line.map(Int64.init))]
                }
                let inserted = Set(try await conn.insertRows("custody_target", columns: [
                    "s10", "rule_code", "rule_version", "reason_code", "targeted_at", "targeted_by", "expected_arrival_at", "priority",
                    "origin_country", "mail_class", "declared_desc", "hold_requested_at", "import_id", "line",
                ], rows: rows, suffix: "ON CONFLICT (s10, rule_code, rule_version) DO NOTHING RETURNING line", perStatement: 1000, logger: logger) {
                    try $0[0].decode(Int64?.self)
                })
                // In line order, as SQLite adds them (a line is unique within a file).
                for t in chunk where inserted.contains(t.line.map(Int64.init)) {
                    added += 1
                    t.canonical.withUnsafeBytes { hasher.update($0) }
                }
            }
            let rejected = draft.rows.rejected
            if !rejected.isEmpty {
                try await conn.copyRows("custody_import_rejection", columns: ["import_id", "line", "code", "detail", "raw"],
                                        rows: rejected.map { [.int(importID), .int(Int64($0.line)), .text($0.code), .text($0.detail), .text($0.raw)] },
                                        logger: logger)
            }
            let merged = draft.rows.mergedInFile + (accepted - added)
            let digest = hasher.finalize().hex
            let at = Timestamp.iso(millis: Timestamp.nowMillis())
            try await conn.run("""
                INSERT INTO custody_import (id, kind, file_name, file_sha256, rows_total, added, rejected, merged, unknown_columns, digest, imported_by, imported_at,
                    mapping_profile)
                VALUES (\(importID), 'targets', \(draft.fileName), \(draft.fileHash), \(Int64(draft.rows.rowsTotal)), \(Int64(added)),
                        \(Int64(rejected.count)), \(Int64(merged)), \(draft.unknownColumns.joined(separator: ",")), \(digest), \(actor), \(at),
                        \(draft.mappingProfile))
                """, logger: logger)
            _ = try await Self.appendAudit(conn, AuditDraft(actor: actor, action: "custody.import", target: "custody-import:\(importID)", detail: [
                "kind": "targets", "file": draft.fileName, "file_sha256": draft.fileHash, "rows": String(draft.rows.rowsTotal), "added": String(added),
                "rejected": String(rejected.count), "merged": String(merged), "digest": digest, "profile": draft.mappingProfile ?? ""]), logger: logger)
            return StoredTargetImport(id: importID, fileName: draft.fileName, fileHash: draft.fileHash, rowsTotal: draft.rows.rowsTotal, added: added,
                                      rejected: rejected.count, merged: merged, unknownColumns: draft.unknownColumns, digest: digest,
                                      importedBy: actor, importedAt: at, mappingProfile: draft.mappingProfile)
        }
    }

    typealias TargetRow = (Int64, String, String, Int32, String, Int64, String, Int64?, Int64?, String?, String?, String?, Int64?, Int64?, Int64?)

    static let targetSelect = """
        SELECT id, s10, rule_code, rule_version, reason_code, targeted_at, targeted_by, expected_arrival_at, priority, origin_country, mail_class,
               declared_desc, hold_requested_at, import_id, line FROM custody_target
        """

    static func decodeTarget(_ r: TargetRow) -> StoredTarget {
        let priority: Int? = r.8.map { Int($0) }
        let line: Int? = r.14.map { Int($0) }
        return StoredTarget(id: r.0, s10: r.1, ruleCode: r.2, ruleVersion: Int(r.3), reasonCode: r.4, targetedAtMillis: r.5, targetedBy: r.6,
                            expectedArrivalAtMillis: r.7, priority: priority, originCountry: r.9, mailClass: r.10, declaredDescription: r.11,
                            holdRequestedAtMillis: r.12, importID: r.13, line: line)
    }

    public func targets(s10: String) async throws -> [StoredTarget] {
        let found: [TargetRow] = try await rows("reading targets", """
            \(unescaped: Self.targetSelect) WHERE s10 = \(s10) ORDER BY id
            """, as: TargetRow.self)
        return found.map(Self.decodeTarget)
    }

    public func targetCount() async throws -> Int {
        try await transaction("counting targets") { conn in try await conn.count("SELECT count(*) FROM custody_target", logger: self.logger) }
    }

    public func rejectedRows(importID: Int64) async throws -> [StoredRejectedRow] {
        try await rows("reading rejected rows", """
            SELECT line, code, detail, raw FROM custody_import_rejection WHERE import_id = \(importID) ORDER BY line
            """, as: (Int64, String, String, String).self)
            .map { StoredRejectedRow(line: Int($0.0), code: $0.1, detail: $0.2, raw: $0.3) }
    }
}

extension PostgresArchiveStore {
    typealias EventRow = (Int64, Int64, String, String, Int64, String, String?, String?, String?, Bool, String?, String)
    static let eventColumns = "e.id, e.item_id, i.s10, e.type, e.at, e.actor, e.to_location, e.station_id, e.client_scan_uuid, e.manual_entry, e.detail, e.hash"

    static func decodeEvent(_ r: EventRow) -> StoredCustodyEvent {
        StoredCustodyEvent(id: r.0, itemID: r.1, s10: r.2, type: r.3, atMillis: r.4, actor: r.5, toLocation: r.6, station: r.7, clientScanID: r.8,
                           manualEntry: r.9, detail: r.10, hash: r.11)
    }

    public func saveLocation(_ l: StoredLocation, actor: String) async throws -> Bool {
        try await transaction("registering a location") { conn in
            let existing = try await conn.all("""
                SELECT name, kind, secured, alarmed, cctv_covered, max_dwell_h FROM custody_location WHERE code = \(l.code)
                """, as: (String, String, Bool, Bool, Bool, Int64?).self, logger: self.logger)
            if let e = existing.first {
                guard e.0 == l.name, e.1 == l.kind, e.2 == l.secured, e.3 == l.alarmed, e.4 == l.cctvCovered, e.5.map({ Int($0) }) == l.maxDwellHours else {
                    throw ArchiveError(.refused, "location \(l.code) is registered with other facts; locations are kept as registered")
                }
                return false
            }
            try await conn.run("""
                INSERT INTO custody_location (code, name, kind, secured, alarmed, cctv_covered, max_dwell_h, created_by, created_at)
                VALUES (\(l.code), \(l.name), \(l.kind), \(l.secured), \(l.alarmed), \(l.cctvCovered), \(l.maxDwellHours.map { Int64($0) }), \(actor),
                        \(Timestamp.iso(millis: Timestamp.nowMillis())))
                """, logger: self.logger)
            _ = try await Self.appendAudit(conn, AuditDraft(actor: actor, action: "custody.location.add", target: "custody-location:\(l.code)",
                                                            detail: ["name": l.name, "kind": l.kind, "secured": String(l.secured), "alarmed": String(l.alarmed),
                                                                     "cctv_covered": String(l.cctvCovered)]), logger: self.logger)
            return true
        }
    }

    public func locations() async throws -> [StoredLocation] {
        try await rows("reading locations", "SELECT code, name, kind, secured, alarmed, cctv_covered, max_dwell_h FROM custody_location ORDER BY code",
                       as: (String, String, String, Bool, Bool, Bool, Int64?).self)
            .map { StoredLocation(code: $0.0, name: $0.1, kind: $0.2, secured: $0.3, alarmed: $0.4, cctvCovered: $0.5, maxDwellHours: $0.6.map { Int($0) }) }
    }

    public func custodyEvents(s10: String) async throws -> [StoredCustodyEvent] {
        try await rows("reading custody events", """
            SELECT \(unescaped: Self.eventColumns) FROM custody_event e JOIN custody_item i ON i.id = e.item_id WHERE i.s10 = \(s10) ORDER BY e.id
            """, as: EventRow.self).map(Self.decodeEvent)
    }

    public func targets(targetedFrom: Int64, to: Int64) async throws -> [StoredTarget] {
        let found: [TargetRow] = try await rows("reading targets", """
            \(unescaped: Self.targetSelect) WHERE targeted_at >= \(targetedFrom) AND targeted_at < \(to) ORDER BY targeted_at, id
            """, as: TargetRow.self)
        return found.map(Self.decodeTarget)
    }

    public func firstReceipts(s10s: [String], asOf: Int64) async throws -> [String: Int64] {
        guard !s10s.isEmpty else { return [:] }
        let found = try await rows("reading receipts", """
            SELECT i.s10, min(e.at) FROM custody_event e JOIN custody_item i ON i.id = e.item_id
            WHERE e.type = 'RECEIVED' AND e.at <= \(asOf) AND i.s10 = ANY(\(s10s)) GROUP BY i.s10
            """, as: (String, Int64).self)
        return Dictionary(found.map { ($0.0, $0.1) }, uniquingKeysWith: min)
    }

    public func custodyEventIDs(from: Int64, to: Int64) async throws -> [Int64] {
        try await column("reading custody events", PostgresQuery(unsafeSQL: DataQualityFacts.eventIDsSQL, binds: {
            var b = PostgresBindings()
            b.append(from); b.append(to)
            return b
        }()), as: Int64.self)
    }

    public func custodyEvents(afterID: Int64, limit: Int) async throws -> [StoredCustodyEvent] {
        try await rows("reading custody events", """
            SELECT \(unescaped: Self.eventColumns) FROM custody_event e JOIN custody_item i ON i.id = e.item_id WHERE e.id > \(afterID)
            ORDER BY e.id LIMIT \(Int64(limit))
            """, as: EventRow.self).map(Self.decodeEvent)
    }

    public func targetImports() async throws -> [StoredTargetImport] {
        try await rows("reading imports", "SELECT \(unescaped: Self.importColumns) FROM custody_import WHERE kind = 'targets' ORDER BY id", as: ImportRow.self).map(Self.decodeImport)
    }

    public func targets(importID: Int64) async throws -> [StoredTarget] {
        let found: [TargetRow] = try await rows("reading targets", """
            \(unescaped: Self.targetSelect) WHERE import_id = \(importID) ORDER BY line, id
            """, as: TargetRow.self)
        return found.map(Self.decodeTarget)
    }

    static func appendCustodyEvent(_ conn: PostgresConnection, itemID: Int64, s10: String, type: String, atMillis: Int64, actor: String,
                                   toLocation: String?, station: String?, clientScanID: String?, detail: String?, manualEntry: Bool = false,
                                   clientTimestampMillis: Int64? = nil, logger: Logger) async throws -> StoredCustodyEvent {
        let id = try await conn.column("SELECT nextval(pg_get_serial_sequence('custody_event', 'id'))", as: Int64.self, logger: logger)[0]
        let event = StoredCustodyEvent.make(id: id, itemID: itemID, s10: s10, type: type, atMillis: atMillis, actor: actor, toLocation: toLocation,
                                            station: station, clientScanID: clientScanID, manualEntry: manualEntry, detail: detail)
        try await conn.run("""
            INSERT INTO custody_event (id, item_id, type, at, client_ts, actor, to_location, station_id, client_scan_uuid, manual_entry, detail, hash)
            VALUES (\(id), \(itemID), \(type), \(atMillis), \(clientTimestampMillis), \(actor), \(toLocation), \(station), \(clientScanID), \(manualEntry),
                    \(detail), \(event.hash))
            """, logger: logger)
        _ = try await Self.appendAudit(conn, event.auditDraft, logger: logger)
        return event
    }

    static func openItem(_ conn: PostgresConnection, s10: String, logger: Logger) async throws -> (id: Int64, firstArrival: Int64, lastInspection: StoredCustodyEvent?)? {
        guard let item = try await conn.all("SELECT id, first_arrival_at FROM custody_item WHERE s10 = \(s10) AND closed_at IS NULL",
                                            as: (Int64, Int64).self, logger: logger).first else { return nil }
        let last = try await conn.all("""
            SELECT \(unescaped: Self.eventColumns) FROM custody_event e JOIN custody_item i ON i.id = e.item_id
            WHERE e.item_id = \(item.0) AND e.type IN ('INSPECT_START', 'INSPECT_END') ORDER BY e.id DESC LIMIT 1
            """, as: EventRow.self, logger: logger).first.map(Self.decodeEvent)
        return (item.0, item.1, last)
    }

    public func startInspection(_ start: InspectionStart, actor: String) async throws -> StoredCustodyEvent {
        try await transaction("starting an inspection") { conn in
            let logger = self.logger
            try await conn.run("SELECT pg_advisory_xact_lock(\(PostgresSchema.custodyItemLock), hashtext(\(start.s10)))", logger: logger)
            if let seen = try await conn.all("""
                SELECT \(unescaped: Self.eventColumns) FROM custody_event e JOIN custody_item i ON i.id = e.item_id WHERE e.client_scan_uuid = \(start.clientScanID)
                """, as: EventRow.self, logger: logger).first.map(Self.decodeEvent) {
                guard seen.type == "INSPECT_START", seen.s10 == start.s10 else {
                    throw ArchiveError(.refused, "SCAN_ID_REUSED: scan id \(start.clientScanID) was used for another scan (\(seen.type) of \(seen.s10))")
                }
                return seen
            }
            guard let item = try await Self.openItem(conn, s10: start.s10, logger: logger) else {
                throw ArchiveError(.notFound, "REQUIRED_MISSING: \(start.s10) is not in custody (no RECEIVED scan)")
            }
            if let last = item.lastInspection, last.type == "INSPECT_START" {
                throw ArchiveError(.refused, "an inspection of \(start.s10) is open since \(Timestamp.iso(millis: last.atMillis)) (\(last.detail ?? "")); end it first")
            }
            guard start.atMillis >= item.firstArrival else {
                throw ArchiveError(.invalid, "DATE_ORDER: an inspection cannot start before the item arrived (\(Timestamp.iso(millis: item.firstArrival)))")
            }
            try start.checkClientTime(firstArrival: item.firstArrival)
            if let l = start.location, try await conn.count("SELECT count(*) FROM custody_location WHERE code = \(l)", logger: logger) == 0 {
                throw ArchiveError(.notFound, "no location \(l)")
            }
            return try await Self.appendCustodyEvent(conn, itemID: item.id, s10: start.s10, type: "INSPECT_START", atMillis: start.atMillis, actor: actor,
                                                     toLocation: start.location, station: start.station, clientScanID: start.clientScanID,
                                                     detail: "method=\(start.method)", clientTimestampMillis: start.clientTimestampMillis, logger: logger)
        }
    }

    typealias InspectionRow = (Int64, Int64, String, String, Int64, Int64, String, String?, String, String?, String?)
    static let inspectionColumns = "n.id, n.item_id, i.s10, n.method, n.started_at, n.ended_at, n.officer, n.equipment, n.result, n.substance, n.actual_desc"

    static func decodeInspection(_ r: InspectionRow) -> StoredInspection {
        StoredInspection(id: r.0, itemID: r.1, s10: r.2, method: r.3, startedAtMillis: r.4, endedAtMillis: r.5, officer: r.6, equipment: r.7, result: r.8,
                         substance: r.9, actualDescription: r.10)
    }

    public func endInspection(_ end: InspectionEnd, actor: String) async throws -> StoredInspection {
        try await transaction("ending an inspection") { conn in
            let logger = self.logger
            try await conn.run("SELECT pg_advisory_xact_lock(\(PostgresSchema.custodyItemLock), hashtext(\(end.s10)))", logger: logger)
            if let seen = try await conn.all("""
                SELECT e.type, i.s10 FROM custody_event e JOIN custody_item i ON i.id = e.item_id WHERE e.client_scan_uuid = \(end.clientScanID)
                """, as: (String, String).self, logger: logger).first {
                // The same end sent again is answered with its inspection; the id of another scan is refused.
                guard seen.0 == "INSPECT_END", seen.1 == end.s10, let done = try await conn.all("""
                    SELECT \(unescaped: Self.inspectionColumns) FROM custody_inspection n JOIN custody_item i ON i.id = n.item_id
                    JOIN custody_event e ON e.id = n.end_event_id WHERE e.client_scan_uuid = \(end.clientScanID)
                    """, as: InspectionRow.self, logger: logger).first else {
                    throw ArchiveError(.refused, "SCAN_ID_REUSED: scan id \(end.clientScanID) was used for another scan (\(seen.0) of \(seen.1))")
                }
                return Self.decodeInspection(done)
            }
            guard let item = try await Self.openItem(conn, s10: end.s10, logger: logger), let start = item.lastInspection, start.type == "INSPECT_START" else {
                throw ArchiveError(.invalid, "REQUIRED_MISSING: no inspection of \(end.s10) is open (INSPECT_END needs an INSPECT_START)")
            }
            guard end.atMillis >= start.atMillis else {
                throw ArchiveError(.invalid, "DATE_ORDER: an inspection cannot end before it started (\(Timestamp.iso(millis: start.atMillis)))")
            }
            let method = String((start.detail ?? "").dropFirst("method=".count))
            let event = try await Self.appendCustodyEvent(conn, itemID: item.id, s10: end.s10, type: "INSPECT_END", atMillis: end.atMillis, actor: actor,
                                                          toLocation: nil, station: end.station, clientScanID: end.clientScanID,
                                                          detail: "result=\(end.result)", clientTimestampMillis: end.clientTimestampMillis, logger: logger)
            let id = try await conn.column("""
                INSERT INTO custody_inspection (item_id, method, started_at, ended_at, officer, equipment, result, substance, actual_desc, start_event_id, end_event_id)
                VALUES (\(item.id), \(method), \(start.atMillis), \(end.atMillis), \(actor), \(end.equipment), \(end.result), \(end.substance),
                        \(end.actualDescription), \(start.id), \(event.id))
                RETURNING id
                """, as: Int64.self, logger: logger)[0]
            return StoredInspection(id: id, itemID: item.id, s10: end.s10, method: method, startedAtMillis: start.atMillis, endedAtMillis: end.atMillis,
                                    officer: actor, equipment: end.equipment, result: end.result, substance: end.substance, actualDescription: end.actualDescription)
        }
    }

    public func inspections(s10: String) async throws -> [StoredInspection] {
        try await rows("reading inspections", """
            SELECT \(unescaped: Self.inspectionColumns) FROM custody_inspection n JOIN custody_item i ON i.id = n.item_id WHERE i.s10 = \(s10) ORDER BY n.id
            """, as: InspectionRow.self).map(Self.decodeInspection)
    }

    public func inspections(endedFrom from: Int64, to: Int64) async throws -> [StoredInspection] {
        try await rows("reading inspections", """
            SELECT \(unescaped: Self.inspectionColumns) FROM custody_inspection n JOIN custody_item i ON i.id = n.item_id
            WHERE n.ended_at >= \(from) AND n.ended_at < \(to) ORDER BY n.ended_at, n.id
            """, as: InspectionRow.self).map(Self.decodeInspection)
    }

    public func custodySpells(receivedFrom: Int64, to: Int64, asOf: Int64) async throws -> [CustodySpell] {
        try await spells(asOf: asOf, """
            i.first_arrival_at >= \(receivedFrom) AND i.first_arrival_at < \(to) AND i.first_arrival_at <= \(asOf) AND (i.closed_at IS NULL OR i.closed_at > \(asOf))
            """)
    }

    public func openCustodySpells(receivedFrom: Int64, asOf: Int64) async throws -> [CustodySpell] {
        try await spells(asOf: asOf, "\(CustodySpell.openSQL(closed: "> \(asOf)")) AND i.first_arrival_at >= \(receivedFrom) AND i.first_arrival_at <= \(asOf)")
    }

    /// `filter` holds only numbers this store formatted itself.
    private func spells(asOf: Int64, _ filter: String) async throws -> [CustodySpell] {
        try await rows("reading custody spells", """
            SELECT i.id, i.s10, i.first_arrival_at,
                   (SELECT e.to_location FROM custody_event e WHERE e.item_id = i.id AND e.to_location IS NOT NULL AND e.at <= \(asOf)
                    ORDER BY e.id DESC LIMIT 1),
                   (SELECT min(e.at) FROM custody_event e WHERE e.item_id = i.id AND e.type = 'INSPECT_END' AND e.at <= \(asOf))
            FROM custody_item i WHERE \(unescaped: filter)
            ORDER BY i.first_arrival_at, i.id
            """, as: (Int64, String, Int64, String?, Int64?).self)
            .map { CustodySpell(itemID: $0.0, s10: $0.1, receivedAtMillis: $0.2, location: $0.3, firstInspectionEndMillis: $0.4) }
    }

    typealias SeizureRow = (Int64, Int64, String, Int64, Int64, String, String, String, String, Double, String, String, String?, Int64?, String?, String?, Int64)
    static let seizureSelect = """
        SELECT z.id, z.item_id, i.s10, z.inspection_id, z.seized_at, z.seizing_officer, z.witness, z.violation_type, z.substance, z.net_weight_g,
               z.form_6051s_no, z.storage_location, c.case_no, c.recorded_at, c.recorded_by, c.late_reason,
               \(StoredSeizureCorrection.effectiveSeizedAtSQL) AS effective_at
        FROM custody_seizure z JOIN custody_item i ON i.id = z.item_id LEFT JOIN custody_seacats_entry c ON c.seizure_id = z.id
        """

    static func decodeSeizure(_ r: SeizureRow) -> StoredSeizure {
        StoredSeizure(id: r.0, itemID: r.1, s10: r.2, inspectionID: r.3, seizedAtMillis: r.16, seizingOfficer: r.5, witness: r.6, violationType: r.7,
                      substance: r.8, netWeightGrams: r.9, form6051S: r.10, storageLocation: r.11, seacatsCase: r.12, seacatsRecordedAtMillis: r.13,
                      seacatsRecordedBy: r.14, lateReason: r.15, recordedSeizedAtMillis: r.4)
    }

    static func seizure(_ conn: PostgresConnection, id: Int64, logger: Logger) async throws -> StoredSeizure? {
        try await conn.all("\(unescaped: Self.seizureSelect) WHERE z.id = \(id)", as: SeizureRow.self, logger: logger).first.map(Self.decodeSeizure)
    }

    public func seize(_ z: SeizureDraft, actor: String) async throws -> StoredSeizure {
        try await transaction("recording a seizure") { conn in
            let logger = self.logger
            guard z.witness.lowercased() != actor.lowercased() else { throw ArchiveError(.refused, "the witness of a seizure is someone other than the seizing officer") }
            try await conn.run("SELECT pg_advisory_xact_lock(\(PostgresSchema.custodyItemLock), hashtext(\(z.s10)))", logger: logger)
            guard let item = try await Self.openItem(conn, s10: z.s10, logger: logger) else {
                throw ArchiveError(.notFound, "REQUIRED_MISSING: \(z.s10) is not in custody")
            }
            guard let inspection = try await conn.all("SELECT id, started_at FROM custody_inspection WHERE item_id = \(item.id) ORDER BY id DESC LIMIT 1",
                                                      as: (Int64, Int64).self, logger: logger).first else {
                throw ArchiveError(.invalid, "REQUIRED_MISSING: \(z.s10) has no inspection; an outcome follows an inspection")
            }
            guard z.atMillis >= inspection.1 else { throw ArchiveError(.invalid, "DATE_ORDER: a seizure cannot precede the inspection that found it") }
            guard try await conn.all("SELECT kind FROM custody_location WHERE code = \(z.storageLocation)", as: String.self, logger: logger).first
                == "seized_property" else {
                throw ArchiveError(.invalid, "\(z.storageLocation) is not a seized-property location")
            }
            guard try await conn.count("SELECT count(*) FROM custody_seizure WHERE item_id = \(item.id)", logger: logger) == 0 else {
                throw ArchiveError(.refused, "\(z.s10) is seized already")
            }
            let event = try await Self.appendCustodyEvent(conn, itemID: item.id, s10: z.s10, type: "MOVED", atMillis: z.atMillis, actor: actor,
                                                          toLocation: z.storageLocation, station: nil, clientScanID: nil,
                                                          detail: "seized form_6051s=\(z.form6051S) witness=\(z.witness)", logger: logger)
            let id = try await conn.column("""
                INSERT INTO custody_seizure (item_id, inspection_id, seized_at, seizing_officer, witness, violation_type, substance, net_weight_g,
                    form_6051s_no, storage_location, event_id)
                VALUES (\(item.id), \(inspection.0), \(z.atMillis), \(actor), \(z.witness), \(z.violationType), \(z.substance), \(z.netWeightGrams),
                        \(z.form6051S), \(z.storageLocation), \(event.id))
                RETURNING id
                """, as: Int64.self, logger: logger)[0]
            _ = try await Self.appendAudit(conn, AuditDraft(actor: actor, action: "custody.seize", target: "custody-seizure:\(id)", detail: [
                "s10": z.s10, "witness": z.witness, "form_6051s": z.form6051S, "violation": z.violationType, "seized_at": String(z.atMillis)]), logger: logger)
            return try await Self.seizure(conn, id: id, logger: logger)!
        }
    }

    public func recordSEACATS(seizureID: Int64, caseNumber: String, atMillis: Int64, lateReason: String?, actor: String) async throws -> StoredSeizure {
        try await transaction("recording a SEACATS entry") { conn in
            let logger = self.logger
            guard let z = try await Self.seizure(conn, id: seizureID, logger: logger) else { throw ArchiveError(.notFound, "no seizure \(seizureID)") }
            if let done = z.seacatsCase { throw ArchiveError(.refused, "seizure \(seizureID) was recorded in SEACATS as \(done) already") }
            guard atMillis >= z.seizedAtMillis else { throw ArchiveError(.invalid, "DATE_ORDER: SEACATS cannot hold a seizure before it happened") }
            if atMillis > z.deadlineAtMillis, (lateReason ?? "").trimmingCharacters(in: .whitespaces).isEmpty {
                throw ArchiveError(.invalid, "REQUIRED_MISSING: recorded after the 24-hour deadline; say why (--late-reason)")
            }
            try await conn.run("""
                INSERT INTO custody_seacats_entry (seizure_id, case_no, recorded_at, recorded_by, late_reason)
                VALUES (\(seizureID), \(caseNumber), \(atMillis), \(actor), \(lateReason))
                """, logger: logger)
            _ = try await Self.appendAudit(conn, AuditDraft(actor: actor, action: "custody.seacats", target: "custody-seizure:\(seizureID)",
                                                            detail: ["case": caseNumber, "recorded_at": String(atMillis), "late": String(atMillis > z.deadlineAtMillis)]),
                                           logger: logger)
            return try await Self.seizure(conn, id: seizureID, logger: logger)!
        }
    }

    public func seizures(seizedFrom: Int64, to: Int64) async throws -> [StoredSeizure] {
        try await rows("reading seizures", "\(unescaped: Self.seizureSelect) WHERE \(unescaped: StoredSeizureCorrection.effectiveSeizedAtSQL) >= \(seizedFrom) AND \(unescaped: StoredSeizureCorrection.effectiveSeizedAtSQL) < \(to) ORDER BY effective_at, z.id",
                       as: SeizureRow.self).map(Self.decodeSeizure)
    }

    public func inspectionsAndHits(s10s: [String], asOf: Int64) async throws -> [String: InspectionAndHit] {
        guard !s10s.isEmpty else { return [:] }
        let found = try await rows("reading inspections and hits", """
            SELECT i.s10,
                   (SELECT min(n.ended_at) FROM custody_inspection n JOIN custody_item j ON j.id = n.item_id WHERE j.s10 = i.s10 AND n.ended_at <= \(asOf)),
                   (SELECT min(\(unescaped: StoredSeizureCorrection.effectiveSeizedAtSQL)) FROM custody_seizure z JOIN custody_item j ON j.id = z.item_id WHERE j.s10 = i.s10 AND \(unescaped: StoredSeizureCorrection.effectiveSeizedAtSQL) <= \(asOf)),
                   (SELECT z.violation_type FROM custody_seizure z JOIN custody_item j ON j.id = z.item_id WHERE j.s10 = i.s10 AND \(unescaped: StoredSeizureCorrection.effectiveSeizedAtSQL) <= \(asOf)
                    ORDER BY \(unescaped: StoredSeizureCorrection.effectiveSeizedAtSQL) LIMIT 1),
                   (SELECT d.detained_at FROM custody_detention d JOIN custody_item j ON j.id = d.item_id WHERE j.s10 = i.s10 AND d.detained_at <= \(asOf)
                    ORDER BY d.detained_at LIMIT 1),
                   (SELECT d.violation_type FROM custody_detention d JOIN custody_item j ON j.id = d.item_id WHERE j.s10 = i.s10 AND d.detained_at <= \(asOf)
                    ORDER BY d.detained_at LIMIT 1),
                   (SELECT f.notified_at FROM custody_referral f JOIN custody_item j ON j.id = f.item_id
                    WHERE j.s10 = i.s10 AND f.notified_at <= \(asOf) AND f.violation_type IS NOT NULL ORDER BY f.notified_at LIMIT 1),
                   (SELECT f.violation_type FROM custody_referral f JOIN custody_item j ON j.id = f.item_id
                    WHERE j.s10 = i.s10 AND f.notified_at <= \(asOf) AND f.violation_type IS NOT NULL ORDER BY f.notified_at LIMIT 1),
                   (SELECT min(u.assessed_at) FROM custody_duty u JOIN custody_item j ON j.id = u.item_id WHERE j.s10 = i.s10 AND u.assessed_at <= \(asOf))
            FROM (SELECT DISTINCT c.s10 FROM custody_item c WHERE c.s10 = ANY(\(s10s))
                  AND EXISTS (SELECT 1 FROM custody_inspection x WHERE x.item_id = c.id)) i
            """, as: (String, Int64?, Int64?, String?, Int64?, String?, Int64?, String?, Int64?).self)
        var out: [String: InspectionAndHit] = [:]
        for r in found where r.1 != nil || r.2 != nil || r.4 != nil || r.6 != nil || r.8 != nil {
            out[r.0] = InspectionAndHit.first(inspected: r.1, hits: [(r.2, r.3), (r.4, r.5), (r.6, r.7), (r.8, r.8.map { _ in "revenue" })])
        }
        return out
    }

    public func effectivenessCounts(targetedFrom: Int64, to: Int64, asOf: Int64) async throws -> [EffectivenessCount] {
        var binds = PostgresBindings()
        binds.append(asOf); binds.append(targetedFrom); binds.append(to)
        return try await rows("counting targeting effectiveness", PostgresQuery(unsafeSQL: EffectivenessCount.sql(sqlite: false), binds: binds),
                              as: (String, Int32, Int32, Int32, String?, Int64).self).map {
            EffectivenessCount(ruleCode: $0.0, ruleVersion: Int($0.1), presented: $0.2 != 0, inspected: $0.3 != 0, violation: $0.4, targets: Int($0.5))
        }
    }

    public func returnsUninspected(s10s: [String], asOf: Int64) async throws -> [String: StoredCustodyEvent] {
        guard !s10s.isEmpty else { return [:] }
        let found = try await rows("reading returns", """
            SELECT \(unescaped: Self.eventColumns) FROM custody_event e JOIN custody_item i ON i.id = e.item_id
            WHERE e.type = 'RETURNED_TO_CARRIER' AND e.detail LIKE 'uninspected%' AND e.at <= \(asOf) AND i.s10 = ANY(\(s10s)) ORDER BY e.id
            """, as: EventRow.self).map(Self.decodeEvent)
        var out: [String: StoredCustodyEvent] = [:]
        for e in found where out[e.s10] == nil { out[e.s10] = e }
        return out
    }

    public func custodyItemsDisagreeingWithReceipt(limit: Int) async throws -> [(itemID: Int64, s10: String)] {
        try await rows("checking items against their receipts", "\(unescaped: CustodyItemChecks.disagreeingWithReceiptSQL) \(Int64(limit))", as: (Int64, String).self)
            .map { (r: (Int64, String)) in (itemID: r.0, s10: r.1) }
    }

    public func custodyItemsClosedWithoutEvent(limit: Int) async throws -> [(itemID: Int64, s10: String)] {
        try await rows("reading closed items", """
            SELECT i.id, i.s10 FROM custody_item i WHERE i.closed_at IS NOT NULL AND NOT EXISTS (
                    SELECT 1 FROM custody_event e WHERE e.item_id = i.id AND e.at = i.closed_at AND e.type IN ('RETURNED_TO_CARRIER', 'TO_AGENCY', 'DESTROYED'))
                ORDER BY i.id LIMIT \(Int64(limit))
            """, as: (Int64, String).self).map { (itemID: $0.0, s10: $0.1) }
    }
}

extension PostgresArchiveStore {
    public func saveMappingProfile(_ p: StoredMappingProfile, actor: String) async throws -> Bool {
        try await transaction("registering a mapping profile") { conn in
            let logger = self.logger
            try await conn.run("LOCK TABLE custody_mapping_profile IN SHARE ROW EXCLUSIVE MODE", logger: logger)
            if let existing = try await conn.column("SELECT sha256 FROM custody_mapping_profile WHERE name = \(p.name) AND version = \(Int32(p.version))",
                                                    as: String.self, logger: logger).first {
                guard existing == p.sha256 else {
                    throw ArchiveError(.refused, "profile \(p.label) is registered with another definition; a version is never changed, register version \(p.version + 1)")
                }
                return false
            }
            try await conn.run("""
                INSERT INTO custody_mapping_profile (name, version, definition, sha256, created_by, created_at)
                VALUES (\(p.name), \(Int32(p.version)), \(p.definition), \(p.sha256), \(actor), \(Timestamp.iso(millis: Timestamp.nowMillis())))
                """, logger: logger)
            _ = try await Self.appendAudit(conn, AuditDraft(actor: actor, action: "custody.profile.add", target: "custody-profile:\(p.name):\(p.version)",
                                                            detail: ["sha256": p.sha256]), logger: logger)
            return true
        }
    }

    public func mappingProfiles() async throws -> [StoredMappingProfile] {
        try await rows("reading mapping profiles", "SELECT name, version, definition, sha256, created_by, created_at FROM custody_mapping_profile ORDER BY name, version",
                       as: (String, Int32, String, String, String, String).self)
            .map { (r: (String, Int32, String, String, String, String)) in
                StoredMappingProfile(name: r.0, version: Int(r.1), definition: r.2, sha256: r.3, createdBy: r.4, createdAt: r.5)
            }
    }
}
