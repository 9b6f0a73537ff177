@testable import Archive
import Custody
import Foundation
@testable import Recordkeeper
import RecordkeeperCore
import Testing

extension Backends {
    static let custodyReferrals: [Backend<any CustodyStore & CustodyReferralStore & AuditLog>] = all(sqlite: { $0 }, postgres: { $0 })
}

/// Issue 15 (F7, R-REF) on every backend: referrals to other agencies, chased by an alert when the
/// agency does not answer, closed once by a collection (the item leaves custody) or a refusal,
/// reported by agency with the time to collect, and checked by verify.
@Suite("CustodyStore conformance: referrals to other agencies (every backend)")
struct CustodyReferralConformanceTests {
    static func millis(_ iso: String) -> Int64 { CustodyConformanceTests.millis(iso) }
    static func at(_ iso: String) -> @Sendable () -> Int64 { { millis(iso) } }

    @Test(arguments: Backends.custodyReferrals)
    func referralsAreChasedClosedOnceAndReported(_ backend: Backend<any CustodyStore & CustodyReferralStore & AuditLog>) async throws {
        let open = try await backend.open()
        defer { Task { await open.close() } }
        let store = open.store
        _ = try await ReceiptService(store: store).addLocation(code: "HOLD-1", name: "Holding", kind: .holding, secured: true, alarmed: true, cctvCovered: true,
                                                               maxDwellHours: nil, actor: "supervisor")
        let plants = "EB000717595HK", pills = "EE471108151FR", letter = "RR473124829GB"
        for item in [plants, pills, letter] { try await CustodyPrivacyConformanceTests.inspected(store, item) }
        func service(_ iso: String) -> ReferralService { ReferralService(store: store, now: Self.at(iso)) }

        await #expect(throws: CustodyError.self) { _ = try await service("2019-06-03T10:00:00Z").refer(plants, agency: "NASA", method: "email", violation: nil, actor: "otto") }
        // An outcome follows the end of the inspection (09:10), not its start (09:00).
        do {
            _ = try await service("2019-06-03T09:05:00Z").refer(plants, agency: "USDA", method: "email", violation: nil, actor: "otto")
            Issue.record("a referral preceded the end of the inspection")
        } catch let e as ArchiveError { #expect(e.message.hasPrefix("DATE_ORDER")) }
        let usda = try await service("2019-06-03T10:00:00Z").refer(plants, agency: "usda", method: "email", violation: "agriculture", actor: "otto")
        #expect(usda.agency == "USDA" && usda.isOpen)
        await #expect(throws: ArchiveError.self) { _ = try await service("2019-06-03T10:01:00Z").refer(plants, agency: "FDA", method: "phone", violation: nil, actor: "otto") }
        let fda = try await service("2019-06-03T11:00:00Z").refer(pills, agency: "FDA", method: "portal", violation: nil, actor: "otto")
        // A referred item does not go back to the carrier, nor to an agency by a bare scan.
        let out = try await ScanService(store: store, now: Self.at("2019-06-03T12:00:00Z")).record([
            ScanService.Request(text: plants, action: .returnToCarrier(carrier: "USPS", supervisor: nil, reason: nil), station: "DOCK"),
            ScanService.Request(text: pills, action: .toAgency(agency: "FDA"), station: "DOCK"),
        ], actor: "receiver")
        #expect(out.map { if case .refused(let r) = $0 { r.code } else { "recorded" } } == ["REFERRED", "REFERRED"])
        // A detained item is not referred (its notice comes first); the detention's own path decides it.
        let privacy = try #require(store as? any CustodyStore & CustodyPrivacyStore)
        let tmp = try TempDir()
        defer { tmp.cleanup() }
        _ = try await DetentionService(store: privacy, keyFile: tmp.url.appendingPathComponent("k"), now: Self.at("2019-06-03T11:30:00Z"))
            .detain(letter, violation: "prohibited", reason: "personal_use_prohibited", contents: "medicine", actor: "otto")
        do {
            _ = try await service("2019-06-03T11:40:00Z").refer(letter, agency: "FDA", method: "phone", violation: nil, actor: "otto")
            Issue.record("a detained item was referred")
        } catch let e as ArchiveError { #expect(e.code == .refused && e.message.hasPrefix("DETAINED")) }
        // A referral for a violation is a hit; one without is not.
        let hits = try await store.inspectionsAndHits(s10s: [plants, pills, letter], asOf: Self.millis("2019-06-04T00:00:00Z"))
        #expect(hits[plants]?.violation == "agriculture" && hits[pills]?.hitAtMillis == nil)
        // R-EFF, counted in the database, takes the same hits: the referral for a violation and the detention.
        let imports = TargetImportService(store: store)
        _ = try await imports.addRule(TargetRule(code: "AGRI-01", version: 1, category: .agriculture, source: "ATS", description: "Plant material"),
                                      actor: "targeter")
        let list = tmp.url.appendingPathComponent("targets.csv")
        try Data(("s10,rule_code,rule_version,reason_code,targeted_at,targeted_by\n"
                  + [plants, pills, letter].map { "\($0),AGRI-01,1,agriculture,2019-06-01T09:00:00Z,ATS\n" }.joined()).utf8).write(to: list)
        #expect(try await imports.commit(list, actor: "targeter").stored?.added == 3)
        let (from, to) = (Self.millis("2019-06-01T00:00:00Z"), Self.millis("2019-06-02T00:00:00Z"))
        for moment in ["2019-06-03T10:30:00Z", "2019-06-04T00:00:00Z"] {
            try await expectEffectivenessAgreesWithPerTargetReads(store, from: from, to: to, asOf: Self.millis(moment))
        }
        let eff = try await ReconciliationService(store: store).effectiveness(from: from, to: to, asOf: Self.millis("2019-06-04T00:00:00Z"))
        #expect(eff.total.hits == 2 && eff.total.hitsByViolation == ["agriculture": 1, "prohibited": 1])

        // Three days without an answer: an alert for each; the USDA answers, so only the FDA's remains.
        let chased = try await AlertService(store: store).alerts(asOf: Self.millis("2019-06-06T11:00:00Z")).filter { $0.kind == "referral" }
        #expect(chased.map(\.s10) == [plants, pills])
        _ = try await service("2019-06-06T12:00:00Z").recordResponse(usda.id, note: "Inspector will collect Friday", actor: "otto")
        await #expect(throws: ArchiveError.self) { _ = try await service("2019-06-06T12:05:00Z").recordResponse(usda.id, note: nil, actor: "otto") }
        let later = try await AlertService(store: store).alerts(asOf: Self.millis("2019-06-06T13:00:00Z")).filter { $0.kind == "referral" }
        #expect(later.map(\.s10) == [pills])

        // The USDA collects (the episode ends with a TO_AGENCY event); the FDA declines, with its reason.
        let collected = try await service("2019-06-07T09:30:00Z").recordCollection(usda.id, witness: nil, actor: "otto")
        #expect(collected.collectedAtMillis == Self.millis("2019-06-07T09:30:00Z") && !collected.isOpen)
        let events = try await store.custodyEvents(s10: plants)
        #expect(events.last?.type == "TO_AGENCY" && events.last?.detail == "agency=USDA referral=\(usda.id)")
        #expect(try await store.custodyItemsClosedWithoutEvent(limit: 10).isEmpty)
        await #expect(throws: ArchiveError.self) { _ = try await service("2019-06-07T10:00:00Z").recordDecline(usda.id, reason: "changed mind", actor: "otto") }
        await #expect(throws: ArchiveError.self) { _ = try await service("2019-06-07T10:00:00Z").recordDecline(fda.id, reason: "  ", actor: "otto") }
        _ = try await service("2019-06-07T10:00:00Z").recordDecline(fda.id, reason: "Personal quantity; release to addressee", actor: "otto")
        // Declined: the item may now go back to the carrier.
        let back = try await ScanService(store: store, now: Self.at("2019-06-07T11:00:00Z")).record([
            ScanService.Request(text: pills, action: .returnToCarrier(carrier: "USPS", supervisor: nil, reason: nil), station: "DOCK")], actor: "receiver")
        #expect({ if case .recorded = back[0] { true } else { false } }())

        // R-REF: by agency, with the time to collect; as of before the collection, the USDA's is open.
        let report = try await ReferralService.report(store, from: Self.millis("2019-06-01T00:00:00Z"), to: Self.millis("2019-07-01T00:00:00Z"),
                                                      asOf: Self.millis("2019-06-08T00:00:00Z"))
        #expect(report.open.isEmpty && report.agencies.map(\.agency) == ["FDA", "USDA"])
        #expect(report.agencies[1].collected == 1 && report.agencies[1].medianHoursToCollect == 95.5 && report.agencies[0].declined == 1)
        let before = try await ReferralService.report(store, from: Self.millis("2019-06-01T00:00:00Z"), to: Self.millis("2019-07-01T00:00:00Z"),
                                                      asOf: Self.millis("2019-06-05T00:00:00Z"))
        #expect(before.open.map(\.s10) == [plants, pills] && before.open.allSatisfy { !$0.answered })

        // Verify: as recorded; a changed step is named.
        var anchors: [Int64: [String: [String: String]]] = [:]
        for e in try await store.auditEntries(afterSequence: 0, limit: 10_000) where e.target.hasPrefix("custody-referral:") {
            let detail = try JSONDecoder().decode([String: String].self, from: Data(e.detail.utf8))
            anchors[Int64(e.target.dropFirst("custody-referral:".count))!, default: [:]][e.action] = detail.merging(["by": e.actor]) { a, _ in a }
        }
        #expect(try await VerifyService.checkReferrals(store, anchors: anchors).isEmpty)
        var moved = anchors
        moved[usda.id]?["custody.referral.collected"]?["at"] = "0"
        moved[99] = ["custody.refer": [:]]
        let found = try await VerifyService.checkReferrals(store, anchors: moved).map(\.code)
        #expect(found.sorted() == ["custody_referral_altered", "custody_referral_missing"])
    }

    /// R-WORK on every backend: inspections by officer, method and equipment with their time.
    @Test(arguments: Backends.custodyReferrals)
    func theWorkloadReportCountsInspectionsAndTheirTime(_ backend: Backend<any CustodyStore & CustodyReferralStore & AuditLog>) async throws {
        let open = try await backend.open()
        defer { Task { await open.close() } }
        let store = open.store
        _ = try await ReceiptService(store: store).addLocation(code: "HOLD-1", name: "Holding", kind: .holding, secured: true, alarmed: true, cctvCovered: true,
                                                               maxDwellHours: nil, actor: "supervisor")
        // otto: x-ray 10 min on XR-1, x-ray 30 min on XR-1; ana: canine 20 min, no equipment (the first, 06-03, is outside the period).
        let plan: [(String, String, InspectionService.Method, String?, String, String, InspectionService.Result)] = [
            ("EB000717595HK", "otto", .xray, "XR-1", "2019-06-10T09:00:00Z", "2019-06-10T09:10:00Z", .noAnomaly),
            ("EE471108151FR", "otto", .xray, "XR-1", "2019-06-10T10:00:00Z", "2019-06-10T10:30:00Z", .anomaly),
            ("RR473124829GB", "ana", .canine, nil, "2019-06-11T08:00:00Z", "2019-06-11T08:20:00Z", .noAnomaly),
        ]
        for (item, officer, method, equipment, start, end, result) in plan {
            _ = try await ReceiptService(store: store, now: Self.at("2019-06-03T08:00:00Z")).receive(item, location: "HOLD-1", station: nil, clientScanID: nil,
                                                                                                 manualEntry: false, actor: "receiver")
            _ = try await InspectionService(store: store, now: Self.at(start)).start(item, method: method, location: nil, station: nil, clientScanID: nil, actor: officer)
            _ = try await InspectionService(store: store, now: Self.at(end)).end(item, result: result, found: result == .noAnomaly ? nil : "Tablets", substance: nil,
                                                                              equipment: equipment, station: nil, clientScanID: nil, actor: officer)
        }
        let r = try await WorkloadService(store: store).report(from: Self.millis("2019-06-10T00:00:00Z"), to: Self.millis("2019-06-12T00:00:00Z"))
        #expect(r.inspections == 3)
        let otto = try #require(r.byOfficer.first { $0.key == "otto" })
        #expect(otto.inspections == 2 && abs(otto.examHours - 40.0 / 60) < 1e-9 && otto.perExamHour == 3 && otto.medianMinutes == 20 && otto.findings == 1)
        #expect(r.byMethod.map(\.key) == ["xray", "canine"] && r.byEquipment.map(\.key) == ["XR-1", "(none)"])
        let later = try await WorkloadService(store: store).report(from: Self.millis("2019-06-11T00:00:00Z"), to: Self.millis("2019-06-12T00:00:00Z"))
        #expect(later.inspections == 1 && later.byOfficer.map(\.key) == ["ana"])
    }
}
