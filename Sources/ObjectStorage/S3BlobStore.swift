import Archive
import Crypto
import Foundation
import NIOCore
import RecordkeeperCore

/// Blobs in S3-compatible object storage, under `blobs/aa/bb/<sha-256>` in one bucket with
/// Object Lock enabled.
///
/// Every new blob is written with the lock policy (COMPLIANCE retention for a number of days:
/// nobody, root included, can delete or overwrite it before then, and the store refuses to
/// shorten it). Bytes are spooled to a local scratch file while they are hashed (the object's
/// name is its hash, so it is known only at the end), then streamed up with their SHA-256 signed
/// and their MD5 checked by the store. A blob already present is not written again.
///
/// `destroy` deletes every version of the object, and fails with `refused` while the lock holds:
/// disposition cannot remove what the law, through the lock, still keeps.
public struct S3BlobStore: LockingBlobStore {
    public enum LockPolicy: Sendable, Hashable {
        /// No retention on new objects (the bucket's default retention, if any, still applies).
        case none
        /// COMPLIANCE retention until this many days after the blob is stored.
        case compliance(days: Int)
    }

    public let client: S3Client
    public let scratch: URL
    public let lock: LockPolicy
    /// Seals each object under a data key of its own (decision 0009): destroying the key erases
    /// every version, including those Object Lock still keeps. Objects stored before stay readable.
    public let sealer: BlobSealer?

    public init(client: S3Client, scratch: URL, lock: LockPolicy, sealer: BlobSealer? = nil) {
        self.client = client
        self.scratch = scratch
        self.lock = lock
        self.sealer = sealer
    }

    /// The days of COMPLIANCE retention a new object gets; also how far ahead the lock pass sets
    /// an object's lock at most (0: retention is left to the bucket's default).
    public var lockHorizonDays: Int {
        switch lock {
        case .none: 0
        case .compliance(let days): days
        }
    }

    public func lockState(_ hash: ContentHash) async throws -> (until: Date?, legalHold: Bool) {
        let key = Self.key(for: hash)
        var until: Date?
        var held = false
        for version in try await client.versions(key: key) where !version.isDeleteMarker {
            if let r = try await client.retention(key: key, versionID: version.versionID), r.until > Date() { until = max(until ?? r.until, r.until) }
            if (try? await client.legalHold(key: key, versionID: version.versionID)) == true { held = true }
        }
        return (until, held)
    }

    public var locationDescription: String { "s3://\(client.location.bucket)/blobs/ at \(client.location.endpoint)" }

    public static func key(for hash: ContentHash) -> String {
        let h = hash.hex
        return "blobs/\(h.prefix(2))/\(h.dropFirst(2).prefix(2))/\(h)"
    }

    public func put(_ produce: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void) async throws -> BlobInfo {
        // The writer is used only while `produce` runs.
        try await store { write in try withoutActuallyEscaping(write) { w in try produce(w) } }
    }

