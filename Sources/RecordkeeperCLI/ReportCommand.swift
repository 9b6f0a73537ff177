import ArgumentParser
import Archive
import Foundation
import Recordkeeper

struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report", abstract: "Oversight reports: the 20-day rule, capture findings, disappearing-message settings, the app inventory.",
        discussion: "Each report is computed from the archive as it is now, and reading one is audited. See docs/records/compliance.md.",
        subcommands: [TwentyDay.self, Findings.self, Timers.self, Inventory.self])

    struct TwentyDay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "twenty-day",
            abstract: "Messages on personal accounts: forwarded to an official account within 20 days, late, or never forwarded.",
            discussion: """
                44 U.S.C. 2911 requires a complete copy on an official account within 20 days. A message on a \
                personal account (the custodian's registered accounts on that platform are all personal) is on \
                time when an e-mail carried its export within 20 days of sending, late when later, and never \
                forwarded when it reached the archive any other way. Grouped by custodian, platform and month.
                """)
        @Option(help: "How many of the worst cases to list.") var worst = 20
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var archive: ArchiveOptions
        func run() async throws {
            try await CLIError.report {
                let r = try await ComplianceService(archive: try await archive.open()).twentyDayRule(worst: worst, actor: archive.resolvedActor)
                if json { print(Terminal.json(r, pretty: true)); return }
                print("20-day rule (44 U.S.C. 2911), messages on personal accounts: \(Terminal.count(r.totals.onTime)) on time, \(Terminal.count(r.totals.late)) late, \(Terminal.count(r.totals.neverForwarded)) never forwarded")
                if r.rows.isEmpty { print("no messages on accounts registered as personal (`recordkeeper custodian account … --personal`)"); return }
                print("")
                print("custodian                         platform   month     on time     late    never   worst (days)")
                for row in r.rows {
                    print("\(row.custodian.padding(toLength: 33, withPad: " ", startingAt: 0)) \(row.platform.padding(toLength: 10, withPad: " ", startingAt: 0)) \(row.month)  \(String(row.onTime).leftPad(8)) \(String(row.late).leftPad(8)) \(String(row.neverForwarded).leftPad(8))   \(String(format: "%.1f", row.worstLagDays).leftPad(10))")
                }
                if !r.worst.isEmpty {
                    print("\nWorst cases:")
                    for w in r.worst {
                        print("  record \(w.messageID)  \(w.custodian), \(w.platform) “\(w.conversation)”: sent \(w.sentLocal), \(w.route) \(w.arrived) — \(String(format: "%.1f", w.lagDays)) days")
                    }
                }
            }
        }
    }

    struct Findings: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "findings",
            abstract: "Holes in capture: one-sided chats, gaps between exports, stale exports, silent users, deletions before capture.")
        @Option(help: ArgumentHelp("Judge as of this date (YYYY-MM-DD; default today).", valueName: "date")) var asOf: String?
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var archive: ArchiveOptions
        func run() async throws {
            try await CLIError.report {
                let list = try await ComplianceService(archive: try await archive.open()).findings(asOf: try CivilDateParser.asOf(asOf), actor: archive.resolvedActor)
                if json { print(Terminal.json(list, pretty: true)); return }
                if list.isEmpty { print("no findings"); return }
                print("\(list.count) finding\(list.count == 1 ? "" : "s"):")
                for f in list {
                    print("\n[\(f.severity.rawValue)] \(f.rule) — \(f.custodian), \(f.platform)\(f.conversation.map { " “\($0)” (conversation \(f.conversationID ?? 0))" } ?? "")")
                    print("  \(f.summary)")
                    for e in f.evidence { print("  · \(e)") }
                }
            }
        }
    }

    struct Timers: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "timers", abstract: "Who turned disappearing messages on or off, where and when, on every platform that records it.")
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var archive: ArchiveOptions
        func run() async throws {
            try await CLIError.report {
                let list = try await ComplianceService(archive: try await archive.open()).timers(actor: archive.resolvedActor)
                if json { print(Terminal.json(list, pretty: true)); return }
                if list.isEmpty { print("no disappearing-message settings in the archive"); return }
                for t in list {
                    let n = t.notice
                    print("\(n.sentLocal.replacingOccurrences(of: "T", with: " "))  \(t.state.padding(toLength: 7, withPad: " ", startingAt: 0)) \(n.platform.padding(toLength: 9, withPad: " ", startingAt: 0)) “\(n.conversation)” (\(n.custodian)), record \(n.messageID): \(n.text)")
                }
            }
        }
    }

    struct Inventory: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "inventory", abstract: "Messaging apps in use: managed or not, capture method, users, records, compliance status.")
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var archive: ArchiveOptions
        func run() async throws {
            try await CLIError.report {
                let rows = try await ComplianceService(archive: try await archive.open()).inventory(actor: archive.resolvedActor)
                if json { print(Terminal.json(rows, pretty: true)); return }
                print("app              managed  users  personal  conversations    records  status          capture method")
                for r in rows {
                    print("\(r.name.padding(toLength: 16, withPad: " ", startingAt: 0)) \((r.managed ? "yes" : "no").padding(toLength: 7, withPad: " ", startingAt: 0)) \(String(r.users).leftPad(6)) \(String(r.personalAccounts).leftPad(9)) \(String(r.conversations).leftPad(14)) \(Terminal.count(r.records).leftPad(10))  \(r.status.padding(toLength: 14, withPad: " ", startingAt: 0))  \(r.captureMethod)")
                }
            }
        }
    }
}

enum CivilDateParser {
    /// The end of a `YYYY-MM-DD` day in UTC.
    static func date(_ s: String) -> Date? {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyy-MM-dd"
        return f.date(from: s).map { $0.addingTimeInterval(86_399) }
    }

    /// `--as-of`'s moment: the end of that day, or now when none was given.
    static func asOf(_ s: String?) throws -> Date {
        guard let s else { return Date() }
        guard let d = date(s) else { throw ValidationError("--as-of must be a date like 2024-04-30") }
        return d
    }
}
