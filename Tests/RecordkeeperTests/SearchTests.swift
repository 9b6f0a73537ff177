import Archive
import Foundation
import Recordkeeper
import RecordkeeperCore
import Testing

@Suite("Search: FTS5 with filters")
struct SearchTests {
    static let ops = """
        [3/1/21, 9:07:12 AM] Karen Walsh: Operación Ríos starts at the Nogales checkpoint
        [3/1/21, 9:08:40 AM] Javier Alvarez: copy, lane 4 closed
        [3/2/21, 2:15:03 PM] Karen Walsh: secondary inspection found the e-mail printout
        [3/15/21, 6:30:00 PM] Marcus Reed: checkpoint handover to night shift
        [4/2/21, 7:00:00 AM] Javier Alvarez: port of entry queue is 2 hours
        """
    static let other = """
        12/03/2021, 10:00 - Lucía Fernández: reunión en la garita del puerto
        12/03/2021, 10:05 - Ana Souza: checkpoint closed for the revisão
        """

    static func archive(_ tmp: TempDir) async throws -> ArchiveHandle {
        let archive = try await makeArchive(tmp)
        _ = try await ingest(archive, try writeText(ops, named: "WhatsApp Chat - Nogales Ops.txt", in: try tmp.sub("a")))
        _ = try await ingest(archive, try writeText(other, named: "WhatsApp Chat with Lucía.txt", in: try tmp.sub("b")),
                             custodian: "l.fernandez@cbp.example.gov")
        return archive
    }

    static func senders(_ archive: ArchiveHandle, _ q: String, _ f: SearchFilters = SearchFilters()) async throws -> [String] {
        try await SearchService(archive: archive).search(q, filters: f, actor: "test").hits.map { $0.sender ?? "" }.sorted()
    }

