import Crypto
import Foundation
import RecordkeeperCore

/// The operator's key-encryption key (KEK): it wraps the data key each blob is sealed under, and
/// is kept outside the database. `LocalKeyEncryptionKey` is a 32-byte key in a file; a KMS or HSM
/// implements this protocol without anything else changing (decision 0009).
public protocol KeyEncryptionKey: Sendable {
    /// Names the key in every data key it wraps (a rotation re-wraps those under an older id).
    var id: String { get }
    func wrap(_ dataKey: SymmetricKey, for hash: ContentHash) throws -> Data
    func unwrap(_ wrapped: Data, for hash: ContentHash) throws -> SymmetricKey
}

/// A KEK held in process memory: AES-256-GCM over the data key, bound to the blob's hash.
public struct LocalKeyEncryptionKey: KeyEncryptionKey, CustomStringConvertible {
    private let key: SymmetricKey
    public let id: String

    public init(raw: Data) {
        key = SymmetricKey(data: raw)
        // An id that names the key without revealing it (a domain-separated digest).
        id = "local:" + String(ContentHash.of(Data("recordkeeper key-encryption key id\n".utf8) + raw).hex.prefix(16))
    }

    static func context(_ hash: ContentHash) -> Data { Data("recordkeeper blob data key v1 \(hash.hex)".utf8) }

    public func wrap(_ dataKey: SymmetricKey, for hash: ContentHash) throws -> Data {
        let raw = dataKey.withUnsafeBytes { Data($0) }
        return try AES.GCM.seal(raw, using: key, authenticating: Self.context(hash)).combined!
    }

    public func unwrap(_ wrapped: Data, for hash: ContentHash) throws -> SymmetricKey {
        do {
            return SymmetricKey(data: try AES.GCM.open(AES.GCM.SealedBox(combined: wrapped), using: key, authenticating: Self.context(hash)))
        } catch {
            throw ArchiveError(.storage, "the data key of blob \(hash.hex) does not open with key-encryption key \(id): "
                               + "the wrong key file, or the wrapped key was altered")
        }
    }

    /// Never the key itself, whatever prints it.
    public var description: String { "key-encryption key \(id)" }
}

/// A blob's data key as the record store keeps it: wrapped by the KEK. Destroying this row is the
/// blob's cryptographic erase: its sealed bytes, wherever copies of them remain (object versions
/// under Object Lock, replicas, backups of the blob store), can no longer be opened.
public struct BlobDataKey: Sendable, Hashable {
    public var hash: ContentHash
    /// 32 hex digits, random; also in the header of the sealed bytes, so a file sealed under an
    /// earlier key for the same hash is told apart.
    public var keyID: String
    public var kekID: String
    public var wrapped: Data
    public init(hash: ContentHash, keyID: String, kekID: String, wrapped: Data) {
        self.hash = hash
        self.keyID = keyID
        self.kekID = kekID
        self.wrapped = wrapped
    }
}

/// Where blobs' data keys live: the record store, beside the rows that say which blobs exist.
public protocol BlobKeyStore: Sendable {
    func blobKey(_ hash: ContentHash) async throws -> BlobDataKey?
    /// Records `key` unless the blob already has one; returns the key the blob has now (another
    /// writer's, if it came first).
    func addBlobKey(_ key: BlobDataKey) async throws -> BlobDataKey
    /// Destroys a blob's data key. The store refuses unless the blob is marked destroyed (an
    /// executed disposition released it).
    func destroyBlobKey(_ hash: ContentHash) async throws
    /// Data keys in hash order after `after` (verify, KEK rotation).
    func blobKeys(after: ContentHash?, limit: Int) async throws -> [BlobDataKey]
    /// Re-wraps a data key under another KEK (rotation); the key itself and its id do not change.
    func rewrapBlobKey(_ hash: ContentHash, keyID: String, kekID: String, wrapped: Data) async throws
}

