import ArgumentParser
import Archive
import ArchivePostgres
import Foundation
import Logging
import Recordkeeper

@main
struct RecordkeeperCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recordkeeper",
        abstract: "A tamper-evident records archive for the messages an organisation's people send.",
        discussion: """
            Capture WhatsApp exports into an archive that keeps the original bytes, hashes every \
            record, audits every read and write, and can prove nothing was altered. Every record \
            gets its retention from the file plan (Capstone designations included); legal holds \
            freeze what is in scope; records leave only through a disposition approved by a \
            second records officer, which leaves tombstones and a certificate, or by transfer to \
            the National Archives as a BagIt package.

            Exit codes: 0 success; 1 error; 2 usage error; 3 verify found problems; \
            4 some sources could not be ingested; 5 the archive was busy (another writer kept the \
            write lock past RECORDKEEPER_WRITE_LOCK_TIMEOUT seconds, default 120): try again.
            """,
        version: "0.1.0",
        subcommands: [InitCommand.self, IngestCommand.self, IndexCommand.self, SearchCommand.self, ShowCommand.self, StatsCommand.self,
                      VerifyCommand.self, CheckpointCommand.self, FilePlanCommand.self, CustodianCommand.self, PartyCommand.self, ReportCommand.self, IncidentCommand.self, RemindCommand.self, TrackerCommand.self, RetentionCommand.self, HoldCommand.self,
                      DisposeCommand.self, TransferCommand.self, CustodyCommand.self, UserCommand.self, ServeCommand.self, MigrateCommand.self, ObjectLockCommand.self, CaptureCommand.self, KeysCommand.self, DemoCommand.self, SampleExportCommand.self]
    )

    /// As ArgumentParser's own entry point, except that usage errors exit 2, the code the help
    /// promises (ArgumentParser's default is 64).
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            if exitCode(for: error) == .validationFailure {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(2)
            }
            exit(withError: error)
        }
    }
}

/// Options every command that opens an archive takes.
struct ArchiveOptions: ParsableArguments {
    @Option(name: .customLong("data-dir"), help: ArgumentHelp(
        "The archive's data directory (default: $RECORDKEEPER_DATA_DIR, else ./recordkeeper-data).", valueName: "path"))
    var dataDir: String?

    @Option(name: .customLong("database-url"), help: ArgumentHelp(
        "Keep records in PostgreSQL instead of the data directory (postgres://user:password@host:5432/db?sslmode=require; default: "
            + "$RECORDKEEPER_DATABASE_URL). The data directory is then only this instance's scratch space.", valueName: "url"))
    var databaseURL: String?

    @Option(name: .customLong("blob-store"), help: ArgumentHelp(
        "With --database-url: where blobs go, s3://bucket?endpoint=https://…&region=…&retention-days=N (Object Lock; keys from "
            + "AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY) or an absolute path every instance mounts (default: $RECORDKEEPER_BLOB_STORE).",
        valueName: "url"))
    var blobStore: String?

    var resolvedDatabaseURL: String? {
        databaseURL ?? ProcessInfo.processInfo.environment[ProductionBackend.databaseVariable].flatMap { $0.isEmpty ? nil : $0 }
    }
    var resolvedBlobStore: String? {
        blobStore ?? ProcessInfo.processInfo.environment[ProductionBackend.blobStoreVariable].flatMap { $0.isEmpty ? nil : $0 }
    }

    @Option(name: .customLong("config"), help: ArgumentHelp(
        "A JSON file with data_dir, database_url and blob_store (default: $RECORDKEEPER_CONFIG); flags and the environment win over it.",
        valueName: "path"))
    var configPath: String?

    @Flag(name: .shortAndLong, help: "Log what happens to stderr (never message content).")
    var verbose = false

    /// Fills what neither a flag nor the environment set from the configuration file.
    mutating func validate() throws {
        let env = ProcessInfo.processInfo.environment
        guard let path = configPath ?? env[ConfigFile.environmentVariable].flatMap({ $0.isEmpty ? nil : $0 }) else { return }
        let config: ConfigFile
        do { config = try ConfigFile.load(path: path) } catch let e as ArchiveError { throw ValidationError(e.message) }
        func unset(_ variable: String) -> Bool { env[variable].map(\.isEmpty) ?? true }
        if dataDir == nil, unset(DataDirectory.environmentVariable) { dataDir = config.dataDir }
        if databaseURL == nil, unset(ProductionBackend.databaseVariable) { databaseURL = config.databaseURL }
        if blobStore == nil, unset(ProductionBackend.blobStoreVariable) { blobStore = config.blobStore }
    }

    var directory: DataDirectory { DataDirectory.resolve(flag: dataDir) }

    /// Who is acting, for the audit log: the identity `open` established (`CLIIdentity`), or the
    /// operating-system account before an archive is open (`init`).
    var resolvedActor: String { CLIIdentity.current?.name ?? CLIIdentity.operatorName }

    /// What a command does, which decides whether an unlinked OS account may run it.
    enum Access {
        /// Reads or changes records: needs an authenticated archive user once an admin exists.
        case records
        /// Works on the store as a whole (verify, checkpoints, keys, the index, serving): may run
        /// as the OS account, which needs the data directory or the database credentials anyway.
        case `operator`
    }

