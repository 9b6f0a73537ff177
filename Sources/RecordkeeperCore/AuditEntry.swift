import Foundation

/// One entry of the append-only, hash-chained audit log.
///
/// `hash` = SHA-256 over the canonical serialisation of every other field including `previousHash`,
/// so altering, removing or reordering any entry breaks every later link.
public struct AuditEntry: Sendable, Hashable, Codable {
    public var sequence: Int64
    /// UTC, ISO 8601 with milliseconds.
    public var at: String
    /// Who: `cli:<os user>` or an account name.
    public var actor: String
    /// What, dotted: `ingest`, `search`, `show.message`, `verify`…
    public var action: String
    /// On what: `batch:12`, `message:345`, `conversation:3`, `archive`.
    public var target: String
    /// Structured detail as a JSON object string.
    public var detail: String
    public var previousHash: ContentHash
    public var hash: ContentHash

    /// The `previousHash` of the first entry.
    public static let genesis = ContentHash(hex: String(repeating: "0", count: 64))!

    public init(sequence: Int64, at: String, actor: String, action: String, target: String, detail: String,
                previousHash: ContentHash, hash: ContentHash? = nil) {
        self.sequence = sequence
        self.at = at
        self.actor = actor
        self.action = action
        self.target = target
        self.detail = detail
        self.previousHash = previousHash
        self.hash = previousHash
        self.hash = hash ?? computeHash()
    }

    public func computeHash() -> ContentHash {
        var e = CanonicalEncoder(kind: "audit", version: 1)
        e.add("seq", sequence)
        e.add("at", at)
        e.add("actor", actor)
        e.add("action", action)
        e.add("target", target)
        e.add("detail", detail)
        e.add("prev", previousHash.hex)
        return e.hash
    }
}

/// What a caller asks to be audited; the store assigns sequence, time and links.
public struct AuditDraft: Sendable, Hashable {
    public var actor: String
    public var action: String
    public var target: String
    public var detail: [String: String]

    public init(actor: String, action: String, target: String, detail: [String: String] = [:]) {
        self.actor = actor
        self.action = action
        self.target = target
        self.detail = detail
    }

    /// `detail` as a JSON object with sorted keys (stable for hashing).
    public var detailJSON: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? String(decoding: encoder.encode(detail), as: UTF8.self)) ?? "{}"
    }
}

/// Timestamps in the archive's one text form.
public enum Timestamp {
    /// UTC ISO 8601 with milliseconds, e.g. `2026-11-22T11:31:19.123Z`.
    public static func iso(millis: Int64) -> String {
        let seconds = millis / 1000
        let ms = Int(millis % 1000)
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let rem = Int(seconds - days * 86_400)
        let (y, m, d) = CivilDate.civil(dayNumber: Int(days))
        let t = LocalDateTime(year: y, month: m, day: d, hour: rem / 3600, minute: rem / 60 % 60, second: rem % 60)
        let msText = String(ms)
        return t.description + "." + String(repeating: "0", count: 3 - msText.count) + msText + "Z"
    }

    /// UTC ISO 8601 to the second, e.g. `2021-03-01T16:07:12Z` (a message's sent instant).
    public static func iso(seconds: Int64) -> String {
        let text = iso(millis: seconds * 1000)
        return String(text.prefix(19)) + "Z"
    }

    public static func nowMillis() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)) }
}
