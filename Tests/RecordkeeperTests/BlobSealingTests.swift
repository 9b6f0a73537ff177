import Archive
import Foundation
import GRDB
import ObjectStorage
import Recordkeeper
import RecordkeeperCore
import Testing

/// Blobs sealed at rest (issue 16, decision 0009): each under its own data key, in chunks that
/// cannot be altered, reordered or cut short unnoticed; the key kept in the record store,
/// wrapped by the operator's key-encryption key.
@Suite("Sealed blobs")
struct BlobSealingTests {
    struct Sealed {
        let tmp: TempDir
        let store: SQLiteArchiveStore
        let blobs: FileBlobStore
        let kekFile: URL
    }

    static func sealed() throws -> Sealed {
        let tmp = try TempDir()
        let store = try SQLiteArchiveStore(path: tmp.url.appendingPathComponent("archive.sqlite").path)
        let kekFile = tmp.url.appendingPathComponent("keys/blob.kek")
        let blobs = FileBlobStore(root: try tmp.sub("blobs"), scratch: try tmp.sub("tmp"),
                                  sealer: KeyEncryptionKeyFile.sealer(keys: store, at: kekFile, createIfNone: true))
        return Sealed(tmp: tmp, store: store, blobs: blobs, kekFile: kekFile)
    }

    /// Text that repeats a phrase a scan can look for, across several 1 MiB chunks.
    static func text(_ bytes: Int) -> Data {
        let line = Array("Quarterly seizure ledger, pallet 17, agent Walsh\n".utf8)
        return Data((0..<bytes).map { line[$0 % line.count] })
    }

