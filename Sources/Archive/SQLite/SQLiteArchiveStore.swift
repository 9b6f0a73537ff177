import Foundation
import GRDB
import GRDBSQLite
import Synchronization
import RecordkeeperCore

/// The default record store: one SQLite database in WAL mode, FTS5 for search.
///
/// Shaped like GRDB's `AppDatabase`: a `Sendable` struct around a private `DatabaseWriter`,
/// migrations run at open, intention-named methods, each one transaction. No GRDB type leaves
/// this target.
public struct SQLiteArchiveStore: ArchiveStore {
    let writer: any DatabaseWriter
    /// Where reads' audit entries wait to be chained (nil in memory: chained at once).
    let readAudits: ReadAuditJournal?
    /// The write-ahead log's file (nil in memory), kept under `walLimitBytes` by `write`.
    let walPath: String?
    /// When the last checkpoint that could not empty the log gave up.
    let walGaveUp = WALGaveUp()

    /// How long a writer waits for another connection's write lock.
    static let busyTimeoutMillis: Int32 = 30_000

    /// Opens (creating if needed) the database at `path` and migrates it to the current schema.
    public init(path: String) throws {
        var config = Configuration()
        config.foreignKeysEnabled = true
        config.busyMode = .timeout(TimeInterval(Self.busyTimeoutMillis / 1000))
        config.prepareDatabase { db in
            // 16 KiB pages for a new archive (an existing one keeps its size): ~8% faster capture
            // and index catch-up at 1M messages than 4 KiB, and a quarter of the reads when a
            // search joins thousands of matches to their rows (decision 0002).
            try db.execute(sql: "PRAGMA page_size = 16384")
            try db.execute(sql: "PRAGMA synchronous = FULL")
            try db.execute(sql: "PRAGMA cache_size = -65536")
            // Deleted content is overwritten with zeros, in the page it leaves and in pages put on
            // the free list: what a disposition removes is not left in the file (issue 16).
            try db.execute(sql: "PRAGMA secure_delete = ON")
            try RelevanceRanking.register(db)
        }
        do {
            writer = try DatabasePool(path: path, configuration: config)
            try SQLiteArchiveStore.migrator.migrate(writer)
            walPath = path + "-wal"
        } catch {
            throw ArchiveError(.storage, "cannot open the record store at \(path); is it a Recordkeeper data directory?", underlying: error)
        }
        let journalPath = ReadAuditJournal.path(forStore: path)
        do {
            readAudits = try ReadAuditJournal(path: journalPath)
        } catch {
            throw ArchiveError(.storage, "cannot open the read-audit journal at \(journalPath) (reads' audit entries wait there to be chained)", underlying: error)
        }
        // Entries a process left unchained (it ended, or crashed, before its pass): chained off
        // the caller's path.
        if let readAudits, (try? readAudits.queue.read({ try Int64.fetchOne($0, sql: "SELECT max(id) FROM entry") })) ?? nil != nil {
            chainReadAuditsInBackground()
        }
    }

    /// An in-memory store for tests.
    public init(inMemory: Void = ()) throws {
        var config = Configuration()
        config.prepareDatabase { db in try RelevanceRanking.register(db) }
        writer = try DatabaseQueue(configuration: config)
        readAudits = nil
        walPath = nil
        try SQLiteArchiveStore.migrator.migrate(writer)
    }

    /// A query both stores share, written with PostgreSQL's numbered parameters (`$1`, `$2`…),
    /// in SQLite's form (`?1`, `?2`…: the same numbers, each bound once however often it is used).
    /// The shared queries hold no other `$`.
    static func numberedParameters(_ sql: String) -> String { sql.replacingOccurrences(of: "$", with: "?") }

    func read<T: Sendable>(_ body: @Sendable @escaping (Database) throws -> T) async throws -> T {
        do { return try await writer.read(body) } catch let e as ArchiveError { throw e } catch {
            throw ArchiveError(.storage, "reading the record store failed", underlying: error)
        }
    }

