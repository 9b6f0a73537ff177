import Archive
import ArchivePostgres
import ArgumentParser
import Foundation
import Recordkeeper
import RecordkeeperCore

/// What `migrate` did, for `--json` and for the audit entry it leaves on both sides.
struct MigrateReport: Codable {
    var source: String
    var target: String
    var blobStore: String
    var blobsCopied = 0
    var blobsAlreadyThere = 0
    var blobBytesCopied: Int64 = 0
    var tables: [ImportedTable] = []
    var sourceAuditEntries: Int64 = 0
    var sourceAuditHead = ""
    var targetAuditHeadAtThatEntry = ""
    var sourceVerified = false
    var targetVerified = false
    var indexed = 0
    var seconds = 0.0
}

struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Copy an embedded archive (a data directory) into PostgreSQL and object storage.",
        discussion: """
            Checks the source with verify first (a damaged archive is not copied), then copies \
            every blob into --blob-store and every record, hold, disposition, user and audit \
            entry into the database, keeping ids, hashes and the audit chain as they are. Rows go \
            in pages, each committed with a note of how far the copy got: run the same command \
            again after an interruption and it goes on from there. Then it builds the search \
            index, runs verify on the copy, and compares every table's row count and the audit \
            chain head on both sides. Both archives are locked against writers meanwhile.

            The database must be empty (or hold this command's interrupted copy). Afterwards the \
            source's audit log records where its records went; retire the data directory and \
            point every instance at the database.

            Exit codes: 0 copied and checked; 1 error; 3 verify failed on either side or the \
            two sides differ.
            """)

    @Option(name: .customLong("from"), help: ArgumentHelp("The data directory of the archive to copy.", valueName: "path"))
    var from: String

    @Option(name: .customLong("to"), help: ArgumentHelp("The database to copy into: postgres://user:password@host:5432/db?sslmode=require.",
                                                        valueName: "url"))
    var to: String

    @Option(name: .customLong("blob-store"), help: ArgumentHelp(
        "Where blobs go: s3://bucket?endpoint=https://…&region=…&retention-days=N, or an absolute path every instance mounts "
            + "(default: $RECORDKEEPER_BLOB_STORE).", valueName: "url"))
    var blobStore: String?

    @Option(name: .customLong("source-kek-file"), help: ArgumentHelp(
        "The source archive's key-encryption key (default: keys/blob.kek in its data directory); \(KeyEncryptionKeyFile.environmentVariable) names the target's.",
        valueName: "file"))
    var sourceKEKFile: String?

    @Option(name: .customLong("page-size"), help: ArgumentHelp("Rows copied per transaction.", valueName: "n"))
    var pageSize = 5000

    @Flag(help: "Print the report as JSON.") var json = false
    @Flag(name: .shortAndLong, help: "Log what happens to stderr (never message content).") var verbose = false

    func validate() throws {
        guard pageSize >= 1 && pageSize <= 100_000 else { throw ValidationError("--page-size must be between 1 and 100000") }
    }

    func run() async throws {
        Log.bootstrap(verbose: verbose)
        var ok = true
        try await CLIError.report {
            let env = ProcessInfo.processInfo.environment
            let started = Date()
            let sourceDirectory = DataDirectory(url: URL(fileURLWithPath: from, isDirectory: true))
            // The source's blobs open with its own key-encryption key (--source-kek-file, else its
            // keys/blob.kek), whatever RECORDKEEPER_KEK_FILE says: that names the target's.
            let sourceKEK = sourceKEKFile.map { URL(fileURLWithPath: ($0 as NSString).expandingTildeInPath) }
                ?? sourceDirectory.url.appendingPathComponent("keys/blob.kek")
            var source = try sourceDirectory.open(kekFile: sourceKEK)
            source.onLockWait = { Terminal.note($0) }
            guard let sourceStore = source.store as? SQLiteArchiveStore, let sourceBlobs = source.blobs as? FileBlobStore else {
                throw ArchiveError(.invalid, "\(from) is not an embedded archive")
            }
            // Who copies is established in the source, whose users and links the copy carries: an
            // API token or a linked OS account names a user, else the OS account (an operator's act).
            let who = try await CLIIdentity.resolve(source, access: .operator).name
            let targetURL = try PostgresURL.parse(to)
            // The copy's scratch space (blobs being hashed on their way up) sits in the source's
            // own scratch directory.
            let scratch = DataDirectory(url: sourceDirectory.scratchURL.appendingPathComponent("migrate", isDirectory: true))
            var target = try await ProductionBackend.open(databaseURL: to, blobStore: blobStore ?? env[ProductionBackend.blobStoreVariable],
                                                          directory: scratch, actor: who, initialize: false)
            target.onLockWait = { Terminal.note($0) }
            guard let targetStore = target.store as? PostgresArchiveStore else { throw ArchiveError(.invalid, "the target is not PostgreSQL") }
            var report = MigrateReport(source: sourceDirectory.url.path, target: targetURL.redacted, blobStore: target.blobs.locationDescription)
            if target.blobs.sealer?.seals != true {
                Terminal.note("\(KeyEncryptionKeyFile.environmentVariable) is not set: blobs are stored in the clear in \(target.blobs.locationDescription), "
                              + "and a disposition cannot erase the copies Object Lock keeps (docs/operations/keys.md)")
            }

            if let done = try await target.store.auditEntries(target: "archive", limit: 10_000).last(where: { $0.action == "archive.migrate" }) {
                Terminal.note("\(targetURL.redacted) already holds a completed copy (audit entry \(done.sequence) at \(done.at)); nothing to do. "
                              + "Run `recordkeeper verify --database-url …` to check it again.")
                return
            }

            try await source.withWriteLock(purpose: "migrate (source)") {
                try await target.withWriteLock(purpose: "migrate") {
                    try await targetStore.checkImportTarget(sourceStore)
                    // 1. The source must be sound: a damaged archive is not copied.
                    Terminal.note("checking the source with verify…")
                    let before = try await VerifyService(archive: source).verify(actor: who, progress: { Terminal.progress("source: \($0)") })
                    Terminal.endProgress()
                    guard before.ok else {
                        ok = false
                        Terminal.error("the source archive fails verify (\(before.problems.count) problem\(before.problems.count == 1 ? "" : "s")); nothing more was copied. "
                                       + "Run `recordkeeper verify --data-dir \(from)` for the list; an incident was opened in the source.")
                        for p in before.problems.prefix(20) { Terminal.note("  \(p.code)  \(p.item)  \(p.detail)") }
                        return
                    }
                    report.sourceVerified = true

                    // 2. Blobs, so that every record copied next finds its files.
                    try await Self.copyBlobs(from: sourceStore, files: sourceBlobs, to: target.blobs, report: &report)
                    Terminal.note("blobs: \(Terminal.count(report.blobsCopied)) copied (\(Terminal.bytes(report.blobBytesCopied))), "
                                  + "\(Terminal.count(report.blobsAlreadyThere)) already there")

                    // 3. Records, table by table, resumably.
                    report.tables = try await targetStore.importArchive(from: sourceStore, pageSize: pageSize) { p in
                        Terminal.progress("copying \(p.table): \(Terminal.count(p.copied)) of \(Terminal.count(p.total)) rows")
                    }
                    Terminal.endProgress()
                    let rows = report.tables.reduce(0) { $0 + $1.copiedNow }
                    Terminal.note("records: \(Terminal.count(rows)) rows copied in \(report.tables.count) tables")

                    // 4. The search index on the copy.
                    report.indexed = try await IndexService(archive: target).catchUp { p in
                        Terminal.progress("indexing: \(Terminal.count(p.indexed)) messages")
                    }
                    Terminal.endProgress()

                    // 5. Verify the copy; compare counts and the chain head.
                    let sourceHead = try await Self.auditHead(sourceStore)
                    report.sourceAuditEntries = sourceHead?.sequence ?? 0
                    report.sourceAuditHead = sourceHead?.hash.hex ?? ""
                    Terminal.note("checking the copy with verify…")
                    let after = try await VerifyService(archive: target).verify(actor: who, progress: { Terminal.progress("copy: \($0)") })
                    Terminal.endProgress()
                    report.targetVerified = after.ok
                    if let head = sourceHead {
                        report.targetAuditHeadAtThatEntry = try await target.store.auditEntries(afterSequence: head.sequence - 1, limit: 1)
                            .first(where: { $0.sequence == head.sequence })?.hash.hex ?? ""
                    }
                    let differing = report.tables.filter { $0.sourceRows != $0.targetRows }
                    let chainMatches = report.sourceAuditHead == report.targetAuditHeadAtThatEntry
                    guard after.ok, differing.isEmpty, chainMatches else {
                        ok = false
                        if !after.ok {
                            Terminal.error("the copy fails verify (\(after.problems.count) problem\(after.problems.count == 1 ? "" : "s"))")
                            for p in after.problems.prefix(20) { Terminal.note("  \(p.code)  \(p.item)  \(p.detail)") }
                        }
                        for t in differing { Terminal.error("\(t.table): \(t.sourceRows) rows in the source, \(t.targetRows) in the copy") }
                        if !chainMatches {
                            Terminal.error("the audit chain differs: the source's head (entry \(report.sourceAuditEntries)) is \(report.sourceAuditHead), "
                                           + "the copy's entry there is \(report.targetAuditHeadAtThatEntry.isEmpty ? "missing" : report.targetAuditHeadAtThatEntry)")
                        }
                        return
                    }

                    // 6. Both logs say what happened.
                    report.seconds = Date().timeIntervalSince(started)
                    let detail: [String: String] = [
                        "from": sourceDirectory.url.path, "to": targetURL.redacted, "blob_store": target.blobs.locationDescription,
                        "messages": String(report.tables.first { $0.table == "message" }?.targetRows ?? 0),
                        "rows": String(report.tables.reduce(0) { $0 + $1.targetRows }),
                        "source_audit_entries": String(report.sourceAuditEntries), "source_audit_head": report.sourceAuditHead,
                    ]
                    _ = try await target.store.appendAudit(AuditDraft(actor: who, action: "archive.migrate", target: "archive", detail: detail))
                    _ = try await source.store.appendAudit(AuditDraft(actor: who, action: "archive.migrated", target: "archive", detail: detail))
                }
            }
            guard ok else { return }
            report.seconds = Date().timeIntervalSince(started)
            if json { print(Terminal.json(report, pretty: true)); return }
            print("Copied \(sourceDirectory.url.path) into \(targetURL.redacted) in \(String(format: "%.1f", report.seconds)) s")
            print("  blobs         \(Terminal.count(report.blobsCopied)) copied, \(Terminal.count(report.blobsAlreadyThere)) already in \(report.blobStore)")
            for t in report.tables where t.sourceRows > 0 {
                print("  \(t.table.padding(toLength: 22, withPad: " ", startingAt: 0)) \(Terminal.count(t.targetRows)) rows (source \(Terminal.count(t.sourceRows)))")
            }
            print("  search index  \(Terminal.count(report.indexed)) messages indexed")
            print("  audit chain   entry \(report.sourceAuditEntries) is \(report.sourceAuditHead) on both sides")
            print("OK: verify passed on both sides; row counts and the audit chain match")
        }
        if !ok { throw ExitCode(3) }
    }

    static func auditHead(_ store: SQLiteArchiveStore) async throws -> AuditEntry? {
        var last: AuditEntry?
        var after: Int64 = 0
        while true {
            let page = try await store.auditEntries(afterSequence: after, limit: 5000)
            guard let end = page.last else { return last }
            last = end
            after = end.sequence
        }
    }

    /// Every live blob of the source into `blobs` (those already there are left), eight at a
    /// time; a blob whose bytes no longer hash to its name stops the copy.
    static func copyBlobs(from store: SQLiteArchiveStore, files: FileBlobStore, to blobs: any BlobStore, report: inout MigrateReport) async throws {
        var after: ContentHash?
        while true {
            let page = try await store.blobs(after: after, limit: 256)
            guard let last = page.last else { return }
            after = last.hash
            let results = try await withThrowingTaskGroup(of: (copied: Bool, bytes: Int64).self) { group in
                var out: [(copied: Bool, bytes: Int64)] = []
                for (i, blob) in page.enumerated() {
                    if i >= 8, let r = try await group.next() { out.append(r) }
                    group.addTask {
                        if try await blobs.contains(blob.hash) { return (false, 0) }
                        let url = files.path(for: blob.hash)
                        let stored: BlobInfo
                        let header = (try? FileHandle(forReadingFrom: url)).map { h in defer { try? h.close() }; return (try? h.read(upToCount: BlobSealer.headerSize)) ?? Data() } ?? Data()
                        if var opening = try await files.sealer?.reading(blob.hash, header: header) {
                            // Opened as it is read and sealed again by the target: never in the clear on disk.
                            stored = try await blobs.put { write in
                                let handle = try FileHandle(forReadingFrom: url)
                                defer { try? handle.close() }
                                while let data = try handle.read(upToCount: 1 << 20), !data.isEmpty {
                                    try data.withUnsafeBytes { try opening.update($0, write) }
                                }
                                try opening.finish(write)
                            }
                        } else {
                            stored = try await blobs.put(file: url)
                        }
                        guard stored.hash == blob.hash else {
                            throw ArchiveError(.storage, "source blob \(blob.hash.hex) changed while it was being copied (its bytes now hash to \(stored.hash.hex)); "
                                + "run `recordkeeper verify --data-dir …` on the source")
                        }
                        return (true, stored.size)
                    }
                }
                for try await r in group { out.append(r) }
                return out
            }
            for r in results {
                if r.copied { report.blobsCopied += 1; report.blobBytesCopied += r.bytes } else { report.blobsAlreadyThere += 1 }
            }
            Terminal.progress("blobs: \(Terminal.count(report.blobsCopied + report.blobsAlreadyThere)) copied or present")
        }
    }
}