    @Test func queryLanguage() async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let a = try await Self.archive(tmp)
        #expect(try await Self.senders(a, "checkpoint") == ["Ana Souza", "Karen Walsh", "Marcus Reed"])
        #expect(try await Self.senders(a, "operacion rios") == ["Karen Walsh"])          // diacritics folded
        #expect(try await Self.senders(a, "REUNION") == ["Lucía Fernández"])             // case folded
        #expect(try await Self.senders(a, "\"port of entry\"") == ["Javier Alvarez"])    // phrase
        #expect(try await Self.senders(a, "\"entry port\"") == [])
        #expect(try await Self.senders(a, "insp*") == ["Karen Walsh"])                   // prefix
        #expect(try await Self.senders(a, "checkpoint AND night") == ["Marcus Reed"])
        #expect(try await Self.senders(a, "garita OR queue") == ["Javier Alvarez", "Lucía Fernández"])
        #expect(try await Self.senders(a, "checkpoint NOT (handover OR revisao)") == ["Karen Walsh"])
        #expect(try await Self.senders(a, "e-mail") == ["Karen Walsh"])                  // punctuation is literal
        #expect(try await Self.senders(a, "lucia") == ["Lucía Fernández"])               // senders are searchable…
        #expect(try await Self.senders(a, "souza") == ["Ana Souza"])                      // …by name
    }

    @Test func filters() async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let a = try await Self.archive(tmp)
        #expect(try await Self.senders(a, "checkpoint", SearchFilters(custodian: "l.fernandez@cbp.example.gov")) == ["Ana Souza"])
        #expect(try await Self.senders(a, "checkpoint", SearchFilters(conversation: "Nogales")) == ["Karen Walsh", "Marcus Reed"])
        #expect(try await Self.senders(a, "checkpoint", SearchFilters(conversation: "2")) == ["Ana Souza"])
        #expect(try await Self.senders(a, "checkpoint", SearchFilters(participant: "Marcus")) == ["Karen Walsh", "Marcus Reed"])
        #expect(try await Self.senders(a, "checkpoint", SearchFilters(from: "2021-03-02", to: "2021-03-12")) == ["Ana Souza"])
        #expect(try await Self.senders(a, "checkpoint", SearchFilters(from: "2021-03-15", to: "2021-03-15")) == ["Marcus Reed"])
        let limited = try await SearchService(archive: a).search("checkpoint", filters: SearchFilters(limit: 1), actor: "t")
        #expect(limited.hits.count == 1 && limited.total == 3)
    }

    @Test func newestFirstByDefaultRelevanceOnRequest() async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let a = try await Self.archive(tmp)
        let byDate = try await SearchService(archive: a).search("checkpoint", actor: "t").hits.map(\.sentLocal)
        #expect(byDate == ["2021-03-15T18:30:00", "2021-03-12T10:05:00", "2021-03-01T09:07:12"])
        let relevance = try await SearchService(archive: a).search("checkpoint OR nogales", filters: SearchFilters(sort: .relevance), actor: "t")
        // The message with both terms ranks first under BM25.
        #expect(relevance.hits.first?.sender == "Karen Walsh")
        #expect(relevance.hits.count == 3)
    }

    @Test func messagesSentInTheSameSecondWithCollidingIndexKeysAreAllKept() async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let archive = try await makeArchive(tmp)
        let custodian = try await archive.store.saveCustodian(email: officer, timeZone: "UTC")
        let conversation = try await archive.store.ensureConversation(key: "whatsapp:test:c", platform: .whatsapp,
                                                                      custodianID: custodian.id, title: "c")
        let source = try await archive.blobs.put { write in try Array("export".utf8).withUnsafeBytes { try write($0) } }
        try await archive.store.registerBlob(source)
        let batch = try await archive.store.startBatch(NewBatch(
            custodianID: custodian.id, conversationID: conversation.id, actor: "t", sourceName: "x.txt", source: source,
            platform: .whatsapp, format: "test", textMember: "x.txt", dateOrder: nil, timeZone: "UTC", timeZoneBasis: "flag",
            startedAtMillis: 0))
        let sent = LocalDateTime(year: 2021, month: 3, day: 1, hour: 9, minute: 0, second: 0)
        // Identity keys that differ only after their first 24 bits: same index key on the first try.
        let messages = (0..<3).map { i in
            ArchivedMessage(identityKey: ContentHash(hex: "abcdef" + String(repeating: String(i), count: 58))!, platform: .whatsapp,
                            conversationKey: "whatsapp:test:c", sourceOrdinal: i + 1, duplicateOrdinal: 0, sentLocal: sent,
                            timeZone: "UTC", sentAt: sent.secondsSinceEpochAsUTC, capturedAtMillis: 0, sender: "Ann",
                            senderRaw: "Ann", body: "collision \(i)", raw: "raw", kind: .user, flags: [], sourceBlob: source.hash,
                            sourceMember: "x.txt", sourceLine: i + 1, lineCount: 1, attachments: [])
        }
        let r = try await archive.store.append(batchID: batch.id, conversationID: conversation.id, messages: messages, defects: [])
        #expect(r.added == 3 && r.duplicates == 0)
        // Captured, not yet findable: the answer says so.
        let early = try await SearchService(archive: archive).search("collision", actor: "t")
        #expect(early.hits.isEmpty && early.coverage?.pending == 3)
        #expect(try await IndexService(archive: archive).catchUp() == 3)
        let hits = try await SearchService(archive: archive).search("collision", actor: "t").hits
        #expect(Set(hits.map { $0.snippet(open: "", close: "") }) == ["collision 0", "collision 1", "collision 2"])
        #expect(try await VerifyService(archive: archive).verify(actor: "t").ok)
    }

    @Test func countsStopAtTheLimitAndSaySo() async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let archive = try await makeArchive(tmp)
        let lines = (0..<(SearchRequest.countLimit + 5)).map { i in
            "1/\(i % 28 + 1)/2021, \(i / 600 % 24):\(String(format: "%02d", i / 10 % 60)) - Ann: lane report \(i)"
        }
        _ = try await ingest(archive, try writeText(lines.joined(separator: "\n"), named: "WhatsApp Chat with Ann.txt", in: try tmp.sub("x")))
        let r = try await SearchService(archive: archive).search("lane", filters: SearchFilters(limit: 5), actor: "t")
        #expect(r.hits.count == 5)
        #expect(r.total == SearchRequest.countLimit)
        #expect(!r.totalIsExact)
        let exact = try await SearchService(archive: archive).search("\"report 12\"", actor: "t")
        #expect(exact.totalIsExact && exact.total == 1)
    }

    @Test func hitsCarryContextAndHighlight() async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let a = try await Self.archive(tmp)
        let hit = try #require(try await SearchService(archive: a).search("nogales", actor: "t").hits.first)
        #expect(hit.conversationTitle == "Nogales Ops")
        #expect(hit.sentLocal == "2021-03-01T09:07:12")
        #expect(hit.custodian == officer)
        #expect(hit.snippet(open: "[", close: "]") == "Operación Ríos starts at the [Nogales] checkpoint")
    }

    @Test(arguments: ["", "AND", "checkpoint OR", "(lane", "lane)", "\"open phrase", "NOT lane"])
    func badQueriesAreRefusedClearly(query: String) async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let a = try await Self.archive(tmp)
        await #expect(throws: ArchiveError.self) { _ = try await SearchService(archive: a).search(query, actor: "t") }
    }

    /// "Custodian X, 1–31 March, everything": the filters alone collect, newest first, from the
    /// records themselves (a record the indexer has not reached yet is included).
    @Test func filtersAloneCollectEverythingTheySelect() async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let a = try await Self.archive(tmp)
        let service = SearchService(archive: a)
        let march = try await service.search("", filters: SearchFilters(custodian: officer, from: "2021-03-01", to: "2021-03-31", sort: .relevance), actor: "t")
        #expect(march.hits.map(\.sentLocal) == ["2021-03-15T18:30:00", "2021-03-02T14:15:03", "2021-03-01T09:08:40", "2021-03-01T09:07:12"])
        #expect(march.total == 4 && march.totalIsExact && march.order == .date)
        #expect(march.hits.first?.snippet == "checkpoint handover to night shift")
        #expect(march.coverage?.pending == 0)
        // The UTC instant beside the time as written (Phoenix is UTC-7).
        #expect(march.hits.first?.sentAt.map(Timestamp.iso(seconds:)) == "2021-03-16T01:30:00Z")
        let paged = try await service.search("", filters: SearchFilters(custodian: officer, from: "2021-03-01", to: "2021-03-31", limit: 3, offset: 3), actor: "t")
        #expect(paged.hits.map(\.sentLocal) == ["2021-03-01T09:07:12"] && paged.total == 4)

        // Nothing to go on is an error, not the whole archive; an unknown name is an error too.
        let empty = await #expect(throws: ArchiveError.self) { _ = try await service.search("  ", actor: "t") }
        #expect(empty?.code == .badQuery && empty?.message.contains("at least one filter") == true)
        let unknown = await #expect(throws: ArchiveError.self) {
            _ = try await service.search("", filters: SearchFilters(custodian: "k.walsch@cbp.example.gov"), actor: "t")
        }
        #expect(unknown?.code == .notFound && unknown?.message.contains("Did you mean") == true)

        // Captured a moment ago, not yet indexed: a word search cannot see it, a collection can.
        let late = try writeText("3/20/21, 8:00 AM - Karen Walsh: late report from lane 9\n", named: "WhatsApp Chat with Karen.txt", in: try tmp.sub("late"))
        var request = IngestRequest(paths: [late], custodian: officer, timeZone: "America/Phoenix", actor: "t")
        request.waitForIndex = false
        _ = try await IngestService(archive: a).ingest(request)
        #expect(try await service.search("report", actor: "t").total == 0)
        let again = try await service.search("", filters: SearchFilters(custodian: officer, from: "2021-03-01", to: "2021-03-31"), actor: "t")
        #expect(again.total == 5 && again.hits.first?.sentLocal == "2021-03-20T08:00:00" && again.coverage?.pending == 0)
        // Audited like any search, with its filters.
        let audit = try await a.store.auditEntries(AuditFilter(action: "search", limit: 50))
        #expect(audit.contains { $0.detail.contains("\"from\":\"2021-03-01\"") && $0.detail.contains("\"query\":\"\"") })
    }

    @Test func badDatesAreRefused() async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let a = try await Self.archive(tmp)
        await #expect(throws: ArchiveError.self) {
            _ = try await SearchService(archive: a).search("lane", filters: SearchFilters(from: "March"), actor: "t")
        }
    }
}

