import Archive
import Foundation
import RecordkeeperCore
import Yams

/// The versioned file plan: read, export, import with a dry-run diff, apply.
public struct FilePlanService: Sendable {
    public enum Format: String, Sendable, CaseIterable {
        case yaml, json
        /// From a file name's extension (YAML unless it ends in .json).
        public static func guess(_ path: String) -> Format { path.lowercased().hasSuffix(".json") ? .json : .yaml }
    }

    public let archive: ArchiveHandle
    public init(archive: ArchiveHandle) { self.archive = archive }
    var store: any ArchiveStore { archive.store }

    public func current() async throws -> StoredFilePlan { try await RetentionService(archive: archive).plan() }
    public func history() async throws -> [StoredFilePlan] { try await store.filePlanHistory() }

    public static func render(_ plan: FilePlan, as format: Format) throws -> String {
        switch format {
        case .json:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
            return String(decoding: try encoder.encode(plan), as: UTF8.self) + "\n"
        case .yaml:
            return try YAMLEncoder().encode(plan)
        }
    }

    /// Reads a plan and checks it; every problem is named at once.
    public static func parse(_ text: String, format: Format) throws -> FilePlan {
        guard text.utf8.count <= 4 << 20 else { throw ArchiveError(.invalid, "a file plan larger than 4 MB is not a file plan") }
        let plan: FilePlan
        do {
            switch format {
            case .json: plan = try JSONDecoder().decode(FilePlan.self, from: Data(text.utf8))
            case .yaml: plan = try YAMLDecoder().decode(FilePlan.self, from: text)
            }
        } catch let e as DecodingError {
            throw ArchiveError(.invalid, "the file plan cannot be read: \(Self.describe(e))")
        } catch {
            throw ArchiveError(.invalid, "the file plan is not valid \(format.rawValue.uppercased()): \(error)")
        }
        let problems = plan.problems()
        guard problems.isEmpty else {
            throw ArchiveError(.invalid, "the file plan has \(problems.count) problem\(problems.count == 1 ? "" : "s"):\n  - " + problems.joined(separator: "\n  - "))
        }
        return plan
    }

    static func describe(_ e: DecodingError) -> String {
        func path(_ c: DecodingError.Context) -> String {
            let p = c.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
            return p.isEmpty ? "" : " at \(p)"
        }
        switch e {
        case .keyNotFound(let key, let c): return "missing '\(key.stringValue)'\(path(c))"
        case .typeMismatch(_, let c), .valueNotFound(_, let c): return "\(c.debugDescription)\(path(c))"
        case .dataCorrupted(let c): return "\(c.debugDescription)\(path(c))"
        @unknown default: return String(describing: e)
        }
    }

    /// What adopting `plan` would change, without changing anything.
    public func preview(_ plan: FilePlan) async throws -> RetentionDiff {
        let ctx = try await RetentionService(archive: archive).context(plan: plan)
        return try await store.recomputeAssignments(context: ctx, scope: .all, apply: false)
    }

    /// Saves `plan` as the next version and reassigns every record, in one transaction that
    /// also audits old → new.
    public func apply(_ plan: FilePlan, note: String?, actor: String) async throws -> (StoredFilePlan, RetentionDiff) {
        try await RecordsAccess(store: store).require(.recordsOfficer, actor: actor, action: "fileplan.version", target: "file-plan")
        let problems = plan.problems()
        guard problems.isEmpty else { throw ArchiveError(.invalid, "the file plan has problems:\n  - " + problems.joined(separator: "\n  - ")) }
        let result = try await store.applyRetentionChange(
            .filePlan(plan, note: note), audit: AuditDraft(actor: actor, action: "fileplan.version", target: "file-plan", detail: ["note": note ?? ""]),
            reason: "new file plan version")
        return (result.filePlan!, result.diff)
    }
}
