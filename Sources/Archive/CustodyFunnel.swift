import Foundation
import RecordkeeperCore

// The volume funnel (CUSTODY.md §3 R-FUN, findings F1 and F2): what the carrier says arrived, what
// was asked for (targets and category requests), what was presented, inspected and found, per day,
// origin and mail class. The carrier's counts arrive as files (a daily extract per origin and class;
// each import kept with its rejected rows, the latest import's count in force for a day); category
// ("bulk") requests, e.g. a share of the day's parcels from a country of interest, are recorded by a
// targeter; the countries-of-interest list is a setting with its history.

public protocol CustodyFunnelStore: Sendable {
    /// Records a category request (kept as recorded).
    func requestBulk(_ draft: BulkRequestDraft, actor: String) async throws -> StoredBulkRequest
    /// Category requests for days in [fromDay, toDay) (yyyy-MM-dd, UTC), in day then id order.
    func bulkRequests(fromDay: String, toDay: String) async throws -> [StoredBulkRequest]

    /// The carrier-count import of this file, if it was imported.
    func arrivalImport(fileHash: String) async throws -> StoredTargetImport?
    /// Stores a carrier-count file's accepted rows and its rejected rows, with its audit entry, in
    /// one transaction; a file imported before returns that import and writes nothing.
    func commitArrivalImport(_ draft: ArrivalImportDraft, actor: String) async throws -> StoredTargetImport
    func arrivalImports() async throws -> [StoredTargetImport]
    /// The counts an import stored, in line order.
    func carrierCounts(importID: Int64) async throws -> [StoredCarrierCount]
    /// The counts in force for days in [fromDay, toDay): for each day, origin and class the count
    /// of the latest import that gave one.
    func carrierCounts(fromDay: String, toDay: String) async throws -> [StoredCarrierCount]

    /// For verify: carrier counts that belong to no carrier-count import (a row slipped in under
    /// another import's number would otherwise count).
    func carrierCountsOutsideArrivalImports() async throws -> Int

    /// Items first received in [from, to) and by `asOf`: identifier → first receipt in the window.
    func firstArrivals(from: Int64, to: Int64, asOf: Int64) async throws -> [String: Int64]
    /// Targets due in [from, to): expected then, or, with no expected arrival, targeted then.
    func targetsDue(from: Int64, to: Int64) async throws -> [StoredTarget]
    /// The identifiers among these that a target targeted by `asOf` names, each with its rules'
    /// categories (narcotics, revenue, coi_bulk, random…).
    func targetCategories(s10s: [String], asOf: Int64) async throws -> [String: Set<String>]

    /// The countries of interest (ISO 3166-1 alpha-2, sorted; empty until set).
    func coiCountries() async throws -> [String]
    /// The list in force at `asOf` (the latest set by then).
    func coiCountries(asOf: Int64) async throws -> [String]
    /// Replaces the list (a new setting row; the old list stays in the history and the audit log).
    func setCOICountries(_ countries: [String], reason: String, atMillis: Int64, actor: String) async throws
    /// Every custody setting row (the COI list, the addressee retention…), oldest first (for verify).
    func settingHistory() async throws -> [StoredCustodySetting]
}

/// The check both stores run for verify.
public enum CarrierCountChecks {
    public static let outsideSQL = """
        SELECT count(*) FROM custody_carrier_count c
        WHERE NOT EXISTS (SELECT 1 FROM custody_import i WHERE i.id = c.import_id AND i.kind = 'arrivals')
        """
}

/// The setting key of the countries-of-interest list, and its form in the setting row.
public enum COISetting {
    public static let key = "coi_countries"
    public static func value(_ countries: [String]) -> String { countries.sorted().joined(separator: ",") }
    public static func countries(_ value: String?) -> [String] {
        (value ?? "").split(separator: ",").map(String.init).filter { !$0.isEmpty }.sorted()
    }
}

public struct BulkRequestDraft: Sendable, Equatable {
    /// yyyy-MM-dd (UTC)
    public var day: String
    public var originCountry: String
    public var mailClass: String
    /// Pieces asked for, when the request names a number (nil: "all we can", a category).
    public var requestedCount: Int?
    public var reason: String
    public var atMillis: Int64
    public init(day: String, originCountry: String, mailClass: String, requestedCount: Int?, reason: String, atMillis: Int64) {
        self.day = day; self.originCountry = originCountry; self.mailClass = mailClass; self.requestedCount = requestedCount; self.reason = reason
        self.atMillis = atMillis
    }
}

