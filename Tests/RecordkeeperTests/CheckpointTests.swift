import Archive
import Foundation
import GRDB
import Recordkeeper
import RecordkeeperCore
import RecordkeeperTesting
import Testing

/// Issue 16, item 1: signed checkpoints catch what an unkeyed chain cannot — the tail of the log
/// removed with the rows it anchored, the whole chain re-forged with the triggers dropped, a batch
/// written without the key — and an exported file is checked without the archive.
@Suite("Signed checkpoints")
struct CheckpointTests {
    /// An archive that signs (its key made with the first checkpoint) holding two captures; the
    /// witness's file exported after them.
    static func signedArchive(_ tmp: TempDir) async throws -> (ArchiveHandle, witness: [SignedCheckpoint], exported: String) {
        let archive = try await makeArchive(tmp)
        try await CheckpointService(archive: archive).sign(reason: "archive created", actor: "test", createKey: true)
        for (n, seed) in [(1, 3), (2, 4)] {
            let zip = try ExportGenerator.write(ExportSpec(style: .iosZip, messageCount: 60, mediaEvery: 0, seed: UInt64(seed)), to: try tmp.sub("export-\(n)"))
            _ = try await ingest(archive, zip)
        }
        let exported = try await CheckpointService(archive: archive).export()
        return (archive, try CheckpointService.read(Data(exported.utf8)), exported)
    }

    static func codes(_ r: VerificationReport) -> Set<String> { Set(r.problems.map(\.code)) }

