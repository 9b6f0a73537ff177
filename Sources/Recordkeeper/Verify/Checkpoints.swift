import Archive
import Crypto
import Foundation
import RecordkeeperCore

/// The archive's signing key (Ed25519). It lives outside the database:
/// `$RECORDKEEPER_SIGNING_KEY_FILE`, else `keys/signing.key` in the data directory, owner-only, so
/// whoever can write the database cannot sign for the archive. Instances sharing one PostgreSQL
/// database share one key file.
public struct SigningKey: Sendable {
    public static let environmentVariable = "RECORDKEEPER_SIGNING_KEY_FILE"
    let key: Curve25519.Signing.PrivateKey
    /// The first 16 hex digits of the public key's SHA-256.
    public let id: String
    /// The raw 32-byte public key, hex.
    public let publicKeyHex: String

    init(_ key: Curve25519.Signing.PrivateKey) {
        self.key = key
        publicKeyHex = key.publicKey.rawRepresentation.map { String(format: "%02x", $0) }.joined()
        id = Self.id(ofPublicKey: key.publicKey.rawRepresentation)
    }

    public static func id(ofPublicKey raw: Data) -> String { String(ContentHash.of(raw).hex.prefix(16)) }

    public static func location(dataDirectory: URL, environment: [String: String] = ProcessInfo.processInfo.environment) -> URL {
        if let path = environment[environmentVariable], !path.isEmpty { return URL(fileURLWithPath: path) }
        return dataDirectory.appendingPathComponent("keys/signing.key")
    }

    /// Reads the key (the 32-byte private key, base64, owner-only); with `create`, makes one when
    /// none exists.
    public static func load(at url: URL, create: Bool) throws -> SigningKey {
        do {
            if let raw = try KeyFile.read(url) {
                guard let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: raw) else { throw KeyFile.Failure.malformed }
                return SigningKey(key)
            }
            guard create else {
                throw ArchiveError(.refused, "the signing key is missing (\(url.path)); restore it from the key backup, or set \(environmentVariable) to its path")
            }
            let key = Curve25519.Signing.PrivateKey()
            return try KeyFile.create(url, key: key.rawRepresentation) ? SigningKey(key) : try load(at: url, create: false)
        } catch let f as KeyFile.Failure {
            throw f.archiveError("the signing key", at: url, shape: "a 32-byte Ed25519 key in base64")
        }
    }

    func sign(_ text: String) throws -> String {
        try key.signature(for: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}

extension SigningKey: CustomStringConvertible, CustomDebugStringConvertible {
    /// Never the private key, whatever prints it.
    public var description: String { "signing key \(id)" }
    public var debugDescription: String { description }
}

/// What a checkpoint states: the audit chain up to `sequence` ends in `head`, the archive then
/// held `messages` records and `blobs` files, signed at `at` by key `key`, after the checkpoint
/// whose statement hashes to `previous`, vouching for the audit entries named in `vouches`
/// (`batch:12=4811:<hash>`: the capture batch's `ingest` entry, at its sequence, with its hash; or a
/// disposition's execution entry). The statement's text is what is signed;
/// the checkpoints form a chain of their own, so an exported file can be checked without the
/// archive (`scripts/verify_checkpoints.py`).
public struct CheckpointStatement: Sendable, Hashable, Codable {
    public static let header = "recordkeeper checkpoint v1"
    public var sequence: Int64
    public var head: String
    public var messages: Int
    public var blobs: Int
    public var at: String
    public var key: String
    public var previous: String
    public var vouches: [String]

    public var text: String {
        [Self.header, "sequence: \(sequence)", "head: \(head)", "messages: \(messages)", "blobs: \(blobs)", "at: \(at)", "key: \(key)",
         "previous: \(previous)", "vouches: \(vouches.joined(separator: ","))"].joined(separator: "\n") + "\n"
    }

    public var hash: String { ContentHash.of(Data(text.utf8)).hex }

    public static func parse(_ text: String) -> CheckpointStatement? {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard lines.last == "" else { return nil }
        lines.removeLast()
        guard lines.count == 9, lines[0] == header else { return nil }
        var fields: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let r = line.range(of: ": ") else { if line.hasSuffix(":") { fields[String(line.dropLast())] = ""; continue } else { return nil } }
            fields[String(line[..<r.lowerBound])] = String(line[r.upperBound...])
        }
        guard let seq = fields["sequence"].flatMap(Int64.init), let head = fields["head"], let m = fields["messages"].flatMap(Int.init),
              let b = fields["blobs"].flatMap(Int.init), let at = fields["at"], let key = fields["key"], let prev = fields["previous"] else { return nil }
        let vouches = (fields["vouches"] ?? "").split(separator: ",").map(String.init)
        let s = CheckpointStatement(sequence: seq, head: head, messages: m, blobs: b, at: at, key: key, previous: prev, vouches: vouches)
        return s.text == text ? s : nil
    }
}

