@testable import Archive
@testable import ArchivePostgres
import Custody
import Foundation
import GRDB
import PostgresNIO
import RecordkeeperCore
import Testing

extension Backends {
    static let custody: [Backend<any CustodyStore & AuditLog>] = all(sqlite: { $0 }, postgres: { $0 })
}

/// Issue 15, AT2 of CUSTODY.md §6 on every backend: the OIG's data-entry defect classes are
/// rejected with their reason codes and kept as written, duplicates merge, a dry run writes
/// nothing, a file is imported once, and the rows cannot be changed behind the service's back.
@Suite("CustodyStore conformance: target lists (every backend)")
struct CustodyConformanceTests {
    @Test(arguments: Backends.custody)
    func at2TheDefectClassesAreRejectedWithTheirCodesAndAReimportAddsNothing(_ backend: Backend<any CustodyStore & AuditLog>) async throws {
        let open = try await backend.open()
        defer { Task { await open.close() } }
        let store = open.store
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rk-custody-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let service = TargetImportService(store: store)
        let file = try #require(try CustodyFixtures.write(.at2, seed: 1, to: dir).first)
        // The same seed writes the same bytes; another seed other items.
        #expect(CustodyFixtures.at2Targets(seed: 1) == (try String(contentsOf: file, encoding: .utf8)))
        #expect(CustodyFixtures.at2Targets(seed: 2) != CustodyFixtures.at2Targets(seed: 1))

        // Without the rules every row with a well-formed item and a rule names an unknown one.
        let unruled = try await service.dryRun(file)
        #expect(unruled.plan.accepted.isEmpty && unruled.plan.rejectedByCode["RULE_UNKNOWN"] == 17)
        for rule in CustodyFixtures.rules(for: .at2) { #expect(try await service.addRule(rule, actor: "targeter")) }
        #expect(try await service.addRule(CustodyFixtures.rules(for: .at2)[0], actor: "targeter") == false)
        var changed = CustodyFixtures.rules(for: .at2)[0]
        changed.description = "something else"
        await #expect(throws: ArchiveError.self) { _ = try await service.addRule(changed, actor: "targeter") }
        #expect(try await service.rules().map { "\($0.code) v\($0.version)" } == ["COI-CN-01 v1", "NARC-01 v1"])

        let dry = try await service.dryRun(file)
        #expect(dry.plan.rowsTotal == 20)
        #expect(dry.plan.accepted.count == 14)
        #expect(dry.plan.rejectedByCode == ["S10_CHECK": 1, "S10_FORMAT": 1, "REQUIRED_MISSING": 1, "DATE_INVALID": 2])
        #expect(dry.plan.mergedDuplicates.count == 1 && dry.plan.mergedDuplicates[0].firstLine == 2 && dry.plan.mergedDuplicates[0].line == 21)
        #expect(try await store.targetCount() == 0) // a dry run writes nothing

        let done = try await service.commit(file, actor: "targeter")
        let stored = try #require(done.stored)
        #expect(!done.alreadyImported && stored.added == 14 && stored.rejected == 5 && stored.merged == 1 && stored.rowsTotal == 20)
        #expect(try await store.targetCount() == 14)
        // Rejected rows are kept as written, with their lines.
        let lines = try String(contentsOf: file, encoding: .utf8).components(separatedBy: "\r\n")
        let kept = try await store.rejectedRows(importID: stored.id)
        #expect(kept.count == 5 && kept.allSatisfy { lines[$0.line - 1] == $0.raw })
        #expect(kept.map(\.code) == dry.plan.rejected.map(\.code))
        // The import is in the audit chain with a digest over what it added, in line order.
        let audit = try await store.auditEntries(target: "custody-import:\(stored.id)", limit: 5)
        #expect(audit.count == 1 && audit[0].action == "custody.import" && audit[0].detail.contains(stored.digest))
        var hasher = StreamingHasher()
        for t in dry.plan.accepted.sorted(by: { ($0.line ?? 0) < ($1.line ?? 0) }) {
            let s = try #require(try await store.targets(s10: t.s10).first)
            #expect(s.importID == stored.id && s.line == t.line && s.targetedAtMillis == t.targetedAtMillis)
            s.canonical.withUnsafeBytes { hasher.update($0) }
        }
        #expect(hasher.finalize().hex == stored.digest)

        // The same file again: nothing added, the first import named.
        let again = try await service.commit(file, actor: "someone-else")
        #expect(again.alreadyImported && again.stored?.id == stored.id)
        #expect(try await store.targetCount() == 14)
        // Another file naming the same items and rules merges them rather than adding.
        let copy = dir.appendingPathComponent("AT2-again.csv")
        try (CustodyFixtures.at2Targets(seed: 1) + "\r\n").write(to: copy, atomically: true, encoding: .utf8)
        let second = try await service.commit(copy, actor: "targeter")
        #expect(second.stored?.added == 0 && second.stored?.merged == 15 && second.stored?.id == stored.id + 1)
        #expect(try await store.targetCount() == 14)

        // The rows cannot be changed or removed behind the service's back.
        for sql in ["UPDATE custody_target SET s10 = 'EE471108151FR'", "DELETE FROM custody_target", "UPDATE custody_import SET added = 99",
                    "DELETE FROM custody_import_rejection", "UPDATE custody_target_rule SET description = 'x'"] {
            await #expect(throws: (any Error).self, "\(sql)") {
                if let s = store as? SQLiteArchiveStore {
                    try await s.write { db in try db.execute(sql: sql) }
                } else if let p = store as? PostgresArchiveStore {
                    try await p.transaction("tampering") { conn in try await conn.run(PostgresQuery(unsafeSQL: sql), logger: p.logger) }
                }
            }
        }
        #expect(try await store.targetCount() == 14)
    }

