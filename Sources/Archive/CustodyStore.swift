import RecordkeeperCore

/// The custody module's records (issue 15): targeting rules, target lists and their imports. The
/// rules of what is valid live in the `Custody` module; a store keeps rows, refuses a second row
/// for one item and rule, and writes each change with its audit entry in one transaction.
/// (SQLite and PostgreSQL, under one conformance suite.)
public protocol CustodyStore: Sendable {
    /// Registers a rule version; false when that code and version exist with the same content
    /// (a different content is refused: a version is never changed, a new one is made).
    func saveTargetRule(_ rule: StoredTargetRule, actor: String) async throws -> Bool
    func targetRules() async throws -> [StoredTargetRule]
    /// The import of a file with this SHA-256, if it was committed.
    func targetImport(fileHash: String) async throws -> StoredTargetImport?
    /// Stores the accepted targets (a target already stored for the same item and rule is
    /// merged, not added), the rejected rows as written, and the import's record and audit entry.
    func commitTargetImport(_ draft: TargetImportDraft, actor: String) async throws -> StoredTargetImport
    func targets(s10: String) async throws -> [StoredTarget]
    func targetCount() async throws -> Int
    func rejectedRows(importID: Int64) async throws -> [StoredRejectedRow]
}

public struct StoredTargetRule: Sendable, Equatable, Codable {
    public var code: String
    public var version: Int
    public var category: String
    public var source: String
    public var description: String
    public init(code: String, version: Int, category: String, source: String, description: String) {
        self.code = code; self.version = version; self.category = category; self.source = source; self.description = description
    }
}

public struct StoredTarget: Sendable, Equatable, Codable {
    public var id: Int64
    public var s10: String
    public var ruleCode: String
    public var ruleVersion: Int
    public var reasonCode: String
    public var targetedAtMillis: Int64
    public var targetedBy: String
    public var expectedArrivalAtMillis: Int64?
    public var priority: Int?
    public var originCountry: String?
    public var mailClass: String?
    public var declaredDescription: String?
    public var holdRequestedAtMillis: Int64?
    public var importID: Int64?
    public var line: Int?

    public init(id: Int64 = 0, s10: String, ruleCode: String, ruleVersion: Int, reasonCode: String, targetedAtMillis: Int64, targetedBy: String,
                expectedArrivalAtMillis: Int64?, priority: Int?, originCountry: String?, mailClass: String?, declaredDescription: String?,
                holdRequestedAtMillis: Int64?, importID: Int64? = nil, line: Int?) {
        self.id = id; self.s10 = s10; self.ruleCode = ruleCode; self.ruleVersion = ruleVersion; self.reasonCode = reasonCode
        self.targetedAtMillis = targetedAtMillis; self.targetedBy = targetedBy; self.expectedArrivalAtMillis = expectedArrivalAtMillis
        self.priority = priority; self.originCountry = originCountry; self.mailClass = mailClass; self.declaredDescription = declaredDescription
        self.holdRequestedAtMillis = holdRequestedAtMillis; self.importID = importID; self.line = line
    }

    /// The canonical serialisation a target's hash is taken over (the import's digest covers
    /// every target it added, in line order).
    public var canonical: [UInt8] {
        var e = CanonicalEncoder(kind: "custody.target", version: 1)
        e.add("s10", s10)
        e.add("rule", ruleCode)
        e.add("rule_version", Int64(ruleVersion))
        e.add("reason", reasonCode)
        e.add("targeted_at", targetedAtMillis)
        e.add("targeted_by", targetedBy)
        e.add("expected_arrival_at", expectedArrivalAtMillis)
        e.add("priority", priority.map(Int64.init))
        e.add("origin_country", originCountry)
        e.add("mail_class", mailClass)
        e.add("declared_desc", declaredDescription)
        e.add("hold_requested_at", holdRequestedAtMillis)
        return e.bytes
    }
}

public struct StoredRejectedRow: Sendable, Equatable, Codable {
    public var line: Int
    public var code: String
    public var detail: String
    public var raw: String
    public init(line: Int, code: String, detail: String, raw: String) { self.line = line; self.code = code; self.detail = detail; self.raw = raw }
}

public struct TargetImportDraft: Sendable {
    public var fileName: String
    public var fileHash: String
    public var rowsTotal: Int
    public var targets: [StoredTarget]
    public var rejected: [StoredRejectedRow]
    public var mergedInFile: Int
    public var unknownColumns: [String]
    public init(fileName: String, fileHash: String, rowsTotal: Int, targets: [StoredTarget], rejected: [StoredRejectedRow], mergedInFile: Int,
                unknownColumns: [String]) {
        self.fileName = fileName; self.fileHash = fileHash; self.rowsTotal = rowsTotal; self.targets = targets; self.rejected = rejected
        self.mergedInFile = mergedInFile; self.unknownColumns = unknownColumns
    }
}

public struct StoredTargetImport: Sendable, Equatable, Codable {
    public var id: Int64
    public var fileName: String
    public var fileHash: String
    public var rowsTotal: Int
    public var added: Int
    public var rejected: Int
    /// Rows that named an item and rule already targeted (in the file or before it).
    public var merged: Int
    public var unknownColumns: [String]
    /// SHA-256 over the canonical form of every target the import added, in line order.
    public var digest: String
    public var importedBy: String
    public var importedAt: String
    public init(id: Int64, fileName: String, fileHash: String, rowsTotal: Int, added: Int, rejected: Int, merged: Int, unknownColumns: [String],
                digest: String, importedBy: String, importedAt: String) {
        self.id = id; self.fileName = fileName; self.fileHash = fileHash; self.rowsTotal = rowsTotal; self.added = added; self.rejected = rejected
        self.merged = merged; self.unknownColumns = unknownColumns; self.digest = digest; self.importedBy = importedBy; self.importedAt = importedAt
    }
}
