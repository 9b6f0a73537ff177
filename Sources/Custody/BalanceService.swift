import Archive
import Foundation
import RecordkeeperCore

/// The daily custody balance (CUSTODY.md §3, R-BAL): what should be in the facility at the end
/// of a day, from the day's flows, against what the day's cycle count saw; every item expected
/// and not seen is listed with who last handled it and where. The container view sets each
/// container's declared count against its scanned one.
public struct BalanceService: Sendable {
    let store: any CustodyStore

    public init(store: any CustodyStore) { self.store = store }

    /// The balance of the UTC day starting at `dayStart` (milliseconds).
    public func balance(dayStart: Int64) async throws -> BalanceReport {
        let dayEnd = dayStart + 86_400_000
        let items = try await store.balanceItems(dayStart: dayStart, dayEnd: dayEnd)
        var report = BalanceReport(day: CivilDate(dayNumber: Int(dayStart.floorDivided(by: 86_400_000))).description)
        var audited = Set<String>()
        for item in items {
            var state = AreaState()
            var seen = false
            for e in item.events {
                if e.atMillis >= dayStart, !state.counted {
                    state.counted = true
                    if state.inArea { report.opening += 1 }
                }
                let wasIn = state.inArea
                state.apply(e)
                if e.type == "AUDIT_SEEN" {
                    if e.atMillis >= dayStart { seen = true; if let l = e.toLocation { audited.insert(l) } }
                    continue
                }
                // A sighting counts only if nothing moved the item after it (an inspection where it
                // stands does not).
                if e.type != "INSPECT_START", e.type != "INSPECT_END" { seen = false }
                guard e.atMillis >= dayStart else { continue }
                switch (e.type, wasIn, state.inArea) {
                case ("RECEIVED", _, _): report.received += 1
                case ("RETURNED_TO_CARRIER", true, _): report.returned += 1
                case ("TO_AGENCY", true, _): report.toAgency += 1
                case ("DESTROYED", true, _): report.destroyed += 1
                case ("TO_LAB", true, false): report.toLab += 1
                case ("FROM_LAB", false, true): report.fromLab += 1
                case (_, true, false) where state.kind == "seized_property": report.toSeizedProperty += 1
                case (_, false, true): report.otherIn += 1
                case (_, true, false): report.otherOut += 1
                default: break
                }
            }
            if !state.counted, state.inArea { report.opening += 1 }
            let last = item.events.last!
            let row = BalanceReport.Row(s10: item.s10, lastHolder: last.actor, lastLocation: state.location, lastEvent: last.type,
                                        lastAt: Timestamp.iso(millis: last.atMillis))
            if state.inArea {
                report.inCustodyAtClose += 1
                if seen { report.countedCount += 1 } else { report.unaccounted.append(row) }
            } else if seen {
                report.seenNotExpected.append(row)
            }
        }
        report.auditedLocations = audited.sorted()
        report.expectedClosing = report.opening + report.received + report.fromLab + report.otherIn - report.returned - report.toAgency - report.destroyed
            - report.toSeizedProperty - report.toLab - report.otherOut
        if audited.isEmpty {
            report.counted = nil
            report.unaccounted = []
        } else {
            report.counted = report.countedCount
            report.discrepancy = report.expectedClosing - report.countedCount
        }
        for p in try await store.presentations(from: dayStart, to: dayEnd) {
            report.containers.append(.init(id: p.id, container: p.containerID, carrier: p.carrier, presentedAt: Timestamp.iso(millis: p.presentedAtMillis),
                                           declared: p.declaredCount, scanned: p.scannedCount, difference: p.difference,
                                           closedAt: p.closedAtMillis.map { Timestamp.iso(millis: $0) }, note: p.discrepancyNote, direction: p.direction))
        }
        report.containersWithDifference = report.containers.filter { $0.difference != 0 }.count
        return report
    }

    /// Where an item is, for the balance: the facility's area is every location but seized
    /// property and the lab; a sighting changes nothing.
    struct AreaState {
        var open = false
        var kind: String?
        var location: String?
        var atLab = false
        var counted = false

        var inArea: Bool { open && !atLab && kind != "seized_property" }

        mutating func apply(_ e: BalanceItem.Event) {
            switch e.type {
            case "RECEIVED": open = true; kind = e.toKind; location = e.toLocation
            case "TO_LAB": atLab = true; location = e.toLocation
            case "FROM_LAB": atLab = false; kind = e.toKind; location = e.toLocation
            case "RETURNED_TO_CARRIER", "TO_AGENCY", "DESTROYED": open = false
            case "AUDIT_SEEN": location = e.toLocation ?? location
            default: if let to = e.toLocation { kind = e.toKind; location = to }
            }
        }
    }
}

public struct BalanceReport: Sendable, Encodable {
    public struct Row: Sendable, Encodable, Equatable {
        public var s10: String
        /// Who handled it last (the actor of its last event).
        public var lastHolder: String
        public var lastLocation: String?
        public var lastEvent: String
        public var lastAt: String
    }
    public struct Container: Sendable, Encodable, Equatable {
        public var id: Int64
        public var container: String
        public var carrier: String
        public var presentedAt: String
        public var declared: Int
        public var scanned: Int
        /// scanned − declared.
        public var difference: Int
        public var closedAt: String?
        public var note: String?
        /// `in`: handed over by the carrier; `out`: a return batch.
        public var direction = "in"
    }

    public var day: String
    public var opening = 0
    public var received = 0
    public var returned = 0
    public var toAgency = 0
    public var destroyed = 0
    public var toSeizedProperty = 0
    public var toLab = 0
    public var fromLab = 0
    /// Entries into and exits from the area by other events (none under the scan rules; listed
    /// so the sum always closes).
    public var otherIn = 0
    public var otherOut = 0
    public var expectedClosing = 0
    /// Items in the area at the day's end by their events (equals expectedClosing).
    public var inCustodyAtClose = 0
    /// Items expected at the close that the day's cycle count saw (nil: no count that day).
    public var counted: Int?
    /// expectedClosing − counted.
    public var discrepancy: Int?
    public var auditedLocations: [String] = []
    /// Expected at the close and not seen by the day's count.
    public var unaccounted: [Row] = []
    /// Seen by the count, but not in the area at the close by their events (moved on after it).
    public var seenNotExpected: [Row] = []
    public var containers: [Container] = []
    public var containersWithDifference = 0
    var countedCount = 0
    public var definition = BalanceReport.definitionText
    public static let definitionText = """
        For the UTC day d: opening = items in the area at d's start; expected closing = opening + received + from lab − returned to carrier − \
        to agency − destroyed − moved to seized property − to lab. The area is every location except seized property and labs. Counted = items \
        expected at the close with an AUDIT_SEEN scan on d after their last other event; discrepancy = expected − counted; unaccounted lists each \
        expected item not counted, with its last holder and location. Containers: each presentation of d, scanned − declared, those handed \
        over by the carrier (in) and the return batches (out).
        """

    enum CodingKeys: String, CodingKey {
        case day, opening, received, returned, toAgency, destroyed, toSeizedProperty, toLab, fromLab, otherIn, otherOut, expectedClosing, inCustodyAtClose,
             counted, discrepancy, auditedLocations, unaccounted, seenNotExpected, containers, containersWithDifference, definition
    }

    init(day: String) { self.day = day }
}

extension Int64 {
    func floorDivided(by d: Int64) -> Int64 { self >= 0 ? self / d : -((-self + d - 1) / d) }
}
