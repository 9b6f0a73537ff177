import Archive
import ArchivePostgres
import Foundation
import GRDB
import ObjectStorage
import RecordkeeperCore
import RecordkeeperTesting
import Testing

/// `recordkeeper migrate`: an embedded archive with attachments, a hold, an executed disposition
/// (tombstones, a certificate), users and a second file plan version copied into PostgreSQL and
/// S3 with Object Lock; killed mid-copy and resumed; checked on both sides; a damaged source
/// refused.
@Suite("migrate: embedded archive into PostgreSQL and S3", .serialized, .enabled(if: TestPostgres.wanted && TestS3.wanted))
struct MigrateTests {
    struct Target {
        let db: TestPostgres.Database
        let env: [String: String]
        let blobStore: String
    }

    func target() async throws -> Target {
        let db = try await TestPostgres.createDatabase()
        let s3 = try #require(TestS3.config?.split(separator: " ").map(String.init))
        let bucket = try await TestS3.freshBucket().location.bucket
        let blobStore = "s3://\(bucket)?endpoint=\(s3[0])&retention-days=1"
        return Target(db: db, env: ["AWS_ACCESS_KEY_ID": s3[1], "AWS_SECRET_ACCESS_KEY": s3[2]], blobStore: blobStore)
    }

    /// A source archive that exercises every guarded table: records with attachments, a second
    /// file plan version, a hold, a disposition executed by a second officer.
    func source(in tmp: TempDir) throws -> CLI {
        let cli = CLI(dataDir: tmp.url.appendingPathComponent("data"))
        #expect(try cli.run(["init"]).status == 0)
        let txt = try writeText(RecordsCLITests.chat, named: "WhatsApp Chat with Sam Lee.txt", in: try tmp.sub("export"))
        #expect(try cli.run(["ingest", txt.path, "--custodian", "jane.doe@agency.example.gov", "--timezone", "America/New_York"]).status == 0)
        #expect(try cli.run(["user", "add", "alice", "--role", "records-officer", "--role", "admin", "--os-account", CLI.osLogin]).status == 0)
        #expect(try cli.run(["user", "add", "bob", "--role", "records-officer"], as: "alice").status == 0)
        let planFile = try writeText(RecordsCLITests.plan, named: "plan.json", in: tmp.url)
        #expect(try cli.run(["fileplan", "import", planFile.path, "--apply", "--note", "test schedule"], as: "alice").status == 0)
        #expect(try cli.run(["hold", "create", "--name", "Crane litigation", "--matter", "litigation", "--requested-by", "OGC",
                             "--query", "crane"], as: "alice").status == 0)
        let batch = try JSONSerialization.jsonObject(with: Data(try cli.run(["dispose", "propose", "--json"], as: "alice").stdout.utf8)) as? [String: Any]
        let id = String(try #require(batch?["id"] as? Int))
        #expect(try cli.run(["dispose", "approve", id], as: "bob").status == 0)
        #expect(try cli.run(["dispose", "execute", id], as: "bob").status == 0)
        // Then a larger export with attachments (after the disposition, which would otherwise take it).
        let zip = try ExportGenerator.write(ExportSpec(style: .androidZip, messageCount: 1500, start: LocalDateTime(year: 2026, month: 1, day: 5, hour: 7, minute: 0, second: 0),
                                                       mediaEvery: 6, seed: 14), to: try tmp.sub("export2"))
        let ingested = try cli.run(["ingest", zip.path, "--custodian", "k.walsh@cbp.example.gov", "--timezone", "UTC"])
        #expect(ingested.status == 0, "\(ingested.stderr)")
        // Custody records: two rules and a committed target list with rejected rows.
        let fixture = try cli.run(["custody", "fixture", "--scenario", "AT2", "--out", try tmp.sub("custody").path])
        for line in fixture.stderr.components(separatedBy: "\n") where line.contains("custody rule add") {
            let rule = try #require(line.firstMatch(of: /rule add (\S+) --version (\d+) --category (\S+) --source '([^']*)' --description '([^']*)'/))
            #expect(try cli.run(["custody", "rule", "add", String(rule.1), "--version", String(rule.2), "--category", String(rule.3),
                                 "--source", String(rule.4), "--description", String(rule.5)]).status == 0)
        }
        #expect(try cli.run(["custody", "import", fixture.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "--commit"]).status == 0)
        #expect(try cli.run(["verify"]).status == 0)
        return cli
    }

    @Test func copiesEverythingResumesAfterAKillAndChecksBothSides() async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let target = try await target()
        defer { Task { await TestPostgres.dropDatabase(target.db.name) } }
        let cli = try source(in: tmp)
        let data = tmp.url.appendingPathComponent("data").path
        let migrate = ["migrate", "--from", data, "--to", target.db.url, "--blob-store", target.blobStore]

        // Killed (SIGKILL) once messages have started to arrive: no clean-up ran. The watcher
        // connects first (under a loaded test run its own start could otherwise take as long
        // as the whole copy), and the first run copies three rows per transaction, so the copy
        // lasts seconds rather than the few hundred milliseconds a loaded poll can miss.
        let watcher = try await PostgresArchiveStore.open(url: target.db.url)
        defer { watcher.close() }
        let first = Process()
        first.executableURL = CLI.binary
        first.arguments = migrate + ["--page-size", "3"]
        first.environment = ProcessInfo.processInfo.environment.merging(target.env) { $1 }
        first.standardOutput = FileHandle.nullDevice
        first.standardError = FileHandle.nullDevice
        try first.run()
        let deadline = Date().addingTimeInterval(120)
        while first.isRunning, Date() < deadline, try await watcher.messageIDRange() == nil { try await Task.sleep(for: .milliseconds(5)) }
        #expect(first.isRunning, "the first run finished before it could be interrupted")
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        #expect(try await watcher.auditEntries(afterSequence: 0, limit: 1).isEmpty) // the audit log is copied last: not reached

        // Run again (with another page size): it goes on from where it stopped and checks both sides.
        let second = try cli.run(migrate + ["--page-size", "25", "--json"], env: target.env)
        #expect(second.status == 0, "\(second.stdout)\(second.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(second.stdout.utf8)) as? [String: Any])
        #expect(report["source_verified"] as? Bool == true && report["target_verified"] as? Bool == true)
        let tables = try #require(report["tables"] as? [[String: Any]])
        let message = try #require(tables.first { $0["table"] as? String == "message" })
        #expect((message["source_rows"] as? Int ?? 0) > 1000 && message["source_rows"] as? Int == message["target_rows"] as? Int)
        #expect((message["copied_now"] as? Int ?? 0) < (message["source_rows"] as? Int ?? 0)) // resumed, not started over
        for t in tables { #expect(t["source_rows"] as? Int == t["target_rows"] as? Int, "\(t)") }
        for name in ["tombstone", "attachment", "legal_hold", "disposition_batch", "file_plan", "app_user", "blob", "custody_target_rule", "custody_import",
                     "custody_import_rejection", "custody_target"] {
            #expect((tables.first { $0["table"] as? String == name }?["target_rows"] as? Int ?? 0) > 0, "\(name) was not exercised")
        }
        #expect((report["blobs_copied"] as? Int ?? 0) + (report["blobs_already_there"] as? Int ?? 0) > 100)
        let head = try #require(report["source_audit_head"] as? String)
        #expect(head.count == 64 && report["target_audit_head_at_that_entry"] as? String == head)

        // The copy is a working archive: verify, search, holds, tombstones, a new ingest.
        var env = target.env
        env["RECORDKEEPER_DATABASE_URL"] = target.db.url
        env["RECORDKEEPER_BLOB_STORE"] = target.blobStore
        // The checkpoints came along in the audit log; the signing key is given to the instance
        // (docs/operations/postgresql.md). Without it a capture is stored and then refused its signature.
        let instance = CLI(dataDir: try tmp.sub("instance"))
        let more0 = try ExportGenerator.write(ExportSpec(style: .androidTxt, chatTitle: "Before the key", messageCount: 5, mediaEvery: 0, seed: 16),
                                              to: try tmp.sub("export-unsigned"))
        let unsigned = try instance.run(["ingest", more0.path, "--custodian", "k.walsh@cbp.example.gov", "--timezone", "UTC"], env: env)
        #expect(unsigned.status != 0 && unsigned.stderr.contains("no checkpoint could be signed"), "\(unsigned.stderr)")
        env["RECORDKEEPER_SIGNING_KEY_FILE"] = tmp.url.appendingPathComponent("data/keys/signing.key").path
        let unsignedBatch = try #require(unsigned.stderr.range(of: #"batch:\d+"#, options: .regularExpression).map { String(unsigned.stderr[$0]) })
        #expect(try instance.run(["checkpoint", "sign", "--vouch", unsignedBatch, "--reason", "checked after the move"], env: env).status == 0)
        let verified = try instance.run(["verify"], env: env)
        #expect(verified.status == 0 && verified.stdout.contains("OK"), "\(verified.stdout)\(verified.stderr)")
        #expect(try instance.run(["search", "crane"], env: env).stdout.contains("crane"))
        let gone = try instance.run(["show", "message", "1"], env: env)
        #expect(gone.status == 1 && gone.stderr.contains("tombstone remains"))
        #expect(try instance.run(["hold", "list"], env: env).stdout.contains("Crane litigation"))
        let plan = try instance.run(["fileplan", "show"], env: env)
        #expect(plan.status == 0 && plan.stdout.contains("File plan version 2"), "\(plan.stdout)\(plan.stderr)")
        let more = try ExportGenerator.write(ExportSpec(style: .androidTxt, chatTitle: "After the move", messageCount: 50, mediaEvery: 0, seed: 15),
                                             to: try tmp.sub("export3"))
        let after = try instance.run(["ingest", more.path, "--custodian", "k.walsh@cbp.example.gov", "--timezone", "UTC"], env: env)
        #expect(after.status == 0, "\(after.stderr)") // sequences continue after the copied ids
        #expect(try instance.run(["verify"], env: env).status == 0)

        // Both logs record the move; running it again finds it done.
        let source = try DatabaseQueue(path: tmp.url.appendingPathComponent("data/archive.sqlite").path)
        #expect(try await source.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM audit_log WHERE action = 'archive.migrated'") } == 1)
        #expect(try await watcher.auditEntries(target: "archive", limit: 100).contains { $0.action == "archive.migrate" })
        let again = try cli.run(migrate, env: target.env)
        #expect(again.status == 0 && again.stderr.contains("already holds a completed copy"), "\(again.stderr)")
    }

    @Test func aDamagedSourceIsNotCopied() async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let target = try await target()
        defer { Task { await TestPostgres.dropDatabase(target.db.name) } }
        let cli = try source(in: tmp)
        let queue = try DatabaseQueue(path: tmp.url.appendingPathComponent("data/archive.sqlite").path)
        try await queue.write { db in
            try db.execute(sql: "DROP TRIGGER IF EXISTS message_no_update")
            try db.execute(sql: "UPDATE message SET body = body || ' (amended)' WHERE id = (SELECT max(id) FROM message)")
        }
        let run = try cli.run(["migrate", "--from", tmp.url.appendingPathComponent("data").path, "--to", target.db.url,
                               "--blob-store", target.blobStore], env: target.env)
        #expect(run.status == 3, "\(run.stdout)\(run.stderr)")
        #expect(run.stderr.contains("fails verify") && run.stderr.contains("message_altered"))
        let store = try await PostgresArchiveStore.open(url: target.db.url)
        defer { store.close() }
        #expect(try await store.messageIDRange() == nil)
        #expect(try await store.auditEntries(afterSequence: 0, limit: 1).isEmpty)
    }

    @Test func aDatabaseHoldingAnotherArchiveIsRefused() async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let target = try await target()
        defer { Task { await TestPostgres.dropDatabase(target.db.name) } }
        let cli = try source(in: tmp)
        var env = target.env
        env["RECORDKEEPER_DATABASE_URL"] = target.db.url
        env["RECORDKEEPER_BLOB_STORE"] = target.blobStore
        #expect(try CLI(dataDir: try tmp.sub("instance")).run(["init"], env: env).status == 0)
        let run = try cli.run(["migrate", "--from", tmp.url.appendingPathComponent("data").path, "--to", target.db.url,
                               "--blob-store", target.blobStore], env: target.env)
        #expect(run.status == 1 && run.stderr.contains("already holds an archive"), "\(run.stderr)")

        // Part of a copy of another archive (its progress names another source) is not resumed
        // with this one's rows.
        let partial = try await TestPostgres.createDatabase()
        defer { Task { await TestPostgres.dropDatabase(partial.name) } }
        try await PostgresArchiveStore.open(url: partial.url).close()
        let psql = try cli.run([partial.url.replacingOccurrences(of: "?sslmode=disable", with: ""), "-qc",
                                "INSERT INTO import_progress (source_table, last_key, done) VALUES ('#source', 'another archive', true)"],
                               executable: URL(fileURLWithPath: "/usr/bin/psql"))
        #expect(psql.status == 0, "\(psql.stderr)")
        let mixed = try cli.run(["migrate", "--from", tmp.url.appendingPathComponent("data").path, "--to", partial.url,
                                 "--blob-store", target.blobStore], env: target.env)
        #expect(mixed.status == 1 && mixed.stderr.contains("part of a copy of a different archive"), "\(mixed.stderr)")
    }
}
