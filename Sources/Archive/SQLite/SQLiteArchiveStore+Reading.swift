import Foundation
import GRDB
import GRDBSQLite
import RecordkeeperCore

extension SQLiteArchiveStore {
    public func search(_ r: SearchRequest) async throws -> SearchResults {
        try await read { db in
            var filters: [String] = []
            var args: [(any DatabaseValueConvertible)?] = []
            // The key range of a date filter applies to the index, or to the records themselves
            // when filters alone collect (no words).
            let key = r.match.isEmpty ? "m.search_key" : "message_fts.rowid"
            if let email = r.custodianEmail {
                filters.append("c.custodian_id = (SELECT id FROM custodian WHERE email = ? COLLATE NOCASE)")
                args.append(email)
            }
            if let id = r.conversationID {
                filters.append("m.conversation_id = ?")
                args.append(id)
            }
            if let title = r.conversationTitle {
                filters.append("c.title LIKE ? ESCAPE '\\'")
                args.append("%" + Self.escapeLike(title) + "%")
            }
            if let ids = r.participantConversations {
                filters.append(ids.isEmpty ? "0" : "m.conversation_id IN (\(ids.map(String.init).joined(separator: ",")))")
            } else if let p = r.participant {
                filters.append("m.conversation_id IN (SELECT conversation_id FROM participant WHERE name LIKE ? ESCAPE '\\' OR sender_key = ?)")
                args.append("%" + Self.escapeLike(p) + "%")
                args.append(IdentityKey.senderKey(p))
            }
            // Date bounds: exact on the time as written, and a key range on the index (the key
            // holds the UTC instant; zones lie within UTC-12…UTC+14).
            if let from = r.fromLocal, let t = LocalDateTime(iso: from) {
                filters.append("m.sent_local >= ?")
                args.append(from)
                filters.append("\(key) >= ?")
                args.append(Self.searchKeyLowerBound(t.secondsSinceEpochAsUTC - 14 * 3600))
            }
            if let to = r.toLocalExclusive, let t = LocalDateTime(iso: to) {
                filters.append("m.sent_local < ?")
                args.append(to)
                filters.append("\(key) < ?")
                args.append(Self.searchKeyLowerBound(t.secondsSinceEpochAsUTC + 12 * 3600))
            }
            if let p = r.platform {
                filters.append("m.platform = ?")
                args.append(p)
            }
            if r.hasAttachment {
                filters.append("EXISTS (SELECT 1 FROM attachment WHERE attachment.message_id = m.id)")
            }
            if r.underHold {
                // Holds are evaluated live, as disposition evaluates them.
                let (held, heldArgs) = Self.heldPredicate(try Self.activeHoldFilters(db))
                filters.append(held)
                args.append(contentsOf: heldArgs)
            }
            if r.match.isEmpty {
                return try Self.collect(db, r, filters: filters, args: args)
            }
            args.insert(r.match, at: 0)
            func joins(_ index: String = "") -> String {
                """
                FROM message_fts JOIN message m \(index) ON m.search_key = message_fts.rowid
                JOIN conversation c ON c.id = m.conversation_id JOIN custodian cu ON cu.id = c.custodian_id
                """
            }
            // Passes that join many matches (relevance, counts) reach the conversation through the
            // narrow (search_key, conversation_id) index rather than the message row.
            let lean = joins("INDEXED BY message_search_conversation")
            let filtered = (["message_fts MATCH ?"] + filters).joined(separator: " AND ")
            let columns = """
                SELECT m.id, m.conversation_id, c.title, cu.email, m.sender, m.sent_local, m.time_zone, m.kind, m.sent_at,
                       snippet(message_fts, 0, '\(SearchHit.markOpen)', '\(SearchHit.markClose)', '…', 16) AS snip
                """
            do {
                if r.sort == .relevance {
                    return try Self.rankedSearch(db, r, lean: lean, filtered: filtered, hasFilters: !filters.isEmpty, args: args)
                }
                if filters.isEmpty && r.offset + r.limit <= SearchRequest.countLimit {
                    // One read of the index gives the page and the count (a prefix such as `sec*`
                    // is expanded once); the page's rows and snippets are read by key.
                    let keys = try Int64.fetchAll(db, sql: "SELECT rowid FROM message_fts WHERE message_fts MATCH ? ORDER BY rowid DESC LIMIT ?",
                                                  arguments: [r.match, SearchRequest.countLimit + 1])
                    let hits = try Self.pageHits(db, keys: Array(keys.dropFirst(r.offset).prefix(r.limit)), match: r.match)
                    return SearchResults(total: min(keys.count, SearchRequest.countLimit), totalIsExact: keys.count <= SearchRequest.countLimit, hits: hits)
                }
                let hits = try Row.fetchAll(db, sql: "\(columns) \(joins()) WHERE \(filtered) ORDER BY message_fts.rowid DESC LIMIT ? OFFSET ?",
                                            arguments: StatementArguments(args + [r.limit, r.offset])).map { Self.hit($0, snippet: $0["snip"] ?? "") }
                if hits.count < r.limit, r.offset == 0 {
                    return SearchResults(total: hits.count, hits: hits)
                }
                let (total, exact) = try Self.countMatches(db, r, from: lean, filtered: filtered, hasFilters: !filters.isEmpty, args: args)
                return SearchResults(total: total, totalIsExact: exact, hits: hits)
            } catch let error as DatabaseError where error.resultCode == .SQLITE_ERROR {
                throw ArchiveError(.badQuery, "the search query could not be understood; quote phrases with \"…\" and use AND, OR, NOT in capitals")
            }
        }
    }

