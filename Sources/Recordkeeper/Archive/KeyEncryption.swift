import Archive
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
            var raw = Data(count: 32)
            for i in 0..<32 { raw[i] = UInt8.random(in: 0...255) }
            return try KeyFile.create(url, key: raw) ? LocalKeyEncryptionKey(raw: raw) : try await load(at: url, keys: keys, createIfNone: false)
        } catch let f as KeyFile.Failure {
            switch f {
            case .tooOpen(let mode): throw ArchiveError(.refused, "the key-encryption key at \(url.path) can be read by others (mode \(mode)); make it owner-only: chmod 600 \(url.path)")
            case .notOwned(let uid): throw ArchiveError(.refused, "the key-encryption key at \(url.path) belongs to another user (uid \(uid)); it must be this account's own")
            case .malformed: throw ArchiveError(.invalid, "the key-encryption key at \(url.path) is not 32 bytes in base64")
            case .unwritable(let e): throw ArchiveError(.invalid, "cannot write the key-encryption key at \(url.path) (errno \(e))")
            }
        }
    }

    /// A sealer that reads (or first makes) the KEK at `url` once, when a blob first needs it.
    public static func sealer(keys: any BlobKeyStore, at url: URL, createIfNone: Bool) -> BlobSealer {
        let cache = KEKCache()
        return BlobSealer(keys: keys) {
            try await cache.get { try await load(at: url, keys: keys, createIfNone: createIfNone) }
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
