import Foundation

/// A lock over the whole archive, whichever machine asks: what the data directory's `flock`
/// is for one machine, for several `serve` instances and CLI runs on one database. An ingest
/// and a disposition hold it, so a disposition never deletes a file that an ingest on another
/// instance is about to name.
public protocol ArchiveWideLock: Sendable {
    /// Runs `body` holding the lock: `shared` with other shared holders (ingests, which the
    /// identity key already keeps apart), exclusive otherwise (dispositions, the sweep of
    /// destroyed files). Waiting is reported through `onWait` ("waiting for the archive's write
    /// lock held by …") and ends with `ArchiveError(.busy)` after `timeout`.
    func withArchiveLock<T>(purpose: String, shared: Bool, timeout: Duration, onWait: (@Sendable (String) -> Void)?,
                            _ body: () async throws -> T) async throws -> T
}
