import Archive
import Foundation
import Logging
import PostgresNIO
import RecordkeeperCore

/// Scans, presentations and the daily balance's read on PostgreSQL: the same rules
/// (`CustodyScanRules`) and rows as SQLite's.
extension PostgresArchiveStore {
    /// A batch reads what it needs in a few statements, decides each scan in order against the
    /// states it carries, and writes its items, events, closings and audit entries in bulk: a
    /// station's batch costs the same handful of round trips whatever its size.
    public func recordScans(_ scans: [CustodyScan], actor: String) async throws -> [ScanOutcome] {
        guard !scans.isEmpty else { return [] }
        return try await transaction("recording scans") { conn in
            let logger = self.logger
            let s10s = Array(Set(scans.map(\.s10))).sorted()
            // Scans of one identifier queue here, so its open episode is decided once; the locks
            // are taken in one order so two batches never wait on each other in a circle.
            // The scan ids too: two batches reusing one id queue, and the second answers it.
            let keys = s10s + Set(scans.map { "scan:" + $0.clientScanID }).sorted()
            try await conn.run("""
                SELECT count(pg_advisory_xact_lock(\(PostgresSchema.custodyItemLock), h)) FROM (SELECT DISTINCT hashtext(s) AS h FROM unnest(\(keys)::text[]) s ORDER BY 1) ids
                """, logger: logger)
            var batch = ScanBatch(kinds: self.locationKinds.value)
            for e in try await conn.all("""
                SELECT \(unescaped: Self.eventColumns) FROM custody_event e JOIN custody_item i ON i.id = e.item_id
                WHERE e.client_scan_uuid = ANY(\(scans.map(\.clientScanID)))
                """, as: EventRow.self, logger: logger).map(Self.decodeEvent) { batch.byScanID[e.clientScanID!] = e }
            let open = try await conn.all("\(unescaped: CustodyItemState.selectSQL) WHERE i.s10 = ANY(\(s10s)) AND i.closed_at IS NULL",
                                          as: (Int64, Int64, Int64, String?, String?, String?, Bool, Bool, String, Bool, Bool).self, logger: logger)
            // The kinds of every location the batch names or its items are at, read again only when
            // one is not known yet (registered since, perhaps through another instance).
            let places = Set(scans.compactMap(\.action.location) + open.compactMap(\.3))
            if !places.allSatisfy({ batch.kinds[$0] != nil }) {
                batch.kinds = Dictionary(try await conn.all("SELECT code, kind FROM custody_location", as: (String, String).self, logger: logger),
                                         uniquingKeysWith: { a, _ in a })
                self.locationKinds.value = batch.kinds
            }
            for r in open {
                batch.states[r.8] = CustodyItemState(itemID: r.0, firstArrivalMillis: r.1, lastEventMillis: r.2, location: r.3,
                                                     locationKind: r.3.flatMap { batch.kinds[$0] }, inspectionOpen: r.4 == "INSPECT_START", inspected: r.6,
                                                     seized: r.7, atLab: r.5 == "TO_LAB", detained: r.9, referred: r.10)
            }
            let receipts = scans.filter { if case .receive = $0.action { true } else { false } }
            // The containers the batch names (received into, or returned into), locked against a
            // close: a container closes after the batch that fills it, or before it.
            let named = Array(Set(scans.compactMap { scan -> Int64? in
                if case .receive(_, let p) = scan.action { return p }
                return CustodyScanRules.returnBatch(scan.action)
            }))
            if !named.isEmpty {
                for r in try await conn.all("SELECT id, closed_at IS NULL, direction, carrier FROM custody_presentation WHERE id = ANY(\(named)) ORDER BY id FOR SHARE",
                                            as: (Int64, Bool, String, String).self, logger: logger) {
                    batch.presentationOpen[r.0] = r.1
                    batch.presentationDirection[r.0] = r.2
                    batch.presentationCarrier[r.0] = r.3
                }
            }
            // One round trip for the rest of what the batch needs to know: which of its items some
            // target names, how many episodes its receipts' identifiers had, and the ids of the
            // items and events it will write.
            let received = Array(Set(receipts.map(\.s10)))
            var itemIDs: [Int64] = [], eventIDs: [Int64] = []
            for r in try await conn.all("""
                SELECT 't', t.s10, 0::bigint FROM (SELECT DISTINCT s10 FROM custody_target WHERE s10 = ANY(\(s10s))) t
                UNION ALL SELECT 'p', s10, count(*) FROM custody_item WHERE s10 = ANY(\(received)) GROUP BY s10
                UNION ALL SELECT 'i', NULL, nextval(pg_get_serial_sequence('custody_item', 'id')) FROM generate_series(1, \(Int64(receipts.count)))
                UNION ALL SELECT 'e', NULL, nextval(pg_get_serial_sequence('custody_event', 'id')) FROM generate_series(1, \(Int64(scans.count)))
                """, as: (String, String?, Int64).self, logger: logger) {
                switch r.0 {
                case "t": if let s10 = r.1 { batch.targeted.insert(s10) }
                case "p": if let s10 = r.1 { batch.episodes[s10] = Int(r.2) }
                case "i": itemIDs.append(r.2)
                default: eventIDs.append(r.2)
                }
            }
            if !receipts.isEmpty { batch.itemIDs = itemIDs.sorted().reversed() }
            batch.eventIDs = eventIDs.sorted().reversed()
            var out: [ScanOutcome] = []
            for scan in scans { out.append(try await Self.recordScan(conn, scan, actor: actor, batch: &batch, logger: logger)) }

            // Episodes that existed before the batch close first, so an item returned and received
            // again in one batch never has two open episodes; new ones closed in the batch are
            // written closed.
            let created = Set(batch.newItems.map(\.id))
            let earlier = batch.closes.filter { !created.contains($0.id) }
            if !earlier.isEmpty {
                try await conn.run("""
                    UPDATE custody_item i SET closed_at = c.at FROM unnest(\(earlier.map(\.id))::bigint[], \(earlier.map(\.at))::bigint[]) AS c(id, at)
                    WHERE i.id = c.id
                    """, logger: logger)
            }
            let closedAt = Dictionary(batch.closes.filter { created.contains($0.id) }.map { ($0.id, $0.at) }, uniquingKeysWith: { _, b in b })
            _ = try await conn.insertRows("custody_item", columns: ["id", "s10", "episode", "first_arrival_at", "presentation_id", "closed_at"],
                                          rows: batch.newItems.map { [.int($0.id), .text($0.s10), .text($0.episode), .int($0.at), .int($0.presentation),
                                                                      .int(closedAt[$0.id])] },
                                          suffix: "", logger: logger) { _ in () }
            _ = try await conn.insertRows("custody_event", columns: ["id", "item_id", "type", "at", "client_ts", "actor", "to_location", "station_id",
                                                                     "client_scan_uuid", "manual_entry", "detail", "hash"],
                                          rows: batch.newEvents.map { (e, clientTs) in
                                              [.int(e.id), .int(e.itemID), .text(e.type), .int(e.atMillis), .int(clientTs), .text(e.actor), .text(e.toLocation),
                                               .text(e.station), .text(e.clientScanID), .bool(e.manualEntry), .text(e.detail), .text(e.hash)]
                                          }, suffix: "", logger: logger) { _ in () }
            if !batch.returnMembers.isEmpty {
                try await conn.run("""
                    INSERT INTO custody_return_member (event_id, presentation_id)
                    SELECT * FROM unnest(\(batch.returnMembers.map(\.event))::bigint[], \(batch.returnMembers.map(\.batch))::bigint[])
                    """, logger: logger)
            }
            try await Self.appendAudits(conn, batch.newEvents.map(\.0.auditDraft), logger: logger)
            return out
        }
    }

