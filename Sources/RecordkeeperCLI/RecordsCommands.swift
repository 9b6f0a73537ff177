import ArgumentParser
import Foundation
import Recordkeeper
import RecordkeeperWeb
import RecordkeeperCore

extension CivilDate: ExpressibleByArgument {
    public init?(argument: String) { self.init(argument) }
}
extension MatterType: ExpressibleByArgument {}
extension UserRole: ExpressibleByArgument {}
extension FilePlanService.Format: ExpressibleByArgument {}

enum RecordsText {
    /// "4,112 records move from unscheduled to 0002; 318 from 0002 to 0001".
    static func diff(_ d: RetentionDiff) -> [String] {
        var lines: [String] = []
        let verb = d.applied ? "moved" : "move"
        for m in d.moves {
            lines.append("  \(Terminal.count(m.count).leftPad(9)) record\(m.count == 1 ? "" : "s") \(verb) from \(m.from ?? "no assignment") to \(m.to)")
        }
        if d.datesChanged > 0 {
            lines.append("  \(Terminal.count(d.datesChanged).leftPad(9)) record\(d.datesChanged == 1 ? "" : "s") keep their item with new dates")
        }
        if lines.isEmpty { lines.append("  no record changes item or dates") }
        let head = "\(Terminal.count(d.examined)) records examined, \(Terminal.count(d.changed)) \(d.applied ? "changed" : "would change"):"
        return [head] + lines
    }

    static func printDiff(_ d: RetentionDiff, json: Bool) {
        if json { print(Terminal.json(d, pretty: true)); return }
        for l in diff(d) { print(l) }
        if !d.applied { print("Dry run: nothing was changed. Run the same command with --apply to apply it.") }
    }

    static func group(_ g: DueGroup, plan: FilePlan?) -> String {
        let item = plan?.item(g.itemID)
        let what = g.action.rawValue
        var s = "\(g.itemID.padding(toLength: 12, withPad: " ", startingAt: 0)) \(what.padding(toLength: 15, withPad: " ", startingAt: 0)) \(Terminal.count(g.records).leftPad(9)) records"
        if g.held > 0 { s += " (\(Terminal.count(g.held)) under hold)" }
        if let f = g.firstSent, let l = g.lastSent { s += "  sent \(f.prefix(10)) – \(l.prefix(10))" }
        if let item { s += "  \(item.authority)" }
        return s
    }

    static func batch(_ b: DispositionBatch) {
        print("disposition \(b.id): \(b.action.rawValue), \(b.status.rawValue), records due by \(b.asOf), file plan v\(b.planVersion)")
        for i in b.items { print("  item \(i.itemID): \(Terminal.count(i.records)) records, sent \(i.firstSent?.prefix(10) ?? "") – \(i.lastSent?.prefix(10) ?? "")") }
        if b.heldAtProposal > 0 { print("  kept out by legal holds when proposed: \(Terminal.count(b.heldAtProposal))") }
        if b.withheld > 0 { print("  withheld at execution (hold, or no longer due): \(Terminal.count(b.withheld))") }
        print("  proposed by \(b.proposedBy) at \(b.proposedAt)")
        if let a = b.approvedBy { print("  approved by \(a) at \(b.approvedAt ?? "")") }
        if let p = b.packagedAt { print("  packaged at \(p), bag manifest sha256 \(b.bagDigest ?? "")") }
        if let e = b.executedBy { print("  executed by \(e) at \(b.executedAt ?? "")\(b.accession.map { ", NARA accession \($0)" } ?? "")") }
        if let c = b.cancelledBy { print("  cancelled by \(c): \(b.cancelReason ?? "")") }
        if let n = b.note { print("  note: \(n)") }
    }
}

extension String {
    func leftPad(_ n: Int) -> String { count >= n ? self : String(repeating: " ", count: n - count) + self }
}

// MARK: user

