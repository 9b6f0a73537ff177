import Archive
import Foundation
import Recordkeeper
import RecordkeeperCore
import Testing

// The retention engine, without an archive: civil dates, cutoffs, rule matching, account
// addresses, file plan checks, and the file plan's YAML and JSON forms. Every expectation is an
// exact date or string, worked out by hand from the schedule's wording.

@Suite("Retention engine")
struct RetentionEngineTests {}

/// A date from a literal the test knows is valid.
private func day(_ text: String) -> CivilDate {
    guard let d = CivilDate(text) else { preconditionFailure("test literal is not a date: \(text)") }
    return d
}

/// People and plans shared by the suites below.
private enum Fixtures {
    static let directorEmail = "a.director@agency.example.gov"
    static let staffEmail = "b.staff@agency.example.gov"
    static let clerkEmail = "c.clerk@agency.example.gov"
    static let deputyEmail = "d.deputy@agency.example.gov"

    /// Held a Capstone role for part of 2021 only.
    static let director = CustodianFacts(
        email: "A.Director@Agency.example.gov", office: "Office of the Commissioner",
        designations: [RoleDesignation(role: "Commissioner", capstone: true, starts: day("2021-03-15"), ends: day("2021-08-31"))])
    /// A non-Capstone role, still held.
    static let staff = CustodianFacts(
        email: staffEmail, office: "Field Operations",
        designations: [RoleDesignation(role: "Records Liaison", capstone: false, starts: day("2020-01-01"))])
    /// No office, no roles.
    static let clerk = CustodianFacts(email: clerkEmail, office: nil, designations: [])
    /// A Capstone role with no end date.
    static let deputy = CustodianFacts(
        email: deputyEmail, office: "Office of the Commissioner",
        designations: [RoleDesignation(role: "Deputy Commissioner", capstone: true, starts: day("2022-01-10"), ends: nil)])

    static let everyone = [director, staff, clerk, deputy]

    static let conversationKey = "whatsapp:b.staff@agency.example.gov:120363042@g.us"
    static let conversationTitle = "Nogales Ops"

    static func record(_ sent: String, custodian: String = staffEmail, sender: String? = nil, platform: String = "whatsapp",
                       key: String = conversationKey, title: String = conversationTitle) -> RecordFacts {
        RecordFacts(messageID: 1, sentDate: day(sent), platform: platform, conversationKey: key, conversationTitle: title,
                    custodianEmail: custodian, senderCustodianEmail: sender)
    }

    static func context(_ plan: FilePlan = .standard, events: [String: [String: CivilDate]] = [:]) -> RetentionContext {
        RetentionContext(plan: plan, custodians: everyone, events: events)
    }

    static let temporary10 = ScheduleItem(id: "0002", authority: "DAA-0568-2022-0005-0002", title: "Other messages",
                                          disposition: .temporary, cutoff: .calendarYear, retention: RetentionPeriod(years: 10))
    static let permanent15 = ScheduleItem(id: "0001", authority: "DAA-0568-2022-0005-0001", title: "Capstone messages",
                                          disposition: .permanent, cutoff: .calendarYear, transferAfter: RetentionPeriod(years: 15))
    static let temporary3 = ScheduleItem(id: "0003", authority: "DAA-0568-2022-0005-0003", title: "Operational chats",
                                         disposition: .temporary, cutoff: .calendarYear, retention: RetentionPeriod(years: 3))
}

extension RetentionEngineTests {
    /// The expected assignment, compared field by field.
    struct Expected: Sendable, Equatable, CustomStringConvertible {
        let item: String
        let rule: String?
        let action: RetentionAction
        let cutoff: String?
        let eligible: String?
        init(_ item: String, _ rule: String?, _ action: RetentionAction, _ cutoff: String?, _ eligible: String?) {
            self.item = item
            self.rule = rule
            self.action = action
            self.cutoff = cutoff
            self.eligible = eligible
        }
        init(_ a: RetentionAssignment) {
            self.init(a.itemID, a.ruleID, a.action, a.cutoff?.description, a.eligible?.description)
        }
        var description: String { "\(item) via \(rule ?? "-") \(action.rawValue) cutoff \(cutoff ?? "-") eligible \(eligible ?? "-")" }

        static let unscheduled = Expected("unscheduled", nil, .retain, nil, nil)
        static func other(_ cutoff: String, _ eligible: String) -> Expected { Expected("0002", "all-other-messages", .destroy, cutoff, eligible) }
        static func capstone(_ cutoff: String, _ eligible: String) -> Expected { Expected("0001", "capstone-officials", .transfer, cutoff, eligible) }
    }
}

// MARK: - Civil dates

extension RetentionEngineTests {
    @Suite("civil dates")
    struct CivilDates {
        @Test(arguments: [
            ("2021-11-03", 2021, 11, 3),
            ("2000-02-29", 2000, 2, 29),
            ("1970-01-01", 1970, 1, 1),
            ("0001-01-01", 1, 1, 1),
            ("9999-12-31", 9999, 12, 31),
            ("0999-07-04", 999, 7, 4),
        ])
        func parsesAndPrints(_ text: String, _ year: Int, _ month: Int, _ dayOfMonth: Int) throws {
            let d = try #require(CivilDate(text))
            #expect(d.year == year && d.month == month && d.day == dayOfMonth)
            #expect(d.description == text)
            #expect(CivilDate(year: year, month: month, day: dayOfMonth) == d)
        }

        @Test func ignoresATimeAfterTheDate() {
            #expect(CivilDate("2021-11-03T14:22:05Z")?.description == "2021-11-03")
            #expect(CivilDate("2021-11-03 23:59")?.description == "2021-11-03")
        }

        @Test(arguments: [
            "2023-02-29", "2021-13-01", "2021-00-10", "2021-04-31", "2021-06-00", "2100-02-29", "1900-02-29", "0000-01-01",
            "2021-1-01", "21-01-01", "2021/01/01", "2021-01-0x", "+021-01-01", "", "2021-01",
        ])
        func rejectsWhatIsNotARealDate(_ text: String) {
            #expect(CivilDate(text) == nil)
        }

        @Test func rejectsImpossibleParts() {
            #expect(CivilDate(year: 2023, month: 2, day: 29) == nil)
            #expect(CivilDate(year: 2021, month: 13, day: 1) == nil)
            #expect(CivilDate(year: 2021, month: 9, day: 31) == nil)
            #expect(CivilDate(year: 0, month: 1, day: 1) == nil)
            #expect(CivilDate(year: 10000, month: 1, day: 1) == nil)
            #expect(CivilDate(year: 2024, month: 2, day: 29) != nil)
            #expect(CivilDate(year: 2000, month: 2, day: 29) != nil)
        }

