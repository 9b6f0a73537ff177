import Archive
import Foundation
import RecordkeeperCore
import Testing

@Suite("ConversationStore conformance (every backend)")
struct ConversationConformanceTests {
    @Test(arguments: Backends.conversations)
    func custodiansAreOneWhateverTheCaseAndKeepTheirZone(_ backend: Backend<any ConversationStore>) async throws {
        let open = try await backend.open()
        defer { Task { await open.close() } }
        let s = open.store
        let made = try await s.saveCustodian(email: "A.Person@Agency.example.gov", timeZone: nil)
        #expect(made.email == "a.person@agency.example.gov" && made.timeZone == nil)
        #expect(try await s.custodian(email: "a.PERSON@agency.example.gov")?.id == made.id)
        let updated = try await s.saveCustodian(email: "a.person@AGENCY.example.gov", timeZone: "America/Phoenix")
        #expect(updated.id == made.id && updated.timeZone == "America/Phoenix")
        #expect(try await s.saveCustodian(email: "a.person@agency.example.gov", timeZone: nil).timeZone == "America/Phoenix")
        #expect(try await s.custodian(email: "nobody@agency.example.gov") == nil)
        // Several instances saving the same new custodian at once make one.
        let ids = try await withThrowingTaskGroup(of: Int64.self) { group in
            for i in 0..<8 { group.addTask { try await s.saveCustodian(email: i % 2 == 0 ? "B.Lee@agency.example.gov" : "b.lee@agency.example.gov", timeZone: nil).id } }
            return try await group.reduce(into: Set<Int64>()) { $0.insert($1) }
        }
        #expect(ids.count == 1)
    }

    @Test(arguments: Backends.conversations)
    func conversationsAreEnsuredOnceAndFoundByTitleLiterally(_ backend: Backend<any ConversationStore>) async throws {
        let open = try await backend.open()
        defer { Task { await open.close() } }
        let s = open.store
        let ann = try await s.saveCustodian(email: "ann@agency.example.gov", timeZone: nil)
        let bo = try await s.saveCustodian(email: "bo@agency.example.gov", timeZone: nil)
        let ops = try await s.ensureConversation(key: "whatsapp:ann:ops", platform: .whatsapp, custodianID: ann.id, title: "Ops 100%")
        #expect(ops.title == "Ops 100%" && ops.custodianEmail == "ann@agency.example.gov" && ops.messageCount == 0 && ops.participants.isEmpty)
        #expect(ops.firstSent == nil && ops.platform == .whatsapp)
        let again = try await s.ensureConversation(key: "whatsapp:ann:ops", platform: .whatsapp, custodianID: ann.id, title: "other")
        #expect(again.id == ops.id && again.title == "Ops 100%")
        let port = try await s.ensureConversation(key: "signal:bo:port", platform: .signal, custodianID: bo.id, title: "Port_Director")
        let lane = try await s.ensureConversation(key: "sms:ann:lane", platform: .sms, custodianID: ann.id, title: "lane 4 shift")

        #expect(try await s.conversations(titleContains: nil, limit: 10).map(\.id) == [ops.id, port.id, lane.id])
        #expect(try await s.conversations(titleContains: nil, limit: 2).map(\.id) == [ops.id, port.id])
        #expect(try await s.conversations(titleContains: "100%", limit: 10).map(\.id) == [ops.id])
        #expect(try await s.conversations(titleContains: "10_%", limit: 10).isEmpty) // % and _ are literal
        #expect(try await s.conversations(titleContains: "t_d", limit: 10).map(\.id) == [port.id])
        #expect(try await s.conversations(titleContains: "LANE", limit: 10).map(\.id) == [lane.id]) // case does not matter
        #expect(try await s.conversations(titleContains: nil, custodianID: ann.id, limit: 10).map(\.id) == [ops.id, lane.id])
        #expect(try await s.conversations(titleContains: "shift", custodianID: bo.id, limit: 10).isEmpty)
        #expect(try await s.conversation(key: "signal:bo:port")?.id == port.id)
        #expect(try await s.conversation(id: port.id)?.custodianEmail == "bo@agency.example.gov")
        #expect(try await s.conversation(id: 999_999) == nil)
        #expect(try await s.conversation(key: "nope") == nil)
    }
}