struct UserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user", abstract: "People who use the archive, their roles, passwords and API tokens.",
        discussion: """
            The command line acts as an archive user, never as a name typed on it: as the user whose API token \
            \(CLIIdentity.tokenVariable) (or the file \(CLIIdentity.tokenFileVariable)) holds, else as the user an admin \
            linked your operating-system account to (`user link`). Until the archive has an admin, whoever can open it sets \
            it up; afterwards an unlinked account may run only operator commands (verify, checkpoint, keys, index, serve).
            """,
        subcommands: [Add.self, List.self, Link.self, Unlink.self, WhoAmI.self, Password.self, Token.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add", abstract: "Add a user, or change a user's roles.",
            discussion: """
                Roles: admin (users), records-officer (file plan, holds, disposition), reviewer (eDiscovery, FOIA: \
                search and read), auditor (audit log and verification, read-only), custodian (their own records \
                only, and uploads of their exports; needs --custodian).
                """)
        @Argument(help: "User name, one word (e.g. a.smith).") var name: String
        @Option(name: .customLong("role"), help: "A role; repeat for several.") var roles: [UserRole] = []
        @Option(help: "Full name shown in reports.") var displayName: String?
        @Option(help: ArgumentHelp("For the custodian role: the custodian's e-mail address.", valueName: "email")) var custodian: String?
        @Option(name: .customLong("os-account"), help: ArgumentHelp(
            "Link this operating-system account to the user, so the command line acts as them when run under it; repeat for several.",
            valueName: "login")) var osAccounts: [String] = []
        @Flag(help: "Read a password for the web UI from the first line of stdin.") var passwordStdin = false
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var archive: ArchiveOptions
        func run() async throws {
            try await CLIError.report {
                let handle = try await archive.open()
                // Before the first admin exists, whoever sets up the archive also sets that
                // user's first password; afterwards the add itself needed an admin.
                let setUp = try await !handle.store.users().contains(where: { $0.has(.admin) })
                let u = try await UserService(archive: handle).save(name: name, displayName: displayName, roles: roles, custodianEmail: custodian,
                                                                   osAccounts: osAccounts, actor: archive.resolvedActor)
                if passwordStdin {
                    let acting = setUp ? u : try await handle.store.user(name: archive.resolvedActor)
                    try await CredentialService(archive: handle).setPassword(user: u.name, password: try PasswordInput.stdinLine(),
                                                                              actor: archive.resolvedActor, actingAs: acting)
                }
                if json { print(Terminal.json(u)); return }
                print("user \(u.name) (\(u.displayName)): \(u.roles.map(\.rawValue).joined(separator: ", "))\(u.custodianEmail.map { ", custodian \($0)" } ?? "")\(passwordStdin ? "; password set" : "")")
                for login in osAccounts { print("OS account \(login) now acts as \(u.name) on the command line") }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List users and roles.")
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var archive: ArchiveOptions
        func run() async throws {
            try await CLIError.report {
                let handle = try await archive.open()
                let users = try await UserService(archive: handle).list()
                let logins = Dictionary(grouping: try await handle.store.logins(user: nil), by: { $0.user.lowercased() })
                if json {
                    struct Listed: Encodable { var user: UserAccount; var logins: [UserLogin] }
                    print(Terminal.json(users.map { Listed(user: $0, logins: logins[$0.name.lowercased()] ?? []) }, pretty: true))
                    return
                }
                if users.isEmpty { print("no users yet; add one with `recordkeeper user add NAME --role admin --os-account \(CLIIdentity.osLogin)`") }
                for u in users {
                    let linked = (logins[u.name.lowercased()] ?? []).map { $0.kind == .osAccount ? "os:\($0.subject)" : "sso:\($0.subject)" }
                    print("\(u.name.padding(toLength: 20, withPad: " ", startingAt: 0)) \(u.roles.map(\.rawValue).joined(separator: ", "))  \(u.displayName)\(u.custodianEmail.map { "  [\($0)]" } ?? "")\(linked.isEmpty ? "" : "  (" + linked.joined(separator: ", ") + ")")")
                }
            }
        }
    }

    struct Link: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "link", abstract: "Link an OS account (command line) or a single sign-on identity (web) to a user.",
            discussion: """
                An admin's act (anyone's while the archive has no admin). An OS account or identity acts as one user only; \
                `user unlink` first to move it. Single sign-on links its users itself at their first sign-on; --sso is for an \
                account that existed before, whose refused sign-on shows the ISSUER|SUBJECT to give here.
                """)
        @Argument(help: "User name.") var name: String
        @Option(name: .customLong("os-account"), help: ArgumentHelp("The login name of the OS account.", valueName: "login")) var osAccount: String?
        @Option(name: .customLong("sso"), help: ArgumentHelp("A single sign-on identity, ISSUER|SUBJECT.", valueName: "subject")) var sso: String?
        @OptionGroup var archive: ArchiveOptions
        func validate() throws {
            guard (osAccount == nil) != (sso == nil) else { throw ValidationError("give exactly one of --os-account and --sso") }
        }
        func run() async throws {
            try await CLIError.report {
                let users = UserService(archive: try await archive.open())
                if let osAccount {
                    let link = try await users.link(user: name, osAccount: osAccount, actor: archive.resolvedActor)
                    print("OS account \(link.subject) now acts as \(link.user) on the command line")
                } else if let sso {
                    let link = try await users.link(user: name, singleSignOn: sso, actor: archive.resolvedActor)
                    print("single sign-on as \(link.subject) now acts as \(link.user)")
                }
            }
        }
    }

    struct Unlink: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "unlink", abstract: "Remove an OS account's or a single sign-on identity's link to its user (an admin's act).")
        @Option(name: .customLong("os-account"), help: ArgumentHelp("An OS account's login name.", valueName: "login")) var osAccount: String?
        @Option(name: .customLong("sso"), help: ArgumentHelp("A single sign-on identity as `user list` shows it (ISSUER|SUBJECT).", valueName: "subject"))
        var sso: String?
        @OptionGroup var archive: ArchiveOptions
        func validate() throws {
            guard (osAccount == nil) != (sso == nil) else { throw ValidationError("give exactly one of --os-account and --sso") }
        }
        func run() async throws {
            try await CLIError.report {
                let (kind, subject): (UserLogin.Kind, String) = if let osAccount { (.osAccount, osAccount) } else { (.openIDConnect, sso ?? "") }
                let removed = try await UserService(archive: try await archive.open()).unlink(kind: kind, subject: subject, actor: archive.resolvedActor)
                print("\(removed.subject) no longer acts as \(removed.user)")
            }
        }
    }

    struct WhoAmI: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "whoami", abstract: "Show who the command line acts as here, and why.")
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var archive: ArchiveOptions
        func run() async throws {
            try await CLIError.report {
                _ = try await archive.open(.operator)
                guard let who = CLIIdentity.current else { return }
                if json {
                    struct Out: Encodable { var actor: String; var user: UserAccount?; var how: String }
                    print(Terminal.json(Out(actor: who.name, user: who.user, how: who.how)))
                    return
                }
                if let u = who.user {
                    print("\(u.name) (\(u.displayName)): \(u.roles.map(\.rawValue).joined(separator: ", "))")
                } else {
                    print("\(who.name): not an archive user")
                }
                print("  by \(who.how)")
            }
        }
    }

    struct Password: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "password", abstract: "Set a user's password for the web UI (bcrypt; at least 12 characters).",
            discussion: "Asks twice on a terminal; otherwise give --stdin. Once an admin exists, only an admin sets another user's password.")
        @Argument(help: "User name.") var name: String
        @Flag(name: .customLong("stdin"), help: "Read the password from the first line of stdin.") var fromStdin = false
        @OptionGroup var archive: ArchiveOptions
        func run() async throws {
            try await CLIError.report {
                let handle = try await archive.open()
                let password = fromStdin ? try PasswordInput.stdinLine() : try PasswordInput.prompt()
                try await CredentialService(archive: handle).setPassword(user: name, password: password, actor: archive.resolvedActor)
                print("password set for \(name); existing sessions end when the server restarts or the user signs out")
            }
        }
    }

    struct Token: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "token", abstract: "API tokens for scripts (Authorization: Bearer rk_…).",
            subcommands: [Create.self, List.self, Revoke.self])

        struct Create: AsyncParsableCommand {
            static let configuration = CommandConfiguration(commandName: "create", abstract: "Create a token; its secret is printed once.")
            @Argument(help: "User name the token acts as.") var name: String
            @Option(help: "What the token is for (e.g. \"FOIA export script\").") var label: String
            @OptionGroup var archive: ArchiveOptions
            func run() async throws {
                try await CLIError.report {
                    let (token, secret) = try await CredentialService(archive: try await archive.open()).createToken(user: name, label: label, actor: archive.resolvedActor)
                    print(secret)
                    Terminal.note("token \(token.id) for \(token.user) (\(token.label)): its secret, printed on standard output, is not stored and cannot be shown again")
                }
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(commandName: "list", abstract: "List tokens (never their secrets).")
            @Argument(help: "Only this user's tokens.") var name: String?
            @Flag(help: "Print JSON.") var json = false
            @OptionGroup var archive: ArchiveOptions
            func run() async throws {
                try await CLIError.report {
                    let tokens = try await archive.open().store.tokens(user: name)
                    if json { print(Terminal.json(tokens, pretty: true)); return }
                    if tokens.isEmpty { print("no API tokens") }
                    for t in tokens {
                        print("\(t.id)\t\(t.user)\t\(t.prefix)…\t\(t.label)\tcreated \(t.createdAt)\t\(t.revokedAt.map { "revoked \($0)" } ?? "last used \(t.lastUsedAt ?? "never")")")
                    }
                }
            }
        }

        struct Revoke: AsyncParsableCommand {
            static let configuration = CommandConfiguration(commandName: "revoke", abstract: "Revoke a token by id.")
            @Argument(help: "Token id (from `user token list`).") var id: Int64
            @OptionGroup var archive: ArchiveOptions
            func run() async throws {
                try await CLIError.report {
                    let t = try await CredentialService(archive: try await archive.open()).revokeToken(id: id, actor: archive.resolvedActor, principal: nil)
                    print("token \(t.id) (\(t.user), \(t.label)) revoked \(t.revokedAt ?? "")")
                }
            }
        }
    }
}