        @Test(arguments: [
            ("1970-01-01", 0),
            ("1969-12-31", -1),
            ("2000-02-29", 11_016),
            ("2000-03-01", 11_017),
            ("2024-02-29", 19_782),
            ("2100-02-28", 47_540),
            ("2100-03-01", 47_541),
            ("1600-02-29", -135_081),
            ("0001-01-01", -719_162),
            ("9999-12-31", 2_932_896),
        ])
        func dayNumbers(_ text: String, _ number: Int) {
            #expect(day(text).dayNumber == number)
            #expect(CivilDate(dayNumber: number).description == text)
        }

        /// Every day from 1899 to 2101 (1900 and 2100 are not leap years, 2000 is), checked against a
        /// plain day-by-day count.
        @Test func dayNumberRoundTripsDayByDay() throws {
            var expected = try #require(CivilDate(year: 1899, month: 1, day: 1))
            let first = expected.dayNumber
            #expect(first == -25_932)
            var mismatches: [String] = []
            var n = first
            while expected.year <= 2101 {
                let d = CivilDate(dayNumber: n)
                if d != expected || d.dayNumber != n || expected.addingDays(1).dayNumber != n + 1 {
                    mismatches.append("\(n): \(d) vs \(expected)")
                }
                // The next day, counted by hand.
                if expected.day < CivilDate.daysIn(month: expected.month, year: expected.year) {
                    expected = try #require(CivilDate(year: expected.year, month: expected.month, day: expected.day + 1))
                } else if expected.month < 12 {
                    expected = try #require(CivilDate(year: expected.year, month: expected.month + 1, day: 1))
                } else {
                    expected = try #require(CivilDate(year: expected.year + 1, month: 1, day: 1))
                }
                n += 1
            }
            #expect(mismatches.isEmpty, "\(mismatches.prefix(5))")
            #expect(n - first == 203 * 365 + 49)   // 1899…2101: 49 leap days (1904…2096, not 1900 or 2100)
        }

        @Test func leapYears() {
            #expect(CivilDate.isLeap(2024) && CivilDate.isLeap(2000) && CivilDate.isLeap(1600))
            #expect(!CivilDate.isLeap(2023) && !CivilDate.isLeap(2100) && !CivilDate.isLeap(1900))
            #expect(CivilDate.endOf(month: 2, year: 2024).description == "2024-02-29")
            #expect(CivilDate.endOf(month: 2, year: 2100).description == "2100-02-28")
            #expect(CivilDate.endOf(month: 9, year: 2022).description == "2022-09-30")
        }

        @Test func ordersChronologically() {
            let dates = ["2021-12-31", "2021-01-01", "2020-12-31", "2021-02-28", "2021-11-03"].map(day)
            #expect(dates.sorted().map(\.description) == ["2020-12-31", "2021-01-01", "2021-02-28", "2021-11-03", "2021-12-31"])
            #expect(day("2021-09-30") < day("2021-10-01"))
            #expect(!(day("2021-10-01") < day("2021-10-01")))
        }

        @Test func codableAsText() throws {
            let json = try JSONEncoder().encode([day("2024-02-29")])
            #expect(String(decoding: json, as: UTF8.self) == #"["2024-02-29"]"#)
            #expect(try JSONDecoder().decode([CivilDate].self, from: json) == [day("2024-02-29")])
            #expect(throws: DecodingError.self) { _ = try JSONDecoder().decode([CivilDate].self, from: Data(#"["2023-02-29"]"#.utf8)) }
        }

        /// Retention never ends early: a day the target month lacks rolls forward to the 1st.
        @Test(arguments: [
            ("2021-01-31", RetentionPeriod(months: 1), "2021-03-01"),
            ("2024-01-31", RetentionPeriod(months: 1), "2024-03-01"),
            ("2021-01-30", RetentionPeriod(months: 1), "2021-03-01"),
            ("2021-01-28", RetentionPeriod(months: 1), "2021-02-28"),
            ("2021-08-31", RetentionPeriod(months: 1), "2021-10-01"),
            ("2021-01-31", RetentionPeriod(years: 1, months: 1), "2022-03-01"),
            ("2021-01-31", RetentionPeriod(months: 13), "2022-03-01"),
            ("2024-02-29", RetentionPeriod(years: 1), "2025-03-01"),
            ("2024-02-29", RetentionPeriod(years: 4), "2028-02-29"),
            ("2000-02-29", RetentionPeriod(years: 100), "2100-03-01"),
            ("2000-02-29", RetentionPeriod(years: 400), "2400-02-29"),
            ("2021-11-15", RetentionPeriod(months: 2), "2022-01-15"),
            ("2021-12-31", RetentionPeriod(months: 1), "2022-01-31"),
            ("2021-12-15", RetentionPeriod(months: 12), "2022-12-15"),
            ("2022-01-01", RetentionPeriod(years: 10), "2032-01-01"),
            ("2022-01-01", RetentionPeriod(years: 15), "2037-01-01"),
            ("2021-08-31", RetentionPeriod(months: 6, days: 15), "2022-03-16"),
            ("2021-12-25", RetentionPeriod(days: 10), "2022-01-04"),
            ("2024-02-28", RetentionPeriod(days: 1), "2024-02-29"),
            ("2023-02-28", RetentionPeriod(days: 1), "2023-03-01"),
            ("2021-03-01", RetentionPeriod(), "2021-03-01"),
        ])
        func addingAPeriod(_ start: String, _ period: RetentionPeriod, _ expected: String) {
            #expect(day(start).adding(period).description == expected)
        }

        @Test(arguments: [
            (RetentionPeriod(years: 10), "10 years"),
            (RetentionPeriod(years: 1), "1 year"),
            (RetentionPeriod(months: 6, days: 15), "6 months 15 days"),
            (RetentionPeriod(years: 1, months: 1, days: 1), "1 year 1 month 1 day"),
            (RetentionPeriod(), "0 days"),
        ])
        func periodsInWords(_ period: RetentionPeriod, _ words: String) {
            #expect(period.description == words)
            #expect(period.isZero == (words == "0 days"))
        }
    }
}

// MARK: - Cutoffs and eligibility

extension RetentionEngineTests {
    @Suite("cutoff and eligibility")
    struct Cutoffs {
        struct Case: Sendable, CustomTestStringConvertible {
            let custodian: String
            let sent: String
            let expected: Expected
            var testDescription: String { "\(custodian) \(sent) → \(expected)" }
        }

