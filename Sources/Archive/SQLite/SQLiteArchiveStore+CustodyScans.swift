import Foundation
import GRDB
import RecordkeeperCore

extension SQLiteArchiveStore {
    /// Containers handed over by the carrier (`presentation`), and the item's container on its
    /// episode. A presentation is only closed, once; its items are counted from the episodes.
    static func migrateCustodyPresentations(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE custody_presentation (
                id INTEGER PRIMARY KEY, container_id TEXT NOT NULL, carrier TEXT NOT NULL, seal_no TEXT, declared_count INTEGER NOT NULL CHECK (declared_count >= 0),
                presented_by_name TEXT NOT NULL, presented_by_badge TEXT, received_by TEXT NOT NULL,
                location TEXT NOT NULL REFERENCES custody_location(code), station_id TEXT, presented_at INTEGER NOT NULL,
                closed_at INTEGER, closed_by TEXT, scanned_count INTEGER, discrepancy_note TEXT,
                CHECK (closed_at IS NULL OR (scanned_count = declared_count OR discrepancy_note IS NOT NULL))
            );
            CREATE UNIQUE INDEX custody_presentation_open ON custody_presentation(container_id) WHERE closed_at IS NULL;
            CREATE INDEX custody_presentation_at ON custody_presentation(presented_at);
            CREATE TRIGGER custody_presentation_kept BEFORE UPDATE ON custody_presentation
                WHEN NOT (OLD.closed_at IS NULL AND NEW.closed_at IS NOT NULL AND NEW.id = OLD.id AND NEW.container_id = OLD.container_id
                          AND NEW.declared_count = OLD.declared_count AND NEW.presented_at = OLD.presented_at AND NEW.location = OLD.location
                          AND NEW.received_by = OLD.received_by AND NEW.carrier = OLD.carrier AND NEW.seal_no IS OLD.seal_no)
                BEGIN SELECT RAISE(ABORT, 'a presentation is only closed, once'); END;
            CREATE TRIGGER custody_presentation_not_deleted BEFORE DELETE ON custody_presentation BEGIN SELECT RAISE(ABORT, 'presentations are kept'); END;
            ALTER TABLE custody_item ADD COLUMN presentation_id INTEGER REFERENCES custody_presentation(id);
            CREATE INDEX custody_item_presentation ON custody_item(presentation_id) WHERE presentation_id IS NOT NULL;
            CREATE INDEX custody_item_closed ON custody_item(closed_at);
            DROP TRIGGER custody_item_kept;
            CREATE TRIGGER custody_item_kept BEFORE UPDATE ON custody_item
                WHEN NOT (OLD.closed_at IS NULL AND NEW.closed_at IS NOT NULL AND NEW.id = OLD.id AND NEW.s10 = OLD.s10 AND NEW.episode = OLD.episode
                          AND NEW.first_arrival_at = OLD.first_arrival_at AND NEW.presentation_id IS OLD.presentation_id)
                BEGIN SELECT RAISE(ABORT, 'items are not changed in place (an episode is only closed, once)'); END;
            """)
    }

    public func recordScans(_ scans: [CustodyScan], actor: String) async throws -> [ScanOutcome] {
        try await write { db in
            var batch = ScanBatch(kinds: Dictionary(uniqueKeysWithValues: try Row.fetchAll(db.cachedStatement(sql: "SELECT code, kind FROM custody_location")).map {
                ($0["code"] as String, $0["kind"] as String)
            }))
            let s10s = Array(Set(scans.map(\.s10)))
            for chunk in stride(from: 0, to: s10s.count, by: 500).map({ Array(s10s[$0..<min(s10s.count, $0 + 500)]) }) {
                let marks = Array(repeating: "?", count: chunk.count).joined(separator: ",")
                for r in try Row.fetchAll(db, sql: Self.openStatesSQL(marks), arguments: StatementArguments(chunk)) {
                    let location: String? = r["location"]
                    batch.states[r["s10"]] = CustodyItemState(
                        itemID: r["id"], firstArrivalMillis: r["first_arrival_at"], lastEventMillis: r["last_at"], location: location,
                        locationKind: location.flatMap { batch.kinds[$0] }, inspectionOpen: (r["inspection"] as String?) == "INSPECT_START",
                        inspected: r["inspected"], seized: r["seized"], atLab: (r["lab"] as String?) == "TO_LAB", detained: r["detained"],
                        referred: r["referred"])
                }
            }
            for chunk in stride(from: 0, to: s10s.count, by: 500).map({ Array(s10s[$0..<min(s10s.count, $0 + 500)]) }) {
                let marks = Array(repeating: "?", count: chunk.count).joined(separator: ",")
                batch.targeted.formUnion(try String.fetchAll(db, sql: "SELECT DISTINCT s10 FROM custody_target WHERE s10 IN (\(marks))",
                                                             arguments: StatementArguments(chunk)))
            }
            return try scans.map { try Self.recordScan(db, $0, actor: actor, batch: &batch) }
        }
    }

    /// What one batch reads once: the locations' kinds and its items' open episodes (carried
    /// through its scans).
    struct ScanBatch {
        var kinds: [String: String]
        var states: [String: CustodyItemState] = [:]
        /// The batch's items that some target names.
        var targeted = Set<String>()
    }

    /// The open items' states for a list of identifiers (`marks`: one `?` each), through the open
    /// items' s10 index, named: without statistics SQLite took the closed_at index for a list and
    /// read every open item of the archive for each batch (a scan slowed 3.6x between an empty
    /// archive and one with a million items in custody).
    static func openStatesSQL(_ marks: String) -> String {
        CustodyItemState.selectColumnsSQL + "FROM custody_item i INDEXED BY custody_item_open WHERE i.s10 IN (\(marks)) AND i.closed_at IS NULL"
    }

    static func locationKind(_ db: Database, _ code: String) throws -> String? {
        try String.fetchOne(db, sql: "SELECT kind FROM custody_location WHERE code = ?", arguments: [code])
    }

    static func recordScan(_ db: Database, _ scan: CustodyScan, actor: String, batch: inout ScanBatch) throws -> ScanOutcome {
        if let seen = try Row.fetchOne(db.cachedStatement(sql: """
            SELECT \(Self.eventColumns) FROM custody_event e JOIN custody_item i ON i.id = e.item_id WHERE e.client_scan_uuid = ?
            """), arguments: [scan.clientScanID]).map(Self.decodeEvent) {
            return CustodyScanRules.answer(repeated: seen, scan)
        }
        let item = batch.states[scan.s10]
        var presentation: Int64?
        if case .receive(_, let p) = scan.action {
            if let item {
                if let refusal = CustodyScanRules.refusal(receivingAgain: item, s10: scan.s10) { return .refused(refusal) }
                return .alreadyInCustody(Self.decodeEvent(try Row.fetchOne(db, sql: """
                    SELECT \(Self.eventColumns) FROM custody_event e JOIN custody_item i ON i.id = e.item_id WHERE e.item_id = ? ORDER BY e.id DESC LIMIT 1
                    """, arguments: [item.itemID])!))
            }
            if let p {
                let row = try Row.fetchOne(db, sql: "SELECT closed_at, direction FROM custody_presentation WHERE id = ?", arguments: [p])
                if let refusal = CustodyScanRules.refusal(presentation: p, open: row.map { ($0["closed_at"] as Int64?) == nil }, direction: row?["direction"]) {
                    return .refused(refusal)
                }
                presentation = p
            }
        }
        let returnBatch = CustodyScanRules.returnBatch(scan.action)
        if let b = returnBatch, item != nil {
            let row = try Row.fetchOne(db, sql: "SELECT closed_at, direction, carrier FROM custody_presentation WHERE id = ?", arguments: [b])
            if let refusal = CustodyScanRules.refusal(presentation: b, open: row.map { ($0["closed_at"] as Int64?) == nil }, direction: row?["direction"],
                                                      wanted: "out", batchCarrier: row?["carrier"], action: scan.action) {
                return .refused(refusal)
            }
        }
        let decision: ScanDecision
        switch CustodyScanRules.decide(scan, item: item, targetKind: scan.action.location.flatMap { batch.kinds[$0] }, actor: actor,
                                       targeted: batch.targeted.contains(scan.s10)) {
        case .failure(let refusal): return .refused(refusal)
        case .success(let d): decision = d
        }
        let itemID: Int64
        if let item {
            itemID = item.itemID
        } else {
            let earlier = try Int.fetchOne(db.cachedStatement(sql: "SELECT count(*) FROM custody_item WHERE s10 = ?"), arguments: [scan.s10]) ?? 0
            try db.cachedStatement(sql: "INSERT INTO custody_item (s10, episode, first_arrival_at, presentation_id) VALUES (?, ?, ?, ?)").execute(
                           arguments: [scan.s10, CustodyScanRules.episode(atMillis: scan.atMillis, earlierEpisodes: earlier), scan.atMillis, presentation])
            itemID = db.lastInsertedRowID
        }
        let event = try Self.appendCustodyEvent(db, itemID: itemID, s10: scan.s10, type: decision.type, atMillis: scan.atMillis, actor: actor,
                                                toLocation: decision.toLocation, station: scan.station, clientScanID: scan.clientScanID,
                                                detail: decision.detail, manualEntry: scan.manualEntry, clientTimestampMillis: scan.clientTimestampMillis)
        if decision.closesEpisode {
            try db.cachedStatement(sql: "UPDATE custody_item SET closed_at = ? WHERE id = ?").execute(arguments: [scan.atMillis, itemID])
        }
        if let b = returnBatch {
            try db.execute(sql: "INSERT INTO custody_return_member (presentation_id, event_id) VALUES (?, ?)", arguments: [b, event.id])
        }
        batch.states[scan.s10] = CustodyItemState.after(decision, of: item, itemID: itemID, atMillis: scan.atMillis, kinds: batch.kinds)
        return .recorded(event)
    }

    static let presentationSelect = """
        SELECT p.*, \(StoredPresentation.scannedSQL) AS scanned FROM custody_presentation p
        """

    static func decodePresentation(_ r: Row) -> StoredPresentation {
        StoredPresentation(id: r["id"], containerID: r["container_id"], carrier: r["carrier"], sealNumber: r["seal_no"], declaredCount: r["declared_count"],
                           presentedByName: r["presented_by_name"], presentedByBadge: r["presented_by_badge"], receivedBy: r["received_by"],
                           location: r["location"], presentedAtMillis: r["presented_at"], closedAtMillis: r["closed_at"], closedBy: r["closed_by"],
                           scannedCount: r["scanned"], discrepancyNote: r["discrepancy_note"], direction: r["direction"])
    }

    public func openPresentation(_ d: PresentationDraft, actor: String) async throws -> StoredPresentation {
        try await write { db in
            guard let kind = try Self.locationKind(db, d.location) else {
                throw ArchiveError(.notFound, "UNKNOWN_LOCATION: no location \(d.location); register it first (recordkeeper custody location add)")
            }
            if let refusal = PresentationDraft.locationRefusal(kind: kind, direction: d.direction) { throw refusal }
            if let open = try Int64.fetchOne(db, sql: "SELECT id FROM custody_presentation WHERE container_id = ? AND closed_at IS NULL", arguments: [d.containerID]) {
                throw ArchiveError(.refused, "DUPLICATE: container \(d.containerID) is open already (presentation \(open)); close it first")
            }
            try db.execute(sql: """
                INSERT INTO custody_presentation (container_id, carrier, seal_no, declared_count, presented_by_name, presented_by_badge, received_by, location,
                    station_id, presented_at, direction)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [d.containerID, d.carrier, d.sealNumber, d.declaredCount, d.presentedByName, d.presentedByBadge, actor, d.location,
                                 d.station, d.atMillis, d.direction])
            let p = Self.decodePresentation(try Row.fetchOne(db, sql: Self.presentationSelect + " WHERE p.id = ?", arguments: [db.lastInsertedRowID])!)
            try Self.appendAudit(db, AuditDraft(actor: actor, action: "custody.presentation.open", target: "custody-presentation:\(p.id)", detail: p.openedDetail))
            return p
        }
    }

    public func closePresentation(id: Int64, note: String?, atMillis: Int64, actor: String) async throws -> StoredPresentation {
        try await write { db in
            guard let p = try Row.fetchOne(db, sql: Self.presentationSelect + " WHERE p.id = ?", arguments: [id]).map(Self.decodePresentation) else {
                throw ArchiveError(.notFound, "UNKNOWN_PRESENTATION: no presentation \(id)")
            }
            guard p.closedAtMillis == nil else { throw ArchiveError(.refused, "PRESENTATION_CLOSED: presentation \(id) was closed already") }
            guard atMillis >= p.presentedAtMillis else { throw ArchiveError(.invalid, "DATE_ORDER: a presentation closes after it was presented") }
            let note = try StoredPresentation.closingNote(declared: p.declaredCount, scanned: p.scannedCount, note: note)
            try db.execute(sql: "UPDATE custody_presentation SET closed_at = ?, closed_by = ?, scanned_count = ?, discrepancy_note = ? WHERE id = ?",
                           arguments: [atMillis, actor, p.scannedCount, note, id])
            try Self.appendAudit(db, AuditDraft(actor: actor, action: "custody.presentation.close", target: "custody-presentation:\(id)", detail: [
                "declared": String(p.declaredCount), "scanned": String(p.scannedCount), "note": note ?? "", "at": String(atMillis)]))
            return Self.decodePresentation(try Row.fetchOne(db, sql: Self.presentationSelect + " WHERE p.id = ?", arguments: [id])!)
        }
    }

    public func presentation(id: Int64) async throws -> StoredPresentation? {
        try await read { db in try Row.fetchOne(db, sql: Self.presentationSelect + " WHERE p.id = ?", arguments: [id]).map(Self.decodePresentation) }
    }

    public func presentations(from: Int64, to: Int64) async throws -> [StoredPresentation] {
        try await read { db in
            try Row.fetchAll(db, sql: Self.presentationSelect + " WHERE p.presented_at < ? AND (p.presented_at >= ? OR p.closed_at IS NULL OR p.closed_at >= ?) ORDER BY p.id",
                             arguments: [to, from, from]).map(Self.decodePresentation)
        }
    }

    public func balanceItems(dayStart: Int64, dayEnd: Int64) async throws -> [BalanceItem] {
        try await read { db in
            var items: [BalanceItem] = []
            let rows = try Row.fetchCursor(db, sql: """
                SELECT i.id, i.s10, e.type, e.at, e.actor, e.to_location, l.kind FROM custody_item i
                JOIN custody_event e ON e.item_id = i.id AND e.at < ?
                LEFT JOIN custody_location l ON l.code = e.to_location
                WHERE \(BalanceItem.itemFilterSQL(dayStart: dayStart, dayEnd: dayEnd))
                ORDER BY i.id, e.id
                """, arguments: [dayEnd])
            while let r = try rows.next() {
                let id: Int64 = r["id"]
                if items.last?.itemID != id { items.append(BalanceItem(itemID: id, s10: r["s10"], events: [])) }
                items[items.count - 1].events.append(.init(type: r["type"], atMillis: r["at"], actor: r["actor"], toLocation: r["to_location"], toKind: r["kind"]))
            }
            return items
        }
    }
}

