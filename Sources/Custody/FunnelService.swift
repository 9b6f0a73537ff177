import Archive
import Foundation
import RecordkeeperCore

/// The volume funnel (R-FUN; findings F1 and F2): per day, origin and mail class, what the carrier
/// says arrived → what was asked for (targets, and category requests such as a share of the day's
/// parcels from a country of interest) → what was presented → inspected → found. The OIG could not
/// put these numbers side by side (its Table 1 had to be assembled from CBP trend data); here they
/// come from the records themselves.
///
/// Inputs besides the custody records: the carrier's daily counts (a CSV or XLSX extract, imported
/// like a target list: dry run first, rejected rows kept with their codes, a file imported once, a
/// later file's count for the same day, origin and class in force), category requests, and the
/// countries-of-interest list (a setting with its history).
public struct FunnelService: Sendable {
    public typealias Store = any CustodyStore & CustodyFunnelStore
    let store: Store
    let now: @Sendable () -> Int64

    public init(store: Store, now: @escaping @Sendable () -> Int64 = { Timestamp.nowMillis() }) {
        self.store = store
        self.now = now
    }

    // MARK: - Inputs

    static func country(_ text: String) throws -> String {
        let c = text.trimmingCharacters(in: .whitespaces).uppercased()
        guard S10.isCountry(c) else { throw CustodyError(.invalid, "VALUE_UNKNOWN: \(text) is not an ISO 3166-1 alpha-2 country code") }
        return c
    }