enum PasswordInput {
    static func stdinLine() throws -> String {
        guard let line = readLine(strippingNewline: true), !line.isEmpty else {
            throw ValidationError("expected the password on the first line of stdin")
        }
        return line
    }

    static func prompt() throws -> String {
        guard isatty(0) == 1 else { throw ValidationError("stdin is not a terminal; pass --stdin and pipe the password in") }
        guard let first = getpass("New password: ").map({ String(cString: $0) }), !first.isEmpty else { throw ValidationError("no password given") }
        guard let second = getpass("Again: ").map({ String(cString: $0) }), second == first else { throw ValidationError("the two passwords differ") }
        return first
    }
}

// MARK: fileplan

struct FilePlanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fileplan", abstract: "The file plan: schedule items and the rules that assign records to them.",
        discussion: "Changing the plan shows a dry-run diff first; --apply saves a new version and reassigns every record.",
        subcommands: [Show.self, Export.self, Import.self, History.self])

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Show the current file plan.")
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var archive: ArchiveOptions
        func run() async throws {
            try await CLIError.report {
                let p = try await FilePlanService(archive: try await archive.open()).current()
                if json { print(Terminal.json(p, pretty: true)); return }
                print("File plan version \(p.version): \(p.plan.title)")
                print("  saved \(p.createdAt) by \(p.createdBy)\(p.note.map { " — \($0)" } ?? ""); fiscal year starts in month \(p.plan.fiscalYearStartMonth)")
                print("Items:")
                for i in p.plan.items {
                    let when: String
                    switch i.disposition {
                    case .temporary: when = "temporary: destroy \(i.retention?.description ?? "?") after \(i.cutoff.rawValue) cutoff"
                    case .permanent: when = "permanent: transfer to NARA \(i.transferAfter?.description ?? "?") after \(i.cutoff.rawValue) cutoff"
                    }
                    print("  \(i.id)  \(i.authority)  \(i.title)")
                    print("        \(when)\(i.cutoffEvent.map { " (event: \($0))" } ?? "")")
                }
                print("  \(FilePlan.unscheduledID)  \(FilePlan.unscheduledTitle) (records no rule covers)")
                print("Rules (first match wins):")
                for (n, r) in p.plan.rules.enumerated() {
                    print("  \(n + 1). \(r.id) → \(r.item)\(r.when.isEmpty ? " (every record)" : "")\(r.note.map { ": \($0)" } ?? "")")
                }
            }
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "export", abstract: "Write the current file plan as YAML or JSON.")
        @Option(help: "yaml or json.") var format: FilePlanService.Format = .yaml
        @Option(name: .shortAndLong, help: ArgumentHelp("Write to this file instead of standard output.", valueName: "file")) var output: String?
        @OptionGroup var archive: ArchiveOptions
        func run() async throws {
            try await CLIError.report {
                let p = try await FilePlanService(archive: try await archive.open()).current()
                let text = try FilePlanService.render(p.plan, as: format)
                if let output { try Data(text.utf8).write(to: URL(fileURLWithPath: output)); Terminal.note("wrote file plan version \(p.version) to \(output)") }
                else { print(text, terminator: "") }
            }
        }
    }

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import", abstract: "Preview (and with --apply, adopt) a file plan from YAML or JSON.",
            discussion: "Without --apply nothing changes: you see how many records would move between items.")
        @Argument(help: "The plan file (.yaml, .yml or .json).") var file: String
        @Option(help: "yaml or json (default: from the file name).") var format: FilePlanService.Format?
        @Option(help: "Why the plan changes (kept with the version).") var note: String?
        @Flag(help: "Save the plan as a new version and reassign every record.") var apply = false
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var archive: ArchiveOptions
        func run() async throws {
            try await CLIError.report {
                let service = FilePlanService(archive: try await archive.open())
                guard let data = FileManager.default.contents(atPath: file) else { throw ArchiveError(.notFound, "cannot read \(file)") }
                let plan = try FilePlanService.parse(String(decoding: data, as: UTF8.self), format: format ?? .guess(file))
                for w in plan.warnings() { Terminal.note("warning: \(w)") }
                if apply {
                    let (saved, diff) = try await service.apply(plan, note: note, actor: archive.resolvedActor)
                    if json { print(Terminal.json(diff, pretty: true)); return }
                    print("File plan version \(saved.version) saved (sha256 \(saved.digest.prefix(16))…)")
                    RecordsText.printDiff(diff, json: false)
                } else {
                    RecordsText.printDiff(try await service.preview(plan), json: json)
                }
            }
        }
    }

    struct History: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "history", abstract: "Every version of the file plan.")
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var archive: ArchiveOptions
        func run() async throws {
            try await CLIError.report {
                let h = try await FilePlanService(archive: try await archive.open()).history()
                if json { print(Terminal.json(h, pretty: true)); return }
                for p in h { print("v\(p.version)  \(p.createdAt)  \(p.createdBy)  \(p.plan.items.count) items, \(p.plan.rules.count) rules  \(p.note ?? "")") }
            }
        }
    }
}