/// A change of signing key, stated by the archive and signed with the old key.
public struct KeyRotation: Sendable, Hashable {
    public static let header = "recordkeeper key rotation v1"
    public var old: String
    public var new: String
    public var newPublicKey: String
    public var at: String

    public var text: String { [Self.header, "old: \(old)", "new: \(new)", "new_public_key: \(newPublicKey)", "at: \(at)"].joined(separator: "\n") + "\n" }

    public static func parse(_ text: String) -> KeyRotation? {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard lines.count == 6, lines[0] == header, lines[5].isEmpty else { return nil }
        func value(_ i: Int, _ name: String) -> String? { lines[i].hasPrefix(name + ": ") ? String(lines[i].dropFirst(name.count + 2)) : nil }
        guard let o = value(1, "old"), let n = value(2, "new"), let k = value(3, "new_public_key"), let at = value(4, "at") else { return nil }
        let r = KeyRotation(old: o, new: n, newPublicKey: k, at: at)
        return r.text == text ? r : nil
    }
}

/// A signed checkpoint as kept in the audit log and as exported (one JSON object a line).
public struct SignedCheckpoint: Sendable, Hashable, Codable {
    /// The audit entry the checkpoint was recorded as (it comes after the entries it covers).
    public var entry: Int64
    public var statement: String
    public var signature: String
    public var publicKey: String
    /// On the first checkpoint after a key rotation: the rotation statement (`KeyRotation`) and
    /// the old key's signature of it, so a witness sees the old key vouch for the new one.
    public var rotation: String?
    public var rotationSignature: String?
    enum CodingKeys: String, CodingKey { case entry, statement, signature, publicKey = "public_key", rotation, rotationSignature = "rotation_signature" }

    public init(entry: Int64, statement: String, signature: String, publicKey: String, rotation: String? = nil, rotationSignature: String? = nil) {
        self.entry = entry; self.statement = statement; self.signature = signature; self.publicKey = publicKey
        self.rotation = rotation; self.rotationSignature = rotationSignature
    }

    /// Whether this checkpoint's key was vouched for by `previous`'s key: a rotation statement
    /// naming the old key, the new key and its public key, signed by the old key.
    public func keyVouched(by previous: SignedCheckpoint) -> Bool {
        guard let text = rotation, let sig = rotationSignature.flatMap({ bytes(hex: $0) }), let r = KeyRotation.parse(text),
              let old = CheckpointStatement.parse(previous.statement), let new = CheckpointStatement.parse(statement),
              r.old == old.key, r.new == new.key, r.newPublicKey == publicKey,
              let raw = bytes(hex: previous.publicKey), let key = try? Curve25519.Signing.PublicKey(rawRepresentation: raw) else { return false }
        return key.isValidSignature(sig, for: Data(text.utf8))
    }

    /// Whether the signature is the statement's under the public key, and the key is the one the
    /// statement names.
    public var signatureValid: Bool {
        guard let raw = bytes(hex: publicKey), let sig = bytes(hex: signature), let key = try? Curve25519.Signing.PublicKey(rawRepresentation: raw),
              let s = CheckpointStatement.parse(statement), s.key == SigningKey.id(ofPublicKey: raw) else { return false }
        return key.isValidSignature(sig, for: Data(statement.utf8))
    }
}

