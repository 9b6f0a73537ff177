@testable import Archive
@testable import Custody
import Foundation
import GRDB
@testable import Recordkeeper
import RecordkeeperCore
import Testing

/// CUSTODY.md §7 P5: verify checks custody events behind the audit chain, holding only the anchors
/// and events not yet paired, over more than one page of each; a deleted, an unanchored and an
/// altered event are each named; anchors arriving out of order still pair.
@Suite("Verify: custody events checked behind the chain")
struct CustodyVerifyStreamTests {
    @Test func eventsArePairedWithTheirAnchorsPageByPage() async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let archive = try await makeArchive(tmp)
        let store = try #require(archive.store as? any CustodyStore)
        _ = try await ReceiptService(store: store).addLocation(code: "RCV-1", name: "Dock", kind: .receiving, secured: true, alarmed: true, cctvCovered: true,
                                                               maxDwellHours: nil, actor: "supervisor")
        var serials = CustodyBalanceConformanceTests.Serials(next: 60_000_000)
        let items = (0..<12_345).map { _ in serials.s10() }
        try await CustodyBalanceConformanceTests.scan(store, at: "2019-06-18T06:00:00Z", items, .receive(location: "RCV-1", presentation: nil))
        let clean = try await VerifyService(archive: archive).verify(actor: "auditor")
        #expect(clean.ok && clean.custodyEventsChecked == 12_345, "\(clean.problems)")

        // Anchors out of order still pair (a store whose writers interleave), and nothing is left over.
        var stream = CustodyEventStream(store: store)
        let events = try await store.custodyEvents(afterID: 0, limit: 10)
        for e in events.reversed() { stream.anchor(event: e.id, hash: e.hash, sequence: e.id) }
        try await stream.catchUp()
        let leftovers = try await stream.finish()
        #expect(leftovers.filter { $0.code != "custody_event_unanchored" }.isEmpty && leftovers.count == 12_345 - 10 && stream.checked == 12_345)

        let db = try DatabaseQueue(path: tmp.url.appendingPathComponent("data/archive.sqlite").path)
        try await db.write { db in
            for t in try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'custody_event'") {
                try db.execute(sql: "DROP TRIGGER \(t)")
            }
            try db.execute(sql: "DELETE FROM custody_event WHERE id = 6000")
            try db.execute(sql: "UPDATE custody_event SET actor = 'someone else' WHERE id = 11000")
            try db.execute(sql: """
                INSERT INTO custody_event (id, item_id, type, at, actor, to_location, station_id, manual_entry, hash)
                SELECT 20000, item_id, 'AUDIT_SEEN', at + 1, actor, to_location, station_id, 0, hash FROM custody_event WHERE id = 12345
                """)
        }
        let found = try await VerifyService(archive: archive).verify(actor: "auditor")
        #expect(found.problems.filter { $0.code.hasPrefix("custody_event") }.map { "\($0.code) \($0.item)" }.sorted() == [
            "custody_event_altered custody-event:11000", "custody_event_missing custody-event:6000", "custody_event_unanchored custody-event:20000"],
                "\(found.problems)")
    }
}
