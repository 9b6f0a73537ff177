import Archive
@testable import Custody
import Foundation
import GRDB
import RecordkeeperCore
import Testing

/// Issue 15, first part: UPU S10 identifiers, the canonical target list, and its import (AT2 of
/// CUSTODY.md §6: the OIG's data-entry defect classes are rejected with their reason codes).
@Suite("Custody: S10 identifiers and target lists")
struct CustodyTargetTests {
    @Test func s10CheckDigitsFollowTheUPUWeights() {
        #expect(S10.checkDigit(serial: [1, 2, 3, 4, 5, 6, 7, 8]) == 5)
        for valid in ["EB000717595HK", "EE471108151FR", "RR473124829GB", " ee471108151fr "] {
            #expect((try? S10.parse(valid).get())?.value == valid.trimmingCharacters(in: .whitespaces).uppercased(), "\(valid)")
        }
        #expect(S10.parse("EB000717594HK") == .failure(.checkDigit(expected: 5, found: 4)))
        #expect(S10.parse("EB000717594HK").failureCode == "S10_CHECK")
        #expect(S10.parse("JA000717595HK") == .failure(.reservedServiceIndicator("JA")))
        #expect(S10.parse("JA000717595HK").failureCode == "S10_FORMAT")
        #expect(S10.parse("EB000717595XX") == .failure(.unknownCountry("XX")))
        for bad in ["", "EB00071759HK", "EB0007175955HK", "E1000717595HK", "EB000717595H1", "EB000 717595HK"] {
            #expect(S10.parse(bad) == .failure(.format), "\(bad)")
        }
        #expect(ISO3166.alpha2.count == 249)
    }

    @Test func csvRecordsKeepQuotingLineBreaksAndTheRowAsWritten() {
        let text = "\u{FEFF}a,b,c\r\n1,\"x, y\",\"say \"\"hi\"\"\"\r\n2,\"two\nlines\",z\n3,\"open,z\n4,ok,ok\n5,\"q\"x,z\n"
        let records = Array(CSVRecords(Data(text.utf8)))
        #expect(records.map(\.line) == [1, 2, 3, 5, 6, 7])
        #expect(records[0].fields == ["a", "b", "c"])
        #expect(records[1].fields == ["1", "x, y", "say \"hi\""] && records[1].raw == "1,\"x, y\",\"say \"\"hi\"\"\"")
        #expect(records[2].fields == ["2", "two\nlines", "z"] && records[2].malformed == nil)
        // An unclosed quote spoils its own line only; the next line is read as a record again.
        #expect(records[3].malformed != nil && records[3].raw == "3,\"open,z")
        #expect(records[4].fields == ["4", "ok", "ok"] && records[4].malformed == nil)
        #expect(records[5].malformed != nil)
    }

    @Test func timesNeedADateATimeAndAZone() {
        #expect(ISOInstant.millis("2019-06-17T08:00:00Z") == 1_560_758_400_000)
        #expect(ISOInstant.millis("2019-06-17T04:00-04:00") == 1_560_758_400_000)
        #expect(ISOInstant.millis("2019-06-17 08:00:00.5Z") == 1_560_758_400_500)
        for bad in ["2019-06-31T09:00:00Z", "next Tuesday", "2019-06-17", "2019-06-17T08:00:00", "2019-02-29T00:00Z", "2019-06-17T24:00Z", "06/17/2019 08:00"] {
            #expect(ISOInstant.millis(bad) == nil, "\(bad)")
        }
    }

    @Test func at2TheDefectClassesAreRejectedWithTheirCodesAndAReimportAddsNothing() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rk-custody-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("archive.sqlite").path
        let store = try SQLiteArchiveStore(path: path)
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
        // The import is in the audit chain with a digest over what it added.
        let audit = try await store.auditEntries(target: "custody-import:\(stored.id)", limit: 5)
        #expect(audit.count == 1 && audit[0].action == "custody.import" && audit[0].detail.contains(stored.digest))
        var hasher = StreamingHasher()
        for t in dry.plan.accepted.sorted(by: { $0.line < $1.line }) {
            let s = try #require(try await store.targets(s10: t.s10.value).first)
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
        #expect(second.stored?.added == 0 && second.stored?.merged == 15)
        #expect(try await store.targetCount() == 14)

        // The rows cannot be changed or removed behind the service's back.
        let db = try DatabaseQueue(path: path)
        for sql in ["UPDATE custody_target SET s10 = 'EE471108151FR'", "DELETE FROM custody_target", "UPDATE custody_import SET added = 99",
                    "DELETE FROM custody_import_rejection", "UPDATE custody_target_rule SET description = 'x'"] {
            #expect(throws: (any Error).self, "\(sql)") { try db.write { try $0.execute(sql: sql) } }
        }
    }

    @Test func aHeaderWithoutTheRequiredColumnsIsRefusedWhole() throws {
        #expect(throws: CustodyError.self) { try TargetImport.plan(Data("s10,rule_code\nEB000717595HK,NARC-01\n".utf8), rules: []) }
        #expect(throws: CustodyError.self) { try TargetImport.plan(Data(), rules: []) }
        let extra = try TargetImport.plan(Data((TargetImport.columns + ["ats_score"]).joined(separator: ",").utf8 + Array("\n".utf8)), rules: [])
        #expect(extra.unknownColumns == ["ats_score"] && extra.rowsTotal == 0)
    }
}

extension Result where Failure == S10.Problem {
    var failureCode: String? { if case .failure(let p) = self { return p.code }; return nil }
}