    /// What one batch reads once and carries through its scans, and the rows it writes at its end.
    struct ScanBatch {
        var kinds: [String: String]
        var byScanID: [String: StoredCustodyEvent] = [:]
        var states: [String: CustodyItemState] = [:]
        var lastEvent: [String: StoredCustodyEvent] = [:]
        var episodes: [String: Int] = [:]
        var presentationOpen: [Int64: Bool] = [:]
        var presentationDirection: [Int64: String] = [:]
        var presentationCarrier: [Int64: String] = [:]
        /// Return scans into a return batch: (event id, the batch).
        var returnMembers: [(event: Int64, batch: Int64)] = []
        /// The batch's items that some target names.
        var targeted = Set<String>()
        /// Ids drawn from the sequences, used from the end.
        var itemIDs: [Int64] = []
        var eventIDs: [Int64] = []
        var newItems: [(id: Int64, s10: String, episode: String, at: Int64, presentation: Int64?)] = []
        var newEvents: [(StoredCustodyEvent, Int64?)] = []
        var closes: [(id: Int64, at: Int64)] = []
    }

    static func locationKind(_ conn: PostgresConnection, _ code: String, logger: Logger) async throws -> String? {
        try await conn.column("SELECT kind FROM custody_location WHERE code = \(code)", as: String.self, logger: logger).first
    }

