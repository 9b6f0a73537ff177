import Archive
import Crypto
import Foundation
import RecordkeeperCore

/// The archive's key-encryption key (KEK) as a file: 32 bytes in base64, owner-only, outside the
/// database. It wraps every blob's data key (decision 0009). Losing it loses every sealed blob;
/// back it up apart from the database and the blob store (docs/operations/keys.md).
public enum KeyEncryptionKeyFile {
    public static let environmentVariable = "RECORDKEEPER_KEK_FILE"

    /// `RECORDKEEPER_KEK_FILE`, else `keys/blob.kek` in the data directory.
    public static func location(dataDirectory: URL, environment: [String: String] = ProcessInfo.processInfo.environment) -> URL {
        if let path = environment[environmentVariable], !path.isEmpty { return URL(fileURLWithPath: path) }
        return dataDirectory.appendingPathComponent("keys/blob.kek")
    }

    /// Reads the KEK; with `createIfNone`, makes one when no file exists. A missing file is made
    /// only while no blob is sealed (a lost key is reported, never papered over with a new one).
    public static func load(at url: URL, keys: any BlobKeyStore, createIfNone: Bool) async throws -> LocalKeyEncryptionKey {
        do {
            if let raw = try KeyFile.read(url) { return LocalKeyEncryptionKey(raw: raw) }
            guard createIfNone else {
                throw ArchiveError(.refused, "the key-encryption key is missing (\(url.path)); set \(environmentVariable) to its path")
            }
            if let sealed = try await keys.blobKeys(after: nil, limit: 1).first {
                throw ArchiveError(.refused, "the key-encryption key is missing (\(url.path)) and blobs are sealed under it (key \(sealed.kekID)); "
                                   + "restore it from its backup, or set \(environmentVariable) to its path. Without it the sealed blobs cannot be read")
            }
            return try readOrCreate(at: url)
        } catch let f as KeyFile.Failure {
            throw f.archiveError("the key-encryption key", at: url, shape: "32 bytes in base64")
        }
    }

    /// The KEK in the file at `url`, made there (32 random bytes, owner-only) when there is no
    /// file. Callers decide whether making one is allowed.
    public static func readOrCreate(at url: URL) throws -> LocalKeyEncryptionKey {
        if let raw = try KeyFile.read(url) { return LocalKeyEncryptionKey(raw: raw) }
        let raw = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }
        if try KeyFile.create(url, key: raw) { return LocalKeyEncryptionKey(raw: raw) }
        // Another process made it first.
        guard let theirs = try KeyFile.read(url) else { throw KeyFile.Failure.malformed }
        return LocalKeyEncryptionKey(raw: theirs)
    }

    /// A sealer that reads (or first makes) the KEK at `url` once, when a blob first needs it;
    /// without a `url`, one that seals nothing new but still honours and destroys data keys.
    public static func sealer(keys: any BlobKeyStore, at url: URL?, createIfNone: Bool) -> BlobSealer {
        guard let url else { return BlobSealer(keys: keys, kek: nil) }
        let cache = KEKCache()
        return BlobSealer(keys: keys) {
            try await cache.get { try await load(at: url, keys: keys, createIfNone: createIfNone) }
        }
    }
}

extension KeyFile.Failure {
    /// What to tell the operator about a key file (`what`: "the signing key"; `shape`: what the
    /// file must hold).
    public func archiveError(_ what: String, at url: URL, shape: String) -> ArchiveError {
        switch self {
        case .tooOpen(let mode): ArchiveError(.refused, "\(what) at \(url.path) can be read by others (mode \(mode)); make it owner-only: chmod 600 \(url.path)")
        case .notOwned(let uid): ArchiveError(.refused, "\(what) at \(url.path) belongs to another user (uid \(uid)); it must be this account's own")
        case .malformed: ArchiveError(.invalid, "\(what) at \(url.path) is not \(shape)")
        case .unwritable(let e): ArchiveError(.invalid, "cannot write \(what) at \(url.path) (errno \(e))")
        }
    }
}

/// The KEK once loaded, by one load at a time (concurrent first uses must not race to make it);
/// a failed load is retried on the next use: the operator may restore the file.
private actor KEKCache {
    var kek: LocalKeyEncryptionKey?
    var loading: Task<LocalKeyEncryptionKey, any Error>?

    func get(_ load: @escaping @Sendable () async throws -> LocalKeyEncryptionKey) async throws -> LocalKeyEncryptionKey {
        if let kek { return kek }
        let task = loading ?? Task { try await load() }
        loading = task
        do {
            let loaded = try await task.value
            kek = loaded
            loading = nil
            return loaded
        } catch {
            loading = nil
            throw error
        }
    }
}

