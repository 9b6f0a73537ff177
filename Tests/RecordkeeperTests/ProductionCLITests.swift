import Archive
import ArchivePostgres
import Foundation
import ObjectStorage
import RecordkeeperTesting
import Testing

/// The built binary on the production backend: `init`, `user add`, `ingest`, `search` and
/// `verify` with `--database-url` and `--blob-store`, and two `serve` processes on the one
/// database: a session started on one is honoured by the other, and ends on both.
@Suite("CLI and two servers on PostgreSQL and S3", .serialized, .enabled(if: TestPostgres.wanted && TestS3.wanted))
struct ProductionCLITests {
    @Test func twoServersShareOneArchiveAndItsSessions() async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let db = try await TestPostgres.createDatabase()
        // The owner initializes and grants; everything after runs as a role that owns nothing.
        let (server, _) = try await TestPostgres.serverAdmin()
        let role = "rk_cli_" + UUID().uuidString.lowercased().prefix(8), password = UUID().uuidString
        try await PostgresAdmin.execute(url: server, sql: "CREATE ROLE \(role) LOGIN PASSWORD '\(password)'")
        defer {
            Task {
                await TestPostgres.dropDatabase(db.name)
                try? await PostgresAdmin.execute(url: server, sql: "DROP ROLE IF EXISTS \(role)")
            }
        }
        var runtimeURL = try PostgresURL.parse(db.url)
        runtimeURL.user = role
        runtimeURL.password = password
        let s3 = try #require(TestS3.config?.split(separator: " ").map(String.init))
        let bucket = try await TestS3.freshBucket().location.bucket
        let ownerEnv = ["RECORDKEEPER_DATABASE_URL": db.url, "RECORDKEEPER_BLOB_STORE": "s3://\(bucket)?endpoint=\(s3[0])&retention-days=1",
                        "AWS_ACCESS_KEY_ID": s3[1], "AWS_SECRET_ACCESS_KEY": s3[2]]
        let env = ownerEnv.merging(["RECORDKEEPER_DATABASE_URL": runtimeURL.urlString]) { $1 }
        let cli = CLI(dataDir: try tmp.sub("instance-a"))
        let initialized = try cli.run(["init", "--runtime-role", role], env: ownerEnv)
        #expect(initialized.status == 0 && initialized.stdout.contains("PostgreSQL") && !initialized.stdout.contains(db.url), "\(initialized.stderr)")
        #expect(initialized.stdout.contains("runtime role  \(role)"))
        #expect(try cli.run(["init"], env: ownerEnv).status == 0) // again: nothing to do, nothing lost
        #expect(try cli.run(["init"], env: env).status == 0) // as the runtime role: the schema is up to date, nothing to do

        let add = Process()
        add.executableURL = CLI.binary
        add.arguments = ["user", "add", "k.walsh", "--role", "records-officer", "--role", "admin", "--password-stdin", "--os-account", CLI.osLogin]
        add.environment = ProcessInfo.processInfo.environment.merging(env.merging(["RECORDKEEPER_DATA_DIR": tmp.url.appendingPathComponent("instance-a").path]) { $1 }) { $1 }
        let stdin = Pipe()
        add.standardInput = stdin
        add.standardOutput = FileHandle.nullDevice
        try add.run()
        stdin.fileHandleForWriting.write(Data("correct horse battery staple\n".utf8))
        try stdin.fileHandleForWriting.close()
        add.waitUntilExit()
        #expect(add.terminationStatus == 0)

        let txt = try ExportGenerator.write(ExportSpec(style: .androidTxt, messageCount: 300, mediaEvery: 0, seed: 3), to: try tmp.sub("export"))
        let ingested = try cli.run(["ingest", txt.path, "--custodian", "k.walsh@cbp.example.gov", "--timezone", "UTC"], as: "k.walsh", env: env)
        #expect(ingested.status == 0, "\(ingested.stderr)")
        let verified = try cli.run(["verify"], as: "k.walsh", env: env)
        #expect(verified.status == 0, "\(verified.stdout)\(verified.stderr)")

