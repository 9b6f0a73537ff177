import Foundation
import RecordkeeperCore

/// The custody module's records (issue 15): targeting rules, target lists and their imports. The
/// rules of what is valid live in the `Custody` module; a store keeps rows, refuses a second row
/// for one item and rule, and writes each change with its audit entry in one transaction.
/// (SQLite and PostgreSQL, under one conformance suite.)
public protocol CustodyStore: Sendable {
    /// Registers a rule version; false when that code and version exist with the same content
    /// (a different content is refused: a version is never changed, a new one is made).
    func saveTargetRule(_ rule: StoredTargetRule, actor: String) async throws -> Bool
    func targetRules() async throws -> [StoredTargetRule]
    /// Registers a mapping profile version; false when that name and version exist with the same
    /// definition (a different definition is refused: a version is never changed).
    func saveMappingProfile(_ profile: StoredMappingProfile, actor: String) async throws -> Bool
    func mappingProfiles() async throws -> [StoredMappingProfile]
    /// The import of a file with this SHA-256, if it was committed.
    func targetImport(fileHash: String) async throws -> StoredTargetImport?
    /// Stores the accepted targets (a target already stored for the same item and rule is
    /// merged, not added), the rejected rows as written, and the import's record and audit entry.
    func commitTargetImport(_ draft: TargetImportDraft, actor: String) async throws -> StoredTargetImport
    func targets(s10: String) async throws -> [StoredTarget]
    func targetCount() async throws -> Int
    func rejectedRows(importID: Int64) async throws -> [StoredRejectedRow]

    // Receipts and the reconciliation reports' reads.
    func saveLocation(_ location: StoredLocation, actor: String) async throws -> Bool
    func locations() async throws -> [StoredLocation]
    func custodyEvents(s10: String) async throws -> [StoredCustodyEvent]
    /// Targets targeted in [from, to).
    func targets(targetedFrom: Int64, to: Int64) async throws -> [StoredTarget]
    /// The first RECEIVED time at or before `asOf` of each of `s10s` that has one.
    func firstReceipts(s10s: [String], asOf: Int64) async throws -> [String: Int64]

    /// Starts an inspection of an item in custody (an INSPECT_START event).
    func startInspection(_ start: InspectionStart, actor: String) async throws -> StoredCustodyEvent
    /// Ends the item's open inspection (an INSPECT_END event and the inspection's record).
    func endInspection(_ end: InspectionEnd, actor: String) async throws -> StoredInspection
    func inspections(s10: String) async throws -> [StoredInspection]
    /// Inspections that ended in [from, to), in end order (R-WORK).
    func inspections(endedFrom from: Int64, to: Int64) async throws -> [StoredInspection]
    /// Items received at or before `asOf`, still in custody then, each with its first receipt,
    /// where it was at `asOf`, and its first inspection's end at or before `asOf` (nil: not
    /// inspected by then).
    func custodySpells(receivedFrom: Int64, to: Int64, asOf: Int64) async throws -> [CustodySpell]
    /// The same, for the items still in custody at `asOf` received since `receivedFrom`, found
    /// through the items open then (few, at the present moment) rather than every arrival since
    /// `receivedFrom` (the alerts look back a year).
    func openCustodySpells(receivedFrom: Int64, asOf: Int64) async throws -> [CustodySpell]

    /// Seizes an item after its inspection: the seizure's record and a MOVED event into the
    /// seized-property location, witnessed, with its audit entry, in one transaction.
    func seize(_ seizure: SeizureDraft, actor: String) async throws -> StoredSeizure
    /// Records the SEACATS case a seizure was entered as (once).
    func recordSEACATS(seizureID: Int64, caseNumber: String, atMillis: Int64, lateReason: String?, actor: String) async throws -> StoredSeizure
    func seizures(seizedFrom: Int64, to: Int64) async throws -> [StoredSeizure]

    /// For each of `s10s` that has them by `asOf`: the end of its first inspection and the
    /// time of its first outcome with a violation (a seizure, a detention, a referral for a
    /// violation, an assessment). Every such outcome follows an inspection of the item, so only
    /// identifiers with an inspection are looked at (a day's funnel asks about every arrival).
    func inspectionsAndHits(s10s: [String], asOf: Int64) async throws -> [String: InspectionAndHit]

    /// R-EFF's counts for the targets targeted in [from, to), as of `asOf` (`EffectivenessCount`).
    func effectivenessCounts(targetedFrom: Int64, to: Int64, asOf: Int64) async throws -> [EffectivenessCount]

    /// The first uninspected return by `asOf` of each of `s10s` that has one.
    func returnsUninspected(s10s: [String], asOf: Int64) async throws -> [String: StoredCustodyEvent]

    /// Records scans in one transaction, each on its own: a refused scan is answered with its
    /// code and the others are recorded (a station's batch, `POST /api/custody/scans`).
    func recordScans(_ scans: [CustodyScan], actor: String) async throws -> [ScanOutcome]
    /// A container handed over by the carrier, open for its items' receipt scans (one open
    /// presentation per container label).
    func openPresentation(_ draft: PresentationDraft, actor: String) async throws -> StoredPresentation
    /// Closes a presentation with its scanned count; a count other than the declared one needs a note.
    func closePresentation(id: Int64, note: String?, atMillis: Int64, actor: String) async throws -> StoredPresentation
    func presentation(id: Int64) async throws -> StoredPresentation?
    /// Presentations handed over in [from, to), or still open then.
    func presentations(from: Int64, to: Int64) async throws -> [StoredPresentation]
    /// Every item in custody at some time in [dayStart, dayEnd), with its events before dayEnd
    /// in order (the daily balance, R-BAL).
    func balanceItems(dayStart: Int64, dayEnd: Int64) async throws -> [BalanceItem]