/// The archive's keys for blobs at rest: how many blobs are sealed and under which KEK, sealing
/// the blobs stored in the clear before sealing began, and rotating the KEK.
public struct BlobKeyService: Sendable {
    public let archive: ArchiveHandle
    public init(archive: ArchiveHandle) { self.archive = archive }

    public struct Status: Sendable, Codable, Hashable {
        public var sealing: Bool
        public var kekID: String?
        /// Data keys by the KEK that wraps them.
        public var keysByKEK: [String: Int]
        enum CodingKeys: String, CodingKey { case sealing, kekID = "kek_id", keysByKEK = "keys_by_kek" }
    }

    func sealer() throws -> BlobSealer {
        guard let sealer = archive.blobs.sealer, sealer.seals else {
            throw ArchiveError(.refused, "this archive stores blobs in the clear: name the key-encryption key every instance shares with "
                               + "\(KeyEncryptionKeyFile.environmentVariable)")
        }
        return sealer
    }

    public func status() async throws -> Status {
        var byKEK: [String: Int] = [:]
        var after: ContentHash?
        while true {
            let page = try await archive.store.blobKeys(after: after, limit: 1000)
            guard let last = page.last else { break }
            for k in page { byKEK[k.kekID, default: 0] += 1 }
            after = last.hash
        }
        let sealer = archive.blobs.sealer
        return Status(sealing: sealer != nil, kekID: try await sealer?.keyEncryptionKey().id, keysByKEK: byKEK)
    }

    /// Seals every live blob still stored in the clear (stored before sealing began), by storing
    /// it again: the sealed file replaces it (on S3 a new version; a clear version Object Lock
    /// keeps stays until the lock ends). Returns how many were sealed and how many already were.
    public func sealClearBlobs(actor: String, progress: (@Sendable (Int) -> Void)? = nil) async throws -> (sealed: Int, already: Int) {
        _ = try sealer()
        var sealed = 0, already = 0
        var after: ContentHash?
        try await archive.withWriteLock(purpose: "keys.seal", shared: true) {
            while true {
                let page = try await archive.store.blobs(after: after, limit: 256)
                guard let last = page.last else { break }
                after = last.hash
                for blob in page {
                    if try await archive.blobs.sealInPlace(blob.hash) == false { already += 1; continue }
                    sealed += 1
                    progress?(sealed)
                }
            }
        }
        try await archive.store.appendAudit(AuditDraft(actor: actor, action: "keys.seal", target: "blob-keys", detail: [
            "sealed": String(sealed), "already_sealed": String(already)]))
        return (sealed, already)
    }

    /// Re-wraps every data key under `newKEK`. Resumable: keys already under it are left. The
    /// caller then makes `newKEK` the configured one (and, once every database backup made under
    /// the old KEK has expired, destroys the old one: the wrapped keys those backups hold then
    /// open nothing).
    public func rewrap(to newKEK: any KeyEncryptionKey, actor: String) async throws -> Int {
        // Exclusive: no capture may store a key wrapped by the old KEK behind the scan.
        try await archive.withWriteLock(purpose: "keys.rotate-kek") { try await rewrapLocked(to: newKEK, actor: actor) }
    }

    func rewrapLocked(to newKEK: any KeyEncryptionKey, actor: String) async throws -> Int {
        let old = try await sealer().keyEncryptionKey()
        var rewrapped = 0
        var after: ContentHash?
        while true {
            let page = try await archive.store.blobKeys(after: after, limit: 500)
            guard let last = page.last else { break }
            after = last.hash
            for k in page where k.kekID != newKEK.id {
                guard k.kekID == old.id else {
                    throw ArchiveError(.refused, "blob \(k.hash.hex)'s data key is wrapped by \(k.kekID), neither the current key-encryption key "
                                       + "(\(old.id)) nor the new one (\(newKEK.id)); nothing more was changed")
                }
                let key = try old.unwrap(k.wrapped, for: k.hash)
                try await archive.store.rewrapBlobKey(k.hash, keyID: k.keyID, kekID: newKEK.id, wrapped: try newKEK.wrap(key, for: k.hash))
                rewrapped += 1
            }
        }
        try await archive.store.appendAudit(AuditDraft(actor: actor, action: "keys.rotate-kek", target: "blob-keys", detail: [
            "old_kek": old.id, "new_kek": newKEK.id, "rewrapped": String(rewrapped)]))
        return rewrapped
    }
}
