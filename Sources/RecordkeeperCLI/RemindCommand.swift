import ArgumentParser
import Archive
import Foundation
import Recordkeeper

struct RemindCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remind", abstract: "The monthly export reminder to custodians of unmanaged messaging apps, over SMTP.",
        discussion: """
            Custodians with an account on WhatsApp, Signal, Telegram or SMS (the apps the agency does not \
            capture itself) get one e-mail a month: what to export, when they last did, where to send it. \
            Every attempt is logged (`remind log`) and audited. Run it monthly from cron or a systemd timer.
            """,
        subcommands: [Preview.self, Send.self, Log.self])

    struct Preview: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "preview", abstract: "Show who would get a reminder this month, and the text.")
        @Option(name: .customLong("records-address"), help: "Where custodians forward their exports.") var recordsAddress: String
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var archive: ArchiveOptions
        func run() async throws {
            try await CLIError.report {
                let list = try await ReminderService(archive: try await archive.open()).due(recordsAddress: recordsAddress)
                if json { print(Terminal.json(list, pretty: true)); return }
                if list.isEmpty { print("no custodian has an account on an unmanaged app"); return }
                for r in list {
                    print("To: \(r.custodian)\(r.alreadySent ? "   (already sent this month)" : "")\nSubject: \(r.subject)\n\n\(r.body)\n")
                }
            }
        }
    }

    struct Send: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "send", abstract: "Send this month's reminders through an SMTP relay.")
        @Option(name: .customLong("smtp-host"), help: "The relay: the agency's mail gateway, or a local MTA.") var smtpHost: String
        @Option(name: .customLong("smtp-port"), help: "The relay's port (587 for STARTTLS, 465 for TLS).") var smtpPort = 25
        @Option(name: .customLong("smtp-security"),
                help: ArgumentHelp("none (a relay on loopback or the internal network), starttls (TLS before anything is said; never falls back), or tls (from the first byte). Default: starttls with --smtp-user, else none.", valueName: "mode"))
        var smtpSecurity: String?
        @Option(name: .customLong("smtp-user"), help: "Log in as this account (over TLS only); the password comes from $RECORDKEEPER_SMTP_PASSWORD, never a flag.")
        var smtpUser: String?
        @Option(name: .customLong("smtp-ca-file"), help: ArgumentHelp("PEM file of CA certificates to trust beside the system's (a private relay's CA).", valueName: "file"))
        var smtpCAFile: String?
        @Option(help: "The sender address.") var from: String
        @Option(name: .customLong("records-address"), help: "Where custodians forward their exports (named in the text).") var recordsAddress: String
        @Flag(help: "Send again to custodians already reminded this month.") var force = false
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var archive: ArchiveOptions
        func run() async throws {
            try await CLIError.report {
                let security: SMTPRelay.Security
                if let smtpSecurity {
                    guard let s = SMTPRelay.Security(rawValue: smtpSecurity) else {
                        throw ValidationError("--smtp-security is one of \(SMTPRelay.Security.allCases.map(\.rawValue).joined(separator: ", "))")
                    }
                    security = s
                } else {
                    security = smtpUser == nil ? .none : .starttls
                }
                var password: String?
                if smtpUser != nil {
                    guard let p = ProcessInfo.processInfo.environment["RECORDKEEPER_SMTP_PASSWORD"], !p.isEmpty else {
                        throw ValidationError("--smtp-user needs the password in $RECORDKEEPER_SMTP_PASSWORD")
                    }
                    password = p
                }
                let relay = SMTPRelay(host: smtpHost, port: smtpPort, security: security, username: smtpUser, password: password, caFile: smtpCAFile)
                let log = try await ReminderService(archive: try await archive.open()).send(
                    relay: relay, from: from, recordsAddress: recordsAddress, force: force, actor: archive.resolvedActor)
                if json { print(Terminal.json(log, pretty: true)); return }
                if log.isEmpty { print("nothing to send: every custodian was reminded this month (--force sends again)") }
                for e in log { print("\(e.status.padding(toLength: 6, withPad: " ", startingAt: 0)) \(e.custodian) (\(e.platforms.joined(separator: ", ")))\(e.status == "failed" ? ": \(e.detail)" : "")") }
                if log.contains(where: { $0.status == "failed" }) { throw ExitCode(1) }
            }
        }
    }

    struct Log: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "log", abstract: "Reminders sent and attempted, newest first.")
        @Option(help: "How many.") var limit = 100
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var archive: ArchiveOptions
        func run() async throws {
            try await CLIError.report {
                let log = try await ReminderService(archive: try await archive.open()).log(limit: limit)
                if json { print(Terminal.json(log, pretty: true)); return }
                for e in log { print("\(e.sentAt)  \(e.status.padding(toLength: 6, withPad: " ", startingAt: 0)) \(e.custodian)  \(e.period)  \(e.platforms.joined(separator: ","))  by \(e.actor)\(e.status == "failed" ? "  \(e.detail)" : "")") }
            }
        }
    }
}
