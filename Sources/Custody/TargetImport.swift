import Archive
import Foundation
import RecordkeeperCore

/// A targeting rule, versioned: a target names the rule and version it came from, so a
/// methodology change can be judged before and after (hit rate per version).
public struct TargetRule: Sendable, Equatable, Hashable, Codable {
    public var code: String
    public var version: Int
    public var category: TargetCategory
    public var source: String
    public var description: String

    public init(code: String, version: Int, category: TargetCategory, source: String, description: String) {
        self.code = code
        self.version = version
        self.category = category
        self.source = source
        self.description = description
    }

    public var key: RuleKey { RuleKey(code: code, version: version) }
}

public struct RuleKey: Sendable, Hashable, Codable, CustomStringConvertible {
    public var code: String
    public var version: Int
    public init(code: String, version: Int) { self.code = code; self.version = version }
    public var description: String { "\(code) v\(version)" }
}

/// Why an item is targeted: a closed vocabulary (also the rule categories).
public enum TargetCategory: String, Sendable, Codable, CaseIterable {
    case narcotics, agriculture, revenue, ipr, otherAgency = "other_agency", intel, coiBulk = "coi_bulk", canine
    case officerSelect = "officer_select", random
}

/// Mail classes as the carrier declares them.
public enum MailClass: String, Sendable, Codable, CaseIterable {
    case letterPost = "letter_post", registered, ems, parcel, other
}

/// One accepted row of a target list.
/// A row the import refused, kept as written with its reason code.
public struct RejectedRow: Sendable, Equatable, Codable {
    public var line: Int
    /// `S10_CHECK`, `S10_FORMAT`, `DATE_INVALID`, `DATE_ORDER`, `RULE_UNKNOWN`,
    /// `REQUIRED_MISSING`, `VALUE_UNKNOWN` (a value outside a closed vocabulary) or
    /// `CSV_MALFORMED` (the row breaks CSV's quoting rules).
    public var code: String
    public var detail: String
    public var raw: String
}

/// What an import of a target list would do (the dry run) or did.
public struct TargetImportPlan: Sendable {
    public var rowsTotal = 0
    /// The rows to store, in line order (as the store keeps them: one array, no second copy).
    public var accepted: [StoredTarget] = []
    public var rejected: [RejectedRow] = []
    /// Rows naming an item and rule already accepted above them (line, the first one's line).
    public var mergedDuplicates: [(line: Int, firstLine: Int)] = []
    /// Columns the canonical layout does not have: kept with the import's record, not read.
    public var unknownColumns: [String] = []
    public var rejectedByCode: [String: Int] { rejected.reduce(into: [:]) { $0[$1.code, default: 0] += 1 } }
    /// Rows accepted (in `accepted` after a dry run; a commit streams them to the store and keeps only the count).
    public var acceptedCount = 0
}

/// The canonical target CSV (issue 15, CUSTODY.md §4.1): a header row naming the columns, in any
/// order, then one target per row. Timestamps are ISO 8601 with a time and a zone
/// (`2019-06-17T08:00:00Z`, `2019-06-17T04:00-04:00`); nothing else is read as a date.
public enum TargetImport {
    public static let columns = ["s10", "rule_code", "rule_version", "reason_code", "targeted_at", "targeted_by", "expected_arrival_at",
                                 "priority", "origin_country", "mail_class", "declared_desc", "hold_requested_at"]
    static let required = ["s10", "rule_code", "rule_version", "reason_code", "targeted_at", "targeted_by"]

    /// Validates every row of `data` (a CSV text, or an XLSX workbook's first sheet) against the
    /// known `rules`, read through `profile` when given (else the canonical layout): the dry run,
    /// every accepted row kept.
    public static func plan(_ data: Data, rules: Set<RuleKey>, profile: MappingProfile? = nil) throws -> TargetImportPlan {
        let reader = try Reader(data, rules: rules, profile: profile)
        var accepted: [StoredTarget] = []
        accepted.reserveCapacity(reader.capacity)
        while let t = try reader.next() { accepted.append(t) }
        var plan = reader.plan
        plan.accepted = accepted
        return plan
    }

