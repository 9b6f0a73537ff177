import Archive
import Foundation
import Logging
import Recordkeeper

/// Keeps Object Lock in step with retention and holds while `serve` runs (when blobs are in an
/// object store with a lock): a pass every `interval`, by one instance at a time. Added only with
/// a locking blob store.
public enum BackgroundObjectLock {
    public static func job(archive: ArchiveHandle, interval: Duration = .seconds(3600), logger: Logger) -> LeasedJob {
        LeasedJob("object-lock", archive: archive, interval: interval, logger: logger) { archive in
            let report = try await ObjectLockService(archive: archive).sync(actor: "system:object-lock")
            return ["blobs": "\(report.blobsExamined)", "extended": "\(report.retentionExtended)", "holds_set": "\(report.legalHoldsSet)",
                    "holds_lifted": "\(report.legalHoldsLifted)", "failures": "\(report.failures.count)"]
        }
    }
}