        // Two servers, each with its own scratch directory, on the one database and bucket.
        let (a, textA) = try CLI.start(["serve", "--port", "0", "--data-dir", try tmp.sub("a").path], until: "Stop with Ctrl-C.", env: env)
        defer { if a.isRunning { a.terminate() } }
        let (b, textB) = try CLI.start(["serve", "--port", "0", "--data-dir", try tmp.sub("b").path], until: "Stop with Ctrl-C.", env: env)
        defer { if b.isRunning { b.terminate() } }
        let urlA = try #require(textA.firstMatch(of: /serving .* at (http:\/\/127\.0\.0\.1:\d+)/)?.1)
        let urlB = try #require(textB.firstMatch(of: /serving .* at (http:\/\/127\.0\.0\.1:\d+)/)?.1)
        #expect(urlA != urlB && textA.contains("PostgreSQL") && !textA.contains(s3[2]))
        let jar = tmp.url.appendingPathComponent("cookies").path
        func curl(_ args: [String]) throws -> String {
            try cli.run(["-s", "-b", jar, "-c", jar, "-o", "/dev/null", "-w", "%{http_code}"] + args, executable: URL(fileURLWithPath: "/usr/bin/curl")).stdout
        }
        #expect(try curl(["-d", "username=k.walsh&password=correct horse battery staple", "\(urlA)/login"]) == "303")
        #expect(try curl(["\(urlB)/holds"]) == "200") // signed in on A, known to B
        let page = try cli.run(["-s", "-b", jar, "\(urlB)/search?q=the"], executable: URL(fileURLWithPath: "/usr/bin/curl")).stdout
        #expect(page.contains("k.walsh@cbp.example.gov"))
        a.terminate() // A goes away; B carries on
        a.waitUntilExit()
        #expect(try curl(["\(urlB)/holds"]) == "200")
        b.terminate()
        b.waitUntilExit()
        #expect(b.terminationStatus == 0)
    }

    struct Env {
        let db: TestPostgres.Database
        let env: [String: String]
    }

    func productionEnv() async throws -> Env {
        let db = try await TestPostgres.createDatabase()
        let s3 = try #require(TestS3.config?.split(separator: " ").map(String.init))
        let bucket = try await TestS3.freshBucket().location.bucket
        return Env(db: db, env: ["RECORDKEEPER_DATABASE_URL": db.url, "RECORDKEEPER_BLOB_STORE": "s3://\(bucket)?endpoint=\(s3[0])&retention-days=1",
                                 "AWS_ACCESS_KEY_ID": s3[1], "AWS_SECRET_ACCESS_KEY": s3[2]])
    }

    /// One of two servers is killed (SIGKILL: no clean-up) while it ingests an upload; the other
    /// takes the same upload, resumes the interrupted batch and finishes it: every message once,
    /// `verify` passes.
    @Test func aServerKilledMidIngestLeavesWorkTheOtherFinishes() async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let p = try await productionEnv()
        defer { Task { await TestPostgres.dropDatabase(p.db.name) } }
        let cli = CLI(dataDir: try tmp.sub("admin"))
        #expect(try cli.run(["init"], env: p.env).status == 0)
        // Every instance reads the signing key `init` made (docs/operations/postgresql.md).
        var env = p.env
        env["RECORDKEEPER_SIGNING_KEY_FILE"] = tmp.url.appendingPathComponent("admin/keys/signing.key").path
        #expect(try cli.run(["user", "add", "alice", "--role", "records-officer"], env: env).status == 0)
        let token = try cli.run(["user", "token", "create", "alice", "--label", "kill test"], env: env).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        // Large enough that the kill lands mid-capture even on a loaded machine (at 15,000 one run
        // under load stored everything before the kill).
        let txt = try ExportGenerator.write(ExportSpec(style: .androidTxt, messageCount: 40_000, mediaEvery: 0, seed: 31), to: try tmp.sub("export"))
        // What a clean capture of the export holds, for comparison.
        let reference = CLI(dataDir: try tmp.sub("reference"))
        #expect(try reference.run(["init"]).status == 0)
        #expect(try reference.run(["ingest", txt.path, "--custodian", "k.walsh@cbp.example.gov", "--timezone", "UTC", "--no-wait-index"]).status == 0)
        let expected = try #require(try JSONSerialization.jsonObject(with: Data(try reference.run(["stats", "--json"]).stdout.utf8)) as? [String: Any])["messages"] as? Int

        let (a, textA) = try CLI.start(["serve", "--port", "0", "--data-dir", try tmp.sub("a").path], until: "Stop with Ctrl-C.", env: env)
        defer { if a.isRunning { kill(a.processIdentifier, SIGKILL) } }
        let (b, textB) = try CLI.start(["serve", "--port", "0", "--data-dir", try tmp.sub("b").path], until: "Stop with Ctrl-C.", env: env)
        defer { if b.isRunning { b.terminate() } }
        let urlA = try #require(textA.firstMatch(of: /serving .* at (http:\/\/127\.0\.0\.1:\d+)/)?.1)
        let urlB = try #require(textB.firstMatch(of: /serving .* at (http:\/\/127\.0\.0\.1:\d+)/)?.1)
        func upload(_ url: Substring) throws -> Process {
            let curl = Process()
            curl.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
            curl.arguments = ["-s", "-o", tmp.url.appendingPathComponent("upload-\(UUID().uuidString).json").path, "-H", "Authorization: Bearer \(token)",
                              "-F", "custodian=k.walsh@cbp.example.gov", "-F", "time_zone=UTC", "-F", "file=@\(txt.path)", "\(url)/api/v1/ingest"]
            curl.standardOutput = FileHandle.nullDevice
            curl.standardError = FileHandle.nullDevice
            try curl.run()
            return curl
        }
        let watcher = try await PostgresArchiveStore.open(url: p.db.url)
        defer { watcher.close() }
        let first = try upload(urlA)
        let deadline = Date().addingTimeInterval(120)
        while first.isRunning, Date() < deadline, (try await watcher.stats().messages) == 0 { try await Task.sleep(for: .milliseconds(5)) }
        #expect(first.isRunning, "the upload finished before the server could be killed")
        kill(a.processIdentifier, SIGKILL)
        a.waitUntilExit()
        first.waitUntilExit()
        let partial = try await watcher.stats().messages
        #expect(partial > 0 && partial < (expected ?? 0), "killed after \(partial) of \(expected ?? 0)")

        // The same upload through the other server: the interrupted batch is resumed, nothing twice.
        let second = try upload(urlB)
        second.waitUntilExit()
        #expect(second.terminationStatus == 0)
        #expect(try await watcher.stats().messages == expected)
        let verified = try cli.run(["verify"], env: env)
        #expect(verified.status == 0, "\(verified.stdout)\(verified.stderr)")
        #expect(!verified.stdout.contains("interrupted")) // the batch the kill cut short is complete now
        // init's, the servers' first hourly one, and the resumed capture's (which vouches for the batch).
        #expect(verified.stdout.contains("signed checkpoints checked") && !verified.stdout.contains(" 1 signed checkpoint checked"))
    }

    /// The production backend named in a configuration file (mode 600: it holds the password).
    @Test func theConfigFileNamesTheProductionBackend() async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let p = try await productionEnv()
        defer { Task { await TestPostgres.dropDatabase(p.db.name) } }
        let config = tmp.url.appendingPathComponent("config.json")
        let object = ["data_dir": tmp.url.appendingPathComponent("scratch").path, "database_url": p.db.url,
                      "blob_store": p.env["RECORDKEEPER_BLOB_STORE"]!]
        try JSONSerialization.data(withJSONObject: object).write(to: config)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: config.path)
        let env = ["RECORDKEEPER_CONFIG": config.path, "RECORDKEEPER_DATA_DIR": "", "AWS_ACCESS_KEY_ID": p.env["AWS_ACCESS_KEY_ID"]!,
                   "AWS_SECRET_ACCESS_KEY": p.env["AWS_SECRET_ACCESS_KEY"]!]
        let cli = CLI(dataDir: tmp.url.appendingPathComponent("unused"))
        let initialized = try cli.run(["init"], env: env)
        #expect(initialized.status == 0 && initialized.stdout.contains("PostgreSQL"), "\(initialized.stderr)")
        let txt = try ExportGenerator.write(ExportSpec(style: .androidTxt, messageCount: 30, mediaEvery: 0, seed: 35), to: try tmp.sub("export"))
        #expect(try cli.run(["ingest", txt.path, "--custodian", "k.walsh@cbp.example.gov", "--timezone", "UTC"], env: env).status == 0)
        let watcher = try await PostgresArchiveStore.open(url: p.db.url)
        defer { watcher.close() }
        #expect(try await watcher.stats().messages > 0)
    }

    /// The restore drill of docs/operations/postgresql.md: dump the database, restore it into a
    /// fresh one, and `verify` the restored archive against the same bucket.
    @Test func aDumpRestoredIntoAFreshDatabaseVerifies() async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let p = try await productionEnv()
        defer { Task { await TestPostgres.dropDatabase(p.db.name) } }
        let cli = CLI(dataDir: try tmp.sub("instance"))
        #expect(try cli.run(["init"], env: p.env).status == 0)
        let zip = try ExportGenerator.write(ExportSpec(style: .iosZip, messageCount: 600, mediaEvery: 8, seed: 33), to: try tmp.sub("export"))
        #expect(try cli.run(["ingest", zip.path, "--custodian", "k.walsh@cbp.example.gov", "--timezone", "UTC"], env: p.env).status == 0)
        #expect(try cli.run(["verify"], env: p.env).status == 0)
        let before = try cli.run(["verify"], env: p.env).stdout
        let head = try #require(before.firstMatch(of: /audit chain head ([0-9a-f]{64})/)?.1)

        let url = try PostgresURL.parse(p.db.url)
        let restored = try await TestPostgres.createDatabase()
        defer { Task { await TestPostgres.dropDatabase(restored.name) } }
        let dump = tmp.url.appendingPathComponent("archive.dump").path
        let pgEnv = ["PGPASSWORD": url.password ?? "", "PGHOST": url.host, "PGPORT": String(url.port), "PGUSER": url.user]
        let dumped = try cli.run(["--format=custom", "--file", dump, url.database], env: pgEnv,
                                 executable: URL(fileURLWithPath: "/usr/lib/postgresql/15/bin/pg_dump"))
        #expect(dumped.status == 0, "\(dumped.stderr)")
        let loaded = try cli.run(["--exit-on-error", "--no-owner", "--dbname", try PostgresURL.parse(restored.url).database, dump], env: pgEnv,
                                 executable: URL(fileURLWithPath: "/usr/lib/postgresql/15/bin/pg_restore"))
        #expect(loaded.status == 0, "\(loaded.stderr)")

        var env = p.env
        env["RECORDKEEPER_DATABASE_URL"] = restored.url
        let after = try cli.run(["verify"], env: env)
        #expect(after.status == 0 && after.stdout.contains("OK"), "\(after.stdout)\(after.stderr)")
        // The restored chain ends where the dump was taken (after the second verify's entry, which
        // the first run on the original appended too): the same head on both.
        let original = try cli.run(["verify"], env: p.env).stdout
        #expect(after.stdout.firstMatch(of: /audit chain head ([0-9a-f]{64})/)?.1 == original.firstMatch(of: /audit chain head ([0-9a-f]{64})/)?.1)
        #expect(head.count == 64)
        // And the restored archive takes new records.
        let more = try ExportGenerator.write(ExportSpec(style: .androidTxt, chatTitle: "After the restore", messageCount: 40, mediaEvery: 0, seed: 34),
                                             to: try tmp.sub("export2"))
        #expect(try cli.run(["ingest", more.path, "--custodian", "k.walsh@cbp.example.gov", "--timezone", "UTC"], env: env).status == 0)
    }
}