    /// Where the archive is, for messages (never the database password).
    func whereDescription(_ handle: ArchiveHandle) -> String {
        guard let url = resolvedDatabaseURL else { return handle.directory.url.path }
        return "the archive in PostgreSQL (\((try? PostgresURL.parse(url))?.redacted ?? "database") with blobs in \(handle.blobs.locationDescription))"
    }

    /// Opens the archive and establishes who is acting (`CLIIdentity`).
    func open(_ access: Access = .records) async throws -> ArchiveHandle {
        Log.bootstrap(verbose: verbose)
        var handle: ArchiveHandle
        if let url = resolvedDatabaseURL {
            handle = try await ProductionBackend.open(databaseURL: url, blobStore: resolvedBlobStore, directory: directory, actor: resolvedActor,
                                                      initialize: false)
        } else {
            handle = try directory.open()
        }
        handle.onLockWait = { Terminal.note($0) }
        CLIIdentity.current = try await CLIIdentity.resolve(handle, access: access)
        return handle
    }
}

enum Log {
    nonisolated(unsafe) private static var done = false
    static func bootstrap(verbose: Bool) {
        guard !done else { return }
        done = true
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            // The web server's request log is its record of who asked for what.
            handler.logLevel = verbose || label == "recordkeeper.web" ? .info : .warning
            return handler
        }
    }
}

struct InitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create an empty archive: record store, blob store and audit log.",
        discussion: """
            On PostgreSQL, run init as the role that owns the database: it brings the schema up to \
            date (so does every later start, when the instance's role owns the database). With \
            --runtime-role ROLE it also grants ROLE what instances need to run and nothing more \
            (rows, sequences, the two functions that add partitions and reset the index), so \
            instances can run as ROLE and cannot drop or disable the archive's guard triggers. \
            Run init again after an upgrade, as the owner, before starting the instances.
            """)

    @OptionGroup var archive: ArchiveOptions

    @Option(name: .customLong("runtime-role"), help: ArgumentHelp("PostgreSQL only: grant this existing role what instances need to run, and nothing more.",
                                                                   valueName: "role"))
    var runtimeRole: String?

    func run() async throws {
        Log.bootstrap(verbose: archive.verbose)
        try await CLIError.report {
            if let url = archive.resolvedDatabaseURL {
                let handle = try await ProductionBackend.open(databaseURL: url, blobStore: archive.resolvedBlobStore, directory: archive.directory,
                                                              actor: archive.resolvedActor, initialize: true)
                if let runtimeRole {
                    guard let postgres = handle.store as? PostgresArchiveStore else { throw ArchiveError(.invalid, "--runtime-role needs PostgreSQL") }
                    try await postgres.grantRuntimeRole(runtimeRole)
                    try await handle.store.appendAudit(AuditDraft(actor: archive.resolvedActor, action: "archive.runtime_role_granted", target: "archive",
                                                                  detail: ["role": runtimeRole]))
                }
                let first = try await CheckpointService(archive: handle).sign(reason: "archive created", actor: archive.resolvedActor, createKey: true)
                print("The archive is ready in PostgreSQL (\((try? PostgresURL.parse(url))?.redacted ?? "the database"))")
                print("  blob store    \(handle.blobs.locationDescription)")
                print("  signing key   \(SigningKey.location(dataDirectory: handle.directory.url).path) (Ed25519, key \(CheckpointStatement.parse(first.statement)?.key ?? "?"); every instance needs it: set $\(SigningKey.environmentVariable); back it up apart from the database)")
                print("  scratch       \(handle.directory.scratchURL.path) (this instance only)")
                if let runtimeRole { print("  runtime role  \(runtimeRole) (rows and the partition and index-reset functions; owns nothing)") }
                print("Next: recordkeeper user add NAME --role admin, with an API token (`user token create`) or --os-account for each person")
                print("      recordkeeper ingest EXPORT.zip --custodian name@agency.gov --database-url … --blob-store …")
                return
            }
            guard runtimeRole == nil else { throw ArchiveError(.invalid, "--runtime-role is for a PostgreSQL archive (--database-url)") }
            let handle = try await archive.directory.create(actor: archive.resolvedActor)
            let first = try await CheckpointService(archive: handle).sign(reason: "archive created", actor: archive.resolvedActor, createKey: true)
            print("Created an empty archive in \(handle.directory.url.path)")
            print("  signing key   \(SigningKey.location(dataDirectory: handle.directory.url).path) (Ed25519, key \(CheckpointStatement.parse(first.statement)?.key ?? "?"); back it up apart from the data)")
            print("  record store  \(handle.directory.databaseURL.lastPathComponent) (SQLite, WAL)")
            print("  blob store    blobs/ (content-addressed, SHA-256)")
            print("  audit log     hash-chained, in the record store")
            print("Next: recordkeeper user add NAME --role admin --os-account \(CLIIdentity.osLogin)   (until an admin exists, anyone who can open the archive acts on it)")
            print("      recordkeeper ingest EXPORT.zip --custodian name@agency.gov")
        }
    }
}
