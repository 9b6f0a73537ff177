import Archive
import Foundation
import Logging
import PostgresNIO
import RecordkeeperCore

/// How far `migrate` got with one table.
public struct ImportProgress: Sendable {
    public var table: String
    /// Rows of the table now in PostgreSQL.
    public var copied: Int
    /// Rows the embedded archive holds.
    public var total: Int
}

/// One table after the copy: rows on each side (they must be equal).
public struct ImportedTable: Sendable, Codable, Hashable {
    public var table: String
    public var sourceRows: Int
    public var targetRows: Int
    /// Rows this run copied (the rest were copied by an earlier, interrupted run).
    public var copiedNow: Int
}

/// Which tables of an embedded (SQLite) archive `migrate` copies, in an order every foreign key
/// allows, and which it leaves behind on purpose.
public enum ArchiveImport {
    public static let copied: [String] = [
        "custodian", "conversation", "participant", "blob", "capture_batch", "message", "attachment", "defect",
        "app_user", "custodian_account", "role_designation", "api_token", "user_login",
        "file_plan", "cutoff_event", "retention_assignment",
        "legal_hold", "disposition_batch", "disposition_member", "tombstone",
        "external_party", "party_account", "carriage", "live_transaction",
        "ud_incident", "ud_incident_note", "reminder_log", "audit_report", "recommendation", "recommendation_note",
        "custody_target_rule", "custody_mapping_profile", "custody_import", "custody_import_rejection", "custody_target", "custody_location", "custody_presentation", "custody_item", "custody_event", "custody_inspection",
        "custody_seizure", "custody_seacats_entry", "custody_security_check", "custody_seizure_correction",
        "custody_detention", "custody_detention_step", "custody_pii_purge", "custody_addressee", "custody_pii_tombstone", "custody_setting",
        "custody_referral", "custody_referral_step", "custody_bulk_request", "custody_carrier_count", "custody_duty", "custody_return_member", "custody_aed", "custody_manifest",
        // Last: the chain head on the target then says the copy is complete.
        "audit_log",
    ]

    /// Tables not copied, and why (state rebuilt on PostgreSQL, or that belongs to a process).
    public static let skipped: [String: String] = [
        "search_index_state": "the search index is rebuilt on PostgreSQL from the copied records",
        "lease": "leases belong to the instances that hold them",
        "web_session": "browser sessions are not carried over; everyone signs in again",
        "login_failure": "sign-in throttling starts afresh",
        "login_claim": "sign-in throttling starts afresh",
        "sign_in_pending": "a single sign-on under way finishes on the archive it began on",
        "blob_key": "each blob is sealed anew in the target blob store, under a data key of its own wrapped by the target's key-encryption key",
        "storage_scrub": "the embedded database file's own state",
        "read_audit_mark": "how far the embedded archive's read-audit journal is chained; it is chained whole before the copy",
    ]

    /// Tables whose guards refuse rows written other than by their own procedure (a tombstone
    /// only by executing an approved disposition; file plan versions never replaced): a copy
    /// writes rows that procedure already wrote, so the guards are off for the copy's
    /// transaction only.
    static let guarded: Set<String> = ["tombstone", "file_plan"]

    /// Columns named differently on PostgreSQL: a hold's query is `fts_match` on SQLite (its
    /// canonical text since schema v11, FTS5 text before, which reads to the same query) and
    /// `query` here, always canonical.
    static let renamed: [String: [String: String]] = ["legal_hold": ["fts_match": "query"]]
}

extension PostgresArchiveStore {
    struct TargetColumn {
        var name: String
        var type: String
        var required: Bool
        var identity: Bool
    }

    func targetColumns(_ table: String) async throws -> [TargetColumn] {
        try await rows("reading the columns of \(table)", """
            SELECT column_name::text, data_type::text, is_nullable::text, column_default IS NOT NULL OR is_identity = 'YES', is_identity::text
            FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = \(table) ORDER BY ordinal_position
            """, as: (String, String, String, Bool, String).self)
            .map { TargetColumn(name: $0.0, type: $0.1, required: $0.2 == "NO" && !$0.3, identity: $0.4 == "YES") }
    }

