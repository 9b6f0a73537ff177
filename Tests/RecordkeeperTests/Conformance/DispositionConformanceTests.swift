import Archive
import Foundation
import RecordkeeperCore
import Testing

/// Disposition on every backend: two officers, holds that keep records out up to the moment
/// of execution, tombstones whose digest anchors what left, a capture that never brings a
/// disposed record back, and the checks `verify` makes.
@Suite("DispositionStore conformance (every backend)")
struct DispositionConformanceTests {
    typealias Store = any ConversationStore & CaptureStore & SearchIndexStore & PeopleStore & RetentionStore & HoldStore & AuditLog
        & DispositionStore & MessageStore & IntegrityStore

    static let today = CivilDate(year: 2026, month: 12, day: 6)!
    static func draft(_ actor: String, _ action: String) -> AuditDraft { AuditDraft(actor: actor, action: action, target: "disposition") }

    @Test(arguments: Backends.dispositions)
    func aDestructionNeedsTwoOfficersSparesHeldRecordsAndLeavesTombstones(_ backend: Backend<Store>) async throws {
        let open = try await backend.open()
        defer { Task { await open.close() } }
        let s = open.store
        let l = try await RecordsLawConformanceTests.load(s)
        while try await s.indexNext(limit: 100) > 0 {}
        let digestsBefore = try await s.batchIDs().asyncMap { try await s.batchDigest(batchID: $0) }

        let proposal = DispositionProposal(action: .destroy, asOf: Self.today, items: ["0002"], actor: "k.walsh", note: "FY10 messages", atMillis: 10_000)
        let batch = try await s.proposeDisposition(proposal, audit: Self.draft("k.walsh", "dispose.propose"))
        #expect(batch.status == .proposed && batch.records == 9 && batch.heldAtProposal == 0 && batch.items.map(\.itemID) == ["0002"])
        await #expect(throws: ArchiveError.self) { try await s.proposeDisposition(proposal, audit: Self.draft("k.walsh", "dispose.propose")) } // all in an open batch
        let review = try await s.dispositionReview(id: batch.id, itemID: "0002", offset: 0, limit: 3, randomSample: false)
        #expect(review.total == 9 && review.members.map(\.excerpt) == ["manifest one", "lane closed", "crane report"])
        #expect(try await s.dispositionReview(id: batch.id, itemID: nil, offset: 0, limit: 4, randomSample: true).members.count == 4)
        await #expect(throws: ArchiveError.self) { // the proposer cannot approve
            try await s.approveDisposition(id: batch.id, actor: "K.Walsh", atMillis: 11_000, audit: Self.draft("K.Walsh", "dispose.approve"))
        }
        await #expect(throws: ArchiveError.self) { // nor can it be executed unapproved
            try await s.executeDisposition(id: batch.id, actor: "d.harris", atMillis: 11_000, today: Self.today, accession: nil, auditAction: "dispose.execute")
        }
        let approved = try await s.approveDisposition(id: batch.id, actor: "d.harris", atMillis: 12_000, audit: Self.draft("d.harris", "dispose.approve"))
        #expect(approved.status == .approved && approved.approvedBy == "d.harris")

        // A hold placed after approval still keeps its records: execution reads holds itself.
        _ = try await s.createHold(NewHold(name: "manifests", matter: .foia, reference: nil, requestedBy: "FOIA office", scope: HoldScope(query: "manifest"),
                                           match: try SearchExpression.parse("manifest"), actor: "k.walsh", createdAtMillis: 12_500),
                                   audit: AuditDraft(actor: "k.walsh", action: "hold.create", target: "hold"))
        let done = try await s.executeDisposition(id: batch.id, actor: "d.harris", atMillis: 13_000, today: Self.today, accession: nil,
                                                  auditAction: "dispose.execute")
        #expect(done.disposed == 6 && done.withheld == 3 && done.batch.status == .executed && done.batch.withheld == 3) // three say "manifest"
        #expect(done.releasedBlobs.isEmpty) // the export still holds the surviving record
        let tombstones = try await s.tombstones(dispositionID: batch.id)
        #expect(tombstones.count == 6 && tombstones.allSatisfy { $0.outcome == "destroyed" && $0.itemID == "0002" && $0.authority == "DAA-0568-2022-0005-0002" })
        let entry = try #require(try await s.auditEntries(target: "disposition:\(batch.id)", limit: 10).last)
        #expect(entry.action == "dispose.execute" && entry.detail.contains(DisposalDigest(tombstones).hex))
        #expect(try await s.message(id: l.ids["crane report"]!) == nil)
        #expect(try await s.tombstone(messageID: l.ids["crane report"]!)?.dispositionID == batch.id)
        #expect(try await s.tombstones(conversationID: l.ann.id, limit: 10).count == 3)
        #expect(try await s.message(id: l.ids["manifest one"]!)?.message.body == "manifest one") // held, kept
        #expect(try await s.search(SearchRequest(query: try SearchExpression.parse("crane"), limit: 5)).total == 0)
        #expect(try await s.tombstonesWithRecords(limit: 10).isEmpty)
        #expect(try await s.tombstonesOutsideExecutedDispositions(limit: 10).isEmpty)
        // The batch anchors still hold: a disposed record counts through its tombstone.
        let digestsAfter = try await s.batchIDs().asyncMap { try await s.batchDigest(batchID: $0) }
        #expect(digestsAfter == digestsBefore)
        // A disposed record is never captured again.
        let again = try await s.startBatch(NewBatch(custodianID: l.ann.custodianID, conversationID: l.ann.id, actor: "t", sourceName: "e.xml",
                                                    source: BlobInfo(hash: ContentHash.of("export"), size: 6), platform: .sms, format: "test",
                                                    textMember: "e.xml", dateOrder: nil, timeZone: "UTC", timeZoneBasis: "flag", startedAtMillis: 20_000))
        let sent = LocalDateTime(year: 2010, month: 5, day: 2, hour: 9, minute: 1)
        let crane = ArchivedMessage(
            identityKey: IdentityKey.forMessage(platform: .sms, conversationKey: l.ann.key, senderKey: IdentityKey.senderKey("Ann"), sentLocal: sent,
                                                body: "crane report", duplicateOrdinal: 0),
            platform: .sms, conversationKey: l.ann.key, sourceOrdinal: 1, duplicateOrdinal: 0, sentLocal: sent, timeZone: "UTC",
            sentAt: sent.secondsSinceEpochAsUTC, capturedAtMillis: 2_000, sender: "Ann", senderRaw: "Ann", body: "crane report", raw: "crane report",
            kind: .user, flags: [], sourceBlob: ContentHash.of("export"), sourceMember: "e.xml", sourceLine: 2, lineCount: 1, attachments: [])
        let r = try await s.append(batchID: again.id, conversationID: l.ann.id, messages: [crane], defects: [])
        #expect(r.added == 0 && r.duplicates == 1)

        try await s.saveCertificate(dispositionID: batch.id, json: "{\"disposition\":\(batch.id)}", audit: Self.draft("d.harris", "dispose.certificate"))
        #expect(try await s.certificate(dispositionID: batch.id) == "{\"disposition\":\(batch.id)}")
        await #expect(throws: ArchiveError.self) {
            try await s.saveCertificate(dispositionID: batch.id, json: "{}", audit: Self.draft("d.harris", "dispose.certificate"))
        }
        #expect(try await s.dispositions().map(\.id) == [batch.id])
    }

    @Test(arguments: Backends.dispositions)
    func aTransferIsPackagedThenConfirmedWithItsAccession(_ backend: Backend<Store>) async throws {
        let open = try await backend.open()
        defer { Task { await open.close() } }
        let s = open.store
        let l = try await RecordsLawConformanceTests.load(s)
        _ = try await s.applyRetentionChange(.profile(email: "ann@agency.example.gov", name: "Ann Lee", office: nil), audit: AuditDraft(actor: "k.walsh", action: "custodian.add", target: "x"), reason: "r")
        _ = try await s.applyRetentionChange(
            .designation(custodianEmail: "ann@agency.example.gov", RoleDesignation(role: "Port Director", capstone: true, starts: CivilDate(year: 2009, month: 1, day: 1)!)),
            audit: AuditDraft(actor: "k.walsh", action: "custodian.designation", target: "x"), reason: "r")
        let t = try await s.proposeDisposition(DispositionProposal(action: .transfer, asOf: Self.today, items: nil, actor: "k.walsh", note: nil, atMillis: 1),
                                               audit: Self.draft("k.walsh", "transfer.propose"))
        #expect(t.records == 5 && t.items.map(\.itemID) == ["0001"])
        await #expect(throws: ArchiveError.self) { try await s.markPackaged(id: t.id, bagDigest: "abc", atMillis: 2, audit: Self.draft("x", "transfer.package")) }
        _ = try await s.approveDisposition(id: t.id, actor: "d.harris", atMillis: 3, audit: Self.draft("d.harris", "transfer.approve"))
        #expect(try await s.withholdIneligible(id: t.id, today: Self.today) == 0)
        #expect(try await s.dispositionMembers(id: t.id).map(\.messageID) == ["manifest one", "crane report", "lunch", "manifest two", "gate log"].map { l.ids[$0]! })
        _ = try await s.markPackaged(id: t.id, bagDigest: "sha256:bag", atMillis: 4, audit: Self.draft("d.harris", "transfer.package"))
        await #expect(throws: ArchiveError.self) { // confirmed only with NARA's accession number
            try await s.executeDisposition(id: t.id, actor: "d.harris", atMillis: 5, today: Self.today, accession: nil, auditAction: "transfer.confirm")
        }
        let done = try await s.executeDisposition(id: t.id, actor: "d.harris", atMillis: 5, today: Self.today, accession: "NARA-2026-0042",
                                                  auditAction: "transfer.confirm")
        #expect(done.disposed == 5 && done.batch.accession == "NARA-2026-0042")
        #expect(try await s.tombstones(dispositionID: t.id).allSatisfy { $0.outcome == "transferred" && $0.accession == "NARA-2026-0042" })
        let cancelled = try await s.proposeDisposition(DispositionProposal(action: .destroy, asOf: Self.today, items: nil, actor: "k.walsh", note: nil, atMillis: 6),
                                                       audit: Self.draft("k.walsh", "dispose.propose"))
        #expect(try await s.cancelDisposition(id: cancelled.id, actor: "k.walsh", reason: "wrong year", atMillis: 7, audit: Self.draft("k.walsh", "dispose.cancel")).status == .cancelled)
        await #expect(throws: ArchiveError.self) {
            try await s.cancelDisposition(id: cancelled.id, actor: "k.walsh", reason: "again", atMillis: 8, audit: Self.draft("k.walsh", "dispose.cancel"))
        }
    }
}

extension Array {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var out: [T] = []
        for e in self { out.append(try await transform(e)) }
        return out
    }
}
