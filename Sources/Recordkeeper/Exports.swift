// The services speak in the archive's value types (conversations, batches, search hits) and the
// domain's (messages, hashes); interfaces that use the services get them with `import Recordkeeper`.
// Interfaces still never call the store directly: they go through the services, which audit.
@_exported import Archive
@_exported import RecordkeeperCore
import Connectors

/// A one-line explanation of an error for a person: what went wrong and what to do. Never
/// includes record content.
public func userMessage(for error: any Error) -> String {
    switch error {
    case let e as ArchiveError: return e.message
    case let e as IngestError: return e.message
    case let e as ConnectorError: return e.message
    default: return String(describing: error)
    }
}
