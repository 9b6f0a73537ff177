import Archive
import Foundation
import Logging
import PostgresNIO
import RecordkeeperCore

extension PostgresArchiveStore: IdentityStore {
    // MARK: Parties

    static func fetchParty(_ conn: PostgresConnection, id: Int64, logger: Logger) async throws -> ExternalParty? {
        guard let p = try await conn.all("SELECT id, name, organization, note, created_at, created_by FROM external_party WHERE id = \(id)",
                                         as: (Int64, String, String?, String?, String, String).self, logger: logger).first else { return nil }
        let accounts = try await conn.all("SELECT id, platform, address, normalized FROM party_account WHERE party_id = \(id) ORDER BY id",
                                          as: (Int64, String, String, String).self, logger: logger).map { a -> PlatformAccount in
            var account = PlatformAccount(id: a.0, platform: a.1, address: a.2, official: false)
            account.normalized = a.3
            return account
        }
        return ExternalParty(id: p.0, name: p.1, organization: p.2, note: p.3, accounts: accounts, createdAt: p.4, createdBy: p.5)
    }

    public func createParty(name: String, organization: String?, note: String?, actor: String) async throws -> ExternalParty {
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw ArchiveError(.invalid, "a party needs a name") }
        return try await transaction("adding a party") { conn in
            let id = try await conn.column("""
                INSERT INTO external_party (name, organization, note, created_at, created_by)
                VALUES (\(trimmed), \(organization), \(note), \(Timestamp.iso(millis: Timestamp.nowMillis())), \(actor)) RETURNING id
                """, as: Int64.self, logger: self.logger)[0]
            return try await Self.fetchParty(conn, id: id, logger: self.logger)!
        }
    }

    public func parties() async throws -> [ExternalParty] {
        try await transaction("listing parties") { conn in
            var out: [ExternalParty] = []
            for id in try await conn.column("SELECT id FROM external_party ORDER BY lower(name), id", as: Int64.self, logger: self.logger) {
                if let p = try await Self.fetchParty(conn, id: id, logger: self.logger) { out.append(p) }
            }
            return out
        }
    }

    public func party(id: Int64) async throws -> ExternalParty? {
        try await transaction("reading a party") { conn in try await Self.fetchParty(conn, id: id, logger: self.logger) }
    }

    public func addPartyAccount(partyID: Int64, platform: String, address: String) async throws -> PlatformAccount {
        let account = PlatformAccount(platform: platform, address: address, official: false)
        guard !account.normalized.isEmpty else { throw ArchiveError(.invalid, "an account needs an address") }
        return try await transaction("adding a party's account") { conn in
            guard try await Self.fetchParty(conn, id: partyID, logger: self.logger) != nil else { throw ArchiveError(.notFound, "no party \(partyID)") }
            // One identity, one owner: a custodian's account is never also a party's.
            var directory = try await Self.identityDirectory(conn, parties: true, logger: self.logger)
            switch directory.owner(sender: nil, senderRaw: address, platform: account.platform) {
            case .custodian(let email)?:
                throw ArchiveError(.invalid, "the \(account.platform) account \(address) is registered to the custodian \(email)")
            case .party(let other)? where other != partyID:
                let name = try await conn.column("SELECT name FROM external_party WHERE id = \(other)", as: String.self, logger: self.logger).first
                throw ArchiveError(.invalid, "the \(account.platform) account \(address) is already registered to party \(other) (\(name ?? "another party"))")
            case .party?:
                throw ArchiveError(.invalid, "party \(partyID) already has the \(account.platform) account \(address)")
            case nil: break
            }
            var saved = account
            saved.id = try await conn.column("""
                INSERT INTO party_account (party_id, platform, address, normalized, created_at)
                VALUES (\(partyID), \(account.platform), \(account.address), \(account.normalized), \(Timestamp.iso(millis: Timestamp.nowMillis())))
                RETURNING id
                """, as: Int64.self, logger: self.logger)[0]
            return saved
        }
    }

    // MARK: Participants

    public func participants(conversationID: Int64) async throws -> [ResolvedParticipant] {
        try await transaction("resolving participants") { conn in
            let logger = self.logger
            guard let place = try await conn.all("""
                SELECT c.platform, cu.email FROM conversation c JOIN custodian cu ON cu.id = c.custodian_id WHERE c.id = \(conversationID)
                """, as: (String, String).self, logger: logger).first else { throw ArchiveError(.notFound, "no conversation \(conversationID)") }
            let (platform, owner) = place
            var directory = try await Self.identityDirectory(conn, parties: true, logger: logger)
            var partyNames: [Int64: (String, String?)] = [:]
            for p in try await conn.all("SELECT id, name, organization FROM external_party", as: (Int64, String, String?).self, logger: logger) {
                partyNames[p.0] = (p.1, p.2)
            }
            var custodianNames: [String: String?] = [:]
            for c in try await conn.all("SELECT email, name FROM custodian", as: (String, String?).self, logger: logger) where custodianNames[c.0] == nil {
                custodianNames[c.0] = c.1
            }
            var out: [ResolvedParticipant] = []
            for r in try await conn.all("""
                SELECT sender_key, min(sender), max(sender_raw), count(*) AS n, min(sent_local), max(sent_local)
                FROM message WHERE conversation_id = \(conversationID) AND sender_key <> '' GROUP BY sender_key ORDER BY n DESC, sender_key
                """, as: (String, String?, String?, Int64, String, String).self, logger: logger) {
                let name = r.1 ?? r.0
                let raw = r.2
                var p = ResolvedParticipant(name: name, identity: raw == name ? nil : raw, side: .unresolved, custodian: nil, partyID: nil,
                                            partyName: nil, organization: nil, messages: Int(r.3), firstSent: r.4, lastSent: r.5)
                // What the export's own account sent is written as "Me" (SMS Backup & Restore).
                let ownSide = platform == Platform.sms.rawValue && (raw == "Me" || name == "Me")
                switch ownSide ? .custodian(email: owner) : directory.owner(sender: name, senderRaw: raw, platform: platform) {
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
        try await rows("listing participants", "SELECT DISTINCT name, sender_key FROM participant ORDER BY name LIMIT \(Int64(limit))",
                       as: (String, String).self).map { (name: $0.0, senderKey: $0.1) }
    }

    public func conversationIDs(of owner: IdentityOwner) async throws -> [Int64] {
        try await transaction("finding a person's conversations") { conn in
            var directory = try await Self.identityDirectory(conn, parties: true, logger: self.logger)
            var ids = Set<Int64>()
            if case .custodian(let email) = owner {
                ids.formUnion(try await conn.column("""
                    SELECT c.id FROM conversation c JOIN custodian cu ON cu.id = c.custodian_id WHERE lower(cu.email) = lower(\(email))
                    """, as: Int64.self, logger: self.logger))
            }
            for p in try await conn.all("""
                SELECT p.conversation_id, p.name, p.sender_raw, c.platform FROM participant p JOIN conversation c ON c.id = p.conversation_id
                """, as: (Int64, String, String?, String).self, logger: self.logger)
                where directory.owner(sender: p.1, senderRaw: p.2, platform: p.3) == owner {
                ids.insert(p.0)
            }
            return ids.sorted()
        }
    }

    public func retitleConversation(id: Int64, standIn: String, title: String) async throws -> Bool {
        try await transaction("retitling a conversation") { conn in
            try await conn.count("""
                WITH changed AS (UPDATE conversation SET title = \(title) WHERE id = \(id) AND title = \(standIn) AND \(title) <> '' RETURNING 1)
                SELECT count(*) FROM changed
                """, logger: self.logger) > 0
        }
    }

    public func uncapturedConversationTitles() async throws -> [(conversationID: Int64, title: String, latestBatch: Int64)] {
        try await rows("finding retitled conversations", """
            SELECT c.id, c.title, (SELECT max(id) FROM capture_batch WHERE conversation_id = c.id) FROM conversation c
            WHERE EXISTS (SELECT 1 FROM capture_batch b WHERE b.conversation_id = c.id)
              AND NOT EXISTS (SELECT 1 FROM capture_batch b WHERE b.conversation_id = c.id AND b.conversation_title = c.title)
            ORDER BY c.id
            """, as: (Int64, String, Int64).self).map { (conversationID: $0.0, title: $0.1, latestBatch: $0.2) }
    }

    // MARK: Carriage

    public func messageID(identityKey: ContentHash, sentLocal: LocalDateTime) async throws -> Int64? {
        try await column("finding a record", """
            SELECT id FROM message WHERE sent_local = \(sentLocal.description) AND identity_key = \(identityKey.hex)
            """, as: Int64.self).first
    }

    public func recordCarriage(_ c: Carriage) async throws {
        try await transaction("recording a carriage") { conn in
            try await conn.run("""
                INSERT INTO carriage (batch_id, carrier_message_id, forwarded_at, attachment, member)
                VALUES (\(c.batchID), \(c.carrierMessageID), \(c.forwardedAt), \(c.attachment), \(c.member)) ON CONFLICT (batch_id) DO NOTHING
                """, logger: self.logger)
        }
    }

    public func carriage(batchID: Int64) async throws -> Carriage? {
        try await rows("reading a carriage", """
            SELECT batch_id, carrier_message_id, forwarded_at, attachment, member FROM carriage WHERE batch_id = \(batchID)
            """, as: (Int64, Int64, Int64, String, String?).self).first.map {
            Carriage(batchID: $0.0, carrierMessageID: $0.1, forwardedAt: $0.2, attachment: $0.3, member: $0.4)
        }
    }

    public func carriedBatches(carrierMessageID: Int64) async throws -> [Carriage] {
        try await rows("reading carriages", """
            SELECT batch_id, carrier_message_id, forwarded_at, attachment, member FROM carriage WHERE carrier_message_id = \(carrierMessageID) ORDER BY batch_id
            """, as: (Int64, Int64, Int64, String, String?).self).map {
            Carriage(batchID: $0.0, carrierMessageID: $0.1, forwardedAt: $0.2, attachment: $0.3, member: $0.4)
        }
    }

    // MARK: Live capture

    public func liveTransactionDone(source: String, id: String) async throws -> Bool {
        try await transaction("checking a live transaction") { conn in
            try await conn.count("SELECT count(*) FROM live_transaction WHERE source = \(source) AND txn_id = \(id)", logger: self.logger) > 0
        }
    }

    public func recordLiveTransaction(source: String, id: String, events: Int, batches: [Int64]) async throws {
        try await transaction("recording a live transaction") { conn in
            try await conn.run("""
                INSERT INTO live_transaction (source, txn_id, events, batches, received_at)
                VALUES (\(source), \(id), \(Int32(events)), \(batches.map(String.init).joined(separator: ",")), \(Timestamp.iso(millis: Timestamp.nowMillis())))
                ON CONFLICT DO NOTHING
                """, logger: self.logger)
        }
    }
}