    @Test func aSealedBlobIsCiphertextAtRestAndReadsBackExactly() async throws {
        let s = try Self.sealed(); defer { s.tmp.cleanup() }
        for size in [0, 1, 1 << 20, (1 << 20) + 1, 2_500_000] {
            let plain = Self.text(size)
            let info = try await s.blobs.put { write in try plain.withUnsafeBytes { try write($0) } }
            #expect(info == BlobInfo(hash: ContentHash.of(plain), size: Int64(size)))
            let raw = try Data(contentsOf: s.blobs.path(for: info.hash))
            #expect(raw.starts(with: BlobSealer.magic))
            // Header, then each chunk with its 16-byte tag (an empty blob still has its last chunk).
            let chunks = size == 0 ? 1 : (size + (1 << 20) - 1) / (1 << 20)
            #expect(raw.count == BlobSealer.headerSize + size + 16 * chunks)
            #expect(raw.range(of: Data("pallet 17".utf8)) == nil)
            #expect(try await s.blobs.data(info.hash) == plain)
            #expect(try await s.blobs.rehash(info.hash) == info)
        }
        // The key file is the operator's: owner-only.
        let mode = try FileManager.default.attributesOfItem(atPath: s.kekFile.path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
    }

    @Test func alteredReorderedOrShortenedSealedBytesAreNamed() async throws {
        let s = try Self.sealed(); defer { s.tmp.cleanup() }
        let plain = Self.text(2_500_000)
        let info = try await s.blobs.put { write in try plain.withUnsafeBytes { try write($0) } }
        let path = s.blobs.path(for: info.hash)
        let original = try Data(contentsOf: path)
        chmod(path.path, 0o600)
        let chunk = (1 << 20) + 16
        var flipped = original
        flipped[BlobSealer.headerSize + 10] ^= 0x01
        var reordered = original.prefix(BlobSealer.headerSize)
        reordered += original[(BlobSealer.headerSize + chunk)..<(BlobSealer.headerSize + 2 * chunk)]
        reordered += original[BlobSealer.headerSize..<(BlobSealer.headerSize + chunk)]
        reordered += original[(BlobSealer.headerSize + 2 * chunk)...]
        let shortened = original.prefix(BlobSealer.headerSize + 2 * chunk) // the last chunk dropped
        for damaged in [flipped, Data(reordered), Data(shortened)] {
            try damaged.write(to: path)
            await #expect(throws: ArchiveError.self) { _ = try await s.blobs.data(info.hash) }
            // verify's view: the stored bytes no longer hash to the blob's name.
            let rehashed = try #require(try await s.blobs.rehash(info.hash))
            #expect(rehashed.hash != info.hash)
        }
        try original.write(to: path)
        #expect(try await s.blobs.data(info.hash) == plain)
    }

    /// A sender controls an attachment's first bytes: one that begins like a sealed file is still
    /// stored and read as what it is, whether the store seals or not; and a sealed blob's file
    /// swapped for clear bytes is refused, not served.
    @Test func whetherABlobIsSealedIsTheDatabasesSayNotTheFilesFirstBytes() async throws {
        let s = try Self.sealed(); defer { s.tmp.cleanup() }
        let lookalike = Data(BlobSealer.magic + [UInt8](repeating: 0x41, count: 40) + Array("then the attachment's own text".utf8))
        let clearStore = FileBlobStore(root: try s.tmp.sub("clear"), scratch: s.tmp.url.appendingPathComponent("tmp"),
                                       sealer: KeyEncryptionKeyFile.sealer(keys: s.store, at: nil, createIfNone: false))
        let info = try await clearStore.put { write in try lookalike.withUnsafeBytes { try write($0) } }
        #expect(try Data(contentsOf: clearStore.path(for: info.hash)) == lookalike) // stored as is
        #expect(try await clearStore.data(info.hash) == lookalike)
        #expect(try await clearStore.rehash(info.hash) == info)
        #expect(try await clearStore.isSealed(info.hash) == false)
        // The sealing store seals it like any other, and reads it back.
        let sealed = try await s.blobs.put { write in try lookalike.withUnsafeBytes { try write($0) } }
        #expect(try await s.blobs.data(sealed.hash) == lookalike)
        #expect(try await s.blobs.isSealed(sealed.hash) == true)
        // Its file replaced by other, clear bytes: refused on read, and verify's rehash differs.
        let path = s.blobs.path(for: sealed.hash)
        chmod(path.path, 0o600)
        try Data("substituted".utf8).write(to: path)
        do {
            _ = try await s.blobs.data(sealed.hash)
            Issue.record("a clear file was served for a sealed blob")
        } catch let e as ArchiveError {
            #expect(e.code == .blobDamaged)
        }
        #expect(try await s.blobs.rehash(sealed.hash)?.hash != sealed.hash)
        // The clear store, without a KEK, refuses a sealed blob rather than serving ciphertext.
        let other = try await s.blobs.put { write in try Data("sealed elsewhere".utf8).withUnsafeBytes { try write($0) } }
        let noKEK = FileBlobStore(root: s.blobs.root, scratch: s.tmp.url.appendingPathComponent("tmp"),
                                  sealer: KeyEncryptionKeyFile.sealer(keys: s.store, at: nil, createIfNone: false))
        await #expect(throws: ArchiveError.self) { _ = try await noKEK.data(other.hash) }
    }

    @Test func concurrentWritersOfOneBlobSettleOnOneKey() async throws {
        let s = try Self.sealed(); defer { s.tmp.cleanup() }
        let plain = Self.text(1_500_000)
        let results = try await withThrowingTaskGroup(of: BlobInfo.self) { group in
            for _ in 0..<6 { group.addTask { try await s.blobs.put { write in try plain.withUnsafeBytes { try write($0) } } } }
            var out: [BlobInfo] = []
            for try await r in group { out.append(r) }
            return out
        }
        #expect(Set(results).count == 1)
        let hash = results[0].hash
        let key = try #require(try await s.store.blobKey(hash))
        #expect(s.blobs.sealedKeyID(s.blobs.path(for: hash)) == key.keyID)
        #expect(try await s.blobs.data(hash) == plain)
        #expect(try await s.store.blobKeys(after: nil, limit: 10).count == 1)
    }

    @Test func aBlobStoredInTheClearBeforeSealingStaysReadableAndIsSealedWhenStoredAgain() async throws {
        let s = try Self.sealed(); defer { s.tmp.cleanup() }
        let clear = FileBlobStore(root: s.blobs.root, scratch: s.tmp.url.appendingPathComponent("tmp"))
        let plain = Self.text(300_000)
        let info = try await clear.put { write in try plain.withUnsafeBytes { try write($0) } }
        #expect(s.blobs.sealedKeyID(s.blobs.path(for: info.hash)) == nil)
        #expect(try await s.blobs.data(info.hash) == plain)
        #expect(try await s.blobs.rehash(info.hash) == info)
        _ = try await s.blobs.put { write in try plain.withUnsafeBytes { try write($0) } }
        #expect(s.blobs.sealedKeyID(s.blobs.path(for: info.hash)) != nil)
        #expect(try await s.blobs.data(info.hash) == plain)
    }

    @Test func aDataKeyIsDestroyedOnlyForAReleasedBlobAndNeverReplaced() async throws {
        let s = try Self.sealed(); defer { s.tmp.cleanup() }
        let info = try await s.blobs.put { write in try Self.text(5000).withUnsafeBytes { try write($0) } }
        // No disposition released it: neither the store nor the database lets its key go.
        await #expect(throws: ArchiveError.self) { try await s.blobs.destroy(info.hash) }
        #expect(try await s.store.blobKey(info.hash) != nil)
        #expect(try await s.blobs.data(info.hash) == Self.text(5000))
        let queue = try DatabaseQueue(path: s.tmp.url.appendingPathComponent("archive.sqlite").path)
        defer { try? queue.close() }
        #expect(throws: DatabaseError.self) { try queue.write { try $0.execute(sql: "DELETE FROM blob_key") } }
        #expect(throws: DatabaseError.self) { try queue.write { try $0.execute(sql: "UPDATE blob_key SET key_id = '00000000000000000000000000000000'") } }
    }

    @Test func theKeyEncryptionKeyIsRequiredOnceBlobsAreSealed() async throws {
        let s = try Self.sealed(); defer { s.tmp.cleanup() }
        let info = try await s.blobs.put { write in try Self.text(5000).withUnsafeBytes { try write($0) } }
        // The key file lost: a new one is not made over sealed blobs; the loss is named.
        try FileManager.default.removeItem(at: s.kekFile)
        let fresh = FileBlobStore(root: s.blobs.root, scratch: s.tmp.url.appendingPathComponent("tmp"),
                                  sealer: KeyEncryptionKeyFile.sealer(keys: s.store, at: s.kekFile, createIfNone: true))
        do {
            _ = try await fresh.data(info.hash)
            Issue.record("a sealed blob opened without its key-encryption key")
        } catch let e as ArchiveError {
            #expect(e.code == .refused && e.message.contains("key-encryption key is missing"))
        }
        #expect(!FileManager.default.fileExists(atPath: s.kekFile.path))
        // Another key does not open what the first wrapped.
        var other = Data(count: 32)
        other[0] = 9
        try KeyFile.create(s.kekFile, key: other)
        await #expect(throws: ArchiveError.self) { _ = try await fresh.data(info.hash) }
    }
}

@Suite("Keys for blobs at rest: sealing older blobs, rotating the KEK", .serialized)
struct BlobKeyCommandTests {
    static let chat = """
        03/11/2020, 09:15 - Jane Doe: IMG-20201103-WA0001.jpg (file attached)
        Pallet photo
        03/11/2020, 09:16 - Sam Lee: Received, logging it now

        """

