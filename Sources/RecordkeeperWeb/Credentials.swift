import Archive
import Foundation
import HummingbirdBcrypt
import NIOPosix
import Recordkeeper
import RecordkeeperCore

/// Passwords (bcrypt) and API tokens (SHA-256 of a 160-bit secret), for the web UI, the API and
/// `recordkeeper user password|token`. No secret is stored or logged; every change is audited.
public struct CredentialService: Sendable {
    public let archive: ArchiveHandle
    /// bcrypt's work factor (12 by default; tests may lower it, never below 4).
    public let cost: UInt8
    public static let minimumPasswordLength = 12

    public init(archive: ArchiveHandle, cost: UInt8 = 12) {
        self.archive = archive
        self.cost = max(4, cost)
    }

    var store: any ArchiveStore { archive.store }

    /// Sets a user's password. The user may change their own; otherwise an admin must act, except
    /// while no admin exists (first set-up from the command line).
    public func setPassword(user name: String, password: String, actor: String, actingAs principal: UserAccount? = nil) async throws {
        guard let user = try await store.user(name: name) else {
            throw ArchiveError(.notFound, "no user named \(name); add one first with `recordkeeper user add`")
        }
        let selfService = principal.map { $0.name.lowercased() == user.name.lowercased() } ?? false
        if !selfService, try await store.users().contains(where: { $0.has(.admin) }) {
            let admin: UserAccount? = if let principal { principal } else { try await store.user(name: actor) }
            guard admin?.has(.admin) == true else {
                try await store.appendAudit(AuditDraft(actor: actor, action: "refused", target: "user:\(user.name)",
                                                       detail: ["attempted": "user.password", "reason": "only an admin sets another user's password"]))
                throw ArchiveError(.refused, "only an admin sets another user's password")
            }
        }
        try Self.checkPolicy(password, user: user.name)
        let cost = self.cost
        let hash = try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(password, cost: cost) }
        try await store.setPasswordHash(user: user.name, hash: hash)
        try await store.appendAudit(AuditDraft(actor: actor, action: "user.password", target: "user:\(user.name)",
                                               detail: ["by": selfService ? "self" : "admin"]))
    }

    static func checkPolicy(_ password: String, user: String) throws {
        guard password.count >= minimumPasswordLength else {
            throw ArchiveError(.invalid, "a password needs at least \(minimumPasswordLength) characters (a passphrase of several words is easiest)")
        }
        guard password.utf8.count <= 72 else {
            throw ArchiveError(.invalid, "a password may be at most 72 bytes (bcrypt ignores anything longer)")
        }
        guard password.lowercased() != user.lowercased(), !password.allSatisfy({ $0 == password.first }) else {
            throw ArchiveError(.invalid, "choose a password that is not your user name or one repeated character")
        }
    }

    /// The user when the password matches. Takes as long whether or not the user exists.
    public func verifyPassword(user name: String, password: String) async throws -> UserAccount? {
        let user = try await store.user(name: name)
        let stored = try await store.passwordHash(user: user?.name ?? name)
        let hash = stored ?? Self.decoyHash
        let ok = try await NIOThreadPool.singleton.runIfActive { Bcrypt.verify(password, hash: hash) }
        return ok && stored != nil ? user : nil
    }

    /// A valid bcrypt hash of nothing anyone can type, checked when the user has no password.
    static let decoyHash = Bcrypt.hash(Secrets.random(bytes: 16), cost: 12)

    /// Creates a token for `user`; returns it with its secret, which is shown once.
    /// The token's owner or an admin may (anyone while no admin exists: the archive is being set up).
    public func createToken(user name: String, label: String, actor: String) async throws -> (APIToken, String) {
        guard let user = try await store.user(name: name) else { throw ArchiveError(.notFound, "no user named \(name)") }
        if actor.lowercased() != user.name.lowercased(), try await store.users().contains(where: { $0.has(.admin) }),
           try await store.user(name: actor)?.has(.admin) != true {
            try await store.appendAudit(AuditDraft(actor: actor, action: "refused", target: "user:\(user.name)",
                                                   detail: ["attempted": "token.create", "reason": "only the user or an admin creates a user's token"]))
            throw ArchiveError(.refused, "only \(user.name) or an admin may create a token that acts as \(user.name)")
        }
        let label = label.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !label.isEmpty, label.count <= 100 else { throw ArchiveError(.invalid, "give the token a label of up to 100 characters (what script uses it)") }
        let secret = "rk_" + Secrets.random(bytes: 20)
        let token = try await store.createToken(NewAPIToken(user: user.name, label: label, secretHash: Secrets.sha256Hex(secret),
                                                            prefix: String(secret.prefix(9)), createdAt: Timestamp.iso(millis: Timestamp.nowMillis())))
        try await store.appendAudit(AuditDraft(actor: actor, action: "token.create", target: "user:\(user.name)",
                                               detail: ["token": String(token.id), "label": label]))
        return (token, secret)
    }

    /// The user a bearer token belongs to, or nil.
    public func authenticate(token secret: String) async throws -> (UserAccount, APIToken)? {
        guard secret.hasPrefix("rk_"), secret.count == 43 else { return nil }
        guard let token = try await store.useToken(secretHash: Secrets.sha256Hex(secret), at: Timestamp.iso(millis: Timestamp.nowMillis())),
              let user = try await store.user(name: token.user) else { return nil }
        return (user, token)
    }

    /// Revokes a token. Its owner or an admin may.
    public func revokeToken(id: Int64, actor: String, principal: UserAccount?) async throws -> APIToken {
        let admin: Bool
        if let principal { admin = principal.has(.admin) } else if let acting = try await store.user(name: actor) { admin = acting.has(.admin) } else {
            // An unlinked OS account (the command line): only while the archive is being set up.
            admin = try await !store.users().contains(where: { $0.has(.admin) })
        }
        let principal: UserAccount? = if let principal { principal } else { try await store.user(name: actor) }
        guard admin || principal != nil else { throw ArchiveError(.refused, "only a token's owner or an admin may revoke it") }
        let token = try await store.revokeToken(id: id, user: admin ? nil : principal?.name, at: Timestamp.iso(millis: Timestamp.nowMillis()))
        try await store.appendAudit(AuditDraft(actor: actor, action: "token.revoke", target: "user:\(token.user)", detail: ["token": String(id)]))
        return token
    }
}