// MARK: custodian

struct CustodianCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "custodian", abstract: "Custodians, their platform accounts and role designations (Capstone).",
        subcommands: [Add.self, List.self, Show.self, Account.self, Designate.self, EndDesignation.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "add", abstract: "Add a custodian, or set name and office.")
        @Argument(help: "Official e-mail address.") var email: String
        @Option(help: "Full name.") var name: String?
        @Option(help: "Office (rules can match on it).") var office: String?
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var archive: ArchiveOptions
        func run() async throws {
            try await CLIError.report {
                let p = try await CustodianService(archive: try await archive.open()).save(email: email, name: name, office: office, actor: archive.resolvedActor)
                if json { print(Terminal.json(p, pretty: true)); return }
                print("custodian \(p.email)\(p.name.map { " (\($0))" } ?? "")\(p.office.map { ", \($0)" } ?? "")")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List custodians.")
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var archive: ArchiveOptions
        func run() async throws {
            try await CLIError.report {
                let list = try await CustodianService(archive: try await archive.open()).list(actor: archive.resolvedActor)
                if json { print(Terminal.json(list, pretty: true)); return }
                for p in list {
                    let today = CivilDate.today()
                    let capstone = p.designations.contains { $0.designation.capstone && $0.designation.covers(today) } ? "  [Capstone]"
                        : p.designations.contains { $0.designation.capstone } ? "  [former Capstone]" : ""
                    print("\(p.email.padding(toLength: 32, withPad: " ", startingAt: 0)) \(p.name ?? "")\(p.office.map { ", \($0)" } ?? "")  \(p.accounts.count) account(s)\(capstone)")
                }
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "A custodian's accounts and designations.")
        @Argument(help: "E-mail address.") var email: String
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var archive: ArchiveOptions
        func run() async throws {
            try await CLIError.report {
                let p = try await CustodianService(archive: try await archive.open()).profile(email: email)
                if json { print(Terminal.json(p, pretty: true)); return }
                print("\(p.email)\(p.name.map { "  \($0)" } ?? "")\(p.office.map { ", \($0)" } ?? "")")
                print("Accounts:")
                if p.accounts.isEmpty { print("  none") }
                for a in p.accounts { print("  \(a.platform.padding(toLength: 10, withPad: " ", startingAt: 0)) \(a.address)  (\(a.official ? "official" : "personal"))") }
                print("Designations:")
                if p.designations.isEmpty { print("  none") }
                for d in p.designations {
                    print("  #\(d.id) \(d.designation.role)\(d.designation.capstone ? " [Capstone]" : "")  \(d.designation.starts) – \(d.designation.ends?.description ?? "present")  (by \(d.createdBy))")
                }
            }
        }
    }

    struct Account: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "account", abstract: "Register a platform account (phone number in any form, e-mail, handle).",
            discussion: "Messages whose sender is a registered account are attributed to the custodian (a Capstone sender's messages are permanent).")
        @Argument(help: "The custodian's e-mail address.") var email: String
        @Option(help: "whatsapp, signal, sms, slack, teams, telegram, wickr, matrix, email…") var platform: String
        @Option(help: "Phone number, e-mail address or handle as the platform shows it.") var address: String
        @Flag(help: "A personal (not agency-issued) account.") var personal = false
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var archive: ArchiveOptions
        func run() async throws {
            try await CLIError.report {
                let (a, diff) = try await CustodianService(archive: try await archive.open()).addAccount(
                    email: email, platform: platform, address: address, official: !personal, actor: archive.resolvedActor)
                if json { print(Terminal.json(a)); return }
                print("\(a.platform) account \(a.address) (\(a.official ? "official" : "personal")) registered to \(email)")
                for l in RecordsText.diff(diff) { print(l) }
            }
        }
    }

    struct Designate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "designate", abstract: "Give a custodian a role for a span of dates (e.g. a Capstone role from NA-1005).",
            discussion: "Shows how many records would change item; --apply records the designation and reassigns them.")
        @Argument(help: "The custodian's e-mail address.") var email: String
        @Option(help: "Role title, e.g. \"Chief of Staff\".") var role: String
        @Flag(help: "A Capstone role (GRS 6.1): the holder's messages are permanent.") var capstone = false
        @Option(help: "First day held, YYYY-MM-DD.") var from: CivilDate
        @Option(help: "Last day held, YYYY-MM-DD (omit while still held).") var to: CivilDate?
        @Flag(help: "Record it and reassign records.") var apply = false
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var archive: ArchiveOptions
        func run() async throws {
            try await CLIError.report {
                let diff = try await CustodianService(archive: try await archive.open()).designate(
                    email: email, designation: RoleDesignation(role: role, capstone: capstone, starts: from, ends: to), apply: apply, actor: archive.resolvedActor)
                if !json, apply { print("\(email) holds \(capstone ? "Capstone role" : "role") '\(role)' from \(from) to \(to?.description ?? "present")") }
                RecordsText.printDiff(diff, json: json)
            }
        }
    }

    struct EndDesignation: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "end-designation", abstract: "Set the last day a designation was held.")
        @Argument(help: "Designation id (from `custodian show`).") var id: Int64
        @Option(help: "Last day held, YYYY-MM-DD.") var on: CivilDate
        @Flag(help: "Record it and reassign records.") var apply = false
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var archive: ArchiveOptions
        func run() async throws {
            try await CLIError.report {
                let diff = try await CustodianService(archive: try await archive.open()).endDesignation(id: id, ends: on, apply: apply, actor: archive.resolvedActor)
                RecordsText.printDiff(diff, json: json)
            }
        }
    }
}

