import Archive
import Foundation
import RecordkeeperCore

/// Advance electronic data and its completeness (R-AED, finding F17: incomplete advance data limits
/// detection). What the origin posts sent ahead of each piece arrives as a canonical CSV (or the
/// first sheet of an XLSX workbook), one row per piece, which a site produces from its ITMATT or
/// CUSITM feed; R-AED then says, per origin, what share of the pieces presented had advance data at
/// all, before they arrived, with content lines, with every line HS-coded, and with the recipient;
/// and how many advance-data rows name a piece by another identifier than an S10 one.
public struct AdvanceDataService: Sendable {
    public typealias Store = any CustodyStore & CustodyFunnelStore & CustodyAdvanceDataStore
    let store: Store

    public init(store: Store) { self.store = store }

    public func importFile(_ file: URL, fileName: String? = nil, commit: Bool, actor: String) async throws -> FunnelService.ArrivalOutcome {
        try await FunnelService.rowImport(file, fileName: fileName, commit: commit, plan: {
            let p = try AdvanceData.plan($0)
            return (p.rowsTotal, p.accepted, p.rejected, p.unknownColumns)
        }, existing: { try await store.aedImport(fileHash: $0) }, store: { name, hash, rows, total, rejected, unknown in
            try await store.commitAEDImport(AEDImportDraft(fileName: name, fileHash: hash, rows: rows, rowsTotal: total, rejected: rejected,
                                                           unknownColumns: unknown), actor: actor)
        })
    }

    public struct Report: Sendable, Encodable {
        public struct Row: Sendable, Encodable, Equatable {
            public var origin: String
            public var presented = 0
            public var withAED = 0
            /// Received before the piece arrived.
            public var inAdvance = 0
            public var withContentLines = 0
            /// Every content line with an HS code.
            public var fullyHSCoded = 0
            public var withRecipient = 0
            /// Advance-data rows received in the period naming a piece by another scheme than S10.
            public var otherIDs = 0
            /// Shares of `presented`, percent (two places).
            public var aedRate: Double?
            public var advanceRate: Double?
            public var contentRate: Double?
            public var hsRate: Double?
            public var recipientRate: Double?

            mutating func rates() {
                func pct(_ a: Int) -> Double? { FunnelService.Report.pct(a, presented) }
                aedRate = pct(withAED); advanceRate = pct(inAdvance); contentRate = pct(withContentLines); hsRate = pct(fullyHSCoded); recipientRate = pct(withRecipient)
            }
        }
        /// Per targeting rule version: of the pieces it targeted in the period, how many had advance
        /// data by as_of, with content lines, fully HS-coded, with the recipient (finding F17 per
        /// rule, recommendation R3: a rule is only as good as the data it reads).
        public struct RuleRow: Sendable, Encodable, Equatable {
            public var rule: String
            public var targeted = 0
            public var withAED = 0
            public var withContentLines = 0
            public var fullyHSCoded = 0
            public var withRecipient = 0
            public var aedRate: Double?
            public var contentRate: Double?
            public var hsRate: Double?
            public var recipientRate: Double?
        }
        public var from: String
        public var to: String
        public var asOf: String
        /// Per origin, most pieces first.
        public var origins: [Row]
        public var total: Row
        /// Per rule version, by code and version.
        public var rules: [RuleRow] = []
        public var definition = """
            R-AED over the pieces first received in [from, to) by as_of, by origin (the S10 identifier's country): with_aed = advance data \
            received by as_of for the piece (the row in force: the latest received, of two at once the later import's); in_advance = the \
            piece's first advance data received before its first arrival; the line and recipient shares read the row in force; \
            with_content_lines = at least one article line; fully_hs_coded = at least one line and every line with an HS code; \
            with_recipient = the recipient's name and address sent. Rates are shares of the pieces presented, percent. other_ids = \
            advance-data rows received in [from, to) that name a piece by another identifier than an S10 one (they cannot be matched \
            to a scan). rules: per rule version, the distinct pieces it targeted in [from, to), with the same shares of the advance \
            data in force at as_of (presented or not).
            """
    }

