import Foundation
import GRDB
import GRDBSQLite

/// Relevance order for search: Okapi BM25 exactly as FTS5's built-in `bm25()` computes it
/// (k1 = 1.2, b = 0.75, every column weighted 1, the same IDF formula and clamp, the score
/// negated so that `ORDER BY rank` puts the best first), with one change that keeps the cost of a
/// query bounded on a large archive.
///
/// BM25 needs each phrase's document frequency. FTS5's `bm25()` counts it by walking the phrase's
/// whole doclist once per query: 4 million entries for "the" in a 10-million-message archive,
/// ~100 ms, whatever the query's window or limit (decision 0002). `recordkeeper_bm25(max_key)`
/// counts exactly up to `countCap` documents, oldest first. Beyond that it estimates the
/// frequency from the time the first `countCap` matches span: search keys are the sent instant
/// (`sentAt << 24`), so `countCap × (max_key − first) / (key_at_cap − first)` is the frequency at
/// the rate the phrase has been used since it first appeared. Only phrases in more than
/// `countCap` documents are estimated, and their IDF is small and flat (a logarithm of a large
/// share), so an estimate's error moves their weight very little. Called with no argument it
/// counts every document, exactly as `bm25()` (the tests compare the two on real FTS5 tables).
/// A second argument sets the cap (tests use a small one).
/// With a single phrase (one word, one quoted phrase, one prefix) IDF multiplies every score by
/// the same factor, so it is not counted at all: the order is BM25's, the scores are not.
enum RelevanceRanking {
    static let functionName = "recordkeeper_bm25"
    /// Documents counted per phrase before the frequency is estimated (~3 ms for a single word).
    static let countCap: Int64 = 100_000