/// Signs checkpoints into the audit log, exports them for an outside witness, and checks an
/// archive against them (issue 16: tail truncation, a re-forged chain and a fabricated batch are
/// caught).
public struct CheckpointService: Sendable {
    public static let action = "checkpoint"
    /// The target checkpoints are recorded under: theirs alone, so the audit log's target index
    /// finds the newest one at once (under `archive`, an archive that never signed would walk
    /// every search and report read on each capture to learn that it has no checkpoint).
    public static let target = "checkpoints"
    public let archive: ArchiveHandle
    let keyFile: URL

    public init(archive: ArchiveHandle, keyFile: URL? = nil) {
        self.archive = archive
        self.keyFile = keyFile ?? SigningKey.location(dataDirectory: archive.directory.url)
    }

    /// The actions whose entries a checkpoint must vouch for, by the kind of target.
    static func vouchedActions(_ target: String) -> [String] {
        if target.hasPrefix("batch:") { return ["ingest"] }
        if target.hasPrefix("custody-pii-purge:") { return ["custody.pii.purge"] }
        return ["disposition.execute", "transfer.confirm"]
    }
    static let vouchedActionList = ["ingest", "disposition.execute", "transfer.confirm", "custody.pii.purge"]

    /// The newest checkpoint's entry (through the audit log's target index).
    func newestCheckpoint() async throws -> AuditEntry? {
        try await archive.store.auditEntries(AuditFilter(action: Self.action, target: Self.target, limit: 1)).first
    }

    /// The entries matching `filter` recorded after entry `after`, newest first, read a page at a time.
    func entries(_ filter: AuditFilter, after: Int64) async throws -> [AuditEntry] {
        var f = filter
        f.limit = 1000
        var out: [AuditEntry] = []
        while true {
            let page = try await archive.store.auditEntries(f)
            out += page.filter { $0.sequence > after }
            guard page.count == f.limit, let oldest = page.last?.sequence, oldest > after else { return out }
            f.beforeSequence = oldest
        }
    }

    /// Signs the audit chain as it stands and records the checkpoint as an audit entry, one signer
    /// at a time across instances (a lease), so each checkpoint follows the one before it.
    /// `vouching`: the acts this process just wrote and signs for (`batch:12`, `disposition:3`);
    /// each is vouched for by its entry (sequence and hash), so a later entry for the same batch,
    /// written without the key, is not. `createKey`: make the key when the archive has none (the
    /// first checkpoint, or a deliberate replacement); never during capture.
    @discardableResult
    public func sign(vouching targets: [String] = [], reason: String, actor: String, createKey: Bool = false) async throws -> SignedCheckpoint {
        // The counts first, outside the lease (they can take seconds on a large, cold archive).
        let counts = try await archive.store.recordCounts()
        return try await withSigningLease { renew in
            let key = try SigningKey.load(at: keyFile, create: createKey)
            return try await signHoldingLease(key, counts: counts, vouching: targets, reason: reason, actor: actor, rotation: nil, renew: renew)
        }
    }

