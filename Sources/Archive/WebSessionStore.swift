import Foundation

/// Browser sessions and sign-in throttling, kept in the archive's database so that every
/// `serve` instance behind a load balancer sees the same ones (and a restart signs nobody out).
///
/// A session is found by the SHA-256 of its cookie secret; the secret itself is never stored, so
/// a copy of the database cannot be used to sign in. Times are milliseconds since 1970.
public protocol WebSessionStore: Sendable {
    func createSession(_ session: WebSession) async throws
    /// The session with this id hash when neither its idle nor its absolute limit has passed at
    /// `nowMillis`; its last-seen time is moved to `nowMillis` when it is older than
    /// `touchAfterMillis` (so a page view is not always a write). An expired session is deleted.
    func liveSession(idHash: String, nowMillis: Int64, limits: SessionLimits, touchAfterMillis: Int64) async throws -> WebSession?
    func endSession(idHash: String) async throws
    /// Ends every session of `user` (case-insensitive), except the one with `exceptIDHash`.
    /// Returns how many ended.
    @discardableResult
    func endSessions(user: String, exceptIDHash: String?) async throws -> Int
    /// Deletes every session past its limits. Returns how many.
    @discardableResult
    func purgeSessions(nowMillis: Int64, limits: SessionLimits) async throws -> Int

    /// Records one failed sign-in under each key (an account, an address).
    func recordLoginFailure(keys: [String], atMillis: Int64) async throws
    /// The times of the failures under `key` since `sinceMillis`, oldest first (older ones are
    /// forgotten).
    func loginFailures(key: String, sinceMillis: Int64) async throws -> [Int64]
    func clearLoginFailures(key: String) async throws
    /// True (and remembered) the first time in `windowMillis` that `key` is claimed: one audit
    /// entry per locked account and address per window, however many instances refuse it.
    func claimOncePerWindow(key: String, atMillis: Int64, windowMillis: Int64) async throws -> Bool

    /// Keeps a single sign-on that has gone to the identity provider (its state, as a hash; its
    /// PKCE verifier and nonce), so that whichever instance the browser comes back to can finish it.
    func savePendingSignIn(_ pending: PendingSignIn) async throws
    /// Takes — once: it is deleted — the pending sign-in with this state hash, if it began after
    /// `notBeforeMillis`. Older pending sign-ins are deleted on the way.
    func takePendingSignIn(stateHash: String, notBeforeMillis: Int64) async throws -> PendingSignIn?
}

/// A single sign-on between the redirect to the identity provider and its answer.
public struct PendingSignIn: Sendable, Hashable {
    /// SHA-256 (hex) of the `state` sent to the provider (the browser holds it in a cookie too).
    public var stateHash: String
    /// The PKCE code verifier (RFC 7636) whose S256 challenge went to the provider.
    public var verifier: String
    /// The nonce the ID token must carry.
    public var nonce: String
    /// Where to go once signed in (a path on this site).
    public var next: String?
    public var createdMillis: Int64
    public init(stateHash: String, verifier: String, nonce: String, next: String?, createdMillis: Int64) {
        self.stateHash = stateHash
        self.verifier = verifier
        self.nonce = nonce
        self.next = next
        self.createdMillis = createdMillis
    }
}

public struct WebSession: Sendable, Hashable {
    /// SHA-256 (hex) of the cookie secret.
    public var idHash: String
    public var user: String
    /// The session's anti-forgery token, written into its forms.
    public var csrf: String
    public var createdMillis: Int64
    public var lastSeenMillis: Int64
    public init(idHash: String, user: String, csrf: String, createdMillis: Int64, lastSeenMillis: Int64) {
        self.idHash = idHash
        self.user = user
        self.csrf = csrf
        self.createdMillis = createdMillis
        self.lastSeenMillis = lastSeenMillis
    }
}

public struct SessionLimits: Sendable, Hashable {
    public var idleMillis: Int64
    public var absoluteMillis: Int64
    public init(idleMillis: Int64, absoluteMillis: Int64) {
        self.idleMillis = idleMillis
        self.absoluteMillis = absoluteMillis
    }

    public func expired(_ s: WebSession, nowMillis: Int64) -> Bool {
        nowMillis - s.lastSeenMillis > idleMillis || nowMillis - s.createdMillis > absoluteMillis
    }
}
