import Archive
import Foundation
import Recordkeeper
import RecordkeeperCore
import Testing

@Suite("Audit recommendations tracker")
struct TrackerTests {
    @Test func theSeedReportsAreTrackedToClosureWithEvidenceAndNinetyDayUpdates() async throws {
        let f = try await ComplianceTests.fixture(); defer { f.tmp.cleanup() }
        let tracker = TrackerService(archive: f.archive)
        let seeded = try await tracker.seed(actor: "alice")
        #expect(seeded.count == 14)
        let reports = try await tracker.reports()
        #expect(reports.map(\.reference).sorted() == ["DHS-OIG JFK IMF (March 2021)", "OIG-21-62"])
        let caravan = try #require(reports.first { $0.reference == "OIG-21-62" })
        let six = try await tracker.list(reportID: caravan.id)
        #expect(six.map(\.number) == [1, 2, 3, 4, 5, 6])
        let whatsapp = try #require(six.last)
        #expect(whatsapp.text.contains("WhatsApp") && whatsapp.office == "Office of Information and Technology" && whatsapp.targetDate == "2021-12-31"
                && whatsapp.status == .openResolved)
        // The two non-concurrences of the mail-facility report are open and unresolved.
        #expect(try await tracker.list().filter { $0.status == .openUnresolved }.map(\.number) == [1, 3])
        // Seeding again changes nothing it already holds.
        _ = try await tracker.seed(actor: "alice")
        #expect(try await tracker.list().count == 14)

        // As of mid-January 2022, targets of 2021 have passed.
        let due = try await tracker.due(today: CivilDate(year: 2022, month: 1, day: 15)!)
        #expect(due.contains { $0.recommendation.id == whatsapp.id && $0.what == "target date passed" })
        #expect(!due.contains { $0.recommendation.number == 3 && $0.recommendation.reportID == caravan.id && $0.what == "target date passed" })

        // The plan, an update to the OIG (the next falls due 90 days later), evidence from the archive, closure.
        var r = try await tracker.update(id: whatsapp.id, plan: "Replace WhatsApp with Matrix captured live by Recordkeeper", updateSent: CivilDate(year: 2022, month: 1, day: 10)!,
                                         note: "CAP sent to OIG", actor: "alice")
        #expect(r.nextUpdateDue == "2022-04-10" && r.lastUpdate == "2022-01-10")
        let record = try #require(try await f.archive.store.conversations(titleContains: "Port Ops", limit: 1).first)
        let evidence = try #require(try await f.archive.store.transcript(conversationID: record.id, offset: 0, limit: 1).first)
        r = try await tracker.addEvidence(id: whatsapp.id, recordID: evidence.id, actor: "alice")
        #expect(r.evidence == [evidence.id])
        await #expect(throws: ArchiveError.self) { try await tracker.addEvidence(id: whatsapp.id, recordID: 999_999, actor: "alice") }
        _ = try await UserService(archive: f.archive).save(name: "carol", displayName: nil, roles: [.reviewer], actor: "alice")
        await #expect(throws: ArchiveError.self) { try await tracker.update(id: whatsapp.id, status: .closed, note: "x", actor: "carol") }
        r = try await tracker.update(id: whatsapp.id, status: .closed, note: "OIG closed R6", actor: "alice")
        #expect(r.status == .closed && r.nextUpdateDue == nil)
        #expect(try await tracker.notes(id: whatsapp.id).map(\.note) == ["entered", "CAP sent to OIG", "evidence: record \(evidence.id)", "OIG closed R6"])
    }
}
