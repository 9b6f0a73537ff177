import Archive
import Crypto
import Foundation

/// Browser sessions, kept in the archive's database (`WebSessionStore`) so that every `serve`
/// instance on one archive knows them and a restart signs nobody out. The cookie carries 256
/// random bits; the database holds only their SHA-256. Idle sessions end after 30 minutes and
/// every session after 12 hours.
public struct SessionStore: Sendable {
    public struct Session: Sendable {
        /// The cookie secret (only in the response that sets the cookie and in the request).
        public var id: String
        public var user: String
        public var csrf: String
        public var created: Date
        public var lastSeen: Date
    }

    let store: any WebSessionStore
    public let idleTimeout: TimeInterval
    public let absoluteTimeout: TimeInterval
    /// A session's last-seen time is written at most this often (a page view is not a write).
    public let touchInterval: TimeInterval

    public init(store: any WebSessionStore, idleTimeout: TimeInterval = 30 * 60, absoluteTimeout: TimeInterval = 12 * 3600,
                touchInterval: TimeInterval = 60) {
        self.store = store
        self.idleTimeout = idleTimeout
        self.absoluteTimeout = absoluteTimeout
        self.touchInterval = touchInterval
    }

    var limits: SessionLimits { SessionLimits(idleMillis: Self.millis(idleTimeout), absoluteMillis: Self.millis(absoluteTimeout)) }

    public func create(user: String, now: Date = Date()) async throws -> Session {
        let id = Secrets.random(bytes: 32)
        let s = WebSession(idHash: Secrets.sha256Hex(id), user: user, csrf: Secrets.random(bytes: 32),
                           createdMillis: Self.millis(now), lastSeenMillis: Self.millis(now))
        try await store.purgeSessions(nowMillis: s.createdMillis, limits: limits)
        try await store.createSession(s)
        return Session(id: id, user: user, csrf: s.csrf, created: now, lastSeen: now)
    }

    /// The live session with this id, touched; nil when unknown or expired.
    public func session(id: String, now: Date = Date()) async throws -> Session? {
        guard let s = try await store.liveSession(idHash: Secrets.sha256Hex(id), nowMillis: Self.millis(now), limits: limits,
                                                  touchAfterMillis: Self.millis(touchInterval)) else { return nil }
        return Session(id: id, user: s.user, csrf: s.csrf, created: Self.date(s.createdMillis), lastSeen: Self.date(s.lastSeenMillis))
    }

    public func end(id: String) async throws { try await store.endSession(idHash: Secrets.sha256Hex(id)) }

    /// Ends every session of a user (password reset, role removal), except `keep`.
    public func endAll(user: String, except keep: String? = nil) async throws {
        try await store.endSessions(user: user, exceptIDHash: keep.map(Secrets.sha256Hex))
    }

    static func millis(_ t: TimeInterval) -> Int64 { Int64((t * 1000).rounded()) }
    static func millis(_ d: Date) -> Int64 { millis(d.timeIntervalSince1970) }
    static func date(_ ms: Int64) -> Date { Date(timeIntervalSince1970: Double(ms) / 1000) }
}

/// Slows password guessing: after 5 failures for one account, or 20 from one address, within 15
/// minutes, sign-in is refused for that account or address until the window passes. The
/// failures are counted in the archive's database, so every `serve` instance counts them all.
public struct LoginThrottle: Sendable {
    let store: any WebSessionStore
    public let perAccount: Int
    public let perAddress: Int
    public let window: TimeInterval

    public init(store: any WebSessionStore, perAccount: Int = 5, perAddress: Int = 20, window: TimeInterval = 15 * 60) {
        self.store = store
        self.perAccount = perAccount
        self.perAddress = perAddress
        self.window = window
    }

    static func accountKey(_ user: String) -> String { "user:" + String(user.lowercased().prefix(200)) }

    /// Seconds to wait before another attempt, or nil when one may be made now.
    public func retryAfter(user: String, address: String, now: Date = Date()) async throws -> Int? {
        let nowMS = SessionStore.millis(now), windowMS = SessionStore.millis(window)
        var waitMS: Int64 = 0
        for (key, limit) in [(Self.accountKey(user), perAccount), ("ip:" + address, perAddress)] {
            let recent = try await store.loginFailures(key: key, sinceMillis: nowMS - windowMS + 1)
            if recent.count >= limit, let oldest = recent.first { waitMS = max(waitMS, windowMS - (nowMS - oldest)) }
        }
        return waitMS > 0 ? Int((Double(waitMS) / 1000).rounded(.up)) : nil
    }

    public func failed(user: String, address: String, now: Date = Date()) async throws {
        try await store.recordLoginFailure(keys: [Self.accountKey(user), "ip:" + address], atMillis: SessionStore.millis(now))
    }

    /// True the first time in a window that this account or address is refused (on any instance).
    public func shouldReportRefusal(user: String, address: String, now: Date = Date()) async throws -> Bool {
        try await store.claimOncePerWindow(key: Self.accountKey(user) + "|ip:" + address, atMillis: SessionStore.millis(now),
                                           windowMillis: SessionStore.millis(window))
    }

    public func succeeded(user: String) async throws { try await store.clearLoginFailures(key: Self.accountKey(user)) }
}

enum Secrets {
    /// `bytes` random bytes from the system's CSPRNG, as lowercase hex.
    static func random(bytes: Int) -> String {
        var g = SystemRandomNumberGenerator()
        return (0..<bytes).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &g)) }.joined()
    }

    static func sha256Hex(_ s: String) -> String {
        SHA256.hash(data: Data(s.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// Compares without leaking where the first difference is.
    static func equal(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var diff: UInt8 = 0
        for i in 0..<x.count { diff |= x[i] ^ y[i] }
        return diff == 0
    }
}