    public func report(from: Int64, to: Int64, asOf: Int64) async throws -> Report {
        guard from < to else { throw CustodyError(.invalid, "the period's start is not before its end") }
        guard to - from <= 400 * 86_400_000 else { throw CustodyError(.invalid, "VALUE_UNKNOWN: R-AED covers at most 400 days at a time") }
        let arrivals = try await store.firstArrivals(from: from, to: to, asOf: asOf)
        let pieces = arrivals.keys.sorted()
        var aed: [String: AdvanceDataInForce] = [:]
        for start in stride(from: 0, to: pieces.count, by: 20_000) {
            aed.merge(try await store.advanceData(itemIDs: Array(pieces[start..<min(pieces.count, start + 20_000)]), asOf: asOf)) { a, _ in a }
        }
        var rows: [String: Report.Row] = [:]
        for s10 in pieces {
            let origin = String(s10.suffix(2))
            var r = rows[origin] ?? Report.Row(origin: origin)
            r.presented += 1
            if let inForce = aed[s10] {
                let a = inForce.row
                r.withAED += 1
                // In advance when the first data came before the piece (a later correction does not undo that).
                if inForce.firstReceivedAtMillis < arrivals[s10]! { r.inAdvance += 1 }
                if a.contentLines > 0 { r.withContentLines += 1 }
                if a.contentLines > 0, a.hsCodedLines == a.contentLines { r.fullyHSCoded += 1 }
                if a.recipientPresent { r.withRecipient += 1 }
            }
            rows[origin] = r
        }
        for a in try await store.advanceDataOtherIDs(from: from, to: to, asOf: asOf) {
            rows[a.originCountry, default: Report.Row(origin: a.originCountry)].otherIDs += 1
        }
        var total = Report.Row(origin: "all")
        for r in rows.values {
            total.presented += r.presented; total.withAED += r.withAED; total.inAdvance += r.inAdvance; total.withContentLines += r.withContentLines
            total.fullyHSCoded += r.fullyHSCoded; total.withRecipient += r.withRecipient; total.otherIDs += r.otherIDs
        }
        total.rates()
        var origins = Array(rows.values)
        for i in origins.indices { origins[i].rates() }
        origins.sort { ($0.presented, $1.origin) > ($1.presented, $0.origin) }
        var report = Report(from: Timestamp.iso(millis: from), to: Timestamp.iso(millis: to), asOf: Timestamp.iso(millis: asOf), origins: origins, total: total)
        report.rules = try await rules(from: from, to: to, asOf: asOf)
        return report
    }

    /// R-AED per rule version over the targets targeted in [from, to).
    func rules(from: Int64, to: Int64, asOf: Int64) async throws -> [Report.RuleRow] {
        var pieces: [String: Set<String>] = [:] // rule → its distinct pieces
        for t in try await store.targets(targetedFrom: from, to: to) { pieces["\(t.ruleCode) v\(t.ruleVersion)", default: []].insert(t.s10) }
        let all = Array(Set(pieces.values.flatMap { $0 })).sorted()
        var aed: [String: AdvanceDataInForce] = [:]
        for start in stride(from: 0, to: all.count, by: 20_000) {
            aed.merge(try await store.advanceData(itemIDs: Array(all[start..<min(all.count, start + 20_000)]), asOf: asOf)) { a, _ in a }
        }
        return pieces.keys.sorted().map { rule in
            var r = Report.RuleRow(rule: rule)
            for s10 in pieces[rule]! {
                r.targeted += 1
                guard let a = aed[s10]?.row else { continue }
                r.withAED += 1
                if a.contentLines > 0 { r.withContentLines += 1 }
                if a.contentLines > 0, a.hsCodedLines == a.contentLines { r.fullyHSCoded += 1 }
                if a.recipientPresent { r.withRecipient += 1 }
            }
            func pct(_ n: Int) -> Double? { FunnelService.Report.pct(n, r.targeted) }
            r.aedRate = pct(r.withAED); r.contentRate = pct(r.withContentLines); r.hsRate = pct(r.fullyHSCoded); r.recipientRate = pct(r.withRecipient)
            return r
        }
    }
}

