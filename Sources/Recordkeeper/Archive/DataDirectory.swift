import Archive
import Foundation
import RecordkeeperCore

/// Where an archive lives on disk and how to open it.
///
/// Layout: `archive.sqlite` (record store, WAL), `blobs/` (content-addressed originals and
/// attachments), `tmp/` (scratch space for extraction), `recordkeeper.json` (format marker).
public struct DataDirectory: Sendable, Hashable {
    /// Default location, relative to the working directory.
    public static let defaultPath = "./recordkeeper-data"
    /// Environment variable naming the data directory (a `--data-dir` flag wins over it).
    public static let environmentVariable = "RECORDKEEPER_DATA_DIR"
    static let markerName = "recordkeeper.json"
    static let formatVersion = 1

    public let url: URL

    public init(url: URL) { self.url = url.standardizedFileURL }

    /// Resolves the directory: flag, then `RECORDKEEPER_DATA_DIR`, then the default.
    public static func resolve(flag: String?, environment: [String: String] = ProcessInfo.processInfo.environment) -> DataDirectory {
        let path = flag ?? environment[environmentVariable].flatMap { $0.isEmpty ? nil : $0 } ?? defaultPath
        return DataDirectory(url: URL(fileURLWithPath: (path as NSString).expandingTildeInPath))
    }

    public var databaseURL: URL { url.appendingPathComponent("archive.sqlite") }
    public var blobsURL: URL { url.appendingPathComponent("blobs", isDirectory: true) }
    public var scratchURL: URL { url.appendingPathComponent("tmp", isDirectory: true) }
    var markerURL: URL { url.appendingPathComponent(DataDirectory.markerName) }

    public var isInitialized: Bool { FileManager.default.fileExists(atPath: markerURL.path) }

