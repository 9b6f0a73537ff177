import Archive
import Foundation
import Logging
import PostgresNIO
import RecordkeeperCore

extension PostgresArchiveStore: ArchiveWideLock {
    /// A session advisory lock held on one pooled connection for the duration of `body` (it
    /// goes with the connection: an instance that dies releases it). Who holds it is written
    /// beside it, so a waiter can say whom it waits for.
    public func withArchiveLock<T>(purpose: String, shared: Bool, timeout: Duration, onWait: (@Sendable (String) -> Void)?,
                                   _ body: () async throws -> T) async throws -> T {
        let take: PostgresQuery = shared ? "SELECT pg_try_advisory_lock_shared(\(PostgresSchema.writeLock))"
                                         : "SELECT pg_try_advisory_lock(\(PostgresSchema.writeLock))"
        let release: PostgresQuery = shared ? "SELECT pg_advisory_unlock_shared(\(PostgresSchema.writeLock))"
                                            : "SELECT pg_advisory_unlock(\(PostgresSchema.writeLock))"
        let me = "\(ProcessInfo.processInfo.hostName) pid \(getpid()) (\(purpose)) since \(Timestamp.iso(millis: Timestamp.nowMillis()))"
        let clock = ContinuousClock()
        let start = clock.now
        var reported = false
        do {
            return try await client.withConnection { conn in
                while true {
                    let got = try await conn.column(take, as: Bool.self, logger: self.logger).first ?? false
                    if got { break }
                    let holder = try await conn.column("SELECT holder FROM lease WHERE name = 'archive-write-lock'", as: String.self, logger: self.logger)
                        .first ?? "another instance"
                    // Said before giving up too: on a loaded server the first try can outlast a short timeout.
                    if !reported {
                        onWait?("waiting for the archive's write lock held by \(holder)")
                        reported = true
                    }
                    if clock.now - start >= timeout {
                        throw ArchiveError(.busy, "the archive's write lock is held by \(holder); gave up after \(timeout.components.seconds) s "
                            + "(\(WriteLockTimeout.variable) sets how long to wait)")
                    }
                    try await Task.sleep(for: .milliseconds(200))
                }
                try await conn.run("""
                    INSERT INTO lease (name, holder, expires_at) VALUES ('archive-write-lock', \(me), 0)
                    ON CONFLICT (name) DO UPDATE SET holder = excluded.holder
                    """, logger: self.logger)
                do {
                    let result = try await body()
                    try await conn.run(release, logger: self.logger)
                    return result
                } catch {
                    _ = try? await conn.run(release, logger: self.logger)
                    throw error
                }
            }
        } catch let e as ArchiveError {
            throw e
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw Self.storageError("taking the archive's write lock", error)
        }
    }
}

/// The variable that bounds waits for a write lock (the same as the data directory's).
enum WriteLockTimeout {
    static let variable = "RECORDKEEPER_WRITE_LOCK_TIMEOUT"
}