    func write<T: Sendable>(_ body: @Sendable @escaping (Database) throws -> T) async throws -> T {
        let result: T
        do { result = try await writer.write(body) } catch let e as ArchiveError { throw e } catch {
            throw Self.writeFailure(error)
        }
        await boundWriteAheadLog()
        return result
    }

    /// Runs `body` in a transaction of its own if the write lock is free at this moment; nil when
    /// another connection (a capture in another process) holds it. Never waits for that lock.
    func writeIfFree<T: Sendable>(_ body: @Sendable @escaping (Database) throws -> T) async throws -> T? {
        do {
            return try await writer.writeWithoutTransaction { db in
                try Self.withBusyTimeout(db, millis: 0) {
                    var result: T?
                    try db.inTransaction(.immediate) {
                        result = try body(db)
                        return .commit
                    }
                    return result
                }
            }
        } catch let e as DatabaseError where e.resultCode == .SQLITE_BUSY {
            return nil
        } catch {
            throw Self.writeFailure(error)
        }
    }

    /// A small write a request must not wait for (when a token or a session was last used): at
    /// once when the write lock is free, else in the background once it is. Before, every API
    /// request wrote its token's use in a transaction of its own and so waited for the lock
    /// whenever an ingest in another process held it (decision 0011).
    func writeSoon(_ body: @Sendable @escaping (Database) throws -> Void) async {
        if (try? await writeIfFree(body)) != nil { return }
        let store = self
        Task.detached(priority: .utility) { _ = try? await store.writeWhenFree(body) }
    }

    /// Like `write`, but waits for another connection's lock outside this process's writer queue
    /// (trying without waiting, then sleeping), so that the writes that must not wait
    /// (`writeIfFree`) are never queued behind a background write waiting out a capture; after the
    /// busy timeout it waits as `write` does.
    func writeWhenFree<T: Sendable>(_ body: @Sendable @escaping (Database) throws -> T) async throws -> T {
        let deadline = ContinuousClock.now + .milliseconds(Int(Self.busyTimeoutMillis))
        while ContinuousClock.now < deadline {
            if let result = try await writeIfFree(body) { return result }
            try await Task.sleep(for: .milliseconds(20))
        }
        return try await write(body)
    }

    /// Runs `body` with this connection waiting at most `millis` for another's lock.
    static func withBusyTimeout<T>(_ db: Database, millis: Int32, _ body: () throws -> T) rethrows -> T {
        sqlite3_busy_timeout(db.sqliteConnection, millis)
        defer { sqlite3_busy_timeout(db.sqliteConnection, busyTimeoutMillis) }
        return try body()
    }

    /// Past this size the write-ahead log is copied into the database and emptied.
    static let walLimitBytes: Int64 = 64 << 20

    /// Keeps the write-ahead log small while readers never stop. SQLite's own checkpoint after a
    /// commit (PASSIVE) copies only what no reader still uses and never starts the log afresh
    /// while a reader holds it, so with searches running all through an ingest the log grew
    /// without end (3.9 GB in the load test) and every page a reader looked up searched an index
    /// of the whole log. Past `walLimitBytes` the writer that just committed runs a TRUNCATE
    /// checkpoint, waiting up to a quarter of a second for the readers of the moment to finish
    /// (new readers read the database file meanwhile); if they do not, the next write
    /// two seconds on tries again.
    func boundWriteAheadLog() async {
        guard let walPath else { return }
        var info = stat()
        guard stat(walPath, &info) == 0, Int64(info.st_size) > Self.walLimitBytes else { return }
        // A reader that outlasts the wait (a long export page) is not waited for on every write.
        let now = ContinuousClock.now
        guard walGaveUp.instant.withLock({ $0.map { now - $0 > .seconds(2) } ?? true }) else { return }
        let emptied = (try? await writer.writeWithoutTransaction { db in
            try Self.withBusyTimeout(db, millis: 250) {
                let (log, done) = try db.checkpoint(.truncate)
                return log == done
            }
        }) ?? false
        walGaveUp.instant.withLock { $0 = emptied ? nil : now }
    }