// MARK: retention

struct RetentionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retention", abstract: "Where each record stands under the file plan, and what is due.",
        subcommands: [Summary.self, Show.self, Due.self, Recompute.self, Event.self])

    struct Summary: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "summary", abstract: "Records per schedule item.")
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var archive: ArchiveOptions
        func run() async throws {
            try await CLIError.report {
                let handle = try await archive.open()
                let groups = try await RetentionService(archive: handle).summary(actor: archive.resolvedActor)
                if json { print(Terminal.json(groups, pretty: true)); return }
                let plan = try await FilePlanService(archive: handle).current()
                print("file plan version \(plan.version)")
                for g in groups { print(RecordsText.group(g, plan: plan.plan)) }
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "A record's schedule item, dates and holds, with the reasons.")
        @Argument(help: "Message id.") var id: Int64
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var archive: ArchiveOptions
        func run() async throws {
            try await CLIError.report {
                let e = try await RetentionService(archive: try await archive.open()).explain(messageID: id, actor: archive.resolvedActor)
                if json { print(Terminal.json(e, pretty: true)); return }
                if let t = e.tombstone {
                    print("message \(id) is no longer in the archive: \(t.outcome) on \(t.disposedAt) (disposition \(t.dispositionID), item \(t.itemID)\(t.authority.map { ", \($0)" } ?? "")\(t.accession.map { ", NARA accession \($0)" } ?? ""))")
                    print("  sent \(t.sentLocal) in conversation \(t.conversationKey), captured in batch \(t.captureBatchID)")
                    print("  identity \(t.identityKey)\n  content sha256 \(t.contentHash)")
                    if let d = e.disposition {
                        print("  proposed by \(d.proposedBy) at \(d.proposedAt); approved by \(d.approvedBy ?? "?") at \(d.approvedAt ?? "?"); executed by \(d.executedBy ?? "?") at \(d.executedAt ?? "?")")
                    }
                    return
                }
                let a = e.stored?.assignment ?? e.current
                print("message \(id): item \(a.itemID)\(e.item.map { " — \($0.authority), \($0.title)" } ?? (a.itemID == FilePlan.unscheduledID ? " — \(FilePlan.unscheduledTitle)" : ""))")
                print("  action \(a.action.rawValue); cutoff \(a.cutoff?.description ?? "none"); \(a.action == .transfer ? "transfer" : "eligible") from \(a.eligible?.description ?? "never (kept)")")
                if let s = e.stored { print("  assigned under file plan v\(s.planVersion) at \(s.assignedAt)\(s.assignment == e.current ? "" : "; the current plan would give item \(e.current.itemID) (run `retention recompute`)")") }
                for r in e.reasons { print("  - \(r)") }
                if e.holds.isEmpty { print("  no active hold covers it") }
                for h in e.holds { print("  HELD by hold \(h.id) \(h.name) (\(h.matter.rawValue)\(h.reference.map { " \($0)" } ?? ""))") }
            }
        }
    }

    struct Due: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "due", abstract: "Records eligible for destruction or transfer, by item.")
        @Option(name: .customLong("as-of"), help: "Date, YYYY-MM-DD (default: today).") var asOf: CivilDate?
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var archive: ArchiveOptions
        func run() async throws {
            try await CLIError.report {
                let handle = try await archive.open()
                let date = asOf ?? .today()
                let groups = try await RetentionService(archive: handle).due(asOf: date, actor: archive.resolvedActor)
                if json { print(Terminal.json(groups, pretty: true)); return }
                let plan = try await FilePlanService(archive: handle).current()
                if groups.isEmpty { print("nothing is due for destruction or transfer by \(date)"); return }
                print("due by \(date):")
                for g in groups { print(RecordsText.group(g, plan: plan.plan)) }
                if date <= .today() {
                    print("Next: recordkeeper dispose propose --as-of \(date)   (transfer propose for permanent items)")
                } else {
                    print("Planning view: records can be proposed from their due dates (`dispose propose` refuses a future --as-of).")
                }
            }
        }
    }

    struct Recompute: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "recompute", abstract: "Recompute every record's assignment (dry run unless --apply).")
        @Flag(help: "Store the new assignments.") var apply = false
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var archive: ArchiveOptions
        func run() async throws {
            try await CLIError.report {
                RecordsText.printDiff(try await RetentionService(archive: try await archive.open()).recompute(apply: apply, actor: archive.resolvedActor), json: json)
            }
        }
    }

    struct Event: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "event", abstract: "Record a cutoff event for a conversation (for items with an event cutoff).")
        @Argument(help: "Conversation id.") var conversation: Int64
        @Option(help: "Event name, as the item's cutoff_event says (e.g. \"conversation closed\").") var name: String
        @Option(help: "When it happened, YYYY-MM-DD.") var date: CivilDate
        @Flag(help: "Record it and reassign records.") var apply = false
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var archive: ArchiveOptions
        func run() async throws {
            try await CLIError.report {
                RecordsText.printDiff(try await RetentionService(archive: try await archive.open()).recordEvent(
                    conversationID: conversation, name: name, date: date, apply: apply, actor: archive.resolvedActor), json: json)
            }
        }
    }
}

