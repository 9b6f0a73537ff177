import Archive
import Foundation
import GRDB
import Recordkeeper
import RecordkeeperCore
import Testing

/// The records-law engine end to end on a real archive: file plan, designations, holds,
/// two-person disposition, tombstones, certificates, BagIt transfer.
@Suite("Records law: retention, holds, disposition, transfer", .serialized)
struct RecordsLawTests {
    /// Jane Doe's export of a chat with Sam Lee (an unsaved contact, shown by phone number).
    /// Sent dates cross calendar years, a partial-year Capstone designation and a leap day.
    static let chat = """
        30/12/2020, 09:15 - Messages and calls are end-to-end encrypted. No one outside of this chat, not even WhatsApp, can read or listen to them. Tap to learn more.
        30/12/2020, 09:16 - Jane Doe: Crane 4 is down again
        02/01/2021, 08:00 - +1 (202) 555-0143: Shift change at 0800
        14/03/2021, 10:00 - Jane Doe: Manifest review tomorrow
        15/03/2021, 10:00 - +1 (202) 555-0143: Approved the manifest
        05/05/2021, 11:30 - Jane Doe: IMG-20210505-WA0001.jpg (file attached)
        Photo of the seized pallet
        05/05/2021, 11:31 - +1 (202) 555-0143: Hold that pallet for the inspector general
        31/08/2021, 17:00 - +1 (202) 555-0143: Last day in the front office
        01/09/2021, 09:00 - +1 (202) 555-0143: New role starts today
        29/02/2024, 12:00 - Jane Doe: Leap day inventory count

        """
    static let photo = Data([0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 0x4A, 0x46, 0x49, 0x46, 0x00, 0x01, 0x02, 0x03])
    static let jane = "jane.doe@agency.example.gov"
    static let sam = "sam.lee@agency.example.gov"

    struct Fixture {
        let tmp: TempDir
        let archive: ArchiveHandle
        let export: URL
        let batch: BatchReport
        func id(_ body: String) async throws -> Int64 {
            let (_, messages) = try await RecordService(archive: archive).transcript(conversationID: batch.conversationID!, actor: "test")
            guard let m = messages.first(where: { $0.message.body.hasPrefix(body) }) else { throw TestFailure("no message starting \(body)") }
            return m.id
        }
        func item(_ body: String) async throws -> RetentionAssignment? {
            try await archive.store.assignment(messageID: try await id(body))?.assignment
        }
    }

    static func fixture() async throws -> Fixture {
        let tmp = try TempDir()
        let archive = try await makeArchive(tmp)
        let dir = try tmp.sub("export")
        let txt = try writeText(chat, named: "WhatsApp Chat with Sam Lee.txt", in: dir)
        try photo.write(to: dir.appendingPathComponent("IMG-20210505-WA0001.jpg"))
        let batch = try await ingest(archive, txt, custodian: jane, timeZone: "America/New_York")
        let users = UserService(archive: archive)
        _ = try await users.save(name: "alice", displayName: "Alice Ortiz", roles: [.recordsOfficer], actor: "test")
        _ = try await users.save(name: "bob", displayName: "Bob Chen", roles: [.recordsOfficer], actor: "test")
        _ = try await users.save(name: "carol", displayName: "Carol Diaz", roles: [.reviewer], actor: "test")
        return Fixture(tmp: tmp, archive: archive, export: txt, batch: batch)
    }

    @Test func onceAnAdminExistsOnlyAnAdminChangesUsers() async throws {
        let f = try await Self.fixture(); defer { f.tmp.cleanup() }
        let users = UserService(archive: f.archive)
        _ = try await users.save(name: "dana", displayName: "Dana Admin", roles: [.admin], actor: "setup")
        await #expect(throws: ArchiveError.self) { try await users.save(name: "mallory", displayName: nil, roles: [.recordsOfficer], actor: "alice") }
        _ = try await users.save(name: "erin", displayName: nil, roles: [.recordsOfficer], actor: "dana")
        #expect(try await users.list().map(\.name) == ["alice", "bob", "carol", "dana", "erin"])
    }

