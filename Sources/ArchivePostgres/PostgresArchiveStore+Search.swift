import Archive
import Foundation
import Logging
import PostgresNIO
import RecordkeeperCore

/// Compiles a `SearchExpression` into `to_tsquery('recordkeeper', …)` text: a phrase becomes its
/// words joined by `<->` (adjacent, in order), the last with `:*` for a prefix; groups become
/// `&`, `|` and `& !`. Words are split exactly as the index splits text (on everything that is
/// not a letter or digit), so nothing a user typed is tsquery syntax.
enum TSQuery {
    /// nil when the expression can match nothing (a phrase with no words in it).
    static func compile(_ e: SearchExpression) -> String? {
        switch e {
        case .phrase(let text, let prefix):
            let words = text.split { !($0.isLetter || $0.isNumber) }.map(String.init)
            guard !words.isEmpty else { return nil }
            return "(" + words.enumerated().map { i, w in
                "'" + w + "'" + (prefix && i == words.count - 1 ? ":*" : "")
            }.joined(separator: " <-> ") + ")"
        case .all(let parts):
            var out: [String] = []
            for p in parts {
                guard let c = compile(p) else { return nil }
                out.append(c)
            }
            return "(" + out.joined(separator: " & ") + ")"
        case .any(let parts):
            let out = parts.compactMap(compile)
            return out.isEmpty ? nil : "(" + out.joined(separator: " | ") + ")"
        case .but(let a, let b):
            guard let left = compile(a) else { return nil }
            guard let right = compile(b) else { return left }
            return "(" + left + " & !" + right + ")"
        }
    }
}

extension PostgresArchiveStore: SearchIndexStore {
    public func indexStatus() async throws -> IndexStatus {
        try await transaction("reading the index status") { conn in
            // The queue's oldest entry comes from its key's index; counting (which reads the
            // table, and after a large catch-up the dead rows of everything just drained) only
            // when something is waiting. Every search reports this.
            let r = try await conn.all("""
                WITH oldest AS (SELECT message_id FROM index_queue ORDER BY message_id LIMIT 1)
                SELECT (SELECT coalesce(max(id), 0) FROM message),
                       CASE WHEN EXISTS (SELECT 1 FROM oldest) THEN (SELECT count(*) FROM index_queue) ELSE 0 END,
                       (SELECT message_id FROM oldest),
                       CASE WHEN EXISTS (SELECT 1 FROM oldest) THEN (SELECT min(captured_at) FROM index_queue) END
                """, as: (Int64, Int64, Int64?, Int64?).self, logger: self.logger)[0]
            // Everything below the oldest queued message is indexed.
            let through = r.2.map { $0 - 1 } ?? r.0
            return IndexStatus(indexedThrough: through, pending: Int(r.1), oldestPendingCapturedAtMillis: r.3, capturedThrough: r.0)
        }
    }

    /// Where counting matches stops (SQLite: `SearchRequest.countLimit`).
    static let countLimit = 2_000
    /// The most matches relevance ranks (SQLite: `SearchRequest.relevanceWindow`).
    static let relevanceWindow = 2_000

    public func indexNext(limit: Int) async throws -> Int {
        try await transaction("indexing") { conn in
            try await conn.count("""
                WITH claimed AS (
                    DELETE FROM index_queue WHERE message_id IN (
                        SELECT message_id FROM index_queue ORDER BY message_id LIMIT \(Int64(max(1, limit))) FOR UPDATE SKIP LOCKED)
                    RETURNING message_id
                ), added AS (
                    INSERT INTO message_search (message_id, search_key, conversation_id, doc)
                    SELECT m.id, m.search_key, m.conversation_id,
                           setweight(to_tsvector('recordkeeper', rk_search_text(m.body)), 'A')
                           || setweight(to_tsvector('recordkeeper', rk_search_text(m.sender)), 'B')
                    FROM message m JOIN claimed q ON q.message_id = m.id
                    ON CONFLICT (search_key, message_id) DO NOTHING
                    RETURNING 1
                ) SELECT count(*) FROM claimed
                """, logger: self.logger)
        }
    }

