import Archive
import Foundation
import RecordkeeperCore

/// The monthly export reminder to custodians of unmanaged accounts (WhatsApp, Signal, Telegram,
/// SMS): what to export, when they last did, and where to send it. One per custodian per month.
public struct ReminderService: Sendable {
    public let archive: ArchiveHandle
    public var policy: CompliancePolicy
    var store: any ArchiveStore { archive.store }

    public init(archive: ArchiveHandle, policy: CompliancePolicy = CompliancePolicy()) {
        self.archive = archive
        self.policy = policy
    }

    public struct Reminder: Sendable, Codable, Hashable {
        public var custodian: String
        public var name: String?
        public var platforms: [String]
        public var subject: String
        public var body: String
        /// Already sent this month (skipped unless forced).
        public var alreadySent: Bool
    }

    public static func period(_ date: Date) -> String { String(Timestamp.iso(millis: Int64(date.timeIntervalSince1970 * 1000)).prefix(7)) }

    /// Who gets a reminder this month, and what it says.
    public func due(asOf: Date = Date(), recordsAddress: String) async throws -> [Reminder] {
        let period = Self.period(asOf)
        let sent = Set(try await store.reminderLog(limit: 100_000).filter { $0.period == period && $0.status == "sent" }.map(\.custodian))
        let activity = try await store.accountActivity().filter { policy.unmanaged[$0.platform] != nil }
        let names = Dictionary(try await store.custodianProfiles().map { ($0.email, $0.name) }, uniquingKeysWith: { a, _ in a })
        var out: [Reminder] = []
        for (custodian, accounts) in Dictionary(grouping: activity, by: \.custodian).sorted(by: { $0.key < $1.key }) {
            let platforms = Array(Set(accounts.map(\.platform))).sorted()
            var lines = ["Hello\((names[custodian] ?? nil).map { " \($0)" } ?? ""),", "",
                         "This is the monthly reminder to hand over the messages on your messaging apps that the agency does not capture itself.",
                         "Federal law (44 U.S.C. 2911) requires a complete copy of any record sent or received on a non-official account to reach an official account within 20 days.", ""]
            for p in platforms {
                let rows = accounts.filter { $0.platform == p }
                let last = rows.compactMap(\.lastCapture).max()
                lines.append("- \(Platform(rawValue: p)?.displayName ?? p) (\(rows.map(\.address).joined(separator: ", "))): last handed over \(last.map { String($0.prefix(10)) } ?? "never"). How: \(policy.unmanaged[p] ?? "export the chats").")
            }
            lines += ["", "Forward the exports to \(recordsAddress), or upload them in Recordkeeper.", "",
                      "Records Management (sent by Recordkeeper; replies reach the records office)"]
            out.append(Reminder(custodian: custodian, name: names[custodian] ?? nil, platforms: platforms,
                                subject: "Monthly message export reminder (\(period))", body: lines.joined(separator: "\n"),
                                alreadySent: sent.contains(custodian)))
        }
        return out
    }

    /// Sends the reminders due (or all, with `force`), logging each attempt and auditing the run.
    public func send(relay: SMTPRelay, from: String, recordsAddress: String, force: Bool = false, asOf: Date = Date(), actor: String) async throws -> [ReminderLogEntry] {
        try await RecordsAccess(store: store).require(.recordsOfficer, actor: actor, action: "reminder.send", target: "reminders")
        let period = Self.period(asOf)
        var log: [ReminderLogEntry] = []
        for r in try await due(asOf: asOf, recordsAddress: recordsAddress) where force || !r.alreadySent {
            let mail = OutgoingMail(from: from, to: [r.custodian], subject: r.subject, body: r.body)
            var entry = ReminderLogEntry(sentAt: Timestamp.iso(millis: Timestamp.nowMillis()), custodian: r.custodian, period: period,
                                         platforms: r.platforms, subject: r.subject, status: "sent", detail: "", actor: actor)
            do {
                // Blocking socket I/O runs on a thread of its own, never on Swift's cooperative pool.
                entry.detail = try await withCheckedThrowingContinuation { (c: CheckedContinuation<String, any Error>) in
                    Thread.detachNewThread { c.resume(with: Result { try SMTPClient.send(mail, via: relay) }) }
                }
            } catch {
                entry.status = "failed"
                entry.detail = "\(error)"
            }
            try await store.logReminder(entry)
            log.append(entry)
        }
        try await store.appendAudit(AuditDraft(actor: actor, action: "reminder.send", target: "reminders", detail: [
            "period": period, "sent": String(log.filter { $0.status == "sent" }.count), "failed": String(log.filter { $0.status == "failed" }.count),
            "relay": "\(relay.host):\(relay.port)"]))
        return log
    }

    public func log(limit: Int = 200) async throws -> [ReminderLogEntry] { try await store.reminderLog(limit: limit) }
}