    /// Copies every record of an embedded archive into this (empty) database, table by table in
    /// pages of `pageSize` rows, each page in one transaction with the note of how far the copy
    /// got: run it again after an interruption and it goes on from there. Ids, hashes and the
    /// audit chain are kept as they are, so `verify` recomputes the same chain on both sides.
    ///
    /// Refuses a database that holds anything but an earlier, interrupted copy of the same
    /// archive. Afterwards identity sequences continue after the copied ids and every message is
    /// queued for the search index.
    public func importArchive(from source: SQLiteArchiveStore, pageSize: Int = 5000,
                              progress: @Sendable (ImportProgress) -> Void = { _ in }) async throws -> [ImportedTable] {
        // Reads' audit entries still waiting in the source's journal belong in the chain copied.
        try await source.settleReadAudits()
        let tables = Dictionary(uniqueKeysWithValues: try await source.exportedTables().map { ($0.name, $0) })
        let unknown = tables.keys.filter { !ArchiveImport.copied.contains($0) && ArchiveImport.skipped[$0] == nil }.sorted()
        guard unknown.isEmpty else {
            throw ArchiveError(.invalid, "the embedded archive has tables this version of migrate does not know how to copy (\(unknown.joined(separator: ", "))); "
                + "use the Recordkeeper release that wrote it")
        }
        if let missing = ArchiveImport.copied.first(where: { tables[$0] == nil }) {
            throw ArchiveError(.invalid, "the embedded archive has no \(missing) table; is it a Recordkeeper data directory?")
        }
        try await checkImportTarget(source)

        var report: [ImportedTable] = []
        for name in ArchiveImport.copied {
            let copiedNow = try await importTable(tables[name]!, from: source, pageSize: pageSize, progress: progress)
            report.append(ImportedTable(table: name, sourceRows: try await source.exportedCount(name), targetRows: 0, copiedNow: copiedNow))
        }
        try await finishImport()
        for i in report.indices {
            report[i].targetRows = try await column("counting \(report[i].table)", PostgresQuery(unsafeSQL: "SELECT count(*) FROM \(report[i].table)"),
                                                    as: Int64.self).first.map { Int($0) } ?? 0
        }
        return report
    }

    /// The target is empty (a first run) or holds an earlier run's copy of this same archive;
    /// anything else is refused.
    public func checkImportTarget(_ source: SQLiteArchiveStore) async throws {
        // The source is known by its first audit entry (its `archive.init`), which no other
        // archive shares; a copy records it before anything else.
        guard let genesis = try await source.auditEntries(afterSequence: 0, limit: 1).first?.hash.hex else {
            throw ArchiveError(.invalid, "the embedded archive has no audit log; is it a Recordkeeper data directory?")
        }
        let started = try await column("reading the copy's progress", "SELECT count(*) FROM import_progress", as: Int64.self).first ?? 0
        if started > 0 {
            let recorded = try await column("reading the copy's source", "SELECT last_key FROM import_progress WHERE source_table = '#source'",
                                            as: String?.self).first ?? nil
            guard recorded == genesis else {
                throw ArchiveError(.refused, "the database holds part of a copy of a different archive; migrate into an empty database")
            }
        }
        if started == 0 {
            let held = try await column("checking the database is empty", """
                SELECT (SELECT count(*) FROM audit_log) + (SELECT count(*) FROM custodian) + (SELECT count(*) FROM capture_batch)
                    + (SELECT count(*) FROM app_user) + (SELECT count(*) FROM legal_hold)
                """, as: Int64.self).first ?? 0
            if held > 0 {
                throw ArchiveError(.refused, "the database already holds an archive; migrate copies into an empty database (create one with "
                    + "`createdb`, or drop this one if it is a failed test copy)")
            }
            try await transaction("recording the copy's source") { conn in
                try await conn.run("INSERT INTO import_progress (source_table, last_key, done) VALUES ('#source', \(genesis), true)", logger: self.logger)
            }
            return
        }
        // A resumed copy: what the target's audit log holds must be the start of the source's.
        let last = try await rows("reading the copied audit chain", "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1", as: (Int64, String).self).first
        if let (seq, hash) = last {
            let there = try await source.auditEntries(afterSequence: seq - 1, limit: 1).first
            guard let there, there.sequence == seq, there.hash.hex == hash else {
                throw ArchiveError(.refused, "the database holds a copy of a different archive (its audit entry \(seq) is not the source's); "
                    + "migrate into an empty database")
            }
        }
    }

