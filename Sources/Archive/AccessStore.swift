import Foundation
import RecordkeeperCore

/// Sign-in material: password hashes and API tokens. Hashes only ever pass through here; no
/// secret is stored in the clear.
public protocol AccessStore: Sendable {
    /// Stores a password hash (bcrypt, computed by the caller) for an existing user.
    func setPasswordHash(user: String, hash: String) async throws
    /// The stored password hash, or nil when the user has none (or does not exist).
    func passwordHash(user: String) async throws -> String?

    func createToken(_ token: NewAPIToken) async throws -> APIToken
    func tokens(user: String?) async throws -> [APIToken]
    /// The unrevoked token with this secret hash; records when it was last used.
    func useToken(secretHash: String, at: String) async throws -> APIToken?
    /// Revokes a token; `user` restricts it to that user's tokens.
    func revokeToken(id: Int64, user: String?, at: String) async throws -> APIToken

    // MARK: Sign-in identities: operating-system accounts for the CLI, OpenID Connect subjects
    /// Links a sign-in identity to an existing user. Refused when it is linked to another user
    /// (an identity acts as one archive user only); linking it again to the same user is a no-op.
    func linkLogin(_ link: UserLogin) async throws
    /// Removes a link and returns it (nil when there was none).
    func unlinkLogin(kind: UserLogin.Kind, subject: String) async throws -> UserLogin?
    func login(kind: UserLogin.Kind, subject: String) async throws -> UserLogin?
    /// Every link, or one user's.
    func logins(user: String?) async throws -> [UserLogin]
}

/// A sign-in identity that acts as an archive user: an operating-system account (`os`: the
/// login name of the account a CLI process runs under) an admin linked, or an OpenID Connect
/// subject (`oidc`: `ISSUER|SUB`) bound at its first single sign-on.
public struct UserLogin: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Hashable, Codable, CaseIterable {
        case osAccount = "os"
        case openIDConnect = "oidc"
    }
    public var kind: Kind
    public var subject: String
    public var user: String
    public var createdAt: String
    public var createdBy: String
    public init(kind: Kind, subject: String, user: String, createdAt: String, createdBy: String) {
        self.kind = kind
        self.subject = subject
        self.user = user
        self.createdAt = createdAt
        self.createdBy = createdBy
    }
}

public struct NewAPIToken: Sendable, Hashable {
    public var user: String
    public var label: String
    /// SHA-256 (hex) of the secret; the secret itself is shown once and never stored.
    public var secretHash: String
    /// The first characters of the secret, so its owner can tell tokens apart.
    public var prefix: String
    public var createdAt: String
    public init(user: String, label: String, secretHash: String, prefix: String, createdAt: String) {
        self.user = user
        self.label = label
        self.secretHash = secretHash
        self.prefix = prefix
        self.createdAt = createdAt
    }
}

public struct APIToken: Sendable, Hashable, Codable {
    public var id: Int64
    public var user: String
    public var label: String
    public var prefix: String
    public var createdAt: String
    public var lastUsedAt: String?
    public var revokedAt: String?
    public init(id: Int64, user: String, label: String, prefix: String, createdAt: String, lastUsedAt: String?, revokedAt: String?) {
        self.id = id
        self.user = user
        self.label = label
        self.prefix = prefix
        self.createdAt = createdAt
        self.lastUsedAt = lastUsedAt
        self.revokedAt = revokedAt
    }
}

/// What the audit viewer asks for. Every field is optional; entries come newest first.
public struct AuditFilter: Sendable, Hashable {
    public var actor: String?
    /// An action, or a prefix of one ending in "." (`hold.` matches `hold.create`, `hold.release`).
    public var action: String?
    /// An exact target (`message:42`, `hold:3`).
    public var target: String?
    /// Inclusive first day (`YYYY-MM-DD`, UTC).
    public var from: String?
    /// Inclusive last day (`YYYY-MM-DD`, UTC).
    public var to: String?
    /// Only entries older than this sequence number (for paging).
    public var beforeSequence: Int64?
    public var limit: Int
    public init(actor: String? = nil, action: String? = nil, target: String? = nil, from: String? = nil, to: String? = nil,
                beforeSequence: Int64? = nil, limit: Int = 100) {
        self.actor = actor
        self.action = action
        self.target = target
        self.from = from
        self.to = to
        self.beforeSequence = beforeSequence
        self.limit = limit
    }
}
