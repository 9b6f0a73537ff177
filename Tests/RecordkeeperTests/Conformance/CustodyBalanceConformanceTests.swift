@testable import Archive
@testable import ArchivePostgres
import Custody
import Foundation
import GRDB
import RecordkeeperCore
import Testing

/// Issue 15, AT3 of CUSTODY.md §6 on every backend: the daily custody balance, the items the
/// cycle count did not see with their last holder and place, and containers against their
/// declared counts; with the scan rules that keep the balance honest (seized items move only
/// with a witness and only out to a lab or an agency; nothing moves before its last event).
@Suite("CustodyStore conformance: scans, containers and the daily balance (every backend)")
struct CustodyBalanceConformanceTests {
    static func millis(_ iso: String) -> Int64 { CustodyConformanceTests.millis(iso) }

    struct Serials {
        var next: Int
        mutating func s10(_ country: String = "CN") -> String {
            next += 1
            let serial = String(next)
            return "LX" + serial + String(S10.checkDigit(serial: serial.map { Int(String($0))! })) + country
        }
    }

    static func register(_ store: any CustodyStore) async throws {
        let receipts = ReceiptService(store: store)
        for (code, kind) in [("RCV-1", ReceiptService.LocationKind.receiving), ("HOLD-1", .holding), ("EXAM-1", .examStation), ("VAULT", .seizedProperty),
                             ("LAB-1", .lab), ("DOCK-1", .returnDock)] {
            _ = try await receipts.addLocation(code: code, name: code, kind: kind, secured: true, alarmed: true, cctvCovered: true, maxDwellHours: nil,
                                               actor: "supervisor")
        }
    }

    /// Records scans in batches at one time; every scan must be recorded.
    static func scan(_ store: any CustodyStore, at iso: String, _ items: [String], actor: String = "receiver", witness: String? = nil,
                     _ action: CustodyScan.Action) async throws {
        let service = ScanService(store: store, now: { millis(iso) })
        for start in stride(from: 0, to: items.count, by: ScanService.batchLimit) {
            let chunk = Array(items[start..<min(items.count, start + ScanService.batchLimit)])
            let outcomes = try await service.record(chunk.map { ScanService.Request(text: $0, action: action, witness: witness, station: "ST-1") }, actor: actor)
            for (s, o) in zip(chunk, outcomes) {
                guard case .recorded = o else { Issue.record("\(action.eventType) of \(s): \(o)"); return }
            }
        }
    }

