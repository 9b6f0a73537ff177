import Archive
import Crypto
import Foundation
import RecordkeeperCore

/// An addressee's particulars: only what a notice needs (CUSTODY.md §2 `addressee_pii`: no phone,
/// e-mail, date of birth or SSN). The privacy inventory lists exactly these fields.
public struct AddresseeParticulars: Codable, Sendable, Equatable {
    public var name: String
    public var addressLines: [String]
    public var postcode: String
    public init(name: String, addressLines: [String], postcode: String) { self.name = name; self.addressLines = addressLines; self.postcode = postcode }

    public enum CodingKeys: String, CodingKey, CaseIterable { case name, addressLines = "address_lines", postcode }

    /// What the inventory says of each field (a new field does not compile without its entry).
    public static func purpose(of field: CodingKeys) -> (description: String, purpose: String) {
        switch field {
        case .name: ("the addressee's name as the item's label or advance data gives it", "addressing the notice of detention")
        case .addressLines: ("the addressee's street address, one entry per line", "delivering the notice of detention")
        case .postcode: ("the addressee's postal code", "delivering the notice of detention")
        }
    }

    /// Shown to a role that does not need the particulars: nothing of them, not even their length.
    public static let mask = "•••"
}

/// The key addressee particulars are sealed with (AES-256-GCM). It lives outside the database:
/// `$RECORDKEEPER_PII_KEY_FILE`, else `keys/addressee.key` in the data directory, so a copy of the
/// database alone (a backup, a dump, a stolen disk image of the database server) does not reveal
/// them. Several instances on one PostgreSQL database share one key file.
public struct AddresseeKey: Sendable {
    public static let environmentVariable = "RECORDKEEPER_PII_KEY_FILE"
    let key: SymmetricKey
    /// The first 16 hex digits of the key's SHA-256: which key sealed a record.
    public let id: String

    public init(_ key: SymmetricKey) {
        self.key = key
        self.id = String(key.withUnsafeBytes { ContentHash.of(Data($0)).hex }.prefix(16))
    }

    public static func location(dataDirectory: URL, environment: [String: String] = ProcessInfo.processInfo.environment) -> URL {
        if let path = environment[environmentVariable], !path.isEmpty { return URL(fileURLWithPath: path) }
        return dataDirectory.appendingPathComponent("keys/addressee.key")
    }

    /// Reads the key (32 bytes, base64, owner-only); with `create`, makes one when none exists.
    public static func load(at url: URL, create: Bool) throws -> AddresseeKey {
        do {
            if let raw = try KeyFile.read(url) { return AddresseeKey(SymmetricKey(data: raw)) }
            guard create else {
                throw CustodyError(.refused, "the addressee key is missing (\(url.path)); restore it from the key backup (set \(environmentVariable) to its path): "
                                    + "without it the sealed particulars cannot be read")
            }
            let key = SymmetricKey(size: .bits256)
            return try KeyFile.create(url, key: key.withUnsafeBytes { Data($0) }) ? AddresseeKey(key) : try load(at: url, create: false)
        } catch let f as KeyFile.Failure {
            switch f {
            case .tooOpen(let mode): throw CustodyError(.refused, "the addressee key at \(url.path) can be read by others (mode \(mode)); make it owner-only: chmod 600 \(url.path)")
            case .notOwned(let uid): throw CustodyError(.refused, "the addressee key at \(url.path) belongs to another user (uid \(uid)); it must be this account's own")
            case .malformed: throw CustodyError(.invalid, "the addressee key at \(url.path) is not 32 bytes in base64")
            case .unwritable(let e): throw CustodyError(.invalid, "cannot create the addressee key at \(url.path) (errno \(e))")
            }
        }
    }

    public func seal(_ p: AddresseeParticulars) throws -> SealedAddressee {
        let e = JSONEncoder()
        e.outputFormatting = .sortedKeys
        let box = try AES.GCM.seal(try e.encode(p), using: key).combined!
        return SealedAddressee(keyID: id, sealed: box.base64EncodedString(), sealedSHA256: ContentHash.of(box).hex)
    }

    public func unseal(_ s: SealedAddressee) throws -> AddresseeParticulars {
        guard s.keyID == id else {
            throw CustodyError(.refused, "these particulars were sealed with key \(s.keyID); this instance has key \(id) (set \(Self.environmentVariable) to the archive's key file)")
        }
        guard let box = Data(base64Encoded: s.sealed) else { throw CustodyError(.invalid, "the sealed particulars are damaged (not base64)") }
        do {
            return try JSONDecoder().decode(AddresseeParticulars.self, from: try AES.GCM.open(AES.GCM.SealedBox(combined: box), using: key))
        } catch {
            throw CustodyError(.invalid, "the sealed particulars do not open with this key: they were altered or sealed with another key")
        }
    }

}