    static func mailClass(_ text: String) throws -> String {
        let m = text.trimmingCharacters(in: .whitespaces).lowercased()
        guard let c = MailClass(rawValue: m) else {
            throw CustodyError(.invalid, "VALUE_UNKNOWN: mail class \(text) is not one of \(MailClass.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return c.rawValue
    }

    /// Records a category request: pieces of one origin and class asked of the carrier for a day,
    /// with a number or without one ("all of it").
    public func requestBulk(day: String, origin: String, mailClass: String, count: Int?, reason: String, actor: String) async throws -> StoredBulkRequest {
        guard let d = CivilDate(day.trimmingCharacters(in: .whitespaces)), day.trimmingCharacters(in: .whitespaces).count == 10 else {
            throw CustodyError(.invalid, "DATE_INVALID: \(day) is not a date (YYYY-MM-DD)")
        }
        if let count, count <= 0 { throw CustodyError(.invalid, "VALUE_UNKNOWN: a requested count is a positive whole number (leave it out for all pieces)") }
        let reason = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !reason.isEmpty else { throw CustodyError(.invalid, "REQUIRED_MISSING: say why the pieces are requested (the reason)") }
        return try await store.requestBulk(BulkRequestDraft(day: d.description, originCountry: try Self.country(origin), mailClass: try Self.mailClass(mailClass),
                                                            requestedCount: count, reason: String(reason.prefix(500)), atMillis: now()), actor: actor)
    }

    public func coiCountries() async throws -> [String] { try await store.coiCountries() }

    /// Replaces the countries-of-interest list (comma- or space-separated ISO codes), with a reason.
    public func setCOI(_ list: String, reason: String, actor: String) async throws -> [String] {
        let codes = list.split(whereSeparator: { $0 == "," || $0 == " " }).map(String.init).filter { !$0.isEmpty }
        let countries = Array(Set(try codes.map(Self.country))).sorted()
        let reason = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !reason.isEmpty else { throw CustodyError(.invalid, "REQUIRED_MISSING: say why the list changes (the reason)") }
        try await store.setCOICountries(countries, reason: String(reason.prefix(500)), atMillis: now(), actor: actor)
        return countries
    }

    public struct ArrivalOutcome: Sendable, Encodable {
        public var file: String
        public var sha256: String
        public var dryRun: Bool
        public var alreadyImported: Bool
        public var rows: Int
        public var accepted: Int
        public var rejected: [RejectedRow]
        public var unknownColumns: [String]
        public var stored: StoredTargetImport?
    }

    /// Reads a carrier-count file (`date, origin_country, mail_class, pieces`; CSV or the first
    /// sheet of an XLSX workbook) and, with `commit`, stores it. A file imported before adds nothing.
    public func importArrivals(_ file: URL, fileName: String? = nil, commit: Bool, actor: String) async throws -> ArrivalOutcome {
        try await Self.rowImport(file, fileName: fileName, commit: commit, plan: {
            let p = try ArrivalCounts.plan($0)
            return (p.rowsTotal, p.accepted, p.rejected, p.unknownColumns)
        }, existing: { try await store.arrivalImport(fileHash: $0) }, store: { name, hash, rows, total, rejected, unknown in
            try await store.commitArrivalImport(ArrivalImportDraft(fileName: name, fileHash: hash, rows: rows, rowsTotal: total, rejected: rejected,
                                                                   unknownColumns: unknown), actor: actor)
        })
    }

    /// The row-by-row imports' common course (carrier counts, advance data, manifests): read the
    /// file and its SHA-256, plan its rows, answer a file imported before with that import, and with
    /// `commit` store the accepted rows and keep the rejected ones.
    static func rowImport<Row>(_ file: URL, fileName: String?, commit: Bool,
                               plan: (Data) throws -> (rowsTotal: Int, accepted: [Row], rejected: [RejectedRow], unknownColumns: [String]),
                               existing: (String) async throws -> StoredTargetImport?,
                               check: (StoredTargetImport, String) async throws -> Void = { _, _ in },
                               store: (String, String, [Row], Int, [StoredRejectedRow], [String]) async throws -> StoredTargetImport) async throws -> ArrivalOutcome {
        let (data, hash) = try TargetImportService.read(file)
        let planned = try plan(data)
        let name = fileName ?? file.lastPathComponent
        var stored = try await existing(hash)
        if let s = stored { try await check(s, name) }
        let before = stored != nil
        if commit, stored == nil {
            stored = try await store(name, hash, planned.accepted, planned.rowsTotal,
                                     planned.rejected.map { StoredRejectedRow(line: $0.line, code: $0.code, detail: $0.detail, raw: $0.raw) }, planned.unknownColumns)
        }
        return ArrivalOutcome(file: name, sha256: hash, dryRun: !commit, alreadyImported: before, rows: planned.rowsTotal, accepted: planned.accepted.count,
                              rejected: planned.rejected, unknownColumns: planned.unknownColumns, stored: stored)
    }

    // MARK: - R-FUN

    public struct Report: Sendable, Encodable {
        public struct Row: Sendable, Encodable, Equatable {
            public var day: String
            public var origin: String
            public var mailClass: String
            public var coi: Bool
            /// What the carrier reported arriving (nil: no count imported for this day, origin and class).
            public var carrierArrivals: Int?
            /// Targets attributed to the day (see the definition).
            public var requestedTargeted = 0
            /// Category requests for the day, and the pieces they named (those that named a number).
            public var bulkRequests = 0
            public var bulkRequestedPieces: Int?
            public var presentedTargeted = 0
            /// Presented without a target: under a category request, or on the carrier's own initiative.
            public var presentedOther = 0
            public var inspectedTargeted = 0
            public var inspectedOther = 0
            public var hitsTargeted = 0
            public var hitsOther = 0
            /// Inspected ÷ carrier arrivals, and hits ÷ inspected, in percent (two places).
            public var examRate: Double?
            public var hitRate: Double?

            public var presented: Int { presentedTargeted + presentedOther }
            public var inspected: Int { inspectedTargeted + inspectedOther }
            public var hits: Int { hitsTargeted + hitsOther }

            mutating func rates() {
                examRate = Report.pct(inspected, carrierArrivals)
                hitRate = Report.pct(hits, inspected)
            }

            static func + (a: Row, b: Row) -> Row {
                var r = a
                r.carrierArrivals = a.carrierArrivals.map { $0 + (b.carrierArrivals ?? 0) } ?? b.carrierArrivals
                r.requestedTargeted += b.requestedTargeted
                r.bulkRequests += b.bulkRequests
                r.bulkRequestedPieces = a.bulkRequestedPieces.map { $0 + (b.bulkRequestedPieces ?? 0) } ?? b.bulkRequestedPieces
                r.presentedTargeted += b.presentedTargeted
                r.presentedOther += b.presentedOther
                r.inspectedTargeted += b.inspectedTargeted
                r.inspectedOther += b.inspectedOther
                r.hitsTargeted += b.hitsTargeted
                r.hitsOther += b.hitsOther
                return r
            }
        }
        /// The OIG's Table 1 lines over the period: pieces received, examined, exam rate, with a
        /// prohibited item, and its percentage.
        public struct TableLine: Sendable, Encodable, Equatable {
            public var line: String
            public var received: Int?
            public var examined: Int
            public var examRate: Double?
            public var withViolation: Int
            public var violationRate: Double?
        }
        /// a ÷ b in percent, two places (nil without a b).
        static func pct(_ a: Int, _ b: Int?) -> Double? { b.flatMap { $0 == 0 ? nil : (Double(a) / Double($0) * 10_000).rounded() / 100 } }

        public var from: String
        public var to: String
        public var asOf: String
        public var coiCountries: [String]
        /// Day × origin × class, in that order.
        public var rows: [Row]
        /// Per origin over the period, most arrivals first.
        public var origins: [Row]
        public var total: Row
        public var table1: [TableLine]
        public var definition = """
            R-FUN per UTC day x origin x mail class over whole UTC days, origin and class read from each piece's S10 identifier (the issuing \
            post's country; the service indicator: C, H parcel; E ems; R, V registered; L, U letter_post; others other). carrier_arrivals: \
            the latest imported carrier count for the day, origin and class, as imported now (corrections included; blank: none imported). \
            requested_targeted: targets targeted by as_of and attributed to the day (a target received by as_of to the day of its first \
            receipt, else to its expected arrival, else to the day it was targeted). bulk_requests and bulk_requested_pieces: category \
            requests for the day recorded by as_of, and the pieces they named. presented: pieces first received on the day by as_of \
            (targeted = named by a target targeted by as_of). inspected: of those, with an inspection ended by as_of; hits: of those \
            inspected, with a seizure, detention, referral for a violation or duty assessment by as_of. exam_rate = inspected / \
            carrier_arrivals; hit_rate = hits / inspected, percent. COI: the countries-of-interest list in force at as_of. Table 1: \
            countries of interest = inspected pieces from the listed countries not targeted on advance data (untargeted, or selected by a \
            coi_bulk or random rule), received = the carrier's arrivals for those origins; targeted using advance data = inspected pieces \
            targeted by a rule of any other category, received = all arrivals.
            """
    }

    /// Rule categories that select a sample of a country's or all mail rather than a piece on its
    /// advance data: OIG Table 1 counts what they select as "random examination".
    static let sampleCategories: Set<String> = [TargetCategory.coiBulk.rawValue, TargetCategory.random.rawValue]

    public func report(from: Int64, to: Int64, asOf: Int64) async throws -> Report {
        guard from < to else { throw CustodyError(.invalid, "the period's start is not before its end") }
        // The carrier counts whole days: a period of part days would set a day's count against part of its pieces.
        guard from % 86_400_000 == 0, to % 86_400_000 == 0 else {
            throw CustodyError(.invalid, "VALUE_UNKNOWN: R-FUN is by whole UTC days; start and end the period at midnight UTC (from=2019-06-18&to=2019-06-21)")
        }
        guard to - from <= 400 * 86_400_000 else { throw CustodyError(.invalid, "VALUE_UNKNOWN: R-FUN covers at most 400 days at a time") }
        func day(_ millis: Int64) -> String { CivilDate(dayNumber: Int(millis.floorDivided(by: 86_400_000))).description }
        let fromDay = day(from), toDay = day(to)
        let coi = Set(try await store.coiCountries(asOf: asOf))

        var rows: [String: Report.Row] = [:]
        func key(_ d: String, _ origin: String, _ mailClass: String) -> String { "\(d)|\(origin)|\(mailClass)" }
        func update(_ d: String, _ origin: String, _ mailClass: String, _ change: (inout Report.Row) -> Void) {
            let k = key(d, origin, mailClass)
            var r = rows[k] ?? Report.Row(day: d, origin: origin, mailClass: mailClass, coi: coi.contains(origin))
            change(&r)
            rows[k] = r
        }
        func classify(_ s10: String) -> (String, String) {
            guard case .success(let id) = S10.parse(s10) else { return ("", MailClass.other.rawValue) }
            return (String(id.country), id.mailClass.rawValue)
        }

        for c in try await store.carrierCounts(fromDay: fromDay, toDay: toDay) {
            update(c.day, c.originCountry, c.mailClass) { $0.carrierArrivals = ($0.carrierArrivals ?? 0) + c.pieces }
        }
        for b in try await store.bulkRequests(fromDay: fromDay, toDay: toDay) where b.requestedAtMillis <= asOf {
            update(b.day, b.originCountry, b.mailClass) { r in
                r.bulkRequests += 1
                if let n = b.requestedCount { r.bulkRequestedPieces = (r.bulkRequestedPieces ?? 0) + n }
            }
        }
        // Presented: pieces first received in the period; which of them are targeted; what became of them.
        let arrivals = try await store.firstArrivals(from: from, to: to, asOf: asOf)
        let presented = arrivals.keys.sorted()
        var categories: [String: Set<String>] = [:]
        var outcomes: [String: InspectionAndHit] = [:]
        // In slices, so no one statement carries a nine-month facility's identifiers.
        for start in stride(from: 0, to: presented.count, by: 20_000) {
            let slice = Array(presented[start..<min(presented.count, start + 20_000)])
            categories.merge(try await store.targetCategories(s10s: slice, asOf: asOf)) { a, _ in a }
            outcomes.merge(try await store.inspectionsAndHits(s10s: slice, asOf: asOf)) { a, _ in a }
        }
        var advanceData = Set<String>() // presented pieces targeted by a rule on advance data (not a COI or random sample)
        for s10 in presented {
            let (origin, mailClass) = classify(s10)
            let isTarget = categories[s10] != nil
            let cats = categories[s10] ?? []
            if !cats.subtracting(Self.sampleCategories).isEmpty { advanceData.insert(s10) }
            let o = outcomes[s10]
            let inspected = o?.inspectedAtMillis != nil, hit = inspected && o?.hitAtMillis != nil
            update(day(arrivals[s10]!), origin, mailClass) { r in
                if isTarget {
                    r.requestedTargeted += 1
                    r.presentedTargeted += 1
                    if inspected { r.inspectedTargeted += 1 }
                    if hit { r.hitsTargeted += 1 }
                } else {
                    r.presentedOther += 1
                    if inspected { r.inspectedOther += 1 }
                    if hit { r.hitsOther += 1 }
                }
            }
        }
        // Targets due in the period and not received by as_of (one per piece, however many rules).
        let due = try await store.targetsDue(from: from, to: to).filter { $0.targetedAtMillis <= asOf }
        let dueS10s = Array(Set(due.map(\.s10))).sorted()
        let received = try await store.firstReceipts(s10s: dueS10s, asOf: asOf)
        var counted = Set<String>()
        for t in due where received[t.s10] == nil && counted.insert(t.s10).inserted {
            let (origin, mailClass) = classify(t.s10)
            update(day(t.expectedArrivalAtMillis ?? t.targetedAtMillis), origin, mailClass) { $0.requestedTargeted += 1 }
        }

        var ordered = rows.values.sorted { ($0.day, $0.origin, $0.mailClass) < ($1.day, $1.origin, $1.mailClass) }
        for i in ordered.indices { ordered[i].rates() }
        var byOrigin: [String: Report.Row] = [:]
        var total = Report.Row(day: "", origin: "all", mailClass: "all", coi: false)
        for r in ordered {
            var o = byOrigin[r.origin] ?? Report.Row(day: "", origin: r.origin, mailClass: "all", coi: r.coi)
            o = o + r
            byOrigin[r.origin] = o
            total = total + r
        }
        var origins = Array(byOrigin.values)
        for i in origins.indices { origins[i].rates() }
        origins.sort { ($0.carrierArrivals ?? -1, $0.presented, $1.origin) > ($1.carrierArrivals ?? -1, $1.presented, $0.origin) }
        total.rates()

        // Table 1: pieces from the countries of interest examined without an advance-data target
        // (untargeted, or selected by a COI or random-sample rule), and pieces targeted on advance data.
        let coiRows = ordered.filter(\.coi)
        let coiReceived = coiRows.contains { $0.carrierArrivals != nil } ? coiRows.reduce(0) { $0 + ($1.carrierArrivals ?? 0) } : nil
        var coiExamined = 0, coiHits = 0, aedExamined = 0, aedHits = 0
        for s10 in presented where outcomes[s10]?.inspectedAtMillis != nil {
            let hit = outcomes[s10]?.hitAtMillis != nil
            if advanceData.contains(s10) {
                aedExamined += 1
                if hit { aedHits += 1 }
            } else if coi.contains(classify(s10).0) {
                coiExamined += 1
                if hit { coiHits += 1 }
            }
        }
        let table1 = [
            Report.TableLine(line: "Countries of interest, not targeted on advance data", received: coiReceived, examined: coiExamined,
                             examRate: Report.pct(coiExamined, coiReceived), withViolation: coiHits, violationRate: Report.pct(coiHits, coiExamined)),
            Report.TableLine(line: "Targeted using advance data", received: total.carrierArrivals, examined: aedExamined,
                             examRate: Report.pct(aedExamined, total.carrierArrivals), withViolation: aedHits, violationRate: Report.pct(aedHits, aedExamined)),
        ]
        return Report(from: Timestamp.iso(millis: from), to: Timestamp.iso(millis: to), asOf: Timestamp.iso(millis: asOf), coiCountries: coi.sorted(),
                      rows: ordered, origins: origins, total: total, table1: table1)
    }
}

/// A carrier-count file: header row, then `date, origin_country, mail_class, pieces` (any order;
/// other columns kept by name in the import record). Every row the import refuses is kept as
/// written with its code: `REQUIRED_MISSING`, `DATE_INVALID`, `VALUE_UNKNOWN` (a country or class
/// outside its list, or pieces not a whole number ≥ 0), `DUPLICATE` (a day, origin and class given
/// twice in the file), `CSV_MALFORMED`.
public enum ArrivalCounts {
    public static let columns = ["date", "origin_country", "mail_class", "pieces"]
    /// A day's extract is small (origins × classes); a file larger than this is not one.
    public static let maxRows = 200_000
    public static let maxFileBytes = 16 << 20

    public struct Plan: Sendable {
        public var rowsTotal = 0
        public var accepted: [StoredCarrierCount] = []
        public var rejected: [RejectedRow] = []
        public var unknownColumns: [String] = []
    }

    public static func plan(_ data: Data) throws -> Plan {
        guard data.count <= maxFileBytes else {
            throw CustodyError(.invalid, "the file is larger than \(maxFileBytes >> 20) MB; a carrier's daily counts are one row per day, origin and class")
        }
        var plan = Plan()
        var seen: [String: Int] = [:] // day|origin|class → line
        let read = try TargetImport.readTable(data, columns: columns, maxRows: maxRows,
                                              tooMany: "a carrier's daily counts are one row per day, origin and class") { r in
            let dateText = r.value("date")!
            guard dateText.count == 10, let d = CivilDate(dateText) else { return ("DATE_INVALID", "\(dateText) is not a date (YYYY-MM-DD)") }
            let origin = r.value("origin_country")!.uppercased()
            guard S10.isCountry(origin) else { return ("VALUE_UNKNOWN", "\(origin) is not an ISO 3166-1 alpha-2 country code") }
            guard let mailClass = MailClass(rawValue: r.value("mail_class")!.lowercased()) else {
                return ("VALUE_UNKNOWN", "mail_class \(r.value("mail_class")!) is not one of \(MailClass.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            guard let pieces = Int(r.value("pieces")!), pieces >= 0, pieces <= 100_000_000 else {
                return ("VALUE_UNKNOWN", "pieces \(r.value("pieces")!) is not a whole number from 0 to 100,000,000")
            }
            let k = "\(d.description)|\(origin)|\(mailClass.rawValue)"
            if let first = seen[k] { return ("DUPLICATE", "\(d.description) \(origin) \(mailClass.rawValue) is counted on line \(first) already") }
            seen[k] = r.record.line
            plan.accepted.append(StoredCarrierCount(importID: 0, line: r.record.line, day: d.description, originCountry: origin, mailClass: mailClass.rawValue,
                                                    pieces: pieces))
            return nil
        }
        (plan.rowsTotal, plan.rejected, plan.unknownColumns) = read
        return plan
    }
}
