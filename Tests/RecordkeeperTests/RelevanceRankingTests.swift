@testable import Archive
import Foundation
import Recordkeeper
import RecordkeeperTesting
import GRDB
import Testing

/// `recordkeeper_bm25` against FTS5's own `bm25()` on real FTS5 tables: identical when it counts
/// every document, and within a hair of it when it estimates a common phrase's frequency.
@Suite("Relevance ranking (BM25 with bounded counting)")
struct RelevanceRankingTests {
    static let words = ["lane", "vehicle", "inspection", "manifest", "crane", "seizure", "lunch", "shift", "change", "queue",
                        "wait", "bridge", "port", "director", "secondary", "security", "sector", "the", "a", "of"]

    /// A table shaped like the archive's (`body`, `sender`, same tokenizer) holding `count`
    /// generated messages; rowids are spread like search keys (`sentAt << 24`).
    static func corpus(count: Int, extra: (Int) -> String = { _ in "" }) throws -> DatabaseQueue {
        var config = Configuration()
        config.prepareDatabase { db in try RelevanceRanking.register(db) }
        let db = try DatabaseQueue(configuration: config)
        try db.write { db in
            try db.execute(sql: "CREATE VIRTUAL TABLE t USING fts5(body, sender, tokenize='unicode61 remove_diacritics 2')")
            var seed: UInt64 = 42
            func next() -> Int {
                seed = seed &* 6364136223846793005 &+ 1442695040888963407
                return Int(seed >> 33)
            }
            for i in 0..<count {
                let length = 3 + next() % 14
                let body = (0..<length).map { _ in words[next() % words.count] }.joined(separator: " ") + extra(i)
                try db.execute(sql: "INSERT INTO t (rowid, body, sender) VALUES (?, ?, ?)",
                               arguments: [Int64(1_600_000_000 + i * 60) << 24 | Int64(i), body, ["Karen Walsh", "Javier Alvarez", "Marcus Reed"][i % 3]])
            }
        }
        return db
    }

    static func scores(_ db: DatabaseQueue, _ query: String, _ function: String) throws -> [Int64: Double] {
        try db.read { db in
            var out: [Int64: Double] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT rowid, \(function) FROM t WHERE t MATCH ?", arguments: [query]) {
                out[row[0]] = row[1]
            }
            return out
        }
    }

    @Test(arguments: ["lane", "the", "crane OR manifest", "lane AND lunch", "\"port director\"", "sec*", "shift NOT change",
                      "(queue OR wait) AND inspection NOT bridge", "karen"])
    func countingEveryDocumentIsFTS5sOwnBM25(query: String) throws {
        let db = try Self.corpus(count: 1500)
        let fts5 = try Self.scores(db, query, "bm25(t)")
        let ours = try Self.scores(db, query, "recordkeeper_bm25(t)")
        #expect(!fts5.isEmpty && ours.count == fts5.count)
        for (key, expected) in fts5 {
            #expect(abs((ours[key] ?? .nan) - expected) <= 1e-9 * max(1, abs(expected)), "row \(key) for \(query)")
        }
    }

    /// With a cap far below the phrases' frequencies (as 100,000 is below a common word's in a
    /// 10-million-message archive), the estimated frequencies give the same order and nearly the
    /// same scores; a single phrase skips counting and keeps BM25's order.
    @Test func estimatingACommonPhrasesFrequencyKeepsTheOrder() throws {
        // "alpha" in every 4th message, "omega" in every 37th: both far above a cap of 50.
        let db = try Self.corpus(count: 4000) { i in (i % 4 == 0 ? " alpha" : "") + (i % 37 == 0 ? " omega omega" : "") }
        let maxKey = try db.read { db in try Int64.fetchOne(db, sql: "SELECT max(rowid) FROM t") }!
        func ranked(_ scores: [Int64: Double]) -> [Int64] {
            scores.sorted { $0.value != $1.value ? $0.value < $1.value : $0.key > $1.key }.map(\.key)
        }
        for query in ["alpha OR omega", "alpha OR lane", "alpha", "sec*"] {
            let fts5 = try Self.scores(db, query, "bm25(t)")
            let estimated = try Self.scores(db, query, "recordkeeper_bm25(t, \(maxKey), 50)")
            if !query.contains(" OR ") {
                // One phrase: no count at all, BM25's order exactly.
                #expect(ranked(estimated) == ranked(fts5), "\(query)")
            } else {
                // Near-ties may swap; the best 50 are nearly the same set.
                let overlap = Set(ranked(estimated).prefix(50)).intersection(ranked(fts5).prefix(50)).count
                #expect(overlap >= 47, "\(query): \(overlap) of the best 50 in common")
                for (key, expected) in fts5 {
                    #expect(abs(estimated[key]! - expected) <= 0.05 * abs(expected), "row \(key) for \(query)")
                }
            }
        }
    }

    @Test func aBadQueryIsAnErrorNotACrash() throws {
        let db = try Self.corpus(count: 10)
        #expect(throws: DatabaseError.self) { _ = try Self.scores(db, "lane AND", "recordkeeper_bm25(t, 1)") }
    }
}

/// Page snippets come from a private in-memory FTS5 table (the archive's index is read once per
/// search): they must be the very snippets the archive's own index gives.
@Suite("Search: one read of the index per search")
struct PageSnippetTests {
    @Test func thePrivateTableIsTheArchivesIndexShape() throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let path = tmp.url.appendingPathComponent("a.sqlite").path
        _ = try SQLiteArchiveStore(path: path)
        let sql = try DatabaseQueue(path: path).read { db in
            try String.fetchOne(db, sql: "SELECT sql FROM sqlite_master WHERE name = 'message_fts'")
        } ?? ""
        let compact = { (s: String) in s.filter { !$0.isWhitespace } }
        for part in SQLiteArchiveStore.ftsColumns.split(separator: ",") {
            #expect(compact(sql).contains(compact(String(part))), "message_fts is \(sql)")
        }
    }

    /// The same search with and without a filter that excludes nothing: unfiltered, the page is
    /// read by key and its snippets made in the private table; filtered, the hits are read
    /// through the index with its own `snippet()`.
    @Test(arguments: ["lane", "sec*", "\"port director\"", "vehicle OR secondary", "inspection NOT vehicle", "karen"])
    func pageSnippetsAreTheIndexsOwn(query: String) async throws {
        let tmp = try TempDir(); defer { tmp.cleanup() }
        let archive = try await makeArchive(tmp)
        let txt = try ExportGenerator.write(ExportSpec(style: .androidTxt, messageCount: 400, mediaEvery: 0, seed: 5), to: try tmp.sub("x"))
        _ = try await ingest(archive, txt, timeZone: "UTC")
        let match = try SearchQuery.parse(query)
        for sort in [SearchRequest.Sort.date, .relevance] {
            var plain = SearchRequest(query: match, limit: 25, sort: sort)
            let direct = try await archive.store.search(plain)
            plain.platform = "whatsapp"
            let viaIndex = try await archive.store.search(plain)
            #expect(!direct.hits.isEmpty, "\(query) found nothing")
            #expect(direct.hits.map(\.messageID) == viaIndex.hits.map(\.messageID), "\(query) \(sort)")
            #expect(direct.hits.map(\.snippet) == viaIndex.hits.map(\.snippet), "\(query) \(sort)")
            #expect(direct.hits.contains { $0.snippet.contains(SearchHit.markOpen) } || query == "karen")
        }
    }
}
