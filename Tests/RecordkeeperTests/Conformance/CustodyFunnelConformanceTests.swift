@testable import Archive
@testable import Custody
import Foundation
@testable import Recordkeeper
import RecordkeeperCore
import Testing

extension Backends {
    static let custodyFunnel: [Backend<any CustodyStore & CustodyFunnelStore & CustodyReferralStore & AuditLog>] = all(sqlite: { $0 }, postgres: { $0 })
    static let custodyDuties: [Backend<any CustodyStore & CustodyDutyStore & AuditLog>] = all(sqlite: { $0 }, postgres: { $0 })
    static let custodyAED: [Backend<any CustodyStore & CustodyFunnelStore & CustodyAdvanceDataStore & AuditLog>] = all(sqlite: { $0 }, postgres: { $0 })
}

/// Issue 15 (F1, F2, R-FUN) on every backend: the carrier's counts imported like a target list,
/// category requests, the countries-of-interest list, and the funnel from carrier arrivals to hits
/// per day, origin and class with the OIG's Table 1 lines, checked by verify.
@Suite("CustodyStore conformance: the volume funnel (every backend)")
struct CustodyFunnelConformanceTests {
    static func millis(_ iso: String) -> Int64 { CustodyConformanceTests.millis(iso) }
    static func at(_ iso: String) -> @Sendable () -> Int64 { { millis(iso) } }

    /// A valid S10 identifier of this service indicator, serial and country.
    static func s10(_ indicator: String, _ serial: Int, _ country: String) -> String {
        let digits = String(format: "%08d", serial).map { Int(String($0))! }
        return "\(indicator)\(String(format: "%08d", serial))\(S10.checkDigit(serial: digits))\(country)"
    }

    static func anchors(_ store: any AuditLog) async throws -> VerifyService.FunnelAnchors {
        var a = VerifyService.FunnelAnchors()
        for e in try await store.auditEntries(afterSequence: 0, limit: 10_000) {
            let detail = try JSONDecoder().decode([String: String].self, from: Data(e.detail.utf8))
            switch e.action {
            case "custody.arrivals.import": a.imports[Int64(e.target.dropFirst("custody-import:".count))!] = (detail, e.sequence)
            case "custody.bulk-request": a.requests[Int64(e.target.dropFirst("custody-bulk-request:".count))!] = (detail.merging(["by": e.actor]) { x, _ in x }, e.sequence)
            case "custody.setting" where e.target == "custody-setting:\(COISetting.key)":
                a.coi = detail["new"]
                a.recordSetting(COISetting.key, detail, by: e.actor)
            default: break
            }
        }
        return a
    }

