import Archive
import Foundation
import Logging
import PostgresNIO
import RecordkeeperCore

extension PostgresArchiveStore: PeopleStore {
    // MARK: Users

    public func saveUser(_ user: UserAccount) async throws {
        try await transaction("saving a user") { conn in
            try await conn.run("""
                INSERT INTO app_user (name, display_name, roles, created_at, custodian_email)
                VALUES (\(user.name), \(user.displayName), \(user.roles.map(\.rawValue).joined(separator: ",")), \(user.createdAt),
                        \(user.custodianEmail?.lowercased()))
                ON CONFLICT (lower(name)) DO UPDATE SET display_name = excluded.display_name, roles = excluded.roles,
                    custodian_email = excluded.custodian_email
                """, logger: self.logger)
        }
    }

    typealias UserRow = (String, String, String, String, String?)
    static let userColumns = "name, display_name, roles, created_at, custodian_email"

    static func decodeUser(_ r: UserRow) -> UserAccount {
        UserAccount(name: r.0, displayName: r.1, roles: r.2.split(separator: ",").compactMap { UserRole(rawValue: String($0)) },
                    createdAt: r.3, custodianEmail: r.4)
    }

    public func user(name: String) async throws -> UserAccount? {
        try await rows("reading a user", "SELECT \(unescaped: Self.userColumns) FROM app_user WHERE lower(name) = lower(\(name))",
                       as: UserRow.self).first.map(Self.decodeUser)
    }

    public func users() async throws -> [UserAccount] {
        // Ordered as SQLite's NOCASE orders: by the lower-case name.
        try await rows("listing users", "SELECT \(unescaped: Self.userColumns) FROM app_user ORDER BY lower(name)", as: UserRow.self)
            .map(Self.decodeUser)
    }

    // MARK: Custodian profiles

    static func fetchProfiles(_ conn: PostgresConnection, email: String?, logger: Logger) async throws -> [CustodianProfile] {
        let people = try await conn.all("""
            SELECT id, email, name, office FROM custodian WHERE \(email == nil) OR lower(email) = lower(\(email ?? "")) ORDER BY email
            """, as: (Int64, String, String?, String?).self, logger: logger)
        // Three statements whatever the number of custodians (capture reads every profile
        // for each chunk it stores): the people, then all their accounts and designations.
        let ids = people.map(\.0)
        var accounts: [Int64: [PlatformAccount]] = [:]
        for a in try await conn.all("""
            SELECT custodian_id, id, platform, address, normalized, official FROM custodian_account WHERE custodian_id = ANY(\(ids)) ORDER BY id
            """, as: (Int64, Int64, String, String, String, Bool).self, logger: logger) {
            var acc = PlatformAccount(id: a.1, platform: a.2, address: a.3, official: a.5)
            acc.normalized = a.4
            accounts[a.0, default: []].append(acc)
        }
        let emails = Dictionary(people.map { ($0.0, $0.1) }, uniquingKeysWith: { a, _ in a })
        var designations: [Int64: [StoredDesignation]] = [:]
        for d in try await conn.all("""
            SELECT custodian_id, id, role, capstone, starts, ends, created_at, created_by FROM role_designation
            WHERE custodian_id = ANY(\(ids)) ORDER BY starts, id
            """, as: (Int64, Int64, String, Bool, String, String?, String, String).self, logger: logger) {
            guard let starts = CivilDate(d.4) else { continue }
            designations[d.0, default: []].append(StoredDesignation(
                id: d.1, custodianEmail: emails[d.0] ?? "",
                designation: RoleDesignation(role: d.2, capstone: d.3, starts: starts, ends: d.5.flatMap { CivilDate($0) }),
                createdAt: d.6, createdBy: d.7))
        }
        let out = people.map { p in
            CustodianProfile(id: p.0, email: p.1, name: p.2, office: p.3, accounts: accounts[p.0] ?? [], designations: designations[p.0] ?? [])
        }
        return out
    }

    public func custodianProfiles() async throws -> [CustodianProfile] {
        try await transaction("reading custodians") { conn in try await Self.fetchProfiles(conn, email: nil, logger: self.logger) }
    }

    public func custodianProfile(email: String) async throws -> CustodianProfile? {
        try await transaction("reading a custodian") { conn in try await Self.fetchProfiles(conn, email: email, logger: self.logger).first }
    }
}

extension PostgresArchiveStore: AccessStore {
    public func setPasswordHash(user: String, hash: String) async throws {
        try await transaction("setting a password") { conn in
            let changed = try await conn.count("""
                WITH changed AS (UPDATE app_user SET password_hash = \(hash) WHERE lower(name) = lower(\(user)) RETURNING 1)
                SELECT count(*) FROM changed
                """, logger: self.logger)
            guard changed == 1 else { throw ArchiveError(.notFound, "no user named \(user)") }
        }
    }

    public func passwordHash(user: String) async throws -> String? {
        try await column("reading a password hash", "SELECT password_hash FROM app_user WHERE lower(name) = lower(\(user))", as: String?.self)
            .first ?? nil
    }

    typealias TokenRow = (Int64, String, String, String, String, String?, String?)
    static let tokenColumns = "id, user_name, label, prefix, created_at, last_used_at, revoked_at"

    static func decodeToken(_ r: TokenRow) -> APIToken {
        APIToken(id: r.0, user: r.1, label: r.2, prefix: r.3, createdAt: r.4, lastUsedAt: r.5, revokedAt: r.6)
    }

