import Foundation
import RecordkeeperCore

/// Content-addressed storage for original exports and attachments.
///
/// A blob is written once under the name of its SHA-256 and never changed. The filesystem store
/// (`FileBlobStore`) is the default; `S3BlobStore` (target ObjectStorage) keeps blobs in
/// S3-compatible object storage under Object Lock. The interface is async because object storage
/// is a network away; a producer still writes synchronously (the bytes are spooled and hashed
/// locally before they are stored under their hash).
public protocol BlobStore: Sendable {
    /// Streams bytes in through `produce` (which calls the given writer for each chunk), hashing
    /// as it goes; stores them under their hash unless already present. Durable on return.
    func put(_ produce: (_ write: (UnsafeRawBufferPointer) throws -> Void) throws -> Void) async throws -> BlobInfo
    /// True when a blob with this hash is stored.
    func contains(_ hash: ContentHash) async throws -> Bool
    /// Streams a blob's bytes out; throws `blob_missing` when absent.
    func read(_ hash: ContentHash, _ consume: (UnsafeRawBufferPointer) throws -> Void) async throws
    /// Recomputes the hash of the stored bytes; nil when the blob is missing.
    func rehash(_ hash: ContentHash) async throws -> BlobInfo?
    /// Removes a blob's bytes for good. Only an executed disposition calls this, after the
    /// record store has marked the blob destroyed; removing an absent blob is not an error. A
    /// store that keeps blobs under a lock it cannot lift (Object Lock) refuses (`refused`).
    func destroy(_ hash: ContentHash) async throws
    /// Where the blobs are, for certificates and messages (`file:///…`, `s3://bucket/…`).
    var locationDescription: String { get }
    /// How `destroy` removes a blob, in words a certificate of destruction carries.
    var destructionMethod: String { get }
    /// True when `destroy` destroys the blob's data key (every copy of its sealed bytes is then
    /// unreadable, wherever it remains).
    var erasesCryptographically: Bool { get }
    /// What seals new blobs (nil: they are stored in the clear).
    var sealer: BlobSealer? { get }
    /// True when the stored blob is sealed; false when it is stored in the clear; nil when absent.
    func isSealed(_ hash: ContentHash) async throws -> Bool?
    /// Seals a blob stored in the clear, in place (nothing written in the clear on the way);
    /// false when it already was sealed.
    func sealInPlace(_ hash: ContentHash) async throws -> Bool
}

extension BlobStore {
    /// Stores a file's bytes.
    public func put(file url: URL) async throws -> BlobInfo {
        try await put { write in
            let handle = try FileHandle(forReadingFrom: url)
            defer { try? handle.close() }
            while let data = try handle.read(upToCount: 1 << 20), !data.isEmpty {
                try data.withUnsafeBytes { try write($0) }
            }
        }
    }

    /// The blob's hash as `read` gives its bytes (opened, if sealed): nil when it is missing or
    /// was erased; for bytes that do not open, the hash of the stored bytes as they lie (`raw`),
    /// which is not the blob's: verify names it altered.
    public func rehashOpened(_ hash: ContentHash, raw: () async throws -> BlobInfo?) async throws -> BlobInfo? {
        var hasher = StreamingHasher()
        do {
            try await read(hash) { hasher.update($0) }
            return BlobInfo(hash: hasher.finalize(), size: hasher.byteCount)
        } catch let e as ArchiveError where e.code == .blobMissing || e.code == .gone {
            return nil
        } catch let e as ArchiveError where e.code == .blobDamaged {
            return try await raw()
        }
    }

    /// The bytes of a small blob, in memory.
    public func data(_ hash: ContentHash) async throws -> Data {
        var data = Data()
        try await read(hash) { data.append(contentsOf: $0) }
        return data
    }
}

/// Blobs as files under `root/aa/bb/<hash>`, written via a temporary file, fsync and rename so a
/// crash never leaves a partial blob under a hash name. With a `sealer`, each file holds its
/// blob sealed under a data key of its own (decision 0009); files stored before sealing began
/// are read as they are, and sealed when they are next stored.
public struct FileBlobStore: BlobStore {
    public let root: URL
    private let scratch: URL
    public let sealer: BlobSealer?

    public init(root: URL, scratch: URL, sealer: BlobSealer? = nil) {
        self.root = root
        self.scratch = scratch
        self.sealer = sealer
    }

    public func path(for hash: ContentHash) -> URL {
        let h = hash.hex
        return root.appendingPathComponent(String(h.prefix(2)), isDirectory: true)
            .appendingPathComponent(String(h.dropFirst(2).prefix(2)), isDirectory: true)
            .appendingPathComponent(h)
    }

    public var locationDescription: String { root.absoluteString }

