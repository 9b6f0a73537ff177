import Archive
import Foundation
import RecordkeeperCore

/// Who may do what to the record set, checked by every records-law service.
///
/// A refusal is itself audited: an attempt to approve one's own disposition, or to remove a
/// record any other way than an approved disposition, leaves a trace.
struct RecordsAccess: Sendable {
    let store: any ArchiveStore

    @discardableResult
    func require(_ role: UserRole, actor: String, action: String, target: String) async throws -> UserAccount {
        guard let user = try await store.user(name: actor) else {
            try await refuse(actor: actor, action: action, target: target,
                             reason: "'\(actor)' is not a registered user; an admin adds one with `recordkeeper user add NAME --role \(role.rawValue)` and links your OS account (--os-account) or gives you an API token")
        }
        guard user.has(role) || (role != .recordsOfficer && user.has(.admin)) else {
            try await refuse(actor: actor, action: action, target: target, reason: "\(actor) does not have the \(role.rawValue) role")
        }
        return user
    }

    /// Audits the refusal and throws it.
    func refuse(actor: String, action: String, target: String, reason: String) async throws -> Never {
        try await store.appendAudit(AuditDraft(actor: actor, action: "refused", target: target, detail: ["attempted": action, "reason": reason]))
        throw ArchiveError(.refused, reason)
    }

    /// Runs `body`; a refusal from the store (wrong state, self-approval) is audited too.
    func audited<T>(actor: String, action: String, target: String, _ body: () async throws -> T) async throws -> T {
        do { return try await body() } catch let e as ArchiveError where e.code == .refused {
            try await store.appendAudit(AuditDraft(actor: actor, action: "refused", target: target, detail: ["attempted": action, "reason": e.message]))
            throw e
        }
    }
}

/// Registered users and their roles.
public struct UserService: Sendable {
    public let archive: ArchiveHandle
    public init(archive: ArchiveHandle) { self.archive = archive }

    /// Adds a user or changes their roles. From the CLI this is an operator's act (whoever can
    /// open the data directory); it is audited either way.
    /// `osAccounts` are linked to the user in the same act (`link`).
    public func save(name: String, displayName: String?, roles: [UserRole], custodianEmail: String? = nil, osAccounts: [String] = [],
                     actor: String) async throws -> UserAccount {
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty, trimmed.count <= 100, !trimmed.contains(where: { $0.isWhitespace || $0.isNewline || $0 == ":" }) else {
            // No ':' either: `os:LOGIN` and `system:…` name acts that no user did.
            throw ArchiveError(.invalid, "a user name is one word of at most 100 characters without ':', e.g. a.smith")
        }
        guard !roles.isEmpty else { throw ArchiveError(.invalid, "give at least one --role (\(UserRole.allCases.map(\.rawValue).joined(separator: ", ")))") }
        // Until an admin exists, whoever can open the archive sets it up; from then on only an admin
        // changes users and roles (so one person cannot simply mint a second records officer).
        if try await archive.store.users().contains(where: { $0.has(.admin) }) {
            try await RecordsAccess(store: archive.store).require(.admin, actor: actor, action: "user.add", target: "user:\(trimmed)")
        }
        let existing = try await archive.store.user(name: trimmed)
        // The last admin keeps the role: without an admin the archive would be back in set-up,
        // where anyone who can open it adds users and links accounts.
        if existing?.has(.admin) == true, !roles.contains(.admin),
           try await !archive.store.users().contains(where: { $0.has(.admin) && $0.name.lowercased() != trimmed.lowercased() }) {
            try await RecordsAccess(store: archive.store).refuse(actor: actor, action: "user.roles", target: "user:\(trimmed)",
                                                                reason: "\(trimmed) is the archive's last admin; make another admin first")
        }
        let custodian = (custodianEmail ?? existing?.custodianEmail)?.trimmingCharacters(in: .whitespaces).lowercased()
        if roles.contains(.custodian) {
            guard let custodian, custodian.contains("@"), !custodian.contains(where: \.isWhitespace) else {
                throw ArchiveError(.invalid, "a user with the custodian role needs --custodian EMAIL: the custodian whose records they see and upload")
            }
        }
        let user = UserAccount(name: trimmed, displayName: displayName ?? existing?.displayName ?? trimmed, roles: roles,
                               createdAt: existing?.createdAt ?? Timestamp.iso(millis: Timestamp.nowMillis()),
                               custodianEmail: custodian.flatMap { $0.isEmpty ? nil : $0 })
        let logins = try osAccounts.map(Self.checkedLogin)
        try await archive.store.saveUser(user)
        try await archive.store.appendAudit(AuditDraft(actor: actor, action: existing == nil ? "user.add" : "user.roles", target: "user:\(trimmed)",
                                                       detail: ["roles": roles.map(\.rawValue).joined(separator: ","),
                                                                "previous_roles": existing?.roles.map(\.rawValue).joined(separator: ",") ?? "",
                                                                "custodian": user.custodianEmail ?? ""]))
        for login in logins { _ = try await linkAuthorized(user: user, osAccount: login, actor: actor) }
        return user
    }