    /// Records a location's daily physical-security check (one per location and day; the same
    /// check again is false, a different one refused: a check is kept as recorded).
    func saveSecurityCheck(_ check: StoredSecurityCheck, actor: String) async throws -> Bool
    /// Checks of the days in [fromDay, toDay) (YYYY-MM-DD).
    func securityChecks(fromDay: String, toDay: String) async throws -> [StoredSecurityCheck]
    /// Events in [from, to) that put an item at one of `locations`.
    func custodyEvents(from: Int64, to: Int64, toLocations: [String]) async throws -> [StoredCustodyEvent]
    /// Events of one of `types` in [from, to), in time order (the carrier's decisions read the
    /// items that left custody: returned, handed to an agency, destroyed).
    func custodyEvents(from: Int64, to: Int64, types: [String]) async throws -> [StoredCustodyEvent]
    /// Events in [from, to) of seized items at or after their seizure (at its corrected time),
    /// AUDIT_SEEN included, in time order: R-SEC's seized items moved without a witness. Read
    /// from the seizures (every one recorded: thousands, where the period's events are hundreds of
    /// thousands) through their items still in custody at `from` to those items' events.
    func custodyEventsAfterSeizure(from: Int64, to: Int64) async throws -> [StoredCustodyEvent]

    /// Corrects a seizure's time (the row is kept; the correction is a new row with the old and new
    /// values and the reason, and its audit entry). Refused when the new time precedes the
    /// inspection that found it or follows now, or when the actor is the seizing officer.
    func correctSeizedAt(seizureID: Int64, newAtMillis: Int64, reason: String, atMillis: Int64, actor: String) async throws -> StoredSeizureCorrection
    /// Corrections made in [from, to).
    func seizureCorrections(from: Int64, to: Int64) async throws -> [StoredSeizureCorrection]
    /// What the data-quality report counts in the database itself for [from, to).
    func dataQualityFacts(from: Int64, to: Int64) async throws -> DataQualityFacts

    // For `verify`: every custody event and every import, to recompute their hashes.
    /// Items whose episode is closed without the event that closes one (a return, a hand-over
    /// to an agency, a destruction) at that time: closed behind the service's back.
    func custodyItemsClosedWithoutEvent(limit: Int) async throws -> [(itemID: Int64, s10: String)]
    /// Items whose arrival time or container is not what their RECEIVED event (hashed, anchored)
    /// says, or that have no RECEIVED event: changed behind the service's back.
    func custodyItemsDisagreeingWithReceipt(limit: Int) async throws -> [(itemID: Int64, s10: String)]
    /// Return-batch members in event order, a page at a time (for verify).
    func returnBatchMembers(afterEventID: Int64, limit: Int) async throws -> [(eventID: Int64, batch: Int64)]
    /// Every return batch, with the count recorded at its close (nil: open).
    func returnBatchCounts() async throws -> [Int64: Int?]
    /// Custody events with ids above `afterID`, in id order.
    func custodyEvents(afterID: Int64, limit: Int) async throws -> [StoredCustodyEvent]
    /// The ids of the events recorded in [from, to) (a day's verify), in id order.
    func custodyEventIDs(from: Int64, to: Int64) async throws -> [Int64]
    func targetImports() async throws -> [StoredTargetImport]
    /// The targets an import added, in line order.
    func targets(importID: Int64) async throws -> [StoredTarget]
}

public struct StoredTargetRule: Sendable, Equatable, Codable {
    public var code: String
    public var version: Int
    public var category: String
    public var source: String
    public var description: String
    public init(code: String, version: Int, category: String, source: String, description: String) {
        self.code = code; self.version = version; self.category = category; self.source = source; self.description = description
    }
}

/// A registered mapping profile version (its definition as canonical JSON, kept unchanged).
public struct StoredMappingProfile: Sendable, Equatable, Codable {
    public var name: String
    public var version: Int
    public var definition: String
    public var sha256: String
    public var createdBy: String
    public var createdAt: String
    public init(name: String, version: Int, definition: String, sha256: String, createdBy: String = "", createdAt: String = "") {
        self.name = name; self.version = version; self.definition = definition; self.sha256 = sha256; self.createdBy = createdBy; self.createdAt = createdAt
    }
    public var label: String { "\(name) v\(version)" }
}

public struct StoredTarget: Sendable, Equatable, Codable {
    public var id: Int64
    public var s10: String
    public var ruleCode: String
    public var ruleVersion: Int
    public var reasonCode: String
    public var targetedAtMillis: Int64
    public var targetedBy: String
    public var expectedArrivalAtMillis: Int64?
    public var priority: Int?
    public var originCountry: String?
    public var mailClass: String?
    public var declaredDescription: String?
    public var holdRequestedAtMillis: Int64?
    public var importID: Int64?
    public var line: Int?

    public init(id: Int64 = 0, s10: String, ruleCode: String, ruleVersion: Int, reasonCode: String, targetedAtMillis: Int64, targetedBy: String,
                expectedArrivalAtMillis: Int64?, priority: Int?, originCountry: String?, mailClass: String?, declaredDescription: String?,
                holdRequestedAtMillis: Int64?, importID: Int64? = nil, line: Int?) {
        self.id = id; self.s10 = s10; self.ruleCode = ruleCode; self.ruleVersion = ruleVersion; self.reasonCode = reasonCode
        self.targetedAtMillis = targetedAtMillis; self.targetedBy = targetedBy; self.expectedArrivalAtMillis = expectedArrivalAtMillis
        self.priority = priority; self.originCountry = originCountry; self.mailClass = mailClass; self.declaredDescription = declaredDescription
        self.holdRequestedAtMillis = holdRequestedAtMillis; self.importID = importID; self.line = line
    }