    public var destructionMethod: String {
        sealer?.seals == true ? "each sealed file's data key destroyed (cryptographic erase), then the file overwritten with zeros, synced to disk and unlinked"
            : "files overwritten with zeros, synced to disk, then unlinked"
    }

    public var erasesCryptographically: Bool { sealer?.seals == true }

    public func contains(_ hash: ContentHash) async throws -> Bool {
        FileManager.default.fileExists(atPath: path(for: hash).path)
    }

    public func sealInPlace(_ hash: ContentHash) async throws -> Bool {
        guard let sealer, sealer.seals else { throw ArchiveError(.refused, "this blob store has no key-encryption key to seal with") }
        switch try await isSealed(hash) {
        case nil: throw ArchiveError(.blobMissing, "blob \(hash.hex) is missing from \(root.path)")
        case true?: return false
        case false?: break
        }
        // Read from where it lies; the sealed file replaces it after the clear one is overwritten.
        let stored = try await put(file: path(for: hash))
        guard stored.hash == hash else {
            throw ArchiveError(.storage, "blob \(hash.hex) no longer hashes to its name (\(stored.hash.hex)); run `recordkeeper verify` before sealing")
        }
        return true
    }

    public func isSealed(_ hash: ContentHash) async throws -> Bool? {
        let url = path(for: hash)
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        guard let record = try await sealer?.keys.blobKey(hash) else { return false }
        return sealedKeyID(url) == record.keyID
    }

    /// The data key id in a stored file's header; nil for a file stored in the clear or missing.
    public func sealedKeyID(_ url: URL) -> String? {
        guard let handle = FileHandle(forReadingAtPath: url.path) else { return nil }
        defer { try? handle.close() }
        return BlobSealer.keyID(ofHeader: (try? handle.read(upToCount: BlobSealer.headerSize)) ?? Data())
    }

    func createScratchFile() throws -> (URL, Int32) {
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        let temp = scratch.appendingPathComponent("blob-\(UUID().uuidString)")
        let fd = open(temp.path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else {
            throw ArchiveError(.storage, "cannot create a temporary file in \(scratch.path) (errno \(errno)); check permissions and free space")
        }
        return (temp, fd)
    }

    public func put(_ produce: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void) async throws -> BlobInfo {
        let (temp, fd) = try createScratchFile()
        var hasher = StreamingHasher()
        var closed = false
        var resealed: URL?
        defer {
            if !closed { close(fd) }
            try? FileManager.default.removeItem(at: temp)
            if let resealed { try? FileManager.default.removeItem(at: resealed) }
        }
        var buffer = [UInt8]()
        buffer.reserveCapacity(2 << 20)
        func flush() throws {
            var offset = 0
            while offset < buffer.count {
                let n = buffer.withUnsafeBytes { Foundation.write(fd, $0.baseAddress! + offset, $0.count - offset) }
                guard n > 0 else { throw ArchiveError(.storage, "write to the blob store failed (errno \(errno)); check free space") }
                offset += n
            }
            buffer.removeAll(keepingCapacity: true)
        }
        // Sealed as it streams in: the blob's bytes never reach the disk in the clear.
        let dataKey = sealer?.seals == true ? sealer?.newKey() : nil
        var sealing = dataKey.map { SealingStream(key: $0.key, keyID: $0.id) }
        try produce { chunk in
            hasher.update(chunk)
            if sealing != nil { try sealing!.update(chunk) { buffer.append(contentsOf: $0) } } else { buffer.append(contentsOf: chunk) }
            if buffer.count >= 1 << 20 { try flush() }
        }
        if sealing != nil { try sealing!.finish { buffer.append(contentsOf: $0) } }
        try flush()
        guard fsync(fd) == 0 else { throw ArchiveError(.storage, "fsync of a new blob failed (errno \(errno))") }
        close(fd)
        closed = true
        let hash = hasher.finalize()
        let info = BlobInfo(hash: hash, size: hasher.byteCount)
        let final = path(for: hash)
        var source = temp
        if let sealer, let dataKey {
            // The blob is stored under the data key the archive records for it: ours, or the one
            // another writer recorded first (then re-sealed under it).
            let settled = try await sealer.settle(hash, key: dataKey.key, keyID: dataKey.id)
            if sealedKeyID(final) == settled.id { return info }
            if !settled.isOurs {
                let again = scratch.appendingPathComponent("blob-\(UUID().uuidString)")
                resealed = again
                try BlobSealer.reseal(temp, from: dataKey.key, into: again, key: settled.key, keyID: settled.id)
                let rfd = open(again.path, O_RDONLY)
                if rfd >= 0 { fsync(rfd); close(rfd) }
                source = again
            }
            // A file stored before (in the clear, or sealed under a destroyed key) is overwritten
            // before the sealed one takes its name, so its blocks do not keep it.
            if FileManager.default.fileExists(atPath: final.path) { try Self.overwrite(final, hash) }
        } else if FileManager.default.fileExists(atPath: final.path) {
            return info
        }
        let dir = final.deletingLastPathComponent()
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        chmod(source.path, 0o440)
        guard rename(source.path, final.path) == 0 else {
            throw ArchiveError(.storage, "cannot move a new blob into \(dir.path) (errno \(errno))")
        }
        FileBlobStore.syncDirectory(dir)
        return info
    }

    public func read(_ hash: ContentHash, _ consume: (UnsafeRawBufferPointer) throws -> Void) async throws {
        let url = path(for: hash)
        let fd = open(url.path, O_RDONLY)
        guard fd >= 0 else { throw ArchiveError(.blobMissing, "blob \(hash.hex) is missing from \(root.path)") }
        defer { close(fd) }
        // One buffer for the whole file: a fresh megabyte per read costs page faults.
        let size = 1 << 20
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 16)
        defer { buffer.deallocate() }
        func next() throws -> UnsafeRawBufferPointer {
            let n = Foundation.read(fd, buffer.baseAddress!, size)
            if n < 0 { throw ArchiveError(.storage, "reading blob \(hash.hex) failed (errno \(errno))") }
            return UnsafeRawBufferPointer(rebasing: buffer[0..<n])
        }
        var chunk = try next()
        if var opening = try await sealer?.reading(hash, header: chunk) {
            while !chunk.isEmpty {
                try opening.update(chunk, consume)
                chunk = try next()
            }
            try opening.finish(consume)
            return
        }
        while !chunk.isEmpty {
            try consume(chunk)
            chunk = try next()
        }
    }