        /// FilePlan.standard; the director held a Capstone role 2021-03-15 … 2021-08-31 inclusive.
        static let standardCases: [Case] = [
            // 36 CFR example: a message of 2021-11-03, calendar-year cutoff 2021-12-31, destroy 10 years later.
            Case(custodian: Fixtures.staffEmail, sent: "2021-11-03", expected: .other("2021-12-31", "2032-01-01")),
            Case(custodian: Fixtures.staffEmail, sent: "2021-01-01", expected: .other("2021-12-31", "2032-01-01")),
            Case(custodian: Fixtures.staffEmail, sent: "2021-12-31", expected: .other("2021-12-31", "2032-01-01")),
            Case(custodian: Fixtures.staffEmail, sent: "2022-01-01", expected: .other("2022-12-31", "2033-01-01")),
            Case(custodian: Fixtures.staffEmail, sent: "2024-02-29", expected: .other("2024-12-31", "2035-01-01")),
            Case(custodian: Fixtures.directorEmail, sent: "2021-03-14", expected: .other("2021-12-31", "2032-01-01")),
            Case(custodian: Fixtures.directorEmail, sent: "2021-03-15", expected: .capstone("2021-12-31", "2037-01-01")),
            Case(custodian: Fixtures.directorEmail, sent: "2021-06-30", expected: .capstone("2021-12-31", "2037-01-01")),
            Case(custodian: Fixtures.directorEmail, sent: "2021-08-31", expected: .capstone("2021-12-31", "2037-01-01")),
            Case(custodian: Fixtures.directorEmail, sent: "2021-09-01", expected: .other("2021-12-31", "2032-01-01")),
            Case(custodian: Fixtures.directorEmail, sent: "2020-06-01", expected: .other("2020-12-31", "2031-01-01")),
            // Open-ended designation from 2022-01-10.
            Case(custodian: Fixtures.deputyEmail, sent: "2022-01-09", expected: .other("2022-12-31", "2033-01-01")),
            Case(custodian: Fixtures.deputyEmail, sent: "2022-01-10", expected: .capstone("2022-12-31", "2038-01-01")),
            Case(custodian: Fixtures.deputyEmail, sent: "2030-06-01", expected: .capstone("2030-12-31", "2046-01-01")),
            // Custodian spelled in another case, and a custodian the context does not know.
            Case(custodian: "A.DIRECTOR@agency.example.gov", sent: "2021-05-01", expected: .capstone("2021-12-31", "2037-01-01")),
            Case(custodian: "stranger@agency.example.gov", sent: "2021-05-01", expected: .other("2021-12-31", "2032-01-01")),
        ]

        @Test(arguments: standardCases)
        func standardPlan(_ c: Case) {
            let (a, why) = Fixtures.context().assign(Fixtures.record(c.sent, custodian: c.custodian))
            #expect(Expected(a) == c.expected)
            #expect(why.isEmpty)
        }

        struct SenderCase: Sendable, CustomTestStringConvertible {
            let custodian: String
            let sender: String?
            let sent: String
            let expected: Expected
            var testDescription: String { "\(custodian) ← \(sender ?? "nil") \(sent) → \(expected.item)" }
        }

        /// A message in the staff member's conversation, sent by another custodian.
        static let senderCases: [SenderCase] = [
            SenderCase(custodian: Fixtures.staffEmail, sender: Fixtures.directorEmail, sent: "2021-05-01",
                       expected: .capstone("2021-12-31", "2037-01-01")),
            SenderCase(custodian: Fixtures.staffEmail, sender: "A.Director@AGENCY.example.gov", sent: "2021-05-01",
                       expected: .capstone("2021-12-31", "2037-01-01")),
            SenderCase(custodian: Fixtures.staffEmail, sender: Fixtures.directorEmail, sent: "2021-09-01",
                       expected: .other("2021-12-31", "2032-01-01")),
            SenderCase(custodian: Fixtures.staffEmail, sender: Fixtures.clerkEmail, sent: "2021-05-01",
                       expected: .other("2021-12-31", "2032-01-01")),
            SenderCase(custodian: Fixtures.staffEmail, sender: "stranger@agency.example.gov", sent: "2021-05-01",
                       expected: .other("2021-12-31", "2032-01-01")),
            SenderCase(custodian: Fixtures.staffEmail, sender: nil, sent: "2021-05-01",
                       expected: .other("2021-12-31", "2032-01-01")),
            SenderCase(custodian: Fixtures.directorEmail, sender: Fixtures.directorEmail, sent: "2021-05-01",
                       expected: .capstone("2021-12-31", "2037-01-01")),
            SenderCase(custodian: Fixtures.directorEmail, sender: Fixtures.clerkEmail, sent: "2021-05-01",
                       expected: .capstone("2021-12-31", "2037-01-01")),
            SenderCase(custodian: Fixtures.clerkEmail, sender: Fixtures.deputyEmail, sent: "2023-02-01",
                       expected: .capstone("2023-12-31", "2039-01-01")),
        ]

        @Test(arguments: senderCases)
        func senderCustodian(_ c: SenderCase) {
            let (a, _) = Fixtures.context().assign(Fixtures.record(c.sent, custodian: c.custodian, sender: c.sender))
            #expect(Expected(a) == c.expected)
        }

        static func fiscalPlan(startMonth: Int) -> FilePlan {
            var item = Fixtures.temporary10
            item.cutoff = .fiscalYear
            return FilePlan(title: "Fiscal", fiscalYearStartMonth: startMonth, items: [item],
                            rules: [RetentionRule(id: "all", item: "0002")])
        }

        @Test(arguments: [
            (10, "2021-11-03", "2022-09-30", "2032-10-01"),
            (10, "2021-10-01", "2022-09-30", "2032-10-01"),
            (10, "2021-09-30", "2021-09-30", "2031-10-01"),
            (10, "2021-01-15", "2021-09-30", "2031-10-01"),
            (10, "2021-12-31", "2022-09-30", "2032-10-01"),
            (3, "2023-06-01", "2024-02-29", "2034-03-01"),
            (3, "2023-03-01", "2024-02-29", "2034-03-01"),
            (3, "2023-02-28", "2023-02-28", "2033-03-01"),
            (3, "2024-02-29", "2024-02-29", "2034-03-01"),
            (3, "2024-03-01", "2025-02-28", "2035-03-01"),
            (3, "2099-05-01", "2100-02-28", "2110-03-01"),
            (1, "2021-11-03", "2021-12-31", "2032-01-01"),
            (1, "2021-01-01", "2021-12-31", "2032-01-01"),
            (1, "2024-02-29", "2024-12-31", "2035-01-01"),
            (7, "2021-06-30", "2021-06-30", "2031-07-01"),
            (7, "2021-07-01", "2022-06-30", "2032-07-01"),
            (12, "2021-11-30", "2021-11-30", "2031-12-01"),
            (12, "2021-12-01", "2022-11-30", "2032-12-01"),
            (2, "2021-01-31", "2021-01-31", "2031-02-01"),
            (2, "2021-02-01", "2022-01-31", "2032-02-01"),
        ])
        func fiscalYearCutoff(_ startMonth: Int, _ sent: String, _ cutoff: String, _ eligible: String) {
            let ctx = Fixtures.context(Self.fiscalPlan(startMonth: startMonth))
            let (a, _) = ctx.assign(Fixtures.record(sent))
            #expect(Expected(a) == Expected("0002", "all", .destroy, cutoff, eligible))
            var item = Fixtures.temporary10
            item.cutoff = .fiscalYear
            #expect(ctx.cutoff(for: item, sent: day(sent), conversationKey: "any")?.description == cutoff)
        }