    /// Runs `body` holding the store's signing lease (one signer at a time across instances);
    /// `body` calls `renew` right before it writes, which fails when the lease was lost meanwhile
    /// (a signer stalled past the lease), so two signers never both follow one checkpoint.
    func withSigningLease<T>(_ body: (_ renew: () async throws -> Void) async throws -> T) async throws -> T {
        let store = archive.store
        let holder = "sign:\(ProcessInfo.processInfo.hostName):\(getpid()):\(UUID().uuidString.prefix(8))"
        // Signing takes milliseconds: a short lease lets the next signer go on soon after one that
        // was killed while holding it (with 5 minutes, a rerun after a crash waited 2 and gave up;
        // found by the crash matrix).
        let ttl: Int64 = 30_000
        let deadline = ContinuousClock.now + .seconds(120)
        while try await !store.acquireLease("checkpoint.sign", holder: holder, ttlMillis: ttl) {
            guard ContinuousClock.now < deadline else { throw ArchiveError(.busy, "another instance has been signing a checkpoint for 2 minutes; try again") }
            try await Task.sleep(for: .milliseconds(20))
        }
        do {
            let value = try await body {
                guard try await store.acquireLease("checkpoint.sign", holder: holder, ttlMillis: ttl) else {
                    throw ArchiveError(.busy, "the signing lease was lost before the checkpoint was written (the signer stalled); nothing was written, sign again")
                }
            }
            try await store.releaseLease("checkpoint.sign", holder: holder)
            return value
        } catch {
            try? await store.releaseLease("checkpoint.sign", holder: holder)
            throw error
        }
    }

    private func signHoldingLease(_ key: SigningKey, counts: (messages: Int, blobs: Int), vouching targets: [String], reason: String, actor: String,
                                  rotation: (statement: String, signature: String)?, renew: () async throws -> Void) async throws -> SignedCheckpoint {
        let store = archive.store
        var vouches: [String] = []
        for t in Set(targets).sorted() {
            // `batch:12` vouches for the batch's newest entry (the one the act just wrote);
            // `batch:12@4811` for entry 4811 exactly (an entry someone checked by hand).
            let parts = t.split(separator: "@", maxSplits: 1).map(String.init)
            let target = parts[0], at = parts.count == 2 ? Int64(parts[1]) : nil
            let wanted = Self.vouchedActions(target)
            guard let e = try await store.auditEntries(AuditFilter(target: target, limit: 1000))
                .first(where: { wanted.contains($0.action) && (at == nil || $0.sequence == at) }) else {
                throw ArchiveError(.notFound, "no \(wanted.joined(separator: " or ")) entry for \(t) in the audit log to vouch for")
            }
            vouches.append("\(target)=\(e.sequence):\(e.hash.hex)")
        }
        guard let last = try await store.auditEntries(AuditFilter(limit: 1)).first else {
            throw ArchiveError(.invalid, "the audit log is empty: there is nothing to sign")
        }
        let previous = try await newestCheckpoint().flatMap(Self.checkpoint)
        let statement = CheckpointStatement(sequence: last.sequence, head: last.hash.hex, messages: counts.messages, blobs: counts.blobs,
                                            at: Timestamp.iso(millis: Timestamp.nowMillis()), key: key.id,
                                            previous: previous.flatMap { CheckpointStatement.parse($0.statement)?.hash } ?? AuditEntry.genesis.hex,
                                            vouches: vouches)
        let text = statement.text
        let signature = try key.sign(text)
        var detail = ["statement": text, "signature": signature, "public_key": key.publicKeyHex, "reason": reason]
        if let previous, let p = CheckpointStatement.parse(previous.statement), p.key != key.id { detail["key_changed_from"] = p.key }
        if let rotation { detail["rotation"] = rotation.statement; detail["rotation_signature"] = rotation.signature }
        try await renew()
        let entry = try await store.appendAudit(AuditDraft(actor: actor, action: Self.action, target: Self.target, detail: detail))
        return SignedCheckpoint(entry: entry.sequence, statement: text, signature: signature, publicKey: key.publicKeyHex,
                                rotation: rotation?.statement, rotationSignature: rotation?.signature)
    }

    /// Signs after an act when the archive signs: its key file exists, or checkpoints were signed
    /// before (a missing key is then an error for the caller to report, and no key is made).
    /// Returns whether it signed.
    /// Whether the archive signs checkpoints (a key file, or a checkpoint already signed).
    public func signs() async throws -> Bool {
        if FileManager.default.fileExists(atPath: keyFile.path) { return true }
        return try await newestCheckpoint() != nil
    }

