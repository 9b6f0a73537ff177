import ArgumentParser
import Custody
import Foundation
import Recordkeeper
import RecordkeeperCore
import RecordkeeperTesting
import RecordkeeperWeb

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Build a sample archive from a generated corpus, then serve it in the web UI.",
        discussion: """
            Generates realistic WhatsApp exports (several custodians and chats, iOS and Android, \
            a few thousand messages, attachments, one later overlapping export) with the project's \
            own generator, ingests them into a fresh data directory, prints commands to try, and \
            serves the web UI on 127.0.0.1 with new passwords for the demo users (made afresh each run). Run \
            again, it reuses the demo archive it already built.
            """)

    @Option(name: .customLong("data-dir"), help: ArgumentHelp("Where to build the demo archive.", valueName: "path"))
    var dataDir = "./recordkeeper-demo"

    @Option(help: "Seed of the generated corpus.")
    var seed: UInt64 = 2021

    @Flag(help: "Build the archive and print what to try, without starting the web server.")
    var noServe = false

    @OptionGroup var server: ServerOptions

    /// Marks a folder of generated exports as the demo's own, so a later run may replace it.
    static let marker = ".recordkeeper-demo-exports"

    /// Makes `url` ready for a fresh corpus. It replaces only a folder an earlier demo wrote
    /// (it carries the marker). Any other folder in the way is refused, never deleted.
    static func claimExportsDirectory(_ url: URL) throws {
        let fm = FileManager.default
        guard fm.fileExists(atPath: url.path) else { return }
        let contents = (try? fm.contentsOfDirectory(atPath: url.path)) ?? []
        if contents.isEmpty || contents.contains(marker) {
            try fm.removeItem(at: url)
            return
        }
        throw ArchiveError(.alreadyInitialized, "\(url.path) exists and was not written by the demo; move it, or pass another --data-dir")
    }

    func run() async throws {
        Log.bootstrap(verbose: false)
        try await CLIError.report {
            let directory = DataDirectory.resolve(flag: dataDir)
            let actor = CLIIdentity.operatorName
            let handle: ArchiveHandle
            if directory.isInitialized {
                handle = try directory.open()
                Terminal.note("Reusing the demo archive already in \(directory.url.path).")
            } else {
                let exportsDir = directory.url.deletingLastPathComponent()
                    .appendingPathComponent(directory.url.lastPathComponent + "-exports", isDirectory: true)
                try DemoCommand.claimExportsDirectory(exportsDir)
                handle = try await directory.create(actor: actor)
                // Signed from the start: every capture below signs a checkpoint naming its batches.
                try await CheckpointService(archive: handle).sign(reason: "archive created", actor: actor, createKey: true)
                Terminal.note("Generating the sample corpus in \(exportsDir.path) …")
                let exports = try DemoCorpus.write(to: exportsDir, seed: seed)
                FileManager.default.createFile(atPath: exportsDir.appendingPathComponent(DemoCommand.marker).path,
                                               contents: Data("written by recordkeeper demo\n".utf8))
                let service = IngestService(archive: handle)
                for export in exports {
                    let reports = try await service.ingest(
                        IngestRequest(paths: [export.url], custodian: export.custodian, timeZone: export.timeZone, actor: actor),
                        progress: { p in Terminal.progress("\(p.source): \(Terminal.count(p.messages)) messages") })
                    Terminal.endProgress()
                    for r in reports {
                        if let e = r.error { Terminal.error("\(r.source): \(e)"); continue }
                        print("ingested \(r.source) for \(export.custodian): \(r.messagesAdded) added, \(r.duplicatesSkipped) duplicates, \(r.attachmentsStored) attachments, \(r.attachmentsMissing) missing")
                    }
                }
                try await DemoCommand.setUpRecordsProgram(handle, actor: actor)
                try await DemoCommand.setUpCustody(handle, seed: seed, exports: exportsDir)
            }
            let s = try await RecordService(archive: handle).stats(actor: actor)
            let dir = directory.url.path
            // The commands as this binary is reached: `swift run recordkeeper` from a source tree's
            // build folder, otherwise the path it was started by.
            let invoked = CommandLine.arguments.first ?? "recordkeeper"
            let rk = invoked.contains("/.build/") ? "swift run recordkeeper" : invoked
            print("""

                Demo archive ready in \(dir):
                  \(Terminal.count(s.custodians)) custodians, \(Terminal.count(s.conversations)) conversations, \(Terminal.count(s.messages)) messages, \(Terminal.count(s.attachments)) attachments (\(s.attachmentsMissing) missing from their exports)

                Try (the command line acts as r.officer here: your OS account \(CLIIdentity.osLogin) is linked to it):
                  export RECORDKEEPER_DATA_DIR=\(dir)
                  \(rk) search '"evidence locker"'
                  \(rk) search 'maint*' --custodian m.chen@cbp.example.gov
                  \(rk) search '"port of entry" OR garita' --from 2021-03-01 --to 2021-03-31
                  \(rk) search operacion            # finds "operación": accents are folded
                  \(rk) show conversations
                  \(rk) show conversation 1
                  \(rk) show message 1
                  \(rk) stats
                  \(rk) verify

                Records management (two records officers, r.officer and d.officer, are registered; s.pereira is a
                designated Capstone official, so her records are permanent):
                  \(rk) fileplan show
                  \(rk) retention summary
                  \(rk) retention show 1
                  \(rk) hold list
                  \(rk) retention due --as-of 2032-01-01     # planning: the demo's 0002 records are due in 2032
                  \(rk) custodian show s.pereira@cbp.example.gov
                  (docs/records-management.md walks through disposition and transfer)

                Custody of physical items (the OIG's site-visit week at a mail facility, 17–20 June 2019):
                  \(rk) custody report effectiveness --from 2019-06-17T00:00:00Z --to 2019-06-20T00:00:00Z --as-of 2019-06-25T00:00:00Z
                  \(rk) custody report balance --day 2019-06-19
                  \(rk) custody report late --from 2019-06-17T00:00:00Z --to 2019-06-21T00:00:00Z
                  \(rk) custody report security --from 2019-06-18T00:00:00Z --to 2019-06-21T00:00:00Z
                  \(rk) custody alerts --as-of 2019-06-21T12:00:00Z
                  (on the web: sign in as m.chief, then Custody; docs/custody/ has the guides)
                """)
            guard !noServe else { return }
            // Fresh passwords every run: the demo never ships a known password.
            let credentials = CredentialService(archive: handle)
            var logins: [(String, String, String)] = []
            for (user, what) in DemoCommand.webUsers where try await handle.store.user(name: user) != nil {
                let password = DemoCommand.onetimePassword()
                try await credentials.setPassword(user: user, password: password, actor: "r.officer")
                logins.append((user, password, what))
            }
            let config = try server.configuration()
            let accounts = logins
            try await ServeCommand.serve(handle, config: config, banner: { url in
                var lines = ["", "Web UI: \(url)   (Ctrl-C stops it)", "", "Passwords for this run (new each time the demo starts):"]
                for (user, password, what) in accounts {
                    lines.append("  \(user.padding(toLength: 14, withPad: " ", startingAt: 0)) \(password)   \(what)")
                }
                lines.append("Sign in as r.officer (admin) first; the others show what each role sees.")
                print(lines.joined(separator: "\n"))
            })
        }
    }

    static let webUsers = [
        ("r.officer", "admin and records officer"),
        ("d.officer", "records officer (approves r.officer's dispositions)"),
        ("foia.liaison", "reviewer: search and read"),
        ("a.auditor", "auditor: audit log and verify"),
        ("j.alvarez", "custodian: his own records and uploads"),
        ("m.chief", "custody supervisor: reports, alerts, corrections"),
        ("r.receiver", "receiver: the scan station"),
        ("n.clerk", "notice clerk: detention notices, the addressee in clear"),
        ("p.privacy", "privacy officer: inventory, retention, purge"),
    ]

    /// The custody module's demo: its staff, then a week at a mail facility (CustodyDemo).
    static func setUpCustody(_ handle: ArchiveHandle, seed: UInt64, exports: URL) async throws {
        guard let store = handle.store as? any CustodyStore else { return }
        let users = UserService(archive: handle)
        _ = try await users.save(name: CustodyDemo.supervisor, displayName: "Maria Chief, Custody Supervisor", roles: [.custodySupervisor], actor: "r.officer")
        _ = try await users.save(name: CustodyDemo.receiver, displayName: "Ron Receiver, Mail Receiving", roles: [.receiver], actor: "r.officer")
        _ = try await users.save(name: CustodyDemo.officer, displayName: "Olga Officer, CBP Officer", roles: [.custodyOfficer], actor: "r.officer")
        _ = try await users.save(name: CustodyDemo.targeter, displayName: "Tom Targeter, Targeting Unit", roles: [.targeter], actor: "r.officer")
        _ = try await users.save(name: CustodyDemo.clerk, displayName: "Nora Clerk, Notices", roles: [.noticeClerk], actor: "r.officer")
        _ = try await users.save(name: CustodyDemo.privacyOfficer, displayName: "Paul Privacy, Privacy Officer", roles: [.privacyOfficer], actor: "r.officer")
        let s = try await CustodyDemo.load(into: store, seed: seed, workDirectory: exports.appendingPathComponent("custody"),
                                           keyFile: AddresseeKey.location(dataDirectory: handle.directory.url))
        print("custody: \(s.targets) targets, \(s.received) items received in 18 containers, \(s.inspected) inspected, \(s.seized) seized, "
            + "\(s.detained) detained, \(s.referred) referred, \(s.dutiesAssessed) assessed duties, \(s.returned) returned; \(s.carrierCounts) carrier counts for the funnel, advance data for \(s.advanceData) pieces")
    }

    /// Four groups of five characters from an alphabet without look-alikes (about 95 bits).
    static func onetimePassword() -> String {
        let alphabet = Array("abcdefghjkmnpqrstuvwxyz23456789")
        var g = SystemRandomNumberGenerator()
        return (0..<4).map { _ in String((0..<5).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &g)] }) }.joined(separator: "-")
    }
}

