@testable import Archive
@testable import ArchivePostgres
import Custody
import Foundation
import GRDB
import PostgresNIO
import RecordkeeperCore
import Testing

extension Backends {
    static let custody: [Backend<any CustodyStore & AuditLog>] = all(sqlite: { $0 }, postgres: { $0 })
}

/// Issue 15, AT2 of CUSTODY.md §6 on every backend: the OIG's data-entry defect classes are
/// rejected with their reason codes and kept as written, duplicates merge, a dry run writes
/// nothing, a file is imported once, and the rows cannot be changed behind the service's back.
@Suite("CustodyStore conformance: target lists (every backend)")
struct CustodyConformanceTests {
    @Test(arguments: Backends.custody)
    func at2TheDefectClassesAreRejectedWithTheirCodesAndAReimportAddsNothing(_ backend: Backend<any CustodyStore & AuditLog>) async throws {
        let open = try await backend.open()
        defer { Task { await open.close() } }
        let store = open.store
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rk-custody-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let service = TargetImportService(store: store)
        let file = try #require(try CustodyFixtures.write(.at2, seed: 1, to: dir).first)
        // The same seed writes the same bytes; another seed other items.
        #expect(CustodyFixtures.at2Targets(seed: 1) == (try String(contentsOf: file, encoding: .utf8)))
        #expect(CustodyFixtures.at2Targets(seed: 2) != CustodyFixtures.at2Targets(seed: 1))

        // Without the rules every row with a well-formed item and a rule names an unknown one.
        let unruled = try await service.dryRun(file)
        #expect(unruled.plan.accepted.isEmpty && unruled.plan.rejectedByCode["RULE_UNKNOWN"] == 17)
        for rule in CustodyFixtures.rules(for: .at2) { #expect(try await service.addRule(rule, actor: "targeter")) }
        #expect(try await service.addRule(CustodyFixtures.rules(for: .at2)[0], actor: "targeter") == false)
        var changed = CustodyFixtures.rules(for: .at2)[0]
        changed.description = "something else"
        await #expect(throws: ArchiveError.self) { _ = try await service.addRule(changed, actor: "targeter") }
        #expect(try await service.rules().map { "\($0.code) v\($0.version)" } == ["COI-CN-01 v1", "NARC-01 v1"])

        let dry = try await service.dryRun(file)
        #expect(dry.plan.rowsTotal == 20)
        #expect(dry.plan.accepted.count == 14)
        #expect(dry.plan.rejectedByCode == ["S10_CHECK": 1, "S10_FORMAT": 1, "REQUIRED_MISSING": 1, "DATE_INVALID": 2])
        #expect(dry.plan.mergedDuplicates.count == 1 && dry.plan.mergedDuplicates[0].firstLine == 2 && dry.plan.mergedDuplicates[0].line == 21)
        #expect(try await store.targetCount() == 0) // a dry run writes nothing

        let done = try await service.commit(file, actor: "targeter")
        let stored = try #require(done.stored)
        #expect(!done.alreadyImported && stored.added == 14 && stored.rejected == 5 && stored.merged == 1 && stored.rowsTotal == 20)
        #expect(try await store.targetCount() == 14)
        // Rejected rows are kept as written, with their lines.
        let lines = try String(contentsOf: file, encoding: .utf8).components(separatedBy: "\r\n")
        let kept = try await store.rejectedRows(importID: stored.id)
        #expect(kept.count == 5 && kept.allSatisfy { lines[$0.line - 1] == $0.raw })
        #expect(kept.map(\.code) == dry.plan.rejected.map(\.code))
        // The import is in the audit chain with a digest over what it added, in line order.
        let audit = try await store.auditEntries(target: "custody-import:\(stored.id)", limit: 5)
        #expect(audit.count == 1 && audit[0].action == "custody.import" && audit[0].detail.contains(stored.digest))
        var hasher = StreamingHasher()
        for t in dry.plan.accepted.sorted(by: { $0.line < $1.line }) {
            let s = try #require(try await store.targets(s10: t.s10.value).first)
            #expect(s.importID == stored.id && s.line == t.line && s.targetedAtMillis == t.targetedAtMillis)
            s.canonical.withUnsafeBytes { hasher.update($0) }
        }
        #expect(hasher.finalize().hex == stored.digest)

        // The same file again: nothing added, the first import named.
        let again = try await service.commit(file, actor: "someone-else")
        #expect(again.alreadyImported && again.stored?.id == stored.id)
        #expect(try await store.targetCount() == 14)
        // Another file naming the same items and rules merges them rather than adding.
        let copy = dir.appendingPathComponent("AT2-again.csv")
        try (CustodyFixtures.at2Targets(seed: 1) + "\r\n").write(to: copy, atomically: true, encoding: .utf8)
        let second = try await service.commit(copy, actor: "targeter")
        #expect(second.stored?.added == 0 && second.stored?.merged == 15 && second.stored?.id == stored.id + 1)
        #expect(try await store.targetCount() == 14)

        // The rows cannot be changed or removed behind the service's back.
        for sql in ["UPDATE custody_target SET s10 = 'EE471108151FR'", "DELETE FROM custody_target", "UPDATE custody_import SET added = 99",
                    "DELETE FROM custody_import_rejection", "UPDATE custody_target_rule SET description = 'x'"] {
            await #expect(throws: (any Error).self, "\(sql)") {
                if let s = store as? SQLiteArchiveStore {
                    try await s.write { db in try db.execute(sql: sql) }
                } else if let p = store as? PostgresArchiveStore {
                    try await p.transaction("tampering") { conn in try await conn.run(PostgresQuery(unsafeSQL: sql), logger: p.logger) }
                }
            }
        }
        #expect(try await store.targetCount() == 14)
    }
}
