import ArgumentParser
import Archive
import Foundation
import Recordkeeper
import RecordkeeperCore
import RecordkeeperWeb
#if canImport(Glibc)
import Glibc
#endif

/// Who a command acts as, and how that was established.
struct ActingIdentity: Sendable {
    /// The audit log's actor: a user's name, or `os:LOGIN` for an operator or set-up act.
    var name: String
    /// The archive user, when the identity is one.
    var user: UserAccount?
    /// How it was established, for `user whoami` and refusals.
    var how: String
}

/// How the command line knows who is acting (issue 16): never from a flag anyone can type.
///
/// 1. An API token, from `RECORDKEEPER_TOKEN` or the file `RECORDKEEPER_TOKEN_FILE` names (never
///    a flag: a secret on the command line shows in `ps` and shell history). It must be live.
/// 2. The operating-system account the process runs under (its real user id, which the
///    environment cannot change), when an admin linked it to an archive user.
/// 3. Neither: the command acts as `os:LOGIN`. That is enough while the archive has no admin
///    (it is being set up) and for operator commands (verify, checkpoints, keys, the index,
///    serve, migrate), which need the data directory or the database credentials anyway. Every
///    other command — any that reads or changes records — is refused, and the refusal audited.
enum CLIIdentity {
    static let tokenVariable = "RECORDKEEPER_TOKEN"
    static let tokenFileVariable = "RECORDKEEPER_TOKEN_FILE"

    /// Set once by `ArchiveOptions.open`; a CLI process runs one command.
    nonisolated(unsafe) static var current: ActingIdentity?

    /// The login name of the account this process runs under, from its real user id.
    static var osLogin: String {
        let uid = getuid()
        if let entry = getpwuid(uid), let name = entry.pointee.pw_name { return String(cString: name) }
        return "uid-\(uid)"
    }

    static var operatorName: String { "os:" + osLogin }

    /// The API token the environment gives, if any, and where it came from.
    static func tokenSecret(_ env: [String: String] = ProcessInfo.processInfo.environment) throws -> (secret: String, source: String)? {
        if let secret = env[tokenVariable]?.trimmingCharacters(in: .whitespacesAndNewlines), !secret.isEmpty {
            return (secret, tokenVariable)
        }
        guard let path = env[tokenFileVariable], !path.isEmpty else { return nil }
        let url = URL(fileURLWithPath: (path as NSString).expandingTildeInPath)
        let read: String?
        do { read = try KeyFile.readPrivateText(url) } catch let f as KeyFile.Failure {
            throw f.archiveError("the API token (\(tokenFileVariable))", at: url, shape: "the token's secret, rk_…")
        }
        guard let text = read else { throw ArchiveError(.invalid, "\(tokenFileVariable) names \(url.path), which cannot be read") }
        guard !text.isEmpty else { throw ArchiveError(.invalid, "\(url.path) (\(tokenFileVariable)) is empty") }
        return (text, url.path)
    }

    /// Establishes who is acting; refuses (and audits the refusal) when a records command has no
    /// authenticated identity in an archive that has an admin.
    static func resolve(_ handle: ArchiveHandle, access: ArchiveOptions.Access) async throws -> ActingIdentity {
        let store = handle.store
        if let (secret, source) = try tokenSecret() {
            guard let (user, token) = try await CredentialService(archive: handle).authenticate(token: secret) else {
                try await store.appendAudit(AuditDraft(actor: operatorName, action: "refused", target: "archive",
                                                       detail: ["attempted": commandName, "reason": "an unknown or revoked API token"]))
                throw ArchiveError(.refused, "the API token in \(source) is not one this archive knows, or it was revoked; "
                                   + "make a new one with `recordkeeper user token create NAME --label …` (your own, or an admin makes it for you)")
            }
            return ActingIdentity(name: user.name, user: user, how: "API token \(token.id) (\(token.label)) from \(source)")
        }
        let login = osLogin
        if let link = try await store.login(kind: .osAccount, subject: login), let user = try await store.user(name: link.user) {
            return ActingIdentity(name: user.name, user: user, how: "OS account \(login), linked to \(user.name) by \(link.createdBy) on \(link.createdAt.prefix(10))")
        }
        guard try await store.users().contains(where: { $0.has(.admin) }) else {
            return ActingIdentity(name: operatorName, user: nil, how: "OS account \(login), not linked to a user: the archive has no admin yet, so it is being set up")
        }
        if access == .operator {
            return ActingIdentity(name: operatorName, user: nil, how: "OS account \(login), not linked to a user: an operator act")
        }
        let reason = "OS account \(login) is not linked to an archive user and no API token was given"
        try await store.appendAudit(AuditDraft(actor: operatorName, action: "refused", target: "archive",
                                               detail: ["attempted": commandName, "reason": reason]))
        throw ArchiveError(.refused, """
            \(reason). Set \(tokenVariable) (or \(tokenFileVariable)) to your API token, or ask an admin to link your account: \
            `recordkeeper user link NAME --os-account \(login)`
            """)
    }

    /// The command being run (`dispose approve`), without its arguments: those may be search
    /// terms, which the audit log keeps only where the act itself records them.
    static var commandName: String {
        let words = CommandLine.arguments.dropFirst().prefix { !$0.hasPrefix("-") }.prefix(3)
        guard let first = words.first,
              let command = RecordkeeperCommand.configuration.subcommands.first(where: { $0._commandName == first }) else { return "recordkeeper" }
        guard let second = words.dropFirst().first, command.configuration.subcommands.contains(where: { $0._commandName == second }) else {
            return first
        }
        return first + " " + second
    }
}
