import Archive
import AsyncHTTPClient
import Crypto
import Foundation
import JWTKit
import NIOCore
import NIOHTTP1
import Recordkeeper
import RecordkeeperCore

/// Single sign-on through the agency's OpenID Connect provider (issue 16): the authorization
/// code flow with PKCE (RFC 7636, S256), the ID token checked with JWTKit against the provider's
/// published keys (signature, issuer, audience, expiry, nonce), and roles from a claim.
///
/// Settings are a JSON file (`serve --oidc-config`, `RECORDKEEPER_OIDC_CONFIG`):
///
///     {"issuer": "https://login.agency.example.gov/realms/staff",
///      "client_id": "recordkeeper",
///      "client_secret_file": "/etc/recordkeeper/oidc-client-secret",
///      "redirect_url": "https://records.agency.example.gov/auth/oidc/callback",
///      "roles": {"rk-records-officers": ["records-officer"], "rk-foia": ["reviewer"], "rk-admins": ["admin"]}}
///
/// and optionally `username_claim` (default `preferred_username`), `roles_claim` (default
/// `groups`), `scopes` (default `openid profile email`) and `button_label`. Without a client
/// secret the client is public and PKCE alone protects the code.
public struct OIDCConfiguration: Sendable, Equatable {
    public static let environmentVariable = "RECORDKEEPER_OIDC_CONFIG"
    public static let secretVariable = "RECORDKEEPER_OIDC_CLIENT_SECRET"
    public static let callbackPath = "/auth/oidc/callback"
    static let keys: Set<String> = ["issuer", "client_id", "client_secret_file", "redirect_url", "roles", "username_claim", "roles_claim",
                                    "scopes", "button_label"]

    public var issuer: String
    public var clientID: String
    public var clientSecret: String?
    public var redirectURL: String
    /// A value of the roles claim → the archive roles it grants.
    public var roles: [String: [UserRole]]
    public var usernameClaim = "preferred_username"
    public var rolesClaim = "groups"
    public var scopes = ["openid", "profile", "email"]
    public var buttonLabel = "Sign in with single sign-on"

    public init(issuer: String, clientID: String, clientSecret: String?, redirectURL: String, roles: [String: [UserRole]]) {
        self.issuer = issuer
        self.clientID = clientID
        self.clientSecret = clientSecret
        self.redirectURL = redirectURL
        self.roles = roles
    }

    public static func load(path: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> OIDCConfiguration {
        let url = URL(fileURLWithPath: (path as NSString).expandingTildeInPath)
        func invalid(_ why: String) -> ArchiveError { ArchiveError(.invalid, "the single sign-on settings \(url.path): \(why) (docs/operations/sign-in.md)") }
        guard let data = try? Data(contentsOf: url) else { throw invalid("cannot be read") }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { throw invalid("not a JSON object") }
        let unknown = Set(object.keys).subtracting(keys).sorted()
        guard unknown.isEmpty else { throw invalid("unknown keys \(unknown.joined(separator: ", ")) (known: \(keys.sorted().joined(separator: ", ")))") }
        func string(_ key: String) throws -> String? {
            guard let value = object[key] else { return nil }
            guard let text = value as? String, !text.trimmingCharacters(in: .whitespaces).isEmpty else { throw invalid("\(key) must be a non-empty string") }
            return text
        }
        guard let issuer = try string("issuer"), let clientID = try string("client_id"), let redirect = try string("redirect_url") else {
            throw invalid("issuer, client_id and redirect_url are required")
        }
        guard let roleObject = object["roles"] as? [String: Any], !roleObject.isEmpty else {
            throw invalid("roles must map values of the roles claim to archive roles, e.g. {\"rk-records-officers\": [\"records-officer\"]}")
        }
        var roles: [String: [UserRole]] = [:]
        for (group, value) in roleObject {
            let names = (value as? [String]) ?? (value as? String).map { [$0] }
            guard let names, !names.isEmpty else { throw invalid("roles[\"\(group)\"] must be a role or a list of roles") }
            roles[group] = try names.map { name in
                guard let role = UserRole(rawValue: name) else {
                    throw invalid("roles[\"\(group)\"]: \(name) is not a role (\(UserRole.allCases.map(\.rawValue).joined(separator: ", ")))")
                }
                return role
            }
        }
        var secret = environment[secretVariable].flatMap { $0.isEmpty ? nil : $0 }
        if let file = try string("client_secret_file") {
            let secretURL = URL(fileURLWithPath: (file as NSString).expandingTildeInPath)
            let text: String?
            do { text = try KeyFile.readPrivateText(secretURL) } catch let f as KeyFile.Failure {
                throw f.archiveError("the single sign-on client secret (client_secret_file)", at: secretURL, shape: "the secret the provider gave")
            }
            guard let text, !text.isEmpty else { throw invalid("client_secret_file \(secretURL.path) cannot be read, or is empty") }
            secret = text
        }
        var c = OIDCConfiguration(issuer: issuer, clientID: clientID, clientSecret: secret, redirectURL: redirect, roles: roles)
        if let v = try string("username_claim") { c.usernameClaim = v }
        if let v = try string("roles_claim") { c.rolesClaim = v }
        if let v = try string("button_label") { c.buttonLabel = v }
        if let v = object["scopes"] {
            guard let list = v as? [String], list.contains("openid") else { throw invalid("scopes must be a list that includes openid") }
            c.scopes = list
        }
        try c.validate()
        return c
    }

    /// An issuer or redirect is https, except on this machine (a provider under test).
    func validate() throws {
        for (key, text) in [("issuer", issuer), ("redirect_url", redirectURL)] {
            guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), let host = url.host, url.query == nil, url.fragment == nil else {
                throw ArchiveError(.invalid, "single sign-on: \(key) \(text) is not an absolute URL")
            }
            guard scheme == "https" || (scheme == "http" && ["127.0.0.1", "::1", "localhost"].contains(host)) else {
                throw ArchiveError(.invalid, "single sign-on: \(key) must be https (it carries sign-in codes), except on this machine")
            }
        }
        guard URL(string: redirectURL)?.path == Self.callbackPath else {
            throw ArchiveError(.invalid, "single sign-on: redirect_url must end in \(Self.callbackPath), the address this server answers on")
        }
    }
}

