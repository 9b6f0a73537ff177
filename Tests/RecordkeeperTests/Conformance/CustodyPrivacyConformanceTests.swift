@testable import Archive
import Custody
import Foundation
@testable import Recordkeeper
import RecordkeeperCore
import Testing

extension Backends {
    static let custodyPrivacy: [Backend<any CustodyStore & CustodyPrivacyStore & AuditLog>] = all(sqlite: { $0 }, postgres: { $0 })
}

/// Issue 15, AT6 of CUSTODY.md §6 on every backend: a detained item's addressee particulars are
/// sealed with a key outside the database, shown to a notice clerk (the read audited) and masked
/// for an officer; the privacy inventory lists exactly the particulars' fields with purpose and
/// retention; with a 30-day retention the purge removes them 30 days after the disposition, not a
/// second sooner, leaving a tombstone and a certificate; verify still passes; a read finds them purged.
@Suite("CustodyStore conformance: detentions and addressee privacy (every backend)")
struct CustodyPrivacyConformanceTests {
    static func millis(_ iso: String) -> Int64 { CustodyConformanceTests.millis(iso) }
    static func at(_ iso: String) -> @Sendable () -> Int64 { { millis(iso) } }

    static let clerk = UserAccount(name: "nina", displayName: "Nina Clerk", roles: [.noticeClerk], createdAt: "2019-01-01T00:00:00Z")
    static let officer = UserAccount(name: "otto", displayName: "Otto Officer", roles: [.custodyOfficer], createdAt: "2019-01-01T00:00:00Z")
    static let addressee = AddresseeParticulars(name: "Jane Q. Addressee", addressLines: ["1400 Example Avenue", "Apt 7B", "Springfield, IL"], postcode: "62704")

    /// Receives `s10` and inspects it (an anomaly: tablets) on 3 June 2019.
    static func inspected(_ store: any CustodyStore, _ s10: String) async throws { // (also used by the referral suite)
        _ = try await ReceiptService(store: store, now: at("2019-06-03T08:00:00Z")).receive(s10, location: "HOLD-1", station: nil, clientScanID: nil,
                                                                                        manualEntry: false, actor: "receiver")
        _ = try await InspectionService(store: store, now: at("2019-06-03T09:00:00Z")).start(s10, method: .xray, location: nil, station: "XR-1",
                                                                                          clientScanID: nil, actor: "otto")
        _ = try await InspectionService(store: store, now: at("2019-06-03T09:10:00Z")).end(s10, result: .anomaly, found: "blister packs of tablets",
                                                                                        substance: nil, equipment: "XR-1", station: "XR-1", clientScanID: nil,
                                                                                        actor: "otto")
    }

