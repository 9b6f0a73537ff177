import Archive
import ArchivePostgres
import Foundation
import Logging
import ObjectStorage
import Recordkeeper
import RecordkeeperCore
import RecordkeeperTesting
import Testing

/// What each blob's records ask of Object Lock, on every backend: the latest eligibility of the
/// records naming it (as attachment or as original export), holds, and what was applied.
@Suite("BlobLockStore conformance (every backend)")
struct BlobLockConformanceTests {
    static let backends: [Backend<any ArchiveStore>] = Backends.all(sqlite: { $0 }, postgres: { $0 })

    @Test(arguments: backends)
    func eachBlobCarriesItsRecordsLatestDateAndTheirHolds(_ backend: Backend<any ArchiveStore>) async throws {
        let open = try await backend.open()
        defer { Task { await open.close() } }
        let s = open.store
        let l = try await RecordsLawConformanceTests.load(s)
        // One more record in Ann's chat, with a photo, from another export.
        let export2 = BlobInfo(hash: ContentHash.of("export 2"), size: 8)
        let photo = BlobInfo(hash: ContentHash.of("a photo of gate 3"), size: 17)
        try await s.registerBlob(export2)
        try await s.registerBlob(photo)
        let batch = try await s.startBatch(NewBatch(
            custodianID: l.ann.custodianID, conversationID: l.ann.id, actor: "tester", sourceName: "e2.xml", source: export2,
            platform: .sms, format: "test", textMember: "e2.xml", dateOrder: nil, timeZone: "UTC", timeZoneBasis: "flag", startedAtMillis: 3_000))
        let sent = LocalDateTime(year: 2012, month: 7, day: 4, hour: 8, minute: 0)
        let withPhoto = ArchivedMessage(
            identityKey: IdentityKey.forMessage(platform: .sms, conversationKey: l.ann.key, senderKey: IdentityKey.senderKey("Ann"), sentLocal: sent,
                                                body: "gate 3 photo", duplicateOrdinal: 0),
            platform: .sms, conversationKey: l.ann.key, sourceOrdinal: 0, duplicateOrdinal: 0, sentLocal: sent, timeZone: "UTC",
            sentAt: sent.secondsSinceEpochAsUTC, capturedAtMillis: 4_000, sender: "Ann", senderRaw: "Ann", body: "gate 3 photo", raw: "gate 3 photo",
            kind: .user, flags: [], sourceBlob: export2.hash, sourceMember: "e2.xml", sourceLine: 1, lineCount: 1,
            attachments: [ArchivedAttachment(fileName: "IMG_0003.jpg", blob: photo.hash, size: 17)])
        _ = try await s.append(batchID: batch.id, conversationID: l.ann.id, messages: [withPhoto], defects: [])
        while try await s.indexNext(limit: 100) > 0 {}

        let source = BlobInfo(hash: ContentHash.of("export"), size: 6)
        var latest: CivilDate?
        for id in l.ids.values {
            let eligible = try #require(try await s.assignment(messageID: id)?.assignment.eligible)
            latest = max(latest ?? eligible, eligible)
        }
        let photoID = try #require(try await s.transcript(conversationID: l.ann.id, offset: 0, limit: 50).first { $0.message.body == "gate 3 photo" }?.id)
        let photoDate = try #require(try await s.assignment(messageID: photoID)?.assignment.eligible)

        let all = try await s.blobLocks(after: nil, limit: 10)
        #expect(Set(all.map(\.hash)) == [source.hash, export2.hash, photo.hash] && all.map(\.hash.hex) == all.map(\.hash.hex).sorted())
        let first = Dictionary(uniqueKeysWithValues: all.map { ($0.hash, $0) })
        #expect(first[source.hash]?.keepUntil == latest && latest != nil)
        #expect(first[photo.hash]?.keepUntil == photoDate && first[export2.hash]?.keepUntil == photoDate)
        #expect(all.allSatisfy { !$0.held && $0.appliedUntil == nil && !$0.appliedHeld })
        // Paging.
        let page1 = try await s.blobLocks(after: nil, limit: 2)
        let page2 = try await s.blobLocks(after: page1.last?.hash, limit: 2)
        #expect(page1.count == 2 && page2.map(\.hash) == [all[2].hash])

        // A hold on "photo" covers the photo's record: its attachment and its export are held,
        // the first export is not.
        _ = try await s.createHold(NewHold(name: "gate", matter: .litigation, reference: nil, requestedBy: "OGC", scope: HoldScope(query: "photo"),
                                           match: try SearchExpression.parse("photo"), actor: "k.walsh", createdAtMillis: 5_000),
                                   audit: AuditDraft(actor: "k.walsh", action: "hold.create", target: "hold"))
        let held = Dictionary(uniqueKeysWithValues: try await s.blobLocks([photo.hash, export2.hash, source.hash]).map { ($0.hash, $0.held) })
        #expect(held == [photo.hash: true, export2.hash: true, source.hash: false])

        // What was applied is read back.
        let until = CivilDate(year: 2031, month: 1, day: 1)!
        try await s.recordBlobLock(photo.hash, until: until, held: true)
        let applied = try #require(try await s.blobLocks([photo.hash]).first)
        #expect(applied.appliedUntil == until && applied.appliedHeld && applied.keepUntil == photoDate)
        #expect(try await s.blobLocks([ContentHash.of("never stored")]).isEmpty)
    }
}