// MARK: hold

struct HoldCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hold", abstract: "Legal holds: while active, nothing in scope can be disposed of.",
        subcommands: [Create.self, List.self, Show.self, Release.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "create", abstract: "Place a hold.",
            discussion: "Scope criteria combine with AND; repeated --custodian or --conversation combine with OR.")
        @Option(help: "A name for the hold.") var name: String
        @Option(help: "litigation, foia-request, ig-audit, congressional-inquiry or other.") var matter: MatterType
        @Option(help: "Case, request or audit number.") var reference: String?
        @Option(help: "Who asked for the hold.") var requestedBy: String
        @Option(name: .customLong("custodian"), help: ArgumentHelp("A custodian in scope (repeatable).", valueName: "email")) var custodians: [String] = []
        @Option(name: .customLong("conversation"), help: ArgumentHelp("A conversation in scope, id or key (repeatable).", valueName: "id")) var conversations: [String] = []
        @Option(help: "First sent date in scope, YYYY-MM-DD.") var from: CivilDate?
        @Option(help: "Last sent date in scope, YYYY-MM-DD (inclusive).") var to: CivilDate?
        @Option(help: "Records matching this search (archive query syntax).") var query: String?
        @Flag(help: "Hold every record in the archive.") var everything = false
        @Flag(name: .customLong("future-custodian"), help: ArgumentHelp(
            "Allow a --custodian the archive does not know yet (their records are held when captured); without it an unknown custodian is an error."))
        var futureCustodian = false
        @Flag(name: .customLong("dry-run"), help: "Show what the hold would cover now (by custodian, by conversation, newest records) and place nothing.")
        var dryRun = false
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var archive: ArchiveOptions
        func run() async throws {
            try await CLIError.report {
                let scope = HoldScope(custodians: custodians.isEmpty ? nil : custodians, conversations: conversations.isEmpty ? nil : conversations,
                                      from: from, to: to, query: query, everything: everything ? true : nil)
                let service = HoldService(archive: try await archive.open())
                if dryRun {
                    let (preview, sample) = try await service.preview(scope: scope, sample: 5, allowFutureCustodians: futureCustodian, actor: archive.resolvedActor)
                    if json { print(Terminal.json(preview, pretty: true)); return }
                    print("This hold would cover \(Terminal.count(preview.records)) record\(preview.records == 1 ? "" : "s") now (\(scope.summary)). Nothing was placed.")
                    if preview.records == 0 { Terminal.note("warning: the scope covers no record; check the custodians, conversations, dates and query") }
                    for g in preview.byCustodian { print("  custodian \(g.label): \(Terminal.count(g.records))") }
                    for g in preview.byConversation { print("  conversation \(g.key) \"\(g.label)\": \(Terminal.count(g.records))") }
                    for m in sample { print("  message \(m.id)  \(m.message.sentLocal.description)  \(m.message.sender ?? "[system]")") }
                    return
                }
                let d = try await service.create(name: name, matter: matter, reference: reference, requestedBy: requestedBy, scope: scope,
                                                 allowFutureCustodians: futureCustodian, actor: archive.resolvedActor)
                if json { print(Terminal.json(["hold": d.hold.id, "records": Int64(d.heldRecords)])); return }
                print("hold \(d.hold.id) \"\(d.hold.name)\" placed: \(Terminal.count(d.heldRecords)) records in scope now (\(d.hold.scope.summary)); records captured later in scope are held too")
                if d.heldRecords == 0 {
                    Terminal.note("warning: the hold covers no record now; if that is not expected, check its scope (`hold create … --dry-run` previews one) and release it")
                }
                if let lock = d.objectLock {
                    print("object store: legal hold set on \(Terminal.count(lock.legalHoldsSet)) object\(lock.legalHoldsSet == 1 ? "" : "s")")
                    if !lock.failures.isEmpty {
                        Terminal.note("warning: \(lock.failures.count) object(s) could not be flagged (the hold itself is in force; `recordkeeper object-lock sync` retries): \(lock.failures.prefix(3).joined(separator: "; "))")
                    }
                }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "Active holds (--all for released ones too).")
        @Flag(help: "Include released holds.") var all = false
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var archive: ArchiveOptions
        struct Row: Encodable { var hold: LegalHold; var records: Int }
        func run() async throws {
            try await CLIError.report {
                let list = try await HoldService(archive: try await archive.open()).list(includeReleased: all, actor: archive.resolvedActor)
                if json { print(Terminal.json(list.map { Row(hold: $0.0, records: $0.1) }, pretty: true)); return }
                if list.isEmpty { print(all ? "no holds" : "no active holds") }
                for (h, n) in list {
                    print("\(String(h.id).leftPad(4))  \(h.isActive ? "ACTIVE  " : "released")  \(h.name)  [\(h.matter.rawValue)\(h.reference.map { " \($0)" } ?? "")]  \(Terminal.count(n)) records  \(h.scope.summary)")
                }
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "A hold, how many records it covers, and a sample.")
        @Argument(help: "Hold id.") var id: Int64
        @Option(help: "How many held records to show.") var sample = 5
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var archive: ArchiveOptions
        struct Out: Encodable { var hold: LegalHold; var records: Int; var sample: [Int64] }
        func run() async throws {
            try await CLIError.report {
                let d = try await HoldService(archive: try await archive.open()).show(id: id, sample: max(0, min(sample, 100)), actor: archive.resolvedActor)
                if json { print(Terminal.json(Out(hold: d.hold, records: d.heldRecords, sample: d.sample.map(\.id)), pretty: true)); return }
                let h = d.hold
                print("hold \(h.id): \(h.name)  (\(h.isActive ? "active" : "released"))")
                print("  matter \(h.matter.rawValue)\(h.reference.map { ", reference \($0)" } ?? ""); requested by \(h.requestedBy)")
                print("  placed by \(h.createdBy) at \(h.createdAt)")
                if let r = h.releasedAt { print("  released by \(h.releasedBy ?? "") at \(r): \(h.releaseReason ?? "")") }
                print("  scope: \(h.scope.summary)")
                print("  records in scope: \(Terminal.count(d.heldRecords))")
                for m in d.sample {
                    let body = m.message.body.replacingOccurrences(of: "\n", with: " ")
                    print("    #\(m.id)  \(m.message.sentLocal)  \(m.message.sender ?? "(system)"): \(body.count > 70 ? String(body.prefix(70)) + "…" : body)")
                }
            }
        }
    }

    struct Release: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "release", abstract: "Release a hold (it is kept, marked released).")
        @Argument(help: "Hold id.") var id: Int64
        @Option(help: "Why the hold ends.") var reason: String
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var archive: ArchiveOptions
        func run() async throws {
            try await CLIError.report {
                let h = try await HoldService(archive: try await archive.open()).release(id: id, reason: reason, actor: archive.resolvedActor)
                if json { print(Terminal.json(h, pretty: true)); return }
                print("hold \(h.id) released at \(h.releasedAt ?? ""); its records become eligible for disposition again unless another hold covers them")
            }
        }
    }
}