    /// The canonical serialisation a target's hash is taken over (the import's digest covers
    /// every target it added, in line order).
    public var canonical: [UInt8] {
        var e = CanonicalEncoder(kind: "custody.target", version: 1)
        e.add("s10", s10)
        e.add("rule", ruleCode)
        e.add("rule_version", Int64(ruleVersion))
        e.add("reason", reasonCode)
        e.add("targeted_at", targetedAtMillis)
        e.add("targeted_by", targetedBy)
        e.add("expected_arrival_at", expectedArrivalAtMillis)
        e.add("priority", priority.map(Int64.init))
        e.add("origin_country", originCountry)
        e.add("mail_class", mailClass)
        e.add("declared_desc", declaredDescription)
        e.add("hold_requested_at", holdRequestedAtMillis)
        return e.bytes
    }
}

public struct StoredRejectedRow: Sendable, Equatable, Codable {
    public var line: Int
    public var code: String
    public var detail: String
    public var raw: String
    public init(line: Int, code: String, detail: String, raw: String) { self.line = line; self.code = code; self.detail = detail; self.raw = raw }
}

/// The accepted rows of a target list as they are read, for the store to pull inside its
/// transaction (a million-row list is never held whole), and, once the last row is read, what else
/// the file held.
public protocol TargetRowSource: AnyObject, Sendable {
    /// The next accepted row, in line order (nil: the end).
    func next() throws -> StoredTarget?
    /// After the end: rows read, rows rejected (as written, with their codes), rows merged with
    /// an accepted one above them in the file.
    var rowsTotal: Int { get }
    var rejected: [StoredRejectedRow] { get }
    var mergedInFile: Int { get }
}

/// Rows already in memory, as a source (small lists, tests).
public final class TargetRows: TargetRowSource, @unchecked Sendable {
    private var rows: IndexingIterator<[StoredTarget]>
    public let rowsTotal: Int
    public let rejected: [StoredRejectedRow]
    public let mergedInFile: Int
    public init(_ rows: [StoredTarget], rowsTotal: Int, rejected: [StoredRejectedRow], mergedInFile: Int) {
        self.rows = rows.makeIterator(); self.rowsTotal = rowsTotal; self.rejected = rejected; self.mergedInFile = mergedInFile
    }
    public func next() throws -> StoredTarget? { rows.next() }
}

public struct TargetImportDraft: Sendable {
    public var fileName: String
    public var fileHash: String
    /// The accepted rows, read as the store stores them; the counts are the source's once it is read.
    public var rows: any TargetRowSource
    public var unknownColumns: [String]
    /// The mapping profile the file was read with ("ats-jfk v2"; nil: the canonical layout).
    public var mappingProfile: String?
    public init(fileName: String, fileHash: String, rows: any TargetRowSource, unknownColumns: [String], mappingProfile: String? = nil) {
        self.fileName = fileName; self.fileHash = fileHash; self.rows = rows; self.unknownColumns = unknownColumns; self.mappingProfile = mappingProfile
    }
}

public struct StoredTargetImport: Sendable, Equatable, Codable {
    public var id: Int64
    public var fileName: String
    public var fileHash: String
    public var rowsTotal: Int
    public var added: Int
    public var rejected: Int
    /// Rows that named an item and rule already targeted (in the file or before it).
    public var merged: Int
    public var unknownColumns: [String]
    /// SHA-256 over the canonical form of every target the import added, in line order.
    public var digest: String
    public var importedBy: String
    public var importedAt: String
    /// The mapping profile the file was read with (nil: the canonical layout).
    public var mappingProfile: String?
    public init(id: Int64, fileName: String, fileHash: String, rowsTotal: Int, added: Int, rejected: Int, merged: Int, unknownColumns: [String],
                digest: String, importedBy: String, importedAt: String, mappingProfile: String? = nil) {
        self.id = id; self.fileName = fileName; self.fileHash = fileHash; self.rowsTotal = rowsTotal; self.added = added; self.rejected = rejected
        self.merged = merged; self.unknownColumns = unknownColumns; self.digest = digest; self.importedBy = importedBy; self.importedAt = importedAt
        self.mappingProfile = mappingProfile
    }
}

/// A place items are held in (CUSTODY.md §2 `location`): physical-security facts are data, so a
/// report can say how many items sat in an unalarmed room.
public struct StoredLocation: Sendable, Equatable, Codable {
    public var code: String
    public var name: String
    /// receiving, holding, exam_station, enforcement_cage, registered_cage, seized_property, lab, return_dock
    public var kind: String
    public var secured: Bool
    public var alarmed: Bool
    public var cctvCovered: Bool
    public var maxDwellHours: Int?
    public init(code: String, name: String, kind: String, secured: Bool, alarmed: Bool, cctvCovered: Bool, maxDwellHours: Int?) {
        self.code = code; self.name = name; self.kind = kind; self.secured = secured; self.alarmed = alarmed; self.cctvCovered = cctvCovered
        self.maxDwellHours = maxDwellHours
    }
}

/// A daily physical-security check of a location (CUSTODY.md §2 `security_check`; CBP's corrective
/// action for recommendation 5 asked for a daily manager record).
public struct StoredSecurityCheck: Sendable, Equatable, Codable {
    public var location: String
    /// The day checked (YYYY-MM-DD, UTC).
    public var day: String
    public var doorLocked: Bool
    public var alarmArmed: Bool
    public var cctvOK: Bool
    public var checkedBy: String
    public var checkedAtMillis: Int64
    public var exceptions: String?
    public init(location: String, day: String, doorLocked: Bool, alarmArmed: Bool, cctvOK: Bool, checkedBy: String, checkedAtMillis: Int64, exceptions: String?) {
        self.location = location; self.day = day; self.doorLocked = doorLocked; self.alarmArmed = alarmArmed; self.cctvOK = cctvOK
        self.checkedBy = checkedBy; self.checkedAtMillis = checkedAtMillis; self.exceptions = exceptions
    }