/// The lock rule itself: never shorter than the records need within the horizon, renewed at
/// half of it, nothing for what is already eligible.
@Suite("Object Lock: the retention rule")
struct ObjectLockRuleTests {
    static let today = CivilDate(year: 2026, month: 12, day: 6)!
    func state(keep: CivilDate?, applied: CivilDate?) -> BlobLockState {
        BlobLockState(hash: ContentHash.of("x"), keepUntil: keep, held: false, appliedUntil: applied, appliedHeld: false)
    }

    @Test func retentionFollowsTheRecordsWithinTheHorizon() {
        let t = Self.today
        // A record eligible in 100 days: locked until then (within a 365-day horizon).
        #expect(ObjectLockService.retentionTarget(state(keep: t.addingDays(100), applied: nil), today: t, horizonDays: 365) == t.addingDays(100))
        // Eligible in 7 years: the horizon, renewed only once half of it has run down.
        #expect(ObjectLockService.retentionTarget(state(keep: t.addingDays(2555), applied: nil), today: t, horizonDays: 365) == t.addingDays(365))
        #expect(ObjectLockService.retentionTarget(state(keep: t.addingDays(2555), applied: t.addingDays(300)), today: t, horizonDays: 365) == nil)
        #expect(ObjectLockService.retentionTarget(state(keep: t.addingDays(2555), applied: t.addingDays(100)), today: t, horizonDays: 365) == t.addingDays(365))
        // No date (permanent, waiting for an event): the horizon.
        #expect(ObjectLockService.retentionTarget(state(keep: nil, applied: nil), today: t, horizonDays: 30) == t.addingDays(30))
        // Already eligible, or already locked long enough: nothing.
        #expect(ObjectLockService.retentionTarget(state(keep: t.addingDays(-1), applied: nil), today: t, horizonDays: 365) == nil)
        #expect(ObjectLockService.retentionTarget(state(keep: t.addingDays(100), applied: t.addingDays(100)), today: t, horizonDays: 365) == nil)
        // The schedule lengthened: extended at once, not at half the horizon.
        #expect(ObjectLockService.retentionTarget(state(keep: t.addingDays(200), applied: t.addingDays(100)), today: t, horizonDays: 365) == t.addingDays(200))
        // No horizon (retention left to the bucket's default): nothing.
        #expect(ObjectLockService.retentionTarget(state(keep: nil, applied: nil), today: t, horizonDays: 0) == nil)
        #expect(ObjectLockService.endOf(t) == Date(timeIntervalSince1970: 1_796_601_600)) // 2026-12-07T00:00:00Z
    }
}

