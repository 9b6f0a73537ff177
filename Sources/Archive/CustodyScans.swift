import Foundation
import RecordkeeperCore

// Scans that move an item through custody (CUSTODY.md §2 `custody_event`, §3 controls 3, 5 and 7,
// §4.3): receipt into a container's presentation, moves between locations, to and from the lab,
// hand-over to another agency, return to the carrier, and the sightings of a cycle count. Both
// stores read an item's state, ask `CustodyScanRules` what the scan means, and write what it says:
// the rules live here once, the rows in each backend.

/// One scan, as a station or a batch sends it.
public struct CustodyScan: Sendable, Equatable {
    public enum Action: Sendable, Equatable {
        /// The item enters custody at `location`, in `presentation` (a container handed over) if any.
        case receive(location: String, presentation: Int64?)
        case move(to: String)
        /// Seen at `at` during a cycle count (AUDIT mode): moves nothing, but an item found
        /// elsewhere than its record says is now where it was seen.
        case audit(at: String)
        case toLab(lab: String)
        case fromLab(to: String)
        /// Handed to another agency (FDA, USDA, USPIS, HSI, DEA, other): the episode ends.
        case toAgency(agency: String)
        /// Handed back to the carrier: the episode ends. An item never inspected goes back only
        /// with a supervisor other than the actor and a reason.
        case returnToCarrier(carrier: String, supervisor: String?, reason: String?, batch: Int64? = nil)

        /// The custody event the action records.
        public var eventType: String {
            switch self {
            case .receive: "RECEIVED"
            case .move: "MOVED"
            case .audit: "AUDIT_SEEN"
            case .toLab: "TO_LAB"
            case .fromLab: "FROM_LAB"
            case .toAgency: "TO_AGENCY"
            case .returnToCarrier: "RETURNED_TO_CARRIER"
            }
        }

        /// The location the action names, if any.
        public var location: String? {
            switch self {
            case .receive(let l, _), .move(let l), .audit(let l), .toLab(let l), .fromLab(let l): l
            case .toAgency, .returnToCarrier: nil
            }
        }
    }

    public var s10: String
    public var action: Action
    /// A second person, required for every custody event of a seized item except a sighting.
    public var witness: String?
    public var station: String?
    /// The station's id for this scan: a retry with the same id records nothing new.
    public var clientScanID: String
    public var clientTimestampMillis: Int64?
    public var manualEntry: Bool
    /// Server time of the scan.
    public var atMillis: Int64

    public init(s10: String, action: Action, witness: String? = nil, station: String?, clientScanID: String, clientTimestampMillis: Int64? = nil,
                manualEntry: Bool = false, atMillis: Int64) {
        self.s10 = s10; self.action = action; self.witness = witness; self.station = station; self.clientScanID = clientScanID
        self.clientTimestampMillis = clientTimestampMillis; self.manualEntry = manualEntry; self.atMillis = atMillis
    }
}

/// What a scan did.
public enum ScanOutcome: Sendable, Equatable {
    case recorded(StoredCustodyEvent)
    /// The same scan (same client scan id) was recorded before: that event, nothing new.
    case repeated(StoredCustodyEvent)
    /// A receipt of an item in custody already (an open episode): its last event, nothing new.
    case alreadyInCustody(StoredCustodyEvent)
    /// Refused, with a machine-readable code (`NOT_IN_CUSTODY`, `DATE_ORDER`, `WITNESS_REQUIRED`…).
    case refused(ScanRefusal)

    public var event: StoredCustodyEvent? {
        switch self {
        case .recorded(let e), .repeated(let e), .alreadyInCustody(let e): e
        case .refused: nil
        }
    }
}

public struct ScanRefusal: Sendable, Equatable, Error, CustomStringConvertible {
    /// NOT_IN_CUSTODY, UNKNOWN_LOCATION, DATE_ORDER, WITNESS_REQUIRED, REQUIRED_MISSING, SEIZED, DETAINED, REFERRED,
    /// INSPECTION_OPEN, AT_LAB, NOT_AT_LAB, WRONG_LOCATION_KIND, ALREADY_THERE, SCAN_ID_REUSED,
    /// PRESENTATION_CLOSED, UNKNOWN_PRESENTATION, VALUE_UNKNOWN
    public var code: String
    public var message: String
    public init(_ code: String, _ message: String) { self.code = code; self.message = message }
    public var description: String { "\(code): \(message)" }

