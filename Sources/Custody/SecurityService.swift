import Archive
import Foundation
import RecordkeeperCore

/// Physical security (CUSTODY.md §3 R-SEC, AT7; findings F19, F20; recommendation 5): the daily
/// check of the secure rooms, and the report of what the records say went wrong — items placed
/// in a room that does not lock or is not alarmed, days a secure room was not checked (or was
/// found open), and custody events of seized items without a witness (the rules refuse them, so
/// any here came from outside the service).
public struct SecurityService: Sendable {
    let store: any CustodyStore
    let now: @Sendable () -> Int64

    public init(store: any CustodyStore, now: @escaping @Sendable () -> Int64 = { Timestamp.nowMillis() }) {
        self.store = store
        self.now = now
    }

    /// The kinds of room that must be checked every day.
    public static let checkedKinds: Set<String> = ["enforcement_cage", "seized_property", "registered_cage"]

    public func recordCheck(location: String, day: String, doorLocked: Bool, alarmArmed: Bool, cctvOK: Bool, exceptions: String?,
                            actor: String) async throws -> Bool {
        guard let d = CivilDate(day) else { throw CustodyError(.invalid, "DATE_INVALID: \(day) is not a date (YYYY-MM-DD)") }
        let today = Int(now().floorDivided(by: 86_400_000))
        guard d.dayNumber <= today else { throw CustodyError(.invalid, "DATE_ORDER: \(day) has not begun; a check is recorded on or after its day") }
        let exceptions = exceptions?.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (doorLocked && alarmArmed && cctvOK) || !(exceptions ?? "").isEmpty else {
            throw CustodyError(.invalid, "REQUIRED_MISSING: say what was wrong (--exceptions) when the door, the alarm or the cameras fail the check")
        }
        return try await store.saveSecurityCheck(StoredSecurityCheck(location: location, day: d.description, doorLocked: doorLocked, alarmArmed: alarmArmed,
                                                                     cctvOK: cctvOK, checkedBy: actor, checkedAtMillis: now(),
                                                                     exceptions: exceptions?.isEmpty == true ? nil : exceptions), actor: actor)
    }

    /// R-SEC over the UTC days of [from, to).
    public func report(from: Int64, to: Int64) async throws -> SecurityReport {
        guard from < to else { throw CustodyError(.invalid, "the period's start is not before its end") }
        guard to - from <= 366 * 86_400_000 else { throw CustodyError(.invalid, "VALUE_UNKNOWN: R-SEC covers at most 366 days at a time") }
        let locations = try await store.locations()
        let firstDay = Int(from.floorDivided(by: 86_400_000)), endDay = Int((to - 1).floorDivided(by: 86_400_000)) + 1
        var report = SecurityReport(from: Timestamp.iso(millis: from), to: Timestamp.iso(millis: to))
        let weak = locations.filter { !$0.secured || !$0.alarmed }
        for e in try await store.custodyEvents(from: from, to: to, toLocations: weak.map(\.code)) {
            let l = weak.first { $0.code == e.toLocation }!
            report.heldInWeakLocations.append(.init(s10: e.s10, location: l.code, at: Timestamp.iso(millis: e.atMillis), event: e.type,
                                                    why: [l.secured ? nil : "does not lock", l.alarmed ? nil : "not alarmed"].compactMap { $0 }.joined(separator: ", ")))
        }
        let checks = try await store.securityChecks(fromDay: CivilDate(dayNumber: firstDay).description, toDay: CivilDate(dayNumber: endDay).description)
        let byKey = Dictionary(checks.map { ("\($0.location)|\($0.day)", $0) }, uniquingKeysWith: { a, _ in a })
        for l in locations where Self.checkedKinds.contains(l.kind) {
            for day in firstDay..<endDay {
                let d = CivilDate(dayNumber: day).description
                if let c = byKey["\(l.code)|\(d)"] {
                    if !(c.doorLocked && c.alarmArmed && c.cctvOK) {
                        report.failedChecks.append(.init(location: l.code, day: d, finding: c.exceptions ?? "", checkedBy: c.checkedBy))
                    }
                } else {
                    report.missingChecks.append(.init(location: l.code, day: d, finding: "no check recorded", checkedBy: nil))
                }
            }
        }
        for e in try await store.custodyEventsAfterSeizure(from: from, to: to) where e.type != "AUDIT_SEEN" && !(e.detail ?? "").contains("witness=") {
            report.seizedWithoutWitness.append(.init(s10: e.s10, location: e.toLocation ?? "", at: Timestamp.iso(millis: e.atMillis), event: e.type,
                                                     why: "seized item, no witness"))
        }
        return report
    }
}

public struct SecurityReport: Sendable, Encodable {
    public struct Placement: Sendable, Encodable, Equatable {
        public var s10: String
        public var location: String
        public var at: String
        public var event: String
        public var why: String
    }
    public struct Check: Sendable, Encodable, Equatable {
        public var location: String
        public var day: String
        public var finding: String
        public var checkedBy: String?
    }
    public var from: String
    public var to: String
    public var heldInWeakLocations: [Placement] = []
    public var missingChecks: [Check] = []
    public var failedChecks: [Check] = []
    /// Should be empty: the rules refuse such events.
    public var seizedWithoutWitness: [Placement] = []
    public var definition = SecurityReport.definitionText
    public static let definitionText = """
        Over the UTC days of [from, to): custody events that put an item in a location registered as not locking or not alarmed; for every \
        enforcement cage, registered cage and seized-property room, each day without a security check and each check that found the door, \
        the alarm or the cameras failing; custody events of a seized item after its seizure, other than a sighting, without a witness.
        """
}