/// Object Lock on a real S3 server (SeaweedFS), kept in step with the archive: retention set
/// from the records and never shortened, only changes sent, legal-hold flags following holds,
/// and a disposition that cannot delete a locked file says so in its certificate.
@Suite("Object Lock follows retention and holds (PostgreSQL and S3)", .serialized, .enabled(if: TestPostgres.wanted && TestS3.wanted))
struct ObjectLockServiceTests {
    @Test func retentionAndLegalHoldsReachTheObjects() async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let db = try await TestPostgres.createDatabase()
        var logger = Logger(label: "recordkeeper.postgres")
        logger.logLevel = .warning
        let store = try await PostgresArchiveStore.open(url: db.url, logger: logger)
        defer { store.close(); Task { await TestPostgres.dropDatabase(db.name) } }
        let client = try await TestS3.freshBucket()
        let blobs = S3BlobStore(client: client, scratch: try tmp.sub("scratch"), lock: .compliance(days: 3))
        let archive = ArchiveHandle(directory: DataDirectory(url: try tmp.sub("instance")), store: store, blobs: blobs)
        try await store.appendAudit(AuditDraft(actor: "test", action: "archive.init", target: "archive"))
        let zip = try ExportGenerator.write(ExportSpec(style: .iosZip, messageCount: 200, start: LocalDateTime(year: 2026, month: 2, day: 1, hour: 7, minute: 0, second: 0),
                                                       mediaEvery: 10, seed: 21), to: try tmp.sub("export"))
        let ingested = try await ingest(archive, zip)
        #expect(ingested.attachmentsStored > 5)

        let today = CivilDate.today()
        let service = ObjectLockService(archive: archive)
        let first = try await service.sync(actor: "test", today: today)
        let count = try await store.blobLocks(after: nil, limit: 1000).count
        #expect(first.active && first.blobsExamined == count && first.retentionExtended == count && first.failures.isEmpty)
        // Records from 2026 under the standard schedule are kept for years: the horizon, 3 days.
        let sample = try #require(try await store.blobLocks(after: nil, limit: 1).first)
        let retention = try #require(try await client.retention(key: S3BlobStore.key(for: sample.hash)))
        #expect(retention.mode == .compliance && retention.until >= ObjectLockService.endOf(today.addingDays(3)))
        #expect(sample.appliedUntil == today.addingDays(3))
        // A second pass sends nothing.
        let second = try await service.sync(actor: "test", today: today)
        #expect(second.retentionExtended == 0 && second.legalHoldsSet == 0)
        // Three days on (less than half the horizon left) a pass renews it.
        #expect(try await service.sync(actor: "test", today: today.addingDays(3)).retentionExtended == count)
        let renewed = try #require(try await client.retention(key: S3BlobStore.key(for: sample.hash)))
        #expect(renewed.until == ObjectLockService.endOf(today.addingDays(6)))