    /// What someone with the database file does first: the guards go.
    static func dropTriggers(_ db: Database) throws {
        for t in try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'trigger'") { try db.execute(sql: "DROP TRIGGER \"\(t)\"") }
    }

    @Test func captureSignsCheckpointsNamingItsBatchesAndAnIntactArchiveVerifiesAgainstThem() async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let (archive, witness, _) = try await Self.signedArchive(tmp)
        #expect(witness.count == 3 && witness.allSatisfy(\.signatureValid))
        let statements = witness.compactMap { CheckpointStatement.parse($0.statement) }
        // Each capture vouches for its batch's ingest entry: its sequence and hash.
        #expect(statements.map { $0.vouches.map { String($0.prefix { $0 != "=" }) } } == [[], ["batch:1"], ["batch:2"]])
        let entry = try #require(try await archive.store.auditEntries(AuditFilter(action: "ingest", target: "batch:2", limit: 1)).first)
        #expect(statements[2].vouches == ["batch:2=\(entry.sequence):\(entry.hash.hex)"])
        let messages = try await archive.store.stats().messages
        #expect(messages > 100 && statements[2].messages == messages && statements[1].messages < messages)
        #expect(statements[1].previous == statements[0].hash && statements[2].previous == statements[1].hash)
        let key = try String(contentsOf: archive.directory.url.appendingPathComponent("keys/signing.key"), encoding: .utf8)
        let attributes = try FileManager.default.attributesOfItem(atPath: archive.directory.url.appendingPathComponent("keys/signing.key").path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600 && !key.isEmpty)
        // The key is nowhere in the database.
        let db = try Data(contentsOf: archive.directory.databaseURL)
        #expect(db.range(of: Data(key.trimmingCharacters(in: .whitespacesAndNewlines).utf8)) == nil)
        let report = try await VerifyService(archive: archive).verify(actor: "test", witness: ("witness.jsonl", witness))
        #expect(report.ok, "\(report.problems)")
        #expect(report.checkpointsChecked == 3 && report.witnessCheckpointsChecked == 3 && report.checkpointKeyChanges.isEmpty)
    }

    @Test func removingTheTailWithTheRowsItAnchoredIsCaughtByTheWitness() async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let (archive, witness, _) = try await Self.signedArchive(tmp)
        // The second capture removed whole: its messages, its batch, and every audit entry from its
        // first one on (the triggers dropped first). The chain that remains is contiguous.
        let first = try #require(try await archive.store.auditEntries(AuditFilter(action: "ingest", target: "batch:2", limit: 1)).first)
        let queue = try rawDatabase(archive)
        try await queue.writeWithoutTransaction { db in
            try Self.dropTriggers(db)
            let start = try Int64.fetchOne(db, sql: "SELECT min(seq) FROM audit_log WHERE seq > (SELECT max(seq) FROM audit_log WHERE action = 'checkpoint' AND seq < ?)",
                                           arguments: [first.sequence])!
            try db.execute(sql: "DELETE FROM audit_log WHERE seq >= ?", arguments: [start])
            try db.execute(sql: "DELETE FROM message WHERE batch_id = 2")
            try db.execute(sql: "DELETE FROM capture_batch WHERE id = 2")
        }
        let alone = try await VerifyService(archive: archive).verify(actor: "test")
        #expect(!Self.codes(alone).contains("archive_truncated"))
        let against = try await VerifyService(archive: archive).verify(actor: "test", witness: ("witness.jsonl", witness))
        #expect(Self.codes(against).contains("archive_truncated"), "\(against.problems)")
        #expect(against.problems.first { $0.code == "archive_truncated" }?.detail.contains("witness.jsonl") == true)
    }

    @Test func aReforgedChainDivergesFromTheSignedCheckpoints() async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let (archive, witness, _) = try await Self.signedArchive(tmp)
        // Someone with the database rewrites what the first capture's entry says, and rechains
        // every entry after it so the chain is whole again.
        let target = try #require(try await archive.store.auditEntries(AuditFilter(action: "ingest", target: "batch:1", limit: 1)).first)
        let queue = try rawDatabase(archive)
        try await queue.writeWithoutTransaction { db in
            try Self.dropTriggers(db)
            var previous = try AuditEntry.genesis
            for row in try Row.fetchAll(db, sql: "SELECT seq, at, actor, action, target, detail, prev_hash FROM audit_log ORDER BY seq") {
                let seq: Int64 = row[0]
                if seq < target.sequence { previous = ContentHash(hex: try String.fetchOne(db, sql: "SELECT hash FROM audit_log WHERE seq = ?", arguments: [seq])!)!; continue }
                var detail: String = row[5]
                if seq == target.sequence { detail = detail.replacingOccurrences(of: "\"test\"", with: "\"someone else\"") }
                let e = AuditEntry(sequence: seq, at: row[1], actor: seq == target.sequence ? "someone else" : row[2], action: row[3], target: row[4],
                                   detail: detail, previousHash: previous)
                try db.execute(sql: "UPDATE audit_log SET actor = ?, detail = ?, prev_hash = ?, hash = ? WHERE seq = ?",
                               arguments: [e.actor, e.detail, e.previousHash.hex, e.hash.hex, seq])
                previous = e.hash
            }
        }
        // The chain checks by itself, but the archive's own signed checkpoints no longer match it.
        let alone = try await VerifyService(archive: archive).verify(actor: "test")
        #expect(!Self.codes(alone).contains("audit_broken_link") && Self.codes(alone).contains("chain_diverges"), "\(alone.problems)")
        let against = try await VerifyService(archive: archive).verify(actor: "test", witness: ("witness.jsonl", witness))
        #expect(against.problems.contains { $0.code == "chain_diverges" && $0.detail.contains("witness.jsonl") })
    }

    @Test func aBatchWrittenWithoutTheKeyIsNeverVouchedFor() async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let (archive, _, _) = try await Self.signedArchive(tmp)
        // The key is out of reach: the capture is stored and chained, but nobody signs for it.
        let keyFile = archive.directory.url.appendingPathComponent("keys/signing.key")
        let away = tmp.url.appendingPathComponent("signing.key.away")
        try FileManager.default.moveItem(at: keyFile, to: away)
        let zip = try ExportGenerator.write(ExportSpec(style: .iosZip, messageCount: 40, mediaEvery: 0, seed: 11), to: try tmp.sub("forged"))
        do {
            _ = try await ingest(archive, zip)
            Issue.record("a capture with its key missing passed in silence")
        } catch let e as ArchiveError {
            #expect(e.message.contains("captured (batch:3)") && e.message.contains("no checkpoint could be signed"), "\(e.message)")
        }
        #expect(!FileManager.default.fileExists(atPath: keyFile.path)) // no new key made behind anyone's back
        // Verify where the key cannot be read says what it could not check.
        let keyless = try await VerifyService(archive: archive).verify(actor: "test")
        #expect(keyless.checkpointKeyChanges.contains { $0.contains("could not be read here") }, "\(keyless.checkpointKeyChanges)")
        try FileManager.default.moveItem(at: away, to: keyFile)
        try await CheckpointService(archive: archive).sign(reason: "hourly", actor: "system:checkpoint")
        let report = try await VerifyService(archive: archive).verify(actor: "test")
        #expect(report.problems.map(\.code) == ["batch_not_vouched"] && report.problems[0].item == "batch:3", "\(report.problems)")
        // Someone who checked what the batch holds vouches for that entry exactly, in their name.
        let suggested = try #require(report.problems[0].detail.firstMatch(of: /--vouch (batch:3@[0-9]+)/)?.1)
        try await CheckpointService(archive: archive).sign(vouching: [String(suggested)], reason: "batch 3 checked against its export", actor: "alice")
        #expect(try await VerifyService(archive: archive).verify(actor: "test").ok)
    }

    @Test func anEntryChainedInForAVouchedBatchOrACheckpointUnderAnotherKeyIsNamed() async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let (archive, _, _) = try await Self.signedArchive(tmp)
        // Someone with the database chains a second ingest entry for batch 1 (say, with the digest
        // of messages they changed): the checkpoints vouch for batch 1's first entry, not this one.
        let original = try #require(try await archive.store.auditEntries(AuditFilter(action: "ingest", target: "batch:1", limit: 1)).first)
        let detail = try JSONDecoder().decode([String: String].self, from: Data(original.detail.utf8))
        try await archive.store.appendAudit(AuditDraft(actor: "test", action: "ingest", target: "batch:1", detail: detail))
        let report = try await VerifyService(archive: archive).verify(actor: "test")
        #expect(Set(report.problems.map(\.code)) == ["batch_not_vouched", "audit_anchor_repeated"]
                && report.problems.contains { $0.detail.contains("vouches for another entry") }, "\(report.problems)")
        // And signs a checkpoint over it with a key of their own: not the archive's key.
        let theirs = CheckpointService(archive: archive, keyFile: tmp.url.appendingPathComponent("their.key"))
        try await theirs.sign(vouching: ["batch:1"], reason: "hourly", actor: "system:checkpoint", createKey: true)
        let after = try await VerifyService(archive: archive).verify(actor: "test")
        #expect(Set(after.problems.map(\.code)) == ["checkpoint_not_by_archive_key", "audit_anchor_repeated"], "\(after.problems)")
        #expect(after.checkpointKeyChanges.count == 1)
    }

    @Test func anArchiveWithAKeyAndNoCheckpointHadThemRemoved() async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let archive = try await makeArchive(tmp)
        _ = try SigningKey.load(at: SigningKey.location(dataDirectory: archive.directory.url, environment: [:]), create: true)
        let report = try await VerifyService(archive: archive).verify(actor: "test")
        #expect(report.problems.map(\.code) == ["checkpoints_missing"], "\(report.problems)")
        // A key file others can read is refused.
        let keyFile = SigningKey.location(dataDirectory: archive.directory.url, environment: [:])
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: keyFile.path)
        #expect(throws: ArchiveError.self) { _ = try SigningKey.load(at: keyFile, create: false) }
    }

    @Test func signersAtOnceKeepOneChainOfCheckpoints() async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let (archive, _, _) = try await Self.signedArchive(tmp)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<8 { group.addTask { try await CheckpointService(archive: archive).sign(reason: "signer \(i)", actor: "test") } }
            try await group.waitForAll()
        }
        let (checked, problems, _, _) = try await CheckpointService(archive: archive).checkArchive()
        #expect(checked == 11 && problems.isEmpty, "\(problems)")
    }

    @Test func aRotatedKeyIsVouchedForByTheOldOneAndAReplacedKeyIsNot() async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let (archive, before, _) = try await Self.signedArchive(tmp)
        let service = CheckpointService(archive: archive)
        let oldKey = try #require(CheckpointStatement.parse(before[0].statement)?.key)
        let rotated = try await service.rotateKey(reason: "annual", actor: "test")
        let newKey = try #require(CheckpointStatement.parse(rotated.statement)?.key)
        #expect(newKey != oldKey && rotated.signatureValid && rotated.keyVouched(by: before.last!))
        #expect(try SigningKey.load(at: archive.directory.url.appendingPathComponent("keys/signing.key"), create: false).id == newKey)
        let zip = try ExportGenerator.write(ExportSpec(style: .iosZip, messageCount: 30, mediaEvery: 0, seed: 21), to: try tmp.sub("after"))
        _ = try await ingest(archive, zip)
        let exported = try await service.export()
        let witness = try CheckpointService.read(Data(exported.utf8))
        let report = try await VerifyService(archive: archive).verify(actor: "test", witness: ("witness.jsonl", witness))
        #expect(report.ok && report.checkpointKeyChanges.isEmpty, "\(report.problems) \(report.checkpointKeyChanges)")
        let file = tmp.url.appendingPathComponent("rotated.jsonl")
        try Data(exported.utf8).write(to: file)
        let script = try runCheckpointScript(file, ["--key", oldKey])
        #expect(script.status == 0 && script.output.contains("rotated from \(oldKey) to \(newKey), vouched for by the old key"), "\(script.output)")

        // The key file lost and a new key made by hand: noted by the archive, a problem for a witness.
        try FileManager.default.removeItem(at: archive.directory.url.appendingPathComponent("keys/signing.key"))
        await #expect(throws: ArchiveError.self) { try await service.sign(reason: "key restored from nowhere", actor: "test") }
        try await service.sign(reason: "key restored from nowhere", actor: "test", createKey: true)
        let alone = try await VerifyService(archive: archive).verify(actor: "test")
        #expect(alone.ok && alone.checkpointKeyChanges.count == 1 && alone.checkpointKeyChanges[0].contains("not vouched for"), "\(alone.checkpointKeyChanges)")
        let replaced = try await service.export()
        let against = try await VerifyService(archive: archive).verify(actor: "test", witness: ("witness.jsonl", try CheckpointService.read(Data(replaced.utf8))))
        #expect(against.problems.map(\.code) == ["checkpoint_key_changed"], "\(against.problems)")
        try Data(replaced.utf8).write(to: file)
        let bad = try runCheckpointScript(file)
        #expect(bad.status == 1 && bad.output.contains("the old key did not vouch for the new one"), "\(bad.output)")
    }

    @Test func aWitnessFileIsCheckedWithoutTheArchive() async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let (_, witness, exported) = try await Self.signedArchive(tmp)
        func run(_ text: String, _ extra: [String] = []) throws -> (Int32, String) {
            let file = tmp.url.appendingPathComponent("witness-\(UUID().uuidString.prefix(6)).jsonl")
            try Data(text.utf8).write(to: file)
            return try runCheckpointScript(file, extra)
        }
        let key = try #require(CheckpointStatement.parse(witness[0].statement)?.key)
        let good = try run(exported, ["--key", key])
        #expect(good.0 == 0 && good.1.contains("3 checkpoint(s) read") && good.1.hasSuffix("OK\n"), "\(good.1)")
        // Another key expected; a statement altered after signing; a checkpoint left out.
        #expect(try run(exported, ["--key", "0000000000000000"]).0 == 1)
        let lines = exported.split(separator: "\n").map(String.init)
        let count = try #require(CheckpointStatement.parse(witness[1].statement)?.messages)
        let altered = lines[1].replacingOccurrences(of: "messages: \(count)", with: "messages: \(count + 1)")
        #expect(altered != lines[1])
        let bad = try run(([lines[0], altered, lines[2]]).joined(separator: "\n") + "\n")
        #expect(bad.0 == 1 && bad.1.contains("the signature does not verify"), "\(bad.1)")
        let gap = try run(([lines[0], lines[2]]).joined(separator: "\n") + "\n")
        #expect(gap.0 == 1 && gap.1.contains("does not follow the checkpoint before it"), "\(gap.1)")
    }
}
