import Foundation
import RecordkeeperCore

// Carrier manifests per container (CUSTODY.md §4.2 "Presentation manifest", finding F14): the list
// of pieces the carrier says a container holds (its hold list or presentation list), or the list
// of pieces its driver signs for in a return batch. CBP's own scans stay the authority; a manifest,
// when there is one, is reconciled against them container by container (R-MAN).

public protocol CustodyManifestStore: Sendable {
    func manifestImport(fileHash: String) async throws -> StoredTargetImport?
    /// Stores a manifest file's accepted rows and its rejected rows, with its audit entry, in one
    /// transaction; a file imported before returns that import and writes nothing.
    func commitManifestImport(_ draft: ManifestImportDraft, actor: String) async throws -> StoredTargetImport
    func manifestImports() async throws -> [StoredTargetImport]
    func manifestRows(importID: Int64) async throws -> [StoredManifestRow]
    /// Every manifest row (of every import) for containers handed over on the UTC days in
    /// [fromDay, toDay), YYYY-MM-DD.
    func manifestRows(fromDay: String, toDay: String) async throws -> [StoredManifestRow]
    /// What each presentation holds by `asOf`: the pieces received into a container handed over
    /// (`in`), or returned in a return batch (`out`).
    func presentationContents(ids: [Int64], asOf: Int64) async throws -> [Int64: [ContainerScan]]
    /// Where these identifiers were received (`in`: their episodes first arrived in [from, asOf])
    /// or handed back to the carrier (`out`: their returns in [from, asOf]), with the container or
    /// return batch if any.
    func containerScans(s10s: [String], direction: String, from: Int64, asOf: Int64) async throws -> [ContainerScan]
    /// For verify: manifest rows that belong to no manifest import.
    func manifestRowsOutsideImports() async throws -> Int
}

/// One piece on a carrier's manifest: the container's label, the UTC day it was handed over and
/// the direction (`in` from the carrier, `out` back to it).
public struct StoredManifestRow: Sendable, Equatable, Codable {
    public var importID: Int64
    public var line: Int
    public var day: String
    public var container: String
    public var direction: String
    public var s10: String
    public init(importID: Int64, line: Int, day: String, container: String, direction: String, s10: String) {
        self.importID = importID; self.line = line; self.day = day; self.container = container; self.direction = direction; self.s10 = s10
    }

    public var canonical: [UInt8] {
        var e = CanonicalEncoder(kind: "custody.manifest", version: 1)
        e.add("line", Int64(line))
        e.add("day", day)
        e.add("container", container)
        e.add("direction", direction)
        e.add("s10", s10)
        return e.bytes
    }

    public static func digest(_ rows: [StoredManifestRow]) -> String {
        var hasher = StreamingHasher()
        for r in rows { r.canonical.withUnsafeBytes { hasher.update($0) } }
        return hasher.finalize().hex
    }
}

public struct ManifestImportDraft: Sendable {
    public var fileName: String
    public var fileHash: String
    public var rows: [StoredManifestRow]
    public var rowsTotal: Int
    public var rejected: [StoredRejectedRow]
    public var unknownColumns: [String]
    public init(fileName: String, fileHash: String, rows: [StoredManifestRow], rowsTotal: Int, rejected: [StoredRejectedRow], unknownColumns: [String]) {
        self.fileName = fileName; self.fileHash = fileHash; self.rows = rows; self.rowsTotal = rowsTotal; self.rejected = rejected; self.unknownColumns = unknownColumns
    }
}

/// A piece scanned into a container or return batch (`presentationID`), or without one (nil).
public struct ContainerScan: Sendable, Equatable {
    public var s10: String
    public var atMillis: Int64
    public var presentationID: Int64?
    public init(s10: String, atMillis: Int64, presentationID: Int64?) { self.s10 = s10; self.atMillis = atMillis; self.presentationID = presentationID }
}

/// The statements both stores run, with `$n` parameters (SQLite numbers them `?n`); the
/// identifier lists are appended by each store in its own way.
public enum ManifestSQL {
    public static let outsideImports = """
        SELECT count(*) FROM custody_manifest m WHERE NOT EXISTS (SELECT 1 FROM custody_import i WHERE i.id = m.import_id AND i.kind = 'manifest')
        """
    /// Rows of manifest imports for the days in [$1, $2).
    public static let rowsForDays = """
        SELECT m.import_id, m.line, m.day, m.container, m.direction, m.s10 FROM custody_manifest m
        JOIN custody_import i ON i.id = m.import_id AND i.kind = 'manifest'
        WHERE m.day >= $1 AND m.day < $2 ORDER BY m.day, m.container, m.import_id, m.line
        """
}

/// What the audit entry of a manifest import records (both stores write it; verify compares).
public enum ManifestImportAudit {
    public static func detail(_ draft: ManifestImportDraft, added: Int, digest: String) -> [String: String] {
        ["file": draft.fileName, "file_sha256": draft.fileHash, "rows": String(draft.rowsTotal), "added": String(added),
         "rejected": String(draft.rejected.count), "digest": digest, "direction": draft.rows.first?.direction ?? ""]
    }
}
