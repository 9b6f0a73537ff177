import Archive
import Foundation
import Testing

@Suite("WebSessionStore conformance (every backend)")
struct WebSessionConformanceTests {
    static let limits = SessionLimits(idleMillis: 30 * 60_000, absoluteMillis: 12 * 3_600_000)
    static let t0: Int64 = 1_780_000_000_000

    static func session(_ id: String, user: String, at: Int64 = t0) -> WebSession {
        WebSession(idHash: id, user: user, csrf: "csrf-" + id, createdMillis: at, lastSeenMillis: at)
    }

    /// A single sign-on is finished once, on any instance, and only while it is fresh.
    @Test(arguments: Backends.sessions)
    func aPendingSignInIsTakenOnceAndOnlyWhileFresh(_ backend: Backend<any WebSessionStore>) async throws {
        let open = try await backend.open()
        defer { Task { await open.close() } }
        let s = open.store
        let t0 = Self.t0
        try await s.savePendingSignIn(PendingSignIn(stateHash: "st-1", verifier: "v1", nonce: "n1", next: "/holds", createdMillis: t0))
        try await s.savePendingSignIn(PendingSignIn(stateHash: "st-2", verifier: "v2", nonce: "n2", next: nil, createdMillis: t0))
        try await s.savePendingSignIn(PendingSignIn(stateHash: "st-3", verifier: "v3", nonce: "n3", next: nil, createdMillis: t0 + 9 * 60_000))
        let taken = try #require(try await s.takePendingSignIn(stateHash: "st-1", notBeforeMillis: t0 - 1))
        #expect(taken.verifier == "v1" && taken.nonce == "n1" && taken.next == "/holds" && taken.createdMillis == t0)
        #expect(try await s.takePendingSignIn(stateHash: "st-1", notBeforeMillis: t0 - 1) == nil) // once
        #expect(try await s.takePendingSignIn(stateHash: "unknown", notBeforeMillis: t0 - 1) == nil)
        // Ten minutes on, st-2 is stale: refused, and gone; st-3 is still fresh.
        #expect(try await s.takePendingSignIn(stateHash: "st-2", notBeforeMillis: t0) == nil)
        #expect(try await s.takePendingSignIn(stateHash: "st-2", notBeforeMillis: t0 - 1) == nil)
        #expect(try await s.takePendingSignIn(stateHash: "st-3", notBeforeMillis: t0)?.verifier == "v3")
    }

    @Test(arguments: Backends.sessions)
    func sessionsLiveUntilIdleOrAbsoluteLimitAndAreTouchedSparingly(_ backend: Backend<any WebSessionStore>) async throws {
        let open = try await backend.open()
        defer { Task { await open.close() } }
        let s = open.store
        try await s.createSession(Self.session("h1", user: "K.Walsh"))
        let t0 = Self.t0, limits = Self.limits

        let found = try #require(try await s.liveSession(idHash: "h1", nowMillis: t0 + 1_000, limits: limits, touchAfterMillis: 60_000))
        #expect(found.user == "K.Walsh" && found.csrf == "csrf-h1" && found.createdMillis == t0)
        #expect(found.lastSeenMillis == t0) // within the touch interval: not written
        let touched = try #require(try await s.liveSession(idHash: "h1", nowMillis: t0 + 20 * 60_000, limits: limits, touchAfterMillis: 60_000))
        #expect(touched.lastSeenMillis == t0 + 20 * 60_000)
        // 29 minutes after the touch it is still alive (the touch was stored)…
        #expect(try await s.liveSession(idHash: "h1", nowMillis: t0 + 49 * 60_000, limits: limits, touchAfterMillis: 60_000) != nil)
        // …and idle for more than 30 minutes it ends, and stays ended.
        #expect(try await s.liveSession(idHash: "h1", nowMillis: t0 + 80 * 60_000, limits: limits, touchAfterMillis: 60_000) == nil)
        #expect(try await s.liveSession(idHash: "h1", nowMillis: t0 + 49 * 60_000, limits: limits, touchAfterMillis: 60_000) == nil)
        #expect(try await s.liveSession(idHash: "unknown", nowMillis: t0, limits: limits, touchAfterMillis: 60_000) == nil)

        // However busy, a session ends after the absolute limit.
        try await s.createSession(Self.session("h2", user: "d.harris"))
        var now = t0
        while now + 20 * 60_000 <= t0 + 12 * 3_600_000 {
            now += 20 * 60_000
            #expect(try await s.liveSession(idHash: "h2", nowMillis: now, limits: limits, touchAfterMillis: 60_000) != nil)
        }
        #expect(try await s.liveSession(idHash: "h2", nowMillis: t0 + 12 * 3_600_000 + 1, limits: limits, touchAfterMillis: 60_000) == nil)
    }