    @discardableResult
    public func signIfSigning(vouching targets: [String], reason: String, actor: String) async throws -> Bool {
        if !FileManager.default.fileExists(atPath: keyFile.path) {
            guard try await newestCheckpoint() != nil else { return false }
        }
        try await sign(vouching: targets, reason: reason, actor: actor)
        return true
    }

    /// Replaces the signing key: the old key signs a statement naming the new one, the new key file
    /// takes the old one's place (the old private key is gone), and the first checkpoint under the
    /// new key carries the old key's statement, so the archive and a witness see the change vouched
    /// for. Needs the old key.
    public func rotateKey(reason: String, actor: String) async throws -> SignedCheckpoint {
        let counts = try await archive.store.recordCounts()
        // Under the signing lease throughout: no other signer signs between the statement and the
        // first checkpoint under the new key, with either key.
        return try await withSigningLease { renew in
            let old = try SigningKey.load(at: keyFile, create: false)
            let staged = keyFile.deletingLastPathComponent().appendingPathComponent(".\(keyFile.lastPathComponent).new-\(UUID().uuidString.prefix(8))")
            let new = try SigningKey.load(at: staged, create: true)
            let rotation = KeyRotation(old: old.id, new: new.id, newPublicKey: new.publicKeyHex, at: Timestamp.iso(millis: Timestamp.nowMillis()))
            let signature = try old.sign(rotation.text)
            try await renew()
            try await archive.store.appendAudit(AuditDraft(actor: actor, action: "checkpoint.key_rotation", target: "archive",
                                                           detail: ["rotation": rotation.text, "signature": signature, "reason": reason]))
            guard rename(staged.path, keyFile.path) == 0 else {
                try? FileManager.default.removeItem(at: staged)
                throw ArchiveError(.invalid, "cannot put the new signing key in place of \(keyFile.path) (errno \(errno)); the old key still signs")
            }
            return try await signHoldingLease(new, counts: counts, vouching: [], reason: "key rotation: " + reason, actor: actor,
                                              rotation: (rotation.text, signature), renew: renew)
        }
    }

    static func checkpoint(_ e: AuditEntry) -> SignedCheckpoint? {
        guard e.action == action, let d = try? JSONDecoder().decode([String: String].self, from: Data(e.detail.utf8)),
              let statement = d["statement"], let signature = d["signature"], let pub = d["public_key"] else { return nil }
        return SignedCheckpoint(entry: e.sequence, statement: statement, signature: signature, publicKey: pub, rotation: d["rotation"],
                                rotationSignature: d["rotation_signature"])
    }

    /// Whether a checkpoint signed by this archive's own key (the key file, read here) vouches
    /// for exactly this audit entry. False where the key cannot be read.
    public func vouchedByArchiveKey(_ entry: AuditEntry) async throws -> Bool {
        guard let key = try? SigningKey.load(at: keyFile, create: false) else { return false }
        let wanted = "\(entry.target)=\(entry.sequence):\(entry.hash.hex)"
        return try await checkpoints(after: entry.sequence).contains { c in
            c.publicKey == key.publicKeyHex && c.signatureValid && (CheckpointStatement.parse(c.statement)?.vouches ?? []).contains(wanted)
        }
    }

    /// Every checkpoint recorded after audit entry `after`, oldest first.
    public func checkpoints(after: Int64 = 0) async throws -> [SignedCheckpoint] {
        // One that does not decode is kept, empty, for `check` to name as unreadable.
        try await entries(AuditFilter(action: Self.action, target: Self.target), after: after)
            .map { Self.checkpoint($0) ?? SignedCheckpoint(entry: $0.sequence, statement: "", signature: "", publicKey: "") }
            .sorted { $0.entry < $1.entry }
    }