    /// A collection by filters alone ("custodian X, 1–31 March, everything"): the records
    /// themselves, newest first by search key (the sent instant), counted up to
    /// `SearchRequest.countLimit`. It reads the message table, not the index, so a record
    /// captured a moment ago is included whether or not the indexer has reached it. The snippet
    /// is the start of the message.
    static func collect(_ db: Database, _ r: SearchRequest, filters: [String],
                        args: [(any DatabaseValueConvertible)?]) throws -> SearchResults {
        let whereSQL = filters.isEmpty ? "1" : filters.joined(separator: " AND ")
        let from = """
            FROM message m JOIN conversation c ON c.id = m.conversation_id JOIN custodian cu ON cu.id = c.custodian_id
            WHERE \(whereSQL)
            """
        let rows = try Row.fetchAll(db, sql: """
            SELECT m.id, m.conversation_id, c.title, cu.email, m.sender, m.sent_local, m.time_zone, m.kind, m.sent_at, substr(m.body, 1, 400) AS body,
                   length(m.body) > 400 AS cut
            \(from) ORDER BY m.search_key DESC LIMIT ? OFFSET ?
            """, arguments: StatementArguments(args + [r.limit, r.offset]))
        let hits = rows.map { hit($0, snippet: opening($0["body"] ?? "", cut: $0["cut"] ?? false)) }
        if hits.count < r.limit, r.offset == 0 { return SearchResults(total: hits.count, hits: hits) }
        let limit = SearchRequest.countLimit
        let counted = try Int.fetchOne(db, sql: "SELECT count(*) FROM (SELECT 1 \(from) LIMIT \(limit + 1))",
                                       arguments: StatementArguments(args)) ?? 0
        return SearchResults(total: min(counted, limit), totalIsExact: counted <= limit, hits: hits)
    }

    static func opening(_ body: String, cut: Bool = false) -> String { SearchHit.opening(body, cut: cut) }

