import Archive
import Foundation
import Logging
import PostgresNIO
import RecordkeeperCore

/// A bound value for the multi-row statements capture writes (PostgresNIO binds by generic type;
/// this carries the few types capture needs, nulls included).
enum Bind {
    case text(String?)
    case int(Int64?)
    case bool(Bool?)
    case double(Double?)

    func append(to binds: inout PostgresBindings) {
        switch self {
        case .text(let v): if let v { binds.append(v) } else { binds.appendNull() }
        case .int(let v): if let v { binds.append(v) } else { binds.appendNull() }
        case .bool(let v): if let v { binds.append(v) } else { binds.appendNull() }
        case .double(let v): if let v { binds.append(v) } else { binds.appendNull() }
        }
    }
}

extension Bind {
    /// Text in COPY's text format: the bytes as they are unless one of them ends a field or a
    /// row (one pass over contiguous bytes: scanning through `String.UTF8View` cost more than
    /// the copy).
    static func writeCopyText(utf8 bytes: UnsafeBufferPointer<UInt8>, into buffer: inout ByteBuffer) {
        var clean = true
        for byte in bytes where byte == 0x5C || byte == 0x0A || byte == 0x0D || byte == 0x09 {
            clean = false
            break
        }
        if clean {
            buffer.writeBytes(UnsafeRawBufferPointer(bytes))
            return
        }
        for byte in bytes {
            switch byte {
            case 0x5C: buffer.writeStaticString("\\\\")
            case 0x0A: buffer.writeStaticString("\\n")
            case 0x0D: buffer.writeStaticString("\\r")
            case 0x09: buffer.writeStaticString("\\t")
            default: buffer.writeInteger(byte)
            }
        }
    }
}

extension Bind {
    /// The value in COPY's text format: `\N` for null, backslash escapes for the characters
    /// that end a field or a row.
    func writeCopyText(into buffer: inout ByteBuffer) {
        switch self {
        case .text(let v?):
            var v = v
            v.withUTF8 { Self.writeCopyText(utf8: $0, into: &buffer) }
        case .int(let v?): buffer.writeString(String(v))
        case .bool(let v?): buffer.writeStaticString(v ? "t" : "f")
        case .double(let v?): buffer.writeString(v.isFinite ? String(v) : (v.isNaN ? "NaN" : (v < 0 ? "-Infinity" : "Infinity")))
        case .text(nil), .int(nil), .bool(nil), .double(nil): buffer.writeStaticString("\\N")
        }
    }
}

extension PostgresConnection {
    /// `COPY table (columns) FROM STDIN` (text format) with every row, streamed in writes of
    /// about a megabyte: the server reads rows while the next ones are encoded, and no
    /// statement with thousands of parameters is parsed and planned (which cost half of the
    /// server's time in capture when rows went in as multi-row INSERTs).
    func copyRows(_ table: String, columns: [String], rows: [[Bind]], logger: Logger) async throws {
        guard !rows.isEmpty else { return }
        try await copyFrom(table: table, columns: columns, logger: logger) { writer in
            var buffer = ByteBuffer()
            buffer.reserveCapacity(1 << 20)
            for row in rows {
                precondition(row.count == columns.count, "a row of \(table) has \(row.count) values for \(columns.count) columns")
                for (i, value) in row.enumerated() {
                    if i > 0 { buffer.writeInteger(UInt8(ascii: "\t")) }
                    value.writeCopyText(into: &buffer)
                }
                buffer.writeInteger(UInt8(ascii: "\n"))
                if buffer.readableBytes >= 1 << 20 {
                    try await writer.write(buffer)
                    buffer.clear()
                }
            }
            if buffer.readableBytes > 0 { try await writer.write(buffer) }
        }
    }

