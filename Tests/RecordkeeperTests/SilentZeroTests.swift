import Archive
import Foundation
import Recordkeeper
import RecordkeeperCore
import Testing

/// A typo must never read as "no records": unknown custodians, participants and conversations
/// and inverted date ranges are errors that name the closest known names; a hold shows its scope
/// before it is placed.
@Suite("No silent zeros", .serialized)
struct SilentZeroTests {
    @Test func suggestionsNameTheClosestKnownNames() {
        let known = ["jane.doe@agency.example.gov", "sam.lee@agency.example.gov", "j.alvarez@cbp.example.gov"]
        #expect(Suggestions.closest(to: "jane.do@agency.example.gov", among: known) == ["jane.doe@agency.example.gov"])
        #expect(Suggestions.closest(to: "SAM.LEE@agency.example.gv", among: known) == ["sam.lee@agency.example.gov"])
        #expect(Suggestions.closest(to: "nobody@elsewhere.example.org", among: known).isEmpty)
        #expect(Suggestions.phrase("Crane ops", among: ["Crane Ops Coordination", "Gate 3"]) == " Did you mean Crane Ops Coordination?")
        #expect(Suggestions.phrase("zzz", among: ["Gate 3"]) == "")
    }

    @Test func searchFiltersNamingNobodyAreErrors() async throws {
        let f = try await RecordsLawTests.fixture(); defer { f.tmp.cleanup() }
        let search = SearchService(archive: f.archive)
        #expect(try await search.search("crane", actor: "t").total == 1)
        let custodian = await #expect(throws: ArchiveError.self) {
            try await search.search("crane", filters: SearchFilters(custodian: "jane.do@agency.example.gov"), actor: "t")
        }
        #expect(custodian?.code == .notFound && custodian?.message.contains("Did you mean jane.doe@agency.example.gov?") == true)
        let inverted = await #expect(throws: ArchiveError.self) {
            try await search.search("crane", filters: SearchFilters(from: "2021-05-01", to: "2021-04-01"), actor: "t")
        }
        #expect(inverted?.message.contains("is before --from") == true)
        // A single day (from == to) is a range, not an inversion.
        #expect(try await search.search("crane", filters: SearchFilters(from: "2020-12-30", to: "2020-12-30"), actor: "t").total == 1)
        let participant = await #expect(throws: ArchiveError.self) {
            try await search.search("crane", filters: SearchFilters(participant: "Jane Doee"), actor: "t")
        }
        #expect(participant?.message.contains("Did you mean Jane Doe?") == true)
        #expect(try await search.search("crane", filters: SearchFilters(participant: "jane"), actor: "t").total == 1)
        let conversation = await #expect(throws: ArchiveError.self) {
            try await search.search("crane", filters: SearchFilters(conversation: "999"), actor: "t")
        }
        #expect(conversation?.code == .notFound)
        // Part of a title is a match ("Sam Lee"); a title that matches nothing is an error.
        #expect(try await search.search("crane", filters: SearchFilters(conversation: "Sam Le"), actor: "t").total == 1)
        let badTitle = await #expect(throws: ArchiveError.self) {
            try await search.search("crane", filters: SearchFilters(conversation: "Sam Lea"), actor: "t")
        }
        #expect(badTitle?.message.contains("Did you mean Sam Lee?") == true)
        // A custodian searching their own records is told of a typo, but shown no one else's names.
        var confined = SearchFilters(custodian: RecordsLawTests.jane, participant: "Jane Doee")
        confined.confined = true
        let ownTypo = await #expect(throws: ArchiveError.self) { try await search.search("crane", filters: confined, actor: "t") }
        #expect(ownTypo?.code == .notFound && ownTypo?.message.contains("Did you mean") == false)
        confined.participant = nil
        confined.conversation = "Sam Lea"
        let ownTitle = await #expect(throws: ArchiveError.self) { try await search.search("crane", filters: confined, actor: "t") }
        #expect(ownTitle?.message.contains("Sam Lee") == false)
    }

    @Test func aHoldOnAnUnknownCustodianIsRefusedUnlessMeant() async throws {
        let f = try await RecordsLawTests.fixture(); defer { f.tmp.cleanup() }
        let holds = HoldService(archive: f.archive)
        let typo = await #expect(throws: ArchiveError.self) {
            try await holds.create(name: "CREW", matter: .litigation, reference: nil, requestedBy: "OGC",
                                   scope: HoldScope(custodians: ["jane.do@agency.example.gov"]), actor: "alice")
        }
        #expect(typo?.code == .notFound && typo?.message.contains("Did you mean jane.doe@agency.example.gov?") == true)
        #expect(try await f.archive.store.holds(includeReleased: true).isEmpty) // nothing placed
        // Meant: someone whose records are not captured yet.
        let future = try await holds.create(name: "Incoming", matter: .litigation, reference: nil, requestedBy: "OGC",
                                            scope: HoldScope(custodians: ["new.hire@agency.example.gov"]), allowFutureCustodians: true, actor: "alice")
        #expect(future.heldRecords == 0)
        // The scope is shown before a hold is placed: counts by custodian and conversation, newest records.
        let (preview, sample) = try await holds.preview(scope: HoldScope(custodians: [RecordsLawTests.jane], query: "pallet"), sample: 5, actor: "alice")
        #expect(preview.records == 2 && preview.byCustodian == [.init(key: RecordsLawTests.jane, label: RecordsLawTests.jane, records: 2)])
        #expect(preview.byConversation.map(\.records) == [2] && sample.count == 2)
        #expect(sample.first?.message.body.contains("Hold that pallet") == true)
        let empty = try await holds.preview(scope: HoldScope(query: "zeppelin"), actor: "alice").0
        #expect(empty.records == 0 && empty.byCustodian.isEmpty)
    }
}