    /// The same findings (who checked and when aside).
    public func sameFacts(as o: StoredSecurityCheck) -> Bool {
        location == o.location && day == o.day && doorLocked == o.doorLocked && alarmArmed == o.alarmArmed && cctvOK == o.cctvOK
            && (exceptions ?? "") == (o.exceptions ?? "")
    }

    public var auditDetail: [String: String] {
        ["location": location, "day": day, "door_locked": String(doorLocked), "alarm_armed": String(alarmArmed), "cctv_ok": String(cctvOK),
         "exceptions": exceptions ?? ""]
    }
}

public struct StoredCustodyEvent: Sendable, Equatable, Codable {
    public var id: Int64
    public var itemID: Int64
    public var s10: String
    public var type: String
    public var atMillis: Int64
    public var actor: String
    public var toLocation: String?
    public var station: String?
    public var clientScanID: String?
    public var manualEntry: Bool
    /// What the event says beyond its type (`method=xray`, `result=anomaly`).
    public var detail: String?
    /// SHA-256 of the event's canonical form (also in its audit entry).
    public var hash: String
    public init(id: Int64, itemID: Int64, s10: String, type: String, atMillis: Int64, actor: String, toLocation: String?, station: String?,
                clientScanID: String?, manualEntry: Bool, detail: String?, hash: String) {
        self.id = id; self.itemID = itemID; self.s10 = s10; self.type = type; self.atMillis = atMillis; self.actor = actor; self.toLocation = toLocation
        self.station = station; self.clientScanID = clientScanID; self.manualEntry = manualEntry; self.detail = detail; self.hash = hash
    }

    /// A new event with its hash (the id is the one its row gets).
    public static func make(id: Int64, itemID: Int64, s10: String, type: String, atMillis: Int64, actor: String, toLocation: String?, station: String?,
                            clientScanID: String?, manualEntry: Bool, detail: String?) -> StoredCustodyEvent {
        let hash = ContentHash.of(canonical(itemID: itemID, s10: s10, type: type, atMillis: atMillis, actor: actor, toLocation: toLocation, station: station,
                                            clientScanID: clientScanID, manualEntry: manualEntry, detail: detail)).hex
        return StoredCustodyEvent(id: id, itemID: itemID, s10: s10, type: type, atMillis: atMillis, actor: actor, toLocation: toLocation, station: station,
                                  clientScanID: clientScanID, manualEntry: manualEntry, detail: detail, hash: hash)
    }

    /// The audit entry that anchors this event (what verify looks for).
    public var auditDraft: AuditDraft {
        AuditDraft(actor: actor, action: "custody." + type.lowercased(), target: "custody-item:\(itemID)", detail: ["s10": s10, "event": String(id), "hash": hash])
    }

    /// This event's canonical form, from its stored fields.
    public var canonical: [UInt8] {
        Self.canonical(itemID: itemID, s10: s10, type: type, atMillis: atMillis, actor: actor, toLocation: toLocation, station: station,
                       clientScanID: clientScanID, manualEntry: manualEntry, detail: detail)
    }

    /// The canonical form an event's hash is taken over.
    public static func canonical(itemID: Int64, s10: String, type: String, atMillis: Int64, actor: String, toLocation: String?, station: String?,
                                 clientScanID: String?, manualEntry: Bool, detail: String?) -> [UInt8] {
        var e = CanonicalEncoder(kind: "custody.event", version: 1)
        e.add("item", itemID)
        e.add("s10", s10)
        e.add("type", type)
        e.add("at", atMillis)
        e.add("actor", actor)
        e.add("to", toLocation)
        e.add("station", station)
        e.add("client_scan_id", clientScanID)
        e.add("manual", manualEntry ? "1" : "0")
        e.add("detail", detail)
        return e.bytes
    }
}

/// What a receipt scan did.
public enum ReceiptOutcome: Sendable, Equatable {
    /// The item entered custody: this event.
    case received(StoredCustodyEvent)
    /// The same scan (same client scan id) was recorded before: that event, nothing new.
    case repeated(StoredCustodyEvent)
    /// The item is in custody already (an open episode): its last event.
    case alreadyInCustody(StoredCustodyEvent)
}

public struct InspectionStart: Sendable, Equatable {
    public var s10: String
    /// xray, canine, manual_open, field_analyzer, lab
    public var method: String
    public var location: String?
    public var station: String?
    public var clientScanID: String
    public var atMillis: Int64
    /// The station's own time of the step, kept beside the server's (`client_ts`) for forensics;
    /// one before the item's receipt is refused (AT2, DATE_ORDER).
    public var clientTimestampMillis: Int64?
    public init(s10: String, method: String, location: String?, station: String?, clientScanID: String, atMillis: Int64, clientTimestampMillis: Int64? = nil) {
        self.s10 = s10; self.method = method; self.location = location; self.station = station; self.clientScanID = clientScanID; self.atMillis = atMillis
        self.clientTimestampMillis = clientTimestampMillis
    }

    /// Refuses a station time before the item's receipt (the server's own time never is).
    public func checkClientTime(firstArrival: Int64) throws {
        if let c = clientTimestampMillis, c < firstArrival {
            throw ArchiveError(.invalid, "DATE_ORDER: the station says this inspection started at \(Timestamp.iso(millis: c)), before the item arrived (\(Timestamp.iso(millis: firstArrival)))")
        }
    }
}