    /// The number of matches, exact up to a limit. Without filters the index alone counts (no
    /// joins, ~0.1 µs a match); with filters every match is joined to its message, so counting
    /// stops sooner.
    static func countMatches(_ db: Database, _ r: SearchRequest, from: String, filtered: String, hasFilters: Bool,
                             args: [(any DatabaseValueConvertible)?]) throws -> (total: Int, exact: Bool) {
        let limit = hasFilters ? SearchRequest.filteredCountLimit : SearchRequest.countLimit
        let counted = hasFilters
            ? try Int.fetchOne(db, sql: "SELECT count(*) FROM (SELECT 1 \(from) WHERE \(filtered) LIMIT \(limit + 1))",
                               arguments: StatementArguments(args)) ?? 0
            : try Int.fetchOne(db, sql: "SELECT count(*) FROM (SELECT 1 FROM message_fts WHERE message_fts MATCH ? LIMIT \(limit + 1))",
                               arguments: [r.match]) ?? 0
        return (min(counted, limit), counted <= limit)
    }

    /// Relevance order in one pass over the newest matches that pass every filter (at most
    /// `relevanceWindow` of them, plus one to know whether there are more): each is scored with
    /// `recordkeeper_bm25` (RelevanceRanking) as it is read, newest first; the scores are sorted
    /// here (ties newest first) and only the page's hits are then read with their joins and
    /// snippets. FTS5's own `ORDER BY rank` would score every match in the window's key range
    /// before the filters, and a cutoff query would read the window twice.
    static func rankedSearch(_ db: Database, _ r: SearchRequest, lean: String, filtered: String, hasFilters: Bool,
                             args: [(any DatabaseValueConvertible)?]) throws -> SearchResults {
        let window = max(1, r.relevanceWindow)
        let maxKey = try Int64.fetchOne(db, sql: "SELECT max(id) FROM message_fts_docsize")
        let score = "\(RelevanceRanking.functionName)(message_fts, ?)"
        let statement = try db.makeStatement(sql: hasFilters
            ? "SELECT message_fts.rowid, \(score) \(lean) WHERE \(filtered) ORDER BY message_fts.rowid DESC LIMIT ?"
            : "SELECT rowid, \(score) FROM message_fts WHERE message_fts MATCH ? ORDER BY rowid DESC LIMIT ?")
        try statement.setArguments(StatementArguments([maxKey] + (hasFilters ? args : [r.match]) + [window + 1]))
        let raw = statement.sqliteStatement
        defer { sqlite3_reset(raw) }
        var scored: [(key: Int64, score: Double)] = []
        scored.reserveCapacity(min(window + 1, 16_384))
        while true {
            let code = sqlite3_step(raw)
            if code == SQLITE_DONE { break }
            guard code == SQLITE_ROW else {
                throw DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
            }
            scored.append((sqlite3_column_int64(raw, 0), sqlite3_column_double(raw, 1)))
        }
        let more = scored.count > window
        if more { scored.removeLast() }
        // Scores are negated BM25 (lower is better), as FTS5's rank.
        scored.sort { $0.score != $1.score ? $0.score < $1.score : $0.key > $1.key }
        let page = Array(scored.dropFirst(r.offset).prefix(r.limit).map(\.key))
        let hits = try pageHits(db, keys: page, match: r.match)
        // Every match was scored, or more matched than the window: the count is then "at least
        // the window" unless the window is smaller than what the count would reach anyway.
        var (total, exact) = (scored.count, !more)
        if more && window < (hasFilters ? SearchRequest.filteredCountLimit : SearchRequest.countLimit) {
            (total, exact) = try countMatches(db, r, from: lean, filtered: filtered, hasFilters: hasFilters, args: args)
        }
        var results = SearchResults(total: total, totalIsExact: exact, hits: hits)
        results.order = .relevance
        if more { results.rankedAmongNewest = window }
        return results
    }

    /// The columns and tokenizer of `message_fts` (schema v1); a test holds the two together.
    static let ftsColumns = "body, sender, tokenize='unicode61 remove_diacritics 2'"