extension SQLiteArchiveStore {
    /// Daily physical-security checks of locations, kept as recorded.
    static func migrateCustodySecurityChecks(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE custody_security_check (
                location TEXT NOT NULL REFERENCES custody_location(code), day TEXT NOT NULL, door_locked INTEGER NOT NULL, alarm_armed INTEGER NOT NULL,
                cctv_ok INTEGER NOT NULL, checked_by TEXT NOT NULL, checked_at INTEGER NOT NULL, exceptions TEXT, PRIMARY KEY (location, day)
            );
            CREATE TRIGGER custody_security_check_kept BEFORE UPDATE ON custody_security_check BEGIN SELECT RAISE(ABORT, 'a security check is kept as recorded'); END;
            CREATE TRIGGER custody_security_check_not_deleted BEFORE DELETE ON custody_security_check BEGIN SELECT RAISE(ABORT, 'security checks are kept'); END;
            CREATE INDEX custody_event_to_location ON custody_event(to_location, at) WHERE to_location IS NOT NULL;
            """)
    }

    public func saveSecurityCheck(_ c: StoredSecurityCheck, actor: String) async throws -> Bool {
        try await write { db in
            guard try Self.locationKind(db, c.location) != nil else { throw ArchiveError(.notFound, "UNKNOWN_LOCATION: no location \(c.location)") }
            if let r = try Row.fetchOne(db, sql: "SELECT * FROM custody_security_check WHERE location = ? AND day = ?", arguments: [c.location, c.day]) {
                guard Self.decodeSecurityCheck(r).sameFacts(as: c) else {
                    throw ArchiveError(.refused, "DUPLICATE: \(c.location) was checked on \(c.day) already, with other findings; a check is kept as recorded")
                }
                return false
            }
            try db.execute(sql: """
                INSERT INTO custody_security_check (location, day, door_locked, alarm_armed, cctv_ok, checked_by, checked_at, exceptions)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [c.location, c.day, c.doorLocked, c.alarmArmed, c.cctvOK, c.checkedBy, c.checkedAtMillis, c.exceptions])
            try Self.appendAudit(db, AuditDraft(actor: actor, action: "custody.security-check", target: "custody-location:\(c.location)", detail: c.auditDetail))
            return true
        }
    }

    static func decodeSecurityCheck(_ r: Row) -> StoredSecurityCheck {
        StoredSecurityCheck(location: r["location"], day: r["day"], doorLocked: r["door_locked"], alarmArmed: r["alarm_armed"], cctvOK: r["cctv_ok"],
                            checkedBy: r["checked_by"], checkedAtMillis: r["checked_at"], exceptions: r["exceptions"])
    }

    public func securityChecks(fromDay: String, toDay: String) async throws -> [StoredSecurityCheck] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM custody_security_check WHERE day >= ? AND day < ? ORDER BY day, location", arguments: [fromDay, toDay])
                .map(Self.decodeSecurityCheck)
        }
    }

    public func custodyEventsAfterSeizure(from: Int64, to: Int64) async throws -> [StoredCustodyEvent] {
        let sql = Self.numberedParameters(SeizedItemEvents.sql(columns: Self.eventColumns, sqlite: true))
        return try await read { db in try Row.fetchAll(db, sql: sql, arguments: [from, to]).map(Self.decodeEvent) }
    }

    public func custodyEvents(from: Int64, to: Int64, toLocations: [String]) async throws -> [StoredCustodyEvent] {
        guard !toLocations.isEmpty else { return [] }
        return try await read { db in
            let marks = Array(repeating: "?", count: toLocations.count).joined(separator: ",")
            return try Row.fetchAll(db, sql: """
                SELECT \(Self.eventColumns) FROM custody_event e JOIN custody_item i ON i.id = e.item_id
                WHERE e.to_location IN (\(marks)) AND e.at >= ? AND e.at < ? ORDER BY e.at, e.id
                """, arguments: StatementArguments(toLocations) + StatementArguments([from, to])).map(Self.decodeEvent)
        }
    }

    public func custodyEvents(from: Int64, to: Int64, types: [String]) async throws -> [StoredCustodyEvent] {
        guard !types.isEmpty else { return [] }
        return try await read { db in
            let marks = Array(repeating: "?", count: types.count).joined(separator: ",")
            return try Row.fetchAll(db, sql: """
                SELECT \(Self.eventColumns) FROM custody_event e INDEXED BY custody_event_type_at JOIN custody_item i ON i.id = e.item_id
                WHERE e.type IN (\(marks)) AND e.at >= ? AND e.at < ? ORDER BY e.at, e.id
                """, arguments: StatementArguments(types) + StatementArguments([from, to])).map(Self.decodeEvent)
        }
    }
}