public struct InspectionEnd: Sendable, Equatable {
    public var s10: String
    /// no_anomaly, anomaly, alert, presumptive_positive, confirmed_positive, inconclusive
    public var result: String
    public var equipment: String?
    public var substance: String?
    /// What was actually found (required unless the result is no_anomaly).
    public var actualDescription: String?
    public var station: String?
    public var clientScanID: String
    public var atMillis: Int64
    /// The station's own time, kept as the event's `client_ts`.
    public var clientTimestampMillis: Int64?
    public init(s10: String, result: String, equipment: String?, substance: String?, actualDescription: String?, station: String?, clientScanID: String,
                atMillis: Int64, clientTimestampMillis: Int64? = nil) {
        self.s10 = s10; self.result = result; self.equipment = equipment; self.substance = substance; self.actualDescription = actualDescription
        self.station = station; self.clientScanID = clientScanID; self.atMillis = atMillis; self.clientTimestampMillis = clientTimestampMillis
    }
}

public struct StoredInspection: Sendable, Equatable, Codable {
    public var id: Int64
    public var itemID: Int64
    public var s10: String
    public var method: String
    public var startedAtMillis: Int64
    public var endedAtMillis: Int64
    public var officer: String
    public var equipment: String?
    public var result: String
    public var substance: String?
    public var actualDescription: String?
    public init(id: Int64, itemID: Int64, s10: String, method: String, startedAtMillis: Int64, endedAtMillis: Int64, officer: String, equipment: String?,
                result: String, substance: String?, actualDescription: String?) {
        self.id = id; self.itemID = itemID; self.s10 = s10; self.method = method; self.startedAtMillis = startedAtMillis; self.endedAtMillis = endedAtMillis
        self.officer = officer; self.equipment = equipment; self.result = result; self.substance = substance; self.actualDescription = actualDescription
    }
}

/// One item's time in custody, for the aging and latency reports.
public struct CustodySpell: Sendable, Equatable {
    public var itemID: Int64
    public var s10: String
    public var receivedAtMillis: Int64
    public var location: String?
    public var firstInspectionEndMillis: Int64?
    public init(itemID: Int64, s10: String, receivedAtMillis: Int64, location: String?, firstInspectionEndMillis: Int64?) {
        self.itemID = itemID; self.s10 = s10; self.receivedAtMillis = receivedAtMillis; self.location = location
        self.firstInspectionEndMillis = firstInspectionEndMillis
    }

    /// Items `i` still open, or closed `after` a moment (`>` or `>=` a bound the caller writes:
    /// a number or a parameter), found through the index on closed_at, never by reading every
    /// item the facility ever held (SQLite's planner scanned them all to keep the id order).
    public static func openSQL(closed after: String) -> String {
        """
        i.id IN (SELECT o.id FROM custody_item o WHERE o.closed_at IS NULL UNION ALL SELECT c.id FROM custody_item c WHERE c.closed_at \(after))
        """
    }
}

public struct SeizureDraft: Sendable, Equatable {
    public var s10: String
    public var witness: String
    /// narcotics, agriculture, ipr, currency, weapons, prohibited, revenue, other
    public var violationType: String
    public var substance: String
    public var netWeightGrams: Double
    /// The CF 6051S form's number.
    public var form6051S: String
    /// A location of kind seized_property.
    public var storageLocation: String
    public var atMillis: Int64
    public init(s10: String, witness: String, violationType: String, substance: String, netWeightGrams: Double, form6051S: String, storageLocation: String,
                atMillis: Int64) {
        self.s10 = s10; self.witness = witness; self.violationType = violationType; self.substance = substance; self.netWeightGrams = netWeightGrams
        self.form6051S = form6051S; self.storageLocation = storageLocation; self.atMillis = atMillis
    }
}

public struct StoredSeizure: Sendable, Equatable, Codable {
    public var id: Int64
    public var itemID: Int64
    public var s10: String
    public var inspectionID: Int64
    public var seizedAtMillis: Int64
    public var seizingOfficer: String
    public var witness: String
    public var violationType: String
    public var substance: String
    public var netWeightGrams: Double
    public var form6051S: String
    public var storageLocation: String
    public var seacatsCase: String?
    public var seacatsRecordedAtMillis: Int64?
    public var seacatsRecordedBy: String?
    public var lateReason: String?
    /// The time as first recorded (`seizedAtMillis` is the corrected one when a supervisor corrected it).
    public var recordedSeizedAtMillis: Int64
    public init(id: Int64, itemID: Int64, s10: String, inspectionID: Int64, seizedAtMillis: Int64, seizingOfficer: String, witness: String,
                violationType: String, substance: String, netWeightGrams: Double, form6051S: String, storageLocation: String, seacatsCase: String?,
                seacatsRecordedAtMillis: Int64?, seacatsRecordedBy: String?, lateReason: String?, recordedSeizedAtMillis: Int64? = nil) {
        self.recordedSeizedAtMillis = recordedSeizedAtMillis ?? seizedAtMillis
        self.id = id; self.itemID = itemID; self.s10 = s10; self.inspectionID = inspectionID; self.seizedAtMillis = seizedAtMillis
        self.seizingOfficer = seizingOfficer; self.witness = witness; self.violationType = violationType; self.substance = substance
        self.netWeightGrams = netWeightGrams; self.form6051S = form6051S; self.storageLocation = storageLocation; self.seacatsCase = seacatsCase
        self.seacatsRecordedAtMillis = seacatsRecordedAtMillis; self.seacatsRecordedBy = seacatsRecordedBy; self.lateReason = lateReason
    }