/// Who the provider says signed in, once its ID token checked out.
public struct SignedOnIdentity: Sendable, Hashable {
    public var issuer: String
    public var subject: String
    public var username: String?
    public var email: String?
    public var name: String?
    /// The values of the roles claim.
    public var groups: [String]
    /// How the archive knows this identity: `ISSUER|SUB` (`user_login`, kind `oidc`).
    public var linkSubject: String { issuer + "|" + subject }
}

/// An ID token's claims: the registered ones JWTKit checks, and every other claim kept by name
/// (which claim holds the user name and the roles is the operator's setting).
struct OIDCIDToken: JWTIdentityToken {
    var iss: IssuerClaim
    var sub: SubjectClaim
    var aud: AudienceClaim
    var exp: ExpirationClaim
    var iat: IssuedAtClaim
    var nonce: String?
    var claims: [String: ClaimValue]

    var audience: AudienceClaim { aud }

    enum ClaimValue: Codable, Sendable, Hashable {
        case string(String)
        case strings([String])
        case other

        init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let s = try? c.decode(String.self) { self = .string(s) } else if let a = try? c.decode([String].self) { self = .strings(a) } else { self = .other }
        }
        func encode(to encoder: any Encoder) throws {
            var c = encoder.singleValueContainer()
            switch self {
            case .string(let s): try c.encode(s)
            case .strings(let a): try c.encode(a)
            case .other: try c.encodeNil()
            }
        }
        var strings: [String] {
            switch self {
            case .string(let s): return [s]
            case .strings(let a): return a
            case .other: return []
            }
        }
    }

    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        iss = try c.decode(IssuerClaim.self, forKey: Key(stringValue: "iss"))
        sub = try c.decode(SubjectClaim.self, forKey: Key(stringValue: "sub"))
        aud = try c.decode(AudienceClaim.self, forKey: Key(stringValue: "aud"))
        exp = try c.decode(ExpirationClaim.self, forKey: Key(stringValue: "exp"))
        iat = try c.decode(IssuedAtClaim.self, forKey: Key(stringValue: "iat"))
        nonce = try c.decodeIfPresent(String.self, forKey: Key(stringValue: "nonce"))
        var all: [String: ClaimValue] = [:]
        for key in c.allKeys { all[key.stringValue] = try c.decode(ClaimValue.self, forKey: key) }
        claims = all
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        for (k, v) in claims { try c.encode(v, forKey: Key(stringValue: k)) }
    }

    func verify(using _: some JWTAlgorithm) async throws {
        try exp.verifyNotExpired()
        // Issued more than five minutes in the future: a clock far off, or a forged time.
        guard iat.value.timeIntervalSinceNow < 300 else {
            throw JWTError.claimVerificationFailure(failedClaim: iat, reason: "issued in the future")
        }
    }
}