    /// The archive error a single-scan call throws for it.
    public var archiveError: ArchiveError {
        switch code {
        case "NOT_IN_CUSTODY", "UNKNOWN_LOCATION", "UNKNOWN_PRESENTATION": ArchiveError(.notFound, description)
        case "SEIZED", "DETAINED", "REFERRED", "INSPECTION_OPEN", "AT_LAB", "NOT_AT_LAB", "ALREADY_THERE", "SCAN_ID_REUSED", "PRESENTATION_CLOSED": ArchiveError(.refused, description)
        default: ArchiveError(.invalid, description)
        }
    }
}

/// An item's open episode as the rules need it (read inside the scan's transaction).
public struct CustodyItemState: Sendable, Equatable {
    public var itemID: Int64
    public var firstArrivalMillis: Int64
    /// The time of its latest event: a scan may not precede it (control 3).
    public var lastEventMillis: Int64
    /// Where its latest event with a location put it, and that location's kind.
    public var location: String?
    public var locationKind: String?
    public var inspectionOpen: Bool
    public var inspected: Bool
    public var seized: Bool
    public var atLab: Bool
    /// Under a detention not yet disposed of (a notice to the addressee pending or answered).
    public var detained: Bool
    /// Referred to an agency, the referral neither collected nor declined.
    public var referred: Bool
    public init(itemID: Int64, firstArrivalMillis: Int64, lastEventMillis: Int64, location: String?, locationKind: String?, inspectionOpen: Bool,
                inspected: Bool, seized: Bool, atLab: Bool, detained: Bool = false, referred: Bool = false) {
        self.itemID = itemID; self.firstArrivalMillis = firstArrivalMillis; self.lastEventMillis = lastEventMillis; self.location = location
        self.locationKind = locationKind; self.inspectionOpen = inspectionOpen; self.inspected = inspected; self.seized = seized; self.atLab = atLab
        self.detained = detained
        self.referred = referred
    }

    /// The columns both stores read an open item's state with (then `WHERE i.s10 = … AND i.closed_at IS NULL`).
    public static let selectSQL = selectColumnsSQL + "FROM custody_item i"
    /// The select list alone (the embedded store names its index in the FROM clause).
    public static let selectColumnsSQL = """
        SELECT i.id, i.first_arrival_at,
            (SELECT max(e.at) FROM custody_event e WHERE e.item_id = i.id) AS last_at,
            (SELECT e.to_location FROM custody_event e WHERE e.item_id = i.id AND e.to_location IS NOT NULL ORDER BY e.id DESC LIMIT 1) AS location,
            (SELECT e.type FROM custody_event e WHERE e.item_id = i.id AND e.type IN ('INSPECT_START', 'INSPECT_END') ORDER BY e.id DESC LIMIT 1) AS inspection,
            (SELECT e.type FROM custody_event e WHERE e.item_id = i.id AND e.type IN ('TO_LAB', 'FROM_LAB') ORDER BY e.id DESC LIMIT 1) AS lab,
            EXISTS (SELECT 1 FROM custody_inspection n WHERE n.item_id = i.id) AS inspected,
            EXISTS (SELECT 1 FROM custody_seizure z WHERE z.item_id = i.id) AS seized, i.s10,
            EXISTS (SELECT 1 FROM custody_detention d WHERE d.item_id = i.id
                    AND NOT EXISTS (SELECT 1 FROM custody_detention_step s WHERE s.detention_id = d.id AND s.step = 'disposition')) AS detained,
            EXISTS (SELECT 1 FROM custody_referral r WHERE r.item_id = i.id
                    AND NOT EXISTS (SELECT 1 FROM custody_referral_step s WHERE s.referral_id = r.id AND s.step IN ('collected', 'declined'))) AS referred

        """