    /// An archive from before sealing: its blobs in the clear, no KEK yet. `keys seal` seals them
    /// in place; they read back the same and verify holds.
    @Test func blobsStoredInTheClearAreSealedInPlace() async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let created = try await makeArchive(tmp)
        let dir = created.directory
        let clear = ArchiveHandle(directory: dir, store: created.store, blobs: FileBlobStore(root: dir.blobsURL, scratch: dir.scratchURL))
        let export = try tmp.sub("export")
        let txt = try writeText(Self.chat, named: "WhatsApp Chat with Sam Lee.txt", in: export)
        let photo = Data("\u{FF}\u{D8}not really a jpeg, but bytes all the same".utf8)
        try photo.write(to: export.appendingPathComponent("IMG-20201103-WA0001.jpg"))
        _ = try await ingest(clear, txt, custodian: "jane.doe@agency.example.gov")
        let files = created.blobs as! FileBlobStore
        #expect(try await files.isSealed(ContentHash.of(photo)) == false)

        let before = try await VerifyService(archive: created).verify(actor: "test")
        #expect(before.ok && before.blobsChecked == 2 && before.blobsSealed == 0)
        let r = try await BlobKeyService(archive: created).sealClearBlobs(actor: "admin")
        #expect(r.sealed == 2 && r.already == 0)
        #expect(try await files.isSealed(ContentHash.of(photo)) == true)
        #expect(try await created.blobs.data(ContentHash.of(photo)) == photo)
        #expect(try await BlobKeyService(archive: created).sealClearBlobs(actor: "admin") == (0, 2))
        let report = try await VerifyService(archive: created).verify(actor: "test")
        #expect(report.ok, "\(report.problems)")
        #expect(report.blobsSealed == 2)
        #expect(try await created.store.auditEntries(afterSequence: 0, limit: 100).contains { $0.action == "keys.seal" })
    }