    public func resetIndex() async throws {
        try await transaction("emptying the search index") { conn in
            // The owner's function (schema step 12): a runtime role may not truncate.
            try await conn.run("SELECT rk_reset_search_index()", logger: self.logger)
            try await conn.run("""
                INSERT INTO index_queue (message_id, captured_at) SELECT id, captured_at FROM message ON CONFLICT DO NOTHING
                """, logger: self.logger)
        }
    }

    public func searchIndexGaps(limit: Int) async throws -> SearchIndexGaps {
        try await transaction("checking the search index") { conn in
            let missing = try await conn.column("""
                SELECT m.id FROM message m
                WHERE NOT EXISTS (SELECT 1 FROM message_search s WHERE s.message_id = m.id)
                  AND NOT EXISTS (SELECT 1 FROM index_queue q WHERE q.message_id = m.id)
                ORDER BY m.id LIMIT \(Int64(limit))
                """, as: Int64.self, logger: self.logger)
            let orphans = try await conn.count("""
                SELECT count(*) FROM message_search s WHERE NOT EXISTS (SELECT 1 FROM message m WHERE m.id = s.message_id)
                """, logger: self.logger)
            let twice = try await conn.column("""
                SELECT q.message_id FROM index_queue q JOIN message_search s ON s.message_id = q.message_id ORDER BY 1 LIMIT \(Int64(limit))
                """, as: Int64.self, logger: self.logger)
            return SearchIndexGaps(unindexedMessages: missing, orphanEntries: orphans, indexedBeyondMark: twice)
        }
    }

    // MARK: Search