    /// SEACATS must hold the seizure within 24 hours of it; exactly 24 h 00 m 00 s is on time.
    public static let deadlineMillis: Int64 = 24 * 3_600_000
    public var deadlineAtMillis: Int64 { seizedAtMillis + Self.deadlineMillis }
}

/// A correction of a seizure's time by a supervisor, with the reason (CUSTODY.md §3: seized_at
/// changes only so, never silently).
public struct StoredSeizureCorrection: Sendable, Equatable, Codable {
    public var id: Int64
    public var seizureID: Int64
    public var s10: String
    public var oldAtMillis: Int64
    public var newAtMillis: Int64
    public var reason: String
    public var correctedBy: String
    public var correctedAtMillis: Int64
    public init(id: Int64, seizureID: Int64, s10: String, oldAtMillis: Int64, newAtMillis: Int64, reason: String, correctedBy: String, correctedAtMillis: Int64) {
        self.id = id; self.seizureID = seizureID; self.s10 = s10; self.oldAtMillis = oldAtMillis; self.newAtMillis = newAtMillis; self.reason = reason
        self.correctedBy = correctedBy; self.correctedAtMillis = correctedAtMillis
    }

    /// What its audit entry records (and verify compares).
    public var auditDetail: [String: String] {
        ["seizure": String(seizureID), "s10": s10, "field": "seized_at", "old": String(oldAtMillis), "new": String(newAtMillis), "reason": reason,
         "at": String(correctedAtMillis)]
    }

    /// An edit more than 24 hours after the time it changes (R-DQ counts these).
    public var isLate: Bool { correctedAtMillis - oldAtMillis > StoredSeizure.deadlineMillis }

    /// The SQL both stores read a seizure's time with: the latest correction, else as recorded.
    public static let effectiveSeizedAtSQL =
        "COALESCE((SELECT k.new_seized_at FROM custody_seizure_correction k WHERE k.seizure_id = z.id ORDER BY k.id DESC LIMIT 1), z.seized_at)"
}

/// What a correction of a seizure's time must satisfy (both stores check it in the transaction).
public enum SeizureCorrectionRules {
    public static func check(_ z: StoredSeizure, newAtMillis: Int64, reason: String, inspectionStartMillis: Int64, atMillis: Int64, actor: String) throws {
        guard !reason.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw ArchiveError(.invalid, "REQUIRED_MISSING: a correction of the seizure time says why")
        }
        guard actor != z.seizingOfficer else {
            throw ArchiveError(.refused, "the seizing officer cannot correct the seizure's time; a supervisor does, with a reason")
        }
        guard newAtMillis >= inspectionStartMillis else { throw ArchiveError(.invalid, "DATE_ORDER: a seizure cannot precede the inspection that found it") }
        guard newAtMillis <= atMillis else { throw ArchiveError(.invalid, "DATE_ORDER: a seizure time cannot be in the future") }
        // A seizure is recorded when or after it happens: a correction only moves it earlier, so
        // nobody can push the 24-hour SEACATS clock forward.
        guard newAtMillis <= z.recordedSeizedAtMillis else {
            throw ArchiveError(.invalid, "DATE_ORDER: a seizure cannot have happened after it was recorded (\(Timestamp.iso(millis: z.recordedSeizedAtMillis)))")
        }
        guard newAtMillis != z.seizedAtMillis else { throw ArchiveError(.invalid, "VALUE_UNKNOWN: that is the seizure's time already") }
        if let entered = z.seacatsRecordedAtMillis, newAtMillis > entered {
            throw ArchiveError(.invalid, "DATE_ORDER: SEACATS recorded the seizure before that time")
        }
    }
}

public struct DataQualityFacts: Sendable, Equatable, Codable {
    /// Custody events in the period, and those typed by hand rather than scanned.
    public var events: Int
    public var manualEntries: Int
    /// Inspections that started before the item arrived (the Access database had 72).
    public var inspectionsBeforeArrival: Int
    /// Items received in the period without an arrival time and inspections without a date:
    /// the schema makes both impossible, and this counts them anyway.
    public var arrivalsWithoutDate: Int
    public var inspectionsWithoutDate: Int
    public init(events: Int, manualEntries: Int, inspectionsBeforeArrival: Int, arrivalsWithoutDate: Int, inspectionsWithoutDate: Int) {
        self.events = events; self.manualEntries = manualEntries; self.inspectionsBeforeArrival = inspectionsBeforeArrival
        self.arrivalsWithoutDate = arrivalsWithoutDate; self.inspectionsWithoutDate = inspectionsWithoutDate
    }

    /// Every event type the schema allows (its CHECK on custody_event.type). A period's events are
    /// counted through the (type, at) index, one range a type: there is no index on the time alone,
    /// and without the types the count read every event of the archive.
    public static let eventTypes = ["RECEIVED", "MOVED", "INSPECT_START", "INSPECT_END", "SEALED", "UNSEALED", "TO_LAB", "FROM_LAB", "TO_AGENCY",
                                    "RETURNED_TO_CARRIER", "DESTROYED", "AUDIT_SEEN"]
    static let anyType = "e.type IN (" + eventTypes.map { "'\($0)'" }.joined(separator: ", ") + ")"

    /// The ids of a period's events, through the (type, at) index (both stores; `$1` from, `$2` to).
    public static let eventIDsSQL = "SELECT e.id FROM custody_event e WHERE \(anyType) AND e.at >= $1 AND e.at < $2 ORDER BY e.id"

