import Archive
import Foundation
import RecordkeeperCore

/// Who holds an archive's write lock, as a waiter sees it (no record content: a pid, what the
/// holder is doing and since when).
public struct WriteLockHolder: Sendable, Hashable, Codable {
    /// The holding process.
    public var pid: Int32
    /// What it is doing: `ingest`, `disposition.execute`… (an action name, never record content).
    public var purpose: String
    /// When it took the lock (ISO 8601, UTC).
    public var since: String

    public var summary: String { "pid \(pid) (\(purpose)) since \(since)" }
}

/// The write lock of one data directory: it keeps an ingest and a disposition (or two of
/// either) from interleaving, between tasks of one process and between processes.
///
/// Built so that it cannot deadlock against itself:
/// - **One lock per data directory per process.** Every `ArchiveHandle` opened on a directory
///   shares the same `WriteLock` (`WriteLock.shared(for:)`), so tasks of one process queue on
///   it instead of racing `flock` on separate descriptors.
/// - **It knows its holder.** The task that holds it (and the child tasks it starts while
///   holding it) carries a token; asking again from inside runs the body at once rather than
///   waiting on itself. A token outlives its hold only as an inactive token, so a task that
///   escapes the holder's scope cannot use it to skip the lock.
/// - **Between processes, `flock` on `<dir>/write.lock`**, which goes with the process: a crash
///   never leaves it held. The holder writes its pid, purpose and start time into the file so
///   that a waiter can say whom it waits for.
/// - **Waiting is visible and bounded.** A waiter reports "waiting for the write lock held by
///   pid N (ingest) since T" once, then again every `reportEvery`; after `timeout` it gives up
///   with an `ArchiveError(.busy)` naming the holder. Cancellation (a server shutting down)
///   ends the wait at once.
public final class WriteLock: @unchecked Sendable {
    /// Environment variable: how many seconds a writer waits for the lock before giving up
    /// (default 120; 0 means do not wait).
    public static let timeoutVariable = "RECORDKEEPER_WRITE_LOCK_TIMEOUT"
    /// Default wait before giving up.
    public static let defaultTimeout: Duration = .seconds(120)

    /// The lock of this process for the data directory at `directory`.
    public static func shared(for directory: URL) -> WriteLock {
        let path = directory.standardizedFileURL.appendingPathComponent("write.lock").path
        registryLock.lock()
        defer { registryLock.unlock() }
        if let lock = registry[path] { return lock }
        let lock = WriteLock(path: path)
        registry[path] = lock
        return lock
    }

    private static let registryLock = NSLock()
    nonisolated(unsafe) private static var registry: [String: WriteLock] = [:]

    /// The hold of the current task (inherited by its child tasks).
    @TaskLocal private static var current: Token?

    final class Token: @unchecked Sendable {
        let lock: ObjectIdentifier
        init(_ lock: WriteLock) { self.lock = ObjectIdentifier(lock) }
    }

    /// The lock file's path.
    public let path: String
    private let mutex = NSLock()
    private var holder: (token: Token, info: WriteLockHolder)?

    init(path: String) { self.path = path }

    /// The holder in this process, if any.
    public var holderInThisProcess: WriteLockHolder? { mutex.withLock { holder?.info } }

    /// Whether the calling task holds this lock.
    public var isHeldByCurrentTask: Bool {
        guard let token = Self.current, token.lock == ObjectIdentifier(self) else { return false }
        return mutex.withLock { holder?.token === token }
    }

    /// Takes the in-process lock for `token`, or returns who has it.
    private func claim(_ token: Token, _ info: WriteLockHolder) -> WriteLockHolder? {
        mutex.withLock {
            if let other = holder?.info { return other }
            holder = (token, info)
            return nil
        }
    }

    private func release() { mutex.withLock { holder = nil } }

    /// The configured wait: `RECORDKEEPER_WRITE_LOCK_TIMEOUT` seconds, else the default.
    public static func configuredTimeout(environment: [String: String] = ProcessInfo.processInfo.environment) -> Duration {
        guard let raw = environment[timeoutVariable], let seconds = Double(raw), seconds >= 0, seconds.isFinite else { return defaultTimeout }
        return .milliseconds(Int64(seconds * 1000))
    }

    /// Runs `body` holding the lock. Re-entry from the holding task runs `body` directly.
    /// - Parameters:
    ///   - purpose: what the holder does, shown to waiters (an action name; never content).
    ///   - timeout: how long to wait for another holder before throwing `ArchiveError(.busy)`.
    ///   - reportEvery: how often a waiter repeats its report.
    ///   - onWait: receives "waiting for the write lock held by …" while waiting.
    public func withLock<T>(purpose: String, timeout: Duration = WriteLock.configuredTimeout(), reportEvery: Duration = .seconds(10),
                            onWait: (@Sendable (String) -> Void)? = nil, _ body: () async throws -> T) async throws -> T {
        if isHeldByCurrentTask { return try await body() }
        let clock = ContinuousClock()
        let start = clock.now
        var nextReport = start
        let token = Token(self)
        let info = WriteLockHolder(pid: getpid(), purpose: purpose, since: Timestamp.iso(millis: Timestamp.nowMillis()))

        func waitOrGiveUp(_ heldBy: WriteLockHolder?) async throws {
            let now = clock.now
            let who = heldBy?.summary ?? "another process"
            if now - start >= timeout {
                throw ArchiveError(.busy, "the archive's write lock is held by \(who); gave up after \(Self.seconds(now - start)) s. "
                                   + "Try again when it has finished, or set \(Self.timeoutVariable) to wait longer")
            }
            if now >= nextReport {
                onWait?("waiting for the write lock held by \(who) (waited \(Self.seconds(now - start)) s of \(Self.seconds(timeout)) s)")
                nextReport = now + reportEvery
            }
            try await Task.sleep(for: .milliseconds(50))
        }

        // Tasks of this process queue here.
        while let other = claim(token, info) {
            try await waitOrGiveUp(other)
        }
        defer { release() }

        // Other processes: flock on the lock file.
        let fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        if fd < 0 {
            // No data directory on disk (an archive assembled from in-memory parts): this process is the only writer.
            return try await Self.$current.withValue(token) { try await body() }
        }
        defer { close(fd) }
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let e = errno
            guard e == EWOULDBLOCK || e == EINTR else {
                throw ArchiveError(.storage, "cannot lock \(path) (errno \(e)); check the data directory's permissions and file system")
            }
            try await waitOrGiveUp(Self.readHolder(fd))
        }
        defer {
            _ = ftruncate(fd, 0)
            flock(fd, LOCK_UN)
        }
        Self.writeHolder(info, to: fd)
        return try await Self.$current.withValue(token) { try await body() }
    }

    static func seconds(_ d: Duration) -> String {
        let s = Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
        return s < 10 ? String(format: "%.1f", s) : String(Int(s))
    }

    private static func writeHolder(_ info: WriteLockHolder, to fd: Int32) {
        guard let data = try? JSONEncoder().encode(info) else { return }
        _ = ftruncate(fd, 0)
        _ = data.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
    }

    private static func readHolder(_ fd: Int32) -> WriteLockHolder? {
        var buffer = [UInt8](repeating: 0, count: 512)
        let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { return nil }
        return try? JSONDecoder().decode(WriteLockHolder.self, from: Data(buffer[0..<n]))
    }
}