    /// Creates a new, empty archive. Refuses a directory that already holds one, or that holds
    /// other files (it never mixes an archive into unrelated data).
    public func create(actor: String) async throws -> ArchiveHandle {
        let fm = FileManager.default
        if isInitialized {
            throw ArchiveError(.alreadyInitialized, "\(url.path) already holds a Recordkeeper archive; use it as it is, or choose another --data-dir")
        }
        if let existing = try? fm.contentsOfDirectory(atPath: url.path), !existing.filter({ !$0.hasPrefix(".") }).isEmpty {
            throw ArchiveError(.alreadyInitialized, "\(url.path) is not empty; choose an empty or new directory for the archive")
        }
        try fm.createDirectory(at: blobsURL, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try fm.createDirectory(at: scratchURL, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        chmod(url.path, 0o700)
        let handle = try ArchiveHandle(directory: self)
        let marker = "{\"format\": \(DataDirectory.formatVersion), \"created\": \"\(Timestamp.iso(millis: Timestamp.nowMillis()))\"}\n"
        // Written beside its final name and renamed (Foundation's `.atomic` on Linux leaves an
        // empty TemporaryDirectory.* behind in /tmp on every call).
        let partial = url.appendingPathComponent(".\(DataDirectory.markerName).partial")
        try Data(marker.utf8).write(to: partial)
        guard rename(partial.path, markerURL.path) == 0 else {
            throw ArchiveError(.storage, "cannot write \(markerURL.path) (errno \(errno))")
        }
        // The key-encryption key from the start, so that the operator backs it up with the rest.
        _ = try await KeyEncryptionKeyFile.load(at: KeyEncryptionKeyFile.location(dataDirectory: url), keys: handle.store, createIfNone: true)
        try await handle.store.appendAudit(AuditDraft(actor: actor, action: "archive.init", target: "archive",
                                                      detail: ["format": String(DataDirectory.formatVersion)]))
        return handle
    }

    /// Opens an existing archive. `kekFile`: where its key-encryption key is, when not where
    /// `RECORDKEEPER_KEK_FILE` or the data directory say (`migrate` opens its source with the
    /// source's own key while the variable names the target's).
    public func open(kekFile: URL? = nil) throws -> ArchiveHandle {
        guard isInitialized else {
            throw ArchiveError(.notInitialized, "no Recordkeeper archive at \(url.path); run `recordkeeper init` first, or pass --data-dir / set \(DataDirectory.environmentVariable)")
        }
        removeStaleScratchFiles()
        return try ArchiveHandle(directory: self, kekFile: kekFile)
    }

    /// Scratch files (extracted chat texts, blobs being written) left by a crash hold record
    /// content in plain text; any older than a day cannot belong to a running ingest.
    func removeStaleScratchFiles() {
        let fm = FileManager.default
        let cutoff = Date().addingTimeInterval(-86_400)
        for name in (try? fm.contentsOfDirectory(atPath: scratchURL.path)) ?? [] {
            let url = scratchURL.appendingPathComponent(name)
            if let modified = (try? fm.attributesOfItem(atPath: url.path))?[.modificationDate] as? Date, modified < cutoff {
                try? fm.removeItem(at: url)
            }
        }
    }
}

/// An open archive: the record store and the blob store that belong together.
public struct ArchiveHandle: Sendable {
    public let directory: DataDirectory
    public let store: any ArchiveStore
    public let blobs: any BlobStore

    init(directory: DataDirectory, kekFile: URL? = nil) throws {
        self.directory = directory
        let store = try SQLiteArchiveStore(path: directory.databaseURL.path)
        self.store = store
        // Blobs are sealed under the key-encryption key kept beside the database (or where
        // RECORDKEEPER_KEK_FILE says), made by `init` (decision 0009).
        self.blobs = FileBlobStore(root: directory.blobsURL, scratch: directory.scratchURL,
                                   sealer: KeyEncryptionKeyFile.sealer(keys: store, at: kekFile ?? KeyEncryptionKeyFile.location(dataDirectory: directory.url),
                                                                       createIfNone: true))
    }

    /// The data directory's write lock, shared by every handle of this process on this directory.
    public var writeLock: WriteLock { WriteLock.shared(for: directory.url) }

    /// Where waits for the write lock are reported ("waiting for the write lock held by pid N
    /// (ingest) since T"): the CLI prints them on stderr, the server logs them.
    public var onLockWait: (@Sendable (String) -> Void)?

    /// Runs `body` holding the data directory's write lock, so that an ingest and a disposition
    /// (in this process or another) never interleave: a disposition could otherwise remove a
    /// file that an ingest running at that moment is about to use. Asking again from inside
    /// `body` runs the inner body at once (the lock knows its holder); waiting for another
    /// holder is reported through `onLockWait` and ends with `ArchiveError(.busy)` after
    /// `RECORDKEEPER_WRITE_LOCK_TIMEOUT` seconds (default 120).
    ///
    /// `shared`: on a shared database, other instances' shared holders (ingests) run at the same
    /// time; exclusive holders (dispositions) wait for all of them. `archiveTimeout` bounds the
    /// wait for that database lock (zero: take it only if free).
    public func withWriteLock<T>(purpose: String, shared: Bool = false, archiveTimeout: Duration? = nil,
                                 _ body: () async throws -> T) async throws -> T {
        if writeLock.isHeldByCurrentTask { return try await body() }
        return try await writeLock.withLock(purpose: purpose, onWait: onLockWait) {
            // Then, on a shared database, the lock every instance takes.
            guard let archiveLock else { return try await body() }
            return try await archiveLock.withArchiveLock(purpose: purpose, shared: shared, timeout: archiveTimeout ?? WriteLock.configuredTimeout(),
                                                         onWait: onLockWait, body)
        }
    }

    /// The archive-wide lock of a shared database (PostgreSQL): nil for an archive in one data
    /// directory, whose `flock` already covers every process that can open it.
    public var archiveLock: (any ArchiveWideLock)?

    /// Assembles a handle from parts (tests, other backends).
    public init(directory: DataDirectory, store: any ArchiveStore, blobs: any BlobStore, archiveLock: (any ArchiveWideLock)? = nil) {
        self.directory = directory
        self.store = store
        self.blobs = blobs
        self.archiveLock = archiveLock
    }
}
