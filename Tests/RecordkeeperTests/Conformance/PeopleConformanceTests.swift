import Archive
import Foundation
import RecordkeeperCore
import Testing

@Suite("PeopleStore and AccessStore conformance (every backend)")
struct PeopleConformanceTests {
    typealias Store = any PeopleStore & AccessStore & ConversationStore

    @Test(arguments: Backends.people)
    func usersAreOneWhateverTheCaseAndKeepRolesAndPasswordHashes(_ backend: Backend<Store>) async throws {
        let open = try await backend.open()
        defer { Task { await open.close() } }
        let s = open.store
        try await s.saveUser(UserAccount(name: "k.walsh", displayName: "Karen Walsh", roles: [.recordsOfficer, .auditor], createdAt: "2026-12-01T10:00:00Z"))
        try await s.saveUser(UserAccount(name: "Jane", displayName: "Jane Doe", roles: [.custodian], createdAt: "2026-12-01T10:05:00Z",
                                         custodianEmail: "Jane.Doe@Agency.example.gov"))
        let karen = try #require(try await s.user(name: "K.Walsh"))
        #expect(karen.displayName == "Karen Walsh" && karen.roles == [.recordsOfficer, .auditor] && karen.custodianEmail == nil)
        #expect(try await s.user(name: "jane")?.custodianEmail == "jane.doe@agency.example.gov")
        // Saving again (in another case) updates the one user.
        try await s.saveUser(UserAccount(name: "K.WALSH", displayName: "Karen M. Walsh", roles: [.admin], createdAt: "2026-12-02T00:00:00Z"))
        #expect(try await s.users().map(\.displayName) == ["Jane Doe", "Karen M. Walsh"])
        #expect(try await s.user(name: "k.walsh")?.roles == [.admin])
        #expect(try await s.user(name: "nobody") == nil)

        #expect(try await s.passwordHash(user: "k.walsh") == nil)
        try await s.setPasswordHash(user: "K.Walsh", hash: "$2b$12$abcdefghijklmnopqrstuv")
        #expect(try await s.passwordHash(user: "k.walsh") == "$2b$12$abcdefghijklmnopqrstuv")
        await #expect(throws: ArchiveError.self) { try await s.setPasswordHash(user: "nobody", hash: "x") }
        #expect(try await s.passwordHash(user: "nobody") == nil)
    }

    @Test(arguments: Backends.people)
    func apiTokensAreFoundByHashUntilRevoked(_ backend: Backend<Store>) async throws {
        let open = try await backend.open()
        defer { Task { await open.close() } }
        let s = open.store
        try await s.saveUser(UserAccount(name: "alice", displayName: "Alice", roles: [.recordsOfficer], createdAt: "2026-12-01T10:00:00Z"))
        try await s.saveUser(UserAccount(name: "bob", displayName: "Bob", roles: [.reviewer], createdAt: "2026-12-01T10:00:00Z"))
        let a = try await s.createToken(NewAPIToken(user: "alice", label: "nightly export", secretHash: "h-a", prefix: "rk_ab12", createdAt: "2026-12-01T11:00:00Z"))
        let b = try await s.createToken(NewAPIToken(user: "bob", label: "review", secretHash: "h-b", prefix: "rk_cd34", createdAt: "2026-12-01T11:01:00Z"))
        #expect(a.user == "alice" && a.label == "nightly export" && a.prefix == "rk_ab12" && a.lastUsedAt == nil && a.revokedAt == nil)
        await #expect(throws: ArchiveError.self) {
            try await s.createToken(NewAPIToken(user: "nobody", label: "x", secretHash: "h-x", prefix: "rk_x", createdAt: "2026-12-01T11:00:00Z"))
        }
        #expect(try await s.tokens(user: nil).map(\.id) == [a.id, b.id])
        #expect(try await s.tokens(user: "ALICE").map(\.id) == [a.id])

        let used = try #require(try await s.useToken(secretHash: "h-a", at: "2026-12-01T12:00:05Z"))
        #expect(used.id == a.id && used.lastUsedAt == "2026-12-01T12:00:05Z")
        // Within the same minute the last use is not written again.
        #expect(try await s.useToken(secretHash: "h-a", at: "2026-12-01T12:00:40Z")?.lastUsedAt == "2026-12-01T12:00:05Z")
        #expect(try await s.useToken(secretHash: "h-a", at: "2026-12-01T12:01:00Z")?.lastUsedAt == "2026-12-01T12:01:00Z")
        #expect(try await s.useToken(secretHash: "unknown", at: "2026-12-01T12:00:00Z") == nil)