    public func search(_ r: SearchRequest) async throws -> SearchResults {
        var q = SQLBuilder()
        func bind(_ v: some PostgresDynamicTypeEncodable) -> String { q.bind(v) }
        let columns = "m.id, m.conversation_id, c.title, cu.email, m.sender, m.sent_local, m.time_zone, m.kind, m.sent_at"
        let joins = "JOIN conversation c ON c.id = m.conversation_id JOIN custodian cu ON cu.id = c.custodian_id"
        func hits(_ sql: String) async throws -> [SearchHit] {
            try await transaction("searching") { conn in
                var out: [SearchHit] = []
                for try await row in try await conn.query(q.query(sql), logger: self.logger) {
                    let c = row.makeRandomAccess()
                    out.append(SearchHit(messageID: try c[0].decode(Int64.self), conversationID: try c[1].decode(Int64.self),
                                         conversationTitle: try c[2].decode(String.self), custodian: try c[3].decode(String.self),
                                         sender: try c[4].decode(String?.self), sentLocal: try c[5].decode(String.self),
                                         timeZone: try c[6].decode(String.self), kind: try c[7].decode(String.self),
                                         snippet: try c[9].decode(String.self), sentAt: try c[8].decode(Int64.self)))
                }
                return out
            }
        }
        func count(_ from: String) async throws -> (Int, Bool) {
            let limit = SearchRequest.countLimit
            let n = try await transaction("counting matches") { conn in
                try await conn.count(q.query("SELECT count(*) FROM (SELECT 1 \(from) LIMIT \(limit + 1)) n"), logger: self.logger)
            }
            return (min(n, limit), n <= limit)
        }

        guard let query = r.query else {
            var filters: [String] = []
            if let conversations = try await conversationScope(r) {
                guard !conversations.isEmpty else { return SearchResults(total: 0, hits: []) }
                filters.append("m.conversation_id = ANY(\(bind(conversations)))")
            }
            if let from = r.fromLocal { filters.append("m.sent_local >= \(bind(from))") }
            if let to = r.toLocalExclusive { filters.append("m.sent_local < \(bind(to))") }
            if let p = r.platform { filters.append("m.platform = \(bind(p))") }
            if r.hasAttachment { filters.append("EXISTS (SELECT 1 FROM attachment a WHERE a.message_id = m.id)") }
            if r.underHold {
                // Holds are evaluated live, as disposition evaluates them.
                let holds = try await transaction("reading legal holds") { conn in try await Self.activeHoldFilters(conn, logger: self.logger) }
                filters.append(try await Self.heldPredicate(holds, &q))
            }
            // A collection by filters alone reads the records (nothing waiting for the indexer is missed).
            let from = "FROM message m \(joins) WHERE \(filters.isEmpty ? "true" : filters.joined(separator: " AND "))"
            let page = try await hits("""
                SELECT \(columns), left(m.body, 400) || CASE WHEN length(m.body) > 400 THEN '…' ELSE '' END
                \(from) ORDER BY m.search_key DESC, m.id DESC LIMIT \(r.limit) OFFSET \(r.offset)
                """).map { h -> SearchHit in
                var h = h
                h.snippet = SearchHit.opening(h.snippet)
                return h
            }
            var results = SearchResults(total: page.count, hits: page)
            if page.count == r.limit || r.offset > 0 { (results.total, results.totalIsExact) = try await count(from) }
            return results
        }
        guard let tsquery = TSQuery.compile(query) else { return SearchResults(total: 0, hits: []) }
        // Matching and ordering read the index table alone: filters that name conversations
        // (custodian, conversation, title, participant) become a set of conversation ids, checked
        // on the index row; only filters on the message itself (dates, platform, holds) join it.
        // The page's rows are joined to their messages and conversations at the end (`limit`
        // rows, not every match).
        var indexFilters: [String] = []
        if let conversations = try await conversationScope(r) {
            guard !conversations.isEmpty else { return SearchResults(total: 0, hits: []) }
            indexFilters.append("s.conversation_id = ANY(\(bind(conversations)))")
        }
        var messageFilters: [String] = []
        var keyBounds: [(String, String)] = [] // (operator, bound parameter) on the search key
        var lowestKey: Int64?
        // Dates are local (as written); the index row's key is the sent instant. A local day
        // lies within 15 hours of the same UTC day, so a key range that wide around the dates
        // narrows the scan to them, and the message's own date decides.
        if let from = r.fromLocal {
            messageFilters.append("m.sent_local >= \(bind(from))")
            if let day = CivilDate(from.prefix(10)) {
                let low = Int64(day.dayNumber * 86_400 - 15 * 3_600) << 24
                lowestKey = low
                keyBounds.append((">=", bind(low)))
            }
        }
        if let to = r.toLocalExclusive {
            messageFilters.append("m.sent_local < \(bind(to))")
            if let day = CivilDate(to.prefix(10)) {
                // Exclusive at midnight (as the services write it) ends that day; a later time, the next.
                let end = ["", "T00:00:00", "T00:00"].contains(String(to.dropFirst(10))) ? day.dayNumber : day.dayNumber + 1
                keyBounds.append(("<", bind(Int64(end * 86_400 + 15 * 3_600) << 24)))
            }
        }
        if let p = r.platform { messageFilters.append("m.platform = \(bind(p))") }
        if r.hasAttachment { indexFilters.append("EXISTS (SELECT 1 FROM attachment a WHERE a.message_id = s.message_id)") }
        if r.underHold {
            let holds = try await transaction("reading legal holds") { conn in try await Self.activeHoldFilters(conn, logger: self.logger) }
            messageFilters.append(try await Self.heldPredicate(holds, &q))
        }
        let tsq = "to_tsquery('recordkeeper', \(bind(tsquery)))"
        let mark = "StartSel=\(SearchHit.markOpen), StopSel=\(SearchHit.markClose), MaxWords=16, MinWords=6, ShortWord=1, MaxFragments=1, FragmentDelimiter=…"
        let snippet = "ts_headline('recordkeeper', m.body, \(tsq), \(bind(mark)))"
        let join = messageFilters.isEmpty ? "" : " JOIN message m ON m.id = s.message_id"
        // Walks read the key index (`s.search_key`). The GIN reads write the key as an expression
        // (`s.search_key + 0`), so the planner cannot turn them into walks of the key index,
        // unless the range has a lower bound: then the planner gets the key as it is and
        // intersects GIN's bitmap with the range's (BitmapAnd), reading only the range's matches
        // rather than the year's (a word in one month at 10M: 45 → 16 ms).
        let keyFilters = keyBounds.map { "s.search_key \($0.0) \($0.1)" }
        let filters = (keyFilters + indexFilters + messageFilters).map { " AND " + $0 }.joined()
        let ginKey = lowestKey == nil ? "(s.search_key + 0)" : "s.search_key"
        let ginFilters = (keyBounds.map { "\(ginKey) \($0.0) \($0.1)" } + indexFilters + messageFilters).map { " AND " + $0 }.joined()
        // A GIN index neither counts nor orders: counting reads every match it counts, and
        // ranking scores every match in its window. Both stop lower here than on SQLite (FTS5
        // counts from its doclists), and the answer says so ("at least 2,000", "ranked among the
        // newest 2,000").
        let countLimit = messageFilters.isEmpty ? Self.countLimit : SearchRequest.filteredCountLimit
        let relevance = r.sort == .relevance
        let rankWindow = min(r.relevanceWindow, Self.relevanceWindow)
        let need = relevance ? rankWindow : r.offset + r.limit

        // The newest matches, found without trusting the planner's guess of how common the words
        // are (at 10M it walked the key index through every row for a word that matched nothing,
        // 5 s; with a bitmap it sorted all 876,000 rows of a common one, 1.8 s). Three ways, each
        // where it is cheapest (decision 0003):
        // 1. the newest `searchScanWindow` index rows in key order, each tested against the query
        //    (~1.1 µs a row at 10M): the page of any common word is there;
        // 2. if they hold some matches but not enough, the walk goes on for as many rows as the
        //    matches' density says are needed, when that costs less than reading GIN (3) would;
        // 3. otherwise GIN, one year's partition after another, newest first: a bitmap of the
        //    words' rows in that year, sorted by key (~1.9 µs a match), stopping when there are
        //    enough; rare words cost little here, common ones were found by 1 or 2.
        // Relevance needs the newest `rankWindow` matches (and one more than the count limit, so
        // it need not count separately); each is scored as it is read.
        let fetch = relevance ? max(need, countLimit + 1) : need
        let rankExpression = relevance ? "ts_rank_cd(doc, \(tsq))" : "0"
        var ids: [Int64] = [], keys: [Int64] = [], ranks: [Float] = []
        var seen = 0               // matches in the rows read so far (ids holds the newest `fetch` of them)
        var exhausted = false      // every row has been read
        var boundary: Int64?       // rows keyed at or below it are not read yet
        let window = searchScanWindow

        func walk(below: Int64?, rows: Int) async throws -> (rows: Int64, lowest: Int64?, highest: Int64?) {
            var conditions = keyFilters
            if let below { conditions.append("s.search_key <= \(bind(below))") }
            let range = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
            let take = fetch - ids.count
            let query = q.query("""
                WITH w AS MATERIALIZED (
                    SELECT message_id, search_key, conversation_id, hit, (CASE WHEN hit THEN \(rankExpression) ELSE 0 END)::real AS rank
                    FROM (SELECT s.message_id, s.search_key, s.conversation_id, s.doc, s.doc @@ \(tsq) AS hit
                          FROM message_search s\(range) ORDER BY s.search_key DESC, s.message_id DESC LIMIT \(rows)) x),
                b AS (SELECT count(*) AS n, min(search_key) AS k, max(search_key) AS top FROM w),
                h AS (SELECT s.message_id, s.search_key, s.rank FROM w s JOIN b ON b.n < \(rows) OR s.search_key > b.k\(join)
                      WHERE s.hit\(filters)),
                t AS (SELECT * FROM h ORDER BY search_key DESC, message_id DESC LIMIT \(take))
                SELECT b.n, b.k, b.top, (SELECT count(*) FROM h),
                       ARRAY(SELECT message_id FROM t ORDER BY search_key DESC, message_id DESC),
                       ARRAY(SELECT search_key FROM t ORDER BY search_key DESC, message_id DESC),
                       ARRAY(SELECT rank FROM t ORDER BY search_key DESC, message_id DESC)
                FROM b
                """)
            let r = try await transaction("searching") { conn in
                try await conn.all(query, as: (Int64, Int64?, Int64?, Int64, [Int64], [Int64], [Float]).self, logger: self.logger)[0]
            }
            seen += Int(r.3)
            ids += r.4
            keys += r.5
            ranks += r.6
            if r.0 < Int64(rows) { exhausted = true; boundary = nil } else { boundary = r.1 }
            return (r.0, r.1, r.2)
        }

        // Through GIN only: no scan of the table, no parallel workers (they would read every year
        // at once), no JIT compilation; the key is written as an expression (no walk of its index).
        @Sendable func bitmap<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
            try await transaction("searching") { conn in
                try await conn.run("""
                    SELECT set_config('enable_seqscan', 'off', true), set_config('max_parallel_workers_per_gather', '0', true),
                           set_config('jit', 'off', true)
                    """, logger: self.logger)
                return try await body(conn)
            }
        }

