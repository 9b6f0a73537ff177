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
        // An entry naming an event already paired (a forged one) is said to be that, not a missing event.
        var twice = CustodyEventStream(store: store)
        twice.anchor(event: events[0].id, hash: events[0].hash, sequence: 1)
        try await twice.catchUp()
        twice.anchor(event: events[0].id, hash: events[0].hash, sequence: 2)
        #expect(try await twice.finish().filter { $0.code != "custody_event_unanchored" }.map(\.code) == ["custody_event_anchored_twice"])

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

    /// `verify --day` (P5, "verification of one day"): the part of the chain written in a period,
    /// the events it anchors or that were recorded then; two periods one after the other cover
    /// the chain once; each finds what was altered in it and nothing of the other.
    @Test func aPeriodIsVerifiedByItsOwnPartOfTheChain() async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let archive = try await makeArchive(tmp)
        let store = try #require(archive.store as? any CustodyStore)
        let start = Timestamp.nowMillis()
        _ = try await ReceiptService(store: store).addLocation(code: "RCV-1", name: "Dock", kind: .receiving, secured: true, alarmed: true, cctvCovered: true,
                                                               maxDwellHours: nil, actor: "supervisor")
        var serials = CustodyBalanceConformanceTests.Serials(next: 61_000_000)
        // Scans stamped on 2019-06-18 (the station's clock here), their entries today.
        try await CustodyBalanceConformanceTests.scan(store, at: "2019-06-18T06:00:00Z", (0..<300).map { _ in serials.s10() }, .receive(location: "RCV-1", presentation: nil))
        try await Task.sleep(for: .milliseconds(20))
        let middle = Timestamp.nowMillis()
        try await Task.sleep(for: .milliseconds(20))
        try await CustodyBalanceConformanceTests.scan(store, at: "2019-06-19T06:00:00Z", (0..<200).map { _ in serials.s10() }, .receive(location: "RCV-1", presentation: nil))
        let end = Timestamp.nowMillis() + 1
        let verify = VerifyService(archive: archive)

        let first = try await verify.verifyWindow(from: start - 60_000, to: middle, actor: "auditor")
        let second = try await verify.verifyWindow(from: middle, to: end, actor: "auditor")
        #expect(first.ok && second.ok, "\(first.problems) \(second.problems)")
        #expect(first.custodyEventsChecked == 300 && second.custodyEventsChecked == 200)
        let w1 = try #require(first.window), w2 = try #require(second.window)
        #expect(w1.lastSequence! + 1 == w2.firstSequence! && w1.firstSequence! <= 2, "\(w1) \(w2)")
        #expect(first.auditEntriesChecked + second.auditEntriesChecked == Int(w2.lastSequence! - w1.firstSequence! + 1))
        // The day the station stamped: no entry was written then, yet its events are each found
        // with their entries (looked up by item) and checked.
        let stamped = try await verify.verifyWindow(from: CustodyTime.millis("2019-06-18T00:00:00Z")!, to: CustodyTime.millis("2019-06-19T00:00:00Z")!,
                                                    actor: "auditor")
        #expect(stamped.ok && stamped.auditEntriesChecked == 0 && stamped.custodyEventsChecked == 300 && stamped.window?.firstSequence == nil, "\(stamped.problems)")

        // An event of the second part altered, an entry of the first part altered: each part finds its own.
        let db = try DatabaseQueue(path: tmp.url.appendingPathComponent("data/archive.sqlite").path)
        try await db.write { db in
            for t in try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN ('custody_event', 'audit_log')") {
                try db.execute(sql: "DROP TRIGGER \(t)")
            }
            try db.execute(sql: "UPDATE custody_event SET actor = 'someone else' WHERE id = 450")
            try db.execute(sql: "UPDATE audit_log SET actor = 'someone else' WHERE seq = 100")
        }
        let again1 = try await verify.verifyWindow(from: start - 60_000, to: middle, actor: "auditor")
        let again2 = try await verify.verifyWindow(from: middle, to: end, actor: "auditor")
        #expect(again1.problems.map { "\($0.code) \($0.item)" } == ["audit_altered audit:100"], "\(again1.problems)")
        #expect(again2.problems.map { "\($0.code) \($0.item)" } == ["custody_event_altered custody-event:450"], "\(again2.problems)")
    }

    /// The embedded store reads audit entries and custody events by column position (by name,
    /// GRDB searched the columns on every read): the table's columns must be in that order.
    @Test func auditEntriesAreReadByPositionInTheTablesOrder() async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let archive = try await makeArchive(tmp)
        let db = try DatabaseQueue(path: tmp.url.appendingPathComponent("data/archive.sqlite").path)
        let columns = try await db.read { try String.fetchAll($0, sql: "SELECT name FROM pragma_table_info('audit_log') ORDER BY cid") }
        #expect(columns == ["seq", "at", "actor", "action", "target", "detail", "prev_hash", "hash"])
        let entry = try #require(try await archive.store.auditEntries(afterSequence: 0, limit: 1).first)
        #expect(entry.sequence == 1 && entry.computeHash() == entry.hash && entry.previousHash == AuditEntry.genesis)
    }

    /// A day's verify on tampering at its edges and in its events: entries deleted before its
    /// first one are a gap (not an error), its last entry rewritten with a fresh hash breaks the
    /// link out of it, an event deleted is missing, an event forged with a time in the period and
    /// no entry is unanchored.
    @Test func aPeriodsVerifyFindsTamperingAtItsEdges() async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let archive = try await makeArchive(tmp)
        let store = try #require(archive.store as? any CustodyStore)
        _ = try await ReceiptService(store: store).addLocation(code: "RCV-1", name: "Dock", kind: .receiving, secured: true, alarmed: true, cctvCovered: true,
                                                               maxDwellHours: nil, actor: "supervisor")
        var serials = CustodyBalanceConformanceTests.Serials(next: 62_000_000)
        try await Task.sleep(for: .milliseconds(20))
        let start = Timestamp.nowMillis()
        try await Task.sleep(for: .milliseconds(20))
        let clock = Timestamp.nowMillis()
        let service = ScanService(store: store, now: { clock })
        _ = try await service.record((0..<100).map { _ in ScanService.Request(text: serials.s10(), action: .receive(location: "RCV-1", presentation: nil), station: "ST-1") },
                                     actor: "receiver")
        try await Task.sleep(for: .milliseconds(20))
        let end = Timestamp.nowMillis()
        _ = try await ReceiptService(store: store).addLocation(code: "HOLD-1", name: "Hold", kind: .holding, secured: true, alarmed: true, cctvCovered: true,
                                                               maxDwellHours: nil, actor: "supervisor") // an entry after the period
        let verify = VerifyService(archive: archive)
        let clean = try await verify.verifyWindow(from: start, to: end, actor: "auditor")
        #expect(clean.ok && clean.custodyEventsChecked == 100 && clean.auditEntriesChecked == 100, "\(clean.problems)")
        let first = try #require(clean.window?.firstSequence), last = try #require(clean.window?.lastSequence)

        let db = try DatabaseQueue(path: tmp.url.appendingPathComponent("data/archive.sqlite").path)
        try await db.write { db in
            for t in try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN ('custody_event', 'audit_log')") {
                try db.execute(sql: "DROP TRIGGER \(t)")
            }
        }
        // The last entry rewritten, its own hash recomputed: only the link out of the period shows it.
        var rewritten = try #require(try await archive.store.auditEntries(afterSequence: last - 1, limit: 1).first)
        rewritten = AuditEntry(sequence: rewritten.sequence, at: rewritten.at, actor: "someone else", action: rewritten.action, target: rewritten.target,
                               detail: rewritten.detail, previousHash: rewritten.previousHash)
        let forgedHash = rewritten.hash.hex
        try await db.write { db in
            try db.execute(sql: "UPDATE audit_log SET actor = 'someone else', hash = ? WHERE seq = ?", arguments: [forgedHash, last])
            try db.execute(sql: "DELETE FROM audit_log WHERE seq < ?", arguments: [first])     // everything before the period
            let victim = try Int64.fetchOne(db, sql: "SELECT min(id) FROM custody_event")! + 50
            try db.execute(sql: "DELETE FROM custody_event WHERE id = ?", arguments: [victim])
            try db.execute(sql: """
                INSERT INTO custody_event (id, item_id, type, at, actor, to_location, station_id, manual_entry, hash)
                SELECT 90000, item_id, 'AUDIT_SEEN', at, actor, to_location, station_id, 0, hash FROM custody_event ORDER BY id LIMIT 1
                """)
        }
        let found = try await verify.verifyWindow(from: start, to: end, actor: "auditor")
        let codes = found.problems.map { "\($0.code) \($0.item)" }.sorted()
        #expect(codes.contains("audit_gap audit:\(first - 1)") && codes.contains("audit_broken_link audit:\(last + 1)")
            && codes.contains("custody_event_unanchored custody-event:90000") && codes.contains { $0.hasPrefix("custody_event_missing") }
            && codes.count == 4, "\(codes)")
    }

    /// Return batches are tallied while the events stream by, across pages of events and of
    /// members: a clean archive passes, a member removed in the database is named.
    @Test func returnBatchesAreTalliedAcrossPages() async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let archive = try await makeArchive(tmp)
        let store = try #require(archive.store as? any CustodyStore)
        try await CustodyBalanceConformanceTests.register(store)
        var serials = CustodyBalanceConformanceTests.Serials(next: 63_000_000)
        let items = (0..<5_600).map { _ in serials.s10() }
        try await CustodyBalanceConformanceTests.scan(store, at: "2019-06-18T06:00:00Z", items, .receive(location: "RCV-1", presentation: nil))
        let batch = try await ScanService(store: store, now: { CustodyConformanceTests.millis("2019-06-18T17:00:00Z") }).openContainer(
            "RET-9", carrier: "USPS", seal: nil, declared: items.count, presentedBy: "K. Driver", badge: nil, location: "DOCK-1", station: nil, direction: "out",
            actor: "receiver")
        try await CustodyBalanceConformanceTests.scan(store, at: "2019-06-18T17:10:00Z", items,
                                                      .returnToCarrier(carrier: "USPS", supervisor: "sue", reason: "Dock overflow", batch: batch.id))
        let clean = try await VerifyService(archive: archive).verify(actor: "auditor")
        #expect(clean.ok && clean.custodyEventsChecked == 11_200, "\(clean.problems)")
        let db = try DatabaseQueue(path: tmp.url.appendingPathComponent("data/archive.sqlite").path)
        try await db.write { db in
            try db.execute(sql: "DROP TRIGGER custody_return_member_not_deleted")
            try db.execute(sql: "DELETE FROM custody_return_member WHERE event_id = (SELECT event_id FROM custody_return_member ORDER BY event_id LIMIT 1 OFFSET 5000)")
        }
        let found = try await VerifyService(archive: archive).verify(actor: "auditor")
        #expect(found.problems.map { "\($0.code) \($0.item)" } == ["custody_return_batch_altered custody-presentation:\(batch.id)"], "\(found.problems)")
    }
}