    /// The state after a scan's decision (nil: the episode closed). Scans change only where an
    /// item is and whether it is open; inspections and seizures are not scans. A batch reads
    /// its items' states once and carries them through its scans with this.
    public static func after(_ d: ScanDecision, of state: CustodyItemState?, itemID: Int64, atMillis: Int64, kinds: [String: String]) -> CustodyItemState? {
        if d.closesEpisode { return nil }
        var s = state ?? CustodyItemState(itemID: itemID, firstArrivalMillis: atMillis, lastEventMillis: atMillis, location: nil, locationKind: nil,
                                          inspectionOpen: false, inspected: false, seized: false, atLab: false)
        s.lastEventMillis = max(s.lastEventMillis, atMillis)
        if let to = d.toLocation { s.location = to; s.locationKind = kinds[to] }
        if d.type == "TO_LAB" { s.atLab = true }
        if d.type == "FROM_LAB" { s.atLab = false }
        return s
    }
}

/// What a scan records: the event, and whether it opens or closes the episode.
public struct ScanDecision: Sendable, Equatable {
    public var type: String
    public var toLocation: String?
    public var detail: String?
    public var closesEpisode: Bool
}

public enum CustodyScanRules {
    public static let agencies = ["FDA", "USDA", "USPIS", "HSI", "DEA", "other"]

    /// What `scan` means for an item in state `item` (nil: not in custody), the kind of the
    /// location it names (nil: no such location) and, for a receipt into a container, that
    /// presentation's id. A receipt of an item in custody is the store's answer
    /// (`alreadyInCustody`), not a decision.
    public static func decide(_ scan: CustodyScan, item: CustodyItemState?, targetKind: String?, actor: String,
                              targeted: Bool = true) -> Result<ScanDecision, ScanRefusal> {
        let action = scan.action
        if let name = action.location, targetKind == nil {
            return .failure(ScanRefusal("UNKNOWN_LOCATION", "no location \(name); register it first (recordkeeper custody location add)"))
        }
        if case .receive(let location, let presentation) = action {
            guard targetKind != "seized_property", targetKind != "lab" else {
                return .failure(ScanRefusal("WRONG_LOCATION_KIND", "items are received into a receiving or holding area, not \(location) (\(targetKind!))"))
            }
            return .success(ScanDecision(type: "RECEIVED", toLocation: location, detail: presentation.map { "presentation=\($0)" }, closesEpisode: false))
        }
        guard let item else { return .failure(ScanRefusal("NOT_IN_CUSTODY", "\(scan.s10) is not in custody")) }
        guard scan.atMillis >= item.lastEventMillis else {
            return .failure(ScanRefusal("DATE_ORDER", "a scan of \(scan.s10) cannot precede its last recorded event"))
        }
        var parts: [String] = []
        let sighting: Bool = if case .audit = action { true } else { false }
        if item.seized, !sighting {
            let witness = (scan.witness ?? "").trimmingCharacters(in: .whitespaces)
            guard !witness.isEmpty, witness.lowercased() != actor.lowercased() else {
                return .failure(ScanRefusal("WITNESS_REQUIRED", "\(scan.s10) is seized; every custody event of a seized item needs a witness other than you"))
            }
            parts.append("witness=\(witness)")
        }
        if item.inspectionOpen, action.eventType != "MOVED", action.eventType != "AUDIT_SEEN" {
            return .failure(ScanRefusal("INSPECTION_OPEN", "an inspection of \(scan.s10) is open; end it first"))
        }
        if item.atLab {
            switch action {
            case .fromLab, .audit: break
            default: return .failure(ScanRefusal("AT_LAB", "\(scan.s10) is at the lab (\(item.location ?? "?")); record its return from the lab first"))
            }
        }
        switch action {
        case .receive: fatalError("handled above")
        case .move(let to):
            guard to != item.location else { return .failure(ScanRefusal("ALREADY_THERE", "\(scan.s10) is at \(to) already")) }
            guard targetKind != "seized_property" else {
                return .failure(ScanRefusal("WRONG_LOCATION_KIND", "items go into seized property by a seizure (recordkeeper custody seize), not a move"))
            }
            guard targetKind != "lab" else { return .failure(ScanRefusal("WRONG_LOCATION_KIND", "\(to) is a lab; send the item with a lab hand-off")) }
            if item.seized { return .failure(ScanRefusal("SEIZED", "\(scan.s10) is seized; it leaves seized property only to a lab, an agency or destruction")) }
            return .success(ScanDecision(type: "MOVED", toLocation: to, detail: joined(parts), closesEpisode: false))
        case .audit(let at):
            if let expected = item.location, expected != at { parts.append("expected=\(expected)") }
            return .success(ScanDecision(type: "AUDIT_SEEN", toLocation: at, detail: joined(parts), closesEpisode: false))
        case .toLab(let lab):
            guard targetKind == "lab" else { return .failure(ScanRefusal("WRONG_LOCATION_KIND", "\(lab) is not a lab")) }
            return .success(ScanDecision(type: "TO_LAB", toLocation: lab, detail: joined(parts), closesEpisode: false))
        case .fromLab(let to):
            guard item.atLab else { return .failure(ScanRefusal("NOT_AT_LAB", "\(scan.s10) is not at a lab")) }
            guard targetKind != "lab" else { return .failure(ScanRefusal("WRONG_LOCATION_KIND", "an item back from the lab goes to a holding place, not \(to)")) }
            guard (targetKind == "seized_property") == item.seized else {
                return .failure(ScanRefusal("WRONG_LOCATION_KIND", item.seized ? "a seized item comes back into seized property"
                                                                               : "only seized items are kept in seized property"))
            }
            return .success(ScanDecision(type: "FROM_LAB", toLocation: to, detail: joined(parts), closesEpisode: false))
        case .toAgency(let agency):
            if item.detained { return .failure(detainedRefusal(scan.s10)) }
            if item.referred { return .failure(referredRefusal(scan.s10)) }
            guard agencies.contains(agency) else {
                return .failure(ScanRefusal("VALUE_UNKNOWN", "agency \(agency) is not one of \(agencies.joined(separator: ", "))"))
            }
            return .success(ScanDecision(type: "TO_AGENCY", toLocation: nil, detail: joined(["agency=\(agency)"] + parts), closesEpisode: true))
        case .returnToCarrier(let carrier, let supervisor, let reason, let batch):
            if item.seized { return .failure(ScanRefusal("SEIZED", "\(scan.s10) is under seizure; a seized item does not go back to the carrier")) }
            if item.detained { return .failure(detainedRefusal(scan.s10)) }
            if item.referred { return .failure(referredRefusal(scan.s10)) }
            do {
                let detail = try ReturnDraft.detail(ReturnDraft(s10: scan.s10, carrier: carrier, station: scan.station, supervisor: supervisor, reason: reason,
                                                                atMillis: scan.atMillis), inspected: item.inspected, targeted: targeted, actor: actor)
                return .success(ScanDecision(type: "RETURNED_TO_CARRIER", toLocation: nil, detail: detail + (batch.map { " return_batch=\($0)" } ?? ""),
                                             closesEpisode: true))
            } catch {
                return .failure(ScanRefusal("REQUIRED_MISSING", "\(scan.s10) was never inspected; returning it needs a supervisor (not you) and a reason"))
            }
        }
    }

