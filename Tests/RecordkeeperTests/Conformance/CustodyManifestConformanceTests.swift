@testable import Archive
@testable import Custody
import Foundation
@testable import Recordkeeper
import RecordkeeperCore
import Testing

extension Backends {
    static let custodyManifests: [Backend<any CustodyStore & CustodyManifestStore & AuditLog>] = all(sqlite: { $0 }, postgres: { $0 })
}

/// Issue 15 (F14; CUSTODY.md §4.2 "a manifest, when present, is reconciled against it per
/// container") on every backend: the carrier's manifest imported like a target list, then R-MAN
/// names, container by container, what was listed and not scanned into it (and where it was
/// scanned instead) and what was scanned and not listed; verify checks the imports.
@Suite("CustodyStore conformance: carrier manifests per container (every backend)")
struct CustodyManifestConformanceTests {
    static func millis(_ iso: String) -> Int64 { CustodyConformanceTests.millis(iso) }
    typealias Serials = CustodyBalanceConformanceTests.Serials

    @Test(arguments: Backends.custodyManifests)
    func aManifestIsReconciledContainerByContainer(_ backend: Backend<any CustodyStore & CustodyManifestStore & AuditLog>) async throws {
        let open = try await backend.open()
        defer { Task { await open.close() } }
        let store = open.store
        let tmp = try TempDir()
        defer { tmp.cleanup() }
        try await CustodyBalanceConformanceTests.register(store)
        func scans(_ iso: String) -> ScanService { ScanService(store: store, now: { Self.millis(iso) }) }
        var serials = Serials(next: 51_000_000)
        let (a1, a2, a3, a4, m1, b1, b2, c1, x1) = (serials.s10(), serials.s10(), serials.s10(), serials.s10(), serials.s10(), serials.s10(), serials.s10(),
                                                    serials.s10("HK"), serials.s10())

        // The carrier's list: APC-7 (one line in lower case), APC-9; the refused lines with their codes.
        let file = tmp.url.appendingPathComponent("gbs-holdlist-20190618.csv")
        let badCheck = String(a1.prefix(10)) + String((Int(String(a1[a1.index(a1.startIndex, offsetBy: 10)]))! + 1) % 10) + "CN"
        try Data("""
            date,container_id,s10,hold_reason
            2019-06-18,APC-7,\(a1),CBP
            2019-06-18,APC-7,\(a2),CBP
            2019-06-18,apc-7,\(a3),CBP
            2019-06-18,APC-7,\(a4),CBP
            2019-06-18,APC-7,\(m1),CBP
            2019-06-18,APC-7,\(b2),CBP
            2019-06-18,APC-9,\(c1),CBP
            2019-06-18,APC-7,\(a1.lowercased()),CBP
            2019-06-31,APC-7,\(a1),CBP
            2019-06-18,APC 7!,\(a1),CBP
            2019-06-18,APC-7,\(badCheck),CBP
            2019-06-18,APC-7,hello,CBP
            2019-06-18,,\(a1),CBP

            """.utf8).write(to: file)
        let service = ManifestService(store: store)
        let dry = try await service.importFile(file, commit: false, actor: "rita")
        #expect(dry.rows == 13 && dry.accepted == 7 && dry.unknownColumns == ["hold_reason"] && dry.stored == nil)
        #expect(dry.rejected.map(\.code) == ["DUPLICATE", "DATE_INVALID", "CONTAINER_FORMAT", "S10_CHECK", "S10_FORMAT", "REQUIRED_MISSING"], "\(dry.rejected)")
        #expect(try await store.manifestImports().isEmpty)
        let done = try await service.importFile(file, commit: true, actor: "rita")
        #expect(done.stored?.added == 7 && done.stored?.rejected == 6 && !done.alreadyImported)
        #expect(try await service.importFile(file, commit: true, actor: "rita").alreadyImported)
        #expect(try await store.manifestImports().count == 1)
        // The same bytes as the other direction's list: refused, not "already imported".
        await #expect(throws: CustodyError.self) { _ = try await service.importFile(file, direction: "out", commit: true, actor: "rita") }

        // What was scanned: APC-7 holds a1–a4 and x1 (not listed); b2 went into APC-8 with b1 (no
        // manifest for it); c1 was received at the counter, without a container; m1 never came.
        let apc7 = try await scans("2019-06-18T06:00:00Z").openContainer("APC-7", carrier: "USPS", seal: nil, declared: 6, presentedBy: "J. Carrier",
                                                                        badge: nil, location: "RCV-1", station: nil, actor: "rita")
        try await CustodyBalanceConformanceTests.scan(store, at: "2019-06-18T06:10:00Z", [a1, a2, a3, a4, x1], .receive(location: "RCV-1", presentation: apc7.id))
        let apc8 = try await scans("2019-06-18T07:00:00Z").openContainer("APC-8", carrier: "USPS", seal: nil, declared: 2, presentedBy: "J. Carrier",
                                                                        badge: nil, location: "RCV-1", station: nil, actor: "rita")
        try await CustodyBalanceConformanceTests.scan(store, at: "2019-06-18T07:10:00Z", [b1, b2], .receive(location: "RCV-1", presentation: apc8.id))
        try await CustodyBalanceConformanceTests.scan(store, at: "2019-06-18T08:00:00Z", [c1], .receive(location: "RCV-1", presentation: nil))

        let (from, to, asOf) = (Self.millis("2019-06-18T00:00:00Z"), Self.millis("2019-06-19T00:00:00Z"), Self.millis("2019-06-20T00:00:00Z"))
        let r = try await service.report(from: from, to: to, asOf: asOf)
        #expect(r.containers.map { "\($0.container) \($0.presentations)" } == ["APC-7 [\(apc7.id)]", "APC-9 []"])
        let c7 = r.containers[0], c9 = r.containers[1]
        #expect(c7.listed == 6 && c7.scanned == 5 && c7.matched == 4 && c7.declared == 6 && c7.manifestImport == done.stored!.id)
        #expect(c7.missing == [
            .init(s10: m1, whereabouts: "not_scanned", at: nil, presentation: nil, container: nil),
            .init(s10: b2, whereabouts: "other_container", at: "2019-06-18T07:10:00.000Z", presentation: apc8.id, container: "APC-8"),
        ].sorted { $0.s10 < $1.s10 }, "\(c7.missing)")
        #expect(c7.unlisted.map(\.s10) == [x1])
        #expect(c9.presentations.isEmpty && c9.declared == nil && c9.missing.map(\.whereabouts) == ["no_container"])
        #expect(r.withoutManifest.map { "\($0.container) \($0.presentation) \($0.scanned)/\($0.declared)" } == ["APC-8 \(apc8.id) 2/2"])
        #expect(r.totals == .init(containers: 2, neverPresented: 1, listed: 7, matched: 4, missing: 3, scannedElsewhere: 2, unlisted: 1, withoutManifest: 1))
        // As of before the scans, nothing listed was scanned.
        let early = try await service.report(from: from, to: to, asOf: Self.millis("2019-06-18T06:05:00Z"))
        #expect(early.totals.matched == 0 && early.totals.missing == 7 && early.totals.scannedElsewhere == 0 && early.totals.withoutManifest == 0)
        // By whole UTC days: a period from 04:00 would drop the day's containers without a word.
        await #expect(throws: CustodyError.self) { _ = try await service.report(from: from + 4 * 3_600_000, to: to, asOf: asOf) }
        // Another day's report does not see this manifest.
        #expect(try await service.report(from: to, to: to + 86_400_000, asOf: asOf).containers.isEmpty)

        // A corrected list for APC-7 (the carrier adds x1, drops m1) is the one in force; APC-9's stays.
        let corrected = tmp.url.appendingPathComponent("gbs-holdlist-20190618-corrected.csv")
        try Data("date,container_id,s10\n2019-06-18,APC-7,\(a1)\n2019-06-18,APC-7,\(a2)\n2019-06-18,APC-7,\(a3)\n2019-06-18,APC-7,\(a4)\n2019-06-18,APC-7,\(x1)\n".utf8)
            .write(to: corrected)
        let second = try await service.importFile(corrected, commit: true, actor: "rita")
        let after = try await service.report(from: from, to: to, asOf: asOf)
        #expect(after.containers[0].manifestImport == second.stored!.id && after.containers[0].replacedImports == [done.stored!.id])
        #expect(after.containers[0].missing.isEmpty && after.containers[0].unlisted.isEmpty && after.containers[0].matched == 5)
        #expect(after.totals.missing == 1 && after.containers[1].container == "APC-9")

        // A return batch and the driver's list of what he took: one listed piece went back without the batch.
        for item in [a1, a2] {
            _ = try await InspectionService(store: store, now: { Self.millis("2019-06-18T09:00:00Z") }).start(
                item, method: .xray, location: "EXAM-1", station: nil, clientScanID: nil, actor: "officer")
            _ = try await InspectionService(store: store, now: { Self.millis("2019-06-18T09:05:00Z") }).end(
                item, result: .noAnomaly, found: nil, substance: nil, equipment: nil, station: nil, clientScanID: nil, actor: "officer")
        }
        let batch = try await scans("2019-06-18T17:00:00Z").openContainer("RET-3", carrier: "USPS", seal: nil, declared: 2, presentedBy: "K. Driver",
                                                                         badge: nil, location: "DOCK-1", station: nil, direction: "out", actor: "rita")
        try await CustodyBalanceConformanceTests.scan(store, at: "2019-06-18T17:10:00Z", [a1],
                                                      .returnToCarrier(carrier: "USPS", supervisor: nil, reason: nil, batch: batch.id))
        try await CustodyBalanceConformanceTests.scan(store, at: "2019-06-18T17:20:00Z", [a2], .returnToCarrier(carrier: "USPS", supervisor: nil, reason: nil))
        let driver = tmp.url.appendingPathComponent("return-20190618.csv")
        try Data("date,container_id,s10\n2019-06-18,RET-3,\(a1)\n2019-06-18,RET-3,\(a2)\n2019-06-18,RET-3,\(a3)\n".utf8).write(to: driver)
        _ = try await service.importFile(driver, direction: "out", commit: true, actor: "rita")
        let returns = try await service.report(from: from, to: to, asOf: asOf)
        let ret = try #require(returns.containers.first { $0.direction == "out" })
        #expect(ret.container == "RET-3" && ret.presentations == [batch.id] && ret.matched == 1)
        #expect(ret.missing.map { "\($0.s10) \($0.whereabouts)" } == [a2, a3].sorted().map { $0 == a2 ? "\(a2) no_container" : "\(a3) not_scanned" })
        #expect(ret.missing.first { $0.s10 == a3 }?.text(direction: "out") == "not returned")

        // The table the web page, the CSV and the API show.
        let table = try await CustodyReports(store: store).run(CustodyReportRequest(id: .manifests, from: from, to: to, asOf: asOf)).table
        #expect(table.rows.filter { $0[0] == "listed, not in batch" }.count == 2 && table.rows.contains { $0[0] == "never presented" && $0[2] == "APC-9" })
        #expect(table.rows.contains { $0 == ["no manifest", "2019-06-18", "APC-8", "in", String(apc8.id), "", "", "2", "2", ""] })

        // Verify: each import as its audit entry recorded it.
        var anchors: [Int64: (detail: [String: String], sequence: Int64)] = [:]
        for e in try await store.auditEntries(afterSequence: 0, limit: 10_000) where e.action == "custody.manifest.import" {
            anchors[Int64(e.target.dropFirst("custody-import:".count))!] = (try JSONDecoder().decode([String: String].self, from: Data(e.detail.utf8)), e.sequence)
        }
        #expect(anchors.count == 3)
        #expect(try await VerifyService.checkManifests(store, anchors: anchors).isEmpty)
        var moved = anchors
        moved[done.stored!.id]?.detail["digest"] = "0"
        moved[999] = (["digest": "x"], 1)
        #expect(try await VerifyService.checkManifests(store, anchors: moved).map(\.code).sorted() == ["custody_import_altered", "custody_import_missing"])
        #expect(try await store.manifestRowsOutsideImports() == 0)
    }
}