        @Test(arguments: [
            ("2021-11-03", "2021-12-31"),
            ("2024-02-29", "2024-12-31"),
            ("2024-01-01", "2024-12-31"),
            ("2023-12-31", "2023-12-31"),
        ])
        func calendarYearCutoffIgnoresTheFiscalYear(_ sent: String, _ cutoff: String) {
            for start in [1, 3, 10] {
                let ctx = Fixtures.context(Self.fiscalPlan(startMonth: start))
                #expect(ctx.cutoff(for: Fixtures.temporary10, sent: day(sent), conversationKey: "k")?.description == cutoff)
            }
        }

        static func eventPlan(name: String = "conversation closed", disposition: DispositionKind = .temporary) -> FilePlan {
            let item = ScheduleItem(id: "0003", authority: "DAA-0568-2022-0005-0003", title: "Case conversations",
                                    disposition: disposition, cutoff: .event, cutoffEvent: name,
                                    retention: disposition == .temporary ? RetentionPeriod(years: 3) : nil,
                                    transferAfter: disposition == .permanent ? RetentionPeriod(years: 15) : nil)
            return FilePlan(title: "Events", items: [item], rules: [RetentionRule(id: "cases", item: "0003")])
        }

        struct EventCase: Sendable, CustomTestStringConvertible {
            let label: String
            let plan: FilePlan
            let events: [String: [String: CivilDate]]
            let sent: String
            let expected: Expected
            var testDescription: String { label }
        }

        static let key = Fixtures.conversationKey
        static let eventCases: [EventCase] = [
            EventCase(label: "no event yet", plan: eventPlan(), events: [:], sent: "2021-11-03",
                      expected: Expected("0003", "cases", .awaitingCutoff, nil, nil)),
            EventCase(label: "closed 2022-05-10", plan: eventPlan(), events: [key: ["conversation closed": day("2022-05-10")]],
                      sent: "2021-11-03", expected: Expected("0003", "cases", .destroy, "2022-05-10", "2025-05-11")),
            EventCase(label: "closed on the sent date", plan: eventPlan(), events: [key: ["conversation closed": day("2021-11-03")]],
                      sent: "2021-11-03", expected: Expected("0003", "cases", .destroy, "2021-11-03", "2024-11-04")),
            EventCase(label: "event before the sent date uses the sent date", plan: eventPlan(),
                      events: [key: ["conversation closed": day("2021-10-01")]],
                      sent: "2021-11-03", expected: Expected("0003", "cases", .destroy, "2021-11-03", "2024-11-04")),
            EventCase(label: "event in another conversation", plan: eventPlan(),
                      events: ["whatsapp:other": ["conversation closed": day("2022-05-10")]],
                      sent: "2021-11-03", expected: Expected("0003", "cases", .awaitingCutoff, nil, nil)),
            EventCase(label: "another event in this conversation", plan: eventPlan(),
                      events: [key: ["conversation archived": day("2022-05-10")]],
                      sent: "2021-11-03", expected: Expected("0003", "cases", .awaitingCutoff, nil, nil)),
            EventCase(label: "item names the event in mixed case", plan: eventPlan(name: "Conversation Closed"),
                      events: [key: ["conversation closed": day("2022-05-10")]],
                      sent: "2021-11-03", expected: Expected("0003", "cases", .destroy, "2022-05-10", "2025-05-11")),
            // The period runs from 2024-02-29, which 2027 lacks: it rolls forward, never early.
            EventCase(label: "closed the day before a leap day", plan: eventPlan(), events: [key: ["conversation closed": day("2024-02-28")]],
                      sent: "2024-01-05", expected: Expected("0003", "cases", .destroy, "2024-02-28", "2027-03-01")),
            EventCase(label: "permanent, closed 2022-05-10", plan: eventPlan(disposition: .permanent),
                      events: [key: ["conversation closed": day("2022-05-10")]],
                      sent: "2021-11-03", expected: Expected("0003", "cases", .transfer, "2022-05-10", "2037-05-11")),
            EventCase(label: "permanent, no event", plan: eventPlan(disposition: .permanent), events: [:],
                      sent: "2021-11-03", expected: Expected("0003", "cases", .awaitingCutoff, nil, nil)),
        ]

        @Test(arguments: eventCases)
        func eventCutoff(_ c: EventCase) {
            let (a, _) = Fixtures.context(c.plan, events: c.events).assign(Fixtures.record(c.sent))
            #expect(Expected(a) == c.expected)
        }

        @Test func explainNamesTheRuleAndTheDates() {
            let ctx = Fixtures.context()
            let (a, why) = ctx.assign(Fixtures.record("2021-05-01", custodian: Fixtures.directorEmail), explain: true)
            #expect(Expected(a) == .capstone("2021-12-31", "2037-01-01"))
            #expect(!why.isEmpty)
            #expect(why.contains { $0.contains("'capstone-officials'") && $0.contains("0001") })
            #expect(why.contains { $0.contains("Commissioner") && $0.contains(Fixtures.directorEmail) })
            #expect(why.contains { $0.contains("2021-12-31") && $0.contains("2037-01-01") })

            let (b, whyB) = ctx.assign(Fixtures.record("2021-11-03"), explain: true)
            #expect(Expected(b) == .other("2021-12-31", "2032-01-01"))
            #expect(whyB.contains { $0.contains("'all-other-messages'") })
            #expect(whyB.contains { $0.contains("2032-01-01") })
            #expect(!whyB.contains { $0.contains("capstone-officials") })

            // Explaining does not change the answer.
            #expect(ctx.assign(Fixtures.record("2021-05-01", custodian: Fixtures.directorEmail)).0 == a)
        }

        @Test func explainUnscheduledAndAwaiting() {
            let signalOnly = FilePlan(title: "Signal", items: [Fixtures.temporary10],
                                      rules: [RetentionRule(id: "signal", item: "0002", when: RuleCondition(platforms: ["signal"]))])
            let (a, why) = Fixtures.context(signalOnly).assign(Fixtures.record("2021-05-01"), explain: true)
            #expect(Expected(a) == .unscheduled)
            #expect(why.contains { $0.contains("no rule matches") })

            let (b, whyB) = Fixtures.context(Self.eventPlan()).assign(Fixtures.record("2021-05-01"), explain: true)
            #expect(b.action == .awaitingCutoff)
            #expect(whyB.contains { $0.contains("'cases'") })
            #expect(whyB.contains { $0.contains("conversation closed") })
        }
    }
}

// MARK: - Rules

