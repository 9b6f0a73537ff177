import Foundation
import GRDB
import Recordkeeper
import RecordkeeperTesting
import Testing

/// Runs the built `recordkeeper` binary, as a user would.
struct CLI {
    static let binary: URL = {
        if let env = ProcessInfo.processInfo.environment["RECORDKEEPER_BIN"] { return URL(fileURLWithPath: env) }
        let candidates = [
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("recordkeeper"),
            packageRoot.appendingPathComponent(".build/debug/recordkeeper"),
        ]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) } ?? candidates[1]
    }()

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    let dataDir: URL
    /// Each user's API token, made once through `user token create` (as the OS account's user).
    private let tokens = TokenCache()

    /// The login name of the OS account the tests run under (what the CLI checks links against).
    static let osLogin: String = {
        if let entry = getpwuid(getuid()), let name = entry.pointee.pw_name { return String(cString: name) }
        return "uid-\(getuid())"
    }()

    /// Runs a command as `user`, authenticated by an API token of theirs, as a person would with
    /// RECORDKEEPER_TOKEN set. The token is made by whoever the OS account acts as (an admin, or
    /// anyone while the archive is being set up).
    @discardableResult
    func run(_ args: [String], as user: String, env: [String: String] = [:], stdin: String? = nil) throws -> Result {
        try run(args, env: env.merging(["RECORDKEEPER_TOKEN": try token(for: user, env: env)]) { $1 }, stdin: stdin)
    }

    func token(for user: String, env: [String: String] = [:]) throws -> String {
        if let t = tokens.get(user) { return t }
        let made = try run(["user", "token", "create", user, "--label", "tests act as \(user)"], env: env)
        guard made.status == 0, let secret = made.stdout.split(separator: "\n").first.map(String.init), secret.hasPrefix("rk_") else {
            throw TestFailure("could not make a token for \(user): \(made.stderr)")
        }
        tokens.set(user, secret)
        return secret
    }

    @discardableResult
    func run(_ args: [String], env: [String: String] = [:], stdin: String? = nil, executable: URL = CLI.binary) throws -> Result {
        let p = Process()
        p.executableURL = executable
        p.arguments = args
        var environment = ProcessInfo.processInfo.environment
        environment["RECORDKEEPER_DATA_DIR"] = dataDir.path
        environment["COLUMNS"] = "100"
        for (k, v) in env { environment[k] = v }
        p.environment = environment
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        let input = Pipe()
        if stdin != nil { p.standardInput = input }
        try p.run()
        if let stdin {
            input.fileHandleForWriting.write(Data(stdin.utf8))
            try input.fileHandleForWriting.close()
        }
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Result(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }
}

final class TokenCache: @unchecked Sendable {
    private let lock = NSLock()
    private var tokens: [String: String] = [:]
    func get(_ user: String) -> String? { lock.withLock { tokens[user] } }
    func set(_ user: String, _ token: String) { lock.withLock { tokens[user] = token } }
}

extension CLI {
    /// Starts a long-running command (a server) and returns it with its stdout up to `marker`.
    static func start(_ args: [String], until marker: String, env: [String: String] = [:], stderr: URL? = nil) throws -> (Process, String) {
        let p = Process()
        p.executableURL = binary
        p.arguments = args
        if !env.isEmpty { p.environment = ProcessInfo.processInfo.environment.merging(env) { $1 } }
        let out = Pipe()
        p.standardOutput = out
        if let stderr {
            FileManager.default.createFile(atPath: stderr.path, contents: nil)
            p.standardError = try FileHandle(forWritingTo: stderr)
        } else {
            p.standardError = FileHandle.nullDevice
        }
        try p.run()
        var text = ""
        while !text.contains(marker) {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            text += String(decoding: chunk, as: UTF8.self)
        }
        return (p, text)
    }
}

@Suite("CLI, end to end through the built binary", .serialized)
struct CLITests {
    static let commands: [[String]] = [
        ["--help"], ["init", "--help"], ["ingest", "--help"], ["search", "--help"], ["show", "--help"],
        ["show", "message", "--help"], ["show", "conversation", "--help"], ["stats", "--help"], ["verify", "--help"],
        ["demo", "--help"], ["fileplan", "--help"], ["fileplan", "import", "--help"], ["custodian", "designate", "--help"],
        ["retention", "--help"], ["hold", "create", "--help"], ["dispose", "--help"], ["transfer", "package", "--help"],
        ["serve", "--help"], ["user", "--help"], ["user", "add", "--help"], ["capture", "matrix", "--help"],
        ["capture", "matrix-registration", "--help"], ["party", "--help"], ["party", "account", "--help"], ["show", "participants", "--help"],
        ["report", "--help"], ["report", "twenty-day", "--help"], ["incident", "--help"], ["incident", "open", "--help"], ["remind", "send", "--help"], ["tracker", "--help"], ["migrate", "--help"], ["object-lock", "sync", "--help"],
        ["custody", "--help"], ["custody", "import", "--help"], ["custody", "receive", "--help"], ["custody", "report", "not-presented", "--help"], ["custody", "seize", "--help"],
        ["custody", "container", "open", "--help"], ["custody", "audit", "--help"], ["custody", "report", "balance", "--help"],
    ]

