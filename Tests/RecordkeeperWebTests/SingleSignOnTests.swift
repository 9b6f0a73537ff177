import Archive
import Foundation
import JWTKit
import Recordkeeper
import RecordkeeperCore
@testable import RecordkeeperWeb
import Testing

/// Single sign-on's own checks (issue 16). The whole flow against a real provider in the real
/// Chromium is `scripts/sso_test.py`; here, what a provider cannot be made to do on demand: ID
/// tokens for another client, from another issuer, without this sign-in's nonce, expired, or
/// signed by a key the provider does not publish; and settings an operator gets wrong.
@Suite("Single sign-on (OpenID Connect)")
struct SingleSignOnTests {
    static let issuer = "https://login.agency.example.gov/realms/staff"

    struct Claims: JWTPayload {
        var iss: String
        var sub: String
        var aud: [String]
        var exp: Int
        var iat: Int
        var nonce: String?
        var preferred_username: String?
        var email: String?
        var name: String?
        var groups: [String]?
        func verify(using _: some JWTAlgorithm) async throws {}
    }

    static func claims(aud: [String] = ["recordkeeper"], iss: String = issuer, nonce: String? = "n-1", expiresIn: Int = 300,
                       issuedAgo: Int = 0) -> Claims {
        let now = Int(Date().timeIntervalSince1970)
        return Claims(iss: iss, sub: "8f14e45f", aud: aud, exp: now + expiresIn, iat: now - issuedAgo, nonce: nonce, preferred_username: "o.chen",
                      email: "O.Chen@agency.example.gov", name: "Olivia Chen", groups: ["rk-records-officers", "staff"])
    }

    static let configuration = OIDCConfiguration(issuer: issuer, clientID: "recordkeeper", clientSecret: nil,
                                                 redirectURL: "https://records.agency.example.gov/auth/oidc/callback",
                                                 roles: ["rk-records-officers": [.recordsOfficer], "rk-custodians": [.custodian]])

    @Test func anIDTokenSignsSomeoneOnOnlyWhenEveryCheckPasses() async throws {
        let provider = JWTKeyCollection()
        let published = ES256PrivateKey()
        await provider.add(ecdsa: published, kid: "k1")
        let client = OIDCClient(configuration: Self.configuration)
        // What the client knows of the provider: its published (public) key.
        let keys = JWTKeyCollection()
        await keys.add(ecdsa: published.publicKey, kid: "k1")

        let good = try await client.identity(from: try await provider.sign(Self.claims(), kid: "k1"), nonce: "n-1", keys: keys)
        #expect(good.subject == "8f14e45f" && good.username == "o.chen" && good.name == "Olivia Chen" && good.groups == ["rk-records-officers", "staff"])
        #expect(good.linkSubject == Self.issuer + "|8f14e45f")

        let forger = JWTKeyCollection()
        await forger.add(ecdsa: ES256PrivateKey(), kid: "k1")
        let cases: [(String, String, String)] = [
            ("another client's token", try await provider.sign(Self.claims(aud: ["someone-else"]), kid: "k1"), "did not check out"),
            ("a token also for an untrusted audience", try await provider.sign(Self.claims(aud: ["recordkeeper", "evil"]), kid: "k1"), "did not check out"),
            ("another issuer's token", try await provider.sign(Self.claims(iss: "https://idp.evil.example"), kid: "k1"), "issued by https://idp.evil.example"),
            ("another sign-in's nonce", try await provider.sign(Self.claims(nonce: "n-2"), kid: "k1"), "nonce"),
            ("no nonce", try await provider.sign(Self.claims(nonce: nil), kid: "k1"), "nonce"),
            ("an expired token", try await provider.sign(Self.claims(expiresIn: -10, issuedAgo: 700), kid: "k1"), "did not check out"),
            ("a token issued an hour ahead", try await provider.sign(Self.claims(expiresIn: 4000, issuedAgo: -3600), kid: "k1"), "did not check out"),
            ("a token signed with a key the provider does not publish", try await forger.sign(Self.claims(), kid: "k1"), "did not check out"),
        ]
        for (what, token, reason) in cases {
            do {
                _ = try await client.identity(from: token, nonce: "n-1", keys: keys)
                Issue.record("\(what) signed someone on")
            } catch let f as OIDCClient.Failure {
                #expect(f.description.contains(reason), "\(what): \(f)")
            }
        }
        // "alg": "none", with the claims of a good token.
        let parts = try await provider.sign(Self.claims(), kid: "k1").split(separator: ".")
        let none = Data(#"{"alg":"none","typ":"JWT","kid":"k1"}"#.utf8).base64EncodedString().replacingOccurrences(of: "=", with: "")
        await #expect(throws: OIDCClient.Failure.self) { _ = try await client.identity(from: none + "." + parts[1] + ".", nonce: "n-1", keys: keys) }
    }

    @Test func theProviderSaysWhoAndTheArchiveSaysWhatTheirGroupsMayDo() async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let handle = try await DataDirectory(url: tmp.url).create(actor: "test")
        let store = handle.store
        let accounts = SingleSignOnAccounts(store: store, configuration: Self.configuration)
        func identity(_ sub: String, _ name: String?, groups: [String], email: String? = nil) -> SignedOnIdentity {
            SignedOnIdentity(issuer: Self.issuer, subject: sub, username: name, email: email, name: nil, groups: groups)
        }
        // First sign-on: an account with the mapped role, bound to the subject.
        let chen = try await accounts.account(for: identity("s-1", "o.chen", groups: ["rk-records-officers", "staff"]))
        #expect(chen.roles == [.recordsOfficer] && chen.custodianEmail == nil)
        #expect(try await store.login(kind: .openIDConnect, subject: Self.issuer + "|s-1")?.user == "o.chen")
        // Bound by subject, not name: the same subject under a new name is still o.chen.
        #expect(try await accounts.account(for: identity("s-1", "olivia", groups: ["rk-records-officers"])).name == "o.chen")
        // Groups that now grant the custodian role: roles follow, with the e-mail the role needs.
        let moved = try await accounts.account(for: identity("s-1", "o.chen", groups: ["rk-custodians"], email: "O.Chen@Agency.example.gov"))
        #expect(moved.roles == [.custodian] && moved.custodianEmail == "o.chen@agency.example.gov")
        #expect(try await store.user(name: "o.chen")?.roles == [.custodian])
        await #expect(throws: ArchiveError.self) { _ = try await accounts.account(for: identity("s-1", "o.chen", groups: ["rk-custodians"])) }
        // No mapped group: refused, and the account keeps what it had.
        await #expect(throws: ArchiveError.self) { _ = try await accounts.account(for: identity("s-1", "o.chen", groups: ["staff"])) }
        #expect(try await store.user(name: "o.chen")?.roles == [.custodian])
        // Another subject claiming o.chen's name is someone else, and is refused.
        do {
            _ = try await accounts.account(for: identity("s-2", "o.chen", groups: ["rk-records-officers"]))
            Issue.record("a second subject took over o.chen")
        } catch let e as ArchiveError {
            #expect(e.code == .refused && e.message.contains("user link o.chen --sso '\(Self.issuer)|s-2'"), "\(e.message)")
        }
        await #expect(throws: ArchiveError.self) { _ = try await accounts.account(for: identity("s-3", nil, groups: ["rk-records-officers"])) }
        await #expect(throws: ArchiveError.self) { _ = try await accounts.account(for: identity("s-3", "two words", groups: ["rk-records-officers"])) }
        let audit = try await store.auditEntries(target: "user:o.chen", limit: 10)
        #expect(audit.map(\.action) == ["user.add", "user.roles"] && audit.allSatisfy { $0.actor == SingleSignOnAccounts.actor })
    }

