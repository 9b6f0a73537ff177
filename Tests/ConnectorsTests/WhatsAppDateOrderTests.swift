import Foundation
import Testing
@testable import Connectors
import RecordkeeperCore

/// A chat text and the date order the reader must decide for it.
struct DateOrderCase: Sendable, CustomTestStringConvertible {
    var name: String
    var lines: [String]
    var order: DateOrder
    var certain: Bool
    var basis: String
    var firstSent: String

    var testDescription: String { name }
}

let dateOrderCases: [DateOrderCase] = [
    DateOrderCase(name: "first field over 12", lines: ["3/3/22, 10:00 - A: x", "23/3/22, 10:00 - A: y"],
                  order: .dmy, certain: true, basis: "evidence", firstSent: "2022-03-03T10:00:00"),
    DateOrderCase(name: "second field over 12", lines: ["3/4/22, 10:00 - A: x", "3/23/22, 10:00 - A: y"],
                  order: .mdy, certain: true, basis: "evidence", firstSent: "2022-03-04T10:00:00"),
    DateOrderCase(name: "second field falls while the first rises",
                  lines: ["1/10/22, 09:00 - A: a", "1/11/22, 09:00 - A: b", "2/3/22, 09:00 - A: c"],
                  order: .mdy, certain: true, basis: "evidence", firstSent: "2022-01-10T09:00:00"),
    DateOrderCase(name: "first field changes more often (weak)",
                  lines: ["1/2/22, 09:00 - A: a", "2/2/22, 09:00 - A: b", "3/2/22, 09:00 - A: c", "4/2/22, 09:00 - A: d"],
                  order: .dmy, certain: false, basis: "evidence", firstSent: "2022-02-01T09:00:00"),
    DateOrderCase(name: "undecidable, 24-hour clock", lines: ["5/6/22, 10:00 - A: x", "5/6/22, 11:00 - A: y"],
                  order: .dmy, certain: false, basis: "default", firstSent: "2022-06-05T10:00:00"),
    DateOrderCase(name: "undecidable, 12-hour clock", lines: ["5/6/22, 10:00 AM - A: x", "5/6/22, 11:00 AM - A: y"],
                  order: .mdy, certain: false, basis: "default", firstSent: "2022-05-06T10:00:00"),
    DateOrderCase(name: "year first", lines: ["[2022/03/04, 10:00:00] A: x"],
                  order: .ymd, certain: true, basis: "evidence", firstSent: "2022-03-04T10:00:00"),
    DateOrderCase(name: "year first, middle field over 12", lines: ["[2022/13/04, 10:00:00] A: x", "[2022/14/04, 10:00:00] A: y"],
                  order: .ydm, certain: true, basis: "evidence", firstSent: "2022-04-13T10:00:00"),
    DateOrderCase(name: "conflicting fields over 12: majority, uncertain",
                  lines: ["23/3/22, 10:00 - A: x", "24/3/22, 10:00 - A: y", "3/25/22, 10:00 - A: z"],
                  order: .dmy, certain: false, basis: "evidence", firstSent: "2022-03-23T10:00:00"),
]

@Suite("WhatsApp date order")
struct WhatsAppDateOrderTests {
    @Test("the decision follows the evidence rules of FORMATS.md §1.3", arguments: dateOrderCases)
    func decision(_ c: DateOrderCase) throws {
        let parsed = try WhatsAppFixtures.parse(text: c.lines.joined(separator: "\n") + "\n")
        let decision = try #require(parsed.description.dateOrder)
        #expect(decision.order == c.order)
        #expect(decision.certain == c.certain)
        #expect(decision.basis == c.basis)
        #expect(!decision.evidence.isEmpty)
        let first = try #require(parsed.messages.first)
        #expect(first.sentLocal.description == c.firstSent)
        #expect(parsed.messages.allSatisfy { $0.flags.contains(.uncertainDate) == !c.certain })
    }

    @Test("a header impossible under the majority order is reported, and its text kept")
    func conflictingHeaderReported() throws {
        let parsed = try WhatsAppFixtures.parse(text: "23/3/22, 10:00 - A: x\n24/3/22, 10:00 - A: y\n3/25/22, 10:00 - A: z\n")
        #expect(parsed.defects.map(\.line) == [3])
        #expect(parsed.defects.first?.code == "invalid_header_date")
        #expect(parsed.messages.map(\.line) == [1, 2])
        #expect(parsed.messages.last?.body == "y\n3/25/22, 10:00 - A: z")
    }

    @Test("--date-order overrides the evidence of an ambiguous file")
    func overrideAmbiguous() throws {
        let parsed = try WhatsAppFixtures.parseFixture("ambiguous-decreasing-field.txt", dateOrder: .mdy)
        let decision = try #require(parsed.description.dateOrder)
        #expect(decision.order == .mdy)
        #expect(decision.certain)
        #expect(decision.basis == "override")
        #expect(parsed.messages.map(\.sentLocal.description)
                == ["2022-10-01T09:00:00", "2022-11-01T09:30:00", "2022-03-02T10:00:00", "2022-04-02T10:00:00"])
        #expect(parsed.messages.allSatisfy { !$0.flags.contains(.uncertainDate) })
        #expect(parsed.defects.isEmpty)
    }

    @Test("--date-order makes an undecidable file certain")
    func overrideUndecided() throws {
        let parsed = try WhatsAppFixtures.parseFixture("ambiguous-undecided.txt", dateOrder: .dmy)
        #expect(parsed.description.dateOrder?.order == .dmy)
        #expect(parsed.description.dateOrder?.certain == true)
        #expect(parsed.messages.map(\.sentLocal.description) == ["2022-06-05T09:00:00", "2022-06-05T09:01:00"])
        #expect(parsed.messages.allSatisfy { $0.flags.isEmpty })
    }

    @Test("--date-order wins even against decisive evidence; impossible dates become defects")
    func overrideAgainstEvidence() throws {
        let parsed = try WhatsAppFixtures.parseFixture("android-en-24h/WhatsApp Chat with Trip.txt", dateOrder: .mdy)
        #expect(parsed.description.dateOrder?.order == .mdy)
        #expect(parsed.description.dateOrder?.basis == "override")
        // Only the 05/04/2022 headers are valid month-first (4 May); 23/03 and 24/03 are not.
        #expect(parsed.messages.map(\.line) == [17, 19])
        #expect(parsed.messages.first?.sentLocal.description == "2022-05-04T10:00:00")
        let first = try #require(parsed.defects.first)
        #expect(first.line == 1)
        #expect(first.code == "invalid_header_date")
        // Nothing is dropped: every line before line 17 is a defect.
        #expect(Set(parsed.defects.map(\.line)) == Set(1...16))
    }

    @Test("an override to the order the evidence already gives changes only the basis")
    func overrideSameOrder() throws {
        let plain = try WhatsAppFixtures.parseFixture("android-de-dotted.txt")
        let forced = try WhatsAppFixtures.parseFixture("android-de-dotted.txt", dateOrder: .dmy)
        #expect(plain.messages == forced.messages)
        #expect(forced.description.dateOrder?.basis == "override")
    }
}