/// Detentions and the addressee notice queue (F5, F23, R8): an officer detains an item after its
/// inspection; a notice clerk records the notice with the addressee's particulars (sealed); the
/// answer and the disposition follow; the particulars are readable only by a notice clerk or a
/// privacy officer (each read audited), masked for everyone else, and purged on their retention
/// with a tombstone and a disposal certificate.
public struct DetentionService: Sendable {
    public typealias Store = any CustodyStore & CustodyPrivacyStore
    let store: Store
    let keyFile: URL
    let now: @Sendable () -> Int64

    public init(store: Store, keyFile: URL, now: @escaping @Sendable () -> Int64 = { Timestamp.nowMillis() }) {
        self.store = store
        self.keyFile = keyFile
        self.now = now
    }

    public static let readerRoles: [UserRole] = [.noticeClerk, .privacyOfficer]
    /// A notice's answer is due this many days after it is sent unless the clerk says otherwise.
    public static let defaultAnswerDays = 30

    static func vocabulary(_ value: String, _ allowed: [String], _ what: String) throws -> String {
        let v = value.trimmingCharacters(in: .whitespaces).lowercased()
        guard !v.isEmpty else { throw CustodyError(.invalid, "REQUIRED_MISSING: \(what)") }
        guard allowed.contains(v) else { throw CustodyError(.invalid, "VALUE_UNKNOWN: \(what) \(value) is not one of \(allowed.joined(separator: ", "))") }
        return v
    }

    public func detain(_ item: String, violation: String, reason: String, contents: String, actor: String) async throws -> StoredDetention {
        let violation = try Self.vocabulary(violation, SeizureService.Violation.allCases.map(\.rawValue), "violation type")
        return try await store.detain(DetentionDraft(s10: try InspectionService.s10(item), violationType: violation,
                                                     reasonCode: try Self.vocabulary(reason, StoredDetention.reasons, "reason"),
                                                     contentsCategory: try Self.vocabulary(contents, StoredDetention.contentsCategories, "contents category"),
                                                     atMillis: now()), actor: actor)
    }

    /// Records the notice with the addressee's particulars, sealed; returns the notice's text,
    /// made from the item's record (never keyed again).
    public func sendNotice(_ detentionID: Int64, to addressee: AddresseeParticulars, answerDays: Int = defaultAnswerDays,
                           actor: String) async throws -> (detention: StoredDetention, notice: String) {
        var p = addressee
        p.name = p.name.trimmingCharacters(in: .whitespacesAndNewlines)
        p.addressLines = p.addressLines.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
        p.postcode = p.postcode.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !p.name.isEmpty, !p.addressLines.isEmpty, !p.postcode.isEmpty else {
            throw CustodyError(.invalid, "REQUIRED_MISSING: a notice needs the addressee's name, address and postcode")
        }
        guard (p.name + p.addressLines.joined() + p.postcode).count <= 1000, p.addressLines.count <= 6 else {
            throw CustodyError(.invalid, "VALUE_UNKNOWN: an addressee is a name, up to 6 address lines and a postcode")
        }
        guard (1...365).contains(answerDays) else { throw CustodyError(.invalid, "VALUE_UNKNOWN: the answer period is 1 to 365 days") }
        let (held, _) = try await store.addresseeCounts()
        // A new key only for the first particulars: with sealed records about, a missing key is lost, not new.
        let key = try AddresseeKey.load(at: keyFile, create: held == 0)
        let at = now()
        let d = try await store.recordNotice(detentionID: detentionID, addressee: try key.seal(p), responseDueAtMillis: at + Int64(answerDays) * 86_400_000,
                                             atMillis: at, actor: actor)
        return (d, Self.notice(d, to: p))
    }

    static func notice(_ d: StoredDetention, to p: AddresseeParticulars) -> String {
        """
        NOTICE OF DETENTION
        \(p.name)
        \(p.addressLines.joined(separator: "\n"))
        \(p.postcode)

        Item \(d.s10) addressed to you was detained on \(Timestamp.iso(millis: d.detainedAtMillis)) (\(d.reasonCode.replacingOccurrences(of: "_", with: " ")); \
        contents: \(d.contentsCategory.replacingOccurrences(of: "_", with: " "))).
        Answer by \(d.responseDueAtMillis.map { Timestamp.iso(millis: $0) } ?? "?"): consent to abandon the item, or petition for its release.
        Without an answer by then the item is treated as abandoned.
        Reference: detention \(d.id)

        """
    }