    @Test func theDefaultPlanAssignsEveryRecordOnIngest() async throws {
        let f = try await Self.fixture(); defer { f.tmp.cleanup() }
        #expect(f.batch.messagesAdded == 10)
        let crane = try await f.item("Crane 4")
        #expect(crane == RetentionAssignment(itemID: "0002", ruleID: "all-other-messages", action: .destroy,
                                             cutoff: CivilDate("2020-12-31"), eligible: CivilDate("2031-01-01")))
        #expect(try await f.item("Shift change")?.eligible == CivilDate("2032-01-01"))
        #expect(try await f.item("Leap day")?.cutoff == CivilDate("2024-12-31"))
        #expect(try await f.item("Leap day")?.eligible == CivilDate("2035-01-01"))
        let summary = try await RetentionService(archive: f.archive).summary(actor: "test")
        #expect(summary.map(\.itemID) == ["0002"])
        #expect(summary.first?.records == 10)
        let why = try await RetentionService(archive: f.archive).explain(messageID: try await f.id("Crane 4"), actor: "test")
        #expect(why.reasons.contains { $0.contains("all-other-messages") })
        #expect(why.reasons.contains { $0.contains("2031-01-01") })
    }

    @Test func aCapstoneDesignationIsPreviewedThenAppliedAndAudited() async throws {
        let f = try await Self.fixture(); defer { f.tmp.cleanup() }
        let custodians = CustodianService(archive: f.archive)
        _ = try await custodians.save(email: Self.sam, name: "Sam Lee", office: "Office of the Commissioner", actor: "alice")
        // Registered in another written form than the chat shows.
        _ = try await custodians.addAccount(email: Self.sam, platform: "whatsapp", address: "202.555.0143", official: false, actor: "alice")
        let role = RoleDesignation(role: "Deputy Commissioner", capstone: true, starts: CivilDate("2021-03-15")!, ends: CivilDate("2021-08-31")!)
        let preview = try await custodians.designate(email: Self.sam, designation: role, apply: false, actor: "alice")
        #expect(preview.moves == [RetentionDiff.Move(from: "0002", to: "0001", count: 3)])
        #expect(preview.applied == false)
        #expect(try await f.item("Approved the manifest")?.itemID == "0002") // nothing changed by the dry run

        // Only a records officer applies it; a reviewer's attempt is refused and audited.
        await #expect(throws: ArchiveError.self) { try await custodians.designate(email: Self.sam, designation: role, apply: true, actor: "carol") }
        let applied = try await custodians.designate(email: Self.sam, designation: role, apply: true, actor: "alice")
        #expect(applied.moves == preview.moves)
        #expect(applied.applied)
        // Sam's messages on the days he held the role are permanent; the day before and after are not.
        #expect(try await f.item("Shift change")?.itemID == "0002")              // 2021-01-02
        #expect(try await f.item("Manifest review")?.itemID == "0002")           // Jane, 2021-03-14
        #expect(try await f.item("Approved the manifest")?.itemID == "0001")     // Sam, first day
        #expect(try await f.item("Last day in the front office")?.itemID == "0001") // Sam, last day
        #expect(try await f.item("New role starts today")?.itemID == "0002")     // Sam, day after
        let permanent = try await f.item("Approved the manifest")
        #expect(permanent?.action == .transfer)
        #expect(permanent?.eligible == CivilDate("2037-01-01"))

        let audit = try await f.archive.store.auditEntries(afterSequence: 0, limit: 200)
        #expect(audit.contains { $0.action == "refused" && $0.actor == "carol" })
        #expect(audit.contains { $0.action == "custodian.designate" && $0.detail.contains("Deputy Commissioner") })
        #expect(audit.contains { $0.action == "retention.recompute" && $0.detail.contains("0002->0001:3") })

        // Ending the designation early moves the last day back.
        let designationID = try await custodians.profile(email: Self.sam).designations[0].id
        let end = try await custodians.endDesignation(id: designationID, ends: CivilDate("2021-06-30")!, apply: true, actor: "bob")
        #expect(end.moves == [RetentionDiff.Move(from: "0001", to: "0002", count: 1)])
    }

    @Test func aFilePlanChangeMovesRecordsFromAndBackToUnscheduled() async throws {
        let f = try await Self.fixture(); defer { f.tmp.cleanup() }
        let plans = FilePlanService(archive: f.archive)
        var signalOnly = FilePlan.standard
        signalOnly.rules = [RetentionRule(id: "signal-only", item: "0002", when: RuleCondition(platforms: ["signal"]))]
        let preview = try await plans.preview(signalOnly)
        #expect(preview.moves == [RetentionDiff.Move(from: "0002", to: "unscheduled", count: 10)])
        let (v2, _) = try await plans.apply(signalOnly, note: "draft schedule withdrawn", actor: "alice")
        #expect(v2.version == 2)
        #expect(try await f.item("Crane 4") == RetentionAssignment(itemID: "unscheduled", ruleID: nil, action: .retain, cutoff: nil, eligible: nil))
        // Unscheduled records are never due.
        #expect(try await RetentionService(archive: f.archive).due(asOf: CivilDate("2099-01-01")!, actor: "alice").isEmpty)

        let text = try FilePlanService.render(FilePlan.standard, as: .yaml)
        let back = try await plans.apply(try FilePlanService.parse(text, format: .yaml), note: "schedule approved", actor: "bob")
        #expect(back.1.moves == [RetentionDiff.Move(from: "unscheduled", to: "0002", count: 10)])
        #expect(try await plans.history().map(\.version) == [1, 2, 3])
        await #expect(throws: ArchiveError.self) { try await plans.apply(FilePlan.standard, note: nil, actor: "bob") } // unchanged
    }

    @Test func holdsKeepRecordsAndTwoOfficersDisposeOfTheRest() async throws {
        let f = try await Self.fixture(); defer { f.tmp.cleanup() }
        let holds = HoldService(archive: f.archive)
        let disposition = DispositionService(archive: f.archive)
        let may = try await holds.create(name: "CREW v. Agency", matter: .litigation, reference: "1:22-cv-00123", requestedBy: "Office of General Counsel",
                                         scope: HoldScope(custodians: [Self.jane], from: CivilDate("2021-05-01"), to: CivilDate("2021-05-31")), actor: "alice")
        #expect(may.heldRecords == 2)
        let due = try await RetentionService(archive: f.archive).due(asOf: CivilDate("2032-01-01")!, actor: "alice")
        #expect(due.map(\.records) == [9])
        #expect(due.map(\.held) == [2])

        // Nothing is proposed before it is due; `retention due` is for looking ahead.
        await #expect(throws: ArchiveError.self) {
            try await disposition.propose(action: .destroy, asOf: CivilDate("2032-01-01")!, items: nil, note: nil, actor: "alice", today: CivilDate("2031-12-31")!)
        }
        // A reviewer may not propose; the proposer may not approve; both refusals are audited.
        await #expect(throws: ArchiveError.self) { try await disposition.propose(action: .destroy, asOf: CivilDate("2032-01-01")!, items: nil, note: nil, actor: "carol", today: CivilDate("2032-01-01")!) }
        let batch = try await disposition.propose(action: .destroy, asOf: CivilDate("2032-01-01")!, items: nil, note: "annual review", actor: "alice", today: CivilDate("2032-01-01")!)
        #expect(batch.records == 7)
        #expect(batch.heldAtProposal == 2)
        await #expect(throws: ArchiveError.self) { try await disposition.approve(id: batch.id, actor: "alice") }
        await #expect(throws: ArchiveError.self) { try await disposition.execute(id: batch.id, actor: "bob", today: CivilDate("2032-01-02")!) } // not approved
        _ = try await disposition.approve(id: batch.id, actor: "bob")
        // Not yet due today: execution refuses and changes nothing.
        await #expect(throws: ArchiveError.self) { try await disposition.execute(id: batch.id, actor: "bob", today: CivilDate("2030-12-31")!) }

        // A FOIA request arrives between approval and execution.
        _ = try await holds.create(name: "FOIA manifests", matter: .foia, reference: "FOIA-2031-0042", requestedBy: "FOIA office",
                                   scope: HoldScope(query: "manifest"), actor: "alice")
        let craneID = try await f.id("Crane 4")
        let craneBefore = try await f.archive.store.message(id: craneID)!
        let certificate = try await disposition.execute(id: batch.id, actor: "bob", today: CivilDate("2032-01-02")!)
        #expect(certificate.records == 5)
        #expect(certificate.withheld == 2)
        #expect(certificate.heldAtProposal == 2)
        #expect(certificate.approvedBy == "bob" && certificate.proposedBy == "alice")
        #expect(certificate.items.map(\.itemID) == ["0002"])
        #expect(certificate.items.first?.authority == "DAA-0568-2022-0005-0002")
        // The export the records came from is kept, sealed, for the held ones: the certificate names it.
        #expect(certificate.originalsKept == [f.batch.sourceSHA256!])

        // What remains is a tombstone; the content is gone from the record store and the index.
        #expect(try await f.archive.store.message(id: craneID) == nil)
        let tomb = try #require(try await f.archive.store.tombstone(messageID: craneID))
        #expect(tomb.identityKey == craneBefore.message.identityKey.hex)
        #expect(tomb.contentHash == craneBefore.storedContentHash.hex)
        #expect(tomb.itemID == "0002" && tomb.authority == "DAA-0568-2022-0005-0002")
        #expect(tomb.outcome == "destroyed" && tomb.dispositionID == batch.id && tomb.accession == nil)
        #expect(tomb.sentLocal.hasPrefix("2020-12-30"))
        #expect(try await SearchService(archive: f.archive).search("crane", actor: "test").total == 0)
        #expect(try await SearchService(archive: f.archive).search("manifest", actor: "test").total == 2) // held, kept
        #expect(try await f.archive.store.message(id: try await f.id("Hold that pallet")) != nil)         // held, kept
        let tombs = try await f.archive.store.tombstones(dispositionID: batch.id)
        #expect(certificate.disposedHashesDigest == DisposalDigest(tombs).hex)
        #expect(certificate.html.contains("DAA-0568-2022-0005-0002") && certificate.html.contains("Certificate of destruction"))
        #expect(try await disposition.certificate(id: batch.id, actor: "carol") == certificate)

        // verify accounts for every tombstone: the batch anchor still holds.
        let report = try await VerifyService(archive: f.archive).verify(actor: "test")
        #expect(report.ok, "\(report.problems)")
        #expect(report.dispositionsChecked == 1 && report.batchesChecked == 1)

        // Re-ingesting the same export does not bring destroyed records back.
        let again = try await ingest(f.archive, f.export, custodian: Self.jane, timeZone: "America/New_York")
        #expect(again.messagesAdded == 0)
        #expect(try await f.archive.store.stats().messages == 5)

        // Nothing else can remove or alter a record: the store itself refuses.
        let queue = try rawDatabase(f.archive)
        let heldID = try await f.id("Hold that pallet")
        #expect(throws: DatabaseError.self) { try queue.write { try $0.execute(sql: "DELETE FROM message WHERE id = ?", arguments: [heldID]) } }
        #expect(throws: DatabaseError.self) { try queue.write { try $0.execute(sql: "UPDATE message SET body = 'x' WHERE id = ?", arguments: [heldID]) } }
        #expect(throws: DatabaseError.self) { try queue.write { try $0.execute(sql: "DELETE FROM tombstone") } }
        #expect(throws: DatabaseError.self) { try queue.write { try $0.execute(sql: "DELETE FROM legal_hold") } }
        try queue.close()

        // Releasing the holds lets the rest go in a second disposition, photo included.
        for h in try await f.archive.store.holds(includeReleased: false) {
            _ = try await holds.release(id: h.id, reason: "matter closed", actor: "bob")
        }
        #expect(try await f.archive.store.holds(includeReleased: true).count == 2) // kept forever
        let second = try await disposition.propose(action: .destroy, asOf: CivilDate("2032-01-01")!, items: ["0002"], note: nil, actor: "bob", today: CivilDate("2032-01-01")!)
        #expect(second.records == 4)
        // A tombstone cannot be forged for a batch that is not approved.
        let forgery = try rawDatabase(f.archive)
        #expect(throws: DatabaseError.self) {
            try forgery.write { try $0.execute(sql: """
                INSERT INTO tombstone (message_id, identity_key, content_hash, batch_id, conversation_id, conversation_key, sent_local, sent_at,
                    item_id, disposition_id, outcome, disposed_at) VALUES (?, 'x', 'y', 1, 1, 'k', '2021', 0, '0002', ?, 'destroyed', 'now')
                """, arguments: [heldID, second.id]) }
        }
        try forgery.close()
        _ = try await disposition.approve(id: second.id, actor: "alice")
        let photoHash = ContentHash.of(Self.photo)
        #expect(try await f.archive.blobs.contains(photoHash))
        let c2 = try await disposition.execute(id: second.id, actor: "alice", today: CivilDate("2032-01-02")!)
        #expect(c2.records == 4 && c2.blobsDestroyed == 1)
        #expect(try await !f.archive.blobs.contains(photoHash))                  // no surviving record uses it
        // The same export handed in again brings the photo's file along; it is removed again.
        let third = try await ingest(f.archive, f.export, custodian: Self.jane, timeZone: "America/New_York")
        #expect(third.messagesAdded == 0)
        #expect(try await !f.archive.blobs.contains(photoHash))
        #expect(try await f.archive.blobs.contains(ContentHash(hex: f.batch.sourceSHA256!)!)) // the leap-day message still does
        let after = try await VerifyService(archive: f.archive).verify(actor: "test")
        #expect(after.ok, "\(after.problems)")
        #expect(after.dispositionsChecked == 2)

        let actions = try await f.archive.store.auditEntries(afterSequence: 0, limit: 500).map(\.action)
        #expect(actions.filter { $0 == "refused" }.count >= 3)
        #expect(actions.filter { $0 == "disposition.execute" }.count == 2)
    }

    @Test func aHoldOnACustodianCoversWhatTheySentIntoOtherCustodiansChats() async throws {
        let f = try await Self.fixture(); defer { f.tmp.cleanup() }
        let holds = HoldService(archive: f.archive)
        // Sam has no export of his own yet: the hold covers nothing until his number is known.
        let hold = try await holds.create(name: "EEOC complaint", matter: .litigation, reference: "570-2026-00412", requestedBy: "OGC",
                                          scope: HoldScope(custodians: [Self.sam]), allowFutureCustodians: true, actor: "alice")
        #expect(hold.heldRecords == 0)
        _ = try await CustodianService(archive: f.archive).save(email: Self.sam, name: "Sam Lee", office: nil, actor: "alice")
        _ = try await CustodianService(archive: f.archive).addAccount(email: Self.sam, platform: "whatsapp", address: "202.555.0143",
                                                                      official: false, actor: "alice")
        let detail = try await holds.show(id: hold.hold.id, sample: 10, actor: "alice")
        #expect(detail.heldRecords == 5) // Sam's five messages in Jane's chat
        #expect(detail.sample.allSatisfy { $0.message.sender == "+1 (202) 555-0143" })
        // and disposition leaves them out
        let due = try await RetentionService(archive: f.archive).due(asOf: CivilDate("2032-01-01")!, actor: "alice")
        #expect(due.first?.held == 5) // all five are from 2021, due by 2032-01-01, and held
    }

    @Test func verifyNamesAnAlteredTombstone() async throws {
        let f = try await Self.fixture(); defer { f.tmp.cleanup() }
        let d = DispositionService(archive: f.archive)
        let b = try await d.propose(action: .destroy, asOf: CivilDate("2031-06-01")!, items: nil, note: nil, actor: "alice", today: CivilDate("2031-06-01")!)
        _ = try await d.approve(id: b.id, actor: "bob")
        _ = try await d.execute(id: b.id, actor: "bob", today: CivilDate("2031-06-01")!)
        let queue = try rawDatabase(f.archive)
        try await queue.writeWithoutTransaction { db in
            try db.execute(sql: "DROP TRIGGER tombstone_no_update")
            try db.execute(sql: "UPDATE tombstone SET content_hash = ? WHERE rowid = (SELECT min(rowid) FROM tombstone)", arguments: [String(repeating: "0", count: 64)])
        }
        try queue.close()
        let report = try await VerifyService(archive: f.archive).verify(actor: "test")
        #expect(Set(report.problems.map(\.code)) == ["batch_messages_altered", "disposition_tombstones_altered"])
    }

    @Test func permanentRecordsArePackagedAsAValidBagThenTransferred() async throws {
        let f = try await Self.fixture(); defer { f.tmp.cleanup() }
        let custodians = CustodianService(archive: f.archive)
        _ = try await custodians.save(email: Self.jane, name: "Jane Doe-Núñez", office: "Office of the Commissioner", actor: "alice")
        _ = try await custodians.designate(email: Self.jane, designation: RoleDesignation(role: "Commissioner", capstone: true, starts: CivilDate("2020-01-01")!),
                                           apply: true, actor: "alice")
        let d = DispositionService(archive: f.archive)
        let transfers = TransferService(archive: f.archive)
        let b = try await d.propose(action: .transfer, asOf: CivilDate("2040-01-01")!, items: nil, note: nil, actor: "alice", today: CivilDate("2040-01-01")!)
        #expect(b.records == 10 && b.items.map(\.itemID) == ["0001"])
        let bagURL = f.tmp.url.appendingPathComponent("bag-\(b.id)")
        await #expect(throws: ArchiveError.self) {
            try await transfers.package(id: b.id, to: bagURL, organization: "U.S. Customs and Border Protection", rights: "Unrestricted", actor: "alice", today: CivilDate("2040-01-02")!)
        }
        _ = try await d.approve(id: b.id, actor: "bob")
        await #expect(throws: ArchiveError.self) { try await transfers.confirm(id: b.id, accession: "NN-0568-2040-0001", actor: "bob", today: CivilDate("2040-01-02")!) }
        let p = try await transfers.package(id: b.id, to: bagURL, organization: "U.S. Customs and Border Protection", rights: "Unrestricted", actor: "alice", today: CivilDate("2040-01-02")!)
        #expect(p.records == 10)
        #expect(p.messageFiles == 8)          // one EML per conversation-day
        #expect(p.attachments == 1)
        // A bag once made is not rebuilt (NARA may already hold it): cancel and propose again instead.
        await #expect(throws: ArchiveError.self) {
            try await transfers.package(id: b.id, to: f.tmp.url.appendingPathComponent("bag-again"), organization: "CBP", rights: "Unrestricted",
                                        actor: "alice", today: CivilDate("2040-01-02")!)
        }

        try BagValidator.validate(bagURL)
        // An auditor checks the bag and the archive's signed checkpoints without the archive.
        try await CheckpointService(archive: f.archive).sign(reason: "signing begins", actor: "alice", createKey: true)
        let witness = f.tmp.url.appendingPathComponent("checkpoints.jsonl")
        try Data(try await CheckpointService(archive: f.archive).export().utf8).write(to: witness)
        let checked = try runCheckpointScript(witness, ["--bag", bagURL.path])
        #expect(checked.status == 0 && checked.output.contains("payload file(s) listed") && checked.output.hasSuffix("OK\n"), "\(checked.output)")
        let csv = try String(contentsOf: bagURL.appendingPathComponent("data/metadata.csv"), encoding: .utf8)
        let rows = csv.split(separator: "\r\n")
        #expect(rows.count == 11)
        #expect(rows[0].hasPrefix("File Name|Record ID|Title|Description|Creator|Creation Date|Rights"))
        #expect(rows.dropFirst().allSatisfy { $0.contains("DAA-0568-2022-0005-0001") && $0.contains("|Unrestricted|") })
        let aid = try String(contentsOf: bagURL.appendingPathComponent("data/finding-aid.html"), encoding: .utf8)
        #expect(aid.contains("data/metadata.csv") && aid.contains("Sam Lee"))
        // The photo travels inside the day's EML, byte for byte (parsed by Python's email package).
        let eml = try #require(try FileManager.default.subpathsOfDirectory(atPath: bagURL.path).first { $0.hasSuffix("2021-05-05.eml") })
        let parsed = try BagValidator.emlSummary(bagURL.appendingPathComponent(eml))
        #expect(parsed["attachments"] as? [String] == ["IMG-20210505-WA0001.jpg"])
        #expect(parsed["attachment_sha256"] as? [String] == [ContentHash.of(Self.photo).hex])
        #expect((parsed["text"] as? String)?.contains("Hold that pallet for the inspector general") == true)
        #expect((parsed["subject"] as? String)?.contains("2021-05-05") == true)
        #expect(parsed["from"] as? String == "Jane Doe-Núñez <\(Self.jane)>")

        // Records stay until NARA confirms the accession.
        #expect(try await f.archive.store.stats().messages == 10)
        let c = try await transfers.confirm(id: b.id, accession: "NN-0568-2040-0001", actor: "bob", today: CivilDate("2040-01-02")!)
        #expect(c.kind == "certificate-of-transfer" && c.accession == "NN-0568-2040-0001" && c.records == 10)
        #expect(try await f.archive.store.stats().messages == 0)
        let tomb = try #require(try await f.archive.store.tombstone(messageID: 2))
        #expect(tomb.outcome == "transferred" && tomb.accession == "NN-0568-2040-0001")
        // Every record of the export is gone, so the export itself is destroyed too; handed in
        // again it captures nothing and is removed again.
        let source = ContentHash(hex: f.batch.sourceSHA256!)!
        #expect(try await !f.archive.blobs.contains(source))
        let again = try await ingest(f.archive, f.export, custodian: Self.jane, timeZone: "America/New_York")
        #expect(again.messagesAdded == 0)
        #expect(try await !f.archive.blobs.contains(source))
        // New records never take the id of a disposed one.
        let other = try writeText("""
            01/02/2041, 09:00 - Jane Doe: New port director starts Monday

            """, named: "WhatsApp Chat with Front Office.txt", in: try f.tmp.sub("later"))
        let later = try await ingest(f.archive, other, custodian: Self.jane, timeZone: "America/New_York")
        let (_, fresh) = try await RecordService(archive: f.archive).transcript(conversationID: later.conversationID!, actor: "test")
        #expect(fresh.map(\.id) == [11])
        #expect(try await f.archive.store.tombstone(messageID: 11) == nil)
        let report = try await VerifyService(archive: f.archive).verify(actor: "test")
        #expect(report.ok, "\(report.problems)")
        #expect(report.checkpointsChecked >= 3) // signing began, the transfer, and each capture since
        // The transfer's confirmation was vouched for by the checkpoint signed after it.
        let vouches = try await CheckpointService(archive: f.archive).checkpoints().flatMap { CheckpointStatement.parse($0.statement)?.vouches ?? [] }
        #expect(vouches.contains { $0.hasPrefix("disposition:\(b.id)=") }, "\(vouches)")
        // A bag changed after it was made fails the auditor's check, naming the file.
        try Data("altered".utf8).write(to: bagURL.appendingPathComponent("data/metadata.csv"))
        let tampered = try runCheckpointScript(witness, ["--bag", bagURL.path])
        #expect(tampered.status == 1 && tampered.output.contains("data/metadata.csv does not hash as listed"), "\(tampered.output)")
    }

    @Test func aPlanThatWouldDestroyCapstoneRecordsIsFlagged() {
        #expect(FilePlan.standard.warnings().isEmpty)
        var risky = FilePlan.standard
        risky.rules.insert(RetentionRule(id: "ops-chats", item: "0002", when: RuleCondition(platforms: ["whatsapp"])), at: 0)
        #expect(risky.warnings().count == 1)
        #expect(risky.warnings().first?.contains("comes before the Capstone rule capstone-officials") == true)
        risky.rules[0].when.capstone = false
        #expect(risky.warnings().isEmpty)
    }

    @Test func anEventCutoffWaitsForItsEvent() async throws {
        let f = try await Self.fixture(); defer { f.tmp.cleanup() }
        var plan = FilePlan.standard
        plan.items.append(ScheduleItem(id: "0003", authority: "DAA-0568-2022-0005-0003", title: "Incident coordination chats",
                                       disposition: .temporary, cutoff: .event, cutoffEvent: "conversation closed", retention: RetentionPeriod(years: 3)))
        plan.rules.insert(RetentionRule(id: "incident-chats", item: "0003", when: RuleCondition(conversations: ["Sam Lee"])), at: 0)
        _ = try await FilePlanService(archive: f.archive).apply(plan, note: nil, actor: "alice")
        #expect(try await f.item("Crane 4")?.action == .awaitingCutoff)
        #expect(try await RetentionService(archive: f.archive).due(asOf: CivilDate("2099-01-01")!, actor: "alice").isEmpty)
        let retention = RetentionService(archive: f.archive)
        let preview = try await retention.recordEvent(conversationID: f.batch.conversationID!, name: "Conversation closed", date: CivilDate("2022-06-30")!,
                                                      apply: false, actor: "alice")
        #expect(preview.datesChanged == 10 && preview.moves.isEmpty)
        #expect(try await f.item("Crane 4")?.action == .awaitingCutoff)
        _ = try await retention.recordEvent(conversationID: f.batch.conversationID!, name: "Conversation closed", date: CivilDate("2022-06-30")!,
                                            apply: true, actor: "alice")
        #expect(try await f.item("Crane 4")?.eligible == CivilDate("2025-07-01"))
        #expect(try await f.item("Leap day")?.cutoff == CivilDate("2024-02-29"))   // sent after the event: its own date
        #expect(try await f.item("Leap day")?.eligible == CivilDate("2027-03-01"))
    }
}