    /// An item and rule seen in a file (its first line is the value). The key holds no heap
    /// string (an S10 fits a small string).
    struct Seen: Hashable { let s10: String; let rule: Int32 }

    /// A cell as a CSV field (a spreadsheet row's text as written, for its rejection).
    /// The records of a CSV text or of an XLSX workbook's first sheet (its rows as CSV records,
    /// each with its line and its text written back as CSV), and how many lines there are at most.
    /// (Public for the fuzz targets: every reader of untrusted input is fuzzed, issue 17.)
    public static func records(_ data: Data) throws -> (AnyIterator<CSVRecords.Record>, Int) {
        if XLSXSheet.isWorkbook(data) {
            let rows = try XLSXSheet.rows(data)
            var it = rows.makeIterator()
            return (AnyIterator {
                it.next().map { r in CSVRecords.Record(fields: r.cells, line: r.line, raw: r.cells.map(TargetImport.csvField).joined(separator: ","), malformed: nil) }
            }, rows.count)
        }
        var csv = CSVRecords(data)
        return (AnyIterator { csv.next() }, data.withUnsafeBytes { $0.reduce(0) { $1 == 0x0A ? $0 + 1 : $0 } })
    }

    /// One data row of a canonical table: its fields by column name (trimmed; nil when empty), its
    /// line, and a way to refuse it (kept as written, up to 2,000 characters, with its code).
    struct TableRow {
        let record: CSVRecords.Record
        let index: [String: Int]
        func value(_ column: String) -> String? {
            guard let i = index[column], i < record.fields.count else { return nil }
            let v = record.fields[i].trimmingCharacters(in: .whitespaces)
            return v.isEmpty ? nil : v
        }
    }

    /// Reads a canonical table (carrier counts, advance data): the header must name `columns`
    /// (other names are returned as unknown), blank rows are skipped, a row breaking CSV's quoting
    /// is refused `CSV_MALFORMED`, one missing a column `REQUIRED_MISSING`; `row` checks the rest and
    /// returns a refusal (code, detail) or nil. Returns the rows read, refused and the unknown columns.
    static func readTable(_ data: Data, columns: [String], maxRows: Int, tooMany: String,
                          row: (TableRow) -> (code: String, detail: String)?) throws -> (rowsTotal: Int, rejected: [RejectedRow], unknownColumns: [String]) {
        let (records, _) = try records(data)
        guard let header = records.next(), header.malformed == nil else {
            throw CustodyError(.invalid, "the file has no header row (the columns are \(columns.joined(separator: ", ")))")
        }
        let names = header.fields.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        var index: [String: Int] = [:]
        for (i, n) in names.enumerated() where index[n] == nil && !n.isEmpty { index[n] = i }
        let missing = columns.filter { index[$0] == nil }
        guard missing.isEmpty else {
            throw CustodyError(.invalid, "the header has no \(missing.joined(separator: ", ")) column (line \(header.line)); the columns are \(columns.joined(separator: ", "))")
        }
        var rowsTotal = 0
        var rejected: [RejectedRow] = []
        while let record = records.next() {
            if record.fields.allSatisfy({ $0.trimmingCharacters(in: .whitespaces).isEmpty }) && record.malformed == nil { continue }
            rowsTotal += 1
            guard rowsTotal <= maxRows else { throw CustodyError(.invalid, "the file has more than \(maxRows) rows; \(tooMany)") }
            let r = TableRow(record: record, index: index)
            let absent = columns.filter { r.value($0) == nil }
            let refusal: (code: String, detail: String)? = record.malformed.map { ("CSV_MALFORMED", $0) }
                ?? (absent.isEmpty ? row(r) : ("REQUIRED_MISSING", "no \(absent.joined(separator: ", "))"))
            if let refusal {
                let raw = record.raw.count > 2_000 ? String(record.raw.prefix(2_000)) + "…" : record.raw
                rejected.append(RejectedRow(line: record.line, code: refusal.code, detail: String(refusal.detail.prefix(300)), raw: raw))
            }
        }
        return (rowsTotal, rejected, names.filter { !$0.isEmpty && !columns.contains($0) })
    }