    public func recordResponse(_ detentionID: Int64, response: String, actor: String) async throws -> StoredDetention {
        try await store.recordResponse(detentionID: detentionID, response: try Self.vocabulary(response, StoredDetention.responses, "response"),
                                       atMillis: now(), actor: actor)
    }

    /// `directory`, when given, makes the witness of a destruction a registered user.
    public func dispose(_ detentionID: Int64, disposition: String, witness: String?, actor: String,
                        directory: (any ArchiveStore)? = nil) async throws -> StoredDetention {
        let disposition = try Self.vocabulary(disposition, StoredDetention.dispositions, "disposition")
        if disposition == "abandoned_destroyed", let directory, let w = witness?.trimmingCharacters(in: .whitespaces), !w.isEmpty,
           try await directory.user(name: w) == nil {
            throw CustodyError(.invalid, "WITNESS_REQUIRED: the witness \(w) is not a registered user")
        }
        return try await store.disposeDetention(detentionID: detentionID, disposition: disposition, witness: witness, atMillis: now(), actor: actor)
    }

    /// Why particulars are read in clear: a closed list, so the audit log never holds free text
    /// (which could itself carry personal data).
    public static let readPurposes = ["notice", "inquiry", "petition", "correction", "privacy_review", "audit"]

    public enum Addressee: Sendable, Equatable {
        case shown(AddresseeParticulars)
        case masked
        case purged(AddresseeTombstone)
        case none
    }

    /// A detention as `reader` may see it: the particulars in clear for a notice clerk or privacy
    /// officer (the read audited, with `purpose`, one of `readPurposes`), masked for anyone else.
    public func view(_ detentionID: Int64, reader: UserAccount?, actor: String, purpose: String) async throws -> (detention: StoredDetention, addressee: Addressee) {
        guard let d = try await store.detention(id: detentionID) else { throw CustodyError(.notFound, "no detention \(detentionID)") }
        let mayRead = reader.map { r in Self.readerRoles.contains { r.has($0) } } ?? false
        let purpose = purpose.trimmingCharacters(in: .whitespaces).lowercased()
        if mayRead {
            guard Self.readPurposes.contains(purpose) else {
                throw CustodyError(.invalid, purpose.isEmpty ? "REQUIRED_MISSING: say why you read the particulars (purpose: \(Self.readPurposes.joined(separator: ", ")))"
                                                            : "VALUE_UNKNOWN: purpose \(purpose) is not one of \(Self.readPurposes.joined(separator: ", "))")
            }
        }
        guard mayRead else {
            switch try await store.addresseeStatus(detentionIDs: [detentionID])[detentionID] ?? .none {
            case .held: return (d, .masked)
            case .none: return (d, .none)
            case .purged:
                guard case .purged(let t) = try await store.readAddressee(detentionID: detentionID, purpose: purpose, actor: actor) else { return (d, .none) }
                return (d, .purged(t))
            }
        }
        switch try await store.readAddressee(detentionID: detentionID, purpose: purpose, actor: actor) {
        case .sealed(let s): return (d, .shown(try AddresseeKey.load(at: keyFile, create: false).unseal(s)))
        case .purged(let t): return (d, .purged(t))
        case .none: return (d, .none)
        }
    }

    // MARK: - Retention and purge

    public func setRetention(days: Int, reason: String, actor: String) async throws {
        guard (1...3650).contains(days) else { throw CustodyError(.invalid, "VALUE_UNKNOWN: a retention is 1 to 3650 days") }
        guard !reason.trimmingCharacters(in: .whitespaces).isEmpty else { throw CustodyError(.invalid, "REQUIRED_MISSING: say why the retention changes") }
        try await store.setAddresseeRetentionDays(days, reason: reason, atMillis: now(), actor: actor)
    }

    public struct PurgeResult: Sendable, Encodable {
        public var dryRun: Bool
        public var retentionDays: Int
        /// Particulars of detentions disposed of at or before this were (or would be) purged.
        public var cutoff: String
        public var due: [AddresseeTombstone]
        public var purge: StoredAddresseePurge?
    }

    /// Purges the particulars whose detention was disposed of `retentionDays` or more ago.
    public func purge(actor: String, dryRun: Bool) async throws -> PurgeResult {
        let days = try await store.addresseeRetentionDays()
        let at = now()
        let cutoff = at - Int64(days) * 86_400_000
        let due = try await store.addresseesDue(disposedBy: cutoff)
        guard !dryRun else { return PurgeResult(dryRun: true, retentionDays: days, cutoff: Timestamp.iso(millis: cutoff), due: due, purge: nil) }
        let purge = try await store.purgeAddressees(disposedBy: cutoff, retentionDays: days, atMillis: at, actor: actor)
        var done: [AddresseeTombstone] = []
        if let purge { done = try await store.addresseeTombstones(purgeID: purge.id) }
        return PurgeResult(dryRun: false, retentionDays: days, cutoff: Timestamp.iso(millis: cutoff), due: done, purge: purge)
    }

