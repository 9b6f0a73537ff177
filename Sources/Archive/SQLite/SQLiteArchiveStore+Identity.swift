import Foundation
import GRDB
import RecordkeeperCore

extension SQLiteArchiveStore: IdentityStore {
    /// Known external parties and their identities, the platform identity each participant
    /// wrote, exports carried by e-mail, and the live-capture transaction log.
    static func migrateIdentity(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE external_party (
                id INTEGER PRIMARY KEY,
                name TEXT NOT NULL,
                organization TEXT,
                note TEXT,
                created_at TEXT NOT NULL,
                created_by TEXT NOT NULL
            );
            CREATE TABLE party_account (
                id INTEGER PRIMARY KEY,
                party_id INTEGER NOT NULL REFERENCES external_party(id),
                platform TEXT NOT NULL,
                address TEXT NOT NULL,
                normalized TEXT NOT NULL,
                created_at TEXT NOT NULL,
                UNIQUE (platform, normalized)
            );
            ALTER TABLE participant ADD COLUMN sender_raw TEXT;
            UPDATE participant SET sender_raw = (
                SELECT m.sender_raw FROM message m
                WHERE m.conversation_id = participant.conversation_id AND m.sender_key = participant.sender_key LIMIT 1);
            ALTER TABLE capture_batch ADD COLUMN conversation_title TEXT;
            UPDATE capture_batch SET conversation_title = (SELECT title FROM conversation WHERE id = capture_batch.conversation_id);
            CREATE TABLE carriage (
                batch_id INTEGER PRIMARY KEY REFERENCES capture_batch(id),
                carrier_message_id INTEGER NOT NULL,
                forwarded_at INTEGER NOT NULL,
                attachment TEXT NOT NULL,
                member TEXT
            );
            CREATE INDEX carriage_carrier ON carriage(carrier_message_id);
            CREATE TRIGGER carriage_no_update BEFORE UPDATE ON carriage
                BEGIN SELECT RAISE(ABORT, 'carriage links are never changed'); END;
            CREATE TABLE live_transaction (
                source TEXT NOT NULL,
                txn_id TEXT NOT NULL,
                events INTEGER NOT NULL,
                batches TEXT NOT NULL,
                received_at TEXT NOT NULL,
                PRIMARY KEY (source, txn_id)
            ) WITHOUT ROWID;
            """)
    }

    // MARK: Parties

    static func fetchParty(_ db: Database, id: Int64) throws -> ExternalParty? {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM external_party WHERE id = ?", arguments: [id]) else { return nil }
        let accounts = try Row.fetchAll(db, sql: "SELECT * FROM party_account WHERE party_id = ? ORDER BY id", arguments: [id]).map { a in
            var account = PlatformAccount(id: a["id"], platform: a["platform"], address: a["address"], official: false)
            account.normalized = a["normalized"]
            return account
        }
        return ExternalParty(id: row["id"], name: row["name"], organization: row["organization"], note: row["note"], accounts: accounts,
                             createdAt: row["created_at"], createdBy: row["created_by"])
    }

    public func createParty(name: String, organization: String?, note: String?, actor: String) async throws -> ExternalParty {
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw ArchiveError(.invalid, "a party needs a name") }
        return try await write { db in
            try db.execute(sql: "INSERT INTO external_party (name, organization, note, created_at, created_by) VALUES (?, ?, ?, ?, ?)",
                           arguments: [trimmed, organization, note, Self.now(), actor])
            return try Self.fetchParty(db, id: db.lastInsertedRowID)!
        }
    }

    public func parties() async throws -> [ExternalParty] {
        try await read { db in
            try Int64.fetchAll(db, sql: "SELECT id FROM external_party ORDER BY name COLLATE NOCASE, id").compactMap { try Self.fetchParty(db, id: $0) }
        }
    }

    public func party(id: Int64) async throws -> ExternalParty? {
        try await read { db in try Self.fetchParty(db, id: id) }
    }

    public func addPartyAccount(partyID: Int64, platform: String, address: String) async throws -> PlatformAccount {
        let account = PlatformAccount(platform: platform, address: address, official: false)
        guard !account.normalized.isEmpty else { throw ArchiveError(.invalid, "an account needs an address") }
        return try await write { db in
            guard try Self.fetchParty(db, id: partyID) != nil else { throw ArchiveError(.notFound, "no party \(partyID)") }
            // One identity, one owner: a custodian's account is never also a party's.
            var resolver = try SenderResolver(db, parties: true)
            switch resolver.owner(sender: nil, senderRaw: address, platform: account.platform) {
            case .custodian(let email)?:
                throw ArchiveError(.invalid, "the \(account.platform) account \(address) is registered to the custodian \(email)")
            case .party(let other)? where other != partyID:
                let name = try String.fetchOne(db, sql: "SELECT name FROM external_party WHERE id = ?", arguments: [other]) ?? "another party"
                throw ArchiveError(.invalid, "the \(account.platform) account \(address) is already registered to party \(other) (\(name))")
            case .party?:
                throw ArchiveError(.invalid, "party \(partyID) already has the \(account.platform) account \(address)")
            case nil: break
            }
            try db.execute(sql: "INSERT INTO party_account (party_id, platform, address, normalized, created_at) VALUES (?, ?, ?, ?, ?)",
                           arguments: [partyID, account.platform, account.address, account.normalized, Self.now()])
            var saved = account
            saved.id = db.lastInsertedRowID
            return saved
        }
    }

    // MARK: Participants

    public func participants(conversationID: Int64) async throws -> [ResolvedParticipant] {
        try await read { db in
            guard let place = try Row.fetchOne(db, sql: """
                SELECT c.platform, cu.email FROM conversation c JOIN custodian cu ON cu.id = c.custodian_id WHERE c.id = ?
                """, arguments: [conversationID]) else { throw ArchiveError(.notFound, "no conversation \(conversationID)") }
            let platform: String = place["platform"], owner: String = place["email"]
            var resolver = try SenderResolver(db, parties: true)
            var partyNames: [Int64: (String, String?)] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT id, name, organization FROM external_party") {
                partyNames[row["id"]] = (row["name"], row["organization"])
            }
            let custodianNames = try Dictionary(Row.fetchAll(db, sql: "SELECT email, name FROM custodian").map { ($0["email"] as String, $0["name"] as String?) },
                                                uniquingKeysWith: { a, _ in a })
            var out: [ResolvedParticipant] = []
            for row in try Row.fetchAll(db, sql: """
                SELECT sender_key, min(sender) AS sender, max(sender_raw) AS sender_raw, count(*) AS n,
                       min(sent_local) AS first_sent, max(sent_local) AS last_sent
                FROM message WHERE conversation_id = ? AND sender_key != '' GROUP BY sender_key ORDER BY n DESC, sender_key
                """, arguments: [conversationID]) {
                let name: String = row["sender"] ?? row["sender_key"]
                let raw: String? = row["sender_raw"]
                var p = ResolvedParticipant(name: name, identity: raw == name ? nil : raw, side: .unresolved, custodian: nil, partyID: nil,
                                            partyName: nil, organization: nil, messages: row["n"], firstSent: row["first_sent"], lastSent: row["last_sent"])
                // What the export's own account sent is written as "Me" (SMS Backup & Restore).
                let ownSide = platform == Platform.sms.rawValue && (raw == "Me" || name == "Me")
                switch ownSide ? .custodian(email: owner) : resolver.owner(sender: name, senderRaw: raw, platform: platform) {
                case .custodian(let email)?:
                    p.side = .internal
                    p.custodian = email
                    p.partyName = custodianNames[email] ?? nil
                case .party(let id)?:
                    p.side = .external
                    p.partyID = id
                    p.partyName = partyNames[id]?.0
                    p.organization = partyNames[id]?.1
                case nil:
                    break
                }
                out.append(p)
            }
            return out
        }
    }

    public func participantNames(limit: Int) async throws -> [(name: String, senderKey: String)] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT DISTINCT name, sender_key FROM participant ORDER BY name LIMIT ?", arguments: [limit])
                .map { (name: $0[0] as String, senderKey: $0[1] as String) }
        }
    }

    public func conversationIDs(of owner: IdentityOwner) async throws -> [Int64] {
        try await read { db in
            var resolver = try SenderResolver(db, parties: true)
            var ids = Set<Int64>()
            if case .custodian(let email) = owner {
                ids.formUnion(try Int64.fetchAll(db, sql: """
                    SELECT c.id FROM conversation c JOIN custodian cu ON cu.id = c.custodian_id WHERE cu.email = ? COLLATE NOCASE
                    """, arguments: [email]))
            }
            for row in try Row.fetchAll(db, sql: """
                SELECT p.conversation_id, p.name, p.sender_raw, c.platform FROM participant p JOIN conversation c ON c.id = p.conversation_id
                """) where resolver.owner(sender: row["name"], senderRaw: row["sender_raw"], platform: row["platform"]) == owner {
                ids.insert(row["conversation_id"])
            }
            return ids.sorted()
        }
    }

    public func retitleConversation(id: Int64, standIn: String, title: String) async throws -> Bool {
        try await write { db in
            try db.execute(sql: "UPDATE conversation SET title = ? WHERE id = ? AND title = ? AND ? != ''", arguments: [title, id, standIn, title])
            return db.changesCount > 0
        }
    }

    public func uncapturedConversationTitles() async throws -> [(conversationID: Int64, title: String, latestBatch: Int64)] {
        try await read { db in
            try Row.fetchAll(db, sql: """
                SELECT c.id, c.title, (SELECT max(id) FROM capture_batch WHERE conversation_id = c.id) AS latest FROM conversation c
                WHERE EXISTS (SELECT 1 FROM capture_batch b WHERE b.conversation_id = c.id)
                  AND NOT EXISTS (SELECT 1 FROM capture_batch b WHERE b.conversation_id = c.id AND b.conversation_title = c.title)
                """).map { ($0[0], $0[1], $0[2]) }
        }
    }

    // MARK: Carriage

    public func messageID(identityKey: ContentHash, sentLocal: LocalDateTime) async throws -> Int64? {
        try await read { db in
            try Int64.fetchOne(db, sql: "SELECT id FROM message WHERE sent_local = ? AND identity_key = ?", arguments: [sentLocal.description, identityKey.hex])
        }
    }

    public func recordCarriage(_ c: Carriage) async throws {
        try await write { db in
            try db.execute(sql: """
                INSERT INTO carriage (batch_id, carrier_message_id, forwarded_at, attachment, member) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT(batch_id) DO NOTHING
                """, arguments: [c.batchID, c.carrierMessageID, c.forwardedAt, c.attachment, c.member])
        }
    }

    static func decodeCarriage(_ row: Row) -> Carriage {
        Carriage(batchID: row["batch_id"], carrierMessageID: row["carrier_message_id"], forwardedAt: row["forwarded_at"],
                 attachment: row["attachment"], member: row["member"])
    }

    public func carriage(batchID: Int64) async throws -> Carriage? {
        try await read { db in try Row.fetchOne(db, sql: "SELECT * FROM carriage WHERE batch_id = ?", arguments: [batchID]).map(Self.decodeCarriage) }
    }

    public func carriedBatches(carrierMessageID: Int64) async throws -> [Carriage] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM carriage WHERE carrier_message_id = ? ORDER BY batch_id", arguments: [carrierMessageID]).map(Self.decodeCarriage)
        }
    }

    // MARK: Live capture

    public func liveTransactionDone(source: String, id: String) async throws -> Bool {
        try await read { db in
            try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM live_transaction WHERE source = ? AND txn_id = ?)", arguments: [source, id]) == true
        }
    }

    public func recordLiveTransaction(source: String, id: String, events: Int, batches: [Int64]) async throws {
        try await write { db in
            try db.execute(sql: """
                INSERT INTO live_transaction (source, txn_id, events, batches, received_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING
                """, arguments: [source, id, events, batches.map(String.init).joined(separator: ","), Self.now()])
        }
    }
}