    @Test(arguments: Backends.custody)
    func at3TheDailyBalanceFindsTheTwoItemsTheCountDidNotSee(_ backend: Backend<any CustodyStore & AuditLog>) async throws {
        let open = try await backend.open()
        defer { Task { await open.close() } }
        let store = open.store
        try await Self.register(store)
        var serials = Serials(next: 30_000_000)

        // 17 June: 500 items in custody overnight.
        let opening = (0..<500).map { _ in serials.s10() }
        try await Self.scan(store, at: "2019-06-17T10:00:00Z", opening, .receive(location: "HOLD-1", presentation: nil))

        // 18 June: forty containers declared at 250 each; the last one holds only 248, and two
        // items come loose: 10,000 received.
        let scans = ScanService(store: store, now: { Self.millis("2019-06-18T06:00:00Z") })
        var received: [String] = []
        var shortContainer: Int64 = 0
        for c in 0..<40 {
            let p = try await scans.openContainer("APC-\(1000 + c)", carrier: "USPS", seal: "S\(77_000 + c)", declared: 250, presentedBy: "J. Carrier",
                                                  badge: "USPS-17", location: "RCV-1", station: "ST-1", actor: "receiver")
            let items = (0..<(c == 39 ? 248 : 250)).map { _ in serials.s10() }
            try await Self.scan(store, at: "2019-06-18T06:30:00Z", items, .receive(location: "RCV-1", presentation: p.id))
            received += items
            if c == 39 { shortContainer = p.id } else { #expect(try await scans.closeContainer(p.id, note: nil, actor: "receiver").scannedCount == 250) }
        }
        let loose = (0..<2).map { _ in serials.s10() }
        try await Self.scan(store, at: "2019-06-18T06:40:00Z", loose, .receive(location: "RCV-1", presentation: nil))
        received += loose
        #expect(received.count == 10_000)
        // A container short of its declared count closes only with a note.
        do {
            _ = try await scans.closeContainer(shortContainer, note: "  ", actor: "receiver")
            Issue.record("a short container closed without a note")
        } catch let e as ArchiveError { #expect(e.message.hasPrefix("REQUIRED_MISSING")) }
        let closed = try await scans.closeContainer(shortContainer, note: "Two items missing at hand-over; carrier informed", actor: "receiver")
        #expect(closed.scannedCount == 248 && closed.difference == -2)
        // Every item's arrival and container are its receipt's (what verify checks), on every backend.
        #expect(try await store.custodyItemsDisagreeingWithReceipt(limit: 5).isEmpty)
        // A closed container takes no more items.
        let late = ScanService(store: store, now: { Self.millis("2019-06-18T07:00:00Z") })
        guard case .refused(let r) = try await late.record([.init(text: serials.s10(), action: .receive(location: "RCV-1", presentation: shortContainer))],
                                                           actor: "receiver")[0] else { Issue.record("received into a closed container"); return }
        #expect(r.code == "PRESENTATION_CLOSED")

        // Twelve inspected and seized into the vault; eight handed to the FDA; 9,400 returned.
        let seized = Array(received[0..<12]), fda = Array(received[12..<20]), returned = Array(received[20..<9_420])
        for (i, s) in seized.enumerated() {
            _ = try await InspectionService(store: store, now: { Self.millis("2019-06-18T09:00:00Z") }).start(
                s, method: .xray, location: "EXAM-1", station: "XR-1", clientScanID: nil, actor: "officer")
            _ = try await InspectionService(store: store, now: { Self.millis("2019-06-18T09:10:00Z") }).end(
                s, result: .anomaly, found: "Powder in tins", substance: "unknown", equipment: "XR-1", station: "XR-1", clientScanID: nil, actor: "officer")
            _ = try await SeizureService(store: store, now: { Self.millis("2019-06-18T09:30:00Z") }).seize(
                s, witness: "officer2", violation: .narcotics, substance: "fentanyl", netWeightGrams: 12.5, form6051S: "2019-4601-\(100_000 + i)",
                storageLocation: "VAULT", actor: "officer")
        }
        try await Self.scan(store, at: "2019-06-18T11:00:00Z", fda, .toAgency(agency: "FDA"))
        try await Self.scan(store, at: "2019-06-18T15:00:00Z", returned,
                            .returnToCarrier(carrier: "USPS badge 17", supervisor: "supervisor", reason: "Bulk COI mail, not targeted"))

        // The evening count sees every item in the facility but two: one from the night before,
        // one from today's containers.
        let stillHere = opening + Array(received[9_420...])
        #expect(stillHere.count == 1_080)
        let missing = [opening[123], received[9_999]]
        let seen = stillHere.filter { !missing.contains($0) }
        try await Self.scan(store, at: "2019-06-18T22:00:00Z", Array(seen.prefix(500)), actor: "auditor", .audit(at: "HOLD-1"))
        try await Self.scan(store, at: "2019-06-18T22:30:00Z", Array(seen.dropFirst(500)), actor: "auditor", .audit(at: "RCV-1"))

        let report = try await BalanceService(store: store).balance(dayStart: Self.millis("2019-06-18T00:00:00Z"))
        #expect(report.opening == 500 && report.received == 10_000 && report.returned == 9_400)
        #expect(report.toSeizedProperty == 12 && report.toAgency == 8 && report.destroyed == 0 && report.toLab == 0 && report.fromLab == 0)
        #expect(report.expectedClosing == 1_080 && report.inCustodyAtClose == 1_080)
        #expect(report.counted == 1_078 && report.discrepancy == 2)
        #expect(report.unaccounted.map(\.s10).sorted() == missing.sorted())
        let lost = report.unaccounted.first { $0.s10 == opening[123] }
        #expect(lost?.lastHolder == "receiver" && lost?.lastLocation == "HOLD-1" && lost?.lastEvent == "RECEIVED")
        #expect(report.unaccounted.first { $0.s10 == received[9_999] }?.lastLocation == "RCV-1")
        #expect(report.auditedLocations == ["HOLD-1", "RCV-1"] && report.seenNotExpected.isEmpty)
        #expect(report.containers.count == 40 && report.containersWithDifference == 1)
        #expect(report.containers.first { $0.difference != 0 }.map { ($0.container, $0.difference) }! == ("APC-1039", -2))

        // The day before has no count: nothing is called unaccounted, and its balance closes at 500.
        let before = try await BalanceService(store: store).balance(dayStart: Self.millis("2019-06-17T00:00:00Z"))
        #expect(before.opening == 0 && before.received == 500 && before.expectedClosing == 500 && before.counted == nil && before.unaccounted.isEmpty)
        // The next day opens with the closing.
        #expect(try await BalanceService(store: store).balance(dayStart: Self.millis("2019-06-19T00:00:00Z")).opening == 1_080)
    }

    /// The rules a scan is held to (CUSTODY.md §3 controls 3, 5, 7; AT7's witness): each refused
    /// scan says why and records nothing, the rest of its batch is recorded.
    @Test(arguments: Backends.custody)
    func scansAreHeldToTheCustodyRules(_ backend: Backend<any CustodyStore & AuditLog>) async throws {
        let open = try await backend.open()
        defer { Task { await open.close() } }
        let store = open.store
        try await Self.register(store)
        var serials = Serials(next: 40_000_000)
        let (a, b, c) = (serials.s10(), serials.s10(), serials.s10())
        try await Self.scan(store, at: "2019-06-18T08:00:00Z", [a, b, c], .receive(location: "RCV-1", presentation: nil))
        _ = try await InspectionService(store: store, now: { Self.millis("2019-06-18T09:00:00Z") }).start(
            a, method: .manualOpen, location: "EXAM-1", station: nil, clientScanID: nil, actor: "officer")
        _ = try await InspectionService(store: store, now: { Self.millis("2019-06-18T09:05:00Z") }).end(
            a, result: .confirmedPositive, found: "Pills", substance: "oxycodone", equipment: nil, station: nil, clientScanID: nil, actor: "officer")
        _ = try await SeizureService(store: store, now: { Self.millis("2019-06-18T09:10:00Z") }).seize(
            a, witness: "officer2", violation: .narcotics, substance: "oxycodone", netWeightGrams: 3, form6051S: "2019-4601-000777", storageLocation: "VAULT",
            actor: "officer")

        let service = ScanService(store: store, now: { Self.millis("2019-06-18T10:00:00Z") })
        func code(_ r: ScanService.Request, actor: String = "officer") async throws -> String {
            switch try await service.record([r], actor: actor)[0] {
            case .refused(let refusal): refusal.code
            case .recorded(let e): "recorded \(e.type)"
            case .repeated: "repeated"
            case .alreadyInCustody: "already"
            }
        }
        // A seized item: no event without a witness who is someone else; out of the vault only to
        // a lab or an agency; never back to the carrier.
        #expect(try await code(.init(text: a, action: .toLab(lab: "LAB-1"))) == "WITNESS_REQUIRED")
        #expect(try await code(.init(text: a, action: .toLab(lab: "LAB-1"), witness: "officer")) == "WITNESS_REQUIRED")
        #expect(try await code(.init(text: a, action: .move(to: "HOLD-1"), witness: "officer2")) == "SEIZED")
        #expect(try await code(.init(text: a, action: .returnToCarrier(carrier: "USPS", supervisor: "sup", reason: "x"), witness: "officer2")) == "SEIZED")
        #expect(try await code(.init(text: a, action: .toLab(lab: "LAB-1"), witness: "officer2")) == "recorded TO_LAB")
        #expect(try await code(.init(text: a, action: .toAgency(agency: "DEA"), witness: "officer2")) == "AT_LAB")
        #expect(try await code(.init(text: a, action: .fromLab(to: "HOLD-1"), witness: "officer2")) == "WRONG_LOCATION_KIND")
        #expect(try await code(.init(text: a, action: .fromLab(to: "VAULT"), witness: "officer2")) == "recorded FROM_LAB")
        #expect(try await store.custodyEvents(s10: a).last?.detail == "witness=officer2")
        // An item not seized: not into the vault by a move; not to an unknown place; a sighting
        // elsewhere than its record is marked; an unknown agency is refused.
        #expect(try await code(.init(text: b, action: .move(to: "VAULT"))) == "WRONG_LOCATION_KIND")
        #expect(try await code(.init(text: b, action: .move(to: "NOWHERE"))) == "UNKNOWN_LOCATION")
        #expect(try await code(.init(text: b, action: .move(to: "RCV-1"))) == "ALREADY_THERE")
        #expect(try await code(.init(text: b, action: .audit(at: "HOLD-1"))) == "recorded AUDIT_SEEN")
        #expect(try await store.custodyEvents(s10: b).last?.detail == "expected=RCV-1")
        #expect(try await code(.init(text: b, action: .toAgency(agency: "CIA"))) == "VALUE_UNKNOWN")
        #expect(try await code(.init(text: "EB000717594HK", action: .move(to: "HOLD-1"))) == "S10_CHECK")
        #expect(try await code(.init(text: serials.s10(), action: .move(to: "HOLD-1"))) == "NOT_IN_CUSTODY")
        // Nothing is recorded before an item's last event.
        let earlier = ScanService(store: store, now: { Self.millis("2019-06-18T07:00:00Z") })
        guard case .refused(let r) = try await earlier.record([.init(text: c, action: .move(to: "HOLD-1"))], actor: "receiver")[0] else {
            Issue.record("a move before the receipt was recorded"); return
        }
        #expect(r.code == "DATE_ORDER")
        // A batch: the refused scan is answered, the others recorded; the same batch again records
        // nothing new; a scan id used for another scan is refused.
        let batch: [ScanService.Request] = [.init(text: b, action: .move(to: "EXAM-1"), clientScanID: "st1-0001"),
                                            .init(text: a, action: .move(to: "HOLD-1"), clientScanID: "st1-0002"),
                                            .init(text: c, action: .toAgency(agency: "FDA"), clientScanID: "st1-0003")]
        let first = try await service.record(batch, actor: "receiver")
        #expect(first.map { $0.event?.type ?? "refused" } == ["MOVED", "refused", "TO_AGENCY"])
        let again = try await service.record(batch, actor: "receiver")
        #expect(again[0] == .repeated(first[0].event!) && again[2] == .repeated(first[2].event!))
        #expect(try await code(.init(text: b, action: .move(to: "HOLD-1"), clientScanID: "st1-0003")) == "SCAN_ID_REUSED")
        // One batch that returns an item and receives it again, and receives and returns a new one:
        // each scan sees the ones before it, and the database never holds two open episodes.
        let d = serials.s10()
        let mixed = try await ScanService(store: store, now: { Self.millis("2019-06-18T11:00:00Z") }).record([
            .init(text: b, action: .returnToCarrier(carrier: "USPS", supervisor: "sup", reason: "Bulk")),
            .init(text: b, action: .receive(location: "RCV-1", presentation: nil)),
            .init(text: d, action: .receive(location: "RCV-1", presentation: nil)),
            .init(text: d, action: .returnToCarrier(carrier: "USPS", supervisor: "sup", reason: "Bulk")),
            .init(text: d, action: .move(to: "HOLD-1")),
        ], actor: "receiver")
        #expect(mixed.map { $0.event?.type ?? "refused" } == ["RETURNED_TO_CARRIER", "RECEIVED", "RECEIVED", "RETURNED_TO_CARRIER", "refused"], "\(mixed)")
        #expect(try await store.custodyEvents(s10: b).map(\.type).suffix(2) == ["RETURNED_TO_CARRIER", "RECEIVED"])
        #expect(try await store.custodyEvents(s10: d).map(\.type) == ["RECEIVED", "RETURNED_TO_CARRIER"])
        // Nobody targeted d (bulk mail): it goes back uninspected without a supervisor's say.
        #expect(try await store.custodyEvents(s10: d).last?.detail == "untargeted carrier=USPS")
        let e = serials.s10()
        try await Self.scan(store, at: "2019-06-18T11:10:00Z", [e], .receive(location: "RCV-1", presentation: nil))
        try await Self.scan(store, at: "2019-06-18T11:20:00Z", [e], .returnToCarrier(carrier: "USPS", supervisor: nil, reason: nil))
        // Handed to the FDA, c's episode is closed: it can be received again as a new episode.
        #expect(try await code(.init(text: c, action: .receive(location: "RCV-1", presentation: nil))) == "recorded RECEIVED")
        // Every event is in the audit log with its hash.
        for s in [a, b, c] {
            for e in try await store.custodyEvents(s10: s) {
                #expect(ContentHash.of(e.canonical).hex == e.hash)
                #expect(try await store.auditEntries(target: "custody-item:\(e.itemID)", limit: 50).contains { $0.detail.contains(e.hash) })
            }
        }
    }

    /// AT7 (CUSTODY.md §6): an item placed in a room that does not lock is in R-SEC; a day the
    /// enforcement cage was not checked is in R-SEC; a failed check needs what was wrong; and the
    /// SEACATS clock alerts the seizing officer at +12 h, the supervisor at +20 h and the port
    /// director after +24 h, until the entry is made.
    @Test(arguments: Backends.custody)
    func at7SecurityExceptionsAndTheSEACATSAlerts(_ backend: Backend<any CustodyStore & AuditLog>) async throws {
        let open = try await backend.open()
        defer { Task { await open.close() } }
        let store = open.store
        try await Self.register(store)
        let receipts = ReceiptService(store: store)
        _ = try await receipts.addLocation(code: "DOCK-OPEN", name: "Open dock", kind: .holding, secured: false, alarmed: true, cctvCovered: true,
                                           maxDwellHours: nil, actor: "supervisor")
        _ = try await receipts.addLocation(code: "CAGE-1", name: "Enforcement cage", kind: .enforcementCage, secured: true, alarmed: true, cctvCovered: true,
                                           maxDwellHours: nil, actor: "supervisor")
        var serials = Serials(next: 70_000_000)
        let (a, b) = (serials.s10(), serials.s10())
        try await Self.scan(store, at: "2019-06-18T08:00:00Z", [a, b], .receive(location: "RCV-1", presentation: nil))
        try await Self.scan(store, at: "2019-06-18T09:00:00Z", [b], .move(to: "DOCK-OPEN"))

        let security = SecurityService(store: store, now: { Self.millis("2019-06-19T18:00:00Z") })
        #expect(try await security.recordCheck(location: "CAGE-1", day: "2019-06-18", doorLocked: true, alarmArmed: true, cctvOK: true, exceptions: nil,
                                               actor: "supervisor"))
        #expect(try await !security.recordCheck(location: "CAGE-1", day: "2019-06-18", doorLocked: true, alarmArmed: true, cctvOK: true, exceptions: nil,
                                                actor: "supervisor")) // the same check again: nothing new
        await #expect(throws: CustodyError.self) {
            _ = try await security.recordCheck(location: "CAGE-1", day: "2019-06-19", doorLocked: true, alarmArmed: false, cctvOK: true, exceptions: " ",
                                               actor: "supervisor")
        }
        await #expect(throws: ArchiveError.self) { // a different finding for a day already checked
            _ = try await security.recordCheck(location: "CAGE-1", day: "2019-06-18", doorLocked: false, alarmArmed: true, cctvOK: true, exceptions: "Door ajar",
                                               actor: "supervisor")
        }
        await #expect(throws: CustodyError.self) { // a day that has not begun
            _ = try await security.recordCheck(location: "CAGE-1", day: "2019-06-21", doorLocked: true, alarmArmed: true, cctvOK: true, exceptions: nil,
                                               actor: "supervisor")
        }
        #expect(try await security.recordCheck(location: "CAGE-1", day: "2019-06-19", doorLocked: true, alarmArmed: false, cctvOK: true,
                                               exceptions: "Alarm panel fault, technician called", actor: "supervisor"))
        let report = try await security.report(from: Self.millis("2019-06-18T00:00:00Z"), to: Self.millis("2019-06-21T00:00:00Z"))
        #expect(report.heldInWeakLocations.map(\.s10) == [b] && report.heldInWeakLocations.first?.why == "does not lock")
        // The vault (seized property) and the cage are checked daily: the vault never was, the cage
        // not on the 20th; the cage's alarm failed on the 19th.
        #expect(report.missingChecks.map { "\($0.location) \($0.day)" }
                == ["CAGE-1 2019-06-20", "VAULT 2019-06-18", "VAULT 2019-06-19", "VAULT 2019-06-20"])
        #expect(report.failedChecks.map { "\($0.location) \($0.day)" } == ["CAGE-1 2019-06-19"])
        #expect(report.seizedWithoutWitness.isEmpty)

        // An inspection is not recorded "in" the vault (the balance would read it as a move there).
        await #expect(throws: CustodyError.self) {
            _ = try await InspectionService(store: store, now: { Self.millis("2019-06-18T09:30:00Z") }).start(
                b, method: .xray, location: "VAULT", station: nil, clientScanID: nil, actor: "officer")
        }
        // The SEACATS clock's alerts.
        _ = try await InspectionService(store: store, now: { Self.millis("2019-06-18T10:00:00Z") }).start(
            a, method: .xray, location: "EXAM-1", station: nil, clientScanID: nil, actor: "officer")
        _ = try await InspectionService(store: store, now: { Self.millis("2019-06-18T10:05:00Z") }).end(
            a, result: .anomaly, found: "Pills", substance: nil, equipment: nil, station: nil, clientScanID: nil, actor: "officer")
        let z = try await SeizureService(store: store, now: { Self.millis("2019-06-18T11:00:00Z") }).seize(
            a, witness: "officer2", violation: .narcotics, substance: "pills", netWeightGrams: 5, form6051S: "2019-4601-000991", storageLocation: "VAULT",
            actor: "officer")
        let alerts = AlertService(store: store)
        func seacats(_ iso: String) async throws -> [String] {
            try await alerts.alerts(asOf: Self.millis(iso)).filter { $0.kind == "seacats" }.map { "\($0.severity) \($0.audience)" }
        }
        #expect(try await seacats("2019-06-18T22:59:59Z") == [])
        #expect(try await seacats("2019-06-18T23:00:00Z") == ["warning seizing-officer"])
        #expect(try await seacats("2019-06-19T07:00:00Z") == ["high supervisor"])
        #expect(try await seacats("2019-06-19T11:00:00Z") == ["high supervisor"]) // exactly 24 h: still on time
        #expect(try await seacats("2019-06-19T11:00:01Z") == ["critical port-director"])
        _ = try await SeizureService(store: store, now: { Self.millis("2019-06-19T12:00:00Z") }).recordSEACATS(
            seizureID: z.id, caseNumber: "2019-4601-0042", lateReason: "Entered after the system outage", actor: "officer")
        #expect(try await seacats("2019-06-19T12:00:01Z") == [])
        // R-SEC reads the seized item's events from its seizure on (the move into the vault, witnessed),
        // and none before the seizure or outside the period.
        let afterSeizure = try await store.custodyEventsAfterSeizure(from: Self.millis("2019-06-18T00:00:00Z"), to: Self.millis("2019-06-21T00:00:00Z"))
        #expect(afterSeizure.map { "\($0.s10) \($0.type) \($0.toLocation ?? "-")" } == ["\(a) MOVED VAULT"])
        #expect(afterSeizure.first?.detail?.contains("witness=officer2") == true)
        #expect(try await store.custodyEventsAfterSeizure(from: Self.millis("2019-06-18T11:00:01Z"), to: Self.millis("2019-06-21T00:00:00Z")).isEmpty)
        #expect(try await store.custodyEventsAfterSeizure(from: Self.millis("2019-06-18T00:00:00Z"), to: Self.millis("2019-06-18T11:00:00Z")).isEmpty)
        // The later security report shows the seizure's move with its witness, so nothing here.
        #expect(try await security.report(from: Self.millis("2019-06-18T00:00:00Z"), to: Self.millis("2019-06-21T00:00:00Z")).seizedWithoutWitness.isEmpty)
    }

    /// AT8 (CUSTODY.md §6), its second half: a seizure's time changes only by a correction, never
    /// by the seizing officer and always with a reason; R-LATE then reads the corrected time; the
    /// old and new times are in the audit log; R-DQ counts the edit made more than 24 hours later.
    @Test(arguments: Backends.custody)
    func at8ASeizureTimeIsCorrectedOnlyWithAReason(_ backend: Backend<any CustodyStore & AuditLog>) async throws {
        let open = try await backend.open()
        defer { Task { await open.close() } }
        let store = open.store
        try await Self.register(store)
        var serials = Serials(next: 80_000_000)
        let a = serials.s10()
        try await Self.scan(store, at: "2019-06-18T08:00:00Z", [a], .receive(location: "RCV-1", presentation: nil))
        _ = try await InspectionService(store: store, now: { Self.millis("2019-06-18T09:00:00Z") }).start(
            a, method: .xray, location: "EXAM-1", station: nil, clientScanID: nil, actor: "officer")
        _ = try await InspectionService(store: store, now: { Self.millis("2019-06-18T09:10:00Z") }).end(
            a, result: .anomaly, found: "Powder", substance: nil, equipment: nil, station: nil, clientScanID: nil, actor: "officer")
        // Recorded at 10:00, though the seizure happened at 09:30; SEACATS at 09:45 the next day.
        let z = try await SeizureService(store: store, now: { Self.millis("2019-06-18T10:00:00Z") }).seize(
            a, witness: "officer2", violation: .narcotics, substance: "powder", netWeightGrams: 9, form6051S: "2019-4601-000555", storageLocation: "VAULT",
            actor: "officer")
        _ = try await SeizureService(store: store, now: { Self.millis("2019-06-19T09:45:00Z") }).recordSEACATS(
            seizureID: z.id, caseNumber: "2019-4601-0555", lateReason: nil, actor: "officer")
        let (from, to, asOf) = (Self.millis("2019-06-17T00:00:00Z"), Self.millis("2019-06-21T00:00:00Z"), Self.millis("2019-06-25T00:00:00Z"))
        #expect(try await SeizureService(store: store).late(from: from, to: to, asOf: asOf).recordedLate.isEmpty)

        let at = Self.millis("2019-06-20T12:00:00Z")
        await #expect(throws: ArchiveError.self) { // the seizing officer
            _ = try await store.correctSeizedAt(seizureID: z.id, newAtMillis: Self.millis("2019-06-18T09:30:00Z"), reason: "Wrong clock", atMillis: at, actor: "officer")
        }
        await #expect(throws: ArchiveError.self) { // no reason
            _ = try await store.correctSeizedAt(seizureID: z.id, newAtMillis: Self.millis("2019-06-18T09:30:00Z"), reason: "  ", atMillis: at, actor: "supervisor")
        }
        await #expect(throws: ArchiveError.self) { // before the inspection that found it
            _ = try await store.correctSeizedAt(seizureID: z.id, newAtMillis: Self.millis("2019-06-18T08:30:00Z"), reason: "x", atMillis: at, actor: "supervisor")
        }
        let c = try await store.correctSeizedAt(seizureID: z.id, newAtMillis: Self.millis("2019-06-18T09:30:00Z"),
                                                reason: "Seized at 09:30 per the exam log; entered at 10:00", atMillis: at, actor: "supervisor")
        #expect(c.oldAtMillis == Self.millis("2019-06-18T10:00:00Z") && c.isLate)
        // The seizure row is as recorded; every reader sees the corrected time: SEACATS at +24 h 15 m is late now.
        let seizures = try await store.seizures(seizedFrom: from, to: to)
        #expect(seizures.first?.seizedAtMillis == Self.millis("2019-06-18T09:30:00Z") && seizures.first?.recordedSeizedAtMillis == Self.millis("2019-06-18T10:00:00Z"))
        #expect(try await SeizureService(store: store).late(from: from, to: to, asOf: asOf).recordedLate.map(\.s10) == [a])
        let audit = try await store.auditEntries(target: "custody-seizure:\(z.id)", limit: 10)
        #expect(audit.contains { $0.action == "custody.seizure.correct" && $0.detail.contains(String(c.oldAtMillis)) && $0.detail.contains(String(c.newAtMillis)) })
        let dq = try await DataQualityService(store: store).report(from: from, to: asOf)
        #expect(dq.correctionsByUser == ["supervisor": 1] && dq.lateEdits.count == 1)
        #expect(dq.facts.arrivalsWithoutDate == 0 && dq.facts.inspectionsWithoutDate == 0 && dq.facts.inspectionsBeforeArrival == 0)
        #expect(dq.facts.events == 4 && dq.facts.manualEntries == 0) // received, inspection start and end, the move into the vault
    }

    /// R-AGE and the dwell alert leave seized evidence alone: an item seized into a vault with no
    /// longest dwell of its own is counted as held as evidence, not aged (its clock is SEACATS and
    /// the case); a vault that has one ages its items by it; the other items age as before.
    @Test(arguments: Backends.custody)
    func seizedEvidenceIsNotAgedUnlessItsVaultSaysSo(_ backend: Backend<any CustodyStore & AuditLog>) async throws {
        let open = try await backend.open()
        defer { Task { await open.close() } }
        let store = open.store
        try await Self.register(store)
        _ = try await ReceiptService(store: store).addLocation(code: "VAULT-90", name: "Vault, 90 days", kind: .seizedProperty, secured: true, alarmed: true,
                                                               cctvCovered: true, maxDwellHours: 24 * 90, actor: "supervisor")
        var serials = Serials(next: 41_000_000)
        let (a, b, c) = (serials.s10(), serials.s10(), serials.s10())
        try await Self.scan(store, at: "2019-06-18T08:00:00Z", [a, b, c], .receive(location: "RCV-1", presentation: nil))
        for (item, vault, form) in [(a, "VAULT", "2019-4601-000801"), (b, "VAULT-90", "2019-4601-000802")] {
            _ = try await InspectionService(store: store, now: { Self.millis("2019-06-18T09:00:00Z") }).start(
                item, method: .manualOpen, location: "EXAM-1", station: nil, clientScanID: nil, actor: "officer")
            _ = try await InspectionService(store: store, now: { Self.millis("2019-06-18T09:05:00Z") }).end(
                item, result: .confirmedPositive, found: "Pills", substance: "oxycodone", equipment: nil, station: nil, clientScanID: nil, actor: "officer")
            _ = try await SeizureService(store: store, now: { Self.millis("2019-06-18T09:10:00Z") }).seize(
                item, witness: "officer2", violation: .narcotics, substance: "oxycodone", netWeightGrams: 3, form6051S: form, storageLocation: vault, actor: "officer")
        }
        let reports = InspectionService(store: store)
        let (from, to) = (Self.millis("2019-06-18T00:00:00Z"), Self.millis("2019-06-19T00:00:00Z"))
        let tenDays = try await reports.aging(from: from, to: to, asOf: Self.millis("2019-06-28T08:00:00Z"), hours: 72)
        #expect(tenDays.inCustody == 3 && tenDays.heldAsEvidence == 1 && tenDays.items.map(\.s10) == [c], "\(tenDays.items)")
        let later = try await reports.aging(from: from, to: to, asOf: Self.millis("2019-09-28T08:00:00Z"), hours: 72)
        #expect(later.heldAsEvidence == 1 && later.items.map(\.s10).sorted() == [b, c].sorted(), "\(later.items)")
        let alerts = try await AlertService(store: store).alerts(asOf: Self.millis("2019-06-28T08:00:00Z")).filter { $0.kind == "dwell" }
        #expect(alerts.map(\.s10) == [c], "\(alerts)")
    }

    /// Return batches (CUSTODY.md §2 `return_batch`, R-BAL "per presentation and per return"): a
    /// container filled at the return dock, the carrier's employee signing for its count; items
    /// go in by return scans, its close compares the count; receipts and returns each go only into
    /// their own kind of container.
    @Test(arguments: Backends.custody)
    func returnBatchesAreCountedAgainstWhatTheCarrierSignsFor(_ backend: Backend<any CustodyStore & AuditLog>) async throws {
        let open = try await backend.open()
        defer { Task { await open.close() } }
        let store = open.store
        try await Self.register(store)
        func service(_ iso: String) -> ScanService { ScanService(store: store, now: { Self.millis(iso) }) }
        let inbound = try await service("2019-06-18T06:00:00Z").openContainer("APC-7", carrier: "USPS", seal: nil, declared: 4, presentedBy: "J. Carrier",
                                                                              badge: nil, location: "RCV-1", station: nil, actor: "receiver")
        var serials = Serials(next: 40_000_000)
        let items = (0..<4).map { _ in serials.s10() }
        try await Self.scan(store, at: "2019-06-18T06:10:00Z", items, .receive(location: "RCV-1", presentation: inbound.id))
        // A return batch opens at a return dock (or a receiving area), never a holding cage.
        await #expect(throws: ArchiveError.self) {
            _ = try await service("2019-06-18T17:00:00Z").openContainer("RET-APC-1", carrier: "USPS", seal: "R-1", declared: 3, presentedBy: "K. Driver",
                                                                        badge: "USPS-88", location: "HOLD-1", station: nil, direction: "out", actor: "receiver")
        }
        let batch = try await service("2019-06-18T17:00:00Z").openContainer("RET-APC-1", carrier: "USPS", seal: "R-1", declared: 3, presentedBy: "K. Driver",
                                                                            badge: "USPS-88", location: "DOCK-1", station: nil, direction: "out", actor: "receiver")
        #expect(batch.direction == "out" && batch.scannedCount == 0 && batch.openedDetail["direction"] == "out")
        let back = service("2019-06-18T17:10:00Z")
        let out = try await back.record([
            ScanService.Request(text: items[0], action: .returnToCarrier(carrier: "USPS", supervisor: nil, reason: nil, batch: batch.id), station: "RET-1"),
            ScanService.Request(text: items[1], action: .returnToCarrier(carrier: "USPS", supervisor: nil, reason: nil, batch: batch.id), station: "RET-1"),
            // Into the inbound container: refused; a receipt into the return batch: refused.
            ScanService.Request(text: items[2], action: .returnToCarrier(carrier: "USPS", supervisor: nil, reason: nil, batch: inbound.id), station: "RET-1"),
            ScanService.Request(text: serials.s10(), action: .receive(location: "RCV-1", presentation: batch.id), station: "RET-1"),
            ScanService.Request(text: items[3], action: .returnToCarrier(carrier: "USPS", supervisor: nil, reason: nil, batch: 999), station: "RET-1"),
            // Another carrier's return does not go into USPS's batch.
            ScanService.Request(text: items[3], action: .returnToCarrier(carrier: "DHL", supervisor: nil, reason: nil, batch: batch.id), station: "RET-1"),
            // A reason may not forge the batch token verify reads from the event.
            ScanService.Request(text: items[3], action: .returnToCarrier(carrier: "USPS", supervisor: "sue", reason: "late return_batch=1"), station: "RET-1"),
        ], actor: "receiver")
        #expect(out.map { if case .refused(let r) = $0 { r.code } else { "recorded" } } == ["recorded", "recorded", "WRONG_DIRECTION", "WRONG_DIRECTION",
                                                                                           "UNKNOWN_PRESENTATION", "CARRIER_MISMATCH", "VALUE_UNKNOWN"])
        #expect(CustodyScanRules.returnBatch(ofDetail: out[0].event?.detail) == batch.id && CustodyScanRules.returnBatch(ofDetail: "inspected carrier=USPS") == nil)
        #expect(out[0].event?.detail == "untargeted carrier=USPS return_batch=\(batch.id)")
        #expect(try await store.presentation(id: batch.id)?.scannedCount == 2)
        // Two of three: the close needs a note.
        await #expect(throws: ArchiveError.self) { _ = try await service("2019-06-18T17:30:00Z").closeContainer(batch.id, note: nil, actor: "receiver") }
        let closed = try await service("2019-06-18T17:30:00Z").closeContainer(batch.id, note: "Driver counted three; two scanned", actor: "receiver")
        #expect(closed.scannedCount == 2 && closed.difference == -1 && closed.direction == "out")
        // Verify's check of the members against the return events naming the batch: as recorded.
        #expect(try await store.returnBatchMismatches().isEmpty)
        let late = try await service("2019-06-18T17:40:00Z").record([
            ScanService.Request(text: items[2], action: .returnToCarrier(carrier: "USPS", supervisor: nil, reason: nil, batch: batch.id), station: "RET-1")],
                                                                     actor: "receiver")
        #expect({ if case .refused(let r) = late[0] { r.code == "PRESENTATION_CLOSED" } else { false } }())
        // R-BAL lists both, the return batch as such; the alert names it.
        let balance = try await BalanceService(store: store).balance(dayStart: Self.millis("2019-06-18T00:00:00Z"))
        #expect(balance.containers.map { "\($0.container) \($0.direction) \($0.scanned)/\($0.declared)" } == ["APC-7 in 4/4", "RET-APC-1 out 2/3"])
        #expect(balance.returned == 2 && balance.containersWithDifference == 1)
        let alerts = try await AlertService(store: store).alerts(asOf: Self.millis("2019-06-18T18:00:00Z")).filter { $0.kind == "container-count" }
        #expect(alerts.map(\.message) == ["Return batch RET-APC-1 closed with 2 of 3 declared (-1): Driver counted three; two scanned"])
    }
}