/// Runs the Library of Congress `bagit` validator from PyPI (installed by scripts/test.sh).
enum BagValidator {
    static var bagitPy: String? {
        if let p = ProcessInfo.processInfo.environment["RECORDKEEPER_BAGIT"], FileManager.default.isExecutableFile(atPath: p) { return p }
        let local = packageRoot.appendingPathComponent(".build/tools-venv/bin/bagit.py").path
        return FileManager.default.isExecutableFile(atPath: local) ? local : nil
    }

    static func run(_ executable: String, _ args: [String]) throws -> (Int32, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = args
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    static func validate(_ bag: URL) throws {
        guard let bagit = bagitPy else {
            Issue.record("the bagit validator is not installed: run scripts/test.sh (it installs bagit from PyPI into .build/tools-venv)")
            return
        }
        let (status, output) = try run(bagit, ["--validate", bag.path])
        #expect(status == 0, "bagit.py --validate failed: \(output)")
        #expect(output.contains("is valid"), "\(output)")
    }

    /// Subject, text part and attachment names and hashes of an EML file, read by Python's email package.
    static func emlSummary(_ url: URL) throws -> [String: Any] {
        let script = """
            import email, email.policy, hashlib, json, sys
            m = email.message_from_binary_file(open(sys.argv[1], 'rb'), policy=email.policy.default)
            atts = [p for p in m.iter_attachments()]
            print(json.dumps({"subject": str(m["subject"]), "from": str(m["from"]), "text": m.get_body(('plain',)).get_content(),
                              "attachments": [p.get_filename() for p in atts],
                              "attachment_sha256": [hashlib.sha256(p.get_content()).hexdigest() for p in atts],
                              "defects": len(m.defects)}))
            """
        let (status, output) = try run("/usr/bin/python3", ["-c", script, url.path])
        guard status == 0, let obj = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any] else {
            throw TestFailure("python could not parse \(url.lastPathComponent): \(output)")
        }
        #expect(obj["defects"] as? Int == 0)
        return obj
    }
}