    public func createToken(_ t: NewAPIToken) async throws -> APIToken {
        try await transaction("creating an API token") { conn in
            guard try await conn.count("SELECT count(*) FROM app_user WHERE lower(name) = lower(\(t.user))", logger: self.logger) == 1 else {
                throw ArchiveError(.notFound, "no user named \(t.user)")
            }
            guard let row = try await conn.all("""
                INSERT INTO api_token (user_name, label, secret_hash, prefix, created_at)
                VALUES (\(t.user), \(t.label), \(t.secretHash), \(t.prefix), \(t.createdAt))
                RETURNING \(unescaped: Self.tokenColumns)
                """, as: TokenRow.self, logger: self.logger).first else { throw ArchiveError(.storage, "creating a token returned nothing") }
            return Self.decodeToken(row)
        }
    }

    public func tokens(user: String?) async throws -> [APIToken] {
        try await rows("listing API tokens", """
            SELECT \(unescaped: Self.tokenColumns) FROM api_token WHERE \(user == nil) OR lower(user_name) = lower(\(user ?? "")) ORDER BY id
            """, as: TokenRow.self).map(Self.decodeToken)
    }

    public func useToken(secretHash: String, at: String) async throws -> APIToken? {
        try await transaction("using an API token") { conn in
            guard let row = try await conn.all("""
                SELECT \(unescaped: Self.tokenColumns) FROM api_token WHERE secret_hash = \(secretHash) AND revoked_at IS NULL
                """, as: TokenRow.self, logger: self.logger).first else { return nil }
            var token = Self.decodeToken(row)
            // Once a minute is enough to tell an owner a token is in use.
            if token.lastUsedAt.map({ $0.prefix(16) != at.prefix(16) }) ?? true {
                try await conn.run("UPDATE api_token SET last_used_at = \(at) WHERE id = \(token.id)", logger: self.logger)
                token.lastUsedAt = at
            }
            return token
        }
    }

    public func revokeToken(id: Int64, user: String?, at: String) async throws -> APIToken {
        try await transaction("revoking an API token") { conn in
            guard let row = try await conn.all("SELECT \(unescaped: Self.tokenColumns) FROM api_token WHERE id = \(id)", as: TokenRow.self,
                                               logger: self.logger).first,
                  user.map({ $0.lowercased() == row.1.lowercased() }) ?? true else {
                throw ArchiveError(.notFound, "no API token \(id)")
            }
            let updated = try await conn.all("""
                UPDATE api_token SET revoked_at = coalesce(revoked_at, \(at)) WHERE id = \(id) RETURNING \(unescaped: Self.tokenColumns)
                """, as: TokenRow.self, logger: self.logger)
            return Self.decodeToken(updated[0])
        }
    }

    typealias LoginRow = (String, String, String, String, String)
    static let loginColumns = "kind, subject, user_name, created_at, created_by"

    static func decodeLogin(_ r: LoginRow) -> UserLogin {
        UserLogin(kind: UserLogin.Kind(rawValue: r.0) ?? .osAccount, subject: r.1, user: r.2, createdAt: r.3, createdBy: r.4)
    }

    public func linkLogin(_ link: UserLogin) async throws {
        try await transaction("linking a sign-in identity") { conn in
            guard let user = try await conn.column("SELECT name FROM app_user WHERE lower(name) = lower(\(link.user))", as: String.self,
                                                   logger: self.logger).first else {
                throw ArchiveError(.notFound, "no user named \(link.user)")
            }
            // Two instances linking the same identity at once: the primary key lets one in.
            try await conn.run("""
                INSERT INTO user_login (kind, subject, user_name, created_at, created_by)
                VALUES (\(link.kind.rawValue), \(link.subject), \(user), \(link.createdAt), \(link.createdBy)) ON CONFLICT DO NOTHING
                """, logger: self.logger)
            let existing = try await conn.column("SELECT user_name FROM user_login WHERE kind = \(link.kind.rawValue) AND subject = \(link.subject)",
                                                 as: String.self, logger: self.logger).first ?? user
            guard existing.lowercased() == user.lowercased() else {
                throw ArchiveError(.refused, "\(link.subject) already acts as \(existing); unlink it first")
            }
        }
    }

    public func unlinkLogin(kind: UserLogin.Kind, subject: String) async throws -> UserLogin? {
        try await transaction("unlinking a sign-in identity") { conn in
            try await conn.all("DELETE FROM user_login WHERE kind = \(kind.rawValue) AND subject = \(subject) RETURNING \(unescaped: Self.loginColumns)",
                               as: LoginRow.self, logger: self.logger).first.map(Self.decodeLogin)
        }
    }

    public func login(kind: UserLogin.Kind, subject: String) async throws -> UserLogin? {
        try await rows("reading a sign-in identity",
                       "SELECT \(unescaped: Self.loginColumns) FROM user_login WHERE kind = \(kind.rawValue) AND subject = \(subject)",
                       as: LoginRow.self).first.map(Self.decodeLogin)
    }

    public func logins(user: String?) async throws -> [UserLogin] {
        try await rows("listing sign-in identities", """
            SELECT \(unescaped: Self.loginColumns) FROM user_login WHERE \(user == nil) OR lower(user_name) = lower(\(user ?? ""))
            ORDER BY lower(user_name), kind, subject
            """, as: LoginRow.self).map(Self.decodeLogin)
    }
}
