import ArgumentParser
import Archive
import Foundation
import Recordkeeper

struct PartyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "party", abstract: "Known external parties and their platform identities.",
        discussion: """
            A party is someone outside the agency (a contractor, a counterpart at another agency) \
            whose phone numbers, e-mail addresses and Wickr, Slack, Telegram, Matrix or Teams ids are \
            known. Their messages then count as external in every conversation, on every platform; \
            custodians' own identities are their accounts (`recordkeeper custodian account`).
            """,
        subcommands: [Add.self, List.self, Show.self, Account.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "add", abstract: "Add a known external party.")
        @Argument(help: "Full name.") var name: String
        @Option(help: "Organisation.") var organization: String?
        @Option(help: "Why the party is known (free text).") var note: String?
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var archive: ArchiveOptions
        func run() async throws {
            try await CLIError.report {
                let p = try await IdentityService(archive: try await archive.open()).addParty(name: name, organization: organization, note: note, actor: archive.resolvedActor)
                if json { print(Terminal.json(p, pretty: true)); return }
                print("party #\(p.id) \(p.name)\(p.organization.map { ", \($0)" } ?? "")")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List known external parties.")
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var archive: ArchiveOptions
        func run() async throws {
            try await CLIError.report {
                let list = try await IdentityService(archive: try await archive.open()).parties()
                if json { print(Terminal.json(list, pretty: true)); return }
                if list.isEmpty { print("no parties yet; add one with `recordkeeper party add NAME --organization ORG`") }
                for p in list { print("#\(p.id)  \(p.name)\(p.organization.map { ", \($0)" } ?? "")  \(p.accounts.count) identit\(p.accounts.count == 1 ? "y" : "ies")") }
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "A party's identities.")
        @Argument(help: "Party id.") var id: Int64
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var archive: ArchiveOptions
        func run() async throws {
            try await CLIError.report {
                let p = try await IdentityService(archive: try await archive.open()).party(id: id)
                if json { print(Terminal.json(p, pretty: true)); return }
                print("#\(p.id) \(p.name)\(p.organization.map { ", \($0)" } ?? "")\(p.note.map { "  (\($0))" } ?? "")")
                print("Identities:")
                if p.accounts.isEmpty { print("  none") }
                for a in p.accounts { print("  \(a.platform.padding(toLength: 10, withPad: " ", startingAt: 0)) \(a.address)") }
            }
        }
    }

    struct Account: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "account", abstract: "Register a party's identity on a platform (phone number in any form, e-mail, user id).")
        @Argument(help: "Party id.") var id: Int64
        @Option(help: "whatsapp, signal, sms, slack, teams, telegram, wickr, matrix, email…") var platform: String
        @Option(help: "Phone number, e-mail address or id as the platform shows it (@user:server for Matrix, U… for Slack).") var address: String
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var archive: ArchiveOptions
        func run() async throws {
            try await CLIError.report {
                let a = try await IdentityService(archive: try await archive.open()).addAccount(partyID: id, platform: platform, address: address, actor: archive.resolvedActor)
                if json { print(Terminal.json(a)); return }
                print("\(a.platform) identity \(a.address) registered to party #\(id)")
            }
        }
    }
}

struct ShowParticipants: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "participants", abstract: "Who took part in a conversation: internal (custodians) and external (known parties or unresolved).")
    @Argument(help: "Conversation id.") var id: Int64
    @Flag(help: "Print JSON.") var json = false
    @OptionGroup var archive: ArchiveOptions
    func run() async throws {
        try await CLIError.report {
            let list = try await IdentityService(archive: try await archive.open()).participants(conversationID: id, actor: archive.resolvedActor)
            if json { print(Terminal.json(list, pretty: true)); return }
            for side in [ResolvedParticipant.Side.internal, .external, .unresolved] {
                let group = list.filter { $0.side == side }
                guard !group.isEmpty else { continue }
                print(side == .internal ? "Internal:" : side == .external ? "External (known parties):" : "Unresolved (no registered identity):")
                for p in group {
                    let who = p.custodian.map { "custodian \($0)" } ?? p.partyID.map { "party #\($0) \(p.partyName ?? "")\(p.organization.map { ", \($0)" } ?? "")" }
                    print("  \(p.name)\(p.identity.map { " <\($0)>" } ?? "")\(who.map { " — \($0)" } ?? "")  \(Terminal.count(p.messages)) message\(p.messages == 1 ? "" : "s"), \(p.firstSent ?? "-") … \(p.lastSent ?? "-")")
                }
            }
            if list.isEmpty { print("no one has sent a message in conversation \(id)") }
        }
    }
}