    @Test(arguments: Backends.custodyPrivacy)
    func at6TheAddresseeIsSealedMaskedAuditedAndPurgedOnItsRetention(_ backend: Backend<any CustodyStore & CustodyPrivacyStore & AuditLog>) async throws {
        let open = try await backend.open()
        defer { Task { await open.close() } }
        let store = open.store
        let tmp = try TempDir()
        defer { tmp.cleanup() }
        let keyFile = tmp.url.appendingPathComponent("keys/addressee.key")
        func service(_ iso: String) -> DetentionService { DetentionService(store: store, keyFile: keyFile, now: Self.at(iso)) }
        _ = try await ReceiptService(store: store).addLocation(code: "HOLD-1", name: "Holding", kind: .holding, secured: true, alarmed: true, cctvCovered: true,
                                                               maxDwellHours: nil, actor: "supervisor")
        let item = "EB000717595HK", other = "EE471108151FR"
        try await Self.inspected(store, item)
        try await Self.inspected(store, other)

        // An officer detains both; the controls of an outcome hold.
        await #expect(throws: CustodyError.self) { _ = try await service("2019-06-03T10:00:00Z").detain(item, violation: "prohibited", reason: "because", contents: "medicine", actor: "otto") }
        await #expect(throws: CustodyError.self) { _ = try await service("2019-06-03T10:00:00Z").detain(item, violation: "prohibited", reason: "personal_use_prohibited", contents: "Brand X 50 mg", actor: "otto") }
        let d = try await service("2019-06-03T10:00:00Z").detain(item, violation: "prohibited", reason: "personal_use_prohibited", contents: "medicine", actor: "otto")
        #expect(d.isOpen && d.noticeSentAtMillis == nil && d.s10 == item)
        await #expect(throws: ArchiveError.self) { _ = try await service("2019-06-03T10:05:00Z").detain(item, violation: "prohibited", reason: "other", contents: "other", actor: "otto") }
        let pending = try await service("2019-06-03T10:00:00Z").detain(other, violation: "agriculture", reason: "license_required", contents: "plant_material", actor: "otto")
        // A detained item does not go back to the carrier (state machine, control 7).
        let back = try await ScanService(store: store, now: Self.at("2019-06-03T11:00:00Z"))
            .record([ScanService.Request(text: item, action: .returnToCarrier(carrier: "USPS", supervisor: nil, reason: nil), witness: nil, station: "DOCK")], actor: "receiver")
        guard case .refused(let refusal) = back.first else { Issue.record("a detained item went back: \(back)"); return }
        #expect(refusal.code == "DETAINED")
        // A detention is a hit for R-EFF.
        #expect(try await store.inspectionsAndHits(s10s: [item], asOf: Self.millis("2019-06-04T00:00:00Z"))[item]?.violation == "prohibited")

        // R-DET: both wait for their notice.
        let queue = try await DetentionService.queue(store, from: Self.millis("2019-06-01T00:00:00Z"), to: Self.millis("2019-07-01T00:00:00Z"),
                                                     asOf: Self.millis("2019-06-04T10:00:00Z"))
        #expect(queue.noticePending.map(\.s10) == [item, other] && queue.noticePending[0].ageHours == 24 && queue.pastDue.isEmpty)

        // The clerk sends the notice; the particulars are sealed with a new owner-only key.
        let (noticed, text) = try await service("2019-06-04T09:00:00Z").sendNotice(d.id, to: Self.addressee, actor: "nina")
        #expect(noticed.responseDueAtMillis == Self.millis("2019-07-04T09:00:00Z") && text.contains("Jane Q. Addressee") && text.contains(item))
        let mode = try FileManager.default.attributesOfItem(atPath: keyFile.path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let seals = try await store.addresseeSeals()
        #expect(seals.count == 1)
        let sealedBytes = try #require(Data(base64Encoded: seals[0].addressee.sealed))
        #expect(sealedBytes.range(of: Data("Jane".utf8)) == nil && sealedBytes.range(of: Data("62704".utf8)) == nil) // not in the database in clear
        await #expect(throws: ArchiveError.self) { _ = try await service("2019-06-04T09:01:00Z").sendNotice(d.id, to: Self.addressee, actor: "nina") }

        // The clerk reads them (audited); the officer sees them masked (nothing read, nothing opened).
        let before = try await store.auditEntries(target: "custody-detention:\(d.id)", limit: 100).filter { $0.action == "custody.pii.read" }.count
        let shown = try await service("2019-06-04T09:05:00Z").view(d.id, reader: Self.clerk, actor: "nina", purpose: "notice")
        #expect(shown.addressee == .shown(Self.addressee))
        let masked = try await service("2019-06-04T09:06:00Z").view(d.id, reader: Self.officer, actor: "otto", purpose: "inquiry")
        #expect(masked.addressee == .masked)
        let reads = try await store.auditEntries(target: "custody-detention:\(d.id)", limit: 100).filter { $0.action == "custody.pii.read" }
        #expect(reads.count == before + 1 && reads.last?.actor == "nina" && reads.last?.detail.contains("notice") == true)
        for e in try await store.auditEntries(afterSequence: 0, limit: 10_000) { #expect(!e.detail.contains("Jane") && !e.detail.contains("62704")) }
        // Without the key nothing opens, and no new key is made while sealed records exist.
        let elsewhere = DetentionService(store: store, keyFile: tmp.url.appendingPathComponent("other/addressee.key"), now: Self.at("2019-06-04T09:07:00Z"))
        await #expect(throws: CustodyError.self) { _ = try await elsewhere.view(d.id, reader: Self.clerk, actor: "nina", purpose: "notice") }
        await #expect(throws: CustodyError.self) { _ = try await elsewhere.sendNotice(pending.id, to: Self.addressee, actor: "nina") }

        // No answer: abandoned only once the answer period has run out, destroyed with a witness.
        _ = try await service("2019-06-20T09:00:00Z").recordResponse(d.id, response: "none", actor: "nina")
        // "Answer by 4 July 09:00": at 09:00 the period has not run out yet.
        await #expect(throws: ArchiveError.self) { _ = try await service("2019-07-04T09:00:00Z").dispose(d.id, disposition: "abandoned_destroyed", witness: "maria", actor: "otto") }
        await #expect(throws: ArchiveError.self) { _ = try await service("2019-07-04T09:00:01Z").dispose(d.id, disposition: "abandoned_destroyed", witness: "otto", actor: "otto") }
        let onTheDay = try await DetentionService.queue(store, from: Self.millis("2019-06-01T00:00:00Z"), to: Self.millis("2019-07-01T00:00:00Z"),
                                                        asOf: Self.millis("2019-07-04T09:00:00Z"))
        #expect(onTheDay.pastDue.isEmpty)
        let pastDue = try await DetentionService.queue(store, from: Self.millis("2019-06-01T00:00:00Z"), to: Self.millis("2019-07-01T00:00:00Z"),
                                                       asOf: Self.millis("2019-07-04T09:00:01Z"))
        #expect(pastDue.pastDue.map(\.s10) == [item] && pastDue.noticePending.map(\.s10) == [other])
        let disposed = try await service("2019-07-04T09:00:01Z").dispose(d.id, disposition: "abandoned_destroyed", witness: "maria", actor: "otto")
        #expect(disposed.disposition == "abandoned_destroyed" && disposed.disposedAtMillis == Self.millis("2019-07-04T09:00:01Z"))
        #expect(try await store.custodyEvents(s10: item).last?.type == "DESTROYED")
        #expect(try await store.custodyItemsClosedWithoutEvent(limit: 10).isEmpty)

        // The privacy officer sets 30 days. The inventory lists exactly the particulars' fields.
        try await service("2019-07-04T10:00:00Z").setRetention(days: 30, reason: "notice and petition windows are over at disposition", actor: "pia")
        let inventory = try await service("2019-07-04T10:00:00Z").inventory()
        #expect(inventory.elements.map(\.field) == ["name", "address_lines", "postcode"] && inventory.elements.allSatisfy { !$0.purpose.isEmpty })
        #expect(inventory.retentionDays == 30 && inventory.recordsHeld == 1 && inventory.recordsPurged == 0 && inventory.access == ["notice-clerk", "privacy-officer"])

        // 30 days after the disposition less a second: nothing due. At 30 days: purged.
        let early = try await service("2019-08-03T09:00:00Z").purge(actor: "pia", dryRun: false)
        #expect(early.due.isEmpty && early.purge == nil)
        let dry = try await service("2019-08-03T09:00:01Z").purge(actor: "pia", dryRun: true)
        let heldBefore = try await store.addresseeCounts().held
        #expect(dry.due.map(\.detentionID) == [d.id] && dry.purge == nil && heldBefore == 1)
        let done = try await service("2019-08-03T09:00:01Z").purge(actor: "pia", dryRun: false)
        let purge = try #require(done.purge)
        #expect(purge.count == 1 && done.due.first?.sealedSHA256 == seals[0].addressee.sealedSHA256)
        #expect(purge.certificate.contains(purge.digest) && purge.certificate.contains(item) && !purge.certificate.contains("Jane"))
        #expect(purge.digest == AddresseeTombstone.digest(try await store.addresseeTombstones(purgeID: purge.id)))
        let counts = try await store.addresseeCounts()
        #expect(counts.held == 0 && counts.purged == 1)
        let again = try await service("2019-08-04T00:00:00Z").purge(actor: "pia", dryRun: false)
        #expect(again.purge == nil) // once

        // Reading it now: purged, with the tombstone; verify's checks find nothing wrong.
        let gone = try await service("2019-08-04T00:00:00Z").view(d.id, reader: Self.clerk, actor: "nina", purpose: "notice")
        guard case .purged(let t) = gone.addressee else { Issue.record("read after purge: \(gone.addressee)"); return }
        #expect(t.purgeID == purge.id && t.sealedSHA256 == seals[0].addressee.sealedSHA256)
        var anchors: [Int64: [String: [String: String]]] = [:]
        var purgeAnchors: [Int64: (detail: [String: String], sequence: Int64)] = [:]
        for e in try await store.auditEntries(afterSequence: 0, limit: 10_000) {
            let detail = try JSONDecoder().decode([String: String].self, from: Data(e.detail.utf8))
            if e.target.hasPrefix("custody-detention:"), e.action != "custody.pii.read" {
                anchors[Int64(e.target.dropFirst("custody-detention:".count))!, default: [:]][e.action] = detail.merging(["by": e.actor]) { a, _ in a }
            }
            if e.action == "custody.pii.purge" { purgeAnchors[Int64(e.target.dropFirst("custody-pii-purge:".count))!] = (detail, e.sequence) }
        }
        #expect(try await VerifyService.checkDetentions(store, anchors: anchors, purgeAnchors: purgeAnchors).isEmpty)
        // A purge the log recorded but the database lost, or a notice whose particulars vanished, is found.
        var lost = purgeAnchors
        lost[99] = (["digest": "x", "count": "1"], 1)
        var vanished = anchors
        vanished[pending.id, default: [:]]["custody.detention.notice"] = ["sealed_sha256": "ab"]
        let found = try await VerifyService.checkDetentions(store, anchors: vanished, purgeAnchors: lost).map(\.code)
        #expect(found.contains("custody_purge_missing") && found.contains("custody_addressee_missing") && found.contains("custody_detention_altered"))
        // A changed certificate or retention setting is found too.
        let altered = try await VerifyService.checkDetentions(store, anchors: anchors, purgeAnchors: purgeAnchors, settingAnchor: "365").map(\.code)
        #expect(altered == ["custody_setting_altered"])
    }
}