    // MARK: - Privacy inventory (feeds a privacy threshold analysis)

    public struct Inventory: Sendable, Encodable {
        public struct Element: Sendable, Encodable {
            public var field: String
            public var description: String
            public var purpose: String
        }
        public var system = "Recordkeeper custody: detention notice queue (addressee particulars)"
        public var elements: [Element]
        public var notCollected = ["telephone", "e-mail", "date of birth", "SSN or other national identifier", "free-text description of contents"]
        public var retention: String
        public var retentionDays: Int
        public var access: [String]
        public var accessNote = "other roles see the particulars masked; every read is written to the hash-chained audit log (custody.pii.read)"
        public var storage: String
        public var keyID: String?
        public var recordsHeld: Int
        public var recordsPurged: Int
        public var purges: Int
        public var generatedAt: String
    }

    public func inventory() async throws -> Inventory {
        let days = try await store.addresseeRetentionDays()
        let (held, purged) = try await store.addresseeCounts()
        let keyID = FileManager.default.fileExists(atPath: keyFile.path) ? (try? AddresseeKey.load(at: keyFile, create: false))?.id : nil
        return Inventory(elements: AddresseeParticulars.CodingKeys.allCases.map { f in
            let p = AddresseeParticulars.purpose(of: f)
            return Inventory.Element(field: f.rawValue, description: p.description, purpose: p.purpose)
        }, retention: "purged \(days) days after the detention's disposition, with a tombstone (SHA-256 of what was sealed) and a disposal certificate",
           retentionDays: days, access: Self.readerRoles.map(\.rawValue),
           storage: "AES-256-GCM sealed per record with a key kept outside the database (\(AddresseeKey.environmentVariable)); the database holds only the sealed box and its SHA-256",
           keyID: keyID, recordsHeld: held, recordsPurged: purged, purges: try await store.addresseePurges().count, generatedAt: Timestamp.iso(millis: now()))
    }

    // MARK: - R-DET: the detention and notice queue

    public struct QueueReport: Sendable, Encodable {
        public struct Row: Sendable, Encodable {
            public var detention: Int64
            public var s10: String
            public var detainedAt: String
            public var reason: String
            public var contents: String
            public var ageHours: Double
            public var noticeSentAt: String?
            public var responseDueAt: String?
            public var response: String?
        }
        public var detentions: Int
        public var open: Int
        /// Detained, no notice sent yet: oldest first.
        public var noticePending: [Row]
        /// Notice sent, answer period over, not disposed of.
        public var pastDue: [Row]
        public var disposed: Int
        public var definition = """
            R-DET over detentions decided in [from, to) or still open at to: notice pending = open detentions without a notice by as_of, \
            with their age (as_of - detained_at); past due = open detentions whose notice's response_due_at < as_of. Open = no disposition by as_of.
            """
    }

    public static func queue(_ store: any CustodyPrivacyStore, from: Int64, to: Int64, asOf: Int64) async throws -> QueueReport {
        let all = try await store.detentions(from: from, to: to).filter { $0.detainedAtMillis <= asOf }
        func row(_ d: StoredDetention) -> QueueReport.Row {
            QueueReport.Row(detention: d.id, s10: d.s10, detainedAt: Timestamp.iso(millis: d.detainedAtMillis), reason: d.reasonCode, contents: d.contentsCategory,
                            ageHours: Double(asOf - d.detainedAtMillis) / 3_600_000, noticeSentAt: d.noticeSentAtMillis.map { Timestamp.iso(millis: $0) },
                            responseDueAt: d.responseDueAtMillis.map { Timestamp.iso(millis: $0) }, response: d.response)
        }
        let open = all.filter { d in d.disposedAtMillis.map { $0 > asOf } ?? true }
        let pending = open.filter { d in d.noticeSentAtMillis.map { $0 > asOf } ?? true }.sorted { $0.detainedAtMillis < $1.detainedAtMillis }
        let pastDue = open.filter { d in
            guard let sent = d.noticeSentAtMillis, sent <= asOf, let due = d.responseDueAtMillis else { return false }
            return due < asOf
        }
        return QueueReport(detentions: all.count, open: open.count, noticePending: pending.map(row), pastDue: pastDue.map(row),
                           disposed: all.count - open.count)
    }
}