public struct StoredBulkRequest: Sendable, Equatable, Codable {
    public var id: Int64
    public var day: String
    public var originCountry: String
    public var mailClass: String
    public var requestedCount: Int?
    public var reason: String
    public var requestedBy: String
    public var requestedAtMillis: Int64
    public init(id: Int64, day: String, originCountry: String, mailClass: String, requestedCount: Int?, reason: String, requestedBy: String,
                requestedAtMillis: Int64) {
        self.id = id; self.day = day; self.originCountry = originCountry; self.mailClass = mailClass; self.requestedCount = requestedCount
        self.reason = reason; self.requestedBy = requestedBy; self.requestedAtMillis = requestedAtMillis
    }

    /// What the audit log records of a request (verify compares it).
    public var auditDetail: [String: String] {
        ["day": day, "origin": originCountry, "class": mailClass, "count": requestedCount.map(String.init) ?? "", "reason": reason,
         "at": String(requestedAtMillis)]
    }
}

/// A carrier's count of pieces that arrived on a day from one origin in one mail class.
public struct StoredCarrierCount: Sendable, Equatable, Codable {
    public var importID: Int64
    public var line: Int
    public var day: String
    public var originCountry: String
    public var mailClass: String
    public var pieces: Int
    public init(importID: Int64, line: Int, day: String, originCountry: String, mailClass: String, pieces: Int) {
        self.importID = importID; self.line = line; self.day = day; self.originCountry = originCountry; self.mailClass = mailClass; self.pieces = pieces
    }

    /// The canonical form an import's digest covers (every count it stored, in line order).
    public var canonical: [UInt8] {
        var e = CanonicalEncoder(kind: "custody.carrier-count", version: 1)
        e.add("line", Int64(line))
        e.add("day", day)
        e.add("origin_country", originCountry)
        e.add("mail_class", mailClass)
        e.add("pieces", Int64(pieces))
        return e.bytes
    }

    /// The digest of an import's counts.
    public static func digest(_ counts: [StoredCarrierCount]) -> String {
        var hasher = StreamingHasher()
        for c in counts { c.canonical.withUnsafeBytes { hasher.update($0) } }
        return hasher.finalize().hex
    }
}

public struct ArrivalImportDraft: Sendable {
    public var fileName: String
    public var fileHash: String
    /// Accepted rows (their import id is the store's to assign).
    public var rows: [StoredCarrierCount]
    public var rowsTotal: Int
    public var rejected: [StoredRejectedRow]
    public var unknownColumns: [String]
    public init(fileName: String, fileHash: String, rows: [StoredCarrierCount], rowsTotal: Int, rejected: [StoredRejectedRow], unknownColumns: [String]) {
        self.fileName = fileName; self.fileHash = fileHash; self.rows = rows; self.rowsTotal = rowsTotal; self.rejected = rejected
        self.unknownColumns = unknownColumns
    }
}

// Advance electronic data (CUSTODY.md §3 R-AED, finding F17): what the origin post sent ahead of a
// piece, reduced to the facts the completeness report needs. Rows arrive in a canonical CSV that
// site readers of ITMATT/CUSITM produce (the UPU messages themselves are not read yet).

public protocol CustodyAdvanceDataStore: Sendable {
    func aedImport(fileHash: String) async throws -> StoredTargetImport?
    /// Stores an advance-data file's accepted rows and its rejected rows, with its audit entry, in
    /// one transaction; a file imported before returns that import and writes nothing.
    func commitAEDImport(_ draft: AEDImportDraft, actor: String) async throws -> StoredTargetImport
    func aedImports() async throws -> [StoredTargetImport]
    func advanceData(importID: Int64) async throws -> [StoredAdvanceData]
    /// For each of these identifiers, its advance data received by `asOf`: the row in force (the
    /// latest received; of two received at once, the later import's) and when the first arrived.
    func advanceData(itemIDs: [String], asOf: Int64) async throws -> [String: AdvanceDataInForce]
    /// Rows in force at `asOf` whose identifier is not an S10 one, received in [from, to).
    func advanceDataOtherIDs(from: Int64, to: Int64, asOf: Int64) async throws -> [StoredAdvanceData]
    /// For verify: advance-data rows that belong to no advance-data import.
    func advanceDataOutsideImports() async throws -> Int
}