    /// A receiver's day through the binary: a container opened, its items received into it, a
    /// short count closed only with a note, moves, a hand-over, the evening count, and the
    /// balance naming the item nobody saw; a declared count changed in the database is found.
    @Test func aContainerIsCountedAndTheDayBalancesToTheItemNobodySaw() throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let cli = CLI(dataDir: tmp.url.appendingPathComponent("data"))
        #expect(try cli.run(["init"]).status == 0)
        for (code, kind) in [("RCV-1", "receiving"), ("HOLD-1", "holding"), ("VAULT", "seized_property")] {
            #expect(try cli.run(["custody", "location", "add", code, "--name", code, "--kind", kind, "--secured", "--alarmed", "--cctv"]).status == 0)
        }
        let opened = try cli.run(["custody", "container", "open", "APC-0042", "--seal", "S-991", "--declared", "4", "--presented-by", "J. Carrier",
                                  "--badge", "USPS-17", "--location", "RCV-1"])
        #expect(opened.status == 0 && opened.stdout.contains("Presentation 1: container APC-0042 (USPS, seal S-991) at RCV-1, declared 4, scanned 0, open"),
                "\(opened.stdout)\(opened.stderr)")
        let items = ["EE471108151FR", "RR473124829GB", "EB000717595HK"]
        let received = try cli.run(["custody", "receive", "--location", "RCV-1", "--container", "1"] + items)
        #expect(received.status == 0 && received.stdout.components(separatedBy: "RECEIVED at RCV-1").count == 4, "\(received.stdout)\(received.stderr)")
        let short = try cli.run(["custody", "container", "close", "1"])
        #expect(short.status == 1 && short.stderr.contains("REQUIRED_MISSING: 3 items scanned of 4 declared"), "\(short.stderr)")
        let closed = try cli.run(["custody", "container", "close", "1", "--note", "One item short at hand-over"])
        #expect(closed.status == 0 && closed.stdout.contains("scanned 3, closed") && closed.stdout.contains("Note: One item short"), "\(closed.stdout)")
        let intoClosed = try cli.run(["custody", "receive", "--location", "RCV-1", "--container", "1", "CP123456785US"])
        #expect(intoClosed.status == 4 && intoClosed.stderr.contains("PRESENTATION_CLOSED"), "\(intoClosed.stderr)")
        let moved = try cli.run(["custody", "move", items[0], items[1], "--to", "HOLD-1"])
        #expect(moved.status == 0 && moved.stdout.contains("MOVED at HOLD-1"), "\(moved.stderr)")
        let vault = try cli.run(["custody", "move", items[0], "--to", "VAULT"])
        #expect(vault.status == 4 && vault.stderr.contains("WRONG_LOCATION_KIND"), "\(vault.stderr)")
        let handed = try cli.run(["custody", "handover", items[2], "--agency", "FDA"])
        #expect(handed.status == 0 && handed.stdout.contains("TO_AGENCY") && handed.stdout.contains("agency=FDA"), "\(handed.stderr)")
        let counted = try cli.run(["custody", "audit", "--location", "HOLD-1", "-"], stdin: items[0] + "\n\n")
        #expect(counted.status == 0 && counted.stdout.contains("AUDIT_SEEN at HOLD-1"), "\(counted.stderr)")
        let day = String(Timestamp.iso(millis: Timestamp.nowMillis()).prefix(10))
        let balance = try cli.run(["custody", "report", "balance", "--day", day])
        #expect(balance.status == 0 && balance.stdout.contains("received 3") && balance.stdout.contains("to agency 1") && balance.stdout.contains("= expected closing 2"),
                "\(balance.stdout)\(balance.stderr)")
        #expect(balance.stdout.contains("counted 1 at HOLD-1; discrepancy 1") && balance.stdout.contains("unaccounted \(items[1])  last MOVED at HOLD-1"),
                "\(balance.stdout)")
        #expect(balance.stdout.contains("container APC-0042 (presentation 1): declared 4, scanned 3, difference -1, note: One item short"), "\(balance.stdout)")
        let json = try cli.run(["custody", "report", "balance", "--day", day, "--json"])
        #expect(json.stdout.contains("\"discrepancy\" : 1") && json.stdout.contains("\"containers_with_difference\" : 1"), "\(json.stdout)")

        #expect(try cli.run(["verify"]).status == 0)
        let db = try DatabaseQueue(path: tmp.url.appendingPathComponent("data/archive.sqlite").path)
        try db.write { db in
            try db.execute(sql: "DROP TRIGGER custody_presentation_kept")
            try db.execute(sql: "UPDATE custody_presentation SET declared_count = 3 WHERE id = 1")
        }
        let tampered = try cli.run(["verify", "--json"])
        #expect(tampered.status == 3 && tampered.stdout.contains("custody_presentation_altered") && tampered.stdout.contains("custody-presentation:1"),
                "\(tampered.stdout)")
        // A failed security check turned into a passed one in the database is found too.
        #expect(try cli.run(["custody", "location", "add", "CAGE-1", "--name", "Cage", "--kind", "enforcement_cage", "--secured", "--alarmed", "--cctv"]).status == 0)
        let failed = try cli.run(["custody", "security-check", "CAGE-1", "--door-locked", "--no-alarm-armed", "--cctv-ok", "--exceptions", "Alarm fault"])
        #expect(failed.status == 0, "\(failed.stderr)")
        try db.write { db in
            try db.execute(sql: "DROP TRIGGER custody_security_check_kept")
            try db.execute(sql: "UPDATE custody_security_check SET alarm_armed = 1, exceptions = NULL")
        }
        let hidden = try cli.run(["verify", "--json"])
        #expect(hidden.status == 3 && hidden.stdout.contains("custody_security_check_altered"), "\(hidden.stdout)")
    }

    /// A return batch through the binary: opened with --out, filled by `custody return --container`,
    /// closed against the signed count; a member removed in the database is found by verify.
    @Test func aReturnBatchIsFilledClosedAndVerified() throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let cli = CLI(dataDir: tmp.url.appendingPathComponent("data"))
        #expect(try cli.run(["init"]).status == 0)
        for (code, kind) in [("RCV-1", "receiving"), ("RET-1", "return_dock")] {
            #expect(try cli.run(["custody", "location", "add", code, "--name", code, "--kind", kind, "--secured", "--alarmed", "--cctv"]).status == 0)
        }
        let items = ["LX300000074CN", "LX300000088CN"]
        #expect(try cli.run(["custody", "receive", "--location", "RCV-1"] + items).status == 0)
        let opened = try cli.run(["custody", "container", "open", "RET-APC-7", "--out", "--declared", "2", "--presented-by", "K. Driver", "--location", "RET-1"])
        #expect(opened.status == 0 && opened.stdout.contains("Return batch 1: container RET-APC-7") && opened.stdout.contains("custody return --carrier USPS --container 1"),
                "\(opened.stdout)\(opened.stderr)")
        let wrong = try cli.run(["custody", "return", "--carrier", "DHL", "--container", "1", items[0]])
        #expect(wrong.status != 0 && wrong.stderr.contains("CARRIER_MISMATCH"), "\(wrong.stderr)")
        let back = try cli.run(["custody", "return", "--carrier", "USPS", "--container", "1"] + items)
        #expect(back.status == 0 && back.stdout.components(separatedBy: "return_batch=1").count == 3, "\(back.stdout)\(back.stderr)")
        let closed = try cli.run(["custody", "container", "close", "1"])
        #expect(closed.status == 0 && closed.stdout.contains("scanned 2, closed"), "\(closed.stdout)\(closed.stderr)")
        #expect(try cli.run(["verify"]).status == 0)
        let db = try DatabaseQueue(path: tmp.url.appendingPathComponent("data/archive.sqlite").path)
        try db.write { db in
            try db.execute(sql: "DROP TRIGGER custody_return_member_not_deleted")
            try db.execute(sql: "DELETE FROM custody_return_member WHERE event_id = (SELECT min(event_id) FROM custody_return_member)")
        }
        let tampered = try cli.run(["verify", "--json"])
        #expect(tampered.status == 3 && tampered.stdout.contains("custody_return_batch_altered"), "\(tampered.stdout)")
    }

    /// R-MAN through the binary: a container received, the carrier's manifest imported (dry run,
    /// commit), the report naming what was listed and not received and the reverse; a manifest row
    /// changed in the database is found by verify.
    @Test func aManifestIsReconciledThroughTheBinary() throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let cli = CLI(dataDir: tmp.url.appendingPathComponent("data"))
        #expect(try cli.run(["init"]).status == 0)
        #expect(try cli.run(["custody", "location", "add", "RCV-1", "--name", "Dock", "--kind", "receiving", "--secured", "--alarmed", "--cctv"]).status == 0)
        #expect(try cli.run(["custody", "container", "open", "APC-0042", "--declared", "2", "--presented-by", "J. Carrier", "--location", "RCV-1"]).status == 0)
        #expect(try cli.run(["custody", "receive", "--location", "RCV-1", "--container", "1", "EE471108151FR", "RR473124829GB"]).status == 0)
        let today = CivilDate(dayNumber: Int(Timestamp.nowMillis() / 86_400_000))
        let file = tmp.url.appendingPathComponent("holdlist.csv")
        try Data("date,container_id,s10\n\(today),APC-0042,EE471108151FR\n\(today),APC-0042,EB000717595HK\n\(today),APC-0042,EB000717594HK\n".utf8).write(to: file)
        let dry = try cli.run(["custody", "manifest", file.path])
        #expect(dry.status == 0 && dry.stdout.contains("3 row(s), 2 would be stored, 1 rejected") && dry.stdout.contains("line 4  S10_CHECK"), "\(dry.stdout)\(dry.stderr)")
        #expect(try cli.run(["custody", "manifest", file.path, "--commit"]).stdout.contains("Import 1, digest"))
        let period = ["--from", "\(today)T00:00:00Z", "--to", "\(today.addingDays(1))T00:00:00Z"]
        let report = try cli.run(["custody", "report", "manifests"] + period)
        #expect(report.status == 0 && report.stdout.contains("1 container(s) listed (0 never presented), 2 piece(s) listed, 1 scanned as listed")
            && report.stdout.contains("APC-0042 (container 1): listed 2, scanned 2, declared 2, matched 1")
            && report.stdout.contains("listed, not received  EB000717595HK  not received")
            && report.stdout.contains("received, not listed  RR473124829GB"), "\(report.stdout)\(report.stderr)")

        #expect(try cli.run(["verify"]).status == 0)
        let db = try DatabaseQueue(path: tmp.url.appendingPathComponent("data/archive.sqlite").path)
        try db.write { db in
            try db.execute(sql: "DROP TRIGGER custody_manifest_kept")
            try db.execute(sql: "UPDATE custody_manifest SET s10 = 'RR473124829GB' WHERE s10 = 'EB000717595HK'")
        }
        let tampered = try cli.run(["verify", "--json"])
        #expect(tampered.status == 3 && tampered.stdout.contains("custody_import_altered") && tampered.stdout.contains("custody-import:1"), "\(tampered.stdout)")
        // The day's verify finds it too, and says what it leaves to the whole verify.
        let day = try cli.run(["verify", "--day", today.description])
        #expect(day.status == 3 && day.stdout.contains("2 custody events, 0 batch anchors, 1 custody import checked") && day.stdout.contains("custody_import_altered")
            && day.stdout.contains("left to the whole verify: blobs"), "\(day.stdout)\(day.stderr)")
        let badDay = try cli.run(["verify", "--day", "2019-02-30"])
        #expect(badDay.status != 0 && badDay.stderr.contains("DATE_INVALID"), "\(badDay.stderr)")
    }

    /// R-FUN through the binary: the countries of interest, the carrier's counts (dry run, commit,
    /// once), a category request, the report; a count changed in the database is found by verify.
    @Test func theFunnelIsFedAndReportedThroughTheBinary() throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let cli = CLI(dataDir: tmp.url.appendingPathComponent("data"))
        #expect(try cli.run(["init"]).status == 0)
        let badList = try cli.run(["custody", "coi", "set", "CN,QQ", "--reason", "policy"])
        #expect(badList.status != 0 && badList.stderr.contains("VALUE_UNKNOWN"), "\(badList.stderr)")
        #expect(try cli.run(["custody", "coi", "set", "cn,hk", "--reason", "COI list of 2019-06"]).stdout.contains("Countries of interest: CN,HK"))
        #expect(try cli.run(["custody", "coi", "show"]).stdout.contains("CN,HK"))
        let file = tmp.url.appendingPathComponent("gbs-20190618.csv")
        try Data("date,origin_country,mail_class,pieces,office\n2019-06-18,CN,parcel,944,JFK\n2019-06-18,GB,parcel,56,JFK\n2019-06-18,CN,parcel,1,JFK\n".utf8).write(to: file)
        let dry = try cli.run(["custody", "arrivals", file.path])
        #expect(dry.status == 0 && dry.stdout.contains("3 row(s), 2 would be stored, 1 rejected; other columns kept by name: office")
            && dry.stdout.contains("line 4  DUPLICATE") && dry.stdout.contains("Dry run"), "\(dry.stdout)\(dry.stderr)")
        let done = try cli.run(["custody", "arrivals", file.path, "--commit"])
        #expect(done.status == 0 && done.stdout.contains("2 stored") && done.stdout.contains("Import 1, digest"), "\(done.stdout)\(done.stderr)")
        #expect(try cli.run(["custody", "arrivals", file.path, "--commit"]).stdout.contains("nothing added now"))
        let request = try cli.run(["custody", "bulk-request", "--day", "2019-06-18", "--origin", "CN", "--class", "parcel", "--count", "40",
                                   "--reason", "COI random exam"])
        #expect(request.status == 0 && request.stdout.contains("Category request 1: 2019-06-18 CN parcel, 40 pieces."), "\(request.stdout)\(request.stderr)")
        let report = try cli.run(["custody", "report", "funnel", "--from", "2019-06-18T00:00:00Z", "--to", "2019-06-19T00:00:00Z"])
        #expect(report.status == 0 && report.stdout.contains("carrier arrivals 1000 → requested 0 targets + 1 category request(s)")
            && report.stdout.contains("2019-06-18 CN*    parcel           944"), "\(report.stdout)\(report.stderr)")
        let json = try cli.run(["custody", "report", "funnel", "--from", "2019-06-18T00:00:00Z", "--to", "2019-06-19T00:00:00Z", "--json"])
        #expect(json.stdout.contains("\"carrier_arrivals\" : 1000"), "\(json.stdout)")

        #expect(try cli.run(["verify"]).status == 0)
        let db = try DatabaseQueue(path: tmp.url.appendingPathComponent("data/archive.sqlite").path)
        try db.write { db in
            try db.execute(sql: "DROP TRIGGER custody_carrier_count_kept")
            try db.execute(sql: "UPDATE custody_carrier_count SET pieces = 94 WHERE origin_country = 'CN'")
        }
        let tampered = try cli.run(["verify", "--json"])
        #expect(tampered.status == 3 && tampered.stdout.contains("custody_import_altered") && tampered.stdout.contains("custody-import:1"), "\(tampered.stdout)")
    }

    /// A targeter's day through the binary: the scenario's files, the rules, a dry run that
    /// writes nothing, the commit, and the same file again adding nothing.
    @Test func aTargetListIsImportedByDryRunThenCommitAndOnlyOnce() throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let cli = CLI(dataDir: tmp.url.appendingPathComponent("data"))
        #expect(try cli.run(["init"]).status == 0)
        let fixture = try cli.run(["custody", "fixture", "--scenario", "AT2", "--seed", "1", "--out", tmp.url.appendingPathComponent("at2").path])
        #expect(fixture.status == 0, "\(fixture.stderr)")
        let file = fixture.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(file.hasSuffix("AT2-targets.csv"))
        let registrations = fixture.stderr.components(separatedBy: "\n").filter { $0.contains("custody rule add") }
        #expect(registrations.count == 2)
        #expect(try cli.run(["custody", "rule", "add", "NARC-01", "--version", "1", "--category", "narcotics", "--source", "ATS",
                             "--description", "Narcotics indicators in advance data"]).status == 0)
        #expect(try cli.run(["custody", "rule", "add", "COI-CN-01", "--version", "1", "--category", "coi_bulk", "--source", "COI list",
                             "--description", "Country-of-interest parcels, CN"]).status == 0)
        let badCategory = try cli.run(["custody", "rule", "add", "X-1", "--version", "1", "--category", "drugs", "--source", "ATS", "--description", "x"])
        #expect(badCategory.status != 0 && badCategory.stderr.contains("--category must be one of"))

        let dry = try cli.run(["custody", "import", file])
        #expect(dry.status == 0, "\(dry.stderr)")
        #expect(dry.stdout.contains("20 rows; 14 accepted, 5 rejected, 1 merged duplicate"))
        #expect(dry.stdout.contains("DATE_INVALID 2, REQUIRED_MISSING 1, S10_CHECK 1, S10_FORMAT 1"))
        #expect(dry.stdout.contains("Dry run: nothing was written"))
        let committed = try cli.run(["custody", "import", file, "--commit", "--json"])
        #expect(committed.status == 0, "\(committed.stderr)")
        #expect(committed.stdout.contains("\"added\" : 14") && committed.stdout.contains("\"dry_run\" : false")
                && committed.stdout.contains("\"code\" : \"S10_CHECK\""))
        let again = try cli.run(["custody", "import", file, "--commit"])
        #expect(again.status == 0 && again.stdout.contains("was imported on") && again.stdout.contains("nothing added now"))
        let missing = try cli.run(["custody", "import", tmp.url.appendingPathComponent("nope.csv").path])
        #expect(missing.status == 1 && missing.stderr.contains("no file at"))

        // The fixture's targets are due 48 h after their expected arrival in June 2019: all past
        // due now, none presented; one is received, and the report moves it to "late".
        let period = ["--from", "2019-06-17T00:00:00Z", "--to", "2019-06-20T00:00:00Z"]
        let none = try cli.run(["custody", "report", "not-presented"] + period + ["--json"])
        #expect(none.status == 0 && none.stdout.contains("\"presented\" : 0"), "\(none.stderr)")
        let first = String(try String(contentsOf: URL(fileURLWithPath: file), encoding: .utf8).components(separatedBy: "\r\n")[1].prefix(13))
        #expect(try cli.run(["custody", "location", "add", "RCV-1", "--name", "Receiving dock 1", "--kind", "receiving", "--secured", "--no-alarmed",
                             "--cctv"]).status == 0)
        let receivedOne = try cli.run(["custody", "receive", first, "--location", "RCV-1", "--station", "ST-4", "--scan-id", "s-1"])
        #expect(receivedOne.status == 0 && receivedOne.stdout.contains("\(first)  RECEIVED at RCV-1"), "\(receivedOne.stderr)")
        let twice = try cli.run(["custody", "receive", first, "--location", "RCV-1"])
        #expect(twice.status == 4 && twice.stderr.contains("already in custody since"))
        let badItem = try cli.run(["custody", "receive", "EB000717594HK", "--location", "RCV-1"])
        #expect(badItem.status == 4 && badItem.stderr.contains("S10_CHECK"))
        let noStart = try cli.run(["custody", "inspect", "end", first, "--result", "no_anomaly"])
        #expect(noStart.status == 1 && noStart.stderr.contains("REQUIRED_MISSING"))
        #expect(try cli.run(["custody", "inspect", "start", first, "--method", "xray", "--station", "XR-1"]).status == 0)
        let noFinding = try cli.run(["custody", "inspect", "end", first, "--result", "anomaly"])
        #expect(noFinding.status == 1 && noFinding.stderr.contains("say what was found"))
        let ended = try cli.run(["custody", "inspect", "end", first, "--result", "anomaly", "--found", "Undeclared tablets"])
        #expect(ended.status == 0 && ended.stdout.contains("INSPECT_END (xray, anomaly)"), "\(ended.stderr)")
        let events = try cli.run(["custody", "events", first])
        #expect(events.status == 0 && events.stdout.contains("RECEIVED  RCV-1") && events.stdout.contains("INSPECT_END    result=anomaly"), "\(events.stdout)")
        #expect(try cli.run(["custody", "location", "add", "VAULT", "--name", "Seized property", "--kind", "seized_property", "--secured", "--alarmed",
                             "--cctv"]).status == 0)
        let unknownWitness = try cli.run(["custody", "seize", first, "--witness", "j.doe", "--violation", "narcotics", "--substance", "tablets",
                                          "--net-weight-g", "40", "--form-6051s", "6051S-000123", "--storage", "VAULT"])
        #expect(unknownWitness.status == 1 && unknownWitness.stderr.contains("not a registered user"), "\(unknownWitness.stderr)")
        #expect(try cli.run(["user", "add", "j.doe", "--role", "custody-officer"]).status == 0)
        #expect(try cli.run(["user", "add", "m.chief", "--role", "custody-supervisor"]).status == 0)
        let seized = try cli.run(["custody", "seize", first, "--witness", "j.doe", "--violation", "narcotics", "--substance", "tablets",
                                  "--net-weight-g", "40", "--form-6051s", "6051S-000123", "--storage", "VAULT"])
        #expect(seized.status == 0 && seized.stdout.contains("enter it in SEACATS by"), "\(seized.stderr)")
        let entered = try cli.run(["custody", "seacats", "1", "--case", "2026-4701-0001"])
        #expect(entered.status == 0 && entered.stdout.contains("on time"), "\(entered.stderr)")
        let late = try cli.run(["custody", "report", "late", "--from", "2000-01-01T00:00:00Z", "--to", "2100-01-01T00:00:00Z"])
        #expect(late.status == 0 && late.stdout.contains("1 seizures, 1 entered in SEACATS on time, 0 late"), "\(late.stdout)")
        let eff = try cli.run(["custody", "report", "effectiveness"] + period)
        #expect(eff.status == 0 && eff.stdout.contains("targeted 14, presented 1 (7.14 %), inspected 1 (100.00 %), hits 1 (hit rate 100.00 %)"), "\(eff.stdout)")
        let ni = try cli.run(["custody", "report", "not-inspected"] + period)
        #expect(ni.status == 0 && ni.stdout.contains("0 presented and not inspected"), "\(ni.stdout)")
        let other = String(try String(contentsOf: URL(fileURLWithPath: file), encoding: .utf8).components(separatedBy: "\r\n")[2].prefix(13))
        #expect(try cli.run(["custody", "receive", other, "--location", "RCV-1"]).status == 0)
        let alone = try cli.run(["custody", "return", other, "--carrier", "USPS 4471"])
        #expect(alone.status == 1 && alone.stderr.contains("needs a supervisor"))
        let back = try cli.run(["custody", "return", other, "--carrier", "USPS 4471", "--supervisor", "m.chief", "--reason", "Dock overflow"])
        #expect(back.status == 0 && back.stdout.contains("RETURNED_TO_CARRIER"), "\(back.stderr)")
        let ni2 = try cli.run(["custody", "report", "not-inspected"] + period)
        #expect(ni2.stdout.contains("0 still in custody, 1 returned to the carrier uninspected"), "\(ni2.stdout)")
        let latency = try cli.run(["custody", "report", "latency", "--from", "2000-01-01T00:00:00Z", "--to", "2100-01-01T00:00:00Z"])
        #expect(latency.status == 0 && latency.stdout.contains("1 received, 1 inspected"), "\(latency.stdout)")
        let aging = try cli.run(["custody", "report", "aging", "--from", "2000-01-01T00:00:00Z", "--to", "2100-01-01T00:00:00Z", "--hours", "1"])
        #expect(aging.status == 0 && aging.stdout.contains("1 in custody, 0 held longer than 1 h"), "\(aging.stdout)") // the returned one has left
        let report = try cli.run(["custody", "report", "not-presented"] + period)
        #expect(report.status == 0 && report.stdout.contains("14 targeted, 2 presented, 12 not presented"), "\(report.stdout)")
        #expect(!report.stdout.contains("NOT PRESENTED  \(first)") && report.stdout.contains("late          \(first)"), "\(report.stdout)")

        // AT8: a custody event's time changed in the database (its guard dropped) is found by
        // verify, and so is a target changed after import.
        let verified = try cli.run(["verify"])
        #expect(verified.status == 0, "\(verified.stdout)\(verified.stderr)")
        let db = try DatabaseQueue(path: tmp.url.appendingPathComponent("data/archive.sqlite").path)
        try db.write { db in
            try db.execute(sql: "DROP TRIGGER custody_event_kept")
            try db.execute(sql: "UPDATE custody_event SET at = at - 3600000 WHERE id = 1")
        }
        let tampered = try cli.run(["verify", "--json"])
        #expect(tampered.status == 3 && tampered.stdout.contains("custody_event_altered") && tampered.stdout.contains("custody-event:1"), "\(tampered.stdout)")
        try db.write { db in
            try db.execute(sql: "DROP TRIGGER custody_target_kept")
            try db.execute(sql: "UPDATE custody_target SET expected_arrival_at = expected_arrival_at + 86400000 WHERE id = 1")
        }
        let moved = try cli.run(["verify", "--json"])
        #expect(moved.status == 3 && moved.stdout.contains("custody_import_altered"), "\(moved.stdout)")
        // The seizure's clock moved back to make a late SEACATS entry look on time.
        try db.write { db in
            try db.execute(sql: "DROP TRIGGER custody_seizure_kept")
            try db.execute(sql: "UPDATE custody_seizure SET seized_at = seized_at + 7200000 WHERE id = 1")
        }
        let clock = try cli.run(["verify", "--json"])
        #expect(clock.status == 3 && clock.stdout.contains("custody_seizure_altered") && clock.stdout.contains("custody-seizure:1"), "\(clock.stdout)")
        // An item's arrival moved an hour later (an exam would no longer look like it came before arrival).
        try db.write { db in
            try db.execute(sql: "DROP TRIGGER custody_item_kept")
            try db.execute(sql: "UPDATE custody_item SET first_arrival_at = first_arrival_at + 3600000 WHERE id = 2")
        }
        let arrival = try cli.run(["verify", "--json"])
        #expect(arrival.status == 3 && arrival.stdout.contains("custody_item_altered") && arrival.stdout.contains("custody-item:2"), "\(arrival.stdout)")
        // An episode closed in the database with no return recorded: the item left without a trace.
        try db.write { db in try db.execute(sql: "UPDATE custody_item SET closed_at = 1 WHERE id = 1") }
        let vanished = try cli.run(["verify", "--json"])
        #expect(vanished.status == 3 && vanished.stdout.contains("custody_item_closed_without_event"), "\(vanished.stdout)")
    }

    /// A site's own XLSX export through the binary: the scenario's workbook and profile, the
    /// profile registered, a dry run through it, the commit naming it.
    @Test func anXLSXExportIsImportedThroughARegisteredProfile() throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let cli = CLI(dataDir: tmp.url.appendingPathComponent("data"))
        #expect(try cli.run(["init"]).status == 0)
        let fixture = try cli.run(["custody", "fixture", "--scenario", "ats-xlsx", "--out", tmp.url.appendingPathComponent("ats").path])
        let files = fixture.stdout.split(separator: "\n").map(String.init)
        #expect(fixture.status == 0 && files.count == 2 && files[0].hasSuffix("ATS-export.xlsx"), "\(fixture.stderr)")
        for line in fixture.stderr.components(separatedBy: "\n") where line.contains("custody rule add") {
            let rule = try #require(line.firstMatch(of: /rule add (\S+) --version (\d+) --category (\S+) --source '([^']*)' --description '([^']*)'/))
            #expect(try cli.run(["custody", "rule", "add", String(rule.1), "--version", String(rule.2), "--category", String(rule.3),
                                 "--source", String(rule.4), "--description", String(rule.5)]).status == 0)
        }
        let unregistered = try cli.run(["custody", "import", files[0], "--profile", "ats-jfk"])
        #expect(unregistered.status == 1 && unregistered.stderr.contains("custody profile add"), "\(unregistered.stderr)")
        let added = try cli.run(["custody", "profile", "add", files[1]])
        #expect(added.status == 0 && added.stdout.contains("Registered mapping profile ats-jfk v1: 8 column(s), 1 constant(s)"), "\(added.stdout)\(added.stderr)")
        #expect(try cli.run(["custody", "profile", "list"]).stdout.contains("ats-jfk v1"))
        let dry = try cli.run(["custody", "import", files[0], "--profile", "ats-jfk"])
        #expect(dry.status == 0 && dry.stdout.contains("Read through mapping profile ats-jfk v1"), "\(dry.stderr)")
        #expect(dry.stdout.contains("12 rows; 8 accepted, 3 rejected, 1 merged duplicate") && dry.stdout.contains("DATE_INVALID 2, VALUE_UNKNOWN 1"), "\(dry.stdout)")
        #expect(dry.stdout.contains("columns not read (kept with the import's record): Notes"))
        let done = try cli.run(["custody", "import", files[0], "--profile", "ats-jfk@1", "--commit", "--json"])
        #expect(done.status == 0 && done.stdout.contains("\"mapping_profile\" : \"ats-jfk v1\"") && done.stdout.contains("\"added\" : 8"), "\(done.stdout)")
        #expect(try cli.run(["verify"]).status == 0)
    }

    /// AT6 through the binary: a detention and its notice; the key made owner-only in the data
    /// directory; the particulars in clear for the notice clerk, masked for an officer, refused to
    /// a non-clerk; the inventory; verify passes, and finds the sealed particulars changed or
    /// deleted behind the purge's back.
    @Test func aDetentionsParticularsAreReadOnlyByTheClerkAndTamperingIsFound() throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let cli = CLI(dataDir: tmp.url.appendingPathComponent("data"))
        #expect(try cli.run(["init"]).status == 0)
        for (user, role) in [("otto", "custody-officer"), ("nina", "notice-clerk"), ("pia", "privacy-officer"), ("sue", "custody-supervisor")] {
            #expect(try cli.run(["user", "add", user, "--role", role]).status == 0)
        }
        let item = "EB000717595HK"
        #expect(try cli.run(["custody", "location", "add", "HOLD-1", "--name", "Holding", "--kind", "holding", "--secured", "--alarmed", "--cctv"]).status == 0)
        #expect(try cli.run(["custody", "receive", item, "--location", "HOLD-1"]).status == 0)
        #expect(try cli.run(["custody", "inspect", "start", item, "--method", "xray"], as: "otto").status == 0)
        #expect(try cli.run(["custody", "inspect", "end", item, "--result", "anomaly", "--found", "Tablets"], as: "otto").status == 0)
        let detained = try cli.run(["custody", "detention", "detain", item, "--violation", "prohibited", "--reason", "personal_use_prohibited",
                                    "--contents", "medicine"], as: "otto")
        #expect(detained.status == 0 && detained.stdout.contains("Detention 1: \(item)"), "\(detained.stderr)")
        let notice = ["custody", "detention", "notice", "1", "--name", "Jane Q. Addressee", "--address-line", "1400 Example Avenue",
                      "--address-line", "Springfield, IL", "--postcode", "62704"]
        let refused = try cli.run(notice, as: "otto")
        #expect(refused.status == 1 && refused.stderr.contains("notice-clerk"), "\(refused.stderr)")
        let noParticulars = try cli.run(["custody", "detention", "notice", "1"], as: "nina")
        #expect(noParticulars.status != 0 && noParticulars.stderr.contains("--stdin"), "\(noParticulars.stderr)")
        let sent = try cli.run(["custody", "detention", "notice", "1", "--stdin"], as: "nina",
                               stdin: #"{"name": "Jane Q. Addressee", "address_lines": ["1400 Example Avenue", "Springfield, IL"], "postcode": "62704"}"#)
        #expect(sent.status == 0 && sent.stdout.contains("NOTICE OF DETENTION") && sent.stdout.contains("Springfield, IL"), "\(sent.stderr)")
        let key = tmp.url.appendingPathComponent("data/keys/addressee.key").path
        #expect(try FileManager.default.attributesOfItem(atPath: key)[.posixPermissions] as? Int == 0o600)
        let clear = try cli.run(["custody", "detention", "addressee", "1", "--purpose", "notice"], as: "nina")
        #expect(clear.status == 0 && clear.stdout.contains("Jane Q. Addressee") && clear.stdout.contains("62704"), "\(clear.stderr)")
        let masked = try cli.run(["custody", "detention", "addressee", "1", "--purpose", "inquiry"], as: "otto")
        #expect(masked.status == 0 && masked.stdout.contains("masked") && !masked.stdout.contains("Jane"), "\(masked.stdout)")
        let inventory = try cli.run(["custody", "privacy", "inventory", "--json"])
        #expect(inventory.status == 0 && inventory.stdout.contains("\"address_lines\"") && inventory.stdout.contains("\"retention_days\" : 90"), "\(inventory.stdout)")
        #expect(try cli.run(["custody", "privacy", "retention", "30", "--reason", "x"], as: "otto").status == 1)
        #expect(try cli.run(["custody", "privacy", "retention", "30", "--reason", "petition window"], as: "pia").status == 0)
        let due = try cli.run(["custody", "privacy", "purge", "--dry-run"])
        #expect(due.status == 0 && due.stdout.contains("0 record(s) due (retention 30 days"), "\(due.stdout)")
        let queue = try cli.run(["custody", "report", "detentions", "--from", "2000-01-01T00:00:00Z", "--to", "2100-01-01T00:00:00Z"])
        #expect(queue.status == 0 && queue.stdout.contains("1 detention(s), 1 open: 0 without a notice"), "\(queue.stdout)")
        let back = try cli.run(["custody", "return", item, "--carrier", "USPS"])
        #expect(back.status != 0 && back.stderr.contains("DETAINED"), "\(back.stderr)")
        let verified = try cli.run(["verify"])
        #expect(verified.status == 0, "\(verified.stdout)\(verified.stderr)")
        for file in ["archive.sqlite", "archive.sqlite-wal"] { // not in the database's files in clear
            guard let bytes = FileManager.default.contents(atPath: tmp.url.appendingPathComponent("data/\(file)").path) else { continue }
            #expect(bytes.count > 0 && bytes.range(of: Data("Jane Q. Addressee".utf8)) == nil && bytes.range(of: Data("1400 Example".utf8)) == nil, "\(file)")
        }

        // Someone with the database swaps the sealed particulars (the guard dropped): found.
        let db = try DatabaseQueue(path: tmp.url.appendingPathComponent("data/archive.sqlite").path)
        let original = try db.read { try String.fetchOne($0, sql: "SELECT sealed FROM custody_addressee WHERE detention_id = 1") }
        try db.write { db in
            try db.execute(sql: "DROP TRIGGER custody_addressee_kept")
            try db.execute(sql: "UPDATE custody_addressee SET sealed = ? WHERE detention_id = 1", arguments: [Data(repeating: 7, count: 60).base64EncodedString()])
        }
        let swapped = try cli.run(["verify", "--json"])
        #expect(swapped.status == 3 && swapped.stdout.contains("custody_addressee_altered") && swapped.stdout.contains("custody-detention:1"), "\(swapped.stdout)")
        // …or deletes them behind a tombstone of a purge that never happened (the guard left in place,
        // foreign keys off as the sqlite3 shell has them): found too.
        try db.write { db in try db.execute(sql: "UPDATE custody_addressee SET sealed = ? WHERE detention_id = 1", arguments: [original]) }
        #expect(try cli.run(["verify"]).status == 0)
        try db.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA foreign_keys = OFF")
            let sha = try String.fetchOne(db, sql: "SELECT sealed_sha256 FROM custody_addressee WHERE detention_id = 1")
            try db.execute(sql: "INSERT INTO custody_pii_tombstone (detention_id, purge_id, sealed_sha256, disposed_at) VALUES (1, 999, ?, 0)", arguments: [sha])
            try db.execute(sql: "DELETE FROM custody_addressee WHERE detention_id = 1")
        }
        let deleted = try cli.run(["verify", "--json"])
        #expect(deleted.status == 3 && deleted.stdout.contains("custody_addressee_missing") && deleted.stdout.contains("belongs to no recorded purge"), "\(deleted.stdout)")
    }

    /// Help text is interface: it is compared with the golden files in `Golden/`.
    /// Regenerate with `RECORDKEEPER_UPDATE_GOLDEN=1 swift test --filter goldenHelp`.
    @Test(arguments: commands)
    func goldenHelp(_ args: [String]) throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let r = try CLI(dataDir: tmp.url).run(args)
        #expect(r.status == 0)
        let name = "help-" + args.filter { $0 != "--help" }.joined(separator: "-") + ".txt"
        let goldenURL = packageRoot.appendingPathComponent("Tests/RecordkeeperTests/Golden/\(name == "help-.txt" ? "help.txt" : name)")
        if ProcessInfo.processInfo.environment["RECORDKEEPER_UPDATE_GOLDEN"] == "1" {
            try Data(r.stdout.utf8).write(to: goldenURL)
        }
        let golden = try String(contentsOf: goldenURL, encoding: .utf8)
        #expect(r.stdout == golden)
    }

    /// `--config` / RECORDKEEPER_CONFIG: a JSON file supplies what no flag or variable set;
    /// unknown keys and a world-readable password are refused with a clear message.
    @Test func aConfigFileSuppliesWhatFlagsAndTheEnvironmentLeaveOpen() throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let config = tmp.url.appendingPathComponent("recordkeeper.conf.json")
        let data = tmp.url.appendingPathComponent("from-config")
        try Data(#"{"data_dir": "\#(data.path)"}"#.utf8).write(to: config)
        let cli = CLI(dataDir: tmp.url.appendingPathComponent("from-environment"))
        var env = ["RECORDKEEPER_DATA_DIR": "", "RECORDKEEPER_CONFIG": config.path]
        #expect(try cli.run(["init"], env: env).status == 0)
        #expect(FileManager.default.fileExists(atPath: data.appendingPathComponent("archive.sqlite").path))
        // The environment wins over the file, a flag over both.
        env["RECORDKEEPER_DATA_DIR"] = tmp.url.appendingPathComponent("from-environment").path
        #expect(try cli.run(["init"], env: env).status == 0)
        #expect(FileManager.default.fileExists(atPath: tmp.url.appendingPathComponent("from-environment/archive.sqlite").path))
        #expect(try cli.run(["init", "--data-dir", tmp.url.appendingPathComponent("from-flag").path], env: env).status == 0)
        #expect(FileManager.default.fileExists(atPath: tmp.url.appendingPathComponent("from-flag/archive.sqlite").path))

        try Data(#"{"datadir": "/tmp/x"}"#.utf8).write(to: config)
        let typo = try cli.run(["stats", "--config", config.path])
        #expect(typo.status == 2 && typo.stderr.contains("unknown keys: datadir"), "\(typo.stderr)")
        try Data(#"{"database_url": "postgres://rk:s3cret@db.example:5432/records", "blob_store": "/srv/blobs"}"#.utf8).write(to: config)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: config.path)
        let open = try cli.run(["stats", "--config", config.path])
        #expect(open.status == 2 && open.stderr.contains("chmod 600") && !open.stderr.contains("s3cret"), "\(open.stderr)")
    }

    @Test func wholeJourney() throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let cli = CLI(dataDir: tmp.url.appendingPathComponent("data"))
        // Nothing works before init, with a message that says what to do.
        let early = try cli.run(["stats"])
        #expect(early.status == 1)
        #expect(early.stderr.contains("recordkeeper init"))

        #expect(try cli.run(["init"]).status == 0)
        #expect(try cli.run(["init"]).status == 1) // never re-initialises over an archive

        let spec = ExportSpec(style: .iosZip, chatTitle: "Nogales Ops", messageCount: 250, seed: 9)
        let zip = try ExportGenerator.write(spec, to: try tmp.sub("exports"))
        let ingest = try cli.run(["ingest", zip.path, "--custodian", "k.walsh@cbp.example.gov", "--timezone", "America/Phoenix", "--json"])
        #expect(ingest.status == 0, "\(ingest.stderr)")
        let line = try #require(ingest.stdout.split(separator: "\n").first)
        let batch = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
        #expect(batch["messages_added"] as? Int == 250)
        #expect(batch["duplicates_skipped"] as? Int == 0)
        #expect(batch["format"] as? String == "whatsapp-ios-zip")
        #expect((batch["date_order"] as? [String: Any])?["order"] as? String == "MDY")
        #expect(batch["batch_id"] as? Int == 1)
        #expect((batch["attachments_stored"] as? Int ?? 0) > 0)
        #expect(batch["defects"] as? Int == 0)

        let again = try cli.run(["ingest", zip.path, "--custodian", "k.walsh@cbp.example.gov", "--json"])
        let second = try JSONSerialization.jsonObject(with: Data(again.stdout.utf8)) as! [String: Any]
        #expect(second["messages_added"] as? Int == 0)
        #expect(second["duplicates_skipped"] as? Int == 250)

        let search = try cli.run(["search", "lane", "--json", "--limit", "5"])
        #expect(search.status == 0)
        let hits = try JSONSerialization.jsonObject(with: Data(search.stdout.utf8)) as! [String: Any]
        #expect((hits["total"] as? Int ?? 0) > 0)
        let first = try #require((hits["hits"] as? [[String: Any]])?.first)
        #expect((first["snippet"] as? String)?.lowercased().contains("«lane") == true)

        let id = first["message_id"] as! Int
        let show = try cli.run(["show", "message", String(id)])
        #expect(show.status == 0)
        #expect(show.stdout.contains("recomputed now: matches"))
        #expect(show.stdout.contains("WhatsApp Chat - Nogales Ops.zip"))
        #expect(show.stdout.contains("_chat.txt, line "))

        let transcript = try cli.run(["show", "conversation", "1", "--limit", "3"])
        #expect(transcript.status == 0)
        #expect(transcript.stdout.contains("Nogales Ops — conversation 1"))

        let stats = try cli.run(["stats", "--json"])
        let s = try JSONSerialization.jsonObject(with: Data(stats.stdout.utf8)) as! [String: Any]
        #expect(s["messages"] as? Int == 250)
        #expect(s["conversations"] as? Int == 1)
        #expect(s["batches"] as? Int == 2)
        #expect(s["custodians"] as? Int == 1)

        let verify = try cli.run(["verify"])
        #expect(verify.status == 0)
        #expect(verify.stdout.contains("OK: nothing altered"))

        let badQuery = try cli.run(["search", "(lane"])
        #expect(badQuery.status == 1)
        #expect(badQuery.stderr.hasPrefix("error: "))

        let missing = try cli.run(["ingest", "/nonexistent/export.zip", "--custodian", "k.walsh@cbp.example.gov"])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("does not exist"))
    }

    /// Progress (bytes, messages, rate) appears on stderr when it is a terminal, and only then.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/script"), "needs util-linux script for a pty"))
    func progressOnlyOnATerminal() throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let data = tmp.url.appendingPathComponent("data")
        let cli = CLI(dataDir: data)
        #expect(try cli.run(["init"]).status == 0)
        let big = try ExportGenerator.write(ExportSpec(style: .androidTxt, messageCount: 40_000, mediaEvery: 0, seed: 5), to: try tmp.sub("a"))
        let piped = try cli.run(["ingest", big.path, "--custodian", "k.walsh@cbp.example.gov", "--timezone", "UTC"])
        #expect(piped.status == 0)
        #expect(!piped.stderr.contains("msg/s"))

        let again = try ExportGenerator.write(ExportSpec(style: .androidTxt, chatTitle: "Second", messageCount: 40_000, mediaEvery: 0, seed: 6),
                                              to: try tmp.sub("b"))
        let command = "RECORDKEEPER_DATA_DIR='\(data.path)' '\(CLI.binary.path)' ingest '\(again.path)' --custodian k.walsh@cbp.example.gov --timezone UTC"
        let tty = try CLI(dataDir: data).run(["-q", "-e", "-c", command, "/dev/null"], executable: URL(fileURLWithPath: "/usr/bin/script"))
        #expect(tty.status == 0)
        #expect(tty.stdout.contains("msg/s"))
        #expect(tty.stdout.contains("messages"))
        #expect(tty.stdout.contains(" / ")) // bytes read of total
    }

    /// `demo` replaces only an exports folder it wrote itself; anyone else's folder is left alone.
    @Test func demoNeverDeletesAFolderItDidNotWrite() throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let data = tmp.url.appendingPathComponent("case")
        let theirs = try tmp.sub("case-exports")
        try Data("counsel's notes".utf8).write(to: theirs.appendingPathComponent("notes.txt"))
        let refused = try CLI(dataDir: data).run(["demo", "--data-dir", data.path])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("was not written by the demo"))
        #expect(FileManager.default.fileExists(atPath: theirs.appendingPathComponent("notes.txt").path))
        #expect(!FileManager.default.fileExists(atPath: data.path)) // no half-made archive either

        try FileManager.default.removeItem(at: theirs)
        let first = try CLI(dataDir: data).run(["demo", "--data-dir", data.path, "--no-serve"])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("4,075 messages"))
        // A rebuilt demo may replace its own, marked exports.
        try FileManager.default.removeItem(at: data)
        #expect(try CLI(dataDir: data).run(["demo", "--data-dir", data.path, "--no-serve"]).status == 0)
    }

    /// `demo` serves what it built on 127.0.0.1 with a fresh password per run, and SIGTERM stops
    /// it cleanly.
    @Test func demoServesTheWebUIAndStopsOnSIGTERM() throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let data = tmp.url.appendingPathComponent("demo")
        let (p, text) = try CLI.start(["demo", "--data-dir", data.path, "--port", "0"], until: "Sign in as")
        defer { if p.isRunning { p.terminate() } }
        let url = try #require(text.firstMatch(of: /Web UI: (http:\/\/127\.0\.0\.1:\d+)\//)?.1)
        let password = try #require(text.firstMatch(of: /\n  r\.officer +(\S+)/)?.1)
        func curl(_ args: [String]) throws -> String {
            try CLI(dataDir: data).run(["-s", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}"] + args, executable: URL(fileURLWithPath: "/usr/bin/curl")).stdout
        }
        #expect(try curl(["\(url)/health"]).hasPrefix("200"))
        #expect(try curl(["-d", "username=r.officer&password=wrong", "\(url)/login"]).hasPrefix("401"))
        #expect(try curl(["-d", "username=r.officer&password=\(password)", "\(url)/login"]) == "303 \(url)/")
        p.terminate()
        p.waitUntilExit()
        #expect(p.terminationReason == .exit && p.terminationStatus == 0)
        // A second run prints a different password: none is fixed.
        let again = try CLI(dataDir: data).run(["demo", "--data-dir", data.path, "--no-serve"])
        #expect(again.status == 0 && !again.stdout.contains(String(password)))
    }

    /// While another process holds the write lock, the CLI says whom it waits for, then gives up
    /// with exit code 5 and a message naming the holder; nothing is written meanwhile.
    @Test func aBusyArchiveIsNamedAndTheCLIGivesUp() async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let data = tmp.url.appendingPathComponent("data")
        let cli = CLI(dataDir: data)
        #expect(try cli.run(["init"]).status == 0)
        let txt = try writeText(RecordsCLITests.chat, named: "WhatsApp Chat with Sam Lee.txt", in: try tmp.sub("export"))
        let args = ["ingest", txt.path, "--custodian", "jane.doe@agency.example.gov", "--timezone", "America/New_York"]
        let handle = try DataDirectory(url: data).open()
        let busy = try await handle.withWriteLock(purpose: "test.holder") {
            try cli.run(args, env: ["RECORDKEEPER_WRITE_LOCK_TIMEOUT": "1"])
        }
        #expect(busy.status == 5)
        #expect(busy.stderr.contains("waiting for the write lock held by pid \(getpid()) (test.holder) since"))
        #expect(busy.stderr.contains("error: the archive's write lock is held by pid \(getpid()) (test.holder)"))
        #expect(try await handle.store.stats().messages == 0)
        #expect(try cli.run(args).status == 0) // released: the same ingest goes through
    }

    /// SIGTERM stops the server in bounded time even while a request waits (here an upload
    /// waiting for a write lock another process holds, with a ten-minute lock timeout).
    @Test func sigtermStopsTheServerWhileARequestWaits() async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let data = tmp.url.appendingPathComponent("data")
        let cli = CLI(dataDir: data)
        #expect(try cli.run(["init"]).status == 0)
        #expect(try cli.run(["user", "add", "alice", "--role", "records-officer"]).status == 0)
        let token = try cli.run(["user", "token", "create", "alice", "--label", "sigterm test"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(token.hasPrefix("rk_"))
        let txt = try writeText(RecordsCLITests.chat, named: "WhatsApp Chat with Sam Lee.txt", in: try tmp.sub("export"))
        let log = tmp.url.appendingPathComponent("serve.log")
        let (server, text) = try CLI.start(["serve", "--data-dir", data.path, "--port", "0"], until: "Stop with",
                                           env: ["RECORDKEEPER_WRITE_LOCK_TIMEOUT": "600"], stderr: log)
        defer { if server.isRunning { kill(server.processIdentifier, SIGKILL) } }
        let url = try #require(text.firstMatch(of: /at (http:\/\/127\.0\.0\.1:\d+)\//)?.1)
        // The request log names who asked (a token's user here), never what they asked for.
        let me = try CLI(dataDir: data).run(["-s", "-H", "Authorization: Bearer \(token)", "\(url)/api/v1/me"], executable: URL(fileURLWithPath: "/usr/bin/curl"))
        #expect(me.stdout.contains("\"name\":\"alice\""))
        try await Task.sleep(for: .milliseconds(200))
        #expect(((try? String(contentsOf: log, encoding: .utf8)) ?? "").contains("GET /api/v1/me 200"))
        #expect(((try? String(contentsOf: log, encoding: .utf8)) ?? "").contains("user=alice"))
        let handle = try DataDirectory(url: data).open()
        try await handle.withWriteLock(purpose: "test.holder") {
            let curl = Process()
            curl.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
            curl.arguments = ["-s", "-o", "/dev/null", "-H", "Authorization: Bearer \(token)", "-F", "custodian=jane.doe@agency.example.gov",
                              "-F", "file=@\(txt.path)", "\(url)/api/v1/ingest"]
            curl.standardOutput = FileHandle.nullDevice
            curl.standardError = FileHandle.nullDevice
            try curl.run()
            defer { if curl.isRunning { curl.terminate() } }
            // The request is in and waiting: the server log names whom it waits for.
            var waited = 0
            while !((try? String(contentsOf: log, encoding: .utf8))?.contains("archive.write_lock.waiting") ?? false), waited < 200 {
                try await Task.sleep(for: .milliseconds(50))
                waited += 1
            }
            let serverLog = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            #expect(serverLog.contains("waiting for the write lock held by pid \(getpid()) (test.holder)"))
            let start = ContinuousClock.now
            server.terminate() // SIGTERM
            while server.isRunning, ContinuousClock.now - start < .seconds(40) { try await Task.sleep(for: .milliseconds(50)) }
            let took = ContinuousClock.now - start
            #expect(!server.isRunning, "serve ignored SIGTERM for 40 s while a request waited")
            #expect(took < .seconds(20), "serve took \(took) to stop")
        }
        #expect(try await handle.store.stats().messages == 0) // the waiting upload wrote nothing
    }

    /// HTML-bearing exports (a Teams page, an HTML e-mail) ingested again by a second process add
    /// nothing: entity decoding is one deterministic pass (it once iterated a Dictionary, whose
    /// order changes from process to process, so `&amp;lt;` decoded differently and made duplicates).
    @Test func reingestingHTMLExportsInASecondProcessAddsNothing() throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let cli = CLI(dataDir: tmp.url.appendingPathComponent("data"))
        #expect(try cli.run(["init"]).status == 0)
        let soups = ["&amp;lt;b&amp;gt; stays escaped &amp;amp; so does this", "&lt;i&gt;seal&lt;/i&gt; &quot;88412&quot; &#8217;&#x2019; &nbsp;&amp;nbsp;",
                     "&amp;quot;&amp;#39;&amp;apos;&amp;gt;&amp;lt;&amp;amp;", "&gt;&lt;&amp;&apos;&#39;&quot;&nbsp;"]
        var values: [String] = []
        for (i, soup) in soups.enumerated() {
            values.append("""
                {"id": "16158204601\(i)", "messageType": "message", "createdDateTime": "2021-03-15T15:0\(i):00.000Z",
                 "chatId": "19:entities@thread.v2", "from": {"user": {"id": "8b2f0c1e-1111-4a5b-9c8d-000000000001", "displayName": "Ruth Okafor"}},
                 "body": {"contentType": "html", "content": "<p>\(soup)</p>"}, "attachments": []}
                """)
        }
        let dir = try tmp.sub("exports")
        let teams = try writeText("{\"value\": [\(values.joined(separator: ",\n"))]}\n", named: "getAllMessages-2021-03-15.json", in: dir)
        let mail = try writeText("""
            From records@cbp.example.gov Tue Mar 16 09:00:00 2021
            From: Records Office <records@cbp.example.gov>
            To: d.kowalski@cbp.example.gov
            Subject: Entities
            Date: Tue, 16 Mar 2021 09:00:00 -0400
            Message-ID: <entities.1@cbp.example.gov>
            Content-Type: text/html; charset=utf-8

            <p>\(soups.joined(separator: "<br>"))</p>

            """, named: "ops.mbox", in: dir)
        func added(_ r: CLI.Result) -> Int {
            r.stdout.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
                .reduce(0) { $0 + ($1["messages_added"] as? Int ?? 0) }
        }
        let args = ["ingest", teams.path, mail.path, "--custodian", "r.okafor@cbp.example.gov", "--timezone", "UTC", "--json"]
        let first = try cli.run(args)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(added(first) == 5)
        for _ in 0..<3 {
            let again = try cli.run(args)
            #expect(again.status == 0 && added(again) == 0, "\(again.stdout)")
        }
        let found = try cli.run(["search", "stays escaped", "--json"])
        #expect(found.stdout.contains("\"&lt;b&gt; «stays» «escaped» &amp; so does this\""), "\(found.stdout)")
    }

    /// Typos are errors naming the closest known name, never "no hits" or a hold over nothing;
    /// `hold create --dry-run` shows the scope first.
    @Test func typosAreErrorsNotSilentZeros() throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let cli = CLI(dataDir: tmp.url.appendingPathComponent("data"))
        #expect(try cli.run(["init"]).status == 0)
        let txt = try writeText(RecordsCLITests.chat, named: "WhatsApp Chat with Sam Lee.txt", in: try tmp.sub("export"))
        #expect(try cli.run(["ingest", txt.path, "--custodian", "jane.doe@agency.example.gov", "--timezone", "UTC"]).status == 0)
        #expect(try cli.run(["user", "add", "alice", "--role", "records-officer"]).status == 0)
        // A usage error exits 2, as the help promises.
        let usage = try cli.run(["search"])
        #expect(usage.status == 2 && usage.stderr.contains("give words to search for, or at least one filter"))
        let search = try cli.run(["search", "crane", "--custodian", "jane.do@agency.example.gov"])
        #expect(search.status == 1 && search.stderr == "error: no custodian jane.do@agency.example.gov in the archive. Did you mean jane.doe@agency.example.gov? `recordkeeper custodian list` lists them\n")
        let inverted = try cli.run(["search", "crane", "--from", "2021-02-01", "--to", "2021-01-01"])
        #expect(inverted.status == 1 && inverted.stderr.contains("--to 2021-01-01 is before --from 2021-02-01"))
        let hold = ["hold", "create", "--name", "CREW", "--matter", "litigation", "--requested-by", "OGC"]
        let typo = try cli.run(hold + ["--custodian", "jane.do@agency.example.gov"], as: "alice")
        #expect(typo.status == 1 && typo.stderr.contains("no custodian jane.do@agency.example.gov in the archive, so the hold would cover nothing of theirs. Did you mean jane.doe@agency.example.gov?"))
        let dry = try cli.run(hold + ["--custodian", "jane.doe@agency.example.gov", "--query", "manifest", "--dry-run"], as: "alice")
        #expect(dry.status == 0 && dry.stdout.hasPrefix("This hold would cover 2 records now") && dry.stdout.contains("custodian jane.doe@agency.example.gov: 2"))
        #expect((try JSONSerialization.jsonObject(with: Data(try cli.run(["hold", "list", "--json"]).stdout.utf8)) as? [Any])?.isEmpty == true)
        let empty = try cli.run(hold + ["--query", "zeppelin"], as: "alice")
        #expect(empty.status == 0 && empty.stderr.contains("warning: the hold covers no record now"))
        let future = try cli.run(hold + ["--custodian", "new.hire@agency.example.gov", "--future-custodian"], as: "alice")
        #expect(future.status == 0)
    }

    /// With a certificate, `serve` speaks HTTPS only, marks the session cookie Secure and sends HSTS.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl")))
    func serveSpeaksTLSWhenGivenACertificate() throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let data = tmp.url.appendingPathComponent("data")
        let cli = CLI(dataDir: data)
        #expect(try cli.run(["init"]).status == 0)
        let pw = tmp.url.appendingPathComponent("pw")
        try Data("a passphrase for tls tests\n".utf8).write(to: pw)
        let add = Process()
        add.executableURL = CLI.binary
        add.arguments = ["user", "add", "tls.admin", "--role", "admin", "--password-stdin", "--data-dir", data.path]
        add.standardInput = try FileHandle(forReadingFrom: pw)
        try add.run()
        add.waitUntilExit()
        #expect(add.terminationStatus == 0)
        let key = tmp.url.appendingPathComponent("key.pem").path, cert = tmp.url.appendingPathComponent("cert.pem").path
        let made = try cli.run(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1"],
                               executable: URL(fileURLWithPath: "/usr/bin/openssl"))
        #expect(made.status == 0)
        let (p, text) = try CLI.start(["serve", "--data-dir", data.path, "--port", "0", "--tls-certificate", cert, "--tls-key", key], until: "Stop with")
        defer { if p.isRunning { p.terminate() } }
        let url = try #require(text.firstMatch(of: /(https:\/\/127\.0\.0\.1:\d+)\//)?.1)
        let curl = URL(fileURLWithPath: "/usr/bin/curl")
        let login = try cli.run(["-s", "-k", "-D", "-", "-o", "/dev/null", "-d", "username=tls.admin&password=a passphrase for tls tests", "\(url)/login"], executable: curl)
        #expect(login.stdout.contains("303"))
        #expect(login.stdout.lowercased().contains("set-cookie: rk_session=") && login.stdout.contains("Secure") && login.stdout.contains("SameSite=Strict"))
        #expect(login.stdout.lowercased().contains("strict-transport-security: max-age="))
        let plain = try cli.run(["-s", "-o", "/dev/null", "-w", "%{http_code}", url.replacingOccurrences(of: "https:", with: "http:") + "/health"], executable: curl)
        #expect(plain.stdout != "200") // no plain HTTP on the TLS port
        p.terminate()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
    }

    /// Logs say what happened, never what was said: verbose runs of every command are searched
    /// for the message text, the sender and the query.
    @Test func logsNeverContainRecordContent() throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let cli = CLI(dataDir: tmp.url.appendingPathComponent("data"))
        #expect(try cli.run(["init"]).status == 0)
        let secret = "Informant Zeta meets at warehouse 17"
        let text = "[3/1/21, 9:07:12 AM] Yolanda Quintero: \(secret)\n[3/1/21, 9:08:00 AM] Karen Walsh: copy\n"
        let file = try writeText(text, named: "WhatsApp Chat - Source Handling.txt", in: try tmp.sub("x"))
        let notes = try writeText("Quintero's private notes, not a chat\n", named: "notes.txt", in: try tmp.sub("y"))
        var stderr = ""
        for args in [["ingest", file.path, "--custodian", "k.walsh@cbp.example.gov", "--timezone", "UTC"],
                     ["ingest", notes.path, "--custodian", "k.walsh@cbp.example.gov"],
                     ["search", "warehouse"], ["search", "\"Zeta meets\""], ["show", "message", "1"],
                     ["show", "conversation", "1"], ["verify"], ["stats"]] {
            stderr += try cli.run(args + ["--verbose"]).stderr
        }
        #expect(stderr.contains("ingest.batch.complete"), "verbose logging must actually log")
        for needle in ["Informant", "Zeta", "warehouse", "Quintero", "Yolanda", "private notes"] {
            #expect(!stderr.contains(needle), "stderr leaked \(needle)")
        }
    }

    /// Issue 17, item 6: the server's log (verbose), its error answers and its metrics never
    /// carry record content. A canary is in a message body, a sender's name, a chat title and an
    /// uploaded file's name; it is searched for, read, uploaded, typed as a broken query and as a
    /// user name, and then looked for in everything the server wrote.
    @Test func theServerLogsNoRecordContent() throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let data = tmp.url.appendingPathComponent("data")
        let cli = CLI(dataDir: data)
        #expect(try cli.run(["init"]).status == 0)
        let canary = "Qzxlogcanary4471"
        let chat = "[3/1/21, 9:07:12 AM] \(canary) Walsh: the \(canary) pallet is at lane 7\n[3/1/21, 9:08:00 AM] Yolanda Quintero: copy\n"
        let txt = try writeText(chat, named: "WhatsApp Chat - \(canary) Ops.txt", in: try tmp.sub("x"))
        #expect(try cli.run(["ingest", txt.path, "--custodian", "k.walsh@cbp.example.gov", "--timezone", "UTC"]).status == 0)
        let password = "a passphrase for the log test"
        #expect(try cli.run(["user", "add", "r.admin", "--role", "admin", "--role", "records-officer", "--password-stdin", "--os-account", CLI.osLogin],
                            stdin: password + "\n").status == 0)
        let token = try cli.token(for: "r.admin")
        let log = tmp.url.appendingPathComponent("server.log")
        let (server, banner) = try CLI.start(["serve", "--port", "0", "--verbose", "--data-dir", data.path], until: "Stop with Ctrl-C.",
                                             env: ["RECORDKEEPER_DATA_DIR": data.path], stderr: log)
        defer { if server.isRunning { server.terminate() } }
        let base = try #require(banner.firstMatch(of: /(http:\/\/127\.0\.0\.1:\d+)/)?.1)
        let jar = tmp.url.appendingPathComponent("cookies").path
        func curl(_ args: [String]) throws -> String {
            try cli.run(["-s", "-b", jar, "-c", jar] + args, executable: URL(fileURLWithPath: "/usr/bin/curl")).stdout
        }
        let bearer = ["-H", "Authorization: Bearer \(token)"]
        var answers = ""
        answers += try curl(bearer + ["\(base)/api/v1/search?q=\(canary)"])
        answers += try curl(bearer + ["\(base)/api/v1/search?q=%22\(canary)%20AND%20(("])
        answers += try curl(bearer + ["\(base)/api/v1/messages/1"])
        answers += try curl(["-d", "username=\(canary)&password=wrong", "\(base)/login"])
        _ = try curl(["-d", "username=r.admin&password=\(password.replacingOccurrences(of: " ", with: "+"))", "\(base)/login"])
        let form = try curl(["\(base)/upload"])
        let csrf = try #require(form.firstMatch(of: /csrf=([0-9a-f]+)/)?.1)
        let upload = try writeText(chat.replacingOccurrences(of: "lane 7", with: "lane 8"), named: "WhatsApp Chat - \(canary) Night.txt", in: try tmp.sub("u"))
        _ = try curl(["-F", "custodian=k.walsh@cbp.example.gov", "-F", "file=@\(upload.path)", "\(base)/upload?csrf=\(csrf)"])
        answers += try curl(["\(base)/search?q=\(canary)"])
        let metrics = try curl(["\(base)/metrics"])
        #expect(answers.contains(canary), "the canary must really be in the records the server answered with")
        server.terminate()
        server.waitUntilExit()
        let written = try String(contentsOf: log, encoding: .utf8)
        #expect(written.contains("/api/v1/search") && written.contains("/upload"), "verbose logging must actually log the requests")
        #expect(!written.lowercased().contains(canary.lowercased()), "the server log leaked the canary")
        #expect(!metrics.lowercased().contains(canary.lowercased()), "a metric leaked the canary")
        // The upload was really captured (its name and body carried the canary through ingest).
        let batch = try cli.run(["show", "batch", "2"])
        #expect(batch.status == 0 && batch.stdout.contains("Night"), "\(batch.stdout)\(batch.stderr)")
    }

    /// Kills a real ingest mid-way with SIGKILL: the archive must verify, and running the same
    /// ingest again must complete it with no duplicates.
    @Test func crashMidIngestLeavesAConsistentResumableArchive() async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let data = tmp.url.appendingPathComponent("data")
        let cli = CLI(dataDir: data)
        #expect(try cli.run(["init"]).status == 0)
        let total = 60_000
        let txt = try ExportGenerator.write(ExportSpec(style: .androidTxt, messageCount: total, mediaEvery: 0, seed: 77), to: try tmp.sub("big"))

        let p = Process()
        p.executableURL = CLI.binary
        p.arguments = ["ingest", txt.path, "--custodian", "k.walsh@cbp.example.gov", "--timezone", "UTC"]
        var env = ProcessInfo.processInfo.environment
        env["RECORDKEEPER_DATA_DIR"] = data.path
        p.environment = env
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        // Wait until at least one chunk is committed (visible to another reader), then kill
        // without warning.
        // Watched from a thread of its own, so a busy test run cannot starve the watcher while the
        // ingest finishes.
        let db = data.appendingPathComponent("archive.sqlite")
        let ingesting = UncheckedBox(p)
        let killedMidway = try await onThread { () -> Bool in
            let deadline = Date().addingTimeInterval(120)
            while Date() < deadline, ingesting.value.isRunning {
                if let queue = try? DatabaseQueue(path: db.path, configuration: { var c = Configuration(); c.readonly = true; return c }()),
                   let n = try? queue.read({ try Int.fetchOne($0, sql: "SELECT count(*) FROM message") }), (n ?? 0) > 0 {
                    break
                }
                usleep(20_000)
            }
            let running = ingesting.value.isRunning
            kill(ingesting.value.processIdentifier, SIGKILL)
            return running
        }
        p.waitUntilExit()
        #expect(killedMidway, "the ingest finished before it could be killed; make the export bigger")

        let statsAfterCrash = try JSONSerialization.jsonObject(with: Data(try cli.run(["stats", "--json"]).stdout.utf8)) as! [String: Any]
        let partial = statsAfterCrash["messages"] as? Int ?? -1
        #expect(partial > 0 && partial < total)
        #expect(statsAfterCrash["unfinished_batches"] as? Int == 1)
        let verify = try cli.run(["verify"])
        #expect(verify.status == 0, "\(verify.stdout)")

        let resume = try cli.run(["ingest", txt.path, "--custodian", "k.walsh@cbp.example.gov", "--timezone", "UTC", "--json"])
        #expect(resume.status == 0)
        let r = try JSONSerialization.jsonObject(with: Data(resume.stdout.utf8)) as! [String: Any]
        #expect(r["resumed_batch"] as? Bool == true)
        #expect(r["messages_added"] as? Int == total - partial)
        #expect(r["duplicates_skipped"] as? Int == partial)
        let final = try JSONSerialization.jsonObject(with: Data(try cli.run(["stats", "--json"]).stdout.utf8)) as! [String: Any]
        #expect(final["messages"] as? Int == total)
        #expect(final["batches"] as? Int == 1)
        #expect(final["unfinished_batches"] as? Int == 0)
        #expect(try cli.run(["verify"]).status == 0)

        // Killed while the index is being built: what was indexed stays consistent with its mark,
        // verify passes (the rest is lag, not damage), and the next run converges.
        let rebuild = Process()
        rebuild.executableURL = CLI.binary
        rebuild.arguments = ["index", "rebuild"]
        rebuild.environment = env.merging(["RECORDKEEPER_INDEX_BATCH": "500"]) { $1 }
        rebuild.standardOutput = FileHandle.nullDevice
        rebuild.standardError = FileHandle.nullDevice
        try rebuild.run()
        let ro = try DatabaseQueue(path: db.path, configuration: { var c = Configuration(); c.readonly = true; return c }())
        let rebuilding = UncheckedBox(rebuild)
        let indexKilledMidway = try await onThread { () -> Bool in
            let rebuildDeadline = Date().addingTimeInterval(120)
            while Date() < rebuildDeadline, rebuilding.value.isRunning {
                // After the reset (mark 0) and at least one batch, before the last.
                let mark = (try? ro.read { try Int64.fetchOne($0, sql: "SELECT indexed_through FROM search_index_state WHERE indexed_through < (SELECT max(id) FROM message)") }) ?? 0
                if (mark ?? 0) > 0 { break }
                usleep(2_000)
            }
            let running = rebuilding.value.isRunning
            kill(rebuilding.value.processIdentifier, SIGKILL)
            return running
        }
        rebuild.waitUntilExit()
        #expect(indexKilledMidway, "the rebuild finished before it could be killed")
        let lagging = try JSONSerialization.jsonObject(with: Data(try cli.run(["index", "status", "--json"]).stdout.utf8)) as! [String: Any]
        let coverage = lagging["coverage"] as? [String: Any]
        #expect((coverage?["not_yet_searchable"] as? Int ?? 0) > 0 && coverage?["complete"] as? Bool == false)
        let midVerify = try cli.run(["verify", "--json"])
        #expect(midVerify.status == 0, "\(midVerify.stdout)")
        #expect(((try JSONSerialization.jsonObject(with: Data(midVerify.stdout.utf8)) as? [String: Any])?["not_yet_indexed"] as? Int ?? 0) > 0)
        let catchUp = try cli.run(["index", "catch-up"])
        #expect(catchUp.status == 0 && catchUp.stdout.contains("Search covers every captured message."), "\(catchUp.stdout)\(catchUp.stderr)")
        let all = try JSONSerialization.jsonObject(with: Data(try cli.run(["search", "the OR a OR to OR and", "--json"]).stdout.utf8)) as! [String: Any]
        #expect((all["coverage"] as? [String: Any])?["complete"] as? Bool == true)
        #expect(try cli.run(["verify"]).status == 0)
    }

    /// Capture is durable before indexing: with --no-wait-index the records are in the archive
    /// (browsable) but every search says they are not yet searchable, until the index catches up.
    @Test func searchStatesWhatItCannotSeeYet() throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let cli = CLI(dataDir: tmp.url.appendingPathComponent("data"))
        #expect(try cli.run(["init"]).status == 0)
        let txt = try writeText(RecordsCLITests.chat, named: "WhatsApp Chat with Sam Lee.txt", in: try tmp.sub("export"))
        let ingest = try cli.run(["ingest", txt.path, "--custodian", "jane.doe@agency.example.gov", "--timezone", "UTC", "--no-wait-index"])
        #expect(ingest.status == 0)
        #expect(ingest.stderr.contains("captured (durable). Search covers everything captured before 20"))
        #expect(ingest.stderr.contains("4 messages captured since are not yet searchable"))
        let early = try cli.run(["search", "crane"])
        #expect(early.stdout.contains("No hits for crane."))
        #expect(early.stderr.contains("4 messages captured since are not yet searchable"))
        let earlyJSON = try JSONSerialization.jsonObject(with: Data(try cli.run(["search", "crane", "--json"]).stdout.utf8)) as! [String: Any]
        let coverage = try #require(earlyJSON["coverage"] as? [String: Any])
        #expect(coverage["not_yet_searchable"] as? Int == 4 && coverage["complete"] as? Bool == false && coverage["searchable_before"] is String)
        // Reachable by browsing meanwhile.
        #expect(try cli.run(["show", "conversation", "1"]).stdout.contains("Crane 4 is down again"))
        let stats = try JSONSerialization.jsonObject(with: Data(try cli.run(["stats", "--json"]).stdout.utf8)) as! [String: Any]
        #expect((stats["search_index"] as? [String: Any])?["not_yet_searchable"] as? Int == 4 && stats["messages"] as? Int == 4)

        #expect(try cli.run(["index", "catch-up"]).stdout.contains("4 messages indexed."))
        let late = try cli.run(["search", "crane"])
        #expect(late.stdout.contains("1 hit for crane") && late.stderr.isEmpty)
        // A default ingest waits for the index: its records are findable when it returns.
        let more = try writeText("06/01/2021, 08:00 - Sam Lee: Gantry inspection moved to Friday\n", named: "WhatsApp Chat with Sam Lee.txt", in: try tmp.sub("more"))
        let waited = try cli.run(["ingest", more.path, "--custodian", "jane.doe@agency.example.gov", "--timezone", "UTC"])
        #expect(waited.status == 0 && !waited.stderr.contains("not yet searchable"))
        #expect(try cli.run(["search", "gantry"]).stdout.contains("1 hit for gantry"))
    }

    /// A collection without words: the filters alone, newest first, from the records themselves
    /// (so the index lag does not hide anything), with the API's field names and UTC beside the
    /// time as written.
    @Test func filtersAloneCollectWithTheAPIsFieldNames() throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let cli = CLI(dataDir: tmp.url.appendingPathComponent("data"))
        #expect(try cli.run(["init"]).status == 0)
        let txt = try writeText(RecordsCLITests.chat, named: "WhatsApp Chat with Sam Lee.txt", in: try tmp.sub("export"))
        #expect(try cli.run(["ingest", txt.path, "--custodian", "jane.doe@agency.example.gov", "--timezone", "America/New_York", "--no-wait-index"]).status == 0)
        let collected = try cli.run(["search", "--custodian", "jane.doe@agency.example.gov", "--json"])
        #expect(collected.status == 0 && collected.stderr.isEmpty)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(collected.stdout.utf8)) as? [String: Any])
        #expect(json["total"] as? Int == 4 && json["order"] as? String == "date")
        #expect((json["coverage"] as? [String: Any])?["complete"] as? Bool == true)
        let hits = try #require(json["hits"] as? [[String: Any]])
        #expect(hits.first?["snippet"] as? String == "Approved the manifest")
        #expect(hits.first?["conversation_title"] as? String == "Sam Lee" && hits.first?["conversation"] == nil)
        #expect(hits.first?["sent_local"] as? String == "2021-01-05T11:30:00" || hits.first?["sent_local"] as? String == "2021-05-01T11:30:00")
        #expect((hits.first?["sent_utc"] as? String)?.hasSuffix(":30:00Z") == true && hits.first?["time_zone"] as? String == "America/New_York")
        let text = try cli.run(["search", "--custodian", "jane.doe@agency.example.gov", "--limit", "2"])
        #expect(text.stdout.contains("4 records selected by the filters, newest first (showing 1–2)"))
        #expect(text.stdout.contains("America/New_York  [") && text.stdout.contains(" UTC]"))
        let nothing = try cli.run(["search"])
        #expect(nothing.status == 2 && nothing.stderr.contains("at least one filter"))
    }
}