    /// What a failed write means, said so an operator can act: a full disk is the common case
    /// (SQLite rolls the transaction back; nothing half-written stays).
    static func writeFailure(_ error: any Error) -> ArchiveError {
        if let e = error as? DatabaseError {
            switch e.resultCode {
            case .SQLITE_FULL:
                return ArchiveError(.storage, "writing the record store failed: the disk holding the data directory is full (SQLITE_FULL); "
                                    + "the transaction was rolled back, nothing half-written was kept: free space and run the same command again", underlying: error)
            case .SQLITE_IOERR:
                return ArchiveError(.storage, "writing the record store failed: the disk reported an I/O error (SQLITE_IOERR, extended code \(e.extendedResultCode.rawValue)); "
                                    + "check free space and the disk, then run the same command again", underlying: error)
            case .SQLITE_READONLY:
                return ArchiveError(.storage, "writing the record store failed: the database is read-only to this account (SQLITE_READONLY); check the data directory's owner and mode", underlying: error)
            default: break
            }
        }
        return ArchiveError(.storage, "writing the record store failed", underlying: error)
    }

    // MARK: Custodians and conversations

    public func custodian(email: String) async throws -> Custodian? {
        try await read { db in try Self.fetchCustodian(db, email: email) }
    }

    static func fetchCustodian(_ db: Database, email: String) throws -> Custodian? {
        try Row.fetchOne(db, sql: "SELECT id, email, time_zone FROM custodian WHERE email = ? COLLATE NOCASE", arguments: [email])
            .map { Custodian(id: $0["id"], email: $0["email"], timeZone: $0["time_zone"]) }
    }

    public func saveCustodian(email: String, timeZone: String?) async throws -> Custodian {
        try await write { db in
            if var existing = try Self.fetchCustodian(db, email: email) {
                if let timeZone, timeZone != existing.timeZone {
                    try db.execute(sql: "UPDATE custodian SET time_zone = ? WHERE id = ?", arguments: [timeZone, existing.id])
                    existing.timeZone = timeZone
                }
                return existing
            }
            try db.execute(sql: "INSERT INTO custodian (email, time_zone, created_at) VALUES (?, ?, ?)",
                           arguments: [email.lowercased(), timeZone, Timestamp.iso(millis: Timestamp.nowMillis())])
            return Custodian(id: db.lastInsertedRowID, email: email.lowercased(), timeZone: timeZone)
        }
    }

    private static let conversationSelect = """
        SELECT c.id, c.key, c.platform, c.custodian_id, cu.email, c.title,
               (SELECT count(*) FROM message m WHERE m.conversation_id = c.id) AS n,
               (SELECT min(sent_local) FROM message m WHERE m.conversation_id = c.id) AS first_sent,
               (SELECT max(sent_local) FROM message m WHERE m.conversation_id = c.id) AS last_sent
        FROM conversation c JOIN custodian cu ON cu.id = c.custodian_id
        """

    static func decodeConversation(_ db: Database, _ row: Row) throws -> Conversation {
        let id: Int64 = row["id"]
        let names = try String.fetchAll(db, sql: "SELECT name FROM participant WHERE conversation_id = ? ORDER BY name", arguments: [id])
        return Conversation(id: id, key: row["key"], platform: Platform(rawValue: row["platform"]) ?? .whatsapp,
                            custodianID: row["custodian_id"], custodianEmail: row["email"], title: row["title"],
                            messageCount: row["n"], participants: names, firstSent: row["first_sent"], lastSent: row["last_sent"])
    }

    public func conversation(key: String) async throws -> Conversation? {
        try await read { db in
            try Row.fetchOne(db, sql: Self.conversationSelect + " WHERE c.key = ?", arguments: [key]).map { try Self.decodeConversation(db, $0) }
        }
    }