    /// The answer to a scan whose id was recorded before: that event again, or a refusal when the
    /// id was used for another scan.
    public static func answer(repeated seen: StoredCustodyEvent, _ scan: CustodyScan) -> ScanOutcome {
        guard seen.s10 == scan.s10, seen.type == scan.action.eventType else {
            return .refused(ScanRefusal("SCAN_ID_REUSED", "scan id \(scan.clientScanID) was used for another scan (\(seen.type) of \(seen.s10))"))
        }
        return .repeated(seen)
    }

    /// A receipt of an item in custody records nothing; one under seizure is refused outright
    /// (the station shows it red, CUSTODY.md §4.3), any other is the store's "already in custody".
    public static func refusal(receivingAgain item: CustodyItemState, s10: String) -> ScanRefusal? {
        item.seized ? ScanRefusal("SEIZED", "\(s10) is under seizure (at \(item.location ?? "seized property")); nothing recorded") : nil
    }

    /// Why a receipt into presentation `id` is refused (`open` nil: there is no such presentation;
    /// `direction` its direction, `in` for a receipt, `out` for a return).
    public static func refusal(presentation id: Int64, open: Bool?, direction: String? = "in", wanted: String = "in", batchCarrier: String? = nil,
                               action: CustodyScan.Action? = nil) -> ScanRefusal? {
        switch open {
        case nil: return ScanRefusal("UNKNOWN_PRESENTATION", "no presentation \(id)")
        case false?: return ScanRefusal("PRESENTATION_CLOSED", "presentation \(id) is closed; open a new one for more items")
        case true?:
            guard direction == wanted else {
                return ScanRefusal("WRONG_DIRECTION", wanted == "in" ? "presentation \(id) is a return to the carrier; receive into a container handed over"
                                                                     : "presentation \(id) is a container handed over; return into a return batch")
            }
            if let batchCarrier, case .returnToCarrier(let carrier, _, _, _)? = action,
               carrier.trimmingCharacters(in: .whitespaces).lowercased() != batchCarrier.lowercased() {
                return ScanRefusal("CARRIER_MISMATCH", "return batch \(id) goes to \(batchCarrier), not \(carrier)")
            }
            return nil
        }
    }