    /// A hit from a row with the search columns (id, conversation_id, title, email, sender,
    /// sent_local, time_zone, kind, sent_at) and its snippet.
    static func hit(_ row: Row, snippet: String) -> SearchHit {
        SearchHit(messageID: row["id"], conversationID: row["conversation_id"], conversationTitle: row["title"],
                  custodian: row["email"], sender: row["sender"], sentLocal: row["sent_local"],
                  timeZone: row["time_zone"], kind: row["kind"], snippet: snippet, sentAt: row["sent_at"])
    }

    /// The hits for a page of search keys, in the keys' order, without reading the index again:
    /// the rows are read by key and their snippets made by FTS5 itself in a private in-memory
    /// table holding only these bodies, with the archive's tokenizer and the same query (a
    /// snippet depends only on the document and the query, so it is the one the archive's index
    /// would give). Reading the index a second time would expand a prefix such as `sec*` again
    /// (~15 ms at 10M messages).
    static func pageHits(_ db: Database, keys: [Int64], match: String) throws -> [SearchHit] {
        guard !keys.isEmpty else { return [] }
        let rows = try Row.fetchAll(db, sql: """
            SELECT m.id, m.conversation_id, c.title, cu.email, m.sender, m.sent_local, m.time_zone, m.kind, m.body, m.search_key, m.sent_at
            FROM message m JOIN conversation c ON c.id = m.conversation_id JOIN custodian cu ON cu.id = c.custodian_id
            WHERE m.search_key IN (\(keys.map(String.init).joined(separator: ",")))
            """)
        let page = try DatabaseQueue()
        let snippets: [Int64: String] = try page.write { p in
            try p.execute(sql: "CREATE VIRTUAL TABLE page USING fts5(\(ftsColumns))")
            for row in rows {
                try p.execute(sql: "INSERT INTO page (rowid, body, sender) VALUES (?, ?, ?)",
                              arguments: [row["search_key"] as Int64, row["body"] as String, row["sender"] as String?])
            }
            var out: [Int64: String] = [:]
            for row in try Row.fetchAll(p, sql: """
                SELECT rowid, snippet(page, 0, '\(SearchHit.markOpen)', '\(SearchHit.markClose)', '…', 16) FROM page WHERE page MATCH ?
                """, arguments: [match]) {
                out[row[0]] = row[1]
            }
            return out
        }
        var byKey: [Int64: SearchHit] = [:]
        for row in rows {
            let key: Int64 = row["search_key"]
            byKey[key] = hit(row, snippet: snippets[key] ?? "")
        }
        return keys.compactMap { byKey[$0] }
    }

    /// Columns in the order `decodeMessage` reads them by position (name lookups are slow).
    static let messageSelect = """
        SELECT id, identity_key, platform, conversation_key, source_ordinal, dup_ordinal, sent_local, time_zone, sent_at,
               captured_at, sender, sender_raw, body, raw, kind, flags, source_hash, source_member, source_line, line_count,
               conversation_id, batch_id, content_hash
        FROM message
        """

    static func decodeMessage(_ db: Database, _ row: Row) throws -> StoredMessage {
        let id: Int64 = row[0]
        let attachments = try fetchAttachments(db, messageIDs: id...id)[id] ?? []
        return decodeMessage(row, attachments: attachments)
    }

    /// Attachments of a range of messages in one query, grouped by message id.
    static func fetchAttachments(_ db: Database, messageIDs: ClosedRange<Int64>) throws -> [Int64: [ArchivedAttachment]] {
        var out: [Int64: [ArchivedAttachment]] = [:]
        let rows = try Row.fetchCursor(db, sql: """
            SELECT message_id, file_name, blob_hash, size FROM attachment
            WHERE message_id BETWEEN ? AND ? ORDER BY message_id, position
            """, arguments: [messageIDs.lowerBound, messageIDs.upperBound])
        while let a = try rows.next() {
            let hex: String? = a["blob_hash"]
            out[a["message_id"], default: []].append(
                ArchivedAttachment(fileName: a["file_name"], blob: hex.flatMap(ContentHash.init(hex:)), size: a["size"]))
        }
        return out
    }