/// Seals blobs at rest: each blob under its own random AES-256 data key, in 1 MiB AES-GCM chunks.
///
/// Layout: `RKSEAL1\n`, the data key's 16-byte id, the chunk size (UInt32, big-endian); then each
/// chunk's ciphertext and 16-byte tag. A chunk's nonce is its index (the key seals one blob
/// only) and its additional data the header, its index and whether it is the last, so chunks
/// cannot be reordered, dropped or cut off without the open failing.
public struct BlobSealer: Sendable {
    public static let magic: [UInt8] = Array("RKSEAL1\n".utf8)
    public static let headerSize = 8 + 16 + 4
    /// Fixed for good: a re-seal under an existing data key (`settle`) repeats its nonces, which
    /// is safe only because the same plaintext in the same chunks gives the same ciphertext. A
    /// different chunk size needs a new magic (and `reseal` refusing to mix them).
    static let chunkSize = 1 << 20
    static let tagSize = 16

    public let keys: any BlobKeyStore
    private let kek: (@Sendable () async throws -> any KeyEncryptionKey)?

    /// `kek` is asked for the KEK when a blob is first sealed or opened (so that an archive whose
    /// KEK file is missing still opens, and says what is missing when it needs the key). Without
    /// one, new blobs are stored in the clear; the data keys are still looked up (a blob with one
    /// is sealed, and does not open) and still destroyed with their blobs.
    public init(keys: any BlobKeyStore, kek: (@Sendable () async throws -> any KeyEncryptionKey)?) {
        self.keys = keys
        self.kek = kek
    }

    /// True when new blobs are sealed.
    public var seals: Bool { kek != nil }

    public func keyEncryptionKey() async throws -> any KeyEncryptionKey {
        guard let kek else {
            throw ArchiveError(.refused, "sealed blobs need the key-encryption key: set RECORDKEEPER_KEK_FILE to the file every instance shares")
        }
        return try await kek()
    }

    /// How a stored blob is to be read, decided by the record store (never by the file's first
    /// bytes, which a sender controls): in the clear when it has no data key; otherwise sealed
    /// under that key, and refused if the file is not.
    public func reading(_ hash: ContentHash, header: some Collection<UInt8>) async throws -> OpeningStream? {
        guard let record = try await keys.blobKey(hash) else { return nil }
        guard let id = BlobSealer.keyID(ofHeader: header) else {
            throw ArchiveError(.blobDamaged, "blob \(hash.hex) has a data key but its file is not sealed: the file was replaced, or sealing it was interrupted "
                               + "(`recordkeeper keys seal` finishes it)")
        }
        guard id == record.keyID else {
            throw ArchiveError(.blobDamaged, "blob \(hash.hex) is sealed under data key \(id), not the one the archive records (\(record.keyID)): the file was replaced")
        }
        return OpeningStream(key: try await unwrap(record))
    }

    /// A new data key, ready to seal with.
    public func newKey() -> (key: SymmetricKey, id: [UInt8]) {
        (SymmetricKey(size: .bits256), (0..<16).map { _ in UInt8.random(in: 0...255) })
    }

    static func header(keyID: [UInt8]) -> [UInt8] {
        magic + keyID + withUnsafeBytes(of: UInt32(chunkSize).bigEndian) { Array($0) }
    }

    static func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    /// The data key id a sealed file's first bytes name, or nil when they are not a sealed header.
    public static func keyID(ofHeader bytes: some Collection<UInt8>) -> String? {
        let b = Array(bytes.prefix(headerSize))
        guard b.count == headerSize, Array(b[0..<8]) == magic else { return nil }
        return hex(Array(b[8..<24]))
    }

