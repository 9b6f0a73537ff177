import Archive
import Foundation
import ObjectStorage
import RecordkeeperCore
import Testing

@Suite("BlobStore conformance (files and S3)")
struct BlobStoreConformanceTests {
    static func bytes(_ count: Int, seed: UInt8) -> [UInt8] { (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(seed)) } }

    static func put(_ blobs: any BlobStore, _ bytes: [UInt8]) async throws -> BlobInfo {
        try await blobs.put { write in
            // In uneven chunks, as an unzipping producer writes.
            var i = 0
            while i < bytes.count {
                let n = min(bytes.count - i, 300_001)
                try bytes[i..<(i + n)].withUnsafeBytes { try write($0) }
                i += n
            }
        }
    }

    @Test(arguments: Backends.blobs)
    func blobsAreStoredOnceUnderTheirHashAndReadBackExactly(_ backend: Backend<any BlobStore>) async throws {
        let open = try await backend.open()
        defer { Task { await open.close() } }
        let blobs = open.store
        let big = Self.bytes(2_500_000, seed: 7)
        let info = try await Self.put(blobs, big)
        #expect(info == BlobInfo(hash: ContentHash.of(Data(big)), size: Int64(big.count)))
        #expect(try await blobs.contains(info.hash))
        #expect(try await Array(blobs.data(info.hash)) == big)
        #expect(try await blobs.rehash(info.hash) == info)
        // The same bytes again: the same blob, nothing new.
        #expect(try await Self.put(blobs, big) == info)
        let empty = try await Self.put(blobs, [])
        #expect(empty.size == 0 && empty.hash == ContentHash.of(Data()))
        #expect(try await blobs.data(empty.hash).isEmpty)

        let absent = ContentHash.of("never stored")
        #expect(try await !blobs.contains(absent))
        #expect(try await blobs.rehash(absent) == nil)
        do {
            _ = try await blobs.data(absent)
            Issue.record("reading an absent blob succeeded")
        } catch let e as ArchiveError {
            #expect(e.code == .blobMissing)
        }
    }

    @Test(arguments: Backends.blobs)
    func destroyRemovesTheBytesForGood(_ backend: Backend<any BlobStore>) async throws {
        let open = try await backend.open()
        defer { Task { await open.close() } }
        let blobs = open.store
        let keep = try await Self.put(blobs, Self.bytes(1000, seed: 1))
        let gone = try await Self.put(blobs, Self.bytes(1000, seed: 2))
        try await blobs.destroy(gone.hash)
        #expect(try await !blobs.contains(gone.hash))
        #expect(try await blobs.rehash(gone.hash) == nil)
        #expect(try await blobs.contains(keep.hash))
        try await blobs.destroy(gone.hash) // absent: not an error
        try await blobs.destroy(ContentHash.of("never stored"))
    }
}

@Suite("S3 blobs under Object Lock", .enabled(if: TestS3.wanted))
struct S3BlobLockTests {
    /// The disposition path cannot destroy what the lock keeps: the store refuses with the
    /// reason, and the bytes stay readable; a legal hold does the same until it is lifted.
    @Test func lockedBlobsCannotBeDestroyedAndHoldsBlockUntilLifted() async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let client = try await TestS3.freshBucket()
        let locked = S3BlobStore(client: client, scratch: try tmp.sub("tmp"), lock: .compliance(days: 1))
        let record = try await BlobStoreConformanceTests.put(locked, Array("minutes of the port director's meeting".utf8))
        let retention = try #require(try await client.retention(key: S3BlobStore.key(for: record.hash)))
        #expect(retention.mode == .compliance && retention.until > Date().addingTimeInterval(86_000))
        do {
            try await locked.destroy(record.hash)
            Issue.record("a blob under COMPLIANCE retention was destroyed")
        } catch let e as ArchiveError {
            #expect(e.code == .refused)
            #expect(e.message.contains("COMPLIANCE retention until"), "\(e.message)")
        }
        #expect(try await locked.rehash(record.hash) == record)
        try await locked.extendRetention(record.hash, until: Date().addingTimeInterval(3 * 86_400))
        #expect(try await client.retention(key: S3BlobStore.key(for: record.hash))!.until > Date().addingTimeInterval(2.9 * 86_400))

        let open = S3BlobStore(client: client, scratch: try tmp.sub("tmp"), lock: .none)
        let evidence = try await BlobStoreConformanceTests.put(open, Array("photo of the manifest".utf8))
        try await open.setLegalHold(evidence.hash, on: true)
        await #expect(throws: ArchiveError.self) { try await open.destroy(evidence.hash) }
        #expect(try await open.contains(evidence.hash))
        try await open.setLegalHold(evidence.hash, on: false)
        try await open.destroy(evidence.hash)
        #expect(try await !open.contains(evidence.hash))
    }
}
