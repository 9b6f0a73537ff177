import Foundation
import Logging
import Recordkeeper
import ServiceLifecycle

/// Keeps the search index up to date behind capture while `serve` (or `capture matrix`) runs:
/// catches up, then looks again every `interval`. One indexer works at a time per archive (the
/// store's lease); another process's indexer takes over when this one stops or dies.
public struct BackgroundIndexer: Service {
    let index: IndexService
    let interval: Duration
    let logger: Logger

    public init(archive: ArchiveHandle, interval: Duration = .seconds(1), logger: Logger) {
        self.index = IndexService(archive: archive, logger: logger)
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await index.catchUp()
                } catch is CancellationError {
                    return
                } catch {
                    // The archive keeps serving; the next round tries again.
                    logger.error("index.failed", metadata: ["error.code": "\((error as? ArchiveError)?.code.rawValue ?? "unexpected")"])
                }
                do { try await Task.sleep(for: interval) } catch { return }
            }
        }
    }
}
