import Archive
import ArchivePostgres
import Custody
import Foundation
import Logging
import ObjectStorage
import Recordkeeper
import RecordkeeperCore
import RecordkeeperTesting
import Testing

/// The services, unchanged, on the production backend: PostgreSQL for records and S3 with
/// Object Lock for blobs (files when no S3 server is there). Capture, search, a second capture
/// of the same export, holds, the whole of `verify`.
@Suite("Services on PostgreSQL and object storage", .enabled(if: TestPostgres.wanted))
struct ProductionBackendTests {
    @Test func ingestSearchHoldAndVerifyRunUnchangedOnTheProductionBackend() async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let db = try await TestPostgres.createDatabase()
        var logger = Logger(label: "recordkeeper.postgres")
        logger.logLevel = .warning
        let store = try await PostgresArchiveStore.open(url: db.url, logger: logger)
        defer { store.close(); Task { await TestPostgres.dropDatabase(db.name) } }
        let blobs: any BlobStore = TestS3.wanted
            ? S3BlobStore(client: try await TestS3.freshBucket(), scratch: try tmp.sub("scratch"), lock: .compliance(days: 1))
            : FileBlobStore(root: try tmp.sub("blobs"), scratch: try tmp.sub("scratch"))
        let directory = DataDirectory(url: try tmp.sub("instance"))
        let archive = ArchiveHandle(directory: directory, store: store, blobs: blobs)
        try await store.appendAudit(AuditDraft(actor: "test", action: "archive.init", target: "archive"))
        // Signed from the start (issue 16): each capture then signs a checkpoint naming its batch.
        try await CheckpointService(archive: archive).sign(reason: "archive created", actor: "test", createKey: true)

        let zip = try ExportGenerator.write(ExportSpec(style: .iosZip, messageCount: 700, seed: 7), to: try tmp.sub("export"))
        let first = try await ingest(archive, zip)
        #expect(first.messagesAdded > 600 && first.attachmentsStored > 0 && first.error == nil)
        // The same export again: nothing new, nothing lost.
        let again = try await ingest(archive, zip)
        #expect(again.messagesAdded == 0 && again.duplicatesSkipped == first.messagesAdded)