    @Test func settingsAnOperatorGetsWrongAreRefusedWhenLoaded() throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let secret = tmp.url.appendingPathComponent("secret")
        try Data("s3cr3t\n".utf8).write(to: secret)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: secret.path)
        func load(_ json: String) throws -> OIDCConfiguration {
            let file = tmp.url.appendingPathComponent("oidc-\(UUID().uuidString).json")
            try Data(json.utf8).write(to: file)
            return try OIDCConfiguration.load(path: file.path, environment: [:])
        }
        let good = try load("""
            {"issuer": "\(Self.issuer)", "client_id": "recordkeeper", "client_secret_file": "\(secret.path)",
             "redirect_url": "https://records.agency.example.gov/auth/oidc/callback", "roles": {"rk-ro": ["records-officer", "admin"], "rk-foia": "reviewer"},
             "roles_claim": "roles"}
            """)
        #expect(good.clientSecret == "s3cr3t" && good.roles["rk-ro"] == [.recordsOfficer, .admin] && good.roles["rk-foia"] == [.reviewer])
        #expect(good.rolesClaim == "roles" && good.usernameClaim == "preferred_username" && good.scopes == ["openid", "profile", "email"])
        let base = #""client_id": "rk", "roles": {"g": ["auditor"]}"#
        let wrong: [(String, String)] = [
            (#"{"issuer": "https://idp.example", "redirect_url": "https://rk.example/auth/oidc/callback", "client_id": "rk", "roles": {"g": ["auditor"]}, "clientid": "x"}"#, "unknown keys clientid"),
            (#"{"issuer": "http://idp.example", "redirect_url": "https://rk.example/auth/oidc/callback", \#(base)}"#, "issuer must be https"),
            (#"{"issuer": "https://idp.example", "redirect_url": "https://rk.example/callback", \#(base)}"#, "must end in /auth/oidc/callback"),
            (#"{"issuer": "https://idp.example", "redirect_url": "https://rk.example/auth/oidc/callback", "client_id": "rk", "roles": {"g": ["superuser"]}}"#, "superuser is not a role"),
            (#"{"issuer": "https://idp.example", "redirect_url": "https://rk.example/auth/oidc/callback", "client_id": "rk"}"#, "roles must map"),
            (#"{"issuer": "https://idp.example", "redirect_url": "https://rk.example/auth/oidc/callback", \#(base), "scopes": ["profile"]}"#, "includes openid"),
        ]
        for (json, message) in wrong {
            #expect(throws: ArchiveError.self) { _ = try load(json) }
            do { _ = try load(json) } catch let e as ArchiveError { #expect(e.message.contains(message), "\(e.message)") }
        }
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: secret.path)
        do {
            _ = try load(#"{"issuer": "https://idp.example", "redirect_url": "https://rk.example/auth/oidc/callback", \#(base), "client_secret_file": "\#(secret.path)"}"#)
            Issue.record("a client secret others can read was accepted")
        } catch let e as ArchiveError { #expect(e.message.contains("chmod 600")) }
        // On this machine, plain http is allowed (a provider under test).
        #expect(try load(#"{"issuer": "http://127.0.0.1:9000/openid", "redirect_url": "http://127.0.0.1:8080/auth/oidc/callback", \#(base)}"#).clientSecret == nil)
    }
}