    static func recordScan(_ conn: PostgresConnection, _ scan: CustodyScan, actor: String, batch: inout ScanBatch, logger: Logger) async throws -> ScanOutcome {
        if let seen = batch.byScanID[scan.clientScanID] { return CustodyScanRules.answer(repeated: seen, scan) }
        let item = batch.states[scan.s10]
        var presentation: Int64?
        if case .receive(_, let p) = scan.action {
            if let item {
                if let refusal = CustodyScanRules.refusal(receivingAgain: item, s10: scan.s10) { return .refused(refusal) }
                if let last = batch.lastEvent[scan.s10] { return .alreadyInCustody(last) }
                return .alreadyInCustody(Self.decodeEvent(try await conn.all("""
                    SELECT \(unescaped: Self.eventColumns) FROM custody_event e JOIN custody_item i ON i.id = e.item_id WHERE e.item_id = \(item.itemID)
                    ORDER BY e.id DESC LIMIT 1
                    """, as: EventRow.self, logger: logger)[0]))
            }
            if let p {
                if let refusal = CustodyScanRules.refusal(presentation: p, open: batch.presentationOpen[p], direction: batch.presentationDirection[p]) {
                    return .refused(refusal)
                }
                presentation = p
            }
        }
        let returnBatch = CustodyScanRules.returnBatch(scan.action)
        if let b = returnBatch, item != nil,
           let refusal = CustodyScanRules.refusal(presentation: b, open: batch.presentationOpen[b], direction: batch.presentationDirection[b], wanted: "out",
                                                  batchCarrier: batch.presentationCarrier[b], action: scan.action) {
            return .refused(refusal)
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
            itemID = batch.itemIDs.removeLast()
            let earlier = batch.episodes[scan.s10, default: 0]
            batch.episodes[scan.s10] = earlier + 1
            batch.newItems.append((itemID, scan.s10, CustodyScanRules.episode(atMillis: scan.atMillis, earlierEpisodes: earlier), scan.atMillis, presentation))
        }
        let event = StoredCustodyEvent.make(id: batch.eventIDs.removeLast(), itemID: itemID, s10: scan.s10, type: decision.type, atMillis: scan.atMillis,
                                            actor: actor, toLocation: decision.toLocation, station: scan.station, clientScanID: scan.clientScanID,
                                            manualEntry: scan.manualEntry, detail: decision.detail)
        batch.newEvents.append((event, scan.clientTimestampMillis))
        if let b = returnBatch { batch.returnMembers.append((event.id, b)) }
        batch.byScanID[scan.clientScanID] = event
        batch.lastEvent[scan.s10] = event
        batch.states[scan.s10] = CustodyItemState.after(decision, of: item, itemID: itemID, atMillis: scan.atMillis, kinds: batch.kinds)
        if decision.closesEpisode { batch.closes.append((itemID, scan.atMillis)) }
        return .recorded(event)
    }