/// An advance-data file: header row, then `item_id, origin_country, received_at, content_lines,
/// hs_coded_lines, recipient` (any order; other columns kept by name in the import record). An
/// identifier shaped like an S10 one must carry a valid check digit (else `S10_CHECK`); any other
/// identifier is kept as another scheme's. Refused rows are kept as written with their codes:
/// `REQUIRED_MISSING`, `DATE_INVALID`, `VALUE_UNKNOWN`, `S10_CHECK`, `DUPLICATE` (a piece twice in the
/// file), `CSV_MALFORMED`.
public enum AdvanceData {
    public static let columns = ["item_id", "origin_country", "received_at", "content_lines", "hs_coded_lines", "recipient"]
    public static let maxRows = 2_000_000
    public static let maxFileBytes = 256 << 20

    public struct Plan: Sendable {
        public var rowsTotal = 0
        public var accepted: [StoredAdvanceData] = []
        public var rejected: [RejectedRow] = []
        public var unknownColumns: [String] = []
    }

    public static func plan(_ data: Data) throws -> Plan {
        guard data.count <= maxFileBytes else { throw CustodyError(.invalid, "the file is larger than \(maxFileBytes >> 20) MB; split it by day") }
        var plan = Plan()
        var seen: [String: Int] = [:]
        let read = try TargetImport.readTable(data, columns: columns, maxRows: maxRows, tooMany: "split it by day") { r in
            let rawID = r.value("item_id")!.uppercased()
            guard rawID.count <= 40, rawID.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_/".contains($0)) }) else {
                return ("VALUE_UNKNOWN", "item_id is up to 40 letters, digits, '-', '_' or '/'")
            }
            var scheme = "other"
            if rawID.count == 13, rawID.prefix(2).allSatisfy(\.isLetter), rawID.dropFirst(2).prefix(9).allSatisfy(\.isNumber), rawID.suffix(2).allSatisfy(\.isLetter) {
                switch S10.parse(rawID) {
                case .success: scheme = "s10"
                case .failure(let p) where p.code == "S10_CHECK": return ("S10_CHECK", "\(rawID): \(p)")
                case .failure: break // a reserved or unknown-country indicator: another scheme's number
                }
            }
            let origin = r.value("origin_country")!.uppercased()
            guard S10.isCountry(origin) else { return ("VALUE_UNKNOWN", "\(origin) is not an ISO 3166-1 alpha-2 country code") }
            guard let at = CustodyTime.millis(r.value("received_at")!) else {
                return ("DATE_INVALID", "received_at \(r.value("received_at")!) is not an ISO 8601 time with a zone")
            }
            guard let lines = Int(r.value("content_lines")!), (0...999).contains(lines), let coded = Int(r.value("hs_coded_lines")!), (0...lines).contains(coded) else {
                return ("VALUE_UNKNOWN", "content_lines is 0 to 999 and hs_coded_lines 0 to content_lines")
            }
            let recipient: Bool
            switch r.value("recipient")!.lowercased() {
            case "yes", "y", "true", "1": recipient = true
            case "no", "n", "false", "0": recipient = false
            default: return ("VALUE_UNKNOWN", "recipient is yes or no")
            }
            if let first = seen[rawID] { return ("DUPLICATE", "\(rawID) is on line \(first) already") }
            seen[rawID] = r.record.line
            plan.accepted.append(StoredAdvanceData(importID: 0, line: r.record.line, itemID: rawID, idScheme: scheme, originCountry: origin, receivedAtMillis: at,
                                                   contentLines: lines, hsCodedLines: coded, recipientPresent: recipient))
            return nil
        }
        (plan.rowsTotal, plan.rejected, plan.unknownColumns) = read
        return plan
    }
}
