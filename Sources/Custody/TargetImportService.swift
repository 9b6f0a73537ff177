import Archive
import Foundation
import RecordkeeperCore

/// Target lists into the archive: a dry run by default (what would be accepted, rejected with
/// which reason code, merged), then the commit, which stores the accepted rows, keeps the
/// rejected ones as written, and is a no-op for a file already imported.
public struct TargetImportService: Sendable {
    let store: any CustodyStore

    public init(store: any CustodyStore) { self.store = store }

    public struct Outcome: Sendable {
        public var plan: TargetImportPlan
        public var fileHash: String
        /// The stored import: after a commit, or when this file was imported before.
        public var stored: StoredTargetImport?
        /// The file had been imported before: nothing was added now.
        public var alreadyImported: Bool
    }

    /// Registers a rule version (`custody rule add`); false when it was registered already.
    public func addRule(_ rule: TargetRule, actor: String) async throws -> Bool {
        guard !rule.code.trimmingCharacters(in: .whitespaces).isEmpty, rule.code.count <= 64,
              rule.code.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }) else {
            throw CustodyError(.invalid, "a rule code is letters, digits, '-', '_' or '.' (at most 64): \(rule.code)")
        }
        guard rule.version > 0 else { throw CustodyError(.invalid, "a rule version is a positive whole number") }
        return try await store.saveTargetRule(StoredTargetRule(code: rule.code, version: rule.version, category: rule.category.rawValue,
                                                               source: rule.source, description: rule.description), actor: actor)
    }

    public func rules() async throws -> [StoredTargetRule] { try await store.targetRules() }

    /// Registers a mapping profile version (`custody profile add`); false when it was registered already.
    public func addProfile(_ data: Data, actor: String) async throws -> (profile: MappingProfile, added: Bool) {
        let p = try MappingProfile.parse(data)
        let definition = p.canonicalJSON
        let added = try await store.saveMappingProfile(StoredMappingProfile(name: p.name, version: p.version, definition: definition,
                                                                           sha256: ContentHash.of(Data(definition.utf8)).hex), actor: actor)
        return (p, added)
    }

    public func profiles() async throws -> [StoredMappingProfile] { try await store.mappingProfiles() }

    /// A registered profile by `name` or `name@version` (the latest version when none is given).
    public func profile(_ reference: String) async throws -> MappingProfile {
        let parts = reference.split(separator: "@", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard parts.count >= 1, !parts[0].trimmingCharacters(in: .whitespaces).isEmpty, parts.count == 1 || !parts[1].isEmpty else {
            throw CustodyError(.invalid, "a profile is NAME or NAME@VERSION: \(reference)")
        }
        let all = try await store.mappingProfiles().filter { $0.name == parts[0] }
        let chosen: StoredMappingProfile?
        if parts.count == 2 {
            guard let v = Int(parts[1]) else { throw CustodyError(.invalid, "a profile is NAME or NAME@VERSION: \(reference)") }
            chosen = all.first { $0.version == v }
        } else {
            chosen = all.max { $0.version < $1.version }
        }
        guard let chosen else {
            throw CustodyError(.notFound, "no mapping profile \(reference) (register one with recordkeeper custody profile add FILE)")
        }
        return try MappingProfile.parse(Data(chosen.definition.utf8))
    }

    /// What importing `file` would do; nothing is written.
    public func dryRun(_ file: URL, profile: MappingProfile? = nil) async throws -> Outcome {
        let (data, hash) = try Self.read(file)
        let plan = try TargetImport.plan(data, rules: try await ruleKeys(), profile: profile)
        let before = try await store.targetImport(fileHash: hash)
        return Outcome(plan: plan, fileHash: hash, stored: before, alreadyImported: before != nil)
    }

    /// Imports `file` (read through `profile` when given): the accepted rows and the rejected
    /// ones, with an audit entry naming the profile. The rows go from the file to the store one
    /// by one inside its transaction; the outcome's plan has the counts, not the rows.
    public func commit(_ file: URL, profile: MappingProfile? = nil, actor: String) async throws -> Outcome {
        let rules = try await ruleKeys()
        // The reader keeps its own copy of the text; the file's mapped pages go when this closure returns.
        let (reader, hash) = try { () throws -> (TargetImport.Reader, String) in
            let (data, hash) = try Self.read(file)
            return (try TargetImport.Reader(data, rules: rules, profile: profile), hash)
        }()
        if let before = try await store.targetImport(fileHash: hash) {
            while try reader.next() != nil {} // the counts, for the report
            return Outcome(plan: reader.plan, fileHash: hash, stored: before, alreadyImported: true)
        }
        let stored = try await store.commitTargetImport(TargetImportDraft(fileName: file.lastPathComponent, fileHash: hash, rows: reader,
                                                                          unknownColumns: reader.unknownColumns, mappingProfile: profile?.label), actor: actor)
        // Another import of the same file committed between the look-up and this one: the store
        // answered with it and read nothing.
        let raced = !reader.exhausted
        if raced { while try reader.next() != nil {} }
        return Outcome(plan: reader.plan, fileHash: hash, stored: stored, alreadyImported: raced)
    }

    func ruleKeys() async throws -> Set<RuleKey> {
        Set(try await store.targetRules().map { RuleKey(code: $0.code, version: $0.version) })
    }

    /// The file's bytes (mapped) and SHA-256; refuses what is not a readable regular file.
    static func read(_ file: URL) throws -> (Data, String) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: file.path, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw CustodyError(.notFound, "no file at \(file.path)")
        }
        let data: Data
        do { data = try Data(contentsOf: file, options: .alwaysMapped) } catch {
            throw CustodyError(.invalid, "cannot read \(file.path): \(error.localizedDescription)")
        }
        return (data, ContentHash.of(data).hex)
    }
}