@Suite("CLI: records law through the built binary", .serialized)
struct RecordsCLITests {
    static let chat = """
        03/11/2020, 09:15 - Jane Doe: Shift change at 0800
        03/11/2020, 09:16 - Sam Lee: Crane 4 is down again
        04/11/2020, 10:00 - Jane Doe: Manifest review tomorrow
        05/01/2021, 11:30 - Sam Lee: Approved the manifest

        """

    /// The agency's plan with item 0002 shortened to one year, as a records officer would write it.
    static let plan = """
        {
          "title": "Electronic Messaging Records (test)",
          "fiscal_year_start_month": 10,
          "items": [
            {"id": "0001", "authority": "DAA-0568-2022-0005-0001", "title": "Capstone officials", "disposition": "permanent",
             "cutoff": "calendar-year", "transfer_after": {"years": 15}},
            {"id": "0002", "authority": "DAA-0568-2022-0005-0002", "title": "All other messages", "disposition": "temporary",
             "cutoff": "calendar-year", "retention": {"years": 1}}
          ],
          "rules": [
            {"id": "capstone", "item": "0001", "when": {"capstone": true}},
            {"id": "everyone-else", "item": "0002"}
          ]
        }

        """

    func json(_ r: CLI.Result) throws -> Any { try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) }

    /// Issue 16: the command line acts as an authenticated archive user. An OS account acts as
    /// the user an admin linked it to; an API token (from the environment or a file only its owner
    /// can read) as its user while it is live; with neither, only operator commands run once an
    /// admin exists, and a refused read is audited in the OS account's name.
    @Test func theCommandLineActsOnlyAsAnAuthenticatedUser() async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let cli = CLI(dataDir: tmp.url.appendingPathComponent("data"))
        #expect(try cli.run(["init"]).stdout.contains("--os-account \(CLI.osLogin)"))
        let txt = try writeText(Self.chat, named: "WhatsApp Chat with Sam Lee.txt", in: try tmp.sub("export"))
        // While no admin exists the archive is being set up: the OS account acts as itself.
        let setUp = try cli.run(["ingest", txt.path, "--custodian", "jane.doe@agency.example.gov", "--timezone", "America/New_York"])
        #expect(setUp.status == 0, "\(setUp.stderr)")
        #expect(try cli.run(["user", "whoami"]).stdout.contains("being set up"))
        #expect(try cli.run(["user", "add", "alice", "--role", "admin", "--role", "reviewer", "--os-account", CLI.osLogin]).status == 0)
        #expect(try cli.run(["user", "add", "rita", "--role", "reviewer"]).status == 0)
        let who = try json(try cli.run(["user", "whoami", "--json"])) as! [String: Any]
        #expect(who["actor"] as? String == "alice" && (who["how"] as? String)?.contains("OS account \(CLI.osLogin)") == true)
        #expect(try cli.run(["search", "crane"]).status == 0)

        // The last admin keeps the role (without one the archive would be back in set-up), and no
        // user may take a name that reads as an OS account or the system.
        let demote = try cli.run(["user", "add", "alice", "--role", "reviewer"])
        #expect(demote.status == 1 && demote.stderr.contains("last admin"), "\(demote.stderr)")
        let colon = try cli.run(["user", "add", "os:rita", "--role", "reviewer"])
        #expect(colon.status == 1 && colon.stderr.contains("without ':'"), "\(colon.stderr)")
        // An API token in a file: refused while others can read the file, used once it is private.
        let ritaToken = try cli.token(for: "rita")
        let file = tmp.url.appendingPathComponent("rita.token")
        try Data((ritaToken + "\n").utf8).write(to: file)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: file.path)
        let open = try cli.run(["search", "crane"], env: ["RECORDKEEPER_TOKEN_FILE": file.path])
        #expect(open.status == 1 && open.stderr.contains("chmod 600"), "\(open.stderr)")
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file.path)
        let byFile = try cli.run(["search", "crane", "--json"], env: ["RECORDKEEPER_TOKEN_FILE": file.path])
        #expect(byFile.status == 0, "\(byFile.stderr)")
        // rita may read but not administer, whatever she types.
        let promote = try cli.run(["user", "add", "rita", "--role", "admin"], env: ["RECORDKEEPER_TOKEN_FILE": file.path])
        #expect(promote.status == 1 && promote.stderr.contains("admin"))
        let otherToken = try cli.run(["user", "token", "create", "alice", "--label", "borrowed"], as: "rita")
        #expect(otherToken.status == 1 && otherToken.stderr.contains("only alice or an admin"), "\(otherToken.stderr)")

        // A revoked token acts as nobody.
        let tokens = try json(try cli.run(["user", "token", "list", "rita", "--json"])) as! [[String: Any]]
        #expect(try cli.run(["user", "token", "revoke", String(tokens[0]["id"] as! Int)]).status == 0)
        let revoked = try cli.run(["search", "crane"], env: ["RECORDKEEPER_TOKEN_FILE": file.path])
        #expect(revoked.status == 1 && revoked.stderr.contains("not one this archive knows, or it was revoked"), "\(revoked.stderr)")

        // Unlinked, the OS account may still run operator commands, and nothing that reads records.
        #expect(try cli.run(["user", "unlink", "--os-account", CLI.osLogin]).status == 0)
        let read = try cli.run(["show", "message", "1"])
        #expect(read.status == 1 && read.stderr.contains("OS account \(CLI.osLogin) is not linked") && !read.stdout.contains("crane"), "\(read.stderr)")
        #expect(try cli.run(["stats"]).status == 1)
        #expect(try cli.run(["verify"]).status == 0)
        #expect(try cli.run(["user", "whoami"]).stdout.contains("an operator act"))
        // Nobody can link themselves back: linking is an admin's act.
        let relink = try cli.run(["user", "link", "alice", "--os-account", CLI.osLogin])
        #expect(relink.status == 1)

        let audit = try DatabaseQueue(path: tmp.url.appendingPathComponent("data/archive.sqlite").path)
        let refused = try await audit.read { db in
            try Row.fetchAll(db, sql: "SELECT actor, detail FROM audit_log WHERE action = 'refused' ORDER BY seq").map { ($0["actor"] as String, $0["detail"] as String) }
        }
        let operatorName = "os:\(CLI.osLogin)"
        #expect(refused.contains { $0.0 == operatorName && $0.1.contains("show") && $0.1.contains("not linked") })
        #expect(refused.contains { $0.0 == operatorName && $0.1.contains("stats") })
        #expect(refused.contains { $0.0 == operatorName && $0.1.contains("revoked") })
        #expect(refused.contains { $0.0 == "rita" && $0.1.contains("token.create") })
        #expect(!refused.contains { $0.1.contains("crane") }) // a refused command's arguments are not recorded
        let reads = try await audit.read { try String.fetchAll($0, sql: "SELECT DISTINCT actor FROM audit_log WHERE action = 'search' ORDER BY actor") }
        #expect(reads == ["alice", "rita"])
    }

    @Test func aRecordsOfficerDisposesOfDueRecordsWithASecondOfficer() async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let cli = CLI(dataDir: tmp.url.appendingPathComponent("data"))
        #expect(try cli.run(["init"]).status == 0)
        let txt = try writeText(Self.chat, named: "WhatsApp Chat with Sam Lee.txt", in: try tmp.sub("export"))
        #expect(try cli.run(["ingest", txt.path, "--custodian", "jane.doe@agency.example.gov", "--timezone", "America/New_York"]).status == 0)

        // The first admin is linked to the OS account the tests run under; bob acts by his API token.
        #expect(try cli.run(["user", "add", "alice", "--role", "records-officer", "--role", "admin", "--os-account", CLI.osLogin]).status == 0)
        #expect(try cli.run(["user", "add", "bob", "--role", "records-officer"]).status == 0)
        let mint = try cli.run(["user", "add", "mallory", "--role", "records-officer"], as: "bob")
        #expect(mint.status == 1 && mint.stderr.contains("admin"))
        // A name typed on the command line is no identity, and neither is a made-up token.
        let typed = try cli.run(["dispose", "list", "--actor", "bob"])
        #expect(typed.status == 2 && typed.stderr.contains("--actor"), "\(typed.stderr)")
        let forged = try cli.run(["dispose", "list"], env: ["RECORDKEEPER_TOKEN": "rk_" + String(repeating: "A", count: 40)])
        #expect(forged.status == 1 && forged.stderr.contains("not one this archive knows, or it was revoked"), "\(forged.stderr)")

        #expect(try cli.run(["user", "add", "carol", "--role", "reviewer"]).status == 0)
        let planFile = try writeText(Self.plan, named: "plan.json", in: tmp.url)
        let preview = try cli.run(["fileplan", "import", planFile.path])
        #expect(preview.status == 0, "\(preview.stderr)")
        #expect(preview.stdout.contains("4 records examined, 4 would change:"))
        #expect(preview.stdout.contains("4 records keep their item with new dates"))
        #expect(preview.stdout.contains("Dry run: nothing was changed"))
        let unauthorized = try cli.run(["fileplan", "import", planFile.path, "--apply"], as: "carol")
        #expect(unauthorized.status == 1 && unauthorized.stderr.contains("does not have the records-officer role"), "\(unauthorized.stderr)")
        let applied = try cli.run(["fileplan", "import", planFile.path, "--apply", "--note", "test schedule"], as: "alice")
        #expect(applied.status == 0 && applied.stdout.contains("File plan version 2 saved"))

        let due = try json(try cli.run(["retention", "due", "--json"])) as! [[String: Any]]
        #expect(due.count == 1 && due[0]["item_id"] as? String == "0002" && due[0]["records"] as? Int == 4)

        let hold = try json(try cli.run(["hold", "create", "--name", "Crane litigation", "--matter", "litigation", "--requested-by", "OGC",
                                         "--query", "crane", "--json"], as: "alice")) as! [String: Any]
        #expect(hold["records"] as? Int == 1)
        let future = try cli.run(["dispose", "propose", "--as-of", "2099-01-01"], as: "alice")
        #expect(future.status == 1 && future.stderr.contains("retention due"))
        let batch = try json(try cli.run(["dispose", "propose", "--json"], as: "alice")) as! [String: Any]
        let id = String(batch["id"] as! Int)
        #expect(batch["held_at_proposal"] as? Int == 1)
        // One officer trying twice, by her token and by her OS account: the same person either way.
        let own = try cli.run(["dispose", "approve", id], as: "alice")
        #expect(own.status == 1 && own.stderr.contains("another records officer"))
        let again = try cli.run(["dispose", "approve", id])
        #expect(again.status == 1 && again.stderr.contains("alice proposed disposition"), "\(again.stderr)")
        #expect(try cli.run(["dispose", "approve", id], as: "bob").status == 0)
        let executed = try cli.run(["dispose", "execute", id, "--json"], as: "bob")
        #expect(executed.status == 0, "\(executed.stderr)")
        let certificate = try json(executed) as! [String: Any]
        #expect(certificate["records"] as? Int == 3)
        #expect(certificate["approved_by"] as? String == "bob" && certificate["proposed_by"] as? String == "alice")
        #expect((certificate["disposed_hashes_digest"] as? String)?.count == 64)
        let html = tmp.url.appendingPathComponent("certificate.html")
        #expect(try cli.run(["dispose", "certificate", id, "--format", "html", "--output", html.path]).status == 0)
        #expect(try String(contentsOf: html, encoding: .utf8).contains("DAA-0568-2022-0005-0002"))

        #expect(try cli.run(["verify"]).status == 0)
        let gone = try cli.run(["show", "message", "1"])
        #expect(gone.status == 1 && gone.stderr.contains("tombstone remains"))
        #expect(try cli.run(["show", "message", "2"]).status == 0) // held
        let audit = try DatabaseQueue(path: tmp.url.appendingPathComponent("data/archive.sqlite").path)
        let refused = try await audit.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM audit_log WHERE action = 'refused'") }
        // mallory minted by bob, the forged token, carol's plan change, the future proposal, alice approving her own batch twice
        #expect(refused == 6)
        let approvals = try await audit.read { try String.fetchAll($0, sql: "SELECT actor FROM audit_log WHERE action = 'disposition.approve'") }
        #expect(approvals == ["bob"])
    }
}