    /// The query both stores run: bind from, to three times, in order.
    public static let sql = """
        SELECT (SELECT count(*) FROM custody_event e WHERE \(anyType) AND e.at >= ? AND e.at < ?) AS events,
               (SELECT count(*) FROM custody_event e WHERE \(anyType) AND e.at >= ? AND e.at < ? AND e.manual_entry) AS manual,
               (SELECT count(*) FROM custody_inspection n JOIN custody_item i ON i.id = n.item_id
                 WHERE n.ended_at >= ? AND n.ended_at < ? AND n.started_at < i.first_arrival_at) AS early,
               (SELECT count(*) FROM custody_item i WHERE i.first_arrival_at IS NULL) AS no_arrival,
               (SELECT count(*) FROM custody_inspection n WHERE n.started_at IS NULL OR n.ended_at IS NULL) AS no_date
        """
}

/// The query both stores run for `custodyItemsDisagreeingWithReceipt` (bind the limit).
public enum CustodyItemChecks {
    public static let disagreeingWithReceiptSQL = """
        SELECT i.id, i.s10 FROM custody_item i
        LEFT JOIN custody_event e ON e.id = (SELECT min(x.id) FROM custody_event x WHERE x.item_id = i.id AND x.type = 'RECEIVED')
        WHERE e.id IS NULL OR e.at <> i.first_arrival_at
           OR coalesce(e.detail, '') <> coalesce('presentation=' || i.presentation_id, '')
        ORDER BY i.id LIMIT
        """
}

/// R-EFF counted by the database (CUSTODY.md §7 P3: the OIG's nine-month window in one read):
/// the targets targeted in a period, grouped by rule version, whether each was received by
/// `asOf`, whether it had an inspection ended by `asOf`, and its first hit's violation by
/// `asOf` (a seizure at its corrected time, a detention, a referral for a violation, an
/// assessment as `revenue`; on the same instant in that order, as `InspectionAndHit.first`).
/// The flags are independent: the report counts an inspection only for a received target and a
/// hit only for an inspected one.
public struct EffectivenessCount: Sendable, Equatable {
    public var ruleCode: String
    public var ruleVersion: Int
    public var presented: Bool
    public var inspected: Bool
    public var violation: String?
    public var targets: Int
    public init(ruleCode: String, ruleVersion: Int, presented: Bool, inspected: Bool, violation: String?, targets: Int) {
        self.ruleCode = ruleCode; self.ruleVersion = ruleVersion; self.presented = presented; self.inspected = inspected
        self.violation = violation; self.targets = targets
    }

    /// The query both stores run: $1 as_of, $2 and $3 the period. Each target is one pass of
    /// index lookups through its identifier's items (never a scan of events or seizures by
    /// time, which grows with the archive). SQLite is told the join order and kept off the
    /// (type, at) index, which its planner would otherwise pick and walk for every target.
    public static func sql(sqlite: Bool) -> String {
        let join = sqlite ? "CROSS JOIN" : "JOIN"
        let type = sqlite ? "+e.type" : "e.type", at = sqlite ? "+e.at" : "e.at"
        let flag = { (x: String) in sqlite ? x : "(\(x))::int" }
        return """
            SELECT rule_code, rule_version, presented, inspected, violation, count(*) FROM (
              SELECT t.rule_code, t.rule_version,
                \(flag("EXISTS (SELECT 1 FROM custody_item i \(join) custody_event e ON e.item_id = i.id WHERE i.s10 = t.s10 AND \(type) = 'RECEIVED' AND \(at) <= $1)")) AS presented,
                \(flag("EXISTS (SELECT 1 FROM custody_item j \(join) custody_inspection n ON n.item_id = j.id WHERE j.s10 = t.s10 AND n.ended_at <= $1)")) AS inspected,
                (SELECT h.v FROM (
                    SELECT \(StoredSeizureCorrection.effectiveSeizedAtSQL) AS at, 0 AS p, z.violation_type AS v
                      FROM custody_item j \(join) custody_seizure z ON z.item_id = j.id WHERE j.s10 = t.s10
                    UNION ALL SELECT d.detained_at, 1, d.violation_type FROM custody_item j \(join) custody_detention d ON d.item_id = j.id WHERE j.s10 = t.s10
                    UNION ALL SELECT f.notified_at, 2, f.violation_type FROM custody_item j \(join) custody_referral f ON f.item_id = j.id
                      WHERE j.s10 = t.s10 AND f.violation_type IS NOT NULL
                    UNION ALL SELECT u.assessed_at, 3, 'revenue' FROM custody_item j \(join) custody_duty u ON u.item_id = j.id WHERE j.s10 = t.s10
                  ) h WHERE h.at <= $1 ORDER BY h.at, h.p LIMIT 1) AS violation
              FROM custody_target t WHERE t.targeted_at >= $2 AND t.targeted_at < $3
            ) c GROUP BY rule_code, rule_version, presented, inspected, violation
            ORDER BY rule_code, rule_version, presented, inspected, violation
            """
    }
}

/// The query both stores run for `custodyEventsAfterSeizure`: $1 from, $2 to; the event columns
/// and the join hint filled in by each store.
public enum SeizedItemEvents {
    public static func sql(columns: String, sqlite: Bool) -> String {
        let join = sqlite ? "CROSS JOIN" : "JOIN", at = sqlite ? "+e.at" : "e.at"
        return """
            SELECT \(columns) FROM custody_seizure z \(join) custody_item i ON i.id = z.item_id \(join) custody_event e ON e.item_id = i.id
            WHERE (i.closed_at IS NULL OR i.closed_at >= $1) AND \(at) >= $1 AND \(at) < $2
              AND e.at >= \(StoredSeizureCorrection.effectiveSeizedAtSQL)
            ORDER BY e.at, e.id
            """
    }
}