extension DemoCommand {
    /// Users, custodian profiles, a Capstone designation and a FOIA hold, so every records
    /// command has something to show.
    static func setUpRecordsProgram(_ handle: ArchiveHandle, actor: String) async throws {
        let users = UserService(archive: handle)
        // The command line acts as an archive user (issue 16): whoever runs the demo is r.officer.
        _ = try await users.save(name: "r.officer", displayName: "Rosa Ibáñez, Agency Records Officer", roles: [.recordsOfficer, .admin],
                                 osAccounts: [CLIIdentity.osLogin], actor: actor)
        _ = try await users.save(name: "d.officer", displayName: "Dwayne Harris, Deputy Records Officer", roles: [.recordsOfficer], actor: "r.officer")
        _ = try await users.save(name: "foia.liaison", displayName: "Priya Nair, FOIA Liaison", roles: [.reviewer], actor: "r.officer")
        _ = try await users.save(name: "a.auditor", displayName: "Grace Liu, OIG Auditor", roles: [.auditor], actor: "r.officer")
        _ = try await users.save(name: "j.alvarez", displayName: "Javier Alvarez", roles: [.custodian], custodianEmail: "j.alvarez@cbp.example.gov",
                                 actor: "r.officer")
        let custodians = CustodianService(archive: handle)
        for (email, name, office) in [
            ("j.alvarez@cbp.example.gov", "Javier Alvarez", "San Ysidro Port of Entry"),
            ("m.chen@cbp.example.gov", "Michael Chen", "Field Operations, Chicago"),
            ("r.okafor@cbp.example.gov", "Ruth Okafor", "Field Operations, Denver"),
            ("s.pereira@cbp.example.gov", "Sofia Pereira", "Office of Field Operations"),
            ("d.kowalski@cbp.example.gov", "Dan Kowalski", "Nogales Port of Entry"),
        ] {
            _ = try await custodians.save(email: email, name: name, office: office, actor: "r.officer")
        }
        _ = try await custodians.designate(email: "s.pereira@cbp.example.gov",
                                           designation: RoleDesignation(role: "Executive Director, Field Operations", capstone: true,
                                                                        starts: CivilDate(year: 2020, month: 7, day: 1)!),
                                           apply: true, actor: "r.officer")
        _ = try await HoldService(archive: handle).create(
            name: "FOIA request: evidence locker", matter: .foia, reference: "CBP-2021-041977", requestedBy: "FOIA Division",
            scope: HoldScope(query: "\"evidence locker\" OR seizure"), actor: "r.officer")
        // Oversight: the audit recommendations the source documents carry, and a personal phone on record.
        let recommendations = try await TrackerService(archive: handle).seed(actor: "r.officer")
        _ = try await custodians.addAccount(email: "j.alvarez@cbp.example.gov", platform: "whatsapp", address: "+1 619 555 0199", official: false, actor: "r.officer")
        print("records program: 5 users, 5 custodian profiles, 1 Capstone designation, 1 FOIA hold, \(recommendations.count) audit recommendations")
    }
}