    typealias PresentationRow = (Int64, String, String, String?, Int64, String, String?, String, String, Int64, Int64?, String?, Int64, String?, String)
    static let presentationSelect = """
        SELECT p.id, p.container_id, p.carrier, p.seal_no, p.declared_count, p.presented_by_name, p.presented_by_badge, p.received_by, p.location,
            p.presented_at, p.closed_at, p.closed_by, \(StoredPresentation.scannedSQL), p.discrepancy_note, p.direction
        FROM custody_presentation p
        """

    static func decodePresentation(_ r: PresentationRow) -> StoredPresentation {
        StoredPresentation(id: r.0, containerID: r.1, carrier: r.2, sealNumber: r.3, declaredCount: Int(r.4), presentedByName: r.5, presentedByBadge: r.6,
                           receivedBy: r.7, location: r.8, presentedAtMillis: r.9, closedAtMillis: r.10, closedBy: r.11, scannedCount: Int(r.12),
                           discrepancyNote: r.13, direction: r.14)
    }

    static func presentation(_ conn: PostgresConnection, id: Int64, logger: Logger) async throws -> StoredPresentation? {
        try await conn.all("\(unescaped: presentationSelect) WHERE p.id = \(id)", as: PresentationRow.self, logger: logger).first.map(decodePresentation)
    }

    public func openPresentation(_ d: PresentationDraft, actor: String) async throws -> StoredPresentation {
        try await transaction("opening a presentation") { conn in
            let logger = self.logger
            guard let kind = try await Self.locationKind(conn, d.location, logger: logger) else {
                throw ArchiveError(.notFound, "UNKNOWN_LOCATION: no location \(d.location); register it first (recordkeeper custody location add)")
            }
            if let refusal = PresentationDraft.locationRefusal(kind: kind, direction: d.direction) { throw refusal }
            try await conn.run("SELECT pg_advisory_xact_lock(\(PostgresSchema.custodyItemLock), hashtext(\("container:" + d.containerID)))", logger: logger)
            if let open = try await conn.column("SELECT id FROM custody_presentation WHERE container_id = \(d.containerID) AND closed_at IS NULL",
                                                as: Int64.self, logger: logger).first {
                throw ArchiveError(.refused, "DUPLICATE: container \(d.containerID) is open already (presentation \(open)); close it first")
            }
            let id = try await conn.column("""
                INSERT INTO custody_presentation (container_id, carrier, seal_no, declared_count, presented_by_name, presented_by_badge, received_by, location,
                    station_id, presented_at, direction)
                VALUES (\(d.containerID), \(d.carrier), \(d.sealNumber), \(Int64(d.declaredCount)), \(d.presentedByName), \(d.presentedByBadge), \(actor),
                        \(d.location), \(d.station), \(d.atMillis), \(d.direction)) RETURNING id
                """, as: Int64.self, logger: logger)[0]
            let p = try await Self.presentation(conn, id: id, logger: logger)!
            _ = try await Self.appendAudit(conn, AuditDraft(actor: actor, action: "custody.presentation.open", target: "custody-presentation:\(id)",
                                                            detail: p.openedDetail), logger: logger)
            return p
        }
    }