    @Test(arguments: Backends.custodyFunnel)
    func theFunnelRunsFromCarrierArrivalsToHits(_ backend: Backend<any CustodyStore & CustodyFunnelStore & CustodyReferralStore & AuditLog>) async throws {
        let open = try await backend.open()
        defer { Task { await open.close() } }
        let store = open.store
        let tmp = try TempDir()
        defer { tmp.cleanup() }
        let funnel = FunnelService(store: store, now: Self.at("2019-06-17T12:00:00Z"))

        // The countries of interest: codes checked, kept sorted, a reason required.
        await #expect(throws: CustodyError.self) { _ = try await funnel.setCOI("CN,XX", reason: "policy", actor: "tina") }
        await #expect(throws: CustodyError.self) { _ = try await funnel.setCOI("CN", reason: " ", actor: "tina") }
        #expect(try await funnel.setCOI("hk, cn", reason: "COI list of 2019-06", actor: "tina") == ["CN", "HK"])

        // The carrier's counts: a dry run says what would be stored and what is refused, with its code.
        let file = tmp.url.appendingPathComponent("arrivals-20190618.csv")
        try Data("""
            date,origin_country,mail_class,pieces,source
            2019-06-18,CN,parcel,1000,GBS
            2019-06-18,CN,ems,200,GBS
            2019-06-18,GB,registered,50,GBS
            2019-06-18,HK,parcel,300,GBS
            2019-06-31,CN,parcel,5,GBS
            2019-06-18,XX,parcel,5,GBS
            2019-06-18,FR,parcel,-4,GBS
            2019-06-18,cn,PARCEL,999,GBS
            2019-06-18,FR,parcel,,GBS
            2019-06-19,CN,parcel,800,GBS

            """.utf8).write(to: file)
        let dry = try await funnel.importArrivals(file, commit: false, actor: "tina")
        #expect(dry.dryRun && dry.rows == 10 && dry.accepted == 5 && dry.stored == nil && dry.unknownColumns == ["source"])
        #expect(dry.rejected.map(\.code) == ["DATE_INVALID", "VALUE_UNKNOWN", "VALUE_UNKNOWN", "DUPLICATE", "REQUIRED_MISSING"])
        #expect(dry.rejected.map(\.line) == [6, 7, 8, 9, 10] && dry.rejected[3].raw == "2019-06-18,cn,PARCEL,999,GBS")
        #expect(try await store.arrivalImports().isEmpty)
        let done = try await funnel.importArrivals(file, commit: true, actor: "tina")
        #expect(done.stored?.added == 5 && done.stored?.rejected == 5 && !done.alreadyImported)
        let again = try await funnel.importArrivals(file, commit: true, actor: "tina")
        #expect(again.alreadyImported && again.stored?.id == done.stored?.id)
        #expect(try await store.arrivalImports().count == 1)
        // Rejected rows are kept as written; target imports are a different kind.
        #expect(try await store.rejectedRows(importID: done.stored!.id).count == 5)
        #expect(try await store.targetImports().isEmpty)
        // A corrected extract: its count is the one in force; the first stays on record.
        let corrected = tmp.url.appendingPathComponent("arrivals-20190618-corrected.csv")
        try Data("date,origin_country,mail_class,pieces\r\n2019-06-18,CN,parcel,1100\r\n".utf8).write(to: corrected)
        _ = try await funnel.importArrivals(corrected, commit: true, actor: "tina")
        let inForce = try await store.carrierCounts(fromDay: "2019-06-18", toDay: "2019-06-19")
        #expect(inForce.map { "\($0.originCountry) \($0.mailClass) \($0.pieces)" } == ["CN ems 200", "CN parcel 1100", "GB registered 50", "HK parcel 300"])
        #expect(try await store.carrierCounts(importID: done.stored!.id).count == 5)

        // Category requests: checked, then recorded.
        await #expect(throws: CustodyError.self) { _ = try await funnel.requestBulk(day: "2019-06-31", origin: "CN", mailClass: "parcel", count: nil, reason: "blitz", actor: "tina") }
        await #expect(throws: CustodyError.self) { _ = try await funnel.requestBulk(day: "2019-06-18", origin: "CN", mailClass: "crate", count: nil, reason: "blitz", actor: "tina") }
        await #expect(throws: CustodyError.self) { _ = try await funnel.requestBulk(day: "2019-06-18", origin: "CN", mailClass: "parcel", count: 0, reason: "blitz", actor: "tina") }
        await #expect(throws: CustodyError.self) { _ = try await funnel.requestBulk(day: "2019-06-18", origin: "CN", mailClass: "parcel", count: 40, reason: "", actor: "tina") }
        let blitz = try await funnel.requestBulk(day: "2019-06-18", origin: "cn", mailClass: "parcel", count: 40, reason: "COI random exam", actor: "tina")
        #expect(blitz.originCountry == "CN" && blitz.requestedCount == 40)
        _ = try await funnel.requestBulk(day: "2019-06-18", origin: "HK", mailClass: "parcel", count: nil, reason: "COI random exam", actor: "tina")

        // Targets (NARC-01): tA, tB, tC CN parcels due 06-18; tD a GB registered item due 06-17 and received 06-18;
        // tE a CN EMS item due 06-19, never received; tF an HK parcel due 06-18 but received 06-17 (outside the period).
        let (tA, tB, tC, tD, tE, tF) = (Self.s10("CA", 1, "CN"), Self.s10("CA", 2, "CN"), Self.s10("CA", 3, "CN"), Self.s10("RR", 4, "GB"),
                                        Self.s10("EE", 5, "CN"), Self.s10("CA", 6, "HK"))
        let (n1, n2, n3, n4) = (Self.s10("CB", 11, "CN"), Self.s10("CB", 12, "CN"), Self.s10("CB", 13, "HK"), Self.s10("CB", 14, "CN"))
        let targets = TargetImportService(store: store)
        _ = try await targets.addRule(CustodyFixtures.rules(for: .at2)[0], actor: "tina")
        let list = tmp.url.appendingPathComponent("targets.csv")
        try Data(("s10,rule_code,rule_version,reason_code,targeted_at,targeted_by,expected_arrival_at\n" + [
            (tA, "2019-06-18T10:00:00Z"), (tB, "2019-06-18T10:00:00Z"), (tC, "2019-06-18T10:00:00Z"), (tD, "2019-06-17T10:00:00Z"),
            (tE, "2019-06-19T10:00:00Z"), (tF, "2019-06-18T10:00:00Z"),
        ].map { "\($0.0),NARC-01,1,narcotics,2019-06-16T09:00:00Z,ATS,\($0.1)" }.joined(separator: "\n") + "\n").utf8).write(to: list)
        #expect(try await targets.commit(list, actor: "tina").stored?.added == 6)

        _ = try await ReceiptService(store: store).addLocation(code: "HOLD-1", name: "Holding", kind: .holding, secured: true, alarmed: true, cctvCovered: true,
                                                               maxDwellHours: nil, actor: "supervisor")
        func receive(_ item: String, _ iso: String) async throws {
            _ = try await ReceiptService(store: store, now: Self.at(iso)).receive(item, location: "HOLD-1", station: nil, clientScanID: nil, manualEntry: false,
                                                                                actor: "rita")
        }
        func inspect(_ item: String, _ iso: String, violation: String? = nil) async throws {
            let start = Self.millis(iso)
            _ = try await InspectionService(store: store, now: { start }).start(item, method: .xray, location: nil, station: nil, clientScanID: nil, actor: "otto")
            _ = try await InspectionService(store: store, now: { start + 600_000 }).end(item, result: violation == nil ? .noAnomaly : .anomaly,
                                                                                       found: violation == nil ? nil : "Powder", substance: nil, equipment: "XR-1",
                                                                                       station: nil, clientScanID: nil, actor: "otto")
            if let violation {
                _ = try await ReferralService(store: store, now: { start + 1_200_000 }).refer(item, agency: "FDA", method: "phone", violation: violation, actor: "otto")
            }
        }
        try await receive(tF, "2019-06-17T20:00:00Z")
        for item in [tA, tB, tD, n1, n2, n3] { try await receive(item, "2019-06-18T11:00:00Z") }
        try await receive(n4, "2019-06-19T09:00:00Z")
        try await inspect(tA, "2019-06-18T13:00:00Z", violation: "narcotics")
        try await inspect(tB, "2019-06-18T14:00:00Z")
        try await inspect(n1, "2019-06-18T15:00:00Z", violation: "agriculture")
        try await inspect(n3, "2019-06-18T16:00:00Z")

        let from = Self.millis("2019-06-18T00:00:00Z"), to = Self.millis("2019-06-20T00:00:00Z"), asOf = Self.millis("2019-06-25T00:00:00Z")
        let r = try await funnel.report(from: from, to: to, asOf: asOf)
        func row(_ day: String, _ origin: String, _ mailClass: String) throws -> FunnelService.Report.Row {
            try #require(r.rows.first { $0.day == day && $0.origin == origin && $0.mailClass == mailClass })
        }
        #expect(r.rows.map { "\($0.day) \($0.origin) \($0.mailClass)" } == [
            "2019-06-18 CN ems", "2019-06-18 CN parcel", "2019-06-18 GB registered", "2019-06-18 HK parcel", "2019-06-19 CN ems", "2019-06-19 CN parcel"])
        let cn = try row("2019-06-18", "CN", "parcel")
        #expect(cn.coi && cn.carrierArrivals == 1100 && cn.requestedTargeted == 3 && cn.bulkRequests == 1 && cn.bulkRequestedPieces == 40)
        #expect(cn.presentedTargeted == 2 && cn.presentedOther == 2 && cn.inspectedTargeted == 2 && cn.inspectedOther == 1)
        #expect(cn.hitsTargeted == 1 && cn.hitsOther == 1 && cn.examRate == 0.27 && cn.hitRate == 66.67)
        let gb = try row("2019-06-18", "GB", "registered")
        #expect(!gb.coi && gb.carrierArrivals == 50 && gb.requestedTargeted == 1 && gb.presentedTargeted == 1 && gb.inspected == 0 && gb.examRate == 0)
        let hk = try row("2019-06-18", "HK", "parcel")
        #expect(hk.carrierArrivals == 300 && hk.bulkRequests == 1 && hk.bulkRequestedPieces == nil && hk.presentedOther == 1 && hk.inspectedOther == 1
            && hk.requestedTargeted == 0 && hk.examRate == 0.33 && hk.hitRate == 0)
        let ems19 = try row("2019-06-19", "CN", "ems")
        #expect(ems19.carrierArrivals == nil && ems19.requestedTargeted == 1 && ems19.presented == 0 && ems19.examRate == nil)
        #expect(try row("2019-06-19", "CN", "parcel").presentedOther == 1)
        let t = r.total
        #expect(t.carrierArrivals == 2450 && t.requestedTargeted == 5 && t.bulkRequests == 2 && t.bulkRequestedPieces == 40 && t.presented == 7
            && t.presentedTargeted == 3 && t.inspected == 4 && t.hits == 2 && t.examRate == 0.16 && t.hitRate == 50)
        #expect(r.origins.map(\.origin) == ["CN", "HK", "GB"] && r.origins[0].carrierArrivals == 2100)
        #expect(r.table1 == [
            .init(line: "Countries of interest, not targeted on advance data", received: 2400, examined: 2, examRate: 0.08, withViolation: 1, violationRate: 50),
            .init(line: "Targeted using advance data", received: 2450, examined: 2, examRate: 0.08, withViolation: 1, violationRate: 50),
        ])
        // As of before the inspections, nothing is inspected yet; before the list was set, no country is of interest.
        let early = try await funnel.report(from: from, to: to, asOf: Self.millis("2019-06-18T12:00:00Z"))
        #expect(early.total.inspected == 0 && early.total.presented == 6)
        let beforeList = try await funnel.report(from: from, to: to, asOf: Self.millis("2019-06-17T11:00:00Z"))
        #expect(beforeList.coiCountries.isEmpty && beforeList.rows.allSatisfy { !$0.coi } && beforeList.total.bulkRequests == 0)
        // Whole UTC days only.
        await #expect(throws: CustodyError.self) { _ = try await funnel.report(from: from + 3_600_000, to: to, asOf: asOf) }

        // The same numbers as a table (page, CSV and JSON come from it).
        let table = try await CustodyReports(store: store).run(CustodyReportRequest(id: .funnel, from: from, to: to, asOf: asOf)).table
        #expect(table.rows.last == ["total", "", "all", "all", "no", "2450", "5", "2", "40", "3", "4", "2", "2", "1", "1", "0.16", "50.00"])
        #expect(table.csv.contains("day,2019-06-18,CN,parcel,yes,1100,3,1,40,2,2,2,1,1,1,0.27,66.67\r\n"))

        // Verify: as recorded; a count, a request or the list changed behind the log's back is named.
        let anchors = try await Self.anchors(store)
        #expect(try await VerifyService.checkFunnel(store, anchors: anchors).isEmpty)
        var moved = anchors
        moved.imports[done.stored!.id]?.detail["digest"] = "0"
        moved.requests[blitz.id]?.detail["count"] = "400"
        moved.requests[99] = ([:], 1)
        moved.coi = "CN"
        let found = try await VerifyService.checkFunnel(store, anchors: moved).map(\.code).sorted()
        #expect(found == ["custody_bulk_request_altered", "custody_bulk_request_missing", "custody_import_altered", "custody_setting_altered"])
        // An older change of the list altered behind the log's back (its reason) is named too.
        var history = anchors
        history.settings[COISetting.key]?[0].reason = "no reason"
        #expect(try await VerifyService.checkFunnel(store, anchors: history).map(\.code) == ["custody_setting_altered"])
        var counted = anchors
        counted.imports[done.stored!.id]?.detail["rejected"] = "0"
        #expect(try await VerifyService.checkFunnel(store, anchors: counted).map(\.code) == ["custody_import_altered"])
        #expect(try await store.carrierCountsOutsideArrivalImports() == 0)
        // R-DQ lists the carrier-count files with their refused rows, beside the target lists.
        let dq = try await DataQualityService(store: store).report(from: Self.millis("2000-01-01T00:00:00Z"), to: Self.millis("2100-01-01T00:00:00Z"))
        #expect(dq.imports.map(\.file).contains("arrivals-20190618.csv") && dq.imports.first { $0.file == "arrivals-20190618.csv" }?.rejected == 5)
    }

    /// F16 on every backend: a duty or fee assessed after an inspection, once, counted as a revenue
    /// hit; R-REV follows the revenue targets to their assessments; verify checks each one.
    @Test(arguments: Backends.custodyDuties)
    func dutiesAreAssessedOnceAfterAnInspectionAndReported(_ backend: Backend<any CustodyStore & CustodyDutyStore & AuditLog>) async throws {
        let open = try await backend.open()
        defer { Task { await open.close() } }
        let store = open.store
        let tmp = try TempDir()
        defer { tmp.cleanup() }
        let targets = TargetImportService(store: store)
        _ = try await targets.addRule(TargetRule(code: "REV-01", version: 1, category: .revenue, source: "ATS", description: "Declared value over the de minimis"),
                                      actor: "tina")
        _ = try await targets.addRule(CustodyFixtures.rules(for: .at2)[0], actor: "tina")
        let (r1, r2, r3, u) = (Self.s10("CA", 21, "CN"), Self.s10("CA", 22, "CN"), Self.s10("CA", 23, "GB"), Self.s10("CB", 24, "CN"))
        let list = tmp.url.appendingPathComponent("revenue.csv")
        try Data(("s10,rule_code,rule_version,reason_code,targeted_at,targeted_by,expected_arrival_at\n"
            + [r1, r2, r3].map { "\($0),REV-01,1,revenue,2019-06-17T09:00:00Z,ATS,2019-06-18T10:00:00Z" }.joined(separator: "\n")
            + "\n\(r1),NARC-01,1,narcotics,2019-06-17T09:00:00Z,ATS,2019-06-18T10:00:00Z\n").utf8).write(to: list)
        #expect(try await targets.commit(list, actor: "tina").stored?.added == 4)
        _ = try await ReceiptService(store: store).addLocation(code: "HOLD-1", name: "Holding", kind: .holding, secured: true, alarmed: true, cctvCovered: true,
                                                               maxDwellHours: nil, actor: "supervisor")
        for item in [r1, r2, u] {
            _ = try await ReceiptService(store: store, now: Self.at("2019-06-18T11:00:00Z")).receive(item, location: "HOLD-1", station: nil, clientScanID: nil,
                                                                                                   manualEntry: false, actor: "rita")
        }
        func duty(_ iso: String) -> DutyService { DutyService(store: store, now: Self.at(iso)) }
        // No inspection yet: refused; an open one: refused.
        do {
            _ = try await duty("2019-06-18T12:00:00Z").assess(r1, kind: "duty", amount: "12.50", entry: nil, actor: "otto")
            Issue.record("a duty was assessed without an inspection")
        } catch let e as ArchiveError { #expect(e.message.hasPrefix("REQUIRED_MISSING")) }
        for (item, start) in [(r1, "2019-06-18T13:00:00Z"), (r2, "2019-06-18T13:20:00Z"), (u, "2019-06-18T13:40:00Z")] {
            _ = try await InspectionService(store: store, now: Self.at(start)).start(item, method: .manualOpen, location: nil, station: nil, clientScanID: nil, actor: "otto")
            if item == r1 {
                await #expect(throws: ArchiveError.self) { _ = try await duty("2019-06-18T13:05:00Z").assess(r1, kind: "duty", amount: "12.50", entry: nil, actor: "otto") }
            }
            _ = try await InspectionService(store: store, now: { Self.millis(start) + 600_000 }).end(
                item, result: .anomaly, found: "Undeclared watches", substance: nil, equipment: nil, station: nil, clientScanID: nil, actor: "otto")
        }
        // The values are checked before anything is written.
        for (kind, amount, currency) in [("tax", "12.50", "USD"), ("duty", "12.345", "USD"), ("duty", "-3", "USD"), ("duty", "0", "USD"),
                                         ("duty", "1e3", "USD"), ("duty", "12.50", "US$"), ("duty", "+5", "USD"),
                                         ("duty", "1500.5", "JPY"), ("duty", "1500.", "JPY"), ("duty", "1.1255", "KWD")] {
            await #expect(throws: CustodyError.self) { _ = try await duty("2019-06-18T14:00:00Z").assess(r1, kind: kind, amount: amount, currency: currency, entry: nil, actor: "otto") }
        }
        do {
            _ = try await duty("2019-06-18T13:05:00Z").assess(r1, kind: "duty", amount: "12.50", entry: nil, actor: "otto")
            Issue.record("an assessment preceded the end of the inspection")
        } catch let e as ArchiveError { #expect(e.message.hasPrefix("DATE_ORDER")) }
        let a1 = try await duty("2019-06-18T14:00:00Z").assess(r1, kind: "Duty", amount: "12.5", entry: "ME-2019-0001", actor: "otto")
        #expect(a1.amountMinor == 1250 && a1.kind == "duty" && a1.currency == "USD" && a1.entryReference == "ME-2019-0001")
        await #expect(throws: ArchiveError.self) { _ = try await duty("2019-06-18T14:10:00Z").assess(r1, kind: "fee", amount: "3", entry: nil, actor: "otto") }
        // In the currency's own minor unit: yen have none.
        let fee = try await duty("2019-06-18T14:30:00Z").assess(u, kind: "fee", amount: "1500", currency: "jpy", entry: nil, actor: "otto")
        #expect(fee.amountMinor == 1500 && fee.currency == "JPY")

        // A revenue hit in R-EFF (the narcotics rule's target r1 too: the piece had a hit).
        let hits = try await store.inspectionsAndHits(s10s: [r1, r2, u], asOf: Self.millis("2019-06-25T00:00:00Z"))
        #expect(hits[r1]?.violation == "revenue" && hits[r2]?.hitAtMillis == nil && hits[u]?.violation == "revenue")
        let (from, to, asOf) = (Self.millis("2019-06-17T00:00:00Z"), Self.millis("2019-06-19T00:00:00Z"), Self.millis("2019-06-25T00:00:00Z"))
        let eff = try await ReconciliationService(store: store).effectiveness(from: from, to: to, asOf: asOf)
        #expect(eff.rules.map { "\($0.rule) \($0.hits)/\($0.inspected)" } == ["NARC-01 v1 1/1", "REV-01 v1 1/2"] && eff.total.hitsByViolation == ["revenue": 2])
        for moment in ["2019-06-18T13:59:00Z", "2019-06-18T14:15:00Z", "2019-06-25T00:00:00Z"] {
            try await expectEffectivenessAgreesWithPerTargetReads(store, from: from, to: to, asOf: Self.millis(moment))
        }

        // R-REV.
        let r = try await DutyService(store: store).report(from: from, to: to, asOf: asOf)
        #expect(r.rules.count == 1 && r.rules[0].rule == "REV-01 v1" && r.rules[0].targeted == 3 && r.rules[0].presented == 2 && r.rules[0].inspected == 2)
        #expect(r.rules[0].assessed == 1 && r.rules[0].yieldRate == 50 && r.rules[0].amounts == ["USD 12.50"])
        #expect(r.otherAssessments == 1 && r.otherAmounts == ["JPY 1500"] && r.assessments.map(\.revenueTarget) == [true, false])
        let before = try await DutyService(store: store).report(from: from, to: to, asOf: Self.millis("2019-06-18T14:15:00Z"))
        #expect(before.rules[0].assessed == 1 && before.otherAssessments == 0 && before.assessments.count == 1)
        let table = try await CustodyReports(store: store).run(CustodyReportRequest(id: .revenue, from: from, to: to, asOf: asOf)).table
        #expect(table.rows.first == ["rule", "REV-01 v1", "3", "2", "2", "1", "50.00", "USD 12.50", "", ""])

        // Verify: as recorded; a changed sum and a vanished assessment are named.
        var anchors: [Int64: (detail: [String: String], sequence: Int64)] = [:]
        for e in try await store.auditEntries(afterSequence: 0, limit: 10_000) where e.action == "custody.duty" {
            let detail = try JSONDecoder().decode([String: String].self, from: Data(e.detail.utf8))
            anchors[Int64(e.target.dropFirst("custody-duty:".count))!] = (detail.merging(["by": e.actor]) { x, _ in x }, e.sequence)
        }
        #expect(anchors.count == 2)
        #expect(try await VerifyService.checkDuties(store, anchors: anchors).isEmpty)
        var moved = anchors
        moved[a1.id]?.detail["amount_minor"] = "125000"
        moved[77] = ([:], 1)
        #expect(try await VerifyService.checkDuties(store, anchors: moved).map(\.code).sorted() == ["custody_duty_altered", "custody_duty_missing"])
    }

    /// F17 on every backend: advance data per piece imported like the other lists (refused rows
    /// with their codes, a file once, a later row in force), and R-AED's shares per origin.
    @Test(arguments: Backends.custodyAED)
    func advanceDataCompletenessPerOrigin(_ backend: Backend<any CustodyStore & CustodyFunnelStore & CustodyAdvanceDataStore & AuditLog>) async throws {
        let open = try await backend.open()
        defer { Task { await open.close() } }
        let store = open.store
        let tmp = try TempDir()
        defer { tmp.cleanup() }
        let (p1, p2, p3, p4) = (Self.s10("LX", 31, "CN"), Self.s10("LX", 32, "CN"), Self.s10("LX", 33, "CN"), Self.s10("EE", 34, "GB"))
        let file = tmp.url.appendingPathComponent("itmatt-20190618.csv")
        try Data("""
            item_id,origin_country,received_at,content_lines,hs_coded_lines,recipient,sender_post
            \(p1),CN,2019-06-17T20:00:00Z,2,2,yes,CNBJSA
            \(p2),CN,2019-06-18T15:00:00Z,1,0,no,CNBJSA
            \(p4),GB,2019-06-17T22:00:00Z,0,0,yes,GBLONA
            CN-2019-00042,CN,2019-06-18T09:00:00Z,3,1,yes,CNBJSA
            EB000717594HK,HK,2019-06-18T09:00:00Z,1,1,yes,HKHKGA
            \(p3),CN,2019-06-31T09:00:00Z,1,1,yes,CNBJSA
            \(p3),CN,2019-06-18T09:00:00Z,1,2,yes,CNBJSA
            \(p1),CN,2019-06-17T21:00:00Z,2,2,yes,CNBJSA
            \(p3),CN,2019-06-18T09:00:00Z,1,1,maybe,CNBJSA

            """.utf8).write(to: file)
        let service = AdvanceDataService(store: store)
        let dry = try await service.importFile(file, commit: false, actor: "tina")
        #expect(dry.rows == 9 && dry.accepted == 4 && dry.unknownColumns == ["sender_post"])
        #expect(dry.rejected.map(\.code) == ["S10_CHECK", "DATE_INVALID", "VALUE_UNKNOWN", "DUPLICATE", "VALUE_UNKNOWN"], "\(dry.rejected)")
        let done = try await service.importFile(file, commit: true, actor: "tina")
        #expect(done.stored?.added == 4 && !done.alreadyImported)
        #expect(try await service.importFile(file, commit: true, actor: "tina").alreadyImported)
        #expect(try await store.advanceData(importID: done.stored!.id).map(\.idScheme) == ["s10", "s10", "s10", "other"])

        _ = try await ReceiptService(store: store).addLocation(code: "RCV-1", name: "Dock", kind: .receiving, secured: true, alarmed: true, cctvCovered: true,
                                                               maxDwellHours: nil, actor: "supervisor")
        for item in [p1, p2, p3, p4] {
            _ = try await ReceiptService(store: store, now: Self.at("2019-06-18T11:00:00Z")).receive(item, location: "RCV-1", station: nil, clientScanID: nil,
                                                                                                   manualEntry: false, actor: "rita")
        }
        let (from, to, asOf) = (Self.millis("2019-06-18T00:00:00Z"), Self.millis("2019-06-19T00:00:00Z"), Self.millis("2019-06-25T00:00:00Z"))
        let r = try await service.report(from: from, to: to, asOf: asOf)
        #expect(r.origins.map(\.origin) == ["CN", "GB"])
        let cn = r.origins[0], gb = r.origins[1]
        #expect(cn.presented == 3 && cn.withAED == 2 && cn.inAdvance == 1 && cn.withContentLines == 2 && cn.fullyHSCoded == 1 && cn.withRecipient == 1 && cn.otherIDs == 1)
        #expect(cn.aedRate == 66.67 && cn.advanceRate == 33.33 && cn.hsRate == 33.33)
        #expect(gb.presented == 1 && gb.aedRate == 100 && gb.advanceRate == 100 && gb.contentRate == 0 && gb.recipientRate == 100)
        #expect(r.total.presented == 4 && r.total.aedRate == 75 && r.total.advanceRate == 50 && r.total.hsRate == 25 && r.total.otherIDs == 1)
        // As of before p2's data arrived, it has none.
        let early = try await service.report(from: from, to: to, asOf: Self.millis("2019-06-18T12:00:00Z"))
        #expect(early.origins[0].withAED == 1)
        // A corrected row is the one in force.
        let corrected = tmp.url.appendingPathComponent("itmatt-20190618-corrected.csv")
        try Data("item_id,origin_country,received_at,content_lines,hs_coded_lines,recipient\n\(p2),CN,2019-06-18T16:00:00Z,1,1,yes\n".utf8).write(to: corrected)
        _ = try await service.importFile(corrected, commit: true, actor: "tina")
        let after = try await service.report(from: from, to: to, asOf: asOf)
        #expect(after.origins[0].fullyHSCoded == 2 && after.origins[0].withRecipient == 2)
        // A backfill imported later but received earlier does not override the correction; p1's
        // data stays "in advance" though a later row for it arrives after the piece.
        let backfill = tmp.url.appendingPathComponent("itmatt-backfill.csv")
        try Data(("item_id,origin_country,received_at,content_lines,hs_coded_lines,recipient\n\(p2),CN,2019-06-18T10:00:00Z,1,0,no\n"
            + "\(p1),CN,2019-06-19T10:00:00Z,2,2,yes\n").utf8).write(to: backfill)
        _ = try await service.importFile(backfill, commit: true, actor: "tina")
        let later = try await service.report(from: from, to: to, asOf: asOf)
        #expect(later.origins[0].fullyHSCoded == 2 && later.origins[0].inAdvance == 2, "\(later.origins[0])") // p2's first data (10:00) came before it (11:00)
        #expect(try await store.advanceDataOutsideImports() == 0)
        // Per rule (F17 per rule, R3): of the pieces NARC-01 v1 targeted in the period, what share came with what.
        let targets = TargetImportService(store: store)
        _ = try await targets.addRule(CustodyFixtures.rules(for: .at2)[0], actor: "tina")
        let list = tmp.url.appendingPathComponent("targets.csv")
        try Data(("s10,rule_code,rule_version,reason_code,targeted_at,targeted_by\n"
            + [p1, p2, p4].map { "\($0),NARC-01,1,narcotics,2019-06-18T09:00:00Z,ATS" }.joined(separator: "\n") + "\n"
            + "\(p3),NARC-01,1,narcotics,2019-06-17T09:00:00Z,ATS\n").utf8).write(to: list) // p3 targeted the day before: not counted
        #expect(try await targets.commit(list, actor: "tina").stored?.added == 4)
        let perRule = try await service.report(from: from, to: to, asOf: asOf).rules
        #expect(perRule == [.init(rule: "NARC-01 v1", targeted: 3, withAED: 3, withContentLines: 2, fullyHSCoded: 2, withRecipient: 3, aedRate: 100,
                                  contentRate: 66.67, hsRate: 66.67, recipientRate: 100)], "\(perRule)")
        let table = try await CustodyReports(store: store).run(CustodyReportRequest(id: .aed, from: from, to: to, asOf: asOf)).table
        #expect(table.rows.last == ["all", "4", "3", "75.00", "3", "75.00", "2", "50.00", "2", "50.00", "3", "75.00", "1"], "\(table.rows)")
        #expect(table.rows.contains(["rule NARC-01 v1", "3", "3", "100.00", "", "", "2", "66.67", "2", "66.67", "3", "100.00", ""]), "\(table.rows)")

        var anchors: [Int64: (detail: [String: String], sequence: Int64)] = [:]
        for e in try await store.auditEntries(afterSequence: 0, limit: 10_000) where e.action == "custody.aed.import" {
            anchors[Int64(e.target.dropFirst("custody-import:".count))!] = (try JSONDecoder().decode([String: String].self, from: Data(e.detail.utf8)), e.sequence)
        }
        #expect(anchors.count == 3)
        #expect(try await VerifyService.checkAdvanceData(store, anchors: anchors).isEmpty)
        var moved = anchors
        moved[done.stored!.id]?.detail["digest"] = "0"
        #expect(try await VerifyService.checkAdvanceData(store, anchors: moved).map(\.code) == ["custody_import_altered"])
    }
}