extension ExportStyle: ExpressibleByArgument {}

struct SampleExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sample-export",
        abstract: "Write a synthetic WhatsApp export (for trying things out and for benchmarks).",
        discussion: """
            Deterministic for a seed. Memory stays flat however many messages are asked for. Large \
            exports are written as a busier chat (shorter gaps) so that they span years, not centuries.
            """)

    @Option(help: "Number of messages.") var messages = 1000
    @Option(help: "Export style: iosZip, androidTxt or androidZip.") var style: ExportStyle = .androidTxt
    @Option(help: "Chat title.") var title = "Port Operations"
    @Option(help: "Seed.") var seed: UInt64 = 1
    @Option(name: .customLong("media-every"), help: "Roughly one attachment per this many messages (0: text only).") var mediaEvery = 0
    @Option(help: ArgumentHelp("Folder to write into.", valueName: "path")) var out: String

    func run() async throws {
        try await CLIError.report {
            var spec = ExportSpec(style: style, chatTitle: title, messageCount: messages, seed: seed)
            spec.mediaEvery = mediaEvery
            spec.pace = max(1, messages / 50_000)
            let dir = URL(fileURLWithPath: out, isDirectory: true)
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            let url = try ExportGenerator.write(spec, to: dir)
            print(url.path)
        }
    }
}