    public func closePresentation(id: Int64, note: String?, atMillis: Int64, actor: String) async throws -> StoredPresentation {
        try await transaction("closing a presentation") { conn in
            let logger = self.logger
            // The lock first (batches filling it finish before), then the count.
            try await conn.run("SELECT id FROM custody_presentation WHERE id = \(id) FOR UPDATE", logger: logger)
            guard let p = try await Self.presentation(conn, id: id, logger: logger) else {
                throw ArchiveError(.notFound, "UNKNOWN_PRESENTATION: no presentation \(id)")
            }
            guard p.closedAtMillis == nil else { throw ArchiveError(.refused, "PRESENTATION_CLOSED: presentation \(id) was closed already") }
            guard atMillis >= p.presentedAtMillis else { throw ArchiveError(.invalid, "DATE_ORDER: a presentation closes after it was presented") }
            let note = try StoredPresentation.closingNote(declared: p.declaredCount, scanned: p.scannedCount, note: note)
            try await conn.run("""
                UPDATE custody_presentation SET closed_at = \(atMillis), closed_by = \(actor), scanned_count = \(Int64(p.scannedCount)), discrepancy_note = \(note)
                WHERE id = \(id)
                """, logger: logger)
            _ = try await Self.appendAudit(conn, AuditDraft(actor: actor, action: "custody.presentation.close", target: "custody-presentation:\(id)", detail: [
                "declared": String(p.declaredCount), "scanned": String(p.scannedCount), "note": note ?? "", "at": String(atMillis)]), logger: logger)
            return try await Self.presentation(conn, id: id, logger: logger)!
        }
    }

    public func presentation(id: Int64) async throws -> StoredPresentation? {
        try await rows("reading a presentation", "\(unescaped: Self.presentationSelect) WHERE p.id = \(id)", as: PresentationRow.self)
            .first.map(Self.decodePresentation)
    }

    public func presentations(from: Int64, to: Int64) async throws -> [StoredPresentation] {
        try await rows("reading presentations", """
            \(unescaped: Self.presentationSelect) WHERE p.presented_at < \(to) AND (p.presented_at >= \(from) OR p.closed_at IS NULL OR p.closed_at >= \(from))
            ORDER BY p.id
            """, as: PresentationRow.self).map(Self.decodePresentation)
    }

    public func balanceItems(dayStart: Int64, dayEnd: Int64) async throws -> [BalanceItem] {
        let found = try await rows("reading the day's custody", """
            SELECT i.id, i.s10, e.type, e.at, e.actor, e.to_location, l.kind FROM custody_item i
            JOIN custody_event e ON e.item_id = i.id AND e.at < \(dayEnd)
            LEFT JOIN custody_location l ON l.code = e.to_location
            WHERE \(unescaped: BalanceItem.itemFilterSQL(dayStart: dayStart, dayEnd: dayEnd))
            ORDER BY i.id, e.id
            """, as: (Int64, String, String, Int64, String, String?, String?).self)
        var items: [BalanceItem] = []
        for r in found {
            if items.last?.itemID != r.0 { items.append(BalanceItem(itemID: r.0, s10: r.1, events: [])) }
            items[items.count - 1].events.append(.init(type: r.2, atMillis: r.3, actor: r.4, toLocation: r.5, toKind: r.6))
        }
        return items
    }
}

extension PostgresArchiveStore {
    public func saveSecurityCheck(_ c: StoredSecurityCheck, actor: String) async throws -> Bool {
        try await transaction("recording a security check") { conn in
            let logger = self.logger
            guard try await Self.locationKind(conn, c.location, logger: logger) != nil else {
                throw ArchiveError(.notFound, "UNKNOWN_LOCATION: no location \(c.location)")
            }
            try await conn.run("SELECT pg_advisory_xact_lock(\(PostgresSchema.custodyItemLock), hashtext(\("check:" + c.location + c.day)))", logger: logger)
            if let r = try await conn.all("\(unescaped: Self.securityCheckSelect) WHERE location = \(c.location) AND day = \(c.day)", as: SecurityCheckRow.self,
                                          logger: logger).first {
                guard Self.decodeSecurityCheck(r).sameFacts(as: c) else {
                    throw ArchiveError(.refused, "DUPLICATE: \(c.location) was checked on \(c.day) already, with other findings; a check is kept as recorded")
                }
                return false
            }
            try await conn.run("""
                INSERT INTO custody_security_check (location, day, door_locked, alarm_armed, cctv_ok, checked_by, checked_at, exceptions)
                VALUES (\(c.location), \(c.day), \(c.doorLocked), \(c.alarmArmed), \(c.cctvOK), \(c.checkedBy), \(c.checkedAtMillis), \(c.exceptions))
                """, logger: logger)
            _ = try await Self.appendAudit(conn, AuditDraft(actor: actor, action: "custody.security-check", target: "custody-location:\(c.location)",
                                                            detail: c.auditDetail), logger: logger)
            return true
        }
    }