    public func conversation(id: Int64) async throws -> Conversation? {
        try await read { db in
            try Row.fetchOne(db, sql: Self.conversationSelect + " WHERE c.id = ?", arguments: [id]).map { try Self.decodeConversation(db, $0) }
        }
    }

    public func conversations(titleContains: String?, limit: Int) async throws -> [Conversation] {
        try await read { db in
            let rows: [Row]
            if let t = titleContains {
                rows = try Row.fetchAll(db, sql: Self.conversationSelect + " WHERE c.title LIKE ? ESCAPE '\\' ORDER BY c.id LIMIT ?",
                                        arguments: ["%" + Self.escapeLike(t) + "%", limit])
            } else {
                rows = try Row.fetchAll(db, sql: Self.conversationSelect + " ORDER BY c.id LIMIT ?", arguments: [limit])
            }
            return try rows.map { try Self.decodeConversation(db, $0) }
        }
    }

    public func conversations(titleContains: String?, custodianID: Int64, limit: Int) async throws -> [Conversation] {
        try await read { db in
            try Row.fetchAll(db, sql: Self.conversationSelect + " WHERE c.custodian_id = ? AND c.title LIKE ? ESCAPE '\\' ORDER BY c.id LIMIT ?",
                             arguments: [custodianID, "%" + Self.escapeLike(titleContains ?? "") + "%", limit])
                .map { try Self.decodeConversation(db, $0) }
        }
    }

    public func ensureConversation(key: String, platform: Platform, custodianID: Int64, title: String) async throws -> Conversation {
        try await write { db in
            try db.execute(sql: """
                INSERT INTO conversation (key, platform, custodian_id, title, created_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT(key) DO NOTHING
                """, arguments: [key, platform.rawValue, custodianID, title, Timestamp.iso(millis: Timestamp.nowMillis())])
            guard let row = try Row.fetchOne(db, sql: Self.conversationSelect + " WHERE c.key = ?", arguments: [key]) else {
                throw ArchiveError(.storage, "conversation vanished while being created")
            }
            return try Self.decodeConversation(db, row)
        }
    }

    static func searchKey(sentAt: Int64, identity: ContentHash) -> Int64 { SearchHit.searchKey(sentAt: sentAt, identity: identity) }

    /// The smallest search key of any message sent at or after `seconds`.
    static func searchKeyLowerBound(_ seconds: Int64) -> Int64 { seconds << 24 }

    static func escapeLike(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_")
    }

    // MARK: Capture

    public func registerBlob(_ blob: BlobInfo) async throws {
        // A blob a disposition destroyed stays marked destroyed here: an original export comes
        // back to life only when `append` stores records captured from it.
        try await write { db in
            try db.execute(sql: "INSERT INTO blob (hash, size, first_seen_at) VALUES (?, ?, ?) ON CONFLICT(hash) DO NOTHING",
                           arguments: [blob.hash.hex, blob.size, Timestamp.iso(millis: Timestamp.nowMillis())])
        }
    }

    public func unfinishedBatch(sourceHash: ContentHash, custodianID: Int64) async throws -> CaptureBatch? {
        try await read { db in
            try Row.fetchOne(db, sql: Self.batchSelect + " WHERE source_hash = ? AND custodian_id = ? AND status = 'running' ORDER BY id DESC LIMIT 1",
                             arguments: [sourceHash.hex, custodianID]).map(Self.decodeBatch)
        }
    }

    public func unfinishedBatch(sourceHash: ContentHash, custodianID: Int64, conversationID: Int64) async throws -> CaptureBatch? {
        try await read { db in
            try Row.fetchOne(db, sql: Self.batchSelect + " WHERE source_hash = ? AND custodian_id = ? AND conversation_id = ? AND status = 'running' ORDER BY id DESC LIMIT 1",
                             arguments: [sourceHash.hex, custodianID, conversationID]).map(Self.decodeBatch)
        }
    }