public struct InspectionAndHit: Sendable, Equatable {
    public var inspectedAtMillis: Int64?
    public var hitAtMillis: Int64?
    public var violation: String?
    public init(inspectedAtMillis: Int64?, hitAtMillis: Int64?, violation: String?) {
        self.inspectedAtMillis = inspectedAtMillis; self.hitAtMillis = hitAtMillis; self.violation = violation
    }

    /// The first of an item's hits (a seizure, a detention, a referral for a violation: each its
    /// first time and violation, nil when it has none).
    public static func first(inspected: Int64?, hits: [(Int64?, String?)]) -> InspectionAndHit {
        let first = hits.compactMap { h in h.0.map { ($0, h.1) } }.min { $0.0 < $1.0 }
        return InspectionAndHit(inspectedAtMillis: inspected, hitAtMillis: first?.0, violation: first?.1)
    }
}

public struct ReturnDraft: Sendable, Equatable {
    public var s10: String
    public var carrier: String
    public var station: String?
    /// For an item never inspected: the supervisor who allows it, and why.
    public var supervisor: String?
    public var reason: String?
    public var atMillis: Int64
    public init(s10: String, carrier: String, station: String?, supervisor: String?, reason: String?, atMillis: Int64) {
        self.s10 = s10; self.carrier = carrier; self.station = station; self.supervisor = supervisor; self.reason = reason; self.atMillis = atMillis
    }

    /// The event's detail; refuses an uninspected return of a targeted item without a supervisor
    /// other than the actor and a reason.
    /// An item nobody targeted (bulk mail) goes back uninspected without a supervisor: R-NI is
    /// about targets, and bulk mail is reconciled by container.
    public static func detail(_ r: ReturnDraft, inspected: Bool, targeted: Bool = true, actor: String) throws -> String {
        if inspected { return "inspected carrier=\(r.carrier)" }
        if !targeted { return "untargeted carrier=\(r.carrier)" }
        let reason = (r.reason ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard let supervisor = r.supervisor?.trimmingCharacters(in: .whitespaces), !supervisor.isEmpty, supervisor.lowercased() != actor.lowercased(),
              !reason.isEmpty else {
            throw ArchiveError(.invalid, "REQUIRED_MISSING: \(r.s10) was never inspected; returning it needs a supervisor (not you) and a reason")
        }
        return "uninspected supervisor=\(supervisor) carrier=\(r.carrier) reason=\(reason)"
    }
}

public struct ReturnBatchMismatch: Sendable, Equatable {
    public var id: Int64
    public var members: Int
    public var events: Int
    public var strays: Int
    public var scanned: Int?
    public init(id: Int64, members: Int, events: Int, strays: Int, scanned: Int?) {
        self.id = id; self.members = members; self.events = events; self.strays = strays; self.scanned = scanned
    }
    public var isMismatch: Bool { members != events || strays > 0 || (scanned.map { $0 != members } ?? false) }
}

/// Return batches whose members are not exactly the return events naming them, or whose count at
/// the close is not their members', tallied while the events are read in id order: the members
/// are read alongside, in event order too, so nothing grows with the number of events.
public struct ReturnBatchTally: Sendable {
    var events: [Int64: Int] = [:], members: [Int64: Int] = [:], strays: [Int64: Int] = [:]
    var memberAfter: Int64 = 0
    var buffered: [(eventID: Int64, batch: Int64)] = []
    var membersDone = false

    public init() {}

    /// Counts one page of events (the return events among them, by the batch their detail names)
    /// and the members of events up to `through`, the page's last id; pages come in id order.
    public mutating func add(_ page: [StoredCustodyEvent], through: Int64, store: any CustodyStore) async throws {
        var named: [Int64: Int64] = [:]
        for e in page where e.type == "RETURNED_TO_CARRIER" {
            if let b = CustodyScanRules.returnBatch(ofDetail: e.detail) { named[e.id] = b; events[b, default: 0] += 1 }
        }
        while true {
            if buffered.isEmpty {
                if membersDone { return }
                buffered = try await store.returnBatchMembers(afterEventID: memberAfter, limit: 10_000)
                guard let last = buffered.last else { membersDone = true; return }
                memberAfter = last.eventID
            }
            var used = 0
            for m in buffered {
                guard m.eventID <= through else { break }
                members[m.batch, default: 0] += 1
                if named[m.eventID] != m.batch { strays[m.batch, default: 0] += 1 }
                used += 1
            }
            buffered.removeFirst(used)
            if !buffered.isEmpty { return }
        }
    }

    /// After the last page: members of events beyond it are strays; then the mismatches.
    public mutating func finish(store: any CustodyStore) async throws -> [ReturnBatchMismatch] {
        try await add([], through: .max, store: store)
        let counts = try await store.returnBatchCounts()
        let ids = Set(events.keys).union(members.keys).union(counts.keys)
        return ids.sorted().compactMap { id in
            let m = ReturnBatchMismatch(id: id, members: members[id] ?? 0, events: events[id] ?? 0, strays: strays[id] ?? 0, scanned: counts[id] ?? nil)
            return m.isMismatch ? m : nil
        }
    }
}

extension CustodyStore {
    /// The return batches' mismatches over every custody event (verify tallies them in its own pass).
    public func returnBatchMismatches() async throws -> [ReturnBatchMismatch] {
        var tally = ReturnBatchTally()
        var after: Int64 = 0
        while true {
            let page = try await custodyEvents(afterID: after, limit: 5000)
            guard let last = page.last else { break }
            after = last.id
            try await tally.add(page, through: last.id, store: self)
        }
        return try await tally.finish(store: self)
    }
}
