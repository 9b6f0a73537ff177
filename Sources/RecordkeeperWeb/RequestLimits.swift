import Foundation

/// Per-user limits on the routes that cost the server real work (search, reports, verify,
/// uploads): a token bucket of requests per minute and a cap on requests in flight, so one
/// user or one runaway script cannot take the machine from everyone else. Each `serve`
/// instance keeps its own buckets (a user spread across N instances may reach N times the
/// rate; every instance is still protected).
public struct RequestLimitConfiguration: Sendable, Hashable {
    /// Expensive requests one user may make per minute, sustained (0: no limit).
    public var perMinute: Int = 120
    /// How many may come at once after a quiet spell.
    public var burst: Int = 30
    /// Expensive requests one user may have running at the same time.
    public var inFlight: Int = 4
    public init() {}
    public init(perMinute: Int, burst: Int, inFlight: Int) {
        self.perMinute = perMinute
        self.burst = burst
        self.inFlight = inFlight
    }
    public var enabled: Bool { perMinute > 0 }
}

/// The buckets and in-flight counts of one instance.
actor RequestLimiter {
    struct Bucket {
        var tokens: Double
        var updated: ContinuousClock.Instant
        var running: Int
        var reportedAt: ContinuousClock.Instant?
    }

    enum Decision: Equatable {
        case allowed
        /// Refused: seconds to wait, and whether this is the first refusal of the minute (worth auditing).
        case refused(retryAfter: Int, report: Bool)
    }

    let configuration: RequestLimitConfiguration
    private var buckets: [String: Bucket] = [:]
    private let clock = ContinuousClock()

    init(_ configuration: RequestLimitConfiguration) { self.configuration = configuration }

    /// Takes a token and a running slot for `key`, or says how long to wait.
    func begin(_ key: String) -> Decision {
        guard configuration.enabled else { return .allowed }
        let now = clock.now
        let rate = Double(configuration.perMinute) / 60
        let capacity = Double(max(1, configuration.burst))
        var b = buckets[key] ?? Bucket(tokens: capacity, updated: now, running: 0, reportedAt: nil)
        let elapsed = now - b.updated
        b.tokens = min(capacity, b.tokens + rate * (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18))
        b.updated = now
        let decision: Decision
        if b.tokens >= 1, b.running < max(1, configuration.inFlight) {
            b.tokens -= 1
            b.running += 1
            decision = .allowed
        } else {
            let wait = b.tokens >= 1 ? 1 : Int(((1 - b.tokens) / rate).rounded(.up))
            let report = b.reportedAt.map { now - $0 >= .seconds(60) } ?? true
            if report { b.reportedAt = now }
            decision = .refused(retryAfter: max(1, wait), report: report)
        }
        buckets[key] = b
        if buckets.count > 10_000 { prune(now: now, capacity: capacity) }
        return decision
    }

    /// Gives back the running slot `begin` took.
    func end(_ key: String) {
        guard configuration.enabled, var b = buckets[key] else { return }
        b.running = max(0, b.running - 1)
        buckets[key] = b
    }

    /// Forgets users whose buckets are full again and who have nothing running.
    private func prune(now: ContinuousClock.Instant, capacity: Double) {
        let refill = Duration.seconds(capacity / (Double(configuration.perMinute) / 60))
        buckets = buckets.filter { $0.value.running > 0 || now - $0.value.updated < refill }
    }
}