    public func rehash(_ hash: ContentHash) async throws -> BlobInfo? {
        guard sealer != nil else { return try rawHash(hash) }
        return try await rehashOpened(hash) { try rawHash(hash) }
    }

    /// The SHA-256 of the stored bytes as they lie; nil when the file is missing.
    func rawHash(_ hash: ContentHash) throws -> BlobInfo? {
        let url = path(for: hash)
        let fd = open(url.path, O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var hasher = StreamingHasher()
        let size = 4 << 20
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let n = Foundation.read(fd, buffer.baseAddress!, size)
            if n < 0 { throw ArchiveError(.storage, "reading blob \(hash.hex) failed (errno \(errno))") }
            if n == 0 { break }
            hasher.update(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
        }
        return BlobInfo(hash: hasher.finalize(), size: hasher.byteCount)
    }

    public func destroy(_ hash: ContentHash) async throws {
        let url = path(for: hash)
        // The data key first: from then on no copy of the sealed bytes opens. (Whether or not
        // this instance seals: a key another one made goes too.)
        if let sealer { try await sealer.keys.destroyBlobKey(hash) }
        try Self.overwrite(url, hash)
        if unlink(url.path) != 0, errno != ENOENT {
            throw ArchiveError(.storage, "cannot remove blob \(hash.hex) (errno \(errno)); check the permissions of \(root.path)")
        }
        FileBlobStore.syncDirectory(url.deletingLastPathComponent())
    }

    /// Overwrites a stored file with zeros and syncs it, so the file system's free blocks do not
    /// keep its bytes once it is unlinked or replaced (on a file system that writes in place;
    /// copy-on-write file systems and SSD wear levelling may keep old blocks: docs/records/trust.md).
    static func overwrite(_ url: URL, _ hash: ContentHash) throws {
        chmod(url.path, 0o600)
        let fd = open(url.path, O_WRONLY)
        if fd >= 0 {
            defer { close(fd) }
            var st = stat()
            if fstat(fd, &st) == 0, st.st_size > 0 {
                let zeros = [UInt8](repeating: 0, count: 1 << 20)
                var left = Int(st.st_size)
                while left > 0 {
                    let n = zeros.withUnsafeBytes { Foundation.write(fd, $0.baseAddress!, min(left, $0.count)) }
                    guard n > 0 else {
                        throw ArchiveError(.storage, "cannot overwrite blob \(hash.hex) before removing it (errno \(errno)); check free space and permissions")
                    }
                    left -= n
                }
                guard fsync(fd) == 0 else { throw ArchiveError(.storage, "cannot sync the overwritten blob \(hash.hex) (errno \(errno))") }
            }
        } else if errno != ENOENT {
            throw ArchiveError(.storage, "cannot open blob \(hash.hex) to overwrite it (errno \(errno)); check the permissions of \(url.deletingLastPathComponent().path)")
        }
    }

    static func syncDirectory(_ url: URL) {
        let fd = open(url.path, O_RDONLY)
        if fd >= 0 {
            fsync(fd)
            close(fd)
        }
    }
}