    @Test(arguments: Backends.sessions)
    func endingOneAllOrExpiredSessions(_ backend: Backend<any WebSessionStore>) async throws {
        let open = try await backend.open()
        defer { Task { await open.close() } }
        let s = open.store
        let t0 = Self.t0, limits = Self.limits
        for (id, user) in [("a1", "K.Walsh"), ("a2", "k.walsh"), ("a3", "K.WALSH"), ("b1", "d.harris")] {
            try await s.createSession(Self.session(id, user: user))
        }
        try await s.createSession(Self.session("old", user: "m.ortiz", at: t0 - 3_600_000))
        func alive(_ id: String) async throws -> Bool {
            try await s.liveSession(idHash: id, nowMillis: t0 + 1, limits: limits, touchAfterMillis: 60_000) != nil
        }
        // A password change ends every other session of the user, whatever the case of the name.
        #expect(try await s.endSessions(user: "k.walsh", exceptIDHash: "a2") == 2)
        #expect(try await alive("a2"))
        #expect(try await !alive("a1"))
        #expect(try await !alive("a3"))
        #expect(try await alive("b1"))
        try await s.endSession(idHash: "a2")
        #expect(try await !alive("a2"))
        #expect(try await s.endSessions(user: "d.harris", exceptIDHash: nil) == 1)
        #expect(try await s.purgeSessions(nowMillis: t0, limits: limits) == 1) // "old" was idle an hour
        #expect(try await s.purgeSessions(nowMillis: t0, limits: limits) == 0)
    }

    @Test(arguments: Backends.sessions)
    func failedSignInsAreCountedInTheirWindowAndClaimsAreOncePerWindow(_ backend: Backend<any WebSessionStore>) async throws {
        let open = try await backend.open()
        defer { Task { await open.close() } }
        let s = open.store
        let t0 = Self.t0, window: Int64 = 15 * 60_000
        for i in 0..<3 { try await s.recordLoginFailure(keys: ["user:k.walsh", "ip:10.0.0.9"], atMillis: t0 + Int64(i) * 60_000) }
        try await s.recordLoginFailure(keys: ["ip:10.0.0.9"], atMillis: t0 + 5 * 60_000)
        #expect(try await s.loginFailures(key: "user:k.walsh", sinceMillis: t0 - window) == [t0, t0 + 60_000, t0 + 120_000])
        #expect(try await s.loginFailures(key: "ip:10.0.0.9", sinceMillis: t0 - window).count == 4)
        // Failures older than the window are forgotten.
        #expect(try await s.loginFailures(key: "user:k.walsh", sinceMillis: t0 + 90_000) == [t0 + 120_000])
        #expect(try await s.loginFailures(key: "user:nobody", sinceMillis: t0 - window).isEmpty)
        try await s.clearLoginFailures(key: "ip:10.0.0.9")
        #expect(try await s.loginFailures(key: "ip:10.0.0.9", sinceMillis: t0 - window).isEmpty)

        #expect(try await s.claimOncePerWindow(key: "user:k.walsh|ip:10.0.0.9", atMillis: t0, windowMillis: window))
        #expect(try await s.claimOncePerWindow(key: "user:k.walsh|ip:10.0.0.9", atMillis: t0 + 60_000, windowMillis: window) == false)
        #expect(try await s.claimOncePerWindow(key: "user:d.harris|ip:10.0.0.9", atMillis: t0 + 60_000, windowMillis: window))
        #expect(try await s.claimOncePerWindow(key: "user:k.walsh|ip:10.0.0.9", atMillis: t0 + window + 1, windowMillis: window))
    }
}