extension SQLiteArchiveStore {
    /// Corrections of a seizure's time: new rows, never an edit of the seizure.
    static func migrateCustodyCorrections(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE custody_seizure_correction (
                id INTEGER PRIMARY KEY, seizure_id INTEGER NOT NULL REFERENCES custody_seizure(id), old_seized_at INTEGER NOT NULL,
                new_seized_at INTEGER NOT NULL, reason TEXT NOT NULL CHECK (length(trim(reason)) > 0), corrected_by TEXT NOT NULL, corrected_at INTEGER NOT NULL
            );
            CREATE INDEX custody_seizure_correction_seizure ON custody_seizure_correction(seizure_id, id);
            CREATE TRIGGER custody_seizure_correction_kept BEFORE UPDATE ON custody_seizure_correction BEGIN SELECT RAISE(ABORT, 'corrections are kept as recorded'); END;
            CREATE TRIGGER custody_seizure_correction_not_deleted BEFORE DELETE ON custody_seizure_correction BEGIN SELECT RAISE(ABORT, 'corrections are kept'); END;
            """)
    }

    static let correctionSelect = """
        SELECT k.*, i.s10 FROM custody_seizure_correction k JOIN custody_seizure z ON z.id = k.seizure_id JOIN custody_item i ON i.id = z.item_id
        """

    static func decodeCorrection(_ r: Row) -> StoredSeizureCorrection {
        StoredSeizureCorrection(id: r["id"], seizureID: r["seizure_id"], s10: r["s10"], oldAtMillis: r["old_seized_at"], newAtMillis: r["new_seized_at"],
                                reason: r["reason"], correctedBy: r["corrected_by"], correctedAtMillis: r["corrected_at"])
    }

    public func correctSeizedAt(seizureID: Int64, newAtMillis: Int64, reason: String, atMillis: Int64, actor: String) async throws -> StoredSeizureCorrection {
        try await write { db in
            guard let z = try Row.fetchOne(db, sql: Self.seizureSelect + " WHERE z.id = ?", arguments: [seizureID]).map(Self.decodeSeizure) else {
                throw ArchiveError(.notFound, "no seizure \(seizureID)")
            }
            let started: Int64 = try Int64.fetchOne(db, sql: "SELECT started_at FROM custody_inspection WHERE id = ?", arguments: [z.inspectionID]) ?? z.seizedAtMillis
            try SeizureCorrectionRules.check(z, newAtMillis: newAtMillis, reason: reason, inspectionStartMillis: started, atMillis: atMillis, actor: actor)
            try db.execute(sql: """
                INSERT INTO custody_seizure_correction (seizure_id, old_seized_at, new_seized_at, reason, corrected_by, corrected_at) VALUES (?, ?, ?, ?, ?, ?)
                """, arguments: [seizureID, z.seizedAtMillis, newAtMillis, reason.trimmingCharacters(in: .whitespacesAndNewlines), actor, atMillis])
            let c = Self.decodeCorrection(try Row.fetchOne(db, sql: Self.correctionSelect + " WHERE k.id = ?", arguments: [db.lastInsertedRowID])!)
            try Self.appendAudit(db, AuditDraft(actor: actor, action: "custody.seizure.correct", target: "custody-seizure:\(seizureID)", detail: c.auditDetail))
            return c
        }
    }

    public func seizureCorrections(from: Int64, to: Int64) async throws -> [StoredSeizureCorrection] {
        try await read { db in
            try Row.fetchAll(db, sql: Self.correctionSelect + " WHERE k.corrected_at >= ? AND k.corrected_at < ? ORDER BY k.id", arguments: [from, to])
                .map(Self.decodeCorrection)
        }
    }

    public func dataQualityFacts(from: Int64, to: Int64) async throws -> DataQualityFacts {
        try await read { db in
            let r = try Row.fetchOne(db, sql: DataQualityFacts.sql, arguments: [from, to, from, to, from, to])!
            return DataQualityFacts(events: r["events"], manualEntries: r["manual"], inspectionsBeforeArrival: r["early"], arrivalsWithoutDate: r["no_arrival"],
                                    inspectionsWithoutDate: r["no_date"])
        }
    }
}

extension SQLiteArchiveStore {
    /// Return batches: a presentation whose direction is `out` (the carrier's employee signs for
    /// the items returned into it), and its members (each RETURNED_TO_CARRIER event returned into
    /// it, once). The presentation's guard now keeps its direction too.
    static func migrateCustodyReturnBatches(_ db: Database) throws {
        try db.execute(sql: """
            ALTER TABLE custody_presentation ADD COLUMN direction TEXT NOT NULL DEFAULT 'in' CHECK (direction IN ('in', 'out'));
            DROP TRIGGER custody_presentation_kept;
            CREATE TRIGGER custody_presentation_kept BEFORE UPDATE ON custody_presentation
                WHEN NOT (OLD.closed_at IS NULL AND NEW.closed_at IS NOT NULL AND NEW.id = OLD.id AND NEW.container_id = OLD.container_id
                          AND NEW.declared_count = OLD.declared_count AND NEW.presented_at = OLD.presented_at AND NEW.location = OLD.location
                          AND NEW.received_by = OLD.received_by AND NEW.carrier = OLD.carrier AND NEW.seal_no IS OLD.seal_no
                          AND NEW.direction = OLD.direction)
                BEGIN SELECT RAISE(ABORT, 'a presentation is only closed, once'); END;
            CREATE TABLE custody_return_member (
                event_id INTEGER PRIMARY KEY REFERENCES custody_event(id), presentation_id INTEGER NOT NULL REFERENCES custody_presentation(id)
            );
            CREATE INDEX custody_return_member_batch ON custody_return_member(presentation_id);
            CREATE TRIGGER custody_return_member_kept BEFORE UPDATE ON custody_return_member BEGIN SELECT RAISE(ABORT, 'return batch members are kept'); END;
            CREATE TRIGGER custody_return_member_not_deleted BEFORE DELETE ON custody_return_member BEGIN SELECT RAISE(ABORT, 'return batch members are kept'); END;
            """)
    }
}

extension SQLiteArchiveStore {
    public func returnBatchMembers(afterEventID: Int64, limit: Int) async throws -> [(eventID: Int64, batch: Int64)] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT event_id, presentation_id FROM custody_return_member WHERE event_id > ? ORDER BY event_id LIMIT ?",
                             arguments: [afterEventID, limit]).map { (eventID: $0["event_id"] as Int64, batch: $0["presentation_id"] as Int64) }
        }
    }

    public func returnBatchCounts() async throws -> [Int64: Int?] {
        try await read { db in
            var out: [Int64: Int?] = [:]
            for r in try Row.fetchAll(db, sql: "SELECT id, scanned_count FROM custody_presentation WHERE direction = 'out'") { out[r["id"]] = .some(r["scanned_count"]) }
            return out
        }
    }
}