    static func decodeMessage(_ row: Row, attachments: [ArchivedAttachment]) -> StoredMessage {
        let zero = AuditEntry.genesis
        let id: Int64 = row[0]
        let flagsText: String = row[15]
        let message = ArchivedMessage(
            id: id, identityKey: ContentHash(hex: row[1]) ?? zero,
            platform: Platform(rawValue: row[2]) ?? .whatsapp, conversationKey: row[3],
            sourceOrdinal: row[4], duplicateOrdinal: row[5],
            sentLocal: LocalDateTime(iso: row[6]) ?? LocalDateTime(year: 1, month: 1, day: 1),
            timeZone: row[7], sentAt: row[8], capturedAtMillis: row[9], sender: row[10],
            senderRaw: row[11], body: row[12], raw: row[13],
            kind: MessageKind(rawValue: row[14]) ?? .user,
            flags: flagsText.isEmpty ? [] : MessageFlags(names: flagsText.split(separator: ",").map(String.init)),
            sourceBlob: ContentHash(hex: row[16]) ?? zero, sourceMember: row[17],
            sourceLine: row[18], lineCount: row[19], attachments: attachments,
            contentHash: zero)
        var recomputed = message
        recomputed.contentHash = message.computeContentHash()
        return StoredMessage(message: recomputed, id: id, conversationID: row[20], batchID: row[21],
                             storedContentHash: ContentHash(hex: row[22]) ?? zero)
    }

    public func message(id: Int64) async throws -> StoredMessage? {
        try await read { db in
            try Row.fetchOne(db, sql: Self.messageSelect + " WHERE id = ?", arguments: [id]).map { try Self.decodeMessage(db, $0) }
        }
    }

    public func transcript(conversationID: Int64, offset: Int, limit: Int) async throws -> [StoredMessage] {
        try await read { db in
            let rows = try Row.fetchAll(db, sql: Self.messageSelect + " WHERE conversation_id = ? ORDER BY sent_local, id LIMIT ? OFFSET ?",
                                        arguments: [conversationID, limit, offset])
            let ids = rows.map { $0[0] as Int64 }
            guard let low = ids.min(), let high = ids.max() else { return [] }
            let attachments = try Self.fetchAttachments(db, messageIDs: low...high)
            return rows.map { row in Self.decodeMessage(row, attachments: attachments[row[0]] ?? []) }
        }
    }