    /// A recorded data key, unwrapped by the configured KEK.
    func unwrap(_ record: BlobDataKey) async throws -> SymmetricKey {
        let kek = try await keyEncryptionKey()
        guard record.kekID == kek.id else {
            throw ArchiveError(.refused, "blob \(record.hash.hex)'s data key is wrapped by key-encryption key \(record.kekID), not by the one configured (\(kek.id)); "
                               + "configure that key, or finish the rotation (`recordkeeper keys rotate-kek`)")
        }
        return try kek.unwrap(record.wrapped, for: record.hash)
    }

    /// Records the data key a blob was just sealed under, unless it already has one: then the
    /// blob is to be stored under that key, and the caller re-seals (`reseal`).
    public func settle(_ hash: ContentHash, key: SymmetricKey, keyID: [UInt8]) async throws -> (key: SymmetricKey, id: String, isOurs: Bool) {
        let ours = Self.hex(keyID)
        var record = try await keys.blobKey(hash)
        if record == nil {
            let kek = try await keyEncryptionKey()
            record = try await keys.addBlobKey(BlobDataKey(hash: hash, keyID: ours, kekID: kek.id, wrapped: try kek.wrap(key, for: hash)))
        }
        guard let record else { throw ArchiveError(.storage, "blob \(hash.hex)'s data key could not be recorded") }
        if record.keyID == ours { return (key, ours, true) }
        return (try await unwrap(record), record.keyID, false)
    }

    /// Copies a sealed file into another, opened with one key and sealed under another.
    public static func reseal(_ source: URL, from: SymmetricKey, into target: URL, key: SymmetricKey, keyID: String) throws {
        guard let out = OutputStream(url: target, append: false) else { throw ArchiveError(.storage, "cannot write \(target.path)") }
        out.open()
        defer { out.close() }
        var sealing = SealingStream(key: key, keyID: Array(hexBytes(keyID)))
        func emit(_ bytes: UnsafeRawBufferPointer) throws {
            guard let base = bytes.bindMemory(to: UInt8.self).baseAddress, !bytes.isEmpty else { return }
            guard out.write(base, maxLength: bytes.count) == bytes.count else { throw ArchiveError(.storage, "cannot write \(target.path); check free space") }
        }
        var opening = OpeningStream(key: from)
        let handle = try FileHandle(forReadingFrom: source)
        defer { try? handle.close() }
        while let data = try handle.read(upToCount: chunkSize), !data.isEmpty {
            try data.withUnsafeBytes { try opening.update($0) { try sealing.update($0, emit) } }
        }
        try opening.finish { try sealing.update($0, emit) }
        try sealing.finish(emit)
    }

    static func hexBytes(_ hex: String) -> [UInt8] {
        var out: [UInt8] = []
        var i = hex.startIndex
        while i < hex.endIndex, let j = hex.index(i, offsetBy: 2, limitedBy: hex.endIndex) {
            out.append(UInt8(hex[i..<j], radix: 16) ?? 0)
            i = j
        }
        return out
    }

    static func nonce(_ index: UInt64) -> AES.GCM.Nonce {
        try! AES.GCM.Nonce(data: [0, 0, 0, 0] + withUnsafeBytes(of: index.bigEndian) { Array($0) })
    }

    static func additionalData(header: [UInt8], index: UInt64, final: Bool) -> [UInt8] {
        header + withUnsafeBytes(of: index.bigEndian) { Array($0) } + [final ? 1 : 0]
    }
}

/// Seals a byte stream: the header, then every chunk once the next byte shows it is not the last.
public struct SealingStream {
    let key: SymmetricKey
    let header: [UInt8]
    private var pending: [UInt8] = []
    private var index: UInt64 = 0
    private var started = false

    public init(key: SymmetricKey, keyID: [UInt8]) {
        self.key = key
        header = BlobSealer.header(keyID: keyID)
        pending.reserveCapacity(BlobSealer.chunkSize * 2)
    }