extension RetentionEngineTests {
    @Suite("rules")
    struct Rules {
        @Test func unscheduledUntilARuleCoversThePlatform() {
            let signalRule = RetentionRule(id: "signal-messages", item: "0002", when: RuleCondition(platforms: ["signal"]))
            var plan = FilePlan(title: "Signal only", items: [Fixtures.temporary10], rules: [signalRule])
            #expect(plan.problems() == [])
            let whatsapp = Fixtures.record("2021-11-03", platform: "whatsapp")
            let signal = Fixtures.record("2021-11-03", platform: "Signal")

            #expect(Expected(Fixtures.context(plan).assign(whatsapp).0) == .unscheduled)
            #expect(Expected(Fixtures.context(plan).assign(signal).0) == Expected("0002", "signal-messages", .destroy, "2021-12-31", "2032-01-01"))

            plan.rules.append(RetentionRule(id: "whatsapp-messages", item: "0002", when: RuleCondition(platforms: ["WhatsApp"])))
            #expect(Expected(Fixtures.context(plan).assign(whatsapp).0)
                    == Expected("0002", "whatsapp-messages", .destroy, "2021-12-31", "2032-01-01"))
            #expect(Expected(Fixtures.context(plan).assign(signal).0) == Expected("0002", "signal-messages", .destroy, "2021-12-31", "2032-01-01"))
        }

        @Test func aPlanWithNoRulesSchedulesNothing() {
            let plan = FilePlan(title: "Empty", items: [Fixtures.temporary10], rules: [])
            #expect(Expected(Fixtures.context(plan).assign(Fixtures.record("2021-11-03")).0) == .unscheduled)
        }

        struct ConditionCase: Sendable, CustomTestStringConvertible {
            let label: String
            let when: RuleCondition
            let record: RecordFacts
            let matches: Bool
            var testDescription: String { label }
        }

        static let key = Fixtures.conversationKey
        static let conditionCases: [ConditionCase] = [
            ConditionCase(label: "empty condition", when: RuleCondition(), record: Fixtures.record("2021-05-01"), matches: true),
            // Roles, compared without case, held by the custodian or the sender-custodian on the sent date.
            ConditionCase(label: "role, same case", when: RuleCondition(roles: ["Records Liaison"]),
                          record: Fixtures.record("2021-05-01"), matches: true),
            ConditionCase(label: "role, other case", when: RuleCondition(roles: ["RECORDS liaison"]),
                          record: Fixtures.record("2021-05-01"), matches: true),
            ConditionCase(label: "role before it was held", when: RuleCondition(roles: ["records liaison"]),
                          record: Fixtures.record("2019-12-31"), matches: false),
            ConditionCase(label: "role the custodian does not hold", when: RuleCondition(roles: ["commissioner"]),
                          record: Fixtures.record("2021-05-01"), matches: false),
            ConditionCase(label: "role held by the sender-custodian", when: RuleCondition(roles: ["commissioner"]),
                          record: Fixtures.record("2021-05-01", sender: Fixtures.directorEmail), matches: true),
            ConditionCase(label: "role no longer held", when: RuleCondition(roles: ["commissioner"]),
                          record: Fixtures.record("2021-09-01", custodian: Fixtures.directorEmail), matches: false),
            ConditionCase(label: "one of several roles", when: RuleCondition(roles: ["Commissioner", "Deputy Commissioner"]),
                          record: Fixtures.record("2022-02-01", custodian: Fixtures.deputyEmail), matches: true),
            // Offices: the custodian's own.
            ConditionCase(label: "office", when: RuleCondition(offices: ["field operations"]),
                          record: Fixtures.record("2021-05-01"), matches: true),
            ConditionCase(label: "other office", when: RuleCondition(offices: ["Office of the Commissioner"]),
                          record: Fixtures.record("2021-05-01"), matches: false),
            ConditionCase(label: "custodian without an office", when: RuleCondition(offices: ["Field Operations"]),
                          record: Fixtures.record("2021-05-01", custodian: Fixtures.clerkEmail), matches: false),
            ConditionCase(label: "unknown custodian", when: RuleCondition(offices: ["Field Operations"]),
                          record: Fixtures.record("2021-05-01", custodian: "stranger@agency.example.gov"), matches: false),
            // Custodians: the custodian's address, without case; the sender does not count.
            ConditionCase(label: "custodian", when: RuleCondition(custodians: ["B.Staff@Agency.example.gov"]),
                          record: Fixtures.record("2021-05-01"), matches: true),
            ConditionCase(label: "other custodian", when: RuleCondition(custodians: [Fixtures.clerkEmail]),
                          record: Fixtures.record("2021-05-01"), matches: false),
            ConditionCase(label: "sender is not the custodian", when: RuleCondition(custodians: [Fixtures.directorEmail]),
                          record: Fixtures.record("2021-05-01", sender: Fixtures.directorEmail), matches: false),
            // Conversations: by key or by title (title without case).
            ConditionCase(label: "conversation key", when: RuleCondition(conversations: [key]),
                          record: Fixtures.record("2021-05-01"), matches: true),
            ConditionCase(label: "conversation title", when: RuleCondition(conversations: ["Nogales Ops"]),
                          record: Fixtures.record("2021-05-01"), matches: true),
            ConditionCase(label: "conversation title, other case", when: RuleCondition(conversations: ["NOGALES ops"]),
                          record: Fixtures.record("2021-05-01"), matches: true),
            ConditionCase(label: "other conversation", when: RuleCondition(conversations: ["Tucson Ops", "whatsapp:other"]),
                          record: Fixtures.record("2021-05-01"), matches: false),
            // Platforms.
            ConditionCase(label: "platform", when: RuleCondition(platforms: ["WhatsApp"]),
                          record: Fixtures.record("2021-05-01"), matches: true),
            ConditionCase(label: "other platform", when: RuleCondition(platforms: ["signal", "teams"]),
                          record: Fixtures.record("2021-05-01"), matches: false),
            // Capstone true / false.
            ConditionCase(label: "capstone false, no Capstone role", when: RuleCondition(capstone: false),
                          record: Fixtures.record("2021-05-01"), matches: true),
            ConditionCase(label: "capstone false, custodian is Capstone", when: RuleCondition(capstone: false),
                          record: Fixtures.record("2021-05-01", custodian: Fixtures.directorEmail), matches: false),
            ConditionCase(label: "capstone false, sender is Capstone", when: RuleCondition(capstone: false),
                          record: Fixtures.record("2021-05-01", sender: Fixtures.directorEmail), matches: false),
            ConditionCase(label: "capstone false, after the designation", when: RuleCondition(capstone: false),
                          record: Fixtures.record("2021-09-01", custodian: Fixtures.directorEmail), matches: true),
            ConditionCase(label: "capstone true, non-Capstone role", when: RuleCondition(capstone: true),
                          record: Fixtures.record("2021-05-01"), matches: false),
            // Every condition given must hold.
            ConditionCase(label: "role and office both hold", when: RuleCondition(roles: ["records liaison"], offices: ["Field Operations"]),
                          record: Fixtures.record("2021-05-01"), matches: true),
            ConditionCase(label: "role holds, office does not",
                          when: RuleCondition(roles: ["records liaison"], offices: ["Office of the Commissioner"]),
                          record: Fixtures.record("2021-05-01"), matches: false),
            ConditionCase(label: "capstone and conversation", when: RuleCondition(capstone: true, conversations: ["Nogales Ops"]),
                          record: Fixtures.record("2021-05-01", sender: Fixtures.directorEmail), matches: true),
            ConditionCase(label: "capstone and wrong conversation", when: RuleCondition(capstone: true, conversations: ["Tucson Ops"]),
                          record: Fixtures.record("2021-05-01", sender: Fixtures.directorEmail), matches: false),
        ]