    static func millis(_ iso: String) -> Int64 {
        Int64((ISO8601DateFormatter().date(from: iso)!.timeIntervalSince1970 * 1000).rounded())
    }

    /// AT5 (CUSTODY.md §6): a target expected 2019-06-17 12:00 is pending until its 48-hour
    /// grace has passed, not presented from that instant, and once received an hour later it
    /// leaves the report and shows as presented one hour late. Receipt scans are idempotent by
    /// their scan id, and an item already in custody is answered with its last event.
    @Test(arguments: Backends.custody)
    func at5NotPresentedFollowsTheGraceAndAReceiptEndsIt(_ backend: Backend<any CustodyStore & AuditLog>) async throws {
        let open = try await backend.open()
        defer { Task { await open.close() } }
        let store = open.store
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rk-custody-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let targets = TargetImportService(store: store)
        _ = try await targets.addRule(CustodyFixtures.rules(for: .at2)[0], actor: "targeter")
        let csv = dir.appendingPathComponent("targets.csv")
        try Data("""
            s10,rule_code,rule_version,reason_code,targeted_at,targeted_by,expected_arrival_at
            EE471108151FR,NARC-01,1,narcotics,2019-06-16T09:00:00Z,ATS,2019-06-17T12:00:00Z
            RR473124829GB,NARC-01,1,narcotics,2019-06-16T10:00:00Z,ATS,

            """.utf8).write(to: csv)
        #expect(try await targets.commit(csv, actor: "targeter").stored?.added == 2)
        func service(at iso: String) -> ReceiptService { ReceiptService(store: store, now: { Self.millis(iso) }) }
        let receipts = service(at: "2019-06-19T13:00:00Z")
        #expect(try await receipts.addLocation(code: "RCV-1", name: "Receiving dock 1", kind: .receiving, secured: true, alarmed: false, cctvCovered: true,
                                               maxDwellHours: nil, actor: "supervisor"))
        let (from, to) = (Self.millis("2019-06-16T00:00:00Z"), Self.millis("2019-06-17T00:00:00Z"))

        let before = try await receipts.notPresented(from: from, to: to, asOf: Self.millis("2019-06-19T11:59:59Z"))
        #expect(before.targets == 2 && before.notPresented.isEmpty && before.pending.map(\.s10) == ["EE471108151FR"])
        #expect(before.noExpectedArrival.map(\.s10) == ["RR473124829GB"])
        let due = try await receipts.notPresented(from: from, to: to, asOf: Self.millis("2019-06-19T12:00:00Z"))
        #expect(due.notPresented.map(\.s10) == ["EE471108151FR"] && due.pending.isEmpty && due.notPresented[0].dueAt == "2019-06-19T12:00:00.000Z")

        let outcome = try await receipts.receive("ee471108151fr", location: "RCV-1", station: "ST-4", clientScanID: "scan-0001", manualEntry: false,
                                                 actor: "receiver")
        guard case .received(let event) = outcome else { Issue.record("not received: \(outcome)"); return }
        #expect(event.atMillis == Self.millis("2019-06-19T13:00:00Z") && event.toLocation == "RCV-1" && event.type == "RECEIVED")
        #expect(event.hash == ContentHash.of(StoredCustodyEvent.canonical(itemID: event.itemID, s10: "EE471108151FR", type: "RECEIVED",
                                                                          atMillis: event.atMillis, actor: "receiver", toLocation: "RCV-1", station: "ST-4",
                                                                          clientScanID: "scan-0001", manualEntry: false, detail: nil)).hex)
        let after = try await receipts.notPresented(from: from, to: to, asOf: Self.millis("2019-06-19T13:00:00Z"))
        #expect(after.notPresented.isEmpty && after.presented == 1 && after.presentedLate.map(\.lateBySeconds) == [3_600])
        // As of a moment before the receipt, the report is what it was then.
        let then = try await receipts.notPresented(from: from, to: to, asOf: Self.millis("2019-06-19T12:30:00Z"))
        #expect(then.notPresented.map(\.s10) == ["EE471108151FR"] && then.presented == 0)

        // The same scan again (a retry after a network cut): nothing new.
        #expect(try await service(at: "2019-06-19T13:00:05Z").receive("EE471108151FR", location: "RCV-1", station: "ST-4", clientScanID: "scan-0001",
                                                                      manualEntry: false, actor: "receiver") == .repeated(event))
        // Another scan of the item while in custody: where it is, nothing new.
        #expect(try await service(at: "2019-06-19T14:00:00Z").receive("EE471108151FR", location: "RCV-1", station: "ST-5", clientScanID: "scan-0002",
                                                                      manualEntry: true, actor: "receiver") == .alreadyInCustody(event))
        #expect(try await receipts.events("EE471108151FR") == [event])
        await #expect(throws: ArchiveError.self) {
            _ = try await receipts.receive("RR473124829GB", location: "NOWHERE", station: nil, clientScanID: nil, manualEntry: false, actor: "receiver")
        }
        do {
            _ = try await receipts.receive("EB000717594HK", location: "RCV-1", station: nil, clientScanID: nil, manualEntry: false, actor: "receiver")
            Issue.record("a wrong check digit was received")
        } catch let e as ArchiveError { #expect(e.message.hasPrefix("S10_CHECK")) }
        let audit = try await store.auditEntries(target: "custody-item:\(event.itemID)", limit: 5)
        #expect(audit.count == 1 && audit[0].action == "custody.received" && audit[0].detail.contains(event.hash))
        // Events, items and locations cannot be changed behind the service's back.
        // (An episode may only be closed, once: closing it without its event is for `verify`.)
        for sql in ["UPDATE custody_event SET at = at - 3600000", "DELETE FROM custody_event", "UPDATE custody_item SET s10 = 'RR473124829GB'",
                    "DELETE FROM custody_item", "UPDATE custody_location SET alarmed = true"] {
            await #expect(throws: (any Error).self, "\(sql)") {
                if let s = store as? SQLiteArchiveStore {
                    try await s.write { db in try db.execute(sql: sql) }
                } else if let p = store as? PostgresArchiveStore {
                    try await p.transaction("tampering") { conn in try await conn.run(PostgresQuery(unsafeSQL: sql), logger: p.logger) }
                }
            }
        }
    }

    /// AT4 (CUSTODY.md §6): three items received 2019-06-01 08:00 and inspected after 1, 14 and
    /// 27 days give a mean and median latency of 14 days; fifty items received 2019-06-10 and
    /// never inspected are all in the aging report at 72 h and 336 h as of 2019-06-25 (360 h),
    /// none at 400 h. Inspections need a receipt, start before they end, and say what was found.
    @Test(arguments: Backends.custody)
    func at4AgingAndLatency(_ backend: Backend<any CustodyStore & AuditLog>) async throws {
        let open = try await backend.open()
        defer { Task { await open.close() } }
        let store = open.store
        func at(_ iso: String) -> @Sendable () -> Int64 { { Self.millis(iso) } }
        let receipts = ReceiptService(store: store, now: at("2019-06-01T08:00:00Z"))
        _ = try await receipts.addLocation(code: "HOLD-1", name: "Holding 1", kind: .holding, secured: true, alarmed: true, cctvCovered: true,
                                           maxDwellHours: nil, actor: "supervisor")
        var serial = 10_000_000
        func nextS10() -> String {
            serial += 1
            let digits = String(serial).map { Int(String($0))! }
            return "EE" + String(serial) + String(S10.checkDigit(serial: digits)) + "US"
        }
        let early = (0..<3).map { _ in nextS10() }
        for s in early { _ = try await receipts.receive(s, location: "HOLD-1", station: nil, clientScanID: nil, manualEntry: false, actor: "receiver") }
        for (s, day) in zip(early, ["2019-06-02", "2019-06-15", "2019-06-28"]) {
            let inspect = InspectionService(store: store, now: at("\(day)T07:00:00Z"))
            _ = try await inspect.start(s, method: .xray, location: nil, station: "XR-1", clientScanID: nil, actor: "officer")
            let done = try await InspectionService(store: store, now: at("\(day)T08:00:00Z")).end(
                s, result: .noAnomaly, found: nil, substance: nil, equipment: "XR-1", station: "XR-1", clientScanID: nil, actor: "officer")
            #expect(done.method == "xray" && done.endedAtMillis - done.startedAtMillis == 3_600_000)
        }
        let later = ReceiptService(store: store, now: at("2019-06-10T00:00:00Z"))
        let laterItems = (0..<50).map { _ in nextS10() }
        for s in laterItems { _ = try await later.receive(s, location: "HOLD-1", station: nil, clientScanID: nil, manualEntry: false, actor: "receiver") }

        let reports = InspectionService(store: store)
        let latency = try await reports.latency(from: Self.millis("2019-06-01T00:00:00Z"), to: Self.millis("2019-06-02T00:00:00Z"),
                                                asOf: Self.millis("2019-06-30T00:00:00Z"))
        #expect(latency.received == 3 && latency.inspected == 3)
        #expect(latency.meanDays == 14.0 && latency.medianDays == 14.0 && latency.maxDays == 27.0)
        // As of before the last inspection, it is not counted.
        let sooner = try await reports.latency(from: Self.millis("2019-06-01T00:00:00Z"), to: Self.millis("2019-06-02T00:00:00Z"),
                                               asOf: Self.millis("2019-06-20T00:00:00Z"))
        #expect(sooner.inspected == 2 && sooner.medianDays == 7.5)
        let (from, to, asOf) = (Self.millis("2019-06-10T00:00:00Z"), Self.millis("2019-06-11T00:00:00Z"), Self.millis("2019-06-25T00:00:00Z"))
        #expect(try await reports.aging(from: from, to: to, asOf: asOf, hours: 72).items.count == 50)
        #expect(try await reports.aging(from: from, to: to, asOf: asOf, hours: 336).items.count == 50)
        #expect(try await reports.aging(from: from, to: to, asOf: asOf, hours: 400).items.isEmpty)
        // Found through the items open at as_of (the alerts' way), the spells are the same, before
        // and after five go back to the carrier.
        for s in laterItems.prefix(5) {
            _ = try await ReceiptService(store: store, now: at("2019-06-26T10:00:00Z")).returnToCarrier(s, carrier: "USPS", station: nil, supervisor: nil,
                                                                                                       reason: nil, actor: "receiver")
        }
        let since = Self.millis("2019-05-01T00:00:00Z")
        for (moment, count) in [("2019-05-31T00:00:00Z", 0), ("2019-06-01T08:00:00Z", 3), ("2019-06-26T09:59:59Z", 53), ("2019-06-26T10:00:00Z", 48),
                                ("2019-07-01T00:00:00Z", 48)] {
            let m = Self.millis(moment)
            let open = try await store.openCustodySpells(receivedFrom: since, asOf: m)
            #expect(open == (try await store.custodySpells(receivedFrom: since, to: m + 1, asOf: m)) && open.count == count, "as of \(moment)")
        }
        let throughOpen = try await reports.aging(from: since, to: asOf + 1, asOf: asOf, hours: 72, throughOpenItems: true)
        let throughArrivals = try await reports.aging(from: since, to: asOf + 1, asOf: asOf, hours: 72)
        #expect(throughOpen.items.count == 53 && throughOpen.items.map(\.s10) == throughArrivals.items.map(\.s10))

        // The controls: no inspection without a receipt; no end without a start; no second start;
        // what was found is required unless nothing was.
        let inspect = InspectionService(store: store, now: at("2019-06-26T09:00:00Z"))
        await #expect(throws: ArchiveError.self) { _ = try await inspect.start("RR473124829GB", method: .canine, location: nil, station: nil, clientScanID: nil, actor: "officer") }
        await #expect(throws: ArchiveError.self) {
            _ = try await inspect.end(early[0], result: .noAnomaly, found: nil, substance: nil, equipment: nil, station: nil, clientScanID: nil, actor: "officer")
        }
        _ = try await inspect.start(early[0], method: .manualOpen, location: "HOLD-1", station: nil, clientScanID: "open-1", actor: "officer")
        #expect(try await inspect.start(early[0], method: .manualOpen, location: "HOLD-1", station: nil, clientScanID: "open-1", actor: "officer").type
            == "INSPECT_START") // the same scan again: nothing new
        await #expect(throws: ArchiveError.self) { _ = try await inspect.start(early[0], method: .canine, location: nil, station: nil, clientScanID: nil, actor: "officer") }
        await #expect(throws: CustodyError.self) {
            _ = try await inspect.end(early[0], result: .anomaly, found: "  ", substance: nil, equipment: nil, station: nil, clientScanID: nil, actor: "officer")
        }
        let found = try await inspect.end(early[0], result: .anomaly, found: "Pills in a shoe box", substance: nil, equipment: nil, station: nil,
                                          clientScanID: "close-1", actor: "officer")
        #expect(found.method == "manual_open" && found.actualDescription == "Pills in a shoe box")
        #expect(try await store.inspections(s10: early[0]).count == 2)
        // Every event is anchored in the audit log with its hash.
        for e in try await store.custodyEvents(s10: early[0]) {
            let audit = try await store.auditEntries(target: "custody-item:\(e.itemID)", limit: 20)
            #expect(audit.contains { $0.detail.contains(e.hash) && $0.action == "custody." + e.type.lowercased() }, "\(e.type)")
            #expect(ContentHash.of(e.canonical).hex == e.hash)
        }
    }

    /// The SEACATS clock of AT1 (CUSTODY.md §6): twelve seizures entered at +2 h ×5,
    /// +23:59:59 ×3, exactly +24:00:00, +24:00:01, +30 h and +72 h give R-LATE 3 (exactly 24 h is
    /// on time); a thirteenth never entered is overdue once 24 h have passed. A seizure follows an
    /// inspection, has a witness who is not the seizing officer, goes into seized property, and
    /// a late entry needs its reason.
    @Test(arguments: Backends.custody)
    func theSEACATSClockCountsExactlyTwentyFourHoursOnTime(_ backend: Backend<any CustodyStore & AuditLog>) async throws {
        let open = try await backend.open()
        defer { Task { await open.close() } }
        let store = open.store
        func at(_ millis: Int64) -> @Sendable () -> Int64 { { millis } }
        let t0 = Self.millis("2019-06-18T10:00:00Z")
        let receipts = ReceiptService(store: store, now: at(t0))
        _ = try await receipts.addLocation(code: "RCV-1", name: "Receiving", kind: .receiving, secured: true, alarmed: true, cctvCovered: true,
                                           maxDwellHours: nil, actor: "supervisor")
        _ = try await receipts.addLocation(code: "VAULT", name: "Seized property vault", kind: .seizedProperty, secured: true, alarmed: true,
                                           cctvCovered: true, maxDwellHours: nil, actor: "supervisor")
        let h: Int64 = 3_600_000
        let delays: [Int64] = [2 * h, 2 * h, 2 * h, 2 * h, 2 * h, 24 * h - 1_000, 24 * h - 1_000, 24 * h - 1_000, 24 * h, 24 * h + 1_000, 30 * h, 72 * h]
        var seized: [StoredSeizure] = []
        for i in 0..<13 {
            let serial = 20_000_000 + i
            let s10 = "EE" + String(serial) + String(S10.checkDigit(serial: String(serial).map { Int(String($0))! })) + "CN"
            _ = try await receipts.receive(s10, location: "RCV-1", station: nil, clientScanID: nil, manualEntry: false, actor: "receiver")
            let seizedAt = t0 + 2 * h + Int64(i) * 60_000
            let z = SeizureService(store: store, now: at(seizedAt))
            if i == 0 {
                // No seizure before an inspection.
                await #expect(throws: ArchiveError.self) {
                    _ = try await z.seize(s10, witness: "officer-2", violation: .narcotics, substance: "fentanyl", netWeightGrams: 12.5,
                                          form6051S: "6051S-000001", storageLocation: "VAULT", actor: "officer-1")
                }
            }
            _ = try await InspectionService(store: store, now: at(seizedAt - h)).start(s10, method: .manualOpen, location: nil, station: nil,
                                                                                    clientScanID: nil, actor: "officer-1")
            _ = try await InspectionService(store: store, now: at(seizedAt - h / 2)).end(s10, result: .presumptivePositive, found: "White powder",
                                                                                      substance: "fentanyl", equipment: nil, station: nil,
                                                                                      clientScanID: nil, actor: "officer-1")
            if i == 0 {
                await #expect(throws: CustodyError.self) { // the witness is someone else (the service says so)
                    _ = try await z.seize(s10, witness: "OFFICER-1", violation: .narcotics, substance: "fentanyl", netWeightGrams: 12.5,
                                          form6051S: "6051S-000001", storageLocation: "VAULT", actor: "officer-1")
                }
                await #expect(throws: ArchiveError.self) { // and so does the store, to any caller
                    _ = try await store.seize(SeizureDraft(s10: s10, witness: "officer-1", violationType: "narcotics", substance: "fentanyl",
                                                           netWeightGrams: 12.5, form6051S: "6051S-000001", storageLocation: "VAULT", atMillis: seizedAt),
                                              actor: "officer-1")
                }
                await #expect(throws: ArchiveError.self) { // into seized property only
                    _ = try await z.seize(s10, witness: "officer-2", violation: .narcotics, substance: "fentanyl", netWeightGrams: 12.5,
                                          form6051S: "6051S-000001", storageLocation: "RCV-1", actor: "officer-1")
                }
                await #expect(throws: CustodyError.self) {
                    _ = try await z.seize(s10, witness: "officer-2", violation: .narcotics, substance: "fentanyl", netWeightGrams: 12.5,
                                          form6051S: "see notes", storageLocation: "VAULT", actor: "officer-1")
                }
            }
            seized.append(try await z.seize(s10, witness: "officer-2", violation: .narcotics, substance: "fentanyl", netWeightGrams: 12.5,
                                             form6051S: String(format: "6051S-%06d", i + 1), storageLocation: "VAULT", actor: "officer-1"))
        }
        for (z, delay) in zip(seized, delays) {
            let clerk = SeizureService(store: store, now: at(z.seizedAtMillis + delay))
            if delay > 24 * h {
                await #expect(throws: ArchiveError.self) { _ = try await clerk.recordSEACATS(seizureID: z.id, caseNumber: "2019-4701-\(z.id)", lateReason: nil, actor: "clerk") }
            }
            let recorded = try await clerk.recordSEACATS(seizureID: z.id, caseNumber: "2019-4701-\(z.id)",
                                                         lateReason: delay > 24 * h ? "Forms found in a pile at shift change" : nil, actor: "clerk")
            #expect(recorded.seacatsRecordedAtMillis == z.seizedAtMillis + delay)
            await #expect(throws: ArchiveError.self) { _ = try await clerk.recordSEACATS(seizureID: z.id, caseNumber: "again", lateReason: "x", actor: "clerk") }
        }
        let report = try await SeizureService(store: store).late(from: Self.millis("2019-06-18T00:00:00Z"), to: Self.millis("2019-06-19T00:00:00Z"),
                                                                 asOf: Self.millis("2019-06-25T00:00:00Z"))
        #expect(report.seizures == 13 && report.onTime == 9)
        #expect(report.recordedLate.count == 3 && report.recordedLate.map(\.hours) == [24 + 1.0 / 3600, 30, 72])
        #expect(report.overdueOpen.map(\.s10) == [seized[12].s10] && report.open.isEmpty)
        // As of an hour after the last seizure the thirteenth is still within its 24 hours, and
        // the entries made later do not count yet.
        let early = try await SeizureService(store: store).late(from: Self.millis("2019-06-18T00:00:00Z"), to: Self.millis("2019-06-19T00:00:00Z"),
                                                                asOf: seized[12].seizedAtMillis + h)
        #expect(early.open.map(\.s10).contains(seized[12].s10) && early.overdueOpen.isEmpty && early.recordedLate.isEmpty)
        // The seizure moved the item into the vault with a witnessed, hashed event.
        let events = try await store.custodyEvents(s10: seized[0].s10)
        #expect(events.map(\.type) == ["RECEIVED", "INSPECT_START", "INSPECT_END", "MOVED"] && events.last?.toLocation == "VAULT")
        #expect(events.last?.detail?.contains("witness=officer-2") == true)
    }

    /// AT1 (CUSTODY.md §6) without its returns to the carrier (not built): 1,000 targets, 940
    /// presented, 900 inspected, 12 seized give R-NP 60 (NARC 20, COI 40), R-NI 40, hit rates
    /// 2.13 % / 0.47 % / 1.33 %, presentation 94.0 %, inspection 95.74 %.
    @Test(arguments: Backends.custody)
    func at1TheHeadlineReconciliation(_ backend: Backend<any CustodyStore & AuditLog>) async throws {
        let open = try await backend.open()
        defer { Task { await open.close() } }
        let store = open.store
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rk-custody-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let targets = TargetImportService(store: store)
        for rule in CustodyFixtures.rules(for: .at1) { _ = try await targets.addRule(rule, actor: "targeter") }
        let file = try #require(try CustodyFixtures.write(.at1, seed: 1, to: dir).first)
        #expect(try await targets.commit(file, actor: "targeter").stored?.added == 1000)
        let lines = try String(contentsOf: file, encoding: .utf8).components(separatedBy: "\r\n").dropFirst().filter { !$0.isEmpty }
        let s10s = lines.map { String($0.prefix(13)) }
        func at(_ iso: String) -> @Sendable () -> Int64 { { Self.millis(iso) } }
        let receipts = ReceiptService(store: store, now: at("2019-06-20T08:00:00Z"))
        _ = try await receipts.addLocation(code: "RCV-1", name: "Receiving", kind: .receiving, secured: true, alarmed: true, cctvCovered: true,
                                           maxDwellHours: nil, actor: "supervisor")
        _ = try await receipts.addLocation(code: "VAULT", name: "Vault", kind: .seizedProperty, secured: true, alarmed: true, cctvCovered: true,
                                           maxDwellHours: nil, actor: "supervisor")
        let returns = ReceiptService(store: store, now: at("2019-06-20T09:00:00Z"))
        let starts = InspectionService(store: store, now: at("2019-06-20T10:00:00Z"))
        let ends = InspectionService(store: store, now: at("2019-06-20T10:30:00Z"))
        let seizures = SeizureService(store: store, now: at("2019-06-20T11:00:00Z"))
        for (i, s10) in s10s.enumerated() {
            let k = i < 500 ? i : i - 500 // the index within its rule
            let (presented, inspected, seized) = i < 500 ? (k < 480, k < 470, k < 10) : (k < 460, k < 430, k < 2)
            guard presented else { continue }
            _ = try await receipts.receive(s10, location: "RCV-1", station: nil, clientScanID: nil, manualEntry: false, actor: "receiver")
            guard inspected else {
                if i < 500, k < 475 { // five of the uninspected go back to the carrier, with a supervisor's reason
                    if k == 470 {
                        await #expect(throws: ArchiveError.self) {
                            _ = try await returns.returnToCarrier(s10, carrier: "USPS", station: nil, supervisor: nil, reason: nil, actor: "receiver")
                        }
                    }
                    _ = try await returns.returnToCarrier(s10, carrier: "USPS", station: nil, supervisor: "supervisor-1", reason: "Dock overflow",
                                                          actor: "receiver")
                }
                continue
            }
            _ = try await starts.start(s10, method: .xray, location: nil, station: nil, clientScanID: nil, actor: "officer-1")
            _ = try await ends.end(s10, result: seized ? .presumptivePositive : .noAnomaly, found: seized ? "Powder" : nil, substance: nil, equipment: nil,
                                   station: nil, clientScanID: nil, actor: "officer-1")
            if seized {
                _ = try await seizures.seize(s10, witness: "officer-2", violation: .narcotics, substance: "powder", netWeightGrams: 10,
                                             form6051S: String(format: "6051S-%06d", i), storageLocation: "VAULT", actor: "officer-1")
            }
        }
        let (from, to, asOf) = (Self.millis("2019-06-17T00:00:00Z"), Self.millis("2019-06-21T00:00:00Z"), Self.millis("2019-06-25T00:00:00Z"))
        let np = try await ReceiptService(store: store).notPresented(from: from, to: to, asOf: asOf)
        #expect(np.notPresented.count == 60)
        #expect(np.notPresented.filter { $0.rule == "NARC-01 v1" }.count == 20 && np.notPresented.filter { $0.rule == "COI-CN-01 v1" }.count == 40)
        let reconciliation = ReconciliationService(store: store)
        let ni = try await reconciliation.notInspected(from: from, to: to, asOf: asOf)
        #expect(ni.inCustody.count == 35 && ni.returnedUninspected.count == 5)
        #expect(ni.returnedUninspected.allSatisfy { $0.returnDetail?.contains("supervisor=supervisor-1") == true && $0.returnDetail?.contains("Dock overflow") == true })
        // A seized item does not go back; a returned one can be presented again, as a new episode.
        let seizedItem = s10s[0], returnedItem = s10s[470]
        await #expect(throws: ArchiveError.self) {
            _ = try await ReceiptService(store: store, now: at("2019-06-21T09:00:00Z")).returnToCarrier(seizedItem, carrier: "USPS", station: nil,
                                                                                                       supervisor: nil, reason: nil, actor: "receiver")
        }
        let again = try await ReceiptService(store: store, now: at("2019-06-20T09:30:00Z")).receive(returnedItem, location: "RCV-1", station: nil,
                                                                                                   clientScanID: nil, manualEntry: false, actor: "receiver")
        guard case .received(let second) = again else { Issue.record("\(again)"); return }
        #expect(try await store.custodyEvents(s10: returnedItem).map(\.type) == ["RECEIVED", "RETURNED_TO_CARRIER", "RECEIVED"])
        #expect(second.itemID != (try await store.custodyEvents(s10: returnedItem)).first?.itemID)
        let eff = try await reconciliation.effectiveness(from: from, to: to, asOf: asOf)
        let narc = try #require(eff.rules.first { $0.rule == "NARC-01 v1" }), coi = try #require(eff.rules.first { $0.rule == "COI-CN-01 v1" })
        #expect((narc.targeted, narc.presented, narc.inspected, narc.hits) == (500, 480, 470, 10))
        #expect((coi.targeted, coi.presented, coi.inspected, coi.hits) == (500, 460, 430, 2))
        #expect(narc.hitRate == 2.13 && coi.hitRate == 0.47 && eff.total.hitRate == 1.33)
        #expect(eff.total.presentationRate == 94.0 && eff.total.inspectionRate == 95.74)
        #expect(eff.total.hitsByViolation == ["narcotics": 12])
        // Counted in the database, R-EFF agrees with the per-identifier reads at every stage of the day.
        for moment in ["2019-06-20T07:00:00Z", "2019-06-20T09:00:00Z", "2019-06-20T10:45:00Z", "2019-06-20T11:00:00Z", "2019-06-25T00:00:00Z"] {
            try await expectEffectivenessAgreesWithPerTargetReads(store, from: from, to: to, asOf: Self.millis(moment))
        }
    }
}