    /// Spools what `feed` writes to a scratch file while hashing it, sealed as it streams when
    /// the store seals (the bytes never reach the disk in the clear), then stores it under its
    /// hash unless already there: the path of `put` and of `sealInPlace`.
    func store(_ feed: (_ write: (UnsafeRawBufferPointer) throws -> Void) async throws -> Void) async throws -> BlobInfo {
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        let temp = scratch.appendingPathComponent("s3-blob-\(UUID().uuidString)")
        guard FileManager.default.createFile(atPath: temp.path, contents: nil, attributes: [.posixPermissions: 0o600]),
              let handle = FileHandle(forWritingAtPath: temp.path) else {
            throw ArchiveError(.storage, "cannot create a temporary file in \(scratch.path); check permissions and free space")
        }
        var resealed: URL?
        defer {
            try? FileManager.default.removeItem(at: temp)
            if let resealed { try? FileManager.default.removeItem(at: resealed) }
        }
        var hasher = StreamingHasher()
        // What goes up: the blob's bytes, or with a sealer their sealed form (its own SHA-256 and
        // MD5 for the upload's signature and integrity check).
        var uploadHasher = StreamingHasher()
        var md5 = Insecure.MD5()
        let dataKey = sealer?.seals == true ? sealer?.newKey() : nil
        var sealing = dataKey.map { SealingStream(key: $0.key, keyID: $0.id) }
        do {
            defer { try? handle.close() }
            func emit(_ bytes: UnsafeRawBufferPointer) throws {
                uploadHasher.update(bytes)
                md5.update(bufferPointer: bytes)
                try handle.write(contentsOf: Data(bytes))
            }
            func write(_ chunk: UnsafeRawBufferPointer) throws {
                hasher.update(chunk)
                if sealing != nil { try sealing!.update(chunk, emit) } else { try emit(chunk) }
            }
            try await feed(write)
            if sealing != nil { try sealing!.finish(emit) }
        }
        let info = BlobInfo(hash: hasher.finalize(), size: hasher.byteCount)
        let key = Self.key(for: info.hash)
        var upload = (file: temp, size: uploadHasher.byteCount, sha256: uploadHasher.finalize().hex, md5: Data(md5.finalize()).base64EncodedString())
        var replacing = false
        if let sealer, let dataKey {
            let settled = try await sealer.settle(info.hash, key: dataKey.key, keyID: dataKey.id)
            if try await sealedKeyID(key) == settled.id { return info }
            replacing = try await client.headObject(key: key) != nil
            if !settled.isOurs {
                let again = scratch.appendingPathComponent("s3-blob-\(UUID().uuidString)")
                resealed = again
                try BlobSealer.reseal(temp, from: dataKey.key, into: again, key: settled.key, keyID: settled.id)
                upload = try Self.digests(again)
            }
        } else if try await client.headObject(key: key) != nil {
            return info
        }
        let retention: ObjectRetention? = switch lock {
        case .none: nil
        case .compliance(let days): ObjectRetention(mode: .compliance, until: Date().addingTimeInterval(Double(days) * 86_400))
        }
        try await client.putObject(key: key, file: upload.file, size: upload.size, sha256Hex: upload.sha256,
                                   md5Base64: upload.md5, retention: retention, legalHold: false)
        if replacing { await removeOlderVersions(key) }
        return info
    }

    /// After a sealed version replaced one stored in the clear (or under a destroyed key): the
    /// older versions are deleted where the lock allows; those it keeps stay until it ends, and
    /// go with the blob's own destruction (`destroy` deletes every version).
    func removeOlderVersions(_ key: String) async {
        guard let versions = try? await client.versions(key: key), versions.count > 1 else { return }
        // The listing is newest first: the first is the version just written.
        for v in versions.dropFirst() { try? await client.deleteVersion(key: key, versionID: v.versionID) }
    }

    /// Seals, in place, a blob stored in the clear: streamed down through the sealer into a
    /// scratch file (ciphertext only), then up as a new version; the clear versions are deleted
    /// where the lock allows. Returns false when it already was sealed.
    public func sealInPlace(_ hash: ContentHash) async throws -> Bool {
        guard let sealer, sealer.seals else { throw ArchiveError(.refused, "this blob store has no key-encryption key to seal with") }
        switch try await isSealed(hash) {
        case nil: throw ArchiveError(.blobMissing, "blob \(hash.hex) is missing from \(locationDescription)")
        case true?: return false
        case false?: break
        }
        // Streamed down and sealed on the way into the scratch file, then up as a new version.
        let stored = try await store { write in
            try await client.getObject(key: Self.key(for: hash)) { buffer in try buffer.withUnsafeReadableBytes(write) }
        }
        guard stored.hash == hash else {
            throw ArchiveError(.storage, "blob \(hash.hex) no longer hashes to its name (\(stored.hash.hex)); run `recordkeeper verify` before sealing")
        }
        return true
    }

    static func digests(_ file: URL) throws -> (file: URL, size: Int64, sha256: String, md5: String) {
        var sha = StreamingHasher()
        var md5 = Insecure.MD5()
        let handle = try FileHandle(forReadingFrom: file)
        defer { try? handle.close() }
        while let data = try handle.read(upToCount: 1 << 20), !data.isEmpty {
            sha.update(data)
            md5.update(data: data)
        }
        return (file, sha.byteCount, sha.finalize().hex, Data(md5.finalize()).base64EncodedString())
    }

    /// The data key id in the stored object's header (nil: absent, or stored in the clear).
    func sealedKeyID(_ key: String) async throws -> String? {
        var head: [UInt8] = []
        do {
            try await client.getObject(key: key, firstBytes: BlobSealer.headerSize) { buffer in
                if head.count < BlobSealer.headerSize { head.append(contentsOf: buffer.readableBytesView.prefix(BlobSealer.headerSize - head.count)) }
            }
        } catch let e as ArchiveError where e.code == .blobMissing {
            return nil
        }
        return BlobSealer.keyID(ofHeader: head)
    }