        let words = try #require(try await store.transcript(conversationID: first.conversationID!, offset: 10, limit: 1).first?.message.body
            .split(separator: " ").first { $0.count > 5 && $0.allSatisfy(\.isLetter) })
        let found = try await SearchService(archive: archive).search(String(words), actor: "test")
        #expect(found.total > 0 && found.coverage?.pending == 0)

        _ = try await UserService(archive: archive).save(name: "k.walsh", displayName: "Karen Walsh", roles: [.recordsOfficer, .admin], actor: "test")
        _ = try await HoldService(archive: archive).create(name: "everything", matter: .litigation, reference: nil, requestedBy: "OCC",
                                                          scope: HoldScope(everything: true), actor: "k.walsh")
        #expect(try await store.due(asOf: CivilDate(year: 2099, month: 1, day: 1)!).allSatisfy { $0.held == $0.records })

        let witness = try CheckpointService.read(Data(try await CheckpointService(archive: archive).export().utf8))
        #expect(witness.compactMap { CheckpointStatement.parse($0.statement)?.vouches.map { String($0.prefix { $0 != "=" }) } } == [[], ["batch:\(first.batchID!)"], ["batch:\(again.batchID!)"]])
        let report = try await VerifyService(archive: archive).verify(actor: "test", witness: ("witness.jsonl", witness))
        #expect(report.ok, "\(report.problems)")
        #expect(report.blobsChecked >= 2 && report.notYetIndexed == 0 && report.checkpointsChecked == 3 && report.witnessCheckpointsChecked == 3)
    }

    /// A server that does not answer is tried again for the probe's patience, then named
    /// (without the password); it is not waited for forever.
    @Test func anUnreachableServerIsNamedAfterThePatience() async throws {
        let url = try PostgresURL.parse("postgres://archive:s3cret-pw@127.0.0.1:1/archive?sslmode=disable")
        do {
            try await PostgresAdmin.probe(url: url, logger: Logger(label: "test"), patience: .milliseconds(600))
            Issue.record("connected to a port nobody listens on")
        } catch let e as ArchiveError {
            #expect(e.message.contains("connecting to postgres://archive:***@127.0.0.1:1/archive") && !e.message.contains("s3cret-pw"), "\(e.message)")
        }
    }

    /// Each instance keeps the locations' kinds it has read (a location never changes once
    /// registered): a location registered through another instance since is read when a scan
    /// names it, and an unregistered one is still refused.
    @Test func aLocationRegisteredThroughAnotherInstanceIsKnownAtOnce() async throws {
        let db = try await TestPostgres.createDatabase()
        var logger = Logger(label: "recordkeeper.postgres")
        logger.logLevel = .warning
        let one = try await PostgresArchiveStore.open(url: db.url, logger: logger)
        let other = try await PostgresArchiveStore.open(url: db.url, logger: logger)
        defer { one.close(); other.close(); Task { await TestPostgres.dropDatabase(db.name) } }
        _ = try await ReceiptService(store: one).addLocation(code: "RCV-1", name: "Dock", kind: .receiving, secured: true, alarmed: true, cctvCovered: true,
                                                             maxDwellHours: nil, actor: "supervisor")
        let serial = "65000000"
        let item = "LX" + serial + String(S10.checkDigit(serial: serial.map { Int(String($0))! })) + "CN"
        let scans = ScanService(store: one)
        let received = try await scans.record([ScanService.Request(text: item, action: .receive(location: "RCV-1", presentation: nil), station: "ST-1")], actor: "r")
        #expect({ if case .recorded = received[0] { true } else { false } }())
        _ = try await ReceiptService(store: other).addLocation(code: "HOLD-9", name: "Hold", kind: .holding, secured: true, alarmed: true, cctvCovered: true,
                                                               maxDwellHours: nil, actor: "supervisor")
        let moved = try await scans.record([ScanService.Request(text: item, action: .move(to: "HOLD-9"), station: "ST-1"),
                                            ScanService.Request(text: item, action: .move(to: "NOWHERE"), station: "ST-1")], actor: "r")
        #expect({ if case .recorded(let e) = moved[0] { e.toLocation == "HOLD-9" } else { false } }(), "\(moved)")
        #expect({ if case .refused(let r) = moved[1] { r.code == "UNKNOWN_LOCATION" } else { false } }(), "\(moved)")
    }

    /// A database URL naming a database that does not exist is an error that says so, at once
    /// (the pool retried the connection forever and `serve` waited without a word).
    @Test func aMissingDatabaseIsNamedNotWaitedFor() async throws {
        let db = try await TestPostgres.createDatabase()
        await TestPostgres.dropDatabase(db.name)
        let started = Date()
        let password = try PostgresURL.parse(db.url).password ?? "\u{0}"
        do {
            _ = try await PostgresArchiveStore.open(url: db.url)
            Issue.record("opened a database that does not exist")
        } catch let e as ArchiveError {
            #expect(e.message.contains("does not exist") && e.message.contains(db.name) && !e.message.contains(password), "\(e.message)")
        }
        #expect(Date().timeIntervalSince(started) < 60) // a deadline for a hang, not a speed
    }

    /// Custody events verified on PostgreSQL: the whole verify pairs each event with its entry
    /// and tallies a return batch as they stream by; a period's verify checks its own part of
    /// the chain, and a day stamped by the station finds each event's entry through its item.
    @Test func custodyEventsAreVerifiedOnPostgreSQL() async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let db = try await TestPostgres.createDatabase()
        var logger = Logger(label: "recordkeeper.postgres")
        logger.logLevel = .warning
        let store = try await PostgresArchiveStore.open(url: db.url, logger: logger)
        defer { store.close(); Task { await TestPostgres.dropDatabase(db.name) } }
        let archive = ArchiveHandle(directory: DataDirectory(url: try tmp.sub("instance")), store: store,
                                    blobs: FileBlobStore(root: try tmp.sub("blobs"), scratch: try tmp.sub("scratch")))
        try await store.appendAudit(AuditDraft(actor: "test", action: "archive.init", target: "archive"))
        for (code, kind) in [("RCV-1", ReceiptService.LocationKind.receiving), ("DOCK-1", .returnDock)] {
            _ = try await ReceiptService(store: store).addLocation(code: code, name: code, kind: kind, secured: true, alarmed: true, cctvCovered: true,
                                                                   maxDwellHours: nil, actor: "supervisor")
        }
        let start = Timestamp.nowMillis()
        let stamped = CustodyTime.millis("2019-06-18T06:00:00Z")!
        let items = (0..<300).map { n -> String in
            let serial = String(64_000_000 + n)
            return "LX" + serial + String(S10.checkDigit(serial: serial.map { Int(String($0))! })) + "CN"
        }
        let scans = ScanService(store: store, now: { stamped })
        _ = try await scans.record(items.map { ScanService.Request(text: $0, action: .receive(location: "RCV-1", presentation: nil), station: "ST-1") },
                                   actor: "receiver")
        let batch = try await scans.openContainer("RET-1", carrier: "USPS", seal: nil, declared: 100, presentedBy: "K. Driver", badge: nil, location: "DOCK-1",
                                                  station: nil, direction: "out", actor: "receiver")
        let back = try await ScanService(store: store, now: { stamped + 3_600_000 }).record(items.prefix(100).map {
            ScanService.Request(text: $0, action: .returnToCarrier(carrier: "USPS", supervisor: "sue", reason: "Dock overflow", batch: batch.id), station: "ST-1")
        }, actor: "receiver")
        #expect(back.allSatisfy { if case .recorded = $0 { true } else { false } })
        let end = Timestamp.nowMillis() + 1

        let verify = VerifyService(archive: archive)
        let whole = try await verify.verify(actor: "test")
        #expect(whole.ok && whole.custodyEventsChecked == 400, "\(whole.problems)")
        let period = try await verify.verifyWindow(from: start, to: end, actor: "test")
        #expect(period.ok && period.custodyEventsChecked == 400 && period.auditEntriesChecked >= 401, "\(period.problems)")
        let day = try await verify.verifyWindow(from: stamped - 6 * 3_600_000, to: stamped + 18 * 3_600_000, actor: "test")
        #expect(day.ok && day.custodyEventsChecked == 400 && day.auditEntriesChecked == 0, "\(day.problems)")
    }

    /// The archive-wide write lock: while one instance holds it (an ingest, a disposition),
    /// another waits, says for whom, and gives up in bounded time; released, it goes through.
    @Test func theArchiveWideWriteLockIsHeldAcrossConnections() async throws {
        let db = try await TestPostgres.createDatabase()
        var logger = Logger(label: "recordkeeper.postgres")
        logger.logLevel = .warning
        let one = try await PostgresArchiveStore.open(url: db.url, logger: logger)
        let other = try await PostgresArchiveStore.open(url: db.url, logger: logger) // as another instance would
        defer { one.close(); other.close(); Task { await TestPostgres.dropDatabase(db.name) } }
        final class Lines: @unchecked Sendable {
            let lock = NSLock()
            var items: [String] = []
            func add(_ s: String) { lock.lock(); items.append(s); lock.unlock() }
        }
        let lines = Lines()
        // Two ingests (shared) run side by side.
        let both = try await one.withArchiveLock(purpose: "ingest", shared: true, timeout: .seconds(5), onWait: nil) {
            try await other.withArchiveLock(purpose: "ingest", shared: true, timeout: .zero, onWait: nil) { true }
        }
        #expect(both)
        // An ingest waits for a disposition (exclusive), says for whom, and gives up.
        let refused = try await one.withArchiveLock(purpose: "disposition.execute", shared: false, timeout: .seconds(5), onWait: nil) { () async throws -> ArchiveError? in
            do {
                try await other.withArchiveLock(purpose: "ingest", shared: true, timeout: .milliseconds(600), onWait: { lines.add($0) }) {
                    Issue.record("ran without the lock")
                }
                return nil
            } catch let e as ArchiveError {
                return e
            }
        }
        #expect(refused?.code == .busy && refused?.message.contains("(disposition.execute)") == true)
        #expect(lines.items.first?.hasPrefix("waiting for the archive's write lock held by") == true)
        // A disposition waits for an ingest too.
        let blocked = try await one.withArchiveLock(purpose: "ingest", shared: true, timeout: .seconds(5), onWait: nil) { () async -> Bool in
            (try? await other.withArchiveLock(purpose: "disposition.execute", shared: false, timeout: .milliseconds(300), onWait: nil) { true }) == nil
        }
        #expect(blocked)
        #expect(try await other.withArchiveLock(purpose: "disposition.execute", shared: false, timeout: .zero, onWait: nil) { 42 } == 42)
    }
}