        // Placing a hold flags its records' objects at once; releasing it lifts the flags.
        _ = try await UserService(archive: archive).save(name: "k.walsh", displayName: "Karen Walsh", roles: [.recordsOfficer, .admin], actor: "test")
        let hold = try await HoldService(archive: archive).create(name: "everything", matter: .litigation, reference: nil, requestedBy: "OGC",
                                                                  scope: HoldScope(everything: true), actor: "k.walsh")
        #expect(hold.objectLock?.legalHoldsSet == count && hold.objectLock?.failures.isEmpty == true)
        #expect(try await client.legalHold(key: S3BlobStore.key(for: sample.hash)))
        // The store refuses to delete a held object, lock or no lock.
        await #expect(throws: ArchiveError.self) { try await blobs.destroy(sample.hash) }
        _ = try await HoldService(archive: archive).release(id: hold.hold.id, reason: "case closed", actor: "k.walsh")
        #expect(try await client.legalHold(key: S3BlobStore.key(for: sample.hash)) == false)
        #expect(try await store.blobLocks([sample.hash]).first?.appliedHeld == false)
        let entries = try await store.auditEntries(target: "blobs", limit: 10)
        #expect(entries.filter { $0.action == "object_lock.sync" }.count == 4) // first, renewal, hold, release; not the idle pass
    }

    /// Through the built binary: a destruction whose export is still under Object Lock executes
    /// (the records go), keeps the file, says so in the certificate, and verify accepts it.
    @Test func aDispositionStatesWhatTheLockStillKeeps() async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let db = try await TestPostgres.createDatabase()
        defer { Task { await TestPostgres.dropDatabase(db.name) } }
        let s3 = try #require(TestS3.config?.split(separator: " ").map(String.init))
        let client = try await TestS3.freshBucket()
        let bucket = client.location.bucket
        // The operator's key-encryption key, shared by every instance: objects are sealed.
        let kek = tmp.url.appendingPathComponent("kek/blob.kek")
        #expect(try KeyFile.create(kek, key: Data((0..<32).map { UInt8($0 * 7 % 251) })))
        let env = ["RECORDKEEPER_DATABASE_URL": db.url, "RECORDKEEPER_BLOB_STORE": "s3://\(bucket)?endpoint=\(s3[0])&retention-days=1",
                   "AWS_ACCESS_KEY_ID": s3[1], "AWS_SECRET_ACCESS_KEY": s3[2], "RECORDKEEPER_KEK_FILE": kek.path]
        let cli = CLI(dataDir: try tmp.sub("instance"))
        #expect(try cli.run(["init"], env: env).status == 0)
        let txt = try writeText(RecordsCLITests.chat, named: "WhatsApp Chat with Sam Lee.txt", in: try tmp.sub("export"))
        #expect(try cli.run(["ingest", txt.path, "--custodian", "jane.doe@agency.example.gov", "--timezone", "America/New_York"], env: env).status == 0)
        #expect(try cli.run(["user", "add", "alice", "--role", "records-officer", "--role", "admin", "--os-account", CLI.osLogin], env: env).status == 0)
        #expect(try cli.run(["user", "add", "bob", "--role", "records-officer"], as: "alice", env: env).status == 0)
        let planFile = try writeText(RecordsCLITests.plan, named: "plan.json", in: tmp.url)
        #expect(try cli.run(["fileplan", "import", planFile.path, "--apply"], as: "alice", env: env).status == 0)
        let sync = try cli.run(["object-lock", "sync", "--json"], env: env)
        #expect(sync.status == 0, "\(sync.stderr)")
        let batch = try JSONSerialization.jsonObject(with: Data(try cli.run(["dispose", "propose", "--json"], as: "alice", env: env).stdout.utf8)) as? [String: Any]
        let id = String(try #require(batch?["id"] as? Int))
        #expect(try cli.run(["dispose", "approve", id], as: "bob", env: env).status == 0)
        let executed = try cli.run(["dispose", "execute", id, "--json"], as: "bob", env: env)
        #expect(executed.status == 0, "\(executed.stderr)")
        let certificate = try #require(try JSONSerialization.jsonObject(with: Data(executed.stdout.utf8)) as? [String: Any])
        #expect(certificate["records"] as? Int == 4)
        #expect(certificate["blobs_destroyed"] as? Int == 0 && certificate["blobs_kept_under_lock"] as? Int == 1)
        #expect((certificate["blob_store"] as? String)?.hasPrefix("s3://\(bucket)/") == true)
        #expect((certificate["lock_ends_by"] as? String)?.isEmpty == false)
        let verified = try cli.run(["verify"], env: env)
        #expect(verified.status == 0 && verified.stdout.contains("still kept by Object Lock"), "\(verified.stdout)")
        // What the lock keeps is sealed, and its data key is gone: a cryptographic erase.
        #expect((certificate["sanitization"] as? String)?.hasPrefix("purge by cryptographic erase") == true)
        #expect((certificate["not_yet_purged"] as? [String])?.contains { $0.contains("data keys are destroyed") } == true)
        let export = ContentHash.of(try Data(contentsOf: txt))
        let bare = S3BlobStore(client: client, scratch: try tmp.sub("bare"), lock: .none)
        #expect(try await bare.contains(export))
        // What is left is ciphertext whose data key is gone: no record text in it.
        let kept = try await bare.data(export)
        #expect(kept.starts(with: BlobSealer.magic) && kept.range(of: Data("Crane".utf8)) == nil)
    }
}