    typealias SecurityCheckRow = (String, String, Bool, Bool, Bool, String, Int64, String?)
    static let securityCheckSelect = "SELECT location, day, door_locked, alarm_armed, cctv_ok, checked_by, checked_at, exceptions FROM custody_security_check"

    static func decodeSecurityCheck(_ r: SecurityCheckRow) -> StoredSecurityCheck {
        StoredSecurityCheck(location: r.0, day: r.1, doorLocked: r.2, alarmArmed: r.3, cctvOK: r.4, checkedBy: r.5, checkedAtMillis: r.6, exceptions: r.7)
    }

    public func securityChecks(fromDay: String, toDay: String) async throws -> [StoredSecurityCheck] {
        try await rows("reading security checks", "\(unescaped: Self.securityCheckSelect) WHERE day >= \(fromDay) AND day < \(toDay) ORDER BY day, location",
                       as: SecurityCheckRow.self).map(Self.decodeSecurityCheck)
    }

    public func custodyEventsAfterSeizure(from: Int64, to: Int64) async throws -> [StoredCustodyEvent] {
        var binds = PostgresBindings()
        binds.append(from); binds.append(to)
        return try await rows("reading seized items' events", PostgresQuery(unsafeSQL: SeizedItemEvents.sql(columns: Self.eventColumns, sqlite: false),
                                                                             binds: binds), as: EventRow.self).map(Self.decodeEvent)
    }

    public func custodyEvents(from: Int64, to: Int64, toLocations: [String]) async throws -> [StoredCustodyEvent] {
        guard !toLocations.isEmpty else { return [] }
        return try await rows("reading custody events", """
            SELECT \(unescaped: Self.eventColumns) FROM custody_event e JOIN custody_item i ON i.id = e.item_id
            WHERE e.to_location = ANY(\(toLocations)) AND e.at >= \(from) AND e.at < \(to) ORDER BY e.at, e.id
            """, as: EventRow.self).map(Self.decodeEvent)
    }

    public func custodyEvents(from: Int64, to: Int64, types: [String]) async throws -> [StoredCustodyEvent] {
        guard !types.isEmpty else { return [] }
        return try await rows("reading custody events", """
            SELECT \(unescaped: Self.eventColumns) FROM custody_event e JOIN custody_item i ON i.id = e.item_id
            WHERE e.type = ANY(\(types)) AND e.at >= \(from) AND e.at < \(to) ORDER BY e.at, e.id
            """, as: EventRow.self).map(Self.decodeEvent)
    }
}

extension PostgresArchiveStore {
    typealias CorrectionRow = (Int64, Int64, Int64, Int64, String, String, Int64, String)
    static let correctionSelect = """
        SELECT k.id, k.seizure_id, k.old_seized_at, k.new_seized_at, k.reason, k.corrected_by, k.corrected_at, i.s10
        FROM custody_seizure_correction k JOIN custody_seizure z ON z.id = k.seizure_id JOIN custody_item i ON i.id = z.item_id
        """

    static func decodeCorrection(_ r: CorrectionRow) -> StoredSeizureCorrection {
        StoredSeizureCorrection(id: r.0, seizureID: r.1, s10: r.7, oldAtMillis: r.2, newAtMillis: r.3, reason: r.4, correctedBy: r.5, correctedAtMillis: r.6)
    }

