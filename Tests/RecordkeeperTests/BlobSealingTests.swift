import Archive
import Foundation
import GRDB
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
