import Archive
import Crypto
import Foundation

/// Browser sessions, held in memory: a restart signs everyone out (documented), and nothing a
/// session holds is written to disk. Ids are 256 random bits; idle sessions end after 30 minutes
/// and every session after 12 hours.
public actor SessionStore {
    public struct Session: Sendable {
        public var id: String
        public var user: String
        public var csrf: String
        public var created: Date
        public var lastSeen: Date
    }

    public let idleTimeout: TimeInterval
    public let absoluteTimeout: TimeInterval
    private var sessions: [String: Session] = [:]

    public init(idleTimeout: TimeInterval = 30 * 60, absoluteTimeout: TimeInterval = 12 * 3600) {
        self.idleTimeout = idleTimeout
        self.absoluteTimeout = absoluteTimeout
    }

    public func create(user: String, now: Date = Date()) -> Session {
        purge(now: now)
        let s = Session(id: Secrets.random(bytes: 32), user: user, csrf: Secrets.random(bytes: 32), created: now, lastSeen: now)
        sessions[s.id] = s
        return s
    }

    /// The live session with this id, touched; nil when unknown or expired.
    public func session(id: String, now: Date = Date()) -> Session? {
        guard var s = sessions[id] else { return nil }
        if now.timeIntervalSince(s.lastSeen) > idleTimeout || now.timeIntervalSince(s.created) > absoluteTimeout {
            sessions[id] = nil
            return nil
        }
        s.lastSeen = now
        sessions[id] = s
        return s
    }

    public func end(id: String) { sessions[id] = nil }

    /// Ends every session of a user (password reset, role removal), except `keep`.
    public func endAll(user: String, except keep: String? = nil) {
        sessions = sessions.filter { $0.value.user.lowercased() != user.lowercased() || $0.key == keep }
    }

    private func purge(now: Date) {
        sessions = sessions.filter { now.timeIntervalSince($0.value.lastSeen) <= idleTimeout && now.timeIntervalSince($0.value.created) <= absoluteTimeout }
    }
}

/// Slows password guessing: after 5 failures for one account, or 20 from one address, within 15
/// minutes, sign-in is refused for that account or address until the window passes.
public actor LoginThrottle {
    public let perAccount: Int
    public let perAddress: Int
    public let window: TimeInterval
    private var failures: [String: [Date]] = [:]
    /// When each locked key's refusal was last audited (once per window, so a flood of
    /// attempts cannot flood the audit log).
    private var reported: [String: Date] = [:]

    public init(perAccount: Int = 5, perAddress: Int = 20, window: TimeInterval = 15 * 60) {
        self.perAccount = perAccount
        self.perAddress = perAddress
        self.window = window
    }

    /// Seconds to wait before another attempt, or nil when one may be made now.
    public func retryAfter(user: String, address: String, now: Date = Date()) -> Int? {
        let keys = [("user:" + user.lowercased(), perAccount), ("ip:" + address, perAddress)]
        var wait: TimeInterval = 0
        for (key, limit) in keys {
            let recent = (failures[key] ?? []).filter { now.timeIntervalSince($0) < window }
            failures[key] = recent
            if recent.count >= limit, let oldest = recent.first { wait = max(wait, window - now.timeIntervalSince(oldest)) }
        }
        return wait > 0 ? Int(wait.rounded(.up)) : nil
    }

    public func failed(user: String, address: String, now: Date = Date()) {
        if failures.count > 10_000 { forgetStale(now: now) }
        failures["user:" + String(user.lowercased().prefix(200)), default: []].append(now)
        failures["ip:" + address, default: []].append(now)
    }

    /// True the first time in a window that this account or address is refused.
    public func shouldReportRefusal(user: String, address: String, now: Date = Date()) -> Bool {
        let key = "user:" + user.lowercased() + "|ip:" + address
        if let last = reported[key], now.timeIntervalSince(last) < window { return false }
        if reported.count > 10_000 { reported = reported.filter { now.timeIntervalSince($0.value) < window } }
        reported[key] = now
        return true
    }

    private func forgetStale(now: Date) {
        failures = failures.compactMapValues { dates in
            let recent = dates.filter { now.timeIntervalSince($0) < window }
            return recent.isEmpty ? nil : recent
        }
    }

    public func succeeded(user: String) { failures["user:" + user.lowercased()] = nil }
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