public struct StoredAdvanceData: Sendable, Equatable, Codable {
    public var importID: Int64
    public var line: Int
    /// The piece's identifier as the post sent it (an S10 identifier, or another scheme's).
    public var itemID: String
    /// s10 or other
    public var idScheme: String
    public var originCountry: String
    public var receivedAtMillis: Int64
    /// Article lines in the declaration, and how many carry an HS code.
    public var contentLines: Int
    public var hsCodedLines: Int
    /// Whether the recipient's name and address were sent.
    public var recipientPresent: Bool
    public init(importID: Int64, line: Int, itemID: String, idScheme: String, originCountry: String, receivedAtMillis: Int64, contentLines: Int,
                hsCodedLines: Int, recipientPresent: Bool) {
        self.importID = importID; self.line = line; self.itemID = itemID; self.idScheme = idScheme; self.originCountry = originCountry
        self.receivedAtMillis = receivedAtMillis; self.contentLines = contentLines; self.hsCodedLines = hsCodedLines; self.recipientPresent = recipientPresent
    }

    public var canonical: [UInt8] {
        var e = CanonicalEncoder(kind: "custody.aed", version: 1)
        e.add("line", Int64(line))
        e.add("item", itemID)
        e.add("scheme", idScheme)
        e.add("origin_country", originCountry)
        e.add("received_at", receivedAtMillis)
        e.add("content_lines", Int64(contentLines))
        e.add("hs_coded_lines", Int64(hsCodedLines))
        e.add("recipient", recipientPresent ? "yes" : "no")
        return e.bytes
    }

    public static func digest(_ rows: [StoredAdvanceData]) -> String {
        var hasher = StreamingHasher()
        for r in rows { r.canonical.withUnsafeBytes { hasher.update($0) } }
        return hasher.finalize().hex
    }
}

public struct AEDImportDraft: Sendable {
    public var fileName: String
    public var fileHash: String
    public var rows: [StoredAdvanceData]
    public var rowsTotal: Int
    public var rejected: [StoredRejectedRow]
    public var unknownColumns: [String]
    public init(fileName: String, fileHash: String, rows: [StoredAdvanceData], rowsTotal: Int, rejected: [StoredRejectedRow], unknownColumns: [String]) {
        self.fileName = fileName; self.fileHash = fileHash; self.rows = rows; self.rowsTotal = rowsTotal; self.rejected = rejected; self.unknownColumns = unknownColumns
    }
}

public struct AdvanceDataInForce: Sendable, Equatable {
    public var row: StoredAdvanceData
    public var firstReceivedAtMillis: Int64
    public init(row: StoredAdvanceData, firstReceivedAtMillis: Int64) { self.row = row; self.firstReceivedAtMillis = firstReceivedAtMillis }

    /// Folds rows of one identifier, in (received_at, import) order, into what is in force.
    public static func fold(_ rows: [StoredAdvanceData]) -> [String: AdvanceDataInForce] {
        var out: [String: AdvanceDataInForce] = [:]
        for r in rows.sorted(by: { ($0.receivedAtMillis, $0.importID) < ($1.receivedAtMillis, $1.importID) }) {
            out[r.itemID] = AdvanceDataInForce(row: r, firstReceivedAtMillis: out[r.itemID]?.firstReceivedAtMillis ?? r.receivedAtMillis)
        }
        return out
    }

    /// The rows of other schemes in force at `asOf` (both stores select with it).
    public static let otherIDsSQL = """
        SELECT a.* FROM custody_aed a JOIN custody_import i ON i.id = a.import_id AND i.kind = 'aed'
        WHERE a.id_scheme = 'other' AND a.received_at >= $1 AND a.received_at < $2 AND a.received_at <= $3
        AND NOT EXISTS (SELECT 1 FROM custody_aed b JOIN custody_import j ON j.id = b.import_id AND j.kind = 'aed'
                        WHERE b.item_id = a.item_id AND b.received_at <= $3 AND b.received_at < $2
                        AND (b.received_at > a.received_at OR (b.received_at = a.received_at AND b.import_id > a.import_id)))
        ORDER BY a.received_at, a.item_id
        """

    public static let outsideImportsSQL = """
        SELECT count(*) FROM custody_aed a WHERE NOT EXISTS (SELECT 1 FROM custody_import i WHERE i.id = a.import_id AND i.kind = 'aed')
        """
}

public struct StoredCustodySetting: Sendable, Equatable {
    public var key: String
    public var value: String
    public var reason: String
    public var setBy: String
    public var setAtMillis: Int64
    public init(key: String, value: String, reason: String, setBy: String, setAtMillis: Int64) {
        self.key = key; self.value = value; self.reason = reason; self.setBy = setBy; self.setAtMillis = setAtMillis
    }
}