    /// The return batch a return scan names, if any.
    public static func returnBatch(_ action: CustodyScan.Action) -> Int64? {
        if case .returnToCarrier(_, _, _, let batch) = action { return batch }
        return nil
    }

    /// The return batch a return event's (hashed) detail names: its last token, ` return_batch=N`.
    public static func returnBatch(ofDetail detail: String?) -> Int64? {
        guard let detail, let r = detail.range(of: " return_batch=", options: .backwards) else { return nil }
        return Int64(detail[r.upperBound...])
    }

    static func detainedRefusal(_ s10: String) -> ScanRefusal {
        ScanRefusal("DETAINED", "\(s10) is detained pending its notice and disposition; dispose of the detention first (recordkeeper custody detention dispose)")
    }

    static func referredRefusal(_ s10: String) -> ScanRefusal {
        ScanRefusal("REFERRED", "\(s10) is referred to an agency; record the agency's collection or refusal on the referral (recordkeeper custody referral)")
    }

    static func joined(_ parts: [String]) -> String? { parts.isEmpty ? nil : parts.joined(separator: " ") }

    /// The episode name of an item's receipt: the day it arrived and its count of episodes so
    /// far (a returned item presented again the same day is a new episode).
    public static func episode(atMillis: Int64, earlierEpisodes: Int) -> String {
        episodeDay(atMillis: atMillis) + "/\(earlierEpisodes + 1)"
    }

    public static func episodeDay(atMillis: Int64) -> String {
        let day = atMillis >= 0 ? atMillis / 86_400_000 : -((-atMillis + 86_399_999) / 86_400_000)
        return CivilDate(dayNumber: Int(day)).description
    }
}

// MARK: - Presentations (containers handed over by the carrier)

public struct PresentationDraft: Sendable, Equatable {
    /// The container's label (APC, tub, sack or S9 receptacle id).
    public var containerID: String
    public var carrier: String
    public var sealNumber: String?
    public var declaredCount: Int
    public var presentedByName: String
    public var presentedByBadge: String?
    public var location: String
    public var station: String?
    public var atMillis: Int64
    /// `in`: the carrier hands the container over; `out`: a return batch, the carrier's employee
    /// (presented_by) signs for the items returned into it.
    public var direction: String
    public init(containerID: String, carrier: String, sealNumber: String?, declaredCount: Int, presentedByName: String, presentedByBadge: String?,
                location: String, station: String?, atMillis: Int64, direction: String = "in") {
        self.containerID = containerID; self.carrier = carrier; self.sealNumber = sealNumber; self.declaredCount = declaredCount
        self.presentedByName = presentedByName; self.presentedByBadge = presentedByBadge; self.location = location; self.station = station
        self.atMillis = atMillis; self.direction = direction
    }
}

extension PresentationDraft {
    /// Why a presentation cannot be opened at a location of this kind: a container handed over
    /// is never received into seized property or a lab; a return batch is filled at a return dock
    /// or a receiving area.
    public static func locationRefusal(kind: String, direction: String) -> ArchiveError? {
        guard ["in", "out"].contains(direction) else { return ArchiveError(.invalid, "VALUE_UNKNOWN: direction \(direction) is in or out") }
        if direction == "out" {
            return ["return_dock", "receiving"].contains(kind) ? nil
                : ArchiveError(.invalid, "WRONG_LOCATION_KIND: a return batch is filled at a return dock or a receiving area, not a \(kind)")
        }
        return kind == "seized_property" || kind == "lab"
            ? ArchiveError(.invalid, "WRONG_LOCATION_KIND: containers are received into a receiving or holding area") : nil
    }
}