    static func csvField(_ s: String) -> String {
        s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }

    /// A target list read row by row: each accepted row as the store asks for it, the rejected
    /// rows and merged duplicates kept aside. A commit streams a million-row list into the store
    /// through it instead of holding every row at once (P1: peak memory). Used by one task at a
    /// time (the store's transaction), hence `@unchecked Sendable`.
    public final class Reader: TargetRowSource, @unchecked Sendable {
        private var records: AnyIterator<CSVRecords.Record>
        let capacity: Int
        let rules: Set<RuleKey>
        let profile: MappingProfile?
        let index: [String: Int]
        let constants: [String: String]
        let timeFormat: [String]
        let ruleNumbers: [RuleKey: Int32]
        var seen: [Seen: Int] = [:]
        /// Whether the last row was read (a store that found the file imported already reads none).
        public private(set) var exhausted = false
        public private(set) var rowsTotal = 0
        public private(set) var accepted = 0
        var rejectedRows: [RejectedRow] = []
        var mergedDuplicates: [(line: Int, firstLine: Int)] = []
        public let unknownColumns: [String]

        public init(_ data: Data, rules: Set<RuleKey>, profile: MappingProfile?) throws {
            let (records, capacity) = try TargetImport.records(data)
            self.capacity = capacity
            self.rules = rules
            self.profile = profile
            guard let header = records.next(), header.malformed == nil else {
                throw CustodyError(.invalid, "the file has no header row (the canonical columns are \(columns.joined(separator: ", ")))")
            }
            // Under a profile only its columns are read, by the fields they map to; without one the
            // header names the canonical columns.
            let names = header.fields.map { h in profile.map { $0.field(forHeader: h) ?? "" } ?? h.trimmingCharacters(in: .whitespaces).lowercased() }
            var index: [String: Int] = [:]
            for (i, name) in names.enumerated() where index[name] == nil && !name.isEmpty { index[name] = i }
            let constants = profile?.constants ?? [:]
            let missing = required.filter { index[$0] == nil && constants[$0] == nil }
            guard missing.isEmpty else {
                if let profile {
                    let sources = missing.map { f in "\(f) (\"\(profile.columns.first { $0.value == f }?.key ?? "?")\")" }
                    throw CustodyError(.invalid, "the header (line \(header.line)) has no column for \(sources.joined(separator: ", ")) as profile \(profile.label) names them")
                }
                throw CustodyError(.invalid, "the header has no \(missing.joined(separator: ", ")) column (line \(header.line)); the canonical columns are \(columns.joined(separator: ", "))")
            }
            self.index = index
            self.constants = constants
            self.unknownColumns = profile == nil ? names.filter { !columns.contains($0) && !$0.isEmpty }
                : zip(header.fields, names).filter { $0.1.isEmpty && !$0.0.trimmingCharacters(in: .whitespaces).isEmpty }.map { $0.0.trimmingCharacters(in: .whitespaces) }
            self.timeFormat = profile.map { p in
                [p.dateFormat.map { "\($0) (\(p.timeZone ?? "UTC"))" }, p.excelSerialDates == true ? "an Excel serial date" : nil].compactMap { $0 }
            } ?? []
            // s10 + rule → first line. The key holds no heap string (an S10 fits a small string), so a
            // million-row file costs tens of megabytes here, not hundreds.
            self.ruleNumbers = Dictionary(uniqueKeysWithValues: rules.sorted { $0.description < $1.description }.enumerated().map { ($1, Int32($0)) })
            self.records = records
        }

        /// What was read so far (all of it once `next()` has returned nil), without the accepted rows.
        public var plan: TargetImportPlan {
            var p = TargetImportPlan()
            p.rowsTotal = rowsTotal
            p.rejected = rejectedRows
            p.mergedDuplicates = mergedDuplicates
            p.unknownColumns = unknownColumns
            p.acceptedCount = accepted
            return p
        }

        public var rejected: [StoredRejectedRow] { rejectedRows.map { StoredRejectedRow(line: $0.line, code: $0.code, detail: $0.detail, raw: $0.raw) } }
        public var mergedInFile: Int { mergedDuplicates.count }

