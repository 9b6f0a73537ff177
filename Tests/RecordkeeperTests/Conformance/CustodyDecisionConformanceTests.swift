@testable import Archive
import Custody
import Foundation
@testable import Recordkeeper
import RecordkeeperCore
import Testing

extension Backends {
    static let custodyDecisions: [Backend<any CustodyStore & CustodyPrivacyStore & CustodyReferralStore & CustodyDutyStore & AuditLog>] =
        all(sqlite: { $0 }, postgres: { $0 })
}

/// Issue 15 (CUSTODY.md §8 `export/cusrsp`) on every backend: what customs decided about each
/// piece, for the carrier — a day at a facility where one piece is held and referred, one seized,
/// one detained, one assessed and released, one untargeted piece released, and the next day's
/// target left out.
@Suite("CustodyStore conformance: the carrier's decisions (every backend)")
struct CustodyDecisionConformanceTests {
    static func millis(_ iso: String) -> Int64 { CustodyConformanceTests.millis(iso) }
    static func at(_ iso: String) -> @Sendable () -> Int64 { { millis(iso) } }

    @Test(arguments: Backends.custodyDecisions)
    func everyDecisionOfTheDayIsListedOnceInTimeOrder(_ backend: Backend<any CustodyStore & CustodyPrivacyStore & CustodyReferralStore & CustodyDutyStore & AuditLog>) async throws {
        let open = try await backend.open()
        defer { Task { await open.close() } }
        let store = open.store
        let tmp = try TempDir()
        defer { tmp.cleanup() }
        let receipts = ReceiptService(store: store)
        _ = try await receipts.addLocation(code: "HOLD-1", name: "Holding", kind: .holding, secured: true, alarmed: true, cctvCovered: true, maxDwellHours: nil, actor: "supervisor")
        _ = try await receipts.addLocation(code: "VAULT", name: "Seized property", kind: .seizedProperty, secured: true, alarmed: true, cctvCovered: true,
                                           maxDwellHours: nil, actor: "supervisor")
        let plants = "EB000717595HK", pills = "EE471108151FR", letter = "RR473124829GB", watch = "CK627623907IN", bulk = "EJ211039802AU",
            tomorrow = "LX806576725TW"
        // The day's targets (plants by two rules: one hold, from the earlier of its times), and the next day's.
        let imports = TargetImportService(store: store)
        for (code, category) in [("AGRI-01", TargetCategory.agriculture), ("NARC-01", .narcotics)] {
            _ = try await imports.addRule(TargetRule(code: code, version: 1, category: category, source: "ATS", description: "rule \(code)"), actor: "targeter")
        }
        let list = tmp.url.appendingPathComponent("targets.csv")
        try Data("""
            s10,rule_code,rule_version,reason_code,targeted_at,targeted_by,hold_requested_at
            \(plants),AGRI-01,1,agriculture,2019-06-03T06:00:00Z,ATS,2019-06-03T06:30:00Z
            \(plants),NARC-01,1,narcotics,2019-06-03T06:45:00Z,ATS,
            \(pills),NARC-01,1,narcotics,2019-06-03T06:10:00Z,ATS,
            \(tomorrow),NARC-01,1,narcotics,2019-06-04T06:00:00Z,ATS,

            """.utf8).write(to: list)
        #expect(try await imports.commit(list, actor: "targeter").stored?.added == 4)

        for item in [plants, pills, letter, watch] { try await CustodyPrivacyConformanceTests.inspected(store, item) } // received 08:00, inspected by 09:10
        _ = try await ReceiptService(store: store, now: Self.at("2019-06-03T08:05:00Z")).receive(bulk, location: "HOLD-1", station: nil, clientScanID: nil,
                                                                                               manualEntry: false, actor: "receiver")
        let referral = try await ReferralService(store: store, now: Self.at("2019-06-03T10:00:00Z")).refer(plants, agency: "USDA", method: "email",
                                                                                                        violation: "agriculture", actor: "otto")
        _ = try await SeizureService(store: store, now: Self.at("2019-06-03T10:30:00Z")).seize(pills, witness: "sue", violation: .narcotics, substance: "tablets",
                                                                                            netWeightGrams: 20, form6051S: "6051S-000001", storageLocation: "VAULT",
                                                                                            actor: "otto")
        _ = try await ReferralService(store: store, now: Self.at("2019-06-03T11:00:00Z")).recordCollection(referral.id, witness: nil, actor: "otto")
        _ = try await DetentionService(store: store, keyFile: tmp.url.appendingPathComponent("k"), now: Self.at("2019-06-03T11:30:00Z"))
            .detain(letter, violation: "prohibited", reason: "personal_use_prohibited", contents: "medicine", actor: "otto")
        _ = try await DutyService(store: store, now: Self.at("2019-06-03T12:00:00Z")).assess(watch, kind: "duty", amount: "12.5", entry: "ME-2019-0001", actor: "otto")
        let back = try await ScanService(store: store, now: Self.at("2019-06-03T13:00:00Z")).record([
            ScanService.Request(text: watch, action: .returnToCarrier(carrier: "USPS 4471", supervisor: nil, reason: nil), station: "DOCK"),
            ScanService.Request(text: bulk, action: .returnToCarrier(carrier: "USPS", supervisor: nil, reason: nil), station: "DOCK"),
        ], actor: "receiver")
        #expect(back.allSatisfy { if case .recorded = $0 { true } else { false } })

        let service = DecisionService(store: store)
        let (day, next) = (Self.millis("2019-06-03T00:00:00Z"), Self.millis("2019-06-04T00:00:00Z"))
        let r = try await service.report(from: day, to: next, asOf: Self.millis("2019-06-05T00:00:00Z"))
        #expect(r.tableRows == [
            [pills, "hold_requested", "2019-06-03T06:10:00.000Z", "", "", "", "", ""],
            [plants, "hold_requested", "2019-06-03T06:30:00.000Z", "", "", "", "", ""],
            [plants, "referred", "2019-06-03T10:00:00.000Z", "USDA", "", "", "", ""],
            [pills, "seized", "2019-06-03T10:30:00.000Z", "", "", "", "", ""],
            [plants, "handed_to_agency", "2019-06-03T11:00:00.000Z", "USDA", "", "", "", ""],
            [letter, "detained", "2019-06-03T11:30:00.000Z", "", "", "", "", ""],
            [watch, "duty_assessed", "2019-06-03T12:00:00.000Z", "", "duty", "12.50", "USD", "ME-2019-0001"],
            [watch, "released", "2019-06-03T13:00:00.000Z", "USPS 4471", "", "", "", ""],
            [bulk, "released", "2019-06-03T13:00:00.000Z", "USPS", "", "", "", ""],
        ])
        #expect(r.counts == ["hold_requested": 2, "referred": 1, "seized": 1, "handed_to_agency": 1, "detained": 1, "duty_assessed": 1, "released": 2])
        #expect(r.csv.hasPrefix("s10,decision,decided_at,party,kind,amount,currency,entry\r\n\(pills),hold_requested,2019-06-03T06:10:00.000Z,,,,,\r\n"))
        // Neither the rule nor the violation goes to the carrier.
        #expect(!r.csv.contains("AGRI") && !r.csv.contains("narcotics") && !r.csv.contains("agriculture"))

        // As of mid-morning, what was decided by then; the next day holds only its own target.
        let morning = try await service.report(from: day, to: next, asOf: Self.millis("2019-06-03T10:45:00Z"))
        #expect(morning.decisions.map(\.decision.rawValue) == ["hold_requested", "hold_requested", "referred", "seized"])
        let tomorrowRows = try await service.report(from: next, to: next + 86_400_000, asOf: Self.millis("2019-06-05T00:00:00Z"))
        #expect(tomorrowRows.tableRows == [[tomorrow, "hold_requested", "2019-06-04T06:00:00.000Z", "", "", "", "", ""]])
        // The same through the reports' table (page, CSV, JSON).
        let table = try await CustodyReports(store: store).run(CustodyReportRequest(id: .decisions, from: day, to: next, asOf: Self.millis("2019-06-05T00:00:00Z"))).table
        #expect(table.rows == r.tableRows && table.csv == r.csv)
        await #expect(throws: CustodyError.self) { _ = try await service.report(from: day, to: day + 32 * 86_400_000, asOf: next) }
        await #expect(throws: CustodyError.self) { _ = try await service.report(from: next, to: day, asOf: next) }
    }
}
