import Archive
import ArchivePostgres
import Foundation
import Logging
import ObjectStorage
import Recordkeeper

/// Opening the production backend: records on PostgreSQL, blobs in S3 object storage with
/// Object Lock (or a shared filesystem). The data directory then holds no records: it is the
/// instance's scratch space (exports being unpacked, blobs being hashed) and its local lock.
enum ProductionBackend {
    static let databaseVariable = "RECORDKEEPER_DATABASE_URL"
    static let blobStoreVariable = "RECORDKEEPER_BLOB_STORE"

    /// The blob store named by `spec`: `s3://bucket?endpoint=…&region=…&retention-days=N`
    /// (credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY) or an absolute path on a
    /// filesystem every instance mounts.
    static func blobStore(_ spec: String, scratch: URL, sealer: BlobSealer? = nil) throws -> any BlobStore {
        if spec.lowercased().hasPrefix("s3://") {
            let location = try S3Location.parse(spec)
            let days = URLComponents(string: spec)?.queryItems?.first { $0.name == "retention-days" }?.value
            guard days.map({ Int($0).map { $0 >= 0 } ?? false }) ?? true else {
                throw ArchiveError(.invalid, "retention-days in the blob store URL must be a whole number of days")
            }
            let lock: S3BlobStore.LockPolicy = days.flatMap(Int.init).map { $0 > 0 ? .compliance(days: $0) : .none } ?? .none
            return S3BlobStore(client: try S3Client.fromEnvironment(location), scratch: scratch, lock: lock, sealer: sealer)
        }
        guard spec.hasPrefix("/") else {
            throw ArchiveError(.invalid, "--blob-store is s3://bucket?endpoint=… or an absolute path every instance mounts (not \(spec))")
        }
        let root = URL(fileURLWithPath: spec, isDirectory: true)
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        return FileBlobStore(root: root, scratch: scratch, sealer: sealer)
    }

    /// Opens (and brings up to date) the database, with the instance's data directory made if
    /// missing. `initialize` writes the archive's first audit entry when the log is empty.
    static func open(databaseURL: String, blobStore spec: String?, directory: DataDirectory, actor: String, initialize: Bool) async throws -> ArchiveHandle {
        guard let spec, !spec.isEmpty else {
            throw ArchiveError(.invalid, "with --database-url, say where blobs go with --blob-store (s3://bucket?endpoint=… or a shared absolute path), "
                + "or set \(blobStoreVariable)")
        }
        try FileManager.default.createDirectory(at: directory.scratchURL, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let store = try await PostgresArchiveStore.open(url: databaseURL, logger: Logger(label: "recordkeeper.postgres"))
        // Blobs are sealed when the operator names the key-encryption key every instance shares
        // (a key made in one instance's data directory would open nothing on the others).
        let kekFile = ProcessInfo.processInfo.environment[KeyEncryptionKeyFile.environmentVariable].flatMap { $0.isEmpty ? nil : URL(fileURLWithPath: $0) }
        // Without a KEK nothing new is sealed, but data keys other instances made are still
        // honoured on reads and destroyed with their blobs.
        let sealer = KeyEncryptionKeyFile.sealer(keys: store, at: kekFile, createIfNone: false)
        if let kekFile { _ = try await KeyEncryptionKeyFile.load(at: kekFile, keys: store, createIfNone: false) }
        let blobs = try blobStore(spec, scratch: directory.scratchURL, sealer: sealer)
        if initialize, try await store.auditEntries(afterSequence: 0, limit: 1).isEmpty {
            try await store.appendAudit(AuditDraft(actor: actor, action: "archive.init", target: "archive", detail: ["backend": "postgresql"]))
        }
        return ArchiveHandle(directory: directory, store: store, blobs: blobs, archiveLock: store)
    }
}