/// Talks to the provider: its discovery document and keys (cached), the authorization request,
/// the code exchange and the ID token's checks.
public actor OIDCClient {
    public let configuration: OIDCConfiguration
    let http: HTTPClient

    struct Metadata: Decodable, Sendable {
        var issuer: String
        var authorization_endpoint: String
        var token_endpoint: String
        var jwks_uri: String
        var code_challenge_methods_supported: [String]?
    }

    private var metadata: (Metadata, Date)?
    private var keys: (JWTKeyCollection, Date)?
    static let cacheLife: TimeInterval = 3600

    public init(configuration: OIDCConfiguration, http: HTTPClient = .shared) {
        self.configuration = configuration
        self.http = http
    }

    public enum Failure: Error, Sendable, CustomStringConvertible {
        /// The provider could not be reached or answered nonsense (the operator's problem).
        case provider(String)
        /// The answer did not prove who signed in (a stale, replayed or forged sign-in).
        case rejected(String)
        public var description: String {
            switch self {
            case .provider(let s), .rejected(let s): return s
            }
        }
    }

    func discovery() async throws -> Metadata {
        if let (m, at) = metadata, Date().timeIntervalSince(at) < Self.cacheLife { return m }
        let base = configuration.issuer.hasSuffix("/") ? String(configuration.issuer.dropLast()) : configuration.issuer
        let body = try await get(base + "/.well-known/openid-configuration", what: "the provider's discovery document")
        guard let m = try? JSONDecoder().decode(Metadata.self, from: body) else {
            throw Failure.provider("the provider's discovery document lacks authorization_endpoint, token_endpoint or jwks_uri")
        }
        // OpenID Connect Discovery 1.0 §4.3: the document's issuer is exactly the one configured.
        guard m.issuer == configuration.issuer else {
            throw Failure.provider("the provider calls itself \(m.issuer), not \(configuration.issuer) as configured")
        }
        if let methods = m.code_challenge_methods_supported, !methods.contains("S256") {
            throw Failure.provider("the provider does not support PKCE with S256")
        }
        metadata = (m, Date())
        return m
    }

    func keyCollection(refresh: Bool) async throws -> JWTKeyCollection {
        if !refresh, let (k, at) = keys, Date().timeIntervalSince(at) < Self.cacheLife { return k }
        let body = try await get(try await discovery().jwks_uri, what: "the provider's signing keys")
        let collection = JWTKeyCollection()
        do { try await collection.add(jwksJSON: String(decoding: body, as: UTF8.self)) } catch {
            throw Failure.provider("the provider's signing keys could not be read: \(error)")
        }
        keys = (collection, Date())
        return collection
    }

    /// A new sign-in: where to send the browser, and what to keep until it comes back.
    public func begin(next: String?, nowMillis: Int64) async throws -> (url: String, state: String, pending: PendingSignIn) {
        let m = try await discovery()
        let state = Self.randomURLSafe(bytes: 32), nonce = Self.randomURLSafe(bytes: 32), verifier = Self.randomURLSafe(bytes: 32)
        let challenge = Self.base64URL(Data(SHA256.hash(data: Data(verifier.utf8))))
        let query = [
            ("response_type", "code"), ("client_id", configuration.clientID), ("redirect_uri", configuration.redirectURL),
            ("scope", configuration.scopes.joined(separator: " ")), ("state", state), ("nonce", nonce),
            ("code_challenge", challenge), ("code_challenge_method", "S256"),
        ].map { Self.formEncode($0.0) + "=" + Self.formEncode($0.1) }.joined(separator: "&")
        guard let endpoint = URL(string: m.authorization_endpoint), endpoint.fragment == nil else {
            throw Failure.provider("the provider's authorization_endpoint is not a URL")
        }
        let url = m.authorization_endpoint + (endpoint.query == nil ? "?" : "&") + query
        return (url, state, PendingSignIn(stateHash: Secrets.sha256Hex(state), verifier: verifier, nonce: nonce, next: next, createdMillis: nowMillis))
    }

    /// Exchanges the code (with the PKCE verifier) and checks the ID token.
    public func finish(code: String, pending: PendingSignIn) async throws -> SignedOnIdentity {
        let m = try await discovery()
        let form = [("grant_type", "authorization_code"), ("code", code), ("redirect_uri", configuration.redirectURL),
                    ("code_verifier", pending.verifier), ("client_id", configuration.clientID)]
        var request = HTTPClientRequest(url: m.token_endpoint)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.headers.add(name: "Accept", value: "application/json")
        if let secret = configuration.clientSecret {
            // client_secret_basic (RFC 6749 §2.3.1): each part form-encoded, then base64.
            let basic = Data((Self.formEncode(configuration.clientID) + ":" + Self.formEncode(secret)).utf8).base64EncodedString()
            request.headers.add(name: "Authorization", value: "Basic " + basic)
        }
        request.body = .bytes(ByteBuffer(string: form.map { Self.formEncode($0.0) + "=" + Self.formEncode($0.1) }.joined(separator: "&")))
        let response: HTTPClientResponse
        do { response = try await http.execute(request, timeout: .seconds(20)) } catch {
            throw Failure.provider("the provider's token endpoint could not be reached: \(error)")
        }
        let body = Data(try await response.body.collect(upTo: 1 << 20).readableBytesView)
        struct TokenResponse: Decodable { var id_token: String?; var error: String?; var error_description: String? }
        let answer = try? JSONDecoder().decode(TokenResponse.self, from: body)
        guard response.status == .ok, let idToken = answer?.id_token else {
            let why = [answer?.error, answer?.error_description].compactMap { $0 }.joined(separator: ": ")
            throw Failure.rejected("the provider did not exchange the code (\(response.status.code)\(why.isEmpty ? "" : ", " + why))")
        }
        do {
            return try await identity(from: idToken, nonce: pending.nonce, keys: keyCollection(refresh: false))
        } catch OIDCClient.Failure.rejected(let why) where why.hasPrefix(Self.signatureFailure) {
            // The provider may have rotated its keys since they were fetched: once more, afresh.
            return try await identity(from: idToken, nonce: pending.nonce, keys: keyCollection(refresh: true))
        }
    }

    static let signatureFailure = "the ID token did not check out"

    /// The ID token's checks: signature by one of the provider's keys (JWTKit), audience (this
    /// client, and no untrusted other), expiry and issue time, issuer, and this sign-in's nonce.
    func identity(from idToken: String, nonce expected: String, keys: JWTKeyCollection) async throws -> SignedOnIdentity {
        let token: OIDCIDToken
        do { token = try await keys.verify(idToken, as: OIDCIDToken.self, expectedAudience: configuration.clientID) } catch {
            throw Failure.rejected("\(Self.signatureFailure): \(error)")
        }
        guard token.iss.value == configuration.issuer else { throw Failure.rejected("the ID token was issued by \(token.iss.value), not \(configuration.issuer)") }
        guard let nonce = token.nonce, Secrets.equal(nonce, expected) else { throw Failure.rejected("the ID token does not carry this sign-in's nonce") }
        func first(_ claim: String) -> String? { token.claims[claim]?.strings.first.flatMap { $0.isEmpty ? nil : $0 } }
        return SignedOnIdentity(issuer: token.iss.value, subject: token.sub.value, username: first(configuration.usernameClaim),
                                email: first("email"), name: first("name"), groups: token.claims[configuration.rolesClaim]?.strings ?? [])
    }

    func get(_ url: String, what: String) async throws -> Data {
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "Accept", value: "application/json")
        do {
            let response = try await http.execute(request, timeout: .seconds(20))
            let body = try await response.body.collect(upTo: 1 << 20)
            guard response.status == .ok else { throw Failure.provider("\(what) (\(url)) answered \(response.status.code)") }
            return Data(body.readableBytesView)
        } catch let f as Failure { throw f } catch {
            throw Failure.provider("\(what) (\(url)) could not be fetched: \(error)")
        }
    }

    /// RFC 3986's unreserved characters (ASCII only: `CharacterSet.alphanumerics` has every script's letters).
    static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    static func randomURLSafe(bytes: Int) -> String {
        var g = SystemRandomNumberGenerator()
        return base64URL(Data((0..<bytes).map { _ in UInt8.random(in: 0...255, using: &g) }))
    }

    static func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    static func formEncode(_ s: String) -> String {
        s.addingPercentEncoding(withAllowedCharacters: unreserved) ?? s
    }
}