    public func contains(_ hash: ContentHash) async throws -> Bool {
        try await client.headObject(key: Self.key(for: hash)) != nil
    }

    public func read(_ hash: ContentHash, _ consume: (UnsafeRawBufferPointer) throws -> Void) async throws {
        // The first bytes say whether the object is sealed; a sealed one is opened as it streams.
        var opening: OpeningStream?
        var head: [UInt8] = []
        var decided = false
        func feed(_ bytes: UnsafeRawBufferPointer) throws {
            if var o = opening {
                try o.update(bytes, consume)
                opening = o
            } else {
                try consume(bytes)
            }
        }
        let sealer = self.sealer
        try await client.getObject(key: Self.key(for: hash)) { buffer in
            if decided { return try buffer.withUnsafeReadableBytes { try feed($0) } }
            head.append(contentsOf: buffer.readableBytesView)
            guard head.count >= BlobSealer.headerSize else { return }
            decided = true
            opening = try await sealer?.reading(hash, header: head)
            try head.withUnsafeBytes { try feed($0) }
            head = []
        }
        if !decided {
            // Shorter than a sealed header: in the clear, unless the archive says it is sealed.
            if try await sealer?.reading(hash, header: head) != nil {
                throw ArchiveError(.blobDamaged, "blob \(hash.hex) has a data key but its object is shorter than a sealed header")
            }
            if !head.isEmpty { try head.withUnsafeBytes { try consume($0) } }
            return
        }
        try opening?.finish(consume)
    }

    public func rehash(_ hash: ContentHash) async throws -> BlobInfo? {
        try await rehashOpened(hash) {
            var raw = StreamingHasher()
            try await client.getObject(key: Self.key(for: hash)) { buffer in buffer.withUnsafeReadableBytes { raw.update($0) } }
            return BlobInfo(hash: raw.finalize(), size: raw.byteCount)
        }
    }

    public var erasesCryptographically: Bool { sealer?.seals == true }

    public func isSealed(_ hash: ContentHash) async throws -> Bool? {
        let key = Self.key(for: hash)
        guard try await client.headObject(key: key) != nil else { return nil }
        guard let record = try await sealer?.keys.blobKey(hash) else { return false }
        return try await sealedKeyID(key) == record.keyID
    }

    public var destructionMethod: String {
        sealer?.seals == true ? "each sealed object's data key destroyed (cryptographic erase), then every version deleted from the bucket"
            : "every version of each object deleted from the bucket"
    }

    public func destroy(_ hash: ContentHash) async throws {
        let key = Self.key(for: hash)
        // The data key first: every version, even one Object Lock keeps, is then unreadable.
        if let sealer { try await sealer.keys.destroyBlobKey(hash) }
        for version in try await client.versions(key: key) {
            do {
                try await client.deleteVersion(key: key, versionID: version.versionID)
            } catch let e as S3Error where e.isRefusal {
                let retention = try? await client.retention(key: key, versionID: version.versionID)
                let held = (try? await client.legalHold(key: key, versionID: version.versionID)) ?? false
                var why: [String] = []
                if let retention { why.append("\(retention.mode.rawValue) retention until \(S3Client.iso(retention.until))") }
                if held { why.append("a legal hold") }
                throw ArchiveError(.refused, "the object store keeps blob \(hash.hex) under Object Lock (\(why.isEmpty ? e.description : why.joined(separator: " and "))); "
                    + "it cannot be destroyed before the lock ends")
            }
        }
    }

    /// Sets or lifts the Object Lock legal hold on every version of a blob (a legal hold in the
    /// archive sets it on the files of the records it covers).
    public func setLegalHold(_ hash: ContentHash, on: Bool) async throws {
        let key = Self.key(for: hash)
        for version in try await client.versions(key: key) where !version.isDeleteMarker {
            try await client.setLegalHold(key: key, versionID: version.versionID, on: on)
        }
    }

    /// Extends COMPLIANCE retention on every version of a blob to `until` (never shortens it: the
    /// store refuses, and an earlier date than the current one is skipped).
    public func extendRetention(_ hash: ContentHash, until: Date) async throws {
        let key = Self.key(for: hash)
        for version in try await client.versions(key: key) where !version.isDeleteMarker {
            if let current = try await client.retention(key: key, versionID: version.versionID), current.until >= until { continue }
            try await client.setRetention(key: key, versionID: version.versionID, ObjectRetention(mode: .compliance, until: until))
        }
    }
}