    /// Copies one table from where an earlier run stopped; returns the rows it copied.
    func importTable(_ table: ExportedTable, from source: SQLiteArchiveStore, pageSize: Int,
                     progress: @Sendable (ImportProgress) -> Void) async throws -> Int {
        let name = table.name
        let target = try await targetColumns(name)
        guard !target.isEmpty else { throw ArchiveError(.storage, "the database has no \(name) table; is its schema up to date?") }
        let renames = ArchiveImport.renamed[name] ?? [:]
        let byName = Dictionary(uniqueKeysWithValues: target.map { ($0.name, $0) })
        let lost = table.columns.filter { byName[renames[$0] ?? $0] == nil }
        guard lost.isEmpty else {
            throw ArchiveError(.invalid, "\(name).\(lost.joined(separator: ", ")) has no place in the PostgreSQL schema; copying would lose it")
        }
        let filled = Set(table.columns.map { renames[$0] ?? $0 })
        if let unfilled = target.first(where: { $0.required && !filled.contains($0.name) }) {
            throw ArchiveError(.invalid, "\(name).\(unfilled.name) is required on PostgreSQL but the embedded archive has no such column")
        }
        // (source column, target column), in the source's order.
        let pairs = table.columns.map { ($0, byName[renames[$0] ?? $0]!) }
        let columns = pairs.map(\.1)
        let total = try await source.exportedCount(name)

        let state = try await rows("reading the copy's progress", "SELECT last_key, copied FROM import_progress WHERE source_table = \(name)",
                                   as: (String?, Int64).self).first
        var after: [TableValue]? = try state?.0.map { try JSONDecoder().decode([TableValue].self, from: Data($0.utf8)) }
        var copied = Int(state?.1 ?? 0)
        var copiedNow = 0
        progress(ImportProgress(table: name, copied: copied, total: total))
        while true {
            let page = try await source.exportedRows(table, columns: pairs.map(\.0), after: after, limit: pageSize)
            guard let lastKey = page.last?.key else { break }
            let binds = try page.map { row in
                try zip(row.values, pairs).map { value, pair in
                    try Self.bind(name == "legal_hold" && pair.0 == "fts_match" ? try Self.canonicalQuery(value, table: name) : value, as: pair.1, table: name)
                }
            }
            let key = String(decoding: try JSONEncoder().encode(lastKey), as: UTF8.self)
            let years: Set<String> = name == "message" ? Set(page.compactMap { row -> String? in
                guard let i = columns.firstIndex(where: { $0.name == "sent_local" }), case .text(let s) = row.values[i] else { return nil }
                return String(s.prefix(4))
            }) : []
            let firstPage = after == nil
            try await transaction("copying \(name)") { conn in
                let logger = self.logger
                if !years.isEmpty { try await Self.ensurePartitions(years, conn, logger: logger) }
                if ArchiveImport.guarded.contains(name) {
                    try await conn.run(PostgresQuery(unsafeSQL: "ALTER TABLE \(name) DISABLE TRIGGER USER"), logger: logger)
                }
                // A new database has version 1 of the standard file plan; the archive's own
                // history replaces it.
                if name == "file_plan" && firstPage { try await conn.run("DELETE FROM file_plan", logger: logger) }
                // COPY writes the given ids into identity columns (as OVERRIDING SYSTEM VALUE would).
                try await conn.copyRows(name, columns: columns.map(\.name), rows: binds, logger: logger)
                if ArchiveImport.guarded.contains(name) {
                    try await conn.run(PostgresQuery(unsafeSQL: "ALTER TABLE \(name) ENABLE TRIGGER USER"), logger: logger)
                }
                try await conn.run("""
                    INSERT INTO import_progress (source_table, last_key, copied) VALUES (\(name), \(key), \(Int64(page.count)))
                    ON CONFLICT (source_table) DO UPDATE SET last_key = EXCLUDED.last_key, copied = import_progress.copied + EXCLUDED.copied
                    """, logger: logger)
            }
            after = lastKey
            copied += page.count
            copiedNow += page.count
            progress(ImportProgress(table: name, copied: copied, total: total))
        }
        try await transaction("recording the copy's progress") { conn in
            try await conn.run("""
                INSERT INTO import_progress (source_table, done) VALUES (\(name), true)
                ON CONFLICT (source_table) DO UPDATE SET done = true
                """, logger: self.logger)
        }
        return copiedNow
    }