// MARK: dispose / transfer

/// What `dispose propose` and `transfer propose` share.
struct ProposalOptions: ParsableArguments {
    @Option(name: .customLong("as-of"), help: "Due by this date, YYYY-MM-DD (default: today).") var asOf: CivilDate?
    @Option(name: .customLong("item"), help: "Only this schedule item (repeatable).") var items: [String] = []
    @Option(help: "A note kept with the batch.") var note: String?
    @Flag(help: "Print JSON.") var json = false
    @OptionGroup var archive: ArchiveOptions

    func propose(_ action: DispositionAction, next: (Int64) -> String) async throws {
        try await CLIError.report {
            let b = try await DispositionService(archive: try await archive.open()).propose(
                action: action, asOf: asOf ?? .today(), items: items.isEmpty ? nil : items, note: note, actor: archive.resolvedActor)
            if json { print(Terminal.json(b, pretty: true)); return }
            RecordsText.batch(b)
            print(next(b.id))
        }
    }
}

struct DisposeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dispose", abstract: "Destroy temporary records that are due: propose, approve (a second records officer), execute.",
        discussion: "Execution removes the records' content, leaves tombstones that verify still accounts for, and issues a certificate of destruction.",
        subcommands: [Propose.self, List.self, Show.self, Approve.self, Execute.self, Cancel.self, Certificate.self])

    struct Propose: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "propose", abstract: "Propose destroying every record due by a date (held records excluded).")
        @OptionGroup var proposal: ProposalOptions
        func run() async throws {
            try await proposal.propose(.destroy) { "Next: another records officer reviews it (`dispose show \($0)`) and runs `dispose approve \($0)`." }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "Every disposition batch (destruction and transfer).")
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var archive: ArchiveOptions
        func run() async throws {
            try await CLIError.report {
                let list = try await DispositionService(archive: try await archive.open()).list(actor: archive.resolvedActor)
                if json { print(Terminal.json(list, pretty: true)); return }
                if list.isEmpty { print("no disposition batches") }
                for b in list {
                    print("\(String(b.id).leftPad(4))  \(b.action.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0)) \(b.status.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0)) \(Terminal.count(b.records).leftPad(9)) records  as of \(b.asOf)  proposed by \(b.proposedBy)\(b.approvedBy.map { ", approved by \($0)" } ?? "")")
                }
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "A disposition batch for review.")
        @Argument(help: "Batch id.") var id: Int64
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var archive: ArchiveOptions
        func run() async throws {
            try await CLIError.report {
                let b = try await DispositionService(archive: try await archive.open()).review(id: id, actor: archive.resolvedActor)
                if json { print(Terminal.json(b, pretty: true)); return }
                RecordsText.batch(b)
            }
        }
    }

    struct Approve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "approve", abstract: "Approve a proposed batch (records officer, not the proposer).")
        @Argument(help: "Batch id.") var id: Int64
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var archive: ArchiveOptions
        func run() async throws {
            try await CLIError.report {
                let b = try await DispositionService(archive: try await archive.open()).approve(id: id, actor: archive.resolvedActor)
                if json { print(Terminal.json(b, pretty: true)); return }
                print("disposition \(b.id) approved by \(b.approvedBy ?? ""): \(Terminal.count(b.records)) records")
                print(b.action == .destroy ? "Next: recordkeeper dispose execute \(b.id)" : "Next: recordkeeper transfer package \(b.id) --output DIR")
            }
        }
    }

    struct Execute: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "execute", abstract: "Destroy an approved batch and issue its certificate.")
        @Argument(help: "Batch id.") var id: Int64
        @Flag(help: "Print JSON (the certificate).") var json = false
        @OptionGroup var archive: ArchiveOptions
        func run() async throws {
            try await CLIError.report {
                let c = try await DispositionService(archive: try await archive.open()).execute(id: id, actor: archive.resolvedActor)
                if json { print(c.json, terminator: ""); return }
                print("disposition \(id) executed: \(Terminal.count(c.records)) records destroyed, \(Terminal.count(c.blobsDestroyed)) file\(c.blobsDestroyed == 1 ? "" : "s") removed, \(Terminal.count(c.withheld)) withheld")
                print("digest of destroyed record hashes \(c.disposedHashesDigest)")
                if let s = c.sanitization { print("sanitization (NIST SP 800-88): \(s)") }
                for left in c.notYetPurged ?? [] { Terminal.note("not yet purged: \(left)") }
                if let kept = c.originalsKept, !kept.isEmpty {
                    Terminal.note("\(kept.count) original export(s) kept, sealed, for records still retained; they go with the last of those records")
                }
                print("Certificate: recordkeeper dispose certificate \(id) --format html --output certificate-\(id).html")
            }
        }
    }

    struct Cancel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "cancel", abstract: "Cancel an open batch.")
        @Argument(help: "Batch id.") var id: Int64
        @Option(help: "Why.") var reason: String
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var archive: ArchiveOptions
        func run() async throws {
            try await CLIError.report {
                let b = try await DispositionService(archive: try await archive.open()).cancel(id: id, reason: reason, actor: archive.resolvedActor)
                if json { print(Terminal.json(b, pretty: true)); return }
                print("disposition \(b.id) cancelled; its records can be proposed again")
            }
        }
    }

    struct Certificate: AsyncParsableCommand {
        enum Format: String, ExpressibleByArgument { case html, json }
        static let configuration = CommandConfiguration(commandName: "certificate", abstract: "The certificate of an executed disposition, as HTML or JSON.")
        @Argument(help: "Batch id.") var id: Int64
        @Option(help: "html or json.") var format: Format = .html
        @Option(name: .shortAndLong, help: ArgumentHelp("Write to this file.", valueName: "file")) var output: String?
        @OptionGroup var archive: ArchiveOptions
        func run() async throws {
            try await CLIError.report {
                let c = try await DispositionService(archive: try await archive.open()).certificate(id: id, actor: archive.resolvedActor)
                let text = format == .html ? c.html : c.json
                if let output { try Data(text.utf8).write(to: URL(fileURLWithPath: output)); Terminal.note("wrote \(output)") }
                else { print(text, terminator: "") }
            }
        }
    }
}