    /// `INSERT INTO table (columns) VALUES (…), (…) suffix` for every row, at most `perStatement`
    /// rows a statement (PostgreSQL takes at most 65,535 bound values). `expressions` lets a
    /// column be SQL instead of a bound value (`nextval(…)`). Returns the rows the statements
    /// return, decoded by `decode`.
    func insertRows<T>(_ table: String, columns: [String], expressions: [String: String] = [:], rows: [[Bind]], suffix: String,
                       perStatement: Int = 500, logger: Logger, decode: (PostgresRandomAccessRow) throws -> T) async throws -> [T] {
        var out: [T] = []
        var start = 0
        let boundColumns = columns.filter { expressions[$0] == nil }
        while start < rows.count {
            let slice = rows[start..<min(rows.count, start + perStatement)]
            var binds = PostgresBindings(capacity: slice.count * boundColumns.count)
            var tuples: [String] = []
            tuples.reserveCapacity(slice.count)
            for row in slice {
                precondition(row.count == boundColumns.count, "a row of \(table) has \(row.count) values for \(boundColumns.count) columns")
                var values: [String] = []
                var next = row.makeIterator()
                for column in columns {
                    if let e = expressions[column] { values.append(e); continue }
                    next.next()!.append(to: &binds)
                    values.append("$\(binds.count)")
                }
                tuples.append("(" + values.joined(separator: ", ") + ")")
            }
            let sql = "INSERT INTO \(table) (\(columns.joined(separator: ", "))) VALUES \(tuples.joined(separator: ", ")) \(suffix)"
            for try await row in try await self.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger) {
                out.append(try decode(row.makeRandomAccess()))
            }
            start += slice.count
        }
        return out
    }
}

extension PostgresArchiveStore: CaptureStore {
    public func registerBlob(_ blob: BlobInfo) async throws {
        // A blob a disposition destroyed stays marked destroyed here: an original export comes
        // back to life only when `append` stores records captured from it.
        try await transaction("registering a blob") { conn in
            try await conn.run("""
                INSERT INTO blob (hash, size, first_seen_at) VALUES (\(blob.hash.hex), \(blob.size), \(Timestamp.iso(millis: Timestamp.nowMillis())))
                ON CONFLICT (hash) DO NOTHING
                """, logger: self.logger)
        }
    }

    static let batchColumns = """
        id, custodian_id, conversation_id, source_name, source_hash, source_size, format, text_member, date_order_evidence,
        time_zone, time_zone_basis, status, started_at, finished_at, messages_added, duplicates, attachments_stored,
        attachments_missing, defects
        """

    static func decodeBatch(_ r: PostgresRandomAccessRow) throws -> CaptureBatch {
        var totals = BatchTotals()
        totals.messagesAdded = Int(try r[14].decode(Int64.self))
        totals.duplicates = Int(try r[15].decode(Int64.self))
        totals.attachmentsStored = Int(try r[16].decode(Int64.self))
        totals.attachmentsMissing = Int(try r[17].decode(Int64.self))
        totals.defects = Int(try r[18].decode(Int64.self))
        let evidence = try r[8].decode(String?.self)
        return CaptureBatch(id: try r[0].decode(Int64.self), custodianID: try r[1].decode(Int64.self), conversationID: try r[2].decode(Int64.self),
                            sourceName: try r[3].decode(String.self), sourceHash: ContentHash(hex: try r[4].decode(String.self)) ?? AuditEntry.genesis,
                            sourceSize: try r[5].decode(Int64.self), format: try r[6].decode(String.self), textMember: try r[7].decode(String.self),
                            dateOrder: evidence.flatMap { try? JSONDecoder().decode(DateOrderDecision.self, from: Data($0.utf8)) },
                            timeZone: try r[9].decode(String.self), timeZoneBasis: try r[10].decode(String.self), status: try r[11].decode(String.self),
                            startedAt: try r[12].decode(String.self), finishedAt: try r[13].decode(String?.self), totals: totals)
    }

    func batches(_ what: String, _ query: PostgresQuery) async throws -> [CaptureBatch] {
        do {
            var out: [CaptureBatch] = []
            for try await row in try await client.query(query, logger: logger) { out.append(try Self.decodeBatch(row.makeRandomAccess())) }
            return out
        } catch {
            throw Self.storageError(what, error)
        }
    }

    public func unfinishedBatch(sourceHash: ContentHash, custodianID: Int64) async throws -> CaptureBatch? {
        try await batches("finding an unfinished capture", """
            SELECT \(unescaped: Self.batchColumns) FROM capture_batch
            WHERE source_hash = \(sourceHash.hex) AND custodian_id = \(custodianID) AND status = 'running' ORDER BY id DESC LIMIT 1
            """).first
    }