public struct StoredPresentation: Sendable, Equatable, Codable {
    public var id: Int64
    public var containerID: String
    public var carrier: String
    public var sealNumber: String?
    public var declaredCount: Int
    public var presentedByName: String
    public var presentedByBadge: String?
    public var receivedBy: String
    public var location: String
    public var presentedAtMillis: Int64
    public var closedAtMillis: Int64?
    public var closedBy: String?
    /// Items received into it (at close; while open, the count so far).
    public var scannedCount: Int
    /// Required when the scanned count differs from the declared one.
    public var discrepancyNote: String?
    /// `in` (handed over by the carrier) or `out` (a return batch).
    public var direction: String
    public init(id: Int64, containerID: String, carrier: String, sealNumber: String?, declaredCount: Int, presentedByName: String, presentedByBadge: String?,
                receivedBy: String, location: String, presentedAtMillis: Int64, closedAtMillis: Int64?, closedBy: String?, scannedCount: Int,
                discrepancyNote: String?, direction: String = "in") {
        self.id = id; self.containerID = containerID; self.carrier = carrier; self.sealNumber = sealNumber; self.declaredCount = declaredCount
        self.presentedByName = presentedByName; self.presentedByBadge = presentedByBadge; self.receivedBy = receivedBy; self.location = location
        self.presentedAtMillis = presentedAtMillis; self.closedAtMillis = closedAtMillis; self.closedBy = closedBy; self.scannedCount = scannedCount
        self.discrepancyNote = discrepancyNote; self.direction = direction
    }

    /// The items counted into a presentation while it is open: received into it (`in`), or
    /// returned into it (`out`, its members). Both stores read `scanned` with it.
    public static let scannedSQL = """
        coalesce(p.scanned_count, CASE p.direction WHEN 'out' THEN (SELECT count(*) FROM custody_return_member m WHERE m.presentation_id = p.id)
                                  ELSE (SELECT count(*) FROM custody_item i WHERE i.presentation_id = p.id) END)
        """

    /// Scanned minus declared (negative: fewer items than the carrier declared).
    public var difference: Int { scannedCount - declaredCount }

    /// The audit detail of its opening and closing (what verify compares).
    public var openedDetail: [String: String] {
        var d = ["container": containerID, "carrier": carrier, "seal": sealNumber ?? "", "declared": String(declaredCount), "presented_by": presentedByName,
                 "badge": presentedByBadge ?? "", "location": location, "at": String(presentedAtMillis)]
        if direction == "out" { d["direction"] = "out" } // entries written before return batches existed name none
        return d
    }

    /// Refuses a close whose count differs from the declared one without a note.
    public static func closingNote(declared: Int, scanned: Int, note: String?) throws -> String? {
        let note = note?.trimmingCharacters(in: .whitespacesAndNewlines)
        if scanned != declared, note?.isEmpty ?? true {
            throw ArchiveError(.invalid, "REQUIRED_MISSING: \(scanned) items scanned of \(declared) declared; closing with a difference needs a note")
        }
        return note?.isEmpty == false ? note : nil
    }
}

// MARK: - The daily balance's read

/// An item in custody at some time of a day, with its events up to the day's end.
public struct BalanceItem: Sendable, Equatable {
    public struct Event: Sendable, Equatable {
        public var type: String
        public var atMillis: Int64
        public var actor: String
        public var toLocation: String?
        public var toKind: String?
        public init(type: String, atMillis: Int64, actor: String, toLocation: String?, toKind: String?) {
            self.type = type; self.atMillis = atMillis; self.actor = actor; self.toLocation = toLocation; self.toKind = toKind
        }
    }
    public var itemID: Int64
    public var s10: String
    public var events: [Event]
    public init(itemID: Int64, s10: String, events: [Event]) { self.itemID = itemID; self.s10 = s10; self.events = events }

    /// The items both stores return: in custody at some time in [dayStart, dayEnd) (still open,
    /// or closed since the day began).
    public static func itemFilterSQL(dayStart: Int64, dayEnd: Int64) -> String {
        "\(CustodySpell.openSQL(closed: ">= \(dayStart)")) AND i.first_arrival_at < \(dayEnd)"
    }
}
