import Archive
import Foundation
import RecordkeeperCore

/// Who is who across platforms: known external parties and their identities (custodians'
/// identities are their registered accounts), and the internal and external participants of
/// each conversation.
public struct IdentityService: Sendable {
    public let archive: ArchiveHandle
    var store: any ArchiveStore { archive.store }

    public init(archive: ArchiveHandle) { self.archive = archive }

    public func addParty(name: String, organization: String?, note: String?, actor: String) async throws -> ExternalParty {
        try await RecordsAccess(store: store).require(.recordsOfficer, actor: actor, action: "party.add", target: "party")
        let party = try await store.createParty(name: name, organization: organization, note: note, actor: actor)
        try await store.appendAudit(AuditDraft(actor: actor, action: "party.add", target: "party:\(party.id)",
                                               detail: ["name": party.name, "organization": party.organization ?? ""]))
        return party
    }

    public func addAccount(partyID: Int64, platform: String, address: String, actor: String) async throws -> PlatformAccount {
        guard !address.trimmingCharacters(in: .whitespaces).isEmpty else { throw ArchiveError(.invalid, "give the account's --address") }
        guard !platform.trimmingCharacters(in: .whitespaces).isEmpty else { throw ArchiveError(.invalid, "give the account's --platform") }
        try await RecordsAccess(store: store).require(.recordsOfficer, actor: actor, action: "party.account", target: "party:\(partyID)")
        let account = try await store.addPartyAccount(partyID: partyID, platform: platform, address: address)
        try await store.appendAudit(AuditDraft(actor: actor, action: "party.account", target: "party:\(partyID)",
                                               detail: ["platform": account.platform, "address": account.normalized]))
        return account
    }

    public func parties() async throws -> [ExternalParty] { try await store.parties() }

    public func party(id: Int64) async throws -> ExternalParty {
        guard let p = try await store.party(id: id) else { throw ArchiveError(.notFound, "no party \(id); `recordkeeper party list` lists them") }
        return p
    }

    /// The people in a conversation, internal and external (a read of the records: audited).
    public func participants(conversationID: Int64, actor: String) async throws -> [ResolvedParticipant] {
        guard try await store.conversation(id: conversationID) != nil else {
            throw ArchiveError(.notFound, "no conversation with id \(conversationID); `recordkeeper show conversations` lists them")
        }
        let list = try await store.participants(conversationID: conversationID)
        try await store.appendReadAudit(AuditDraft(actor: actor, action: "show.participants", target: "conversation:\(conversationID)",
                                               detail: ["count": String(list.count)]))
        return list
    }

    /// Who a name in a search means: a custodian (by e-mail) or a known party (by name or id).
    public func owner(named who: String) async throws -> IdentityOwner? {
        let trimmed = who.trimmingCharacters(in: .whitespaces)
        if trimmed.contains("@"), !trimmed.hasPrefix("@"), let c = try await store.custodian(email: trimmed) { return .custodian(email: c.email) }
        let parties = try await store.parties()
        if let id = Int64(trimmed.drop { $0 == "#" }), trimmed.hasPrefix("#"), parties.contains(where: { $0.id == id }) { return .party(id: id) }
        let matches = parties.filter { $0.name.caseInsensitiveCompare(trimmed) == .orderedSame }
        return matches.count == 1 ? .party(id: matches[0].id) : nil
    }
}
