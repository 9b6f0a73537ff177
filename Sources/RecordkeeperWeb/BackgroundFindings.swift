import Archive
import Foundation
import Logging
import Recordkeeper
import ServiceLifecycle

/// Opens the incidents the capture findings call for while `serve` runs (36 CFR 1230.14: the
/// agency reports an unauthorized disposition when it learns of it, not when someone happens to
/// open the dashboard): a pass at start and every `interval`, by one instance at a time (a lease
/// in the store), in the system's name (`system:findings`). Reading the findings never opens
/// anything; a records officer can also open them at once (`incident open-findings`, the
/// dashboard's button), in their own name.
public struct BackgroundFindings: Service {
    public static let actor = "system:findings"
    let archive: ArchiveHandle
    let interval: Duration
    let logger: Logger
    let holder = "findings:\(ProcessInfo.processInfo.hostName):\(getpid()):\(UUID().uuidString.prefix(8))"

    public init(archive: ArchiveHandle, interval: Duration = .seconds(3600), logger: Logger) {
        self.archive = archive
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    if try await archive.store.acquireLease("findings", holder: holder, ttlMillis: 2 * 3_600_000) {
                        let (findings, opened) = try await IncidentService(archive: archive).openForFindings(actor: Self.actor)
                        try await archive.store.releaseLease("findings", holder: holder)
                        logger.info("findings.pass", metadata: ["findings": "\(findings.count)", "incidents_opened": "\(opened.count)"])
                    }
                } catch is CancellationError {
                    return
                } catch {
                    logger.error("findings.failed", metadata: ["error.code": "\((error as? ArchiveError)?.code.rawValue ?? "unexpected")"])
                }
                do { try await Task.sleep(for: interval) } catch { return }
            }
        }
    }
}
