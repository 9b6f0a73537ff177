import Archive
import Foundation
import Logging
import Recordkeeper
import ServiceLifecycle

/// Keeps Object Lock in step with retention and holds while `serve` runs (when blobs are in an
/// object store with a lock): a pass every `interval`, by one instance at a time (a lease in
/// the store, longer than a pass can take); when that instance stops or dies, another takes
/// over once the lease expires. Add it only with a locking blob store: a service that returns
/// stops the whole group.
public struct BackgroundObjectLock: Service {
    let archive: ArchiveHandle
    let interval: Duration
    let logger: Logger
    let holder = "object-lock:\(ProcessInfo.processInfo.hostName):\(getpid()):\(UUID().uuidString.prefix(8))"

    public init(archive: ArchiveHandle, interval: Duration = .seconds(3600), logger: Logger) {
        self.archive = archive
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        guard archive.blobs is any LockingBlobStore else { try? await gracefulShutdown(); return }
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    if try await archive.store.acquireLease("object-lock", holder: holder, ttlMillis: 2 * 3_600_000) {
                        let report = try await ObjectLockService(archive: archive).sync(actor: "system:object-lock")
                        try await archive.store.releaseLease("object-lock", holder: holder)
                        logger.info("object_lock.pass", metadata: [
                            "blobs": "\(report.blobsExamined)", "extended": "\(report.retentionExtended)",
                            "holds_set": "\(report.legalHoldsSet)", "holds_lifted": "\(report.legalHoldsLifted)", "failures": "\(report.failures.count)",
                        ])
                    }
                } catch is CancellationError {
                    return
                } catch {
                    logger.error("object_lock.failed", metadata: ["error.code": "\((error as? ArchiveError)?.code.rawValue ?? "unexpected")"])
                }
                do { try await Task.sleep(for: interval) } catch { return }
            }
        }
    }
}