        @Test(arguments: conditionCases)
        func conditions(_ c: ConditionCase) {
            let plan = FilePlan(title: "One rule", items: [Fixtures.temporary3],
                                rules: [RetentionRule(id: "the-rule", item: "0003", when: c.when)])
            #expect(plan.problems() == [])
            let (a, _) = Fixtures.context(plan).assign(c.record)
            let cutoff = "\(c.record.sentDate.year)-12-31"
            let eligible = "\(c.record.sentDate.year + 4)-01-01"
            #expect(Expected(a) == (c.matches ? Expected("0003", "the-rule", .destroy, cutoff, eligible) : .unscheduled))
        }

        static let capstoneRule = RetentionRule(id: "capstone", item: "0001", when: RuleCondition(capstone: true))
        static let nogalesRule = RetentionRule(id: "nogales", item: "0003", when: RuleCondition(conversations: ["Nogales Ops"]))
        static let catchAll = RetentionRule(id: "rest", item: "0002")

        @Test(arguments: [
            // Rule order, director's Nogales message, staff Nogales message, staff elsewhere.
            ([capstoneRule, nogalesRule, catchAll], "capstone", "nogales", "rest"),
            ([nogalesRule, capstoneRule, catchAll], "nogales", "nogales", "rest"),
            ([catchAll, capstoneRule, nogalesRule], "rest", "rest", "rest"),
            ([capstoneRule, catchAll, nogalesRule], "capstone", "rest", "rest"),
        ])
        func firstMatchingRuleWins(_ rules: [RetentionRule], _ director: String, _ staffNogales: String, _ staffElsewhere: String) {
            let plan = FilePlan(title: "Ordered", items: [Fixtures.permanent15, Fixtures.temporary10, Fixtures.temporary3], rules: rules)
            let ctx = Fixtures.context(plan)
            #expect(ctx.assign(Fixtures.record("2021-05-01", custodian: Fixtures.directorEmail)).0.ruleID == director)
            #expect(ctx.assign(Fixtures.record("2021-05-01")).0.ruleID == staffNogales)
            #expect(ctx.assign(Fixtures.record("2021-05-01", key: "whatsapp:other", title: "Tucson Ops")).0.ruleID == staffElsewhere)
        }

        @Test func itemOfTheMatchingRuleDecidesTheDates() {
            let plan = FilePlan(title: "Ordered", items: [Fixtures.permanent15, Fixtures.temporary10, Fixtures.temporary3],
                                rules: [Self.nogalesRule, Self.capstoneRule, Self.catchAll])
            let ctx = Fixtures.context(plan)
            #expect(Expected(ctx.assign(Fixtures.record("2021-05-01", custodian: Fixtures.directorEmail)).0)
                    == Expected("0003", "nogales", .destroy, "2021-12-31", "2025-01-01"))
            #expect(Expected(ctx.assign(Fixtures.record("2021-05-01", custodian: Fixtures.directorEmail, key: "k", title: "t")).0)
                    == Expected("0001", "capstone", .transfer, "2021-12-31", "2037-01-01"))
            #expect(Expected(ctx.assign(Fixtures.record("2021-05-01", key: "k", title: "t")).0)
                    == Expected("0002", "rest", .destroy, "2021-12-31", "2032-01-01"))
        }

        @Test func aRuleNamingAMissingItemIsPassedOver() {
            let plan = FilePlan(title: "Broken", items: [Fixtures.temporary10],
                                rules: [RetentionRule(id: "ghost", item: "9999"), RetentionRule(id: "rest", item: "0002")])
            #expect(Expected(Fixtures.context(plan).assign(Fixtures.record("2021-11-03")).0)
                    == Expected("0002", "rest", .destroy, "2021-12-31", "2032-01-01"))
        }
    }
}

// MARK: - Account addresses

extension RetentionEngineTests {
    @Suite("account addresses")
    struct AccountAddresses {
        @Test(arguments: [
            ("+1 (202) 555-0143", "tel:12025550143"),
            ("202-555-0143", "tel:2025550143"),
            ("202.555.0143", "tel:2025550143"),
            ("  2025550143\n", "tel:2025550143"),
            ("+44 20 7946 0958", "tel:442079460958"),
            ("\u{202A}+1 202\u{2011}555\u{2011}0143\u{202C}", "tel:12025550143"),
            ("555-0143", "tel:5550143"),
            ("12345", "12345"),
            ("K.Walsh@CBP.Example.gov", "k.walsh@cbp.example.gov"),
            ("@Handle", "handle"),
            ("  @Karen_W ", "karen_w"),
            ("+1 202 555 0143 ext 5", "+1 202 555 0143 ext 5"),
        ])
        func normalize(_ raw: String, _ normalized: String) {
            #expect(AccountAddress.normalize(raw) == normalized)
        }

        @Test(arguments: [
            ("+1 (202) 555-0143", "202-555-0143", true),
            ("+1 (202) 555-0143", "2025550143", true),
            ("202-555-0143", "2025550143", true),
            ("+1 202 555 0143", "001 202 555 0143", true),
            ("+44 20 7946 0958", "+1 202 555 0143", false),
            ("+44 20 7946 0958", "020 7946 0958", true),
            ("0044 20 7946 0958", "+44 20 7946 0958", true),
            ("202-555-0143", "312-555-0143", false),
            ("K.Walsh@cbp.example.gov", "k.walsh@CBP.example.gov", true),
            ("k.walsh@cbp.example.gov", "j.alvarez@cbp.example.gov", false),
            ("@Handle", "handle", true),
            ("@Handle", "@HANDLE", true),
            ("@handle", "@handle2", false),
            ("555-0143", "+1 202 555-0143", false),     // 7 digits: too short to stand for a full number
            ("2555-0143", "+1 202 555-0143", false),    // 8 digits: still too short
            ("555-0143", "555 0143", true),             // equal is equal
            ("k.walsh@cbp.example.gov", "202-555-0143", false),
        ])
        func same(_ a: String, _ b: String, _ expected: Bool) {
            let x = AccountAddress.normalize(a), y = AccountAddress.normalize(b)
            #expect(AccountAddress.same(x, y) == expected)
            #expect(AccountAddress.same(y, x) == expected)
        }
    }
}

// MARK: - File plan checks

extension RetentionEngineTests {
    @Suite("file plan problems")
    struct FilePlanProblems {
        @Test func standardPlanHasNoProblems() {
            #expect(FilePlan.standard.problems() == [])
            #expect(FilePlan.standard.item("0001")?.disposition == .permanent)
            #expect(FilePlan.standard.item("0002")?.retention == RetentionPeriod(years: 10))
            #expect(FilePlan.standard.item("unscheduled") == nil)
        }