    public func unfinishedBatch(sourceHash: ContentHash, custodianID: Int64, conversationID: Int64) async throws -> CaptureBatch? {
        try await batches("finding an unfinished capture", """
            SELECT \(unescaped: Self.batchColumns) FROM capture_batch
            WHERE source_hash = \(sourceHash.hex) AND custodian_id = \(custodianID) AND conversation_id = \(conversationID)
              AND status = 'running' ORDER BY id DESC LIMIT 1
            """).first
    }

    public func startBatch(_ b: NewBatch) async throws -> CaptureBatch {
        let evidence = try b.dateOrder.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) }
        return try await transaction("starting a capture") { conn in
            // The conversation's title as this capture saw it is anchored with the batch, so a
            // later (audited) retitle does not read as tampering.
            var out: [CaptureBatch] = []
            for try await row in try await conn.query("""
                INSERT INTO capture_batch (custodian_id, conversation_id, actor, source_name, source_hash, source_size, platform, format,
                    text_member, date_order, date_order_evidence, time_zone, time_zone_basis, status, started_at, conversation_title)
                VALUES (\(b.custodianID), \(b.conversationID), \(b.actor), \(b.sourceName), \(b.source.hash.hex), \(b.source.size),
                    \(b.platform.rawValue), \(b.format), \(b.textMember), \(b.dateOrder?.order.rawValue), \(evidence), \(b.timeZone),
                    \(b.timeZoneBasis), 'running', \(Timestamp.iso(millis: b.startedAtMillis)),
                    (SELECT title FROM conversation WHERE id = \(b.conversationID)))
                RETURNING \(unescaped: Self.batchColumns)
                """, logger: self.logger) { out.append(try Self.decodeBatch(row.makeRandomAccess())) }
            guard let batch = out.first else { throw ArchiveError(.storage, "starting a capture returned nothing") }
            return batch
        }
    }

    public func finishBatch(id: Int64, audit: AuditDraft?) async throws {
        try await transaction("finishing a capture") { conn in
            try await conn.run("UPDATE capture_batch SET status = 'complete', finished_at = \(Timestamp.iso(millis: Timestamp.nowMillis())) WHERE id = \(id)",
                               logger: self.logger)
            if let audit { _ = try await Self.appendAudit(conn, audit, logger: self.logger) }
        }
    }

    public func batch(id: Int64) async throws -> CaptureBatch? {
        try await batches("reading a capture", "SELECT \(unescaped: Self.batchColumns) FROM capture_batch WHERE id = \(id)").first
    }

    public func defects(batchID: Int64, limit: Int) async throws -> [CaptureDefect] {
        try await rows("reading defects", """
            SELECT file, line, code, detail, text FROM defect WHERE batch_id = \(batchID) ORDER BY id LIMIT \(Int64(limit))
            """, as: (String, Int64, String, String, String).self).map {
            CaptureDefect(file: $0.0, line: Int($0.1), code: $0.2, detail: $0.3, text: $0.4)
        }
    }

    // MARK: Append

    /// The archive's own retention context, read inside the caller's transaction (the same
    /// reading as SQLite's: the current plan, every custodian's facts, every cutoff event).
    static func storedContext(_ conn: PostgresConnection, logger: Logger) async throws -> (RetentionContext, Int) {
        guard let plan = try await conn.all("SELECT version, document FROM file_plan ORDER BY version DESC LIMIT 1", as: (Int32, String).self,
                                            logger: logger).first else {
            throw ArchiveError(.storage, "the archive has no file plan; run `recordkeeper verify`")
        }
        let filePlan = try JSONDecoder().decode(FilePlan.self, from: Data(plan.1.utf8))
        let custodians = try await fetchProfiles(conn, email: nil, logger: logger).map(\.facts)
        var events: [String: [String: CivilDate]] = [:]
        for e in try await conn.all("SELECT c.key, e.name, e.date FROM cutoff_event e JOIN conversation c ON c.id = e.conversation_id",
                                    as: (String, String, String).self, logger: logger) {
            if let d = CivilDate(e.2) { events[e.0, default: [:]][e.1.lowercased()] = d }
        }
        return (RetentionContext(plan: filePlan, custodians: custodians, events: events), Int(plan.0))
    }

    /// Registered accounts, to resolve a sender to a custodian (retention, holds).
    static func identityDirectory(_ conn: PostgresConnection, parties: Bool = false, logger: Logger) async throws -> IdentityDirectory {
        var entries = try await conn.all("""
            SELECT a.platform, a.normalized, cu.email FROM custodian_account a JOIN custodian cu ON cu.id = a.custodian_id ORDER BY a.id
            """, as: (String, String, String).self, logger: logger).map { (platform: $0.0, normalized: $0.1, owner: IdentityOwner.custodian(email: $0.2)) }
        if parties {
            entries += try await conn.all("SELECT platform, normalized, party_id FROM party_account ORDER BY id", as: (String, String, Int64).self,
                                          logger: logger).map { (platform: $0.0, normalized: $0.1, owner: IdentityOwner.party(id: $0.2)) }
        }
        return IdentityDirectory(entries: entries)
    }

    /// The names of `parent`'s partitions (`message_y2021`, `message_search_y2021`).
    static func partitions(of parent: String, _ conn: PostgresConnection, logger: Logger) async throws -> Set<String> {
        Set(try await conn.column("""
            SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
            WHERE p.relname = \(parent)
            """, as: String.self, logger: logger))
    }

    /// The years of `parent`'s partitions named `<parent>_yYYYY`.
    static func partitionYears(of parent: String, _ conn: PostgresConnection, logger: Logger) async throws -> [Int] {
        try await partitions(of: parent, conn, logger: logger).compactMap { Int($0.dropFirst(parent.count + 2)) }
    }

    /// The search index's partition for a UTC year.
    static func searchPartition(_ year: Int) -> String { "message_search_y" + String(format: "%04d", year) }

    /// Makes the yearly partitions of `message` that `years` (`"2021"`, local years sent) need,
    /// and of `message_search` (UTC years) around them, through the owner's
    /// `rk_add_year_partitions` (schema step 12), so an instance running as a role that owns
    /// nothing can capture a new year. Under a lock, so instances capturing the same new year at
    /// once make its partition once.
    static func ensurePartitions(_ years: Set<String>, _ conn: PostgresConnection, logger: Logger) async throws {
        let existing = try await partitions(of: "message", conn, logger: logger)
        let missing = try years.filter { !existing.contains("message_y" + $0) }.map(fourDigitYear).sorted()
        guard !missing.isEmpty else { return }
        let searchYears = Set(try await partitionYears(of: "message_search", conn, logger: logger))
        let wanted = searchYearsAround(Set(missing)).subtracting(searchYears).sorted()
        try await conn.run("SELECT rk_add_year_partitions(\(missing.map { Int32($0) }), \(wanted.map { Int32($0) }))", logger: logger)
    }

    static func fourDigitYear(_ year: String) throws -> Int {
        guard year.count == 4, year.allSatisfy(\.isASCII), year.allSatisfy(\.isNumber), let n = Int(year), n >= 1, n <= 9998 else {
            throw ArchiveError(.invalid, "a message's sent time has no four-digit year from 0001 to 9998 (\(year))")
        }
        return n
    }

    /// The UTC years of the search index that messages sent in the local `years` need: each
    /// year and the years beside it (a local time is within 15 hours of UTC). A partition holds
    /// the search keys of one UTC year: sent instants from its first second.
    static func searchYearsAround(_ years: Set<Int>) -> Set<Int> {
        Set(years.flatMap { [$0 - 1, $0, $0 + 1] }.filter { (1...9999).contains($0) })
    }

    /// The search index's partitions for the local `years`, made directly: for schema step 11,
    /// which runs as the owner before step 12 defines `rk_add_year_partitions` (whose bounds are
    /// the same; a test compares them).
    static func createSearchPartitions(_ years: Set<Int>, _ conn: PostgresConnection, logger: Logger) async throws {
        let existing = try await partitions(of: "message_search", conn, logger: logger)
        for y in searchYearsAround(years).sorted() where !existing.contains(searchPartition(y)) {
            let (from, to) = (searchKey(yearStart: y), searchKey(yearStart: y + 1))
            try await conn.run(PostgresQuery(unsafeSQL: """
                CREATE TABLE \(searchPartition(y)) PARTITION OF message_search FOR VALUES FROM (\(from)) TO (\(to))
                """), logger: logger)
        }
    }

    public func append(batchID: Int64, conversationID: Int64, messages: [ArchivedMessage], defects: [CaptureDefect]) async throws -> AppendResult {
        try await transaction("storing captured messages") { conn in
            let logger = self.logger
            var result = AppendResult(added: 0, duplicates: 0, attachmentsStored: 0, attachmentsMissing: 0)
            if !messages.isEmpty {
                try await Self.appendMessages(conn, batchID: batchID, conversationID: conversationID, messages: messages, into: &result, logger: logger)
            }
            if !defects.isEmpty {
                let rows = defects.map { d -> [Bind] in
                    [.int(batchID), .text(d.file), .int(Int64(d.line)), .text(d.code), .text(d.detail), .text(d.text)]
                }
                result.defectsAdded = try await conn.insertRows("defect", columns: ["batch_id", "file", "line", "code", "detail", "text"], rows: rows,
                                                                suffix: "ON CONFLICT DO NOTHING RETURNING 1", logger: logger) { _ in 1 }.count
            }
            try await conn.run("""
                UPDATE capture_batch SET messages_added = messages_added + \(Int64(result.added)),
                    duplicates = duplicates + \(Int64(result.duplicates - result.alreadyInBatch)), defects = defects + \(Int64(result.defectsAdded)),
                    attachments_stored = attachments_stored + \(Int64(result.attachmentsStored)),
                    attachments_missing = attachments_missing + \(Int64(result.attachmentsMissing))
                WHERE id = \(batchID)
                """, logger: logger)
            return result
        }
    }

    static let messageColumns = ["id", "identity_key", "conversation_id", "batch_id", "platform", "conversation_key", "source_ordinal",
                                 "dup_ordinal", "sent_local", "time_zone", "sent_at", "captured_at", "sender", "sender_raw", "sender_key",
                                 "body", "raw", "kind", "flags", "source_hash", "source_member", "source_line", "line_count", "content_hash",
                                 "hash_version", "search_key"]

    /// This connection's staging table for a chunk of messages (temporary: no WAL, emptied at
    /// every commit).
    static let stagingTable = """
        CREATE TEMP TABLE IF NOT EXISTS rk_stage_message (
            id bigint NOT NULL, identity_key text NOT NULL, conversation_id bigint NOT NULL, batch_id bigint NOT NULL, platform text NOT NULL,
            conversation_key text NOT NULL, source_ordinal bigint NOT NULL, dup_ordinal integer NOT NULL, sent_local text COLLATE "C" NOT NULL,
            time_zone text NOT NULL, sent_at bigint NOT NULL, captured_at bigint NOT NULL, sender text, sender_raw text, sender_key text NOT NULL,
            body text NOT NULL, raw text NOT NULL, kind text NOT NULL, flags text NOT NULL, source_hash text NOT NULL, source_member text NOT NULL,
            source_line bigint NOT NULL, line_count integer NOT NULL, content_hash text NOT NULL, hash_version integer NOT NULL, search_key bigint NOT NULL
        ) ON COMMIT DELETE ROWS
        """

    static func appendMessages(_ conn: PostgresConnection, batchID: Int64, conversationID: Int64, messages: [ArchivedMessage],
                               into result: inout AppendResult, logger: Logger) async throws {
        // A disposed record is never captured again: its tombstone keeps its identity key.
        let keys = messages.map(\.identityKey.hex)
        let tombstoned = Set(try await conn.column("SELECT identity_key FROM tombstone WHERE identity_key = ANY(\(keys))", as: String.self,
                                                   logger: logger))
        try await ensurePartitions(Set(messages.map { String($0.sentLocal.description.prefix(4)) }), conn, logger: logger)
        var senderKeys: [String: String] = [:]
        func senderKey(_ m: ArchivedMessage) -> String {
            guard let sender = m.sender else { return "" }
            if let known = senderKeys[sender] { return known }
            let k = IdentityKey.senderKey(sender)
            senderKeys[sender] = k
            return k
        }
        let candidates = messages.filter { !tombstoned.contains($0.identityKey.hex) }
        // Ids are taken here, in the chunk's order (a conversation's messages sent in one minute
        // are read in id order), and travel with the rows: the move below then needs neither a
        // sort nor a per-row sequence call. Ids of rows another ingest stored first are skipped
        // (gaps are harmless).
        let assigned = candidates.isEmpty ? [] : try await conn.column("""
            SELECT nextval('message_id_seq') FROM generate_series(1, \(Int64(candidates.count)))
            """, as: Int64.self, logger: logger).sorted()
        guard assigned.count == candidates.count else {
            throw ArchiveError(.storage, "the message id sequence returned \(assigned.count) ids for \(candidates.count) messages")
        }
        let rows = zip(assigned, candidates).map { id, m -> [Bind] in
            [.int(id), .text(m.identityKey.hex), .int(conversationID), .int(batchID), .text(m.platform.rawValue), .text(m.conversationKey),
             .int(Int64(m.sourceOrdinal)), .int(Int64(m.duplicateOrdinal)), .text(m.sentLocal.description), .text(m.timeZone), .int(m.sentAt),
             .int(m.capturedAtMillis), .text(m.sender), .text(m.senderRaw), .text(senderKey(m)), .text(m.body), .text(m.raw),
             .text(m.kind.rawValue), .text(m.flags.isEmpty ? "" : m.flags.names.joined(separator: ",")), .text(m.sourceBlob.hex),
             .text(m.sourceMember), .int(Int64(m.sourceLine)), .int(Int64(m.lineCount)), .text(m.contentHash.hex),
             .int(Int64(ArchivedMessage.hashVersion)), .int(SearchHit.searchKey(sentAt: m.sentAt, identity: m.identityKey))]
        }
        // Rows go straight into `message` (COPY), and the new ids into the indexer's queue. The
        // identity key is the table's key, so a message already stored (a re-exported chat, or
        // another ingest of the same chat at this moment) fails the copy: the chunk is then moved
        // through this connection's staging table by one statement that skips what is stored, so
        // each message is stored by exactly one ingest and counted as a duplicate by the others.
        var stored: Set<Int64> = []
        try await conn.run("SAVEPOINT rk_capture_copy", logger: logger)
        var copied = false
        do {
            try await conn.copyRows("message", columns: messageColumns, rows: rows, logger: logger)
            try await conn.run("RELEASE SAVEPOINT rk_capture_copy", logger: logger)
            copied = true
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == "23505" {
            try await conn.run("ROLLBACK TO SAVEPOINT rk_capture_copy", logger: logger)
            try await conn.run(PostgresQuery(unsafeSQL: stagingTable), logger: logger)
            try await conn.copyRows("rk_stage_message", columns: messageColumns, rows: rows, logger: logger)
            let columns = messageColumns.joined(separator: ", ")
            stored = Set(try await conn.column(PostgresQuery(unsafeSQL: """
                WITH ins AS (
                    INSERT INTO message (\(columns)) SELECT \(columns) FROM rk_stage_message
                    ON CONFLICT (sent_local, identity_key) DO NOTHING
                    RETURNING id, captured_at),
                queued AS (INSERT INTO index_queue (message_id, captured_at) SELECT id, captured_at FROM ins)
                SELECT id FROM ins
                """), as: Int64.self, logger: logger))
        }
        if copied {
            try await conn.copyRows("index_queue", columns: ["message_id", "captured_at"],
                                    rows: zip(assigned, candidates).map { [.int($0.0), .int($0.1.capturedAtMillis)] }, logger: logger)
            stored = Set(assigned)
        }
        let notInserted = zip(assigned, candidates).filter { !stored.contains($0.0) }.map(\.1.identityKey.hex)
        if !notInserted.isEmpty {
            result.alreadyInBatch = try await conn.count("""
                SELECT count(*) FROM message WHERE batch_id = \(batchID) AND identity_key = ANY(\(notInserted))
                """, logger: logger)
        }
        result.duplicates = messages.count - stored.count
        result.added = stored.count
        guard !stored.isEmpty else { return }

        // Retention is assigned as records are stored, by the same engine as on SQLite.
        let (context, planVersion) = try await storedContext(conn, logger: logger)
        var memo = AssignmentMemo(context: context)
        var directory = try await identityDirectory(conn, logger: logger)
        let place = try await conn.all("""
            SELECT c.title, cu.email FROM conversation c JOIN custodian cu ON cu.id = c.custodian_id WHERE c.id = \(conversationID)
            """, as: (String, String).self, logger: logger).first
        let assignedAt = Timestamp.iso(millis: Timestamp.nowMillis())
        var assignments: [[Bind]] = []
        var attachments: [[Bind]] = []
        var blobs: [String: [Bind]] = [:]
        var participants: [[Bind]] = []
        var seenSenders = Set<String>()
        for (id, m) in zip(assigned, candidates) where stored.contains(id) {
            if let day = CivilDate(year: m.sentLocal.year, month: m.sentLocal.month, day: m.sentLocal.day) {
                let facts = RecordFacts(messageID: id, sentDate: day, platform: m.platform.rawValue, conversationKey: m.conversationKey,
                                        conversationTitle: place?.0 ?? "", custodianEmail: place?.1 ?? "",
                                        senderCustodianEmail: directory.custodian(sender: m.sender, senderRaw: m.senderRaw, platform: m.platform.rawValue))
                let a = memo.assign(facts)
                assignments.append([.int(id), .text(a.itemID), .text(a.ruleID), .text(a.action.rawValue), .text(a.cutoff?.description),
                                    .text(a.eligible?.description), .int(Int64(planVersion)), .text(assignedAt)])
                result.assigned[a.itemID, default: 0] += 1
            }
            for (i, a) in m.attachments.enumerated() {
                if let blob = a.blob, let size = a.size, blobs[blob.hex] == nil {
                    blobs[blob.hex] = [.text(blob.hex), .int(size), .text(Timestamp.iso(millis: m.capturedAtMillis))]
                }
                attachments.append([.int(id), .int(Int64(i)), .text(a.fileName), .text(a.blob?.hex), .int(a.size)])
                if a.isMissing { result.attachmentsMissing += 1 } else { result.attachmentsStored += 1 }
            }
            let key = senderKey(m)
            if let sender = m.sender, !key.isEmpty, seenSenders.insert(key).inserted {
                participants.append([.int(conversationID), .text(key), .text(sender), .text(m.senderRaw)])
            }
        }
        // The ids are new (taken above in this transaction): nothing to conflict with.
        try await conn.copyRows("retention_assignment", columns: ["message_id", "item_id", "rule_id", "action", "cutoff", "eligible",
                                                                  "plan_version", "assigned_at"], rows: assignments, logger: logger)
        if !blobs.isEmpty {
            // An attachment's file a disposition destroyed is live again once a new record names it.
            _ = try await conn.insertRows("blob", columns: ["hash", "size", "first_seen_at"], rows: Array(blobs.values), suffix: """
                ON CONFLICT (hash) DO UPDATE SET destroyed_by = NULL, destroyed_at = NULL WHERE blob.destroyed_by IS NOT NULL
                """, logger: logger) { _ in () }
        }
        try await conn.copyRows("attachment", columns: ["message_id", "position", "file_name", "blob_hash", "size"], rows: attachments, logger: logger)
        if !participants.isEmpty {
            _ = try await conn.insertRows("participant", columns: ["conversation_id", "sender_key", "name", "sender_raw"], rows: participants,
                                          suffix: "ON CONFLICT DO NOTHING", logger: logger) { _ in () }
        }
        if let source = messages.first?.sourceBlob {
            // Records captured from an original export a disposition had destroyed make it live again.
            try await conn.run("UPDATE blob SET destroyed_by = NULL, destroyed_at = NULL WHERE hash = \(source.hex) AND destroyed_by IS NOT NULL",
                               logger: logger)
        }
    }
}
