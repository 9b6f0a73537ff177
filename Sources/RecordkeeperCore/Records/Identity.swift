import Foundation

/// Who a platform identity belongs to: one of the organisation's custodians, or a known
/// external party (a contractor, a counterpart at another agency, a vendor).
public enum IdentityOwner: Sendable, Hashable, Codable {
    case custodian(email: String)
    case party(id: Int64)
}

/// The register of platform identities (phone numbers however written, e-mail addresses,
/// Wickr, Slack, Telegram, Matrix and Teams ids, display-name handles) and whose each one is.
///
/// One lookup rule for everything that asks "who sent this?": retention (a record follows the
/// role its sender held), holds (what a custodian sent into other custodians' chats), and the
/// participants of a conversation (internal or external).
public struct IdentityDirectory: Sendable {
    private var exact: [String: IdentityOwner] = [:]
    private var phones: [(String, IdentityOwner)] = []
    private var handles: [String: IdentityOwner] = [:]
    private var cache: [String: IdentityOwner?] = [:]

    /// `entries`: each registered account's platform, its normalised address
    /// (`AccountAddress.normalize`) and its owner. Custodians' accounts should come first: a
    /// number registered to both a custodian and a party resolves to the custodian.
    public init(entries: [(platform: String, normalized: String, owner: IdentityOwner)]) {
        for e in entries {
            if e.normalized.hasPrefix("tel:") { phones.append((e.normalized, e.owner)) }
            else if e.normalized.contains("@"), !e.normalized.hasPrefix("@") && !e.normalized.contains(":") {
                if exact[e.normalized] == nil { exact[e.normalized] = e.owner }
            } else {
                let key = e.platform.lowercased() + "\u{0}" + e.normalized
                if handles[key] == nil { handles[key] = e.owner }
            }
        }
    }

    public var isEmpty: Bool { exact.isEmpty && phones.isEmpty && handles.isEmpty }

    /// The owner of a message's sender: first by the platform's id as written (`senderRaw`: a
    /// number, an address, a Slack or Telegram user id, a Matrix id), then by the display name
    /// registered as a handle on that platform.
    public mutating func owner(sender: String?, senderRaw: String?, platform: String) -> IdentityOwner? {
        guard !isEmpty, let first = senderRaw ?? sender else { return nil }
        let cacheKey = platform + "\u{0}" + first + "\u{0}" + (sender ?? "")
        if let hit = cache[cacheKey] { return hit }
        var found = lookup(first, platform: platform)
        if found == nil, let display = sender, display != first { found = lookup(display, platform: platform) }
        if cache.count < 50_000 { cache[cacheKey] = found }
        return found
    }

    private func lookup(_ written: String, platform: String) -> IdentityOwner? {
        let n = AccountAddress.normalize(written)
        if let hit = exact[n] ?? handles[platform.lowercased() + "\u{0}" + n] { return hit }
        if n.hasPrefix("tel:") { return phones.first { AccountAddress.same($0.0, n) }?.1 }
        return nil
    }

    /// The custodian a sender resolves to, if any (parties ignored).
    public mutating func custodian(sender: String?, senderRaw: String?, platform: String) -> String? {
        if case .custodian(let email) = owner(sender: sender, senderRaw: senderRaw, platform: platform) { return email }
        return nil
    }
}