    /// Identity sequences continue after the copied ids; every message without an index entry
    /// is queued for the indexer.
    func finishImport() async throws {
        try await transaction("finishing the copy") { conn in
            let logger = self.logger
            let identities = try await conn.all("""
                SELECT table_name::text, column_name::text FROM information_schema.columns
                WHERE table_schema = current_schema() AND is_identity = 'YES' ORDER BY table_name
                """, as: (String, String).self, logger: logger)
            for (table, column) in identities {
                try await conn.run(PostgresQuery(unsafeSQL: """
                    SELECT setval(pg_get_serial_sequence('\(table)', '\(column)'), coalesce(max(\(column)), 0) + 1, false) FROM \(table)
                    """), logger: logger)
            }
            try await conn.run("""
                SELECT setval('message_id_seq', greatest((SELECT coalesce(max(id), 0) FROM message), (SELECT coalesce(max(message_id), 0) FROM tombstone)) + 1, false)
                """, logger: logger)
            try await conn.run("""
                INSERT INTO index_queue (message_id, captured_at)
                SELECT m.id, m.captured_at FROM message m WHERE NOT EXISTS (SELECT 1 FROM message_search s WHERE s.message_id = m.id)
                ON CONFLICT DO NOTHING
                """, logger: logger)
        }
    }

    /// A hold's query in its canonical text; a query that cannot be read stops the copy (a hold
    /// must never protect less on the new backend than it did on the old).
    static func canonicalQuery(_ value: TableValue, table: String) throws -> TableValue {
        guard case .text(let text) = value else { return value }
        do { return .text(try SearchExpression.parse(text).description) } catch {
            throw ArchiveError(.invalid, "a legal hold's query cannot be read (\(error)); fix the hold in the source before migrating")
        }
    }

    static func bind(_ value: TableValue, as column: TargetColumn, table: String) throws -> Bind {
        func refuse() -> ArchiveError {
            ArchiveError(.invalid, "\(table).\(column.name) holds a value that is not a \(column.type) in the embedded archive; it was not copied")
        }
        switch column.type {
        case "bigint", "integer", "smallint":
            switch value {
            case .null: return .int(nil)
            case .integer(let i): return .int(i)
            case .text(let s): guard let i = Int64(s) else { throw refuse() }; return .int(i)
            case .real(let d): guard d == d.rounded(), let i = Int64(exactly: d) else { throw refuse() }; return .int(i)
            case .bytes: throw refuse()
            }
        case "boolean":
            switch value {
            case .null: return .bool(nil)
            case .integer(let i): return .bool(i != 0)
            case .text(let s) where ["0", "1", "true", "false"].contains(s.lowercased()): return .bool(s == "1" || s.lowercased() == "true")
            default: throw refuse()
            }
        case "double precision", "real", "numeric":
            switch value {
            case .null: return .double(nil)
            case .integer(let i): return .double(Double(i))
            case .real(let d): return .double(d)
            default: throw refuse()
            }
        case "text", "character varying":
            switch value {
            case .null: return .text(nil)
            case .text(let s): return .text(s)
            case .integer(let i): return .text(String(i))
            case .real(let d): return .text(String(d))
            case .bytes(let b): guard let s = String(validating: b, as: UTF8.self) else { throw refuse() }; return .text(s)
            }
        default:
            throw ArchiveError(.invalid, "\(table).\(column.name) is a \(column.type) on PostgreSQL, which migrate cannot fill")
        }
    }
}