    /// The checkpoints after entry `after` as JSON lines, for a witness to keep.
    public func export(after: Int64 = 0) async throws -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try await checkpoints(after: after).map { String(decoding: try e.encode($0), as: UTF8.self) + "\n" }.joined()
    }

    /// The entry at `sequence`, if the chain reaches it.
    func entry(_ sequence: Int64) async throws -> AuditEntry? {
        try await archive.store.auditEntries(afterSequence: sequence - 1, limit: 1).first.flatMap { $0.sequence == sequence ? $0 : nil }
    }

    /// Checks checkpoints against the archive: each is signed by the key it names, the chain still
    /// reaches its sequence and ends there in its head, and each follows the one before it (the
    /// previous statement's hash; a key change only where the archive recorded one). `source`
    /// names where they came from in the problems (`archive` or the witness file).
    public func check(_ list: [SignedCheckpoint], source: String, witness: Bool) async throws -> [VerificationProblem] {
        var problems: [VerificationProblem] = []
        var previous: CheckpointStatement?
        var previousSigned: SignedCheckpoint?
        var chainEnd: Int64?
        for c in list {
            let item = "checkpoint:\(c.entry)"
            guard let s = CheckpointStatement.parse(c.statement) else {
                problems.append(VerificationProblem(code: "checkpoint_unreadable", item: item, detail: "the checkpoint in \(source) is not a checkpoint statement"))
                continue
            }
            if !c.signatureValid {
                problems.append(VerificationProblem(code: "checkpoint_signature_invalid", item: item,
                                                    detail: "the signature in \(source) does not verify under key \(s.key): the statement was altered or signed by another key"))
            }
            if let p = previous {
                if s.previous != p.hash {
                    problems.append(VerificationProblem(code: "checkpoint_chain_broken", item: item,
                                                        detail: "it does not follow the checkpoint before it in \(source) (entry \(p.sequence)): one was removed or replaced"))
                }
                if s.key != p.key, witness, let before = previousSigned, !c.keyVouched(by: before) {
                    problems.append(VerificationProblem(code: "checkpoint_key_changed", item: item,
                                                        detail: "signed by key \(s.key) where the checkpoint before it was signed by \(p.key), and the old key did not vouch for the new one"))
                }
            }
            previous = s
            previousSigned = c
            if chainEnd == nil { chainEnd = try await archive.store.auditEntries(AuditFilter(limit: 1)).first?.sequence ?? 0 }
            guard let at = try await entry(s.sequence) else {
                problems.append(VerificationProblem(code: "archive_truncated", item: item,
                                                    detail: "the checkpoint (\(source)) covers audit entries up to \(s.sequence); the archive's chain ends at \(chainEnd ?? 0): entries were removed from its end"))
                continue
            }
            if at.hash.hex != s.head {
                problems.append(VerificationProblem(code: "chain_diverges", item: "audit:\(s.sequence)",
                                                    detail: "the checkpoint (\(source), signed \(s.at)) says entry \(s.sequence) hashes to \(s.head.prefix(16))…; the archive's hashes to \(at.hash.hex.prefix(16))…: the chain was rewritten at or before it"))
            }
        }
        return problems
    }

    /// The archive's own checkpoints: each as `check` does; the newest signed by the archive's key
    /// (when this process can read the key file: a chain re-signed with another key is not the
    /// archive's); checkpoints present at all where the archive has a key; and every capture and
    /// disposition entry recorded after the first checkpoint vouched for by one, by its sequence
    /// and hash (an entry chained in by someone without the key never is). Key changes the old key
    /// did not vouch for come back apart: not a problem by themselves (a lost key is replaced so),
    /// but only a witness's copy of the earlier checkpoints can tell whether the chain before the
    /// change was kept.
    public func checkArchive() async throws -> (checked: Int, problems: [VerificationProblem], keyChanges: [String], keyNotChecked: String?) {
        let list = try await checkpoints()
        var problems = try await check(list, source: "archive", witness: false)
        var keyChanges: [String] = []
        for (before, c) in zip(list, list.dropFirst()) {
            guard let p = CheckpointStatement.parse(before.statement), let s = CheckpointStatement.parse(c.statement), p.key != s.key, !c.keyVouched(by: before) else { continue }
            keyChanges.append("the signing key changed at checkpoint \(c.entry) (signed \(s.at)): key \(s.key) after key \(p.key), not vouched for by it; only checkpoints a witness kept from before show the history before it was kept")
        }
        var keyNotChecked: String?
        let key: SigningKey?
        do { key = try SigningKey.load(at: keyFile, create: false) } catch {
            key = nil
            // Only an archive that never signed may lack a key; otherwise say what was not checked.
            if !list.isEmpty { keyNotChecked = "the archive's signing key could not be read here (\((error as? ArchiveError)?.message ?? "\(error)")): checkpoints were checked against the keys they name, not against the archive's" }
        }
        if let key {
            if list.isEmpty {
                problems.append(VerificationProblem(code: "checkpoints_missing", item: "archive",
                                                    detail: "the archive has a signing key (\(key.id)) and no signed checkpoint: they were removed, or the first signing was interrupted (then run `checkpoint sign`)"))
            } else if let newest = list.last.flatMap({ CheckpointStatement.parse($0.statement) }), newest.key != key.id {
                problems.append(VerificationProblem(code: "checkpoint_not_by_archive_key", item: "checkpoint:\(list.last!.entry)",
                                                    detail: "the newest checkpoint is signed by key \(newest.key); the archive's key is \(key.id): the checkpoints were signed by someone else"))
            }
        }
        guard let first = list.first else { return (0, problems, keyChanges, keyNotChecked) }
        var vouched: [String: String] = [:] // target → "sequence:hash" of each entry vouched for
        var vouchedEntries = Set<String>()
        for c in list {
            for v in CheckpointStatement.parse(c.statement)?.vouches ?? [] {
                guard let eq = v.firstIndex(of: "=") else { continue }
                vouched[String(v[..<eq])] = String(v[v.index(after: eq)...])
                vouchedEntries.insert(v)
            }
        }
        for action in Self.vouchedActionList {
            for e in try await entries(AuditFilter(action: action), after: first.entry)
            where e.action == action && !vouchedEntries.contains("\(e.target)=\(e.sequence):\(e.hash.hex)") {
                let other = vouched[e.target].map { " (a checkpoint vouches for another entry of it, \($0.prefix(12))…)" } ?? ""
                let code = e.target.hasPrefix("batch:") ? "batch_not_vouched" : e.target.hasPrefix("custody-pii-purge:") ? "purge_not_vouched" : "disposition_not_vouched"
                problems.append(VerificationProblem(code: code, item: e.target,
                                                    detail: "its \(action) entry \(e.sequence) was never vouched for by a signed checkpoint\(other): written by someone without the signing key, or the act stopped before it signed (check it against its source first, then `checkpoint sign --vouch \(e.target)@\(e.sequence)`)"))
            }
        }
        return (list.count, problems, keyChanges, keyNotChecked)
    }

    /// Reads a witness's file of checkpoints (JSON lines, as `export` writes them).
    public static func read(_ data: Data) throws -> [SignedCheckpoint] {
        var out: [SignedCheckpoint] = []
        for (n, line) in String(decoding: data, as: UTF8.self).split(separator: "\n").enumerated() where !line.trimmingCharacters(in: .whitespaces).isEmpty {
            guard let c = try? JSONDecoder().decode(SignedCheckpoint.self, from: Data(line.utf8)) else {
                throw ArchiveError(.invalid, "line \(n + 1) of the checkpoint file is not a checkpoint (JSON with entry, statement, signature, public_key)")
            }
            out.append(c)
        }
        guard !out.isEmpty else { throw ArchiveError(.invalid, "the checkpoint file holds no checkpoint") }
        return out
    }
}

/// Bytes from hex digits (nil when the text is not hex).
func bytes(hex: String) -> Data? {
    guard hex.count % 2 == 0 else { return nil }
    var out = [UInt8]()
    out.reserveCapacity(hex.count / 2)
    var i = hex.startIndex
    while i < hex.endIndex {
        let j = hex.index(i, offsetBy: 2)
        guard let b = UInt8(hex[i..<j], radix: 16) else { return nil }
        out.append(b)
        i = j
    }
    return Data(out)
}