        struct ProblemCase: Sendable, CustomTestStringConvertible {
            let label: String
            let plan: FilePlan
            let problems: [String]
            var testDescription: String { label }
            init(_ label: String, _ problems: [String], _ change: (inout FilePlan) -> Void) {
                var plan = FilePlan.standard
                change(&plan)
                self.label = label
                self.plan = plan
                self.problems = problems
            }
        }

        static let extraItem = ScheduleItem(id: "0003", authority: "DAA-0568-2022-0005-0003", title: "Case conversations",
                                            disposition: .temporary, cutoff: .event, retention: RetentionPeriod(years: 3))

        static let cases: [ProblemCase] = [
            ProblemCase("temporary without retention", ["item 0002 is temporary but has no retention period"]) {
                $0.items[1].retention = nil
            },
            ProblemCase("permanent without transfer_after", ["item 0001 is permanent but has no transfer_after period"]) {
                $0.items[0].transferAfter = nil
            },
            ProblemCase("temporary with transfer_after", ["item 0002 is temporary; transfer_after applies to permanent items only"]) {
                $0.items[1].transferAfter = RetentionPeriod(years: 1)
            },
            ProblemCase("permanent with retention", ["item 0001 is permanent; use transfer_after, not retention"]) {
                $0.items[0].retention = RetentionPeriod(years: 1)
            },
            ProblemCase("rule names a missing item", ["rule all-other-messages names item 0003, which the plan does not have"]) {
                $0.rules[1].item = "0003"
            },
            ProblemCase("duplicate item id", ["item 0002 appears twice"]) {
                $0.items.append($0.items[1])
            },
            ProblemCase("duplicate rule id", ["rule all-other-messages appears twice"]) {
                $0.rules.append($0.rules[1])
            },
            ProblemCase("reserved id", ["item unscheduled: 'unscheduled' is reserved for records no rule covers"]) {
                var item = $0.items[1]
                item.id = "unscheduled"
                $0.items.append(item)
            },
            ProblemCase("event cutoff without a name", ["item 0003 has an event cutoff but no cutoff_event name"]) {
                $0.items.append(extraItem)
            },
            ProblemCase("event cutoff with a blank name", ["item 0003 has an event cutoff but no cutoff_event name"]) {
                var item = extraItem
                item.cutoffEvent = "   "
                $0.items.append(item)
            },
            ProblemCase("cutoff_event without an event cutoff", ["item 0002: cutoff_event needs cutoff: event"]) {
                $0.items[1].cutoffEvent = "conversation closed"
            },
            ProblemCase("fiscal month 13", ["fiscal_year_start_month must be 1–12 (got 13)"]) { $0.fiscalYearStartMonth = 13 },
            ProblemCase("fiscal month 0", ["fiscal_year_start_month must be 1–12 (got 0)"]) { $0.fiscalYearStartMonth = 0 },
            ProblemCase("negative period", ["item 0002: periods cannot be negative"]) {
                $0.items[1].retention = RetentionPeriod(years: 10, days: -1)
            },
            ProblemCase("no authority", ["item 0002 has no disposition authority"]) { $0.items[1].authority = "  " },
            ProblemCase("no title", ["item 0001 has no title"]) { $0.items[0].title = "" },
            ProblemCase("no id", ["an item has no id", "an item has no id", "item (no id) appears twice"]) {
                $0.items[0].id = ""
                $0.items[1].id = ""
                $0.rules = []
            },
            ProblemCase("empty condition list", ["rule capstone-officials has an empty list, which could never match; remove it"]) {
                $0.rules[0].when.roles = []
            },
            ProblemCase("no items", ["the plan has no items"]) {
                $0.items = []
                $0.rules = []
            },
            ProblemCase("several at once", [
                "fiscal_year_start_month must be 1–12 (got 13)",
                "item 0001 is permanent but has no transfer_after period",
                "item 0002 is temporary but has no retention period",
                "rule extra names item 0009, which the plan does not have",
            ]) {
                $0.fiscalYearStartMonth = 13
                $0.items[0].transferAfter = nil
                $0.items[1].retention = nil
                $0.rules.append(RetentionRule(id: "extra", item: "0009"))
            },
        ]

        @Test(arguments: cases)
        func problems(_ c: ProblemCase) {
            #expect(c.plan.problems() == c.problems)
        }

        @Test func eventItemWithANameIsFine() {
            var plan = FilePlan.standard
            var item = Self.extraItem
            item.cutoffEvent = "conversation closed"
            plan.items.append(item)
            #expect(plan.problems() == [])
        }
    }
}

// MARK: - File plan text forms

extension RetentionEngineTests {
    @Suite("file plan YAML and JSON")
    struct FilePlanText {
        /// A plan that uses every field: fiscal start, event cutoff, days and months, every condition.
        static let rich = FilePlan(
            title: "Everything",
            fiscalYearStartMonth: 3,
            items: [
                Fixtures.permanent15,
                ScheduleItem(id: "0003", authority: "DAA-0568-2022-0005-0003", title: "Case conversations",
                             disposition: .temporary, cutoff: .event, cutoffEvent: "conversation closed",
                             retention: RetentionPeriod(years: 1, months: 6, days: 15)),
                ScheduleItem(id: "0004", authority: "GRS 5.2/020", title: "Transitory",
                             disposition: .temporary, cutoff: .fiscalYear, retention: RetentionPeriod(days: 180)),
            ],
            rules: [
                RetentionRule(id: "capstone", item: "0001", when: RuleCondition(capstone: true, roles: ["Commissioner"]), note: "NA-1005"),
                RetentionRule(id: "cases", item: "0003", when: RuleCondition(platforms: ["signal", "whatsapp"], conversations: ["Case 12"])),
                RetentionRule(id: "field", item: "0004", when: RuleCondition(capstone: false, offices: ["Field Operations"],
                                                                              custodians: [Fixtures.staffEmail])),
                RetentionRule(id: "rest", item: "0004"),
            ])

        @Test(arguments: FilePlanService.Format.allCases)
        func roundTrip(_ format: FilePlanService.Format) throws {
            for plan in [FilePlan.standard, Self.rich] {
                let text = try FilePlanService.render(plan, as: format)
                #expect(try FilePlanService.parse(text, format: format) == plan)
                #expect(text.contains("transfer_after"))
                #expect(text.contains("fiscal_year_start_month"))
                #expect(text.contains("calendar-year"))
            }
        }

        static func parseError(_ text: String, _ format: FilePlanService.Format = .yaml) -> ArchiveError? {
            #expect(throws: ArchiveError.self) { try FilePlanService.parse(text, format: format) }
        }

