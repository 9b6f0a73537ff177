import Archive
import Custody
import Foundation
import RecordkeeperCore

/// The custody alerts as of a recent moment, for the custody page and `GET
/// /api/v1/custody/alerts` without `as_of` (CUSTODY.md §7: the dashboard in ≤ 1 s; P4: an alert
/// within 60 s). Computing them reads the last 30 days' targets, the items in custody and the
/// seizures: 2.7 s at the OIG's volume (decision 0006). So an instance computes them at most
/// once per `refreshAfter` while someone is looking: a reader gets the latest computation while
/// it is no older than `maxAge` (and starts the next one behind it once it is older than
/// `refreshAfter`); only a reader with nothing that recent waits, and readers arriving during a
/// computation share it. Nothing is stored: the alerts stay derived from the records, and every
/// answer says the moment it was computed for.
actor CustodyAlertBoard {
    struct Snapshot: Sendable {
        let asOfMillis: Int64
        let alerts: [CustodyAlert]
    }

    typealias Compute = @Sendable (Int64) async throws -> [CustodyAlert]

    let maxAgeMillis: Int64
    let refreshAfterMillis: Int64
    private let now: @Sendable () -> Int64
    private var latest: Snapshot?
    private var running: Task<Snapshot, any Error>?

    init(maxAgeMillis: Int64 = 60_000, refreshAfterMillis: Int64 = 15_000, now: @escaping @Sendable () -> Int64 = { Timestamp.nowMillis() }) {
        self.maxAgeMillis = maxAgeMillis
        self.refreshAfterMillis = refreshAfterMillis
        self.now = now
    }

    /// The alerts as of a moment at most `maxAge` ago.
    func current(_ compute: @escaping Compute) async throws -> Snapshot {
        let t = now()
        // A clock set back (a negative age) counts as too old, never as fresh.
        if let s = latest, (0...maxAgeMillis).contains(t - s.asOfMillis) {
            if t - s.asOfMillis > refreshAfterMillis, running == nil { start(compute) }
            return s
        }
        return try await (running ?? start(compute)).value
    }

    /// The computation runs on this actor between its suspensions, so it records its result (or
    /// clears itself after a failure) before any reader awaiting it resumes.
    @discardableResult
    private func start(_ compute: @escaping Compute) -> Task<Snapshot, any Error> {
        let at = now()
        let task = Task { () throws -> Snapshot in
            defer { self.running = nil }
            let s = Snapshot(asOfMillis: at, alerts: try await compute(at))
            self.latest = s // one computation at a time: the last to finish is the newest
            return s
        }
        running = task
        return task
    }
}