    public mutating func update(_ bytes: UnsafeRawBufferPointer, _ emit: (UnsafeRawBufferPointer) throws -> Void) throws {
        if !started { started = true; try header.withUnsafeBytes(emit) }
        var input = bytes[...]
        while !input.isEmpty {
            // A full chunk goes out only once more bytes show it is not the last.
            if pending.count == BlobSealer.chunkSize {
                try seal(pending, final: false, emit)
                pending.removeAll(keepingCapacity: true)
            }
            let take = min(BlobSealer.chunkSize - pending.count, input.count)
            pending.append(contentsOf: input.prefix(take))
            input = input.dropFirst(take)
        }
    }

    public mutating func finish(_ emit: (UnsafeRawBufferPointer) throws -> Void) throws {
        if !started { started = true; try header.withUnsafeBytes(emit) }
        try seal(pending, final: true, emit)
        pending.removeAll()
    }

    /// Seals one chunk and hands out its ciphertext and tag where they lie (no copies: each
    /// allocation of a megabyte costs page faults).
    private mutating func seal(_ chunk: [UInt8], final: Bool, _ emit: (UnsafeRawBufferPointer) throws -> Void) throws {
        let box = try AES.GCM.seal(chunk, using: key, nonce: BlobSealer.nonce(index),
                                   authenticating: BlobSealer.additionalData(header: header, index: index, final: final))
        index += 1
        try box.ciphertext.withUnsafeBytes(emit)
        try box.tag.withUnsafeBytes(emit)
    }
}

/// Opens a sealed byte stream, giving out each chunk's plaintext once its tag checks. Holds back
/// one chunk until it knows whether it is the last.
public struct OpeningStream {
    let key: SymmetricKey
    private var header: [UInt8]?
    private var buffer: [UInt8] = []
    private var index: UInt64 = 0
    /// The data key id the header named.
    public private(set) var keyID: String?

    public init(key: SymmetricKey) { self.key = key }

    public mutating func update(_ bytes: UnsafeRawBufferPointer, _ emit: (UnsafeRawBufferPointer) throws -> Void) throws {
        var input = bytes[...]
        if header == nil {
            let take = min(BlobSealer.headerSize - buffer.count, input.count)
            buffer.append(contentsOf: input.prefix(take))
            input = input.dropFirst(take)
            guard buffer.count == BlobSealer.headerSize else { return }
            guard let id = BlobSealer.keyID(ofHeader: buffer) else { throw Self.damaged("its header is not a sealed blob's") }
            header = buffer
            keyID = id
            buffer.removeAll(keepingCapacity: true)
        }
        let sealed = BlobSealer.chunkSize + BlobSealer.tagSize
        while !input.isEmpty {
            if buffer.count == sealed {
                try open(buffer, final: false, emit)
                buffer.removeAll(keepingCapacity: true)
            }
            let take = min(sealed - buffer.count, input.count)
            buffer.append(contentsOf: input.prefix(take))
            input = input.dropFirst(take)
        }
    }

    public mutating func finish(_ emit: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard header != nil else { throw Self.damaged("it is shorter than a sealed blob's header") }
        guard buffer.count >= BlobSealer.tagSize else { throw Self.damaged("it ends inside a chunk") }
        try open(buffer, final: true, emit)
        buffer.removeAll()
    }

    private mutating func open(_ chunk: [UInt8], final: Bool, _ emit: (UnsafeRawBufferPointer) throws -> Void) throws {
        let split = chunk.count - BlobSealer.tagSize
        let plain: Data
        do {
            let box = try AES.GCM.SealedBox(nonce: BlobSealer.nonce(index), ciphertext: chunk[0..<split], tag: chunk[split...])
            plain = try AES.GCM.open(box, using: key, authenticating: BlobSealer.additionalData(header: header!, index: index, final: final))
        } catch {
            throw Self.damaged("chunk \(index) does not open with its data key (altered, reordered or cut short)")
        }
        index += 1
        try plain.withUnsafeBytes(emit)
    }

    static func damaged(_ why: String) -> ArchiveError { ArchiveError(.blobDamaged, "a sealed blob is damaged: \(why)") }
}