    /// Registers the ranking function on a connection (every connection of the store).
    static func register(_ db: Database) throws {
        let api = FTS5.api(db)
        guard let create = api.pointee.xCreateFunction else {
            throw DatabaseError(resultCode: .SQLITE_ERROR, message: "FTS5 cannot register functions")
        }
        let code = create(UnsafeMutablePointer(mutating: api), functionName, nil, rankFunction, nil)
        guard code == SQLITE_OK else {
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: "registering \(functionName) failed")
        }
    }

    /// What one query needs once: the average document length, and each phrase's IDF, counted
    /// the first time a row contains the phrase (a phrase under NOT never does, and is never
    /// counted).
    final class QueryStatistics {
        var rows: Int64 = 0
        var averageLength = 1.0
        var maxKey: Int64?
        var cap = RelevanceRanking.countCap
        var idf: [Double?] = []
        var frequencies: [Double] = []
    }

    /// Counting state for one phrase, handed to `xQueryPhrase`.
    struct PhraseCount {
        var count: Int64 = 0
        var cap: Int64
        var firstKey: Int64 = 0
        var keyAtCap: Int64 = 0
    }

    static func statistics(_ api: UnsafePointer<Fts5ExtensionApi>, _ fts: OpaquePointer?, maxKey: Int64?, cap: Int64) -> (QueryStatistics?, Int32) {
        let x = api.pointee
        var rows: Int64 = 0
        var tokens: Int64 = 0
        var code = x.xRowCount!(fts, &rows)
        if code == SQLITE_OK { code = x.xColumnTotalSize!(fts, -1, &tokens) }
        guard code == SQLITE_OK else { return (nil, code) }
        let stats = QueryStatistics()
        stats.rows = rows
        stats.maxKey = maxKey
        stats.cap = max(1, cap)
        stats.averageLength = rows > 0 ? Double(tokens) / Double(rows) : 1
        let phrases = Int(x.xPhraseCount!(fts))
        stats.frequencies = .init(repeating: 0, count: phrases)
        // With one phrase the IDF scales every score alike and cannot change the order: it is not
        // counted (a prefix such as `sec*` costs a whole expansion of its terms to count).
        stats.idf = .init(repeating: phrases == 1 && maxKey != nil ? 1 : nil, count: phrases)
        return (stats, SQLITE_OK)
    }

    /// FTS5's IDF (fts5_aux.c, fts5Bm25GetData) from the phrase's document frequency, counted
    /// up to `countCap` and estimated beyond it when the caller gave the newest key.
    static func idf(_ api: UnsafePointer<Fts5ExtensionApi>, _ fts: OpaquePointer?, phrase: Int, _ stats: QueryStatistics) -> (Double, Int32) {
        var state = PhraseCount(cap: stats.maxKey == nil ? .max : stats.cap)
        let code = withUnsafeMutablePointer(to: &state) { pointer in
            api.pointee.xQueryPhrase!(fts, Int32(phrase), pointer, countCallback)
        }
        guard code == SQLITE_OK else { return (0, code) }
        var hits = Double(state.count)
        if state.count >= state.cap, let maxKey = stats.maxKey, state.keyAtCap > state.firstKey {
            let span = Double(max(maxKey, state.keyAtCap) - state.firstKey)
            hits = Double(state.count) * span / Double(state.keyAtCap - state.firstKey)
        }
        hits = min(hits, Double(stats.rows))
        var idf = log((Double(stats.rows) - hits + 0.5) / (hits + 0.5))
        if idf <= 0 { idf = 1e-6 }
        return (idf, SQLITE_OK)
    }

    static let countCallback: @convention(c) (UnsafePointer<Fts5ExtensionApi>?, OpaquePointer?, UnsafeMutableRawPointer?) -> Int32 = { api, fts, user in
        let state = user!.assumingMemoryBound(to: PhraseCount.self)
        if state.pointee.count == 0 { state.pointee.firstKey = api!.pointee.xRowid!(fts) }
        state.pointee.count += 1
        if state.pointee.count >= state.pointee.cap {
            state.pointee.keyAtCap = api!.pointee.xRowid!(fts)
            return SQLITE_DONE
        }
        return SQLITE_OK
    }

    static let rankFunction: fts5_extension_function = { api, fts, context, argc, argv in
        guard let api else { return }
        let x = api.pointee
        var stats: QueryStatistics
        if let saved = x.xGetAuxdata!(fts, 0) {
            stats = Unmanaged<QueryStatistics>.fromOpaque(saved).takeUnretainedValue()
        } else {
            func integer(_ i: Int32) -> Int64? {
                guard argc > i, let value = argv?[Int(i)], sqlite3_value_type(value) == SQLITE_INTEGER else { return nil }
                return sqlite3_value_int64(value)
            }
            let (made, code) = statistics(api, fts, maxKey: integer(0), cap: integer(1) ?? countCap)
            guard let made else { sqlite3_result_error_code(context, code); return }
            stats = made
            let code2 = x.xSetAuxdata!(fts, Unmanaged.passRetained(made).toOpaque()) { pointer in
                pointer.map { Unmanaged<QueryStatistics>.fromOpaque($0).release() }
            }
            guard code2 == SQLITE_OK else { sqlite3_result_error_code(context, code2); return }
        }
        // Term frequency of each phrase in this row, every column weighted 1.
        for i in stats.frequencies.indices { stats.frequencies[i] = 0 }
        var instances: Int32 = 0
        var code = x.xInstCount!(fts, &instances)
        var phrase: Int32 = 0, column: Int32 = 0, offset: Int32 = 0
        var i: Int32 = 0
        while code == SQLITE_OK && i < instances {
            code = x.xInst!(fts, i, &phrase, &column, &offset)
            if code == SQLITE_OK, Int(phrase) < stats.frequencies.count { stats.frequencies[Int(phrase)] += 1 }
            i += 1
        }
        var length: Int32 = 0
        if code == SQLITE_OK { code = x.xColumnSize!(fts, -1, &length) }
        guard code == SQLITE_OK else { sqlite3_result_error_code(context, code); return }
        let k1 = 1.2, b = 0.75
        let norm = k1 * (1 - b + b * Double(length) / stats.averageLength)
        var score = 0.0
        for (i, f) in stats.frequencies.enumerated() where f > 0 {
            let weight: Double
            if let known = stats.idf[i] { weight = known } else {
                let (counted, code) = idf(api, fts, phrase: i, stats)
                guard code == SQLITE_OK else { sqlite3_result_error_code(context, code); return }
                stats.idf[i] = counted
                weight = counted
            }
            score += weight * (f * (k1 + 1)) / (f + norm)
        }
        sqlite3_result_double(context, -score)
    }
}