    public func list() async throws -> [UserAccount] { try await archive.store.users() }

    /// Links an operating-system account to a user, so that commands run under it act as that
    /// user. An admin's act (anyone's while no admin exists: the archive is being set up).
    public func link(user name: String, osAccount login: String, actor: String) async throws -> UserLogin {
        let login = try Self.checkedLogin(login)
        try await requireAdminOnceSetUp(actor: actor, action: "user.link", target: "user:\(name)")
        guard let user = try await archive.store.user(name: name) else {
            throw ArchiveError(.notFound, "no user named \(name); add one first with `recordkeeper user add`")
        }
        return try await linkAuthorized(user: user, osAccount: login, actor: actor)
    }

    /// Links a single sign-on identity (`ISSUER|SUBJECT`, as a refused sign-in shows it) to an
    /// existing user, so that signing on acts as them. An admin's act.
    public func link(user name: String, singleSignOn subject: String, actor: String) async throws -> UserLogin {
        let subject = subject.trimmingCharacters(in: .whitespaces)
        guard subject.contains("|"), subject.count <= 600, !subject.contains(where: \.isNewline) else {
            throw ArchiveError(.invalid, "a single sign-on identity is ISSUER|SUBJECT, as the refused sign-in showed it")
        }
        try await requireAdminOnceSetUp(actor: actor, action: "user.link", target: "user:\(name)")
        guard let user = try await archive.store.user(name: name) else { throw ArchiveError(.notFound, "no user named \(name)") }
        let link = UserLogin(kind: .openIDConnect, subject: subject, user: user.name, createdAt: Timestamp.iso(millis: Timestamp.nowMillis()), createdBy: actor)
        try await archive.store.linkLogin(link)
        try await archive.store.appendAudit(AuditDraft(actor: actor, action: "user.link", target: "user:\(user.name)",
                                                       detail: ["kind": link.kind.rawValue, "subject": subject]))
        return link
    }

    static func checkedLogin(_ login: String) throws -> String {
        let login = login.trimmingCharacters(in: .whitespaces)
        guard !login.isEmpty, login.count <= 64, login.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._-$@".contains($0)) }) else {
            throw ArchiveError(.invalid, "an OS account is a login name such as jdoe (letters, digits, . _ - @ $; at most 64)")
        }
        return login
    }

    private func linkAuthorized(user: UserAccount, osAccount login: String, actor: String) async throws -> UserLogin {
        let link = UserLogin(kind: .osAccount, subject: login, user: user.name, createdAt: Timestamp.iso(millis: Timestamp.nowMillis()), createdBy: actor)
        try await archive.store.linkLogin(link)
        try await archive.store.appendAudit(AuditDraft(actor: actor, action: "user.link", target: "user:\(user.name)",
                                                       detail: ["kind": link.kind.rawValue, "subject": login]))
        return link
    }

    /// Removes an OS account's or a single sign-on subject's link to its user (an admin's act).
    public func unlink(kind: UserLogin.Kind, subject: String, actor: String) async throws -> UserLogin {
        try await requireAdminOnceSetUp(actor: actor, action: "user.unlink", target: "\(kind.rawValue):\(subject)")
        guard let removed = try await archive.store.unlinkLogin(kind: kind, subject: subject) else {
            throw ArchiveError(.notFound, "\(subject) is not linked to any user (`recordkeeper user list` shows the links)")
        }
        try await archive.store.appendAudit(AuditDraft(actor: actor, action: "user.unlink", target: "user:\(removed.user)",
                                                       detail: ["kind": kind.rawValue, "subject": subject]))
        return removed
    }

    private func requireAdminOnceSetUp(actor: String, action: String, target: String) async throws {
        if try await archive.store.users().contains(where: { $0.has(.admin) }) {
            try await RecordsAccess(store: archive.store).require(.admin, actor: actor, action: action, target: target)
        }
    }
}