    public func transcriptPosition(conversationID: Int64, messageID: Int64) async throws -> Int? {
        try await read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT sent_local FROM message WHERE id = ? AND conversation_id = ?",
                                             arguments: [messageID, conversationID]) else { return nil }
            let sent: String = row[0]
            return try Int.fetchOne(db, sql: """
                SELECT count(*) FROM message WHERE conversation_id = ? AND (sent_local < ? OR (sent_local = ? AND id < ?))
                """, arguments: [conversationID, sent, sent, messageID]) ?? 0
        }
    }

    public func messageCount(conversationID: Int64) async throws -> Int {
        try await read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM message WHERE conversation_id = ?", arguments: [conversationID]) ?? 0 }
    }

    public func stats() async throws -> ArchiveStats {
        var stats = try await read { db in
            func count(_ sql: String) throws -> Int { try Int.fetchOne(db, sql: sql) ?? 0 }
            return ArchiveStats(
                conversations: try count("SELECT count(*) FROM conversation"),
                messages: try count("SELECT count(*) FROM message"),
                attachments: try count("SELECT count(*) FROM attachment"),
                attachmentsMissing: try count("SELECT count(*) FROM attachment WHERE blob_hash IS NULL"),
                batches: try count("SELECT count(*) FROM capture_batch"),
                unfinishedBatches: try count("SELECT count(*) FROM capture_batch WHERE status = 'running'"),
                custodians: try count("SELECT count(*) FROM custodian"),
                blobs: try count("SELECT count(*) FROM blob WHERE destroyed_by IS NULL"),
                blobBytes: try Int64.fetchOne(db, sql: "SELECT coalesce(sum(size), 0) FROM blob WHERE destroyed_by IS NULL") ?? 0,
                defects: try count("SELECT count(*) FROM defect"),
                auditEntries: try count("SELECT count(*) FROM audit_log"))
        }
        stats.auditEntries += try await pendingReadAudits()
        return stats
    }

    public func recordCounts() async throws -> (messages: Int, blobs: Int) {
        try await read { db in
            (try Int.fetchOne(db, sql: "SELECT count(*) FROM message") ?? 0,
             try Int.fetchOne(db, sql: "SELECT count(*) FROM blob WHERE destroyed_by IS NULL") ?? 0)
        }
    }

    public func batchIDs() async throws -> [Int64] {
        try await read { db in try Int64.fetchAll(db, sql: "SELECT id FROM capture_batch ORDER BY id") }
    }

    public func batchDigest(batchID: Int64) async throws -> BatchDigest {
        // On the writer's connection: its cache is warm after an ingest, and a reader's would
        // add its own 64 MB to the process.
        try await write { db in try Self.batchDigest(db, batchID: batchID) }
    }

    static func batchDigest(_ db: Database, batchID: Int64) throws -> BatchDigest {
        var hasher = StreamingHasher()
        if let b = try Row.fetchOne(db, sql: """
            SELECT b.custodian_id, b.conversation_id, b.source_hash, b.source_size, b.format, b.text_member, b.date_order,
                   b.time_zone, cu.email, c.key, COALESCE(b.conversation_title, c.title)
            FROM capture_batch b LEFT JOIN custodian cu ON cu.id = b.custodian_id LEFT JOIN conversation c ON c.id = b.conversation_id
            WHERE b.id = ?
            """, arguments: [batchID]) {
            var e = CanonicalEncoder(kind: "batch", version: 1)
            e.add("custodian", b[0] as Int64?)
            e.add("conversation", b[1] as Int64?)
            e.add("source", b[2] as String?)
            e.add("size", b[3] as Int64?)
            e.add("format", b[4] as String?)
            e.add("member", b[5] as String?)
            e.add("date_order", b[6] as String?)
            e.add("tz", b[7] as String?)
            e.add("custodian_email", b[8] as String?)
            e.add("conversation_key", b[9] as String?)
            e.add("conversation_title", b[10] as String?)
            hasher.update(e.bytes)
        }
        // Each message contributes "<identity> <content hash>\n", read straight from SQLite. A
        // disposed message contributes the same line from its tombstone, so the anchor holds
        // after a lawful disposition and breaks on any other removal.
        // Without tombstones (the usual case) the rows come in id order with no sort.
        let disposed = try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM tombstone WHERE batch_id = ?)", arguments: [batchID]) == true
        let statement = try db.makeStatement(sql: disposed ? """
            SELECT identity_key, content_hash, id FROM message WHERE batch_id = ?1
            UNION ALL SELECT identity_key, content_hash, message_id FROM tombstone WHERE batch_id = ?1
            ORDER BY 3
            """ : "SELECT identity_key, content_hash, id FROM message WHERE batch_id = ?1 ORDER BY id")
        var binder = RawBinder(statement, db)
        binder.bind(batchID)
        let raw = statement.sqliteStatement
        defer { sqlite3_reset(raw) }
        var count = 0
        var line = [UInt8]()
        line.reserveCapacity(160)
        while true {
            let code = sqlite3_step(raw)
            if code == SQLITE_DONE { break }
            guard code == SQLITE_ROW else {
                throw DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
            }
            count += 1
            line.removeAll(keepingCapacity: true)
            for column: Int32 in 0...1 {
                if let text = sqlite3_column_text(raw, column) {
                    line.append(contentsOf: UnsafeBufferPointer(start: text, count: Int(sqlite3_column_bytes(raw, column))))
                }
                line.append(column == 0 ? 0x20 : 0x0A)
            }
            hasher.update(line)
        }
        return BatchDigest(messages: count, digest: hasher.finalize())
    }

    public func messageIDRange() async throws -> ClosedRange<Int64>? {
        try await read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT min(id), max(id) FROM message"),
                  let low = row[0] as Int64?, let high = row[1] as Int64? else { return nil }
            return low...high
        }
    }

    public func blobs(after: ContentHash?, limit: Int) async throws -> [BlobInfo] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT hash, size FROM blob WHERE hash > ? AND destroyed_by IS NULL ORDER BY hash LIMIT ?",
                             arguments: [after?.hex ?? "", limit])
                .compactMap { row in ContentHash(hex: row["hash"]).map { BlobInfo(hash: $0, size: row["size"]) } }
        }
    }

    // MARK: Audit

    public func appendAudit(_ draft: AuditDraft) async throws -> AuditEntry {
        try await write { db in try Self.appendAudit(db, draft) }
    }

    /// Appends to the chain inside the caller's transaction (so a change and its audit entry
    /// commit together).
    @discardableResult
    static func appendAudit(_ db: Database, _ draft: AuditDraft) throws -> AuditEntry {
        let detail = draft.detailJSON
        // Cached statements: every write of the archive appends here (a scan spent more compiling
        // its statements than running them).
        let last = try Row.fetchOne(db.cachedStatement(sql: "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1"))
        let seq: Int64 = (last?["seq"] ?? 0) + 1
        let prev = (last?["hash"] as String?).flatMap(ContentHash.init(hex:)) ?? AuditEntry.genesis
        let entry = AuditEntry(sequence: seq, at: Timestamp.iso(millis: Timestamp.nowMillis()), actor: draft.actor,
                               action: draft.action, target: draft.target, detail: detail, previousHash: prev)
        try db.cachedStatement(sql: "INSERT INTO audit_log (seq, at, actor, action, target, detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)").execute(
                       arguments: [entry.sequence, entry.at, entry.actor, entry.action, entry.target, entry.detail,
                                   entry.previousHash.hex, entry.hash.hex])
        return entry
    }

    /// A row of `SELECT * FROM audit_log`, read by position (the table's columns: seq, at, actor,
    /// action, target, detail, prev_hash, hash); by name, GRDB searches the columns on every read.
    static func decodeAudit(_ row: Row) -> AuditEntry {
        AuditEntry(sequence: row[0], at: row[1], actor: row[2], action: row[3], target: row[4], detail: row[5],
                   previousHash: ContentHash(hex: row[6]) ?? AuditEntry.genesis, hash: ContentHash(hex: row[7]) ?? AuditEntry.genesis)
    }

    public func auditEntries(afterSequence: Int64, limit: Int) async throws -> [AuditEntry] {
        try await settleReadAudits()
        return try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM audit_log WHERE seq > ? ORDER BY seq LIMIT ?", arguments: [afterSequence, limit])
                .map(Self.decodeAudit)
        }
    }

    public func auditEntries(target: String, limit: Int) async throws -> [AuditEntry] {
        // Shown on pages: chained first when the write lock is free, else what is chained (the
        // rest follows within seconds); `afterSequence` (verify, checkpoints, copies) always waits.
        try await settleReadAudits(waiting: false)
        return try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM (SELECT * FROM audit_log WHERE target = ? ORDER BY seq DESC LIMIT ?) ORDER BY seq",
                             arguments: [target, limit]).map(Self.decodeAudit)
        }
    }
}