        /// The next accepted row (nil: the end of the list).
        public func next() throws -> StoredTarget? {
            let rules = self.rules, profile = self.profile, index = self.index, constants = self.constants, timeFormat = self.timeFormat
            while let record = records.next() {
                if record.fields == [""] && record.raw.trimmingCharacters(in: .whitespaces).isEmpty { continue }
                rowsTotal += 1
                func reject(_ code: String, _ detail: String) { rejectedRows.append(RejectedRow(line: record.line, code: code, detail: detail, raw: record.raw)) }
                if let problem = record.malformed { reject("CSV_MALFORMED", problem); continue }
                func value(_ name: String) -> String? {
                    let v: String
                    if let i = index[name] {
                        guard i < record.fields.count else { return nil }
                        v = record.fields[i].trimmingASCIIBlanks()
                    } else if let c = constants[name] {
                        v = c
                    } else {
                        return nil
                    }
                    guard !v.isEmpty else { return nil }
                    return profile?.mapped(v, field: name) ?? v
                }
                if let absent = required.first(where: { value($0) == nil }) { reject("REQUIRED_MISSING", "\(absent) is empty"); continue }
                let s10: S10
                switch S10.parse(value("s10")!) {
                case .success(let v): s10 = v
                case .failure(let p): reject(p.code, "s10 \(value("s10")!): \(p)"); continue
                }
                guard let version = Int(value("rule_version")!), version > 0 else {
                    reject("VALUE_UNKNOWN", "rule_version \(value("rule_version")!) is not a positive whole number"); continue
                }
                let rule = RuleKey(code: value("rule_code")!, version: version)
                guard rules.contains(rule) else { reject("RULE_UNKNOWN", "rule \(rule) is not registered (recordkeeper custody rule add)"); continue }
                guard let reason = TargetCategory(rawValue: value("reason_code")!.lowercased()) else {
                    reject("VALUE_UNKNOWN", "reason_code \(value("reason_code")!) is not one of \(TargetCategory.allCases.map(\.rawValue).joined(separator: ", "))"); continue
                }
                var times: [String: Int64] = [:]
                var badTime: (String, String)?
                for name in ["targeted_at", "expected_arrival_at", "hold_requested_at"] {
                    guard let text = value(name) else { continue }
                    if let t = profile?.millis(text) ?? ISOInstant.millis(text) { times[name] = t } else { badTime = (name, text); break }
                }
                if let (name, text) = badTime {
                    let accepted = (timeFormat + ["ISO 8601 with a zone, e.g. 2019-06-17T08:00:00Z"]).joined(separator: " or ")
                    reject("DATE_INVALID", "\(name) \(text) is not a real date and time as \(accepted)"); continue
                }
                if let hold = times["hold_requested_at"], hold < times["targeted_at"]! {
                    reject("DATE_ORDER", "hold_requested_at is before targeted_at"); continue
                }
                var priority: Int?
                if let p = value("priority") {
                    guard let n = Int(p) else { reject("VALUE_UNKNOWN", "priority \(p) is not a whole number"); continue }
                    priority = n
                }
                var origin: String?
                if let c = value("origin_country")?.uppercased() {
                    guard ISO3166.alpha2.contains(c) else { reject("VALUE_UNKNOWN", "origin_country \(c) is not an ISO 3166-1 country code"); continue }
                    origin = c
                }
                var mailClass: MailClass?
                if let m = value("mail_class") {
                    guard let v = MailClass(rawValue: m.lowercased()) else {
                        reject("VALUE_UNKNOWN", "mail_class \(m) is not one of \(MailClass.allCases.map(\.rawValue).joined(separator: ", "))"); continue
                    }
                    mailClass = v
                }
                let key = Seen(s10: s10.value, rule: ruleNumbers[rule]!)
                if let first = seen[key] { mergedDuplicates.append((record.line, first)); continue }
                seen[key] = record.line
                accepted += 1
                return StoredTarget(
                    s10: s10.value, ruleCode: rule.code, ruleVersion: rule.version, reasonCode: reason.rawValue, targetedAtMillis: times["targeted_at"]!,
                    targetedBy: value("targeted_by")!, expectedArrivalAtMillis: times["expected_arrival_at"], priority: priority, originCountry: origin,
                    mailClass: mailClass?.rawValue, declaredDescription: value("declared_desc"), holdRequestedAtMillis: times["hold_requested_at"],
                    line: record.line)
            }
            exhausted = true
            return nil
        }
    }
}