    public func correctSeizedAt(seizureID: Int64, newAtMillis: Int64, reason: String, atMillis: Int64, actor: String) async throws -> StoredSeizureCorrection {
        try await transaction("correcting a seizure's time") { conn in
            let logger = self.logger
            try await conn.run("SELECT id FROM custody_seizure WHERE id = \(seizureID) FOR UPDATE", logger: logger)
            guard let z = try await Self.seizure(conn, id: seizureID, logger: logger) else { throw ArchiveError(.notFound, "no seizure \(seizureID)") }
            let started = try await conn.column("SELECT started_at FROM custody_inspection WHERE id = \(z.inspectionID)", as: Int64.self, logger: logger).first
                ?? z.seizedAtMillis
            try SeizureCorrectionRules.check(z, newAtMillis: newAtMillis, reason: reason, inspectionStartMillis: started, atMillis: atMillis, actor: actor)
            let id = try await conn.column("""
                INSERT INTO custody_seizure_correction (seizure_id, old_seized_at, new_seized_at, reason, corrected_by, corrected_at)
                VALUES (\(seizureID), \(z.seizedAtMillis), \(newAtMillis), \(reason.trimmingCharacters(in: .whitespacesAndNewlines)), \(actor), \(atMillis)) RETURNING id
                """, as: Int64.self, logger: logger)[0]
            let c = Self.decodeCorrection(try await conn.all("\(unescaped: Self.correctionSelect) WHERE k.id = \(id)", as: CorrectionRow.self, logger: logger)[0])
            _ = try await Self.appendAudit(conn, AuditDraft(actor: actor, action: "custody.seizure.correct", target: "custody-seizure:\(seizureID)",
                                                            detail: c.auditDetail), logger: logger)
            return c
        }
    }

    public func seizureCorrections(from: Int64, to: Int64) async throws -> [StoredSeizureCorrection] {
        try await rows("reading corrections", "\(unescaped: Self.correctionSelect) WHERE k.corrected_at >= \(from) AND k.corrected_at < \(to) ORDER BY k.id",
                       as: CorrectionRow.self).map(Self.decodeCorrection)
    }

    public func dataQualityFacts(from: Int64, to: Int64) async throws -> DataQualityFacts {
        var n = 0
        var sql = ""
        for ch in DataQualityFacts.sql {
            if ch == "?" { n += 1; sql += "$\(n)" } else { sql.append(ch) }
        }
        var binds = PostgresBindings()
        for v in [from, to, from, to, from, to] { binds.append(v) }
        let r = try await rows("counting data quality", PostgresQuery(unsafeSQL: sql, binds: binds), as: (Int64, Int64, Int64, Int64, Int64).self)[0]
        return DataQualityFacts(events: Int(r.0), manualEntries: Int(r.1), inspectionsBeforeArrival: Int(r.2), arrivalsWithoutDate: Int(r.3),
                                inspectionsWithoutDate: Int(r.4))
    }
}

extension PostgresArchiveStore {
    public func returnBatchMembers(afterEventID: Int64, limit: Int) async throws -> [(eventID: Int64, batch: Int64)] {
        let found: [(Int64, Int64)] = try await rows("reading return batches", """
            SELECT event_id, presentation_id FROM custody_return_member WHERE event_id > \(afterEventID) ORDER BY event_id LIMIT \(Int64(limit))
            """, as: (Int64, Int64).self)
        return found.map { (eventID: $0.0, batch: $0.1) }
    }

    public func returnBatchCounts() async throws -> [Int64: Int?] {
        var out: [Int64: Int?] = [:]
        for r in try await rows("reading return batches", "SELECT id, scanned_count FROM custody_presentation WHERE direction = 'out'", as: (Int64, Int64?).self) {
            out[r.0] = .some(r.1.map { Int($0) })
        }
        return out
    }
}
