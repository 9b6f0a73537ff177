import Archive
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
        defer { Task { await TestPostgres.dropDatabase(db.name) } }
        let s3 = try #require(TestS3.config?.split(separator: " ").map(String.init))
        let bucket = try await TestS3.freshBucket().location.bucket
        let env = ["RECORDKEEPER_DATABASE_URL": db.url, "RECORDKEEPER_BLOB_STORE": "s3://\(bucket)?endpoint=\(s3[0])&retention-days=1",
                   "AWS_ACCESS_KEY_ID": s3[1], "AWS_SECRET_ACCESS_KEY": s3[2]]
        let cli = CLI(dataDir: try tmp.sub("instance-a"))
        let initialized = try cli.run(["init"], env: env)
        #expect(initialized.status == 0 && initialized.stdout.contains("PostgreSQL") && !initialized.stdout.contains(db.url), "\(initialized.stderr)")
        #expect(try cli.run(["init"], env: env).status == 0) // again: nothing to do, nothing lost

        let add = Process()
        add.executableURL = CLI.binary
        add.arguments = ["user", "add", "k.walsh", "--role", "records-officer", "--role", "admin", "--password-stdin"]
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
        let ingested = try cli.run(["ingest", txt.path, "--custodian", "k.walsh@cbp.example.gov", "--timezone", "UTC", "--actor", "k.walsh"], env: env)
        #expect(ingested.status == 0, "\(ingested.stderr)")
        let verified = try cli.run(["verify", "--actor", "k.walsh"], env: env)
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
}