/// ISO 8601 instants with a date, a time and a zone, for the CLI and the API.
public enum CustodyTime {
    /// Milliseconds since the epoch, or nil (`ISOInstant.millis`).
    public static func millis(_ text: String) -> Int64? { ISOInstant.millis(text) }
}

/// ISO 8601 instants with a date, a time and a zone, checked for real calendar dates.
enum ISOInstant {
    /// Milliseconds since the epoch, or nil when `text` is not `YYYY-MM-DDTHH:MM[:SS[.fff]](Z|±HH:MM)`
    /// of a real date (2019-06-31 is not).
    static func millis(_ text: String) -> Int64? {
        let b = Array(text.utf8)
        var i = 0
        func number(_ width: Int) -> Int? {
            guard i + width <= b.count else { return nil }
            var n = 0
            for k in i..<(i + width) {
                guard b[k] >= 48, b[k] <= 57 else { return nil }
                n = n * 10 + Int(b[k] - 48)
            }
            i += width
            return n
        }
        func expect(_ c: UInt8) -> Bool {
            guard i < b.count, b[i] == c else { return false }
            i += 1
            return true
        }
        guard let year = number(4), expect(0x2D), let month = number(2), expect(0x2D), let day = number(2),
              i < b.count, b[i] == 0x54 || b[i] == 0x20 else { return nil }
        i += 1
        guard let hour = number(2), expect(0x3A), let minute = number(2) else { return nil }
        var second = 0, millis = 0
        if expect(0x3A) {
            guard let s = number(2) else { return nil }
            second = s
            if expect(0x2E) {
                var digits = 0
                while i < b.count, b[i] >= 48, b[i] <= 57 {
                    if digits < 3 { millis = millis * 10 + Int(b[i] - 48) }
                    digits += 1
                    i += 1
                }
                guard digits > 0 else { return nil }
                for _ in digits..<3 where digits < 3 { millis *= 10 }
            }
        }
        var offsetMinutes = 0
        if expect(0x5A) {
        } else if i < b.count, b[i] == 0x2B || b[i] == 0x2D {
            let sign = b[i] == 0x2D ? -1 : 1
            i += 1
            guard let oh = number(2), expect(0x3A), let om = number(2), oh <= 14, om < 60 else { return nil }
            offsetMinutes = sign * (oh * 60 + om)
        } else {
            return nil
        }
        guard i == b.count, (1...12).contains(month), hour < 24, minute < 60, second < 60,
              let date = CivilDate(year: year, month: month, day: day) else { return nil }
        let seconds = Int64(date.dayNumber) * 86_400 + Int64(hour * 3_600 + minute * 60 + second) - Int64(offsetMinutes * 60)
        return seconds * 1_000 + Int64(millis)
    }
}

/// An error of the custody module, with the archive's error codes.
public struct CustodyError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable { case invalid, notFound = "not_found", refused }
    public var code: Code
    public var message: String
    public init(_ code: Code, _ message: String) { self.code = code; self.message = message }
    public var description: String { message }
}

extension String {
    /// Without leading and trailing spaces and tabs, by bytes (Foundation's trimming went through
    /// NSString and copied every field; it was half of a large import's time).
    func trimmingASCIIBlanks() -> String {
        let u = utf8
        guard let first = u.first, let last = u.last, first == 0x20 || first == 0x09 || last == 0x20 || last == 0x09 else { return self }
        var start = u.startIndex, end = u.endIndex
        while start < end, u[start] == 0x20 || u[start] == 0x09 { start = u.index(after: start) }
        while end > start, u[u.index(before: end)] == 0x20 || u[u.index(before: end)] == 0x09 { end = u.index(before: end) }
        return String(self[start..<end])
    }
}