/// Relevance over a common word ranks among the newest matches only (bounded time at any size)
/// and says so; the count still covers every match.
@Suite("Relevance window")
struct RelevanceWindowTests {
    @Test func aCommonWordIsRankedAmongItsNewestMatchesAndSaysSo() async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let archive = try await makeArchive(tmp)
        var lines: [String] = []
        for day in 1...28 {
            let text = day % 7 == 0 ? "crane crane crane inspection" : "crane"
            lines.append(String(format: "%02d/02/2021, 09:00 - Ann: %@", day, text))
        }
        let txt = try writeText(lines.joined(separator: "\n") + "\n", named: "WhatsApp Chat with Ann.txt", in: try tmp.sub("x"))
        _ = try await ingest(archive, txt, timeZone: "UTC")
        var request = SearchRequest(query: .phrase("crane", prefix: false), limit: 5, sort: .relevance)
        request.relevanceWindow = 10
        let windowed = try await archive.store.search(request)
        #expect(windowed.rankedAmongNewest == 10 && windowed.total == 28)
        // The best hits within the newest ten days (19–28 February): the 21st and 28th say it three times.
        #expect(Set(windowed.hits.prefix(2).map(\.sentLocal)) == ["2021-02-21T09:00:00", "2021-02-28T09:00:00"])
        #expect(windowed.hits.allSatisfy { $0.sentLocal >= "2021-02-19" })
        request.relevanceWindow = 100
        let whole = try await archive.store.search(request)
        #expect(whole.rankedAmongNewest == nil && whole.hits.count == 5)
        #expect(Set(whole.hits.prefix(4).map(\.sentLocal)) == ["2021-02-07T09:00:00", "2021-02-14T09:00:00", "2021-02-21T09:00:00", "2021-02-28T09:00:00"])
    }

    /// With a filter the window holds the newest matches that pass it; pages follow one ranking
    /// (no hit twice, none skipped), ties newest first.
    @Test func aFilteredWindowRanksOnlyWhatPassesAndPagesFollowOneRanking() async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let archive = try await makeArchive(tmp)
        for (name, custodian, hour) in [("Ann", "ann@agency.example.gov", 9), ("Bo", "bo@agency.example.gov", 10)] {
            var lines: [String] = []
            for day in 1...28 {
                let text = day % 5 == 0 ? "crane crane manifest" : (day % 3 == 0 ? "crane and the manifest for the crane" : "crane")
                lines.append(String(format: "%02d/02/2021, %02d:00 - %@: %@", day, hour, name, text))
            }
            let txt = try writeText(lines.joined(separator: "\n") + "\n", named: "WhatsApp Chat with \(name).txt", in: try tmp.sub(name))
            _ = try await ingest(archive, txt, custodian: custodian, timeZone: "UTC")
        }
        var request = SearchRequest(query: .phrase("crane", prefix: false), custodianEmail: "ann@agency.example.gov", limit: 5, sort: .relevance)
        request.relevanceWindow = 6
        let windowed = try await archive.store.search(request)
        #expect(windowed.rankedAmongNewest == 6 && windowed.hits.count == 5)
        // Ann's newest six matches are 23–28 February, whatever Bo said on those days.
        #expect(windowed.hits.allSatisfy { $0.custodian == "ann@agency.example.gov" && $0.sentLocal >= "2021-02-23" })
        #expect(windowed.hits.first?.sentLocal == "2021-02-25T09:00:00")

        request.relevanceWindow = 100
        request.limit = 12
        let all = try await archive.store.search(request)
        #expect(all.rankedAmongNewest == nil && all.total == 28 && all.totalIsExact)
        var pages: [SearchHit] = []
        for offset in stride(from: 0, to: 12, by: 4) {
            request.limit = 4
            request.offset = offset
            pages += try await archive.store.search(request).hits
        }
        #expect(pages.map(\.messageID) == all.hits.map(\.messageID))
        // Equal scores come newest first: the 25th before the 20th, 15th, 10th and 5th.
        #expect(all.hits.prefix(5).map(\.sentLocal) == ["2021-02-25T09:00:00", "2021-02-20T09:00:00", "2021-02-15T09:00:00",
                                                         "2021-02-10T09:00:00", "2021-02-05T09:00:00"])
    }
}
