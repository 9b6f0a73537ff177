import Archive
import Foundation
import Logging
import Recordkeeper
import ServiceLifecycle

/// A job `serve` runs at start and every `interval`, by one instance at a time (a lease in the
/// store, longer than a pass can take; when the holder stops or dies, another instance takes over
/// once it expires). A failed pass is logged by its error code and tried again next time.
public struct LeasedJob: Service {
    let name: String
    let archive: ArchiveHandle
    let interval: Duration
    let logger: Logger
    let pass: @Sendable (ArchiveHandle) async throws -> Logger.Metadata
    let holder: String

    public init(_ name: String, archive: ArchiveHandle, interval: Duration, logger: Logger,
                pass: @escaping @Sendable (ArchiveHandle) async throws -> Logger.Metadata) {
        self.name = name
        self.archive = archive
        self.interval = interval
        self.logger = logger
        self.pass = pass
        holder = "\(name):\(ProcessInfo.processInfo.hostName):\(getpid()):\(UUID().uuidString.prefix(8))"
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    if try await archive.store.acquireLease(name, holder: holder, ttlMillis: 2 * 3_600_000) {
                        let metadata = try await pass(archive)
                        try await archive.store.releaseLease(name, holder: holder)
                        logger.info("\(name).pass", metadata: metadata)
                    }
                } catch is CancellationError {
                    return
                } catch {
                    logger.error("\(name).failed", metadata: ["error.code": "\((error as? ArchiveError)?.code.rawValue ?? "unexpected")"])
                }
                do { try await Task.sleep(for: interval) } catch { return }
            }
        }
    }
}

public enum BackgroundFindings {
    public static let actor = "system:findings"

    /// Opens the incidents the capture findings call for (36 CFR 1230.14: the agency reports an
    /// unauthorized disposition when it learns of it, not when someone happens to open the
    /// dashboard), in the system's name. Reading the findings never opens anything; a records
    /// officer can also open them at once (`incident open-findings`, the dashboard's button).
    public static func job(archive: ArchiveHandle, interval: Duration = .seconds(3600), logger: Logger) -> LeasedJob {
        LeasedJob("findings", archive: archive, interval: interval, logger: logger) { archive in
            let (findings, opened) = try await IncidentService(archive: archive).openForFindings(actor: actor)
            return ["findings": "\(findings.count)", "incidents_opened": "\(opened.count)"]
        }
    }
}

public enum BackgroundCheckpoints {
    public static let actor = "system:checkpoint"

    /// Signs a checkpoint of the audit chain every hour (issue 16), when the archive signs and
    /// something was recorded since the last one, so that custody scans, reads and other acts
    /// between captures are covered too.
    public static func job(archive: ArchiveHandle, interval: Duration = .seconds(3600), logger: Logger) -> LeasedJob {
        LeasedJob("checkpoint", archive: archive, interval: interval, logger: logger) { archive in
            let service = CheckpointService(archive: archive)
            guard let head = try await archive.store.auditEntries(AuditFilter(limit: 1)).first, head.action != CheckpointService.action else {
                return ["signed": "no", "why": "nothing recorded since the last checkpoint"]
            }
            guard try await service.signIfSigning(vouching: [], reason: "hourly", actor: actor) else {
                return ["signed": "no", "why": "the archive does not sign (no key, no checkpoint)"]
            }
            return ["signed": "yes", "covers": "\(head.sequence)"]
        }
    }
}

/// Chains reads' audit entries that wait in the store's read-audit journal (decision 0011) every
/// `interval`, whichever process wrote them (a CLI `show` that ended before its own pass), and
/// once more when the server stops. Every read already starts a pass of its own; this bounds how
/// long an entry can wait when that pass failed or its process ended.
public struct BackgroundReadAudits: Service {
    let archive: ArchiveHandle
    let interval: Duration
    let logger: Logger

    public init(archive: ArchiveHandle, interval: Duration = .seconds(5), logger: Logger) {
        self.archive = archive
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await settle()
                do { try await Task.sleep(for: interval) } catch { break }
            }
        }
        await settle()
    }

    func settle() async {
        do { try await archive.store.settleReadAudits() } catch {
            logger.error("read_audit.chain_failed", metadata: ["error.code": "\((error as? ArchiveError)?.code.rawValue ?? "unexpected")"])
        }
    }
}