@Suite("Data directory write lock")
struct WriteLockTests {
    actor Log { var events: [String] = []; func add(_ e: String) { events.append(e) } }

    @Test func anIngestWaitsForADispositionHoldingTheLock() async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let archive = try await makeArchive(tmp)
        let txt = try writeText(RecordsLawTests.chat, named: "WhatsApp Chat with Sam Lee.txt", in: try tmp.sub("export"))
        let log = Log()
        let holder = Task {
            try await archive.withWriteLock(purpose: "test") {
                await log.add("lock taken")
                try await Task.sleep(nanoseconds: 800_000_000)
                await log.add("lock released")
            }
        }
        try await Task.sleep(nanoseconds: 200_000_000)
        _ = try await ingest(archive, txt, custodian: RecordsLawTests.jane, timeZone: "America/New_York")
        await log.add("ingest done")
        try await holder.value
        #expect(await log.events == ["lock taken", "lock released", "ingest done"])
    }

    /// The lock knows its holder: asking again from inside (directly, from a child task, or from
    /// a service that takes it itself, as disposition execute does) runs at once instead of waiting
    /// on itself forever.
    @Test func theHolderReentersAtOnce() async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let archive = try await makeArchive(tmp)
        let txt = try writeText(RecordsLawTests.chat, named: "WhatsApp Chat with Sam Lee.txt", in: try tmp.sub("export"))
        // The deadline only tells a deadlock (waits forever) from a pass: CI once took over 20 s here
        // with every suite competing for two cores, so it is generous.
        let added = try await withLockDeadline(seconds: 120) {
            try await archive.withWriteLock(purpose: "outer") {
                #expect(archive.writeLock.isHeldByCurrentTask)
                let inner = try await archive.withWriteLock(purpose: "inner") { archive.writeLock.holderInThisProcess?.purpose }
                #expect(inner == "outer")
                return try await withThrowingTaskGroup(of: Int.self) { group in
                    group.addTask { try await ingest(archive, txt, custodian: RecordsLawTests.jane, timeZone: "America/New_York").messagesAdded }
                    return try await group.next() ?? 0
                }
            }
        }
        #expect(added == 10)
        #expect(archive.writeLock.holderInThisProcess == nil && !archive.writeLock.isHeldByCurrentTask)
        // Every handle on the directory shares the one lock.
        #expect(try archive.directory.open().writeLock === archive.writeLock)
    }

    /// A task that outlives the holder's scope does not carry the hold with it.
    @Test func anEscapedTaskDoesNotKeepTheHold() async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let archive = try await makeArchive(tmp)
        let (gate, open) = AsyncStream<Void>.makeStream()
        let escaped = try await archive.withWriteLock(purpose: "outer") {
            Task { () -> Bool in
                for await _ in gate { break }
                return archive.writeLock.isHeldByCurrentTask
            }
        }
        open.yield()
        #expect(await escaped.value == false)
    }

    /// A waiter says whom it waits for, and gives up after its timeout with a `busy` error that
    /// names the holder, instead of blocking without a word.
    @Test func aWaiterNamesTheHolderAndGivesUp() async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let archive = try await makeArchive(tmp)
        let (started, signal) = AsyncStream<Void>.makeStream()
        let holder = Task {
            try await archive.withWriteLock(purpose: "disposition.execute") {
                signal.yield()
                try await Task.sleep(for: .seconds(30))
            }
        }
        for await _ in started { break }
        // Collected as they are reported (not through tasks that a loaded machine may run late).
        final class Reports: @unchecked Sendable {
            private let lock = NSLock()
            private var _lines: [String] = []
            func add(_ l: String) { lock.lock(); _lines.append(l); lock.unlock() }
            var lines: [String] { lock.lock(); defer { lock.unlock() }; return _lines }
        }
        let reports = Reports()
        let error = await #expect(throws: ArchiveError.self) {
            try await archive.writeLock.withLock(purpose: "ingest", timeout: .milliseconds(1000), reportEvery: .milliseconds(100),
                                                 onWait: { line in reports.add(line) }) { Issue.record("ran without the lock") }
        }
        #expect(error?.code == .busy)
        #expect(error?.message.contains("held by pid \(getpid()) (disposition.execute) since") == true)
        #expect(error?.message.contains("RECORDKEEPER_WRITE_LOCK_TIMEOUT") == true)
        holder.cancel()
        _ = try? await holder.value
        // At least the first report (a test that waits on processes can keep both of this
        // machine's cooperative threads busy, so the periodic ones may not come in time).
        let lines = reports.lines
        #expect(lines.count >= 1 && lines.allSatisfy { $0.hasPrefix("waiting for the write lock held by pid \(getpid()) (disposition.execute) since") })
        // Released by cancellation: the next writer goes at once.
        #expect(try await archive.writeLock.withLock(purpose: "ingest", timeout: .zero) { true })
    }
}

/// Runs `body`; fails (instead of hanging the suite) if it takes longer than `seconds`.
func withLockDeadline<T: Sendable>(seconds: Double, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask { try await Task.sleep(for: .milliseconds(Int64(seconds * 1000))); return nil }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let value = first else {
            throw TestFailure("did not finish within \(Int(seconds)) s (a deadlock on the write lock?)")
        }
        return value
    }
}