        let first = try await walk(below: nil, rows: window)
        var rowsRead = Double(first.rows)
        // Rows per key unit, from the first window (its rows over its key span).
        let rate = Double(window) / (Double((first.highest ?? 0) - (first.lowest ?? 0)) + 1)
        // Walks on below the boundary until `target` matches are seen, when the matches' density
        // so far says that costs less than reading the years through GIN (measured at 10M:
        // ~1.1 µs a walked row, ~1.9 µs a match read through GIN); a key range bounds the walk.
        func walkOn(to target: Int) async throws {
            guard !exhausted, seen < target, let k = boundary else { return }
            let remaining = Double(target - seen)
            let density = Double(seen) / max(rowsRead, 1)
            // GIN reads the words' rows of the whole year, whatever the key range.
            let rowsThisYear = rate * Double(k - Self.searchKey(yearStart: Self.utcYear(ofSearchKey: k)))
            // At least another window (an estimate from a few matches is rough), and never more
            // than the rest of a key range.
            var walkRows = density > 0 ? max(remaining / density * 1.2, Double(window)) : .infinity
            var rangeIsShort = false
            if let low = lowestKey {
                walkRows = min(walkRows, rate * Double(k - low) * 1.2 + 100)
                // A short range is walked to its end even when nothing matched yet (its widened
                // edges can hold the whole window).
                rangeIsShort = walkRows <= Double(10 * window)
            }
            guard rangeIsShort || walkRows * 1.1 < max(remaining, density * rowsThisYear) * 1.9, walkRows < Double(20 * window) else { return }
            let r = try await walk(below: k, rows: Int(walkRows.rounded(.up)))
            rowsRead += Double(r.rows)
        }
        // The partitions below the boundary that the key range reaches, newest first (the list
        // read once per search).
        var partitionYears: [Int]?
        func years(below k: Int64) async throws -> [String] {
            if partitionYears == nil { partitionYears = try await searchPartitionYears() }
            return partitionYears!
                .filter { (year: Int) -> Bool in
                    year <= Self.utcYear(ofSearchKey: k) && (lowestKey.map { Self.searchKey(yearStart: year + 1) > $0 } ?? true)
                }
                .map(Self.searchPartition)
        }
        try await walkOn(to: fetch)
        let idsFromWalks = ids.count
        if !exhausted, seen < fetch, let k = boundary {
            let older = " s.doc @@ \(tsq) AND \(ginKey) <= \(bind(k))\(ginFilters)"
            let wanted = fetch - ids.count
            let yearQueries = try await years(below: k).map { partition in
                q.query("""
                    SELECT message_id, search_key, (\(rankExpression))::real FROM (
                        SELECT s.message_id, s.search_key, s.doc FROM \(partition) s\(join) WHERE\(older)
                        ORDER BY s.search_key + 0 DESC, s.message_id + 0 DESC LIMIT \(wanted)) x
                    ORDER BY search_key DESC, message_id DESC
                    """)
            }
            let more = try await bitmap { conn in
                var out: [(Int64, Int64, Float)] = []
                for query in yearQueries where out.count < wanted {
                    out += try await conn.all(query, as: (Int64, Int64, Float).self, logger: self.logger).prefix(wanted - out.count)
                }
                return out
            }
            seen += more.count // (read below the boundary, which stays where the walks left it)
            ids += more.map(\.0)
            keys += more.map(\.1)
            ranks += more.map(\.2)
            if more.count < wanted { exhausted = true }
        }
        // Only answers that show a count (a full page, a later page, a ranked one) count: on by
        // walking when that is cheap (never after a GIN read), else through GIN, year by year,
        // stopping past the limit.
        let counts = relevance || r.offset > 0 || ids.count >= need
        if counts && ids.count == idsFromWalks { try await walkOn(to: countLimit + 1) }
        var total = (min(seen, countLimit), seen <= countLimit)
        if counts, !exhausted, seen <= countLimit, let k = boundary {
            let seenAbove = seen - (ids.count - idsFromWalks)
            let below = bind(k) // bound before `q.query` reads the bindings
            let countQueries = try await years(below: k).map { partition in
                q.query("""
                    SELECT count(*) FROM (SELECT 1 FROM \(partition) s\(join) WHERE s.doc @@ \(tsq) AND \(ginKey) <= \(below)\(ginFilters)
                    LIMIT \(countLimit + 1 - seenAbove)) n
                    """)
            }
            let n = try await bitmap { conn in
                var n = seenAbove
                for query in countQueries where n <= countLimit { n += try await conn.count(query, logger: self.logger) }
                return n
            }
            total = (min(n, countLimit), n <= countLimit)
        }
        // The page's rows by id, kept in the ids' order: joined to the match query, the planner at
        // 10M chose to hash every partition of `message` for twenty rows.
        func pageRows(_ ids: [Int64]) async throws -> [SearchHit] {
            guard !ids.isEmpty else { return [] }
            let rows = try await hits("SELECT \(columns), \(snippet) FROM message m \(joins) WHERE m.id = ANY(\(bind(ids)))")
            let byID = Dictionary(rows.map { ($0.messageID, $0) }, uniquingKeysWith: { a, _ in a })
            return ids.compactMap { byID[$0] }
        }
        if relevance {
            // The newest `rankWindow` matches, best first (ties: newest first).
            let newest = (0..<min(rankWindow, ids.count)).sorted { (a: Int, b: Int) -> Bool in
                if ranks[a] != ranks[b] { return ranks[a] > ranks[b] }
                if keys[a] != keys[b] { return keys[a] > keys[b] }
                return ids[a] > ids[b]
            }
            var results = SearchResults(total: total.0, hits: try await pageRows(newest.dropFirst(r.offset).prefix(r.limit).map { ids[$0] }))
            results.totalIsExact = total.1
            results.order = .relevance
            if results.total > rankWindow || !results.totalIsExact { results.rankedAmongNewest = rankWindow }
            return results
        }
        let page = try await pageRows(Array(ids.dropFirst(r.offset).prefix(r.limit)))
        var results = SearchResults(total: page.count, hits: page)
        if page.count == r.limit || r.offset > 0 { (results.total, results.totalIsExact) = total }
        return results
    }

    /// The years the search index has a partition for, newest first.
    public func searchPartitionYears() async throws -> [Int] {
        try await transaction("reading the search index's partitions") { conn in
            try await Self.partitionYears(of: "message_search", conn, logger: self.logger).sorted(by: >)
        }
    }

    /// The first search key of a UTC year (its first second, no identity bits).
    static func searchKey(yearStart year: Int) -> Int64 {
        Int64(CivilDate.dayNumber(year: year, month: 1, day: 1)) * 86_400 << 24
    }

    /// The UTC year a search key's instant falls in.
    static func utcYear(ofSearchKey key: Int64) -> Int {
        let seconds = key >> 24
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        return CivilDate.civil(dayNumber: Int(days)).0
    }

    /// The conversations the request's conversation-level filters leave (nil: no such filter).
    func conversationScope(_ r: SearchRequest) async throws -> [Int64]? {
        var q = SQLBuilder()
        var where_: [String] = []
        if let email = r.custodianEmail { where_.append("c.custodian_id IN (SELECT id FROM custodian WHERE lower(email) = lower(\(q.bind(email))))") }
        if let id = r.conversationID { where_.append("c.id = \(q.bind(id))") }
        if let title = r.conversationTitle { where_.append("c.title ILIKE \(q.bind(Self.likePattern(title)))") }
        if let ids = r.participantConversations {
            where_.append("c.id = ANY(\(q.bind(ids)))")
        } else if let p = r.participant {
            where_.append("""
                c.id IN (SELECT conversation_id FROM participant WHERE name ILIKE \(q.bind(Self.likePattern(p))) OR sender_key = \(q.bind(IdentityKey.senderKey(p))))
                """)
        }
        guard !where_.isEmpty else { return nil }
        let sql = "SELECT c.id FROM conversation c WHERE " + where_.joined(separator: " AND ")
        return try await transaction("resolving the search's conversations") { conn in
            try await conn.column(q.query(sql), as: Int64.self, logger: self.logger)
        }
    }
}