/// R-EFF as the store counts it (`effectivenessCounts`, one query) against the same sets built
/// from the per-identifier reads R-NI uses (targets, first receipts, inspections and hits).
func expectEffectivenessAgreesWithPerTargetReads(_ store: any CustodyStore, from: Int64, to: Int64, asOf: Int64,
                                                 sourceLocation: SourceLocation = #_sourceLocation) async throws {
    let targets = try await store.targets(targetedFrom: from, to: to)
    let s10s = Array(Set(targets.map(\.s10))).sorted()
    let received = try await store.firstReceipts(s10s: s10s, asOf: asOf)
    let done = try await store.inspectionsAndHits(s10s: s10s, asOf: asOf)
    var expected: [String: [Int]] = [:]
    var violations: [String: Int] = [:]
    for t in targets {
        let presented = received[t.s10] != nil
        let inspected = presented && done[t.s10]?.inspectedAtMillis != nil
        let hit = inspected ? done[t.s10]?.violation : nil
        var row = expected["\(t.ruleCode) v\(t.ruleVersion)"] ?? [0, 0, 0, 0]
        row[0] += 1; row[1] += presented ? 1 : 0; row[2] += inspected ? 1 : 0; row[3] += hit == nil ? 0 : 1
        expected["\(t.ruleCode) v\(t.ruleVersion)"] = row
        if let hit { violations[hit, default: 0] += 1 }
    }
    let eff = try await ReconciliationService(store: store).effectiveness(from: from, to: to, asOf: asOf)
    let counted = Dictionary(uniqueKeysWithValues: eff.rules.map { ($0.rule, [$0.targeted, $0.presented, $0.inspected, $0.hits]) })
    #expect(counted == expected, "R-EFF as of \(Timestamp.iso(millis: asOf))", sourceLocation: sourceLocation)
    #expect(eff.total.hitsByViolation == violations, sourceLocation: sourceLocation)
}
