@testable import Archive
import RecordkeeperCore
import Testing

@Suite("The query language as a tree")
struct SearchExpressionTests {
    typealias E = SearchExpression
    static func p(_ t: String, _ prefix: Bool = false) -> E { .phrase(t, prefix: prefix) }

    @Test func wordsPhrasesAndPrefixes() throws {
        #expect(try E.parse("gantry") == Self.p("gantry"))
        #expect(try E.parse("  port   director ") == .all([Self.p("port"), Self.p("director")]))
        #expect(try E.parse("\"port director\"") == Self.p("port director"))
        #expect(try E.parse("sec*") == Self.p("sec", true))
        #expect(try E.parse("\"port dir\"*") == Self.p("port dir", true))
        // Punctuation inside a word is literal: the word is a phrase of its parts, not syntax.
        #expect(try E.parse("j.doe@agency.gov +1-555-0100") == .all([Self.p("j.doe@agency.gov"), Self.p("+1-555-0100")]))
        // Operators are operators only in capitals.
        #expect(try E.parse("not or and") == .all([Self.p("not"), Self.p("or"), Self.p("and")]))
    }

    /// NOT binds tightest, then AND (written or implied), then OR.
    @Test func precedenceAndGrouping() throws {
        #expect(try E.parse("a OR b c") == .any([Self.p("a"), .all([Self.p("b"), Self.p("c")])]))
        #expect(try E.parse("a b NOT c") == .all([Self.p("a"), .but(Self.p("b"), not: Self.p("c"))]))
        #expect(try E.parse("a AND b OR c AND d") == .any([.all([Self.p("a"), Self.p("b")]), .all([Self.p("c"), Self.p("d")])]))
        #expect(try E.parse("(a OR b) c") == .all([.any([Self.p("a"), Self.p("b")]), Self.p("c")]))
        #expect(try E.parse("a NOT b NOT c") == .but(.but(Self.p("a"), not: Self.p("b")), not: Self.p("c")))
        #expect(try E.parse("a NOT (b OR c)") == .but(Self.p("a"), not: .any([Self.p("b"), Self.p("c")])))
        #expect(try E.parse("a OR b OR c") == .any([Self.p("a"), Self.p("b"), Self.p("c")]))
        #expect(try E.parse("((a))") == Self.p("a"))
        // As deep and as long as allowed.
        #expect(try E.parse(String(repeating: "(", count: 50) + "a" + String(repeating: ")", count: 50)) == Self.p("a"))
        #expect(try E.parse(Array(repeating: "a", count: 500).joined(separator: " OR ")) == .any(Array(repeating: Self.p("a"), count: 500)))
    }

    @Test(arguments: [
        ("\"unclosed", "a phrase is missing its closing quote (\")"),
        ("a)", "a closing parenthesis has no opening one"),
        ("(a", "a parenthesis is not closed"),
        ("()", "a pair of parentheses holds nothing"),
        ("AND a", "AND needs a term on both sides"),
        ("a OR OR b", "OR needs a term on both sides"),
        ("a NOT", "the query ends with an operator (NOT)"),
        ("(a OR)", "an operator or '(' is followed by nothing"),
        ("   ", "the query is empty"),
        ("* \"\"", "the query is empty"),
        (String(repeating: "(", count: 51) + "a" + String(repeating: ")", count: 51), "parentheses are nested more than 50 deep"),
        (String(repeating: "(", count: 900), "parentheses are nested more than 50 deep"),
        (Array(repeating: "a", count: 501).joined(separator: " NOT "), "the query has 1001 terms and operators; at most 1000 (split it into several searches)"),
    ])
    func malformedQueriesSayWhatIsWrong(query: String, message: String) {
        #expect(throws: E.Invalid.self) { try E.parse(query) }
        do { _ = try E.parse(query) } catch { #expect("\(error)" == message) }
    }

    /// The canonical text (how holds store their query) parses back to the same tree, and the
    /// FTS5 form holds stored before the tree existed parses to the tree of the original query.
    @Test(arguments: ["gantry", "port director", "\"port director\" sec*", "a OR b c", "a b NOT c", "(a OR b) NOT (c d)",
                      "j.doe@agency.gov OR \"lane 4\"*", "a NOT b NOT c", "x OR (y OR z)"])
    func canonicalTextRoundTrips(query: String) throws {
        let tree = try E.parse(query)
        #expect(try E.parse(tree.description) == tree, "\(tree.description)")
        #expect(try E.parse(FTS5Query.compile(tree)) == tree, "\(FTS5Query.compile(tree))")
    }

    @Test func fts5FormQuotesEveryPhraseAndGroupsEverything() throws {
        #expect(FTS5Query.compile(try E.parse("a OR b c")) == #""a" OR ("b" AND "c")"#)
        #expect(FTS5Query.compile(try E.parse("e-mail NOT sec*")) == #""e-mail" NOT "sec"*"#)
        #expect(FTS5Query.compile(try E.parse("\"port director\"* (x OR y)")) == #""port director"* AND ("x" OR "y")"#)
    }
}