struct TransferCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "transfer", abstract: "Transfer permanent records to the National Archives as BagIt packages.",
        discussion: "propose → approve (a second records officer, `dispose approve`) → package → confirm once NARA has accessioned the bag.",
        subcommands: [Propose.self, Package.self, Confirm.self])

    struct Propose: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "propose", abstract: "Propose transferring every permanent record due by a date.")
        @OptionGroup var proposal: ProposalOptions
        func run() async throws {
            try await proposal.propose(.transfer) { "Next: another records officer runs `dispose approve \($0)`, then `transfer package \($0) --output DIR`." }
        }
    }

    struct Package: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "package", abstract: "Write an approved transfer as a BagIt 1.0 bag.")
        @Argument(help: "Batch id.") var id: Int64
        @Option(name: .shortAndLong, help: ArgumentHelp("New directory for the bag.", valueName: "dir")) var output: String
        @Option(help: "Source-Organization for bag-info.txt.") var organization = "Federal agency records management program"
        @Option(help: "The Rights value for every record in metadata.csv.") var rights = "Access restrictions not yet reviewed"
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var archive: ArchiveOptions
        func run() async throws {
            try await CLIError.report {
                let p = try await TransferService(archive: try await archive.open()).package(
                    id: id, to: URL(fileURLWithPath: output), organization: organization, rights: rights, actor: archive.resolvedActor,
                    progress: { Terminal.progress($0) })
                Terminal.endProgress()
                if json { print(Terminal.json(p, pretty: true)); return }
                print("bag written to \(p.path): \(Terminal.count(p.records)) records in \(p.messageFiles) EML files, \(p.attachments) attachments, \(Terminal.bytes(p.payloadBytes))")
                print("payload manifest sha256 \(p.bagDigest)")
                print("The records stay in the archive until NARA accessions the bag: then run `transfer confirm \(id) --accession ID`.")
            }
        }
    }

    struct Confirm: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "confirm", abstract: "Confirm NARA accessioned the bag; the records become tombstones.")
        @Argument(help: "Batch id.") var id: Int64
        @Option(help: "NARA's accession number.") var accession: String
        @Flag(help: "Print JSON (the certificate).") var json = false
        @OptionGroup var archive: ArchiveOptions
        func run() async throws {
            try await CLIError.report {
                let c = try await TransferService(archive: try await archive.open()).confirm(id: id, accession: accession, actor: archive.resolvedActor)
                if json { print(c.json, terminator: ""); return }
                print("transfer \(id) confirmed under accession \(accession): \(Terminal.count(c.records)) records are now tombstones")
                print("Certificate: recordkeeper dispose certificate \(id) --format html --output transfer-\(id).html")
            }
        }
    }
}