/// R-DQ counts a period's events through the (type, at) index, naming every type: a type the
/// schema allows and the list lacks would drop out of the count.
@Suite("Custody event types named in queries")
struct CustodyEventTypeListTests {
    /// A scan batch reads its items' open episodes through the s10 index, never every open item.
    @Test func aBatchReadsItsItemsThroughTheirIdentifiers() async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        _ = try await makeArchive(tmp)
        let db = try DatabaseQueue(path: tmp.url.appendingPathComponent("data/archive.sqlite").path)
        let plan = try await db.read { db in
            try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + SQLiteArchiveStore.openStatesSQL("?, ?"), arguments: ["LX1", "LX2"]).map { $0["detail"] as String }
        }
        #expect(plan.first == "SEARCH i USING INDEX custody_item_open (s10=?)", "\(plan)")
    }

    @Test func theCountedTypesAreTheTypesBothSchemasAllow() async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        _ = try await makeArchive(tmp)
        let db = try DatabaseQueue(path: tmp.url.appendingPathComponent("data/archive.sqlite").path)
        let table = try #require(try await db.read { try String.fetchOne($0, sql: "SELECT sql FROM sqlite_master WHERE name = 'custody_event'") })
        let postgres = PostgresSchema.steps.flatMap(\.sql).first { $0.contains("CREATE TABLE custody_event") } ?? ""
        for schema in [table, postgres] {
            let check = try #require(schema.range(of: "CHECK (type IN (").map { schema[$0.upperBound...] }?.prefix { $0 != ")" })
            let allowed = check.split(separator: ",").map { $0.trimmingCharacters(in: .whitespacesAndNewlines).trimmingCharacters(in: CharacterSet(charactersIn: "'")) }
            #expect(Set(allowed) == Set(DataQualityFacts.eventTypes) && allowed.count == DataQualityFacts.eventTypes.count)
        }
    }
}