        @Test func minimalYAMLTakesDefaults() throws {
            let plan = try FilePlanService.parse("""
                items:
                  - id: "0002"
                    authority: DAA-0568-2022-0005-0002
                    title: Other messages
                    disposition: temporary
                    cutoff: calendar-year
                    retention: { years: 10 }
                """, format: .yaml)
            #expect(plan.title == "File plan")
            #expect(plan.fiscalYearStartMonth == 10)
            #expect(plan.rules == [])
            #expect(plan.items == [Fixtures.temporary10])
        }

        @Test func ruleWithoutWhenMatchesEverything() throws {
            let plan = try FilePlanService.parse("""
                title: Catch-all
                fiscal_year_start_month: 1
                items:
                  - id: "0002"
                    authority: DAA-0568-2022-0005-0002
                    title: Other messages
                    disposition: temporary
                    cutoff: fiscal-year
                    retention:
                      years: 10
                rules:
                  - id: rest
                    item: "0002"
                """, format: .yaml)
            #expect(plan.rules == [RetentionRule(id: "rest", item: "0002", when: RuleCondition(), note: nil)])
            #expect(plan.fiscalYearStartMonth == 1)
            let (a, _) = Fixtures.context(plan).assign(Fixtures.record("2021-11-03"))
            #expect(Expected(a) == Expected("0002", "rest", .destroy, "2021-12-31", "2032-01-01"))
        }

        @Test func typoedItemsKeyIsNamed() {
            let error = Self.parseError("""
                title: Typo
                itmes:
                  - id: "0002"
                    authority: DAA-0568-2022-0005-0002
                    title: Other messages
                    disposition: temporary
                    cutoff: calendar-year
                    retention: { years: 10 }
                """)
            #expect(error?.code == .invalid)
            #expect(error?.message == "the file plan cannot be read: missing 'items'")
        }

        @Test(arguments: FilePlanService.Format.allCases)
        func misspelledDispositionIsNamed(_ format: FilePlanService.Format) throws {
            let yaml = """
                items:
                  - id: "0001"
                    authority: DAA-0568-2022-0005-0001
                    title: Capstone
                    disposition: permanant
                    cutoff: calendar-year
                    transfer_after: { years: 15 }
                """
            let json = #"{"items": [{"id": "0001", "authority": "DAA-0568-2022-0005-0001", "title": "Capstone", "#
                + #""disposition": "permanant", "cutoff": "calendar-year", "transfer_after": {"years": 15}}]}"#
            let error = Self.parseError(format == .yaml ? yaml : json, format)
            #expect(error?.code == .invalid)
            let message = error?.message ?? ""
            #expect(message.hasPrefix("the file plan cannot be read: "))
            #expect(message.contains("permanant"))
            #expect(message.contains("disposition"))
            #expect(message.contains("items"))
        }

        @Test func aPlanWithProblemsListsThemAll() {
            let error = Self.parseError("""
                fiscal_year_start_month: 13
                items:
                  - id: "0002"
                    authority: DAA-0568-2022-0005-0002
                    title: Other messages
                    disposition: temporary
                    cutoff: calendar-year
                rules:
                  - id: capstone
                    item: "0001"
                    when: { capstone: true }
                """)
            #expect(error?.code == .invalid)
            #expect(error?.message == """
                the file plan has 3 problems:
                  - fiscal_year_start_month must be 1–12 (got 13)
                  - item 0002 is temporary but has no retention period
                  - rule capstone names item 0001, which the plan does not have
                """)
        }

        @Test func aPlanWithOneProblemSaysProblem() {
            var plan = FilePlan.standard
            plan.items[1].retention = nil
            let text = (try? FilePlanService.render(plan, as: .json)) ?? ""
            let error = Self.parseError(text, .json)
            #expect(error?.message == "the file plan has 1 problem:\n  - item 0002 is temporary but has no retention period")
        }

        @Test func notYAMLAtAll() {
            let error = Self.parseError("items: [unclosed\n  - : :")
            #expect(error?.code == .invalid)
            #expect(error?.message.hasPrefix("the file plan ") == true)
        }

        @Test func wrongTypeIsPlaced() {
            let error = Self.parseError(#"{"fiscal_year_start_month": "ten", "items": []}"#, .json)
            #expect(error?.code == .invalid)
            #expect(error?.message.hasPrefix("the file plan cannot be read: ") == true)
            #expect(error?.message.contains("fiscal_year_start_month") == true)
        }

        @Test(arguments: [("plan.json", FilePlanService.Format.json), ("PLAN.JSON", .json), ("plan.yaml", .yaml),
                          ("plan.yml", .yaml), ("plan", .yaml)])
        func formatFromTheFileName(_ path: String, _ format: FilePlanService.Format) {
            #expect(FilePlanService.Format.guess(path) == format)
        }
    }
}

// MARK: - Holds

extension RetentionEngineTests {
    @Suite("hold scopes")
    struct HoldScopes {
        @Test(arguments: [
            (HoldScope(), true),
            (HoldScope(custodians: [], conversations: []), true),
            (HoldScope(query: ""), true),
            (HoldScope(everything: false), true),
            (HoldScope(everything: true), false),
            (HoldScope(custodians: [Fixtures.staffEmail]), false),
            (HoldScope(conversations: [Fixtures.conversationKey]), false),
            (HoldScope(from: day("2021-01-01")), false),
            (HoldScope(to: day("2021-12-31")), false),
            (HoldScope(query: "checkpoint"), false),
        ])
        func isEmpty(_ scope: HoldScope, _ empty: Bool) {
            #expect(scope.isEmpty == empty)
        }

        @Test(arguments: [
            (HoldScope(everything: true), "every record"),
            (HoldScope(custodians: ["a@x.gov"], everything: true), "every record"),
            (HoldScope(), ""),
            (HoldScope(custodians: ["a@x.gov", "b@x.gov"]), "custodians a@x.gov, b@x.gov"),
            (HoldScope(conversations: ["wa:1"], from: day("2021-03-01"), to: day("2021-08-31")),
             "conversations wa:1; sent 2021-03-01 to 2021-08-31"),
            (HoldScope(from: day("2021-03-01")), "sent 2021-03-01 to …"),
            (HoldScope(to: day("2021-08-31")), "sent … to 2021-08-31"),
            (HoldScope(custodians: ["a@x.gov"], conversations: ["wa:1"], from: day("2021-01-01"), to: day("2021-12-31"),
                       query: "nogales AND checkpoint"),
             "custodians a@x.gov; conversations wa:1; sent 2021-01-01 to 2021-12-31; search: nogales AND checkpoint"),
        ])
        func summary(_ scope: HoldScope, _ text: String) {
            #expect(scope.summary == text)
        }

        @Test func codableKeepsTheScope() throws {
            let scope = HoldScope(custodians: ["a@x.gov"], from: day("2021-01-01"), query: "nogales")
            let back = try JSONDecoder().decode(HoldScope.self, from: JSONEncoder().encode(scope))
            #expect(back == scope)
        }
    }
}