        // A user can revoke only their own tokens; an admin (no user) any.
        await #expect(throws: ArchiveError.self) { try await s.revokeToken(id: a.id, user: "bob", at: "2026-12-01T13:00:00Z") }
        let revoked = try await s.revokeToken(id: a.id, user: "Alice", at: "2026-12-01T13:00:00Z")
        #expect(revoked.revokedAt == "2026-12-01T13:00:00Z")
        #expect(try await s.revokeToken(id: a.id, user: nil, at: "2026-12-01T14:00:00Z").revokedAt == "2026-12-01T13:00:00Z") // kept
        #expect(try await s.useToken(secretHash: "h-a", at: "2026-12-01T13:30:00Z") == nil)
        await #expect(throws: ArchiveError.self) { try await s.revokeToken(id: 999_999, user: nil, at: "2026-12-01T13:00:00Z") }
    }

    /// An OS account or a single sign-on subject acts as one user: linking it to a second user is
    /// refused, linking it again to the same user (in any case) changes nothing, unlinking frees it.
    @Test(arguments: Backends.people)
    func aSignInIdentityActsAsOneUserOnly(_ backend: Backend<Store>) async throws {
        let open = try await backend.open()
        defer { Task { await open.close() } }
        let s = open.store
        try await s.saveUser(UserAccount(name: "alice", displayName: "Alice", roles: [.admin], createdAt: "2026-12-01T10:00:00Z"))
        try await s.saveUser(UserAccount(name: "bob", displayName: "Bob", roles: [.recordsOfficer], createdAt: "2026-12-01T10:00:00Z"))
        try await s.linkLogin(UserLogin(kind: .osAccount, subject: "asmith", user: "Alice", createdAt: "2026-12-01T11:00:00Z", createdBy: "os:root"))
        try await s.linkLogin(UserLogin(kind: .openIDConnect, subject: "https://idp.example.gov|8f14e45f", user: "bob", createdAt: "2026-12-01T11:01:00Z",
                                        createdBy: "sso"))
        let link = try #require(try await s.login(kind: .osAccount, subject: "asmith"))
        #expect(link.user == "alice" && link.createdBy == "os:root" && link.createdAt == "2026-12-01T11:00:00Z")
        // The kinds are apart: the same subject as an OIDC subject is nobody.
        #expect(try await s.login(kind: .openIDConnect, subject: "asmith") == nil)
        try await s.linkLogin(UserLogin(kind: .osAccount, subject: "asmith", user: "ALICE", createdAt: "2026-12-02T00:00:00Z", createdBy: "os:root"))
        await #expect(throws: ArchiveError.self) {
            try await s.linkLogin(UserLogin(kind: .osAccount, subject: "asmith", user: "bob", createdAt: "2026-12-02T00:00:00Z", createdBy: "os:root"))
        }
        await #expect(throws: ArchiveError.self) {
            try await s.linkLogin(UserLogin(kind: .osAccount, subject: "nobody", user: "mallory", createdAt: "2026-12-02T00:00:00Z", createdBy: "os:root"))
        }
        #expect(try await s.login(kind: .osAccount, subject: "asmith")?.user == "alice")
        #expect(try await s.logins(user: nil).map(\.subject) == ["asmith", "https://idp.example.gov|8f14e45f"])
        #expect(try await s.logins(user: "BOB").map(\.kind) == [.openIDConnect])
        #expect(try await s.unlinkLogin(kind: .osAccount, subject: "asmith")?.user == "alice")
        #expect(try await s.unlinkLogin(kind: .osAccount, subject: "asmith") == nil)
        try await s.linkLogin(UserLogin(kind: .osAccount, subject: "asmith", user: "bob", createdAt: "2026-12-03T00:00:00Z", createdBy: "alice"))
        #expect(try await s.login(kind: .osAccount, subject: "asmith")?.user == "bob")
    }

    @Test(arguments: Backends.people)
    func custodianProfilesListEveryCustodian(_ backend: Backend<Store>) async throws {
        let open = try await backend.open()
        defer { Task { await open.close() } }
        let s = open.store
        #expect(try await s.custodianProfiles().isEmpty)
        _ = try await s.saveCustodian(email: "Zed@agency.example.gov", timeZone: nil)
        _ = try await s.saveCustodian(email: "amy@agency.example.gov", timeZone: "America/Chicago")
        let all = try await s.custodianProfiles()
        #expect(all.map(\.email) == ["amy@agency.example.gov", "zed@agency.example.gov"])
        #expect(all.allSatisfy { $0.name == nil && $0.office == nil && $0.accounts.isEmpty && $0.designations.isEmpty })
        #expect(try await s.custodianProfile(email: "ZED@agency.example.gov")?.email == "zed@agency.example.gov")
        #expect(try await s.custodianProfile(email: "nobody@agency.example.gov") == nil)
    }
}
