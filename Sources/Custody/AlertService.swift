import Archive
import Foundation
import RecordkeeperCore

/// The custody alerts (CUSTODY.md §3 "Alerts", P4): computed from the records at the moment they
/// are asked for, so an alert can never be missed by a job that did not run — the page banner, the
/// API and `custody alerts` all read this. A seizure not yet in SEACATS escalates with its clock:
/// the seizing officer at +12 h, the supervisor at +20 h, the port director at +24 h (overdue).
public struct AlertService: Sendable {
    let store: any CustodyStore

    public init(store: any CustodyStore) { self.store = store }

    /// How far back the alerts look: seizures and targets of the last `lookbackDays`, containers
    /// of the last two days.
    public func alerts(asOf: Int64, lookbackDays: Int = 30, graceHours: Int = 48, openContainerHours: Int = 12) async throws -> [CustodyAlert] {
        let hour: Int64 = 3_600_000
        let since = asOf - Int64(lookbackDays) * 24 * hour
        var out: [CustodyAlert] = []
        // Every seizure not in SEACATS, however old: the most overdue matter most (F6).
        for z in try await store.seizures(seizedFrom: Int64.min, to: asOf + 1) where z.seacatsRecordedAtMillis == nil || z.seacatsRecordedAtMillis! > asOf {
            let age = asOf - z.seizedAtMillis
            let level: (String, String, String)? = age > 24 * hour ? ("critical", "port-director", "overdue: not in SEACATS 24 hours after the seizure")
                : age >= 20 * hour ? ("high", "supervisor", "4 hours or less left to enter it in SEACATS")
                : age >= 12 * hour ? ("warning", "seizing-officer", "not in SEACATS 12 hours after the seizure")
                : nil
            guard let (severity, audience, text) = level else { continue }
            out.append(CustodyAlert(kind: "seacats", severity: severity, audience: audience, subject: "seizure \(z.id)", s10: z.s10,
                                    since: Timestamp.iso(millis: z.seizedAtMillis), deadline: Timestamp.iso(millis: z.deadlineAtMillis),
                                    message: "Seizure \(z.id) (\(z.s10), form \(z.form6051S), by \(z.seizingOfficer)): \(text)"))
        }
        let np = try await ReceiptService(store: store).notPresented(from: since, to: asOf + 1, asOf: asOf, graceHours: graceHours)
        for row in np.notPresented {
            out.append(CustodyAlert(kind: "not-presented", severity: "warning", audience: "targeter", subject: "target \(row.s10)", s10: row.s10,
                                    since: row.dueAt, deadline: nil,
                                    message: "\(row.s10) (\(row.rule)) was expected by \(row.expectedArrivalAt ?? "?") and is not presented after the \(graceHours) h grace; ask the carrier again"))
        }
        let aging = try await InspectionService(store: store).aging(from: asOf - 365 * 24 * hour, to: asOf + 1, asOf: asOf, hours: 72, throughOpenItems: true)
        for item in aging.items {
            out.append(CustodyAlert(kind: "dwell", severity: "warning", audience: "supervisor", subject: "item \(item.s10)", s10: item.s10,
                                    since: item.receivedAt, deadline: nil,
                                    message: "\(item.s10) has been in custody \(Int(item.heldHours)) h at \(item.location ?? "?") (longer than allowed there)\(item.inspected ? "" : ", not inspected")"))
        }
        for p in try await store.presentations(from: asOf - 48 * hour, to: asOf + 1) {
            if let closed = p.closedAtMillis, closed <= asOf, p.difference != 0 {
                out.append(CustodyAlert(kind: "container-count", severity: "warning", audience: "supervisor", subject: "container \(p.containerID)", s10: nil,
                                        since: Timestamp.iso(millis: closed), deadline: nil,
                                        message: (p.direction == "out" ? "Return batch " : "Container ") + "\(p.containerID) closed with \(p.scannedCount) of \(p.declaredCount) declared (\(p.difference > 0 ? "+" : "")\(p.difference)): \(p.discrepancyNote ?? "")"))
            } else if p.closedAtMillis == nil, asOf - p.presentedAtMillis > Int64(openContainerHours) * hour {
                out.append(CustodyAlert(kind: "container-open", severity: "warning", audience: "supervisor", subject: "container \(p.containerID)", s10: nil,
                                        since: Timestamp.iso(millis: p.presentedAtMillis), deadline: nil,
                                        message: (p.direction == "out" ? "Return batch " : "Container ") + "\(p.containerID) has been open more than \(openContainerHours) h (\(p.scannedCount) of \(p.declaredCount) scanned)"))
            }
        }
        // Referrals the agency has not answered (F7): nobody had to remember to chase them.
        if let referrals = store as? any CustodyReferralStore {
            let limit = Int64(ReferralService.answerDays) * 24 * hour
            for r in try await referrals.referrals(from: since, to: asOf + 1) where r.notifiedAtMillis <= asOf && asOf - r.notifiedAtMillis >= limit {
                let closed = r.closedAtMillis.map { $0 <= asOf } ?? false
                let answered = r.respondedAtMillis.map { $0 <= asOf } ?? false
                guard !closed, !answered else { continue }
                out.append(CustodyAlert(kind: "referral", severity: "warning", audience: "supervisor", subject: "referral \(r.id)", s10: r.s10,
                                        since: Timestamp.iso(millis: r.notifiedAtMillis), deadline: nil,
                                        message: "Referral \(r.id) of \(r.s10) to \(r.agency) (\(r.method)) has no answer after \((asOf - r.notifiedAtMillis) / (24 * hour)) days; chase the agency"))
            }
        }
        let order = ["critical": 0, "high": 1, "warning": 2]
        return out.sorted { (order[$0.severity] ?? 3, $0.since) < (order[$1.severity] ?? 3, $1.since) }
    }
}

public struct CustodyAlert: Sendable, Encodable, Equatable {
    /// seacats, not-presented, dwell, container-count, container-open, referral
    public var kind: String
    /// critical, high, warning
    public var severity: String
    /// Who must act: seizing-officer, supervisor, port-director, targeter.
    public var audience: String
    public var subject: String
    public var s10: String?
    public var since: String
    public var deadline: String?
    public var message: String
}