    /// `keys rotate-kek` from the command line: every data key re-wrapped, the new key in the old
    /// one's place, the old one kept aside to destroy later; the blobs open under the new key only.
    @Test func theKEKIsRotatedAndTheOldOneNoLongerOpensAnything() async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let cli = CLI(dataDir: tmp.url.appendingPathComponent("data"))
        #expect(try cli.run(["init"]).status == 0)
        let export = try tmp.sub("export")
        let txt = try writeText(Self.chat, named: "WhatsApp Chat with Sam Lee.txt", in: export)
        try Data("photo bytes".utf8).write(to: export.appendingPathComponent("IMG-20201103-WA0001.jpg"))
        #expect(try cli.run(["ingest", txt.path, "--custodian", "jane.doe@agency.example.gov", "--timezone", "America/New_York"]).status == 0)
        let before = try JSONSerialization.jsonObject(with: Data(try cli.run(["keys", "status", "--json"]).stdout.utf8)) as? [String: Any]
        let oldID = try #require(before?["kek_id"] as? String)
        #expect((before?["keys_by_kek"] as? [String: Int])?[oldID] == 2)
        let oldRaw = try #require(try KeyFile.read(cli.dataDir.appendingPathComponent("keys/blob.kek")))

        let rotated = try cli.run(["keys", "rotate-kek"])
        #expect(rotated.status == 0, "\(rotated.stderr)")
        #expect(rotated.stdout.contains("2 data key(s) re-wrapped"))
        let after = try JSONSerialization.jsonObject(with: Data(try cli.run(["keys", "status", "--json"]).stdout.utf8)) as? [String: Any]
        let newID = try #require(after?["kek_id"] as? String)
        #expect(newID != oldID && (after?["keys_by_kek"] as? [String: Int]) == [newID: 2])
        let retired = try FileManager.default.contentsOfDirectory(atPath: cli.dataDir.appendingPathComponent("keys").path).filter { $0.hasPrefix("blob.kek.retired-") }
        #expect(retired.count == 1)
        let verified = try cli.run(["verify"])
        #expect(verified.status == 0, "\(verified.stdout)")

        // The old key opens nothing any more.
        let handle = try DataDirectory(url: cli.dataDir).open()
        let oldKEK = LocalKeyEncryptionKey(raw: oldRaw)
        for k in try await handle.store.blobKeys(after: nil, limit: 10) {
            #expect(k.kekID == newID)
            #expect(throws: ArchiveError.self) { _ = try oldKEK.unwrap(k.wrapped, for: k.hash) }
        }
        #expect(try await handle.store.auditEntries(afterSequence: 0, limit: 100).contains { $0.action == "keys.rotate-kek" })
    }
}

@Suite("Sealed blobs in S3", .enabled(if: TestS3.wanted))
struct S3BlobSealingTests {
    /// An object stored in the clear is sealed in place: streamed down through the sealer and up
    /// as a new version, the clear version deleted (no lock here), the blob read back whole.
    @Test func anObjectStoredInTheClearIsSealedInPlace() async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let client = try await TestS3.freshBucket()
        let store = try SQLiteArchiveStore(path: tmp.url.appendingPathComponent("archive.sqlite").path)
        let clear = S3BlobStore(client: client, scratch: try tmp.sub("scratch"), lock: .none)
        let sealing = S3BlobStore(client: client, scratch: try tmp.sub("scratch"), lock: .none,
                                  sealer: KeyEncryptionKeyFile.sealer(keys: store, at: tmp.url.appendingPathComponent("keys/blob.kek"), createIfNone: true))
        let plain = BlobSealingTests.text(2_300_000)
        let info = try await clear.put { write in try plain.withUnsafeBytes { try write($0) } }
        #expect(try await sealing.isSealed(info.hash) == false)
        #expect(try await sealing.sealInPlace(info.hash))
        #expect(try await sealing.isSealed(info.hash) == true)
        #expect(try await !sealing.sealInPlace(info.hash)) // already sealed
        #expect(try await sealing.data(info.hash) == plain)
        #expect(try await sealing.rehash(info.hash) == info)
        let versions = try await client.versions(key: S3BlobStore.key(for: info.hash))
        #expect(versions.count == 1) // the clear version is gone
        // What the bucket holds is the sealed form: a store without the key gets no record text.
        let raw = try await clear.data(info.hash)
        #expect(raw.starts(with: BlobSealer.magic) && raw.range(of: Data("pallet 17".utf8)) == nil)
    }
}