    public func startBatch(_ b: NewBatch) async throws -> CaptureBatch {
        let evidence = try b.dateOrder.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) }
        return try await write { db in
            try db.execute(sql: """
                INSERT INTO capture_batch (custodian_id, conversation_id, actor, source_name, source_hash, source_size, platform,
                    format, text_member, date_order, date_order_evidence, time_zone, time_zone_basis, status, started_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'running', ?)
                """, arguments: [b.custodianID, b.conversationID, b.actor, b.sourceName, b.source.hash.hex, b.source.size,
                                 b.platform.rawValue, b.format, b.textMember, b.dateOrder?.order.rawValue, evidence, b.timeZone,
                                 b.timeZoneBasis, Timestamp.iso(millis: b.startedAtMillis)])
            let id = db.lastInsertedRowID
            // The conversation's title as this capture saw it: anchored with the batch, so a later
            // (audited) retitle does not read as tampering.
            try db.execute(sql: "UPDATE capture_batch SET conversation_title = (SELECT title FROM conversation WHERE id = ?) WHERE id = ?",
                           arguments: [b.conversationID, id])
            return try Row.fetchOne(db, sql: Self.batchSelect + " WHERE id = ?", arguments: [id]).map(Self.decodeBatch)!
        }
    }

    static let batchSelect = "SELECT * FROM capture_batch"

    static func decodeBatch(_ row: Row) -> CaptureBatch {
        var totals = BatchTotals()
        totals.messagesAdded = row["messages_added"]
        totals.duplicates = row["duplicates"]
        totals.attachmentsStored = row["attachments_stored"]
        totals.attachmentsMissing = row["attachments_missing"]
        totals.defects = row["defects"]
        let evidence: String? = row["date_order_evidence"]
        let decision = evidence.flatMap { try? JSONDecoder().decode(DateOrderDecision.self, from: Data($0.utf8)) }
        return CaptureBatch(id: row["id"], custodianID: row["custodian_id"], conversationID: row["conversation_id"],
                            sourceName: row["source_name"], sourceHash: ContentHash(hex: row["source_hash"]) ?? AuditEntry.genesis,
                            sourceSize: row["source_size"], format: row["format"], textMember: row["text_member"],
                            dateOrder: decision, timeZone: row["time_zone"], timeZoneBasis: row["time_zone_basis"],
                            status: row["status"], startedAt: row["started_at"], finishedAt: row["finished_at"], totals: totals)
    }

    public func append(batchID: Int64, conversationID: Int64, messages: [ArchivedMessage], defects: [CaptureDefect]) async throws -> AppendResult {
        try await write { db in
            var added = 0
            var duplicates = 0
            var stored = 0
            var missing = 0
            let insert = try db.cachedStatement(sql: """
                INSERT INTO message (id, identity_key, conversation_id, batch_id, platform, conversation_key, source_ordinal, dup_ordinal,
                    sent_local, time_zone, sent_at, captured_at, sender, sender_raw, sender_key, body, raw, kind, flags,
                    source_hash, source_member, source_line, line_count, content_hash, hash_version, search_key)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(sent_local, identity_key) DO NOTHING
                """)
            let attachment = try db.cachedStatement(sql: """
                INSERT INTO attachment (message_id, position, file_name, blob_hash, size) VALUES (?, ?, ?, ?, ?)
                """)
            let participant = try db.cachedStatement(sql: """
                INSERT INTO participant (conversation_id, sender_key, name, sender_raw) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING
                """)
            let registerBlob = try db.cachedStatement(sql: "INSERT INTO blob (hash, size, first_seen_at) VALUES (?, ?, ?) ON CONFLICT(hash) DO UPDATE SET destroyed_by = NULL, destroyed_at = NULL WHERE destroyed_by IS NOT NULL")
            let batchOf = try db.cachedStatement(sql: "SELECT batch_id FROM message WHERE sent_local = ? AND identity_key = ?")
            // A disposed record is never captured again: its tombstone keeps its identity key.
            // (Checked only once the archive has any tombstone, so ingest pays nothing before.)
            let tombstoned = try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM tombstone)") == true
                ? try db.cachedStatement(sql: "SELECT 1 FROM tombstone WHERE identity_key = ?") : nil
            // Retention is assigned as records are stored: no second pass over a big batch.
            let (retention, planVersion) = try Self.storedContext(db)
            var memo = AssignmentMemo(context: retention)
            var resolver = try SenderResolver(db)
            let place = try Row.fetchOne(db, sql: """
                SELECT c.title, cu.email FROM conversation c JOIN custodian cu ON cu.id = c.custodian_id WHERE c.id = ?
                """, arguments: [conversationID])
            let conversationTitle: String = place?[0] ?? "", custodianEmail: String = place?[1] ?? ""
            let assign = try db.cachedStatement(sql: Self.assignmentUpsert)
            let assignedAt = Timestamp.iso(millis: Timestamp.nowMillis())
            var assigned: [String: Int] = [:]
            // Ids are never reused: when a disposition removed the newest records, SQLite would
            // hand their ids out again, and a tombstone would then name a live record.
            var nextID: Int64? = nil
            if tombstoned != nil {
                let maxTomb = try Int64.fetchOne(db, sql: "SELECT max(message_id) FROM tombstone") ?? 0
                let maxLive = try Int64.fetchOne(db, sql: "SELECT max(id) FROM message") ?? 0
                if maxTomb > maxLive { nextID = maxTomb + 1 }
            }
            var alreadyInBatch = 0
            var seenSenders = Set<String>()
            var senderKeys: [String: String] = [:]
            for m in messages {
                var senderKey = ""
                if let sender = m.sender {
                    if let known = senderKeys[sender] { senderKey = known } else {
                        senderKey = IdentityKey.senderKey(sender)
                        senderKeys[sender] = senderKey
                    }
                }
                if let tombstoned, try Int.fetchOne(tombstoned, arguments: [m.identityKey.hex]) != nil {
                    duplicates += 1
                    continue
                }
                var changed = 0
                var key = Self.searchKey(sentAt: m.sentAt, identity: m.identityKey)
                for attempt in 0..<64 {
                    var b = RawBinder(insert, db)
                    b.bind(nextID); b.bind(m.identityKey.hex); b.bind(conversationID); b.bind(batchID); b.bind(m.platform.rawValue)
                    b.bind(m.conversationKey); b.bind(m.sourceOrdinal); b.bind(m.duplicateOrdinal); b.bind(m.sentLocal.description)
                    b.bind(m.timeZone); b.bind(m.sentAt); b.bind(m.capturedAtMillis); b.bind(m.sender); b.bind(m.senderRaw)
                    b.bind(senderKey); b.bind(m.body); b.bind(m.raw); b.bind(m.kind.rawValue)
                    b.bind(m.flags.isEmpty ? "" : m.flags.names.joined(separator: ",")); b.bind(m.sourceBlob.hex)
                    b.bind(m.sourceMember); b.bind(m.sourceLine); b.bind(m.lineCount); b.bind(m.contentHash.hex)
                    b.bind(ArchivedMessage.hashVersion); b.bind(key)
                    do {
                        changed = try b.step()
                        break
                    } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE && attempt < 63 {
                        // Two messages in the same second share 24 identity bits: take the next key.
                        key += 1
                    }
                }
                guard changed > 0 else {
                    duplicates += 1
                    if try Int64.fetchOne(batchOf, arguments: [m.sentLocal.description, m.identityKey.hex]) == batchID { alreadyInBatch += 1 }
                    continue
                }
                added += 1
                nextID = nil // from here on the newest record is live, so SQLite's next id is new
                let id = db.lastInsertedRowID
                if let day = CivilDate(year: m.sentLocal.year, month: m.sentLocal.month, day: m.sentLocal.day) {
                    let facts = RecordFacts(messageID: id, sentDate: day, platform: m.platform.rawValue, conversationKey: m.conversationKey,
                                            conversationTitle: conversationTitle, custodianEmail: custodianEmail,
                                            senderCustodianEmail: resolver.custodian(sender: m.sender, senderRaw: m.senderRaw, platform: m.platform.rawValue))
                    let a = memo.assign(facts)
                    try Self.writeAssignment(assign, db, messageID: id, a, planVersion: planVersion, at: assignedAt)
                    assigned[a.itemID, default: 0] += 1
                }
                for (i, a) in m.attachments.enumerated() {
                    if let blob = a.blob, let size = a.size {
                        try registerBlob.execute(arguments: [blob.hex, size, Timestamp.iso(millis: m.capturedAtMillis)])
                    }
                    try attachment.execute(arguments: [id, i, a.fileName, a.blob?.hex, a.size])
                    if a.isMissing { missing += 1 } else { stored += 1 }
                }
                if let sender = m.sender, !senderKey.isEmpty, seenSenders.insert(senderKey).inserted {
                    try participant.execute(arguments: [conversationID, senderKey, sender, m.senderRaw])
                }
            }
            if added > 0, let source = messages.first?.sourceBlob {
                // Records captured from an original export a disposition had destroyed make it live again.
                try db.execute(sql: "UPDATE blob SET destroyed_by = NULL, destroyed_at = NULL WHERE hash = ? AND destroyed_by IS NOT NULL",
                               arguments: [source.hex])
            }
            var defectsAdded = 0
            if !defects.isEmpty {
                let d = try db.cachedStatement(sql: """
                    INSERT INTO defect (batch_id, file, line, code, detail, text) VALUES (?, ?, ?, ?, ?, ?)
                    ON CONFLICT DO NOTHING
                    """)
                for defect in defects {
                    try d.execute(arguments: [batchID, defect.file, defect.line, defect.code, defect.detail, defect.text])
                    defectsAdded += db.changesCount
                }
            }
            try db.execute(sql: """
                UPDATE capture_batch SET messages_added = messages_added + ?, duplicates = duplicates + ?, defects = defects + ?,
                    attachments_stored = attachments_stored + ?, attachments_missing = attachments_missing + ?
                WHERE id = ?
                """, arguments: [added, duplicates - alreadyInBatch, defectsAdded, stored, missing, batchID])
            var result = AppendResult(added: added, duplicates: duplicates, attachmentsStored: stored, attachmentsMissing: missing)
            result.alreadyInBatch = alreadyInBatch
            result.defectsAdded = defectsAdded
            result.assigned = assigned
            return result
        }
    }

    public func finishBatch(id: Int64, audit: AuditDraft?) async throws {
        try await write { db in
            try db.execute(sql: "UPDATE capture_batch SET status = 'complete', finished_at = ? WHERE id = ?",
                           arguments: [Timestamp.iso(millis: Timestamp.nowMillis()), id])
            if let audit { try Self.appendAudit(db, audit) }
        }
    }

    public func batch(id: Int64) async throws -> CaptureBatch? {
        try await read { db in try Row.fetchOne(db, sql: Self.batchSelect + " WHERE id = ?", arguments: [id]).map(Self.decodeBatch) }
    }

    public func defects(batchID: Int64, limit: Int) async throws -> [CaptureDefect] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT file, line, code, detail, text FROM defect WHERE batch_id = ? ORDER BY id LIMIT ?",
                             arguments: [batchID, limit])
                .map { CaptureDefect(file: $0["file"], line: $0["line"], code: $0["code"], detail: $0["detail"], text: $0["text"]) }
        }
    }
}

/// `SQLiteArchiveStore.boundWriteAheadLog`'s memory of its last failed try.
final class WALGaveUp: Sendable {
    let instant = Mutex<ContinuousClock.Instant?>(nil)
}
