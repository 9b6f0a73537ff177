import Archive
import Foundation
import RecordkeeperCore

/// Carrier manifests per container, reconciled against CBP's own scans (R-MAN; CUSTODY.md §4.2
/// "Presentation manifest", finding F14). The carrier's list of what a container holds (its hold
/// list or presentation list, for example a GBS extract), or of what its driver signs for in a
/// return batch, is imported as it came; the report then says, container by container, which
/// listed pieces were never scanned into it (and where they were scanned instead, if anywhere)
/// and which pieces scanned into it the carrier did not list. The facility's scans stay the
/// authority: a manifest never creates, closes or moves anything.
public struct ManifestService: Sendable {
    public typealias Store = any CustodyStore & CustodyManifestStore
    let store: Store

    public init(store: Store) { self.store = store }

    /// Reads a manifest file (`date, container_id, s10`; CSV or the first sheet of an XLSX
    /// workbook) for containers handed over (`direction` in) or return batches (`out`) and, with
    /// `commit`, stores it. A file imported before adds nothing.
    public func importFile(_ file: URL, fileName: String? = nil, direction: String = "in", commit: Bool, actor: String) async throws -> FunnelService.ArrivalOutcome {
        guard direction == "in" || direction == "out" else { throw CustodyError(.invalid, "VALUE_UNKNOWN: a manifest's direction is in or out") }
        return try await FunnelService.rowImport(file, fileName: fileName, commit: commit, plan: {
            let p = try Manifest.plan($0, direction: direction)
            return (p.rowsTotal, p.accepted, p.rejected, p.unknownColumns)
        }, existing: { try await store.manifestImport(fileHash: $0) }, check: { stored, name in
            // A file is one direction's list: the same bytes imported for the other one are refused,
            // not answered "already imported" with the first direction's rows.
            if let first = try await store.manifestRows(importID: stored.id).first, first.direction != direction {
                throw CustodyError(.invalid, "VALUE_UNKNOWN: \(name) was imported on \(stored.importedAt) as "
                    + "\(first.direction == "out" ? "return batches (--out)" : "containers handed over") (import \(stored.id)); a manifest lists one direction")
            }
        }, store: { name, hash, rows, total, rejected, unknown in
            try await store.commitManifestImport(ManifestImportDraft(fileName: name, fileHash: hash, rows: rows, rowsTotal: total, rejected: rejected,
                                                                     unknownColumns: unknown), actor: actor)
        })
    }

    public struct Report: Sendable, Encodable {
        /// A listed piece the container (or batch) did not hold, and where it was scanned instead.
        public struct Missing: Sendable, Encodable, Equatable {
            public var s10: String
            /// `other_container`, `no_container` or `not_scanned`.
            public var whereabouts: String
            public var at: String?
            public var presentation: Int64?
            public var container: String?

            /// Where the piece went instead, in words ("received in container APC-7 (12) at …").
            public func text(direction: String) -> String {
                let out = direction == "out"
                switch whereabouts {
                case "other_container": return "\(out ? "returned in batch" : "received in container") \(container ?? "?") (\(presentation.map(String.init) ?? "")) at \(at ?? "")"
                case "no_container": return "\(out ? "returned without a batch" : "received without a container") at \(at ?? "")"
                default: return out ? "not returned" : "not received"
                }
            }
        }
        public struct Unlisted: Sendable, Encodable, Equatable {
            public var s10: String
            public var at: String
            public var presentation: Int64
        }
        public struct Container: Sendable, Encodable, Equatable {
            public var day: String
            public var container: String
            public var direction: String
            /// The import whose list is in force, and earlier imports' lists it replaced.
            public var manifestImport: Int64
            public var replacedImports: [Int64]
            /// The presentations (containers opened, or return batches) with this label that day.
            public var presentations: [Int64]
            public var declared: Int?
            public var listed: Int
            public var scanned: Int
            public var matched: Int
            public var missing: [Missing]
            public var unlisted: [Unlisted]
        }
        /// A container or return batch opened in the period for which no manifest is in force.
        public struct WithoutManifest: Sendable, Encodable, Equatable {
            public var day: String
            public var container: String
            public var direction: String
            public var presentation: Int64
            public var declared: Int
            public var scanned: Int
        }
        public struct Totals: Sendable, Encodable, Equatable {
            public var containers = 0
            public var neverPresented = 0
            public var listed = 0
            public var matched = 0
            public var missing = 0
            public var scannedElsewhere = 0
            public var unlisted = 0
            public var withoutManifest = 0
        }
        public var from: String
        public var to: String
        public var asOf: String
        public var containers: [Container]
        public var withoutManifest: [WithoutManifest]
        public var totals: Totals
        public var definition = """
            R-MAN over the UTC days in [from, to) as of as_of. For each container label, day and direction a manifest names, the list in \
            force is the latest import naming that container that day; it is compared with the pieces scanned into the \
            containers (in) or return batches (out) opened with that label that day, by as_of. matched = listed and scanned; missing = \
            listed, not scanned into it, with where the piece was scanned instead from the start of that day to as_of (another container, \
            no container, or not at all); unlisted = scanned into it, not listed. Labels are compared without regard to case. Containers \
            and return batches opened in the period with no manifest in force are listed apart.
            """
    }

    public func report(from: Int64, to: Int64, asOf: Int64) async throws -> Report {
        guard from < to else { throw CustodyError(.invalid, "the period's start is not before its end") }
        guard to - from <= 400 * 86_400_000 else { throw CustodyError(.invalid, "VALUE_UNKNOWN: R-MAN covers at most 400 days at a time") }
        guard from % 86_400_000 == 0, to % 86_400_000 == 0 else {
            throw CustodyError(.invalid, "VALUE_UNKNOWN: R-MAN is by whole UTC days (a manifest lists a container by its day); start and end the period at midnight UTC (from=2019-06-18&to=2019-06-19)")
        }
        let dayMillis: Int64 = 86_400_000
        let firstDay = Int(from.floorDivided(by: dayMillis)), endDay = Int(to.floorDivided(by: dayMillis))
        func dayText(_ n: Int) -> String { CivilDate(dayNumber: n).description }
        func dayOf(_ millis: Int64) -> String { dayText(Int(millis.floorDivided(by: dayMillis))) }
        struct Key: Hashable, Comparable {
            var day: String, label: String, direction: String
            static func < (a: Key, b: Key) -> Bool { (a.day, a.label, a.direction) < (b.day, b.label, b.direction) }
        }

        // The manifests in force: per container, day and direction, the latest import's list.
        var lists: [Key: [Int64: [StoredManifestRow]]] = [:]
        var written: [Key: String] = [:]
        for row in try await store.manifestRows(fromDay: dayText(firstDay), toDay: dayText(endDay)) {
            let key = Key(day: row.day, label: row.container.uppercased(), direction: row.direction)
            lists[key, default: [:]][row.importID, default: []].append(row)
            if written[key] == nil { written[key] = row.container }
        }

        // The containers and return batches opened on those days, by label.
        let dayStart = Int64(firstDay) * dayMillis, dayEnd = Int64(endDay) * dayMillis
        var opened: [Key: [StoredPresentation]] = [:]
        for p in try await store.presentations(from: dayStart, to: dayEnd) where p.presentedAtMillis >= dayStart && p.presentedAtMillis <= asOf {
            opened[Key(day: dayOf(p.presentedAtMillis), label: p.containerID.uppercased(), direction: p.direction), default: []].append(p)
        }
        let matchedIDs = lists.keys.flatMap { opened[$0]?.map(\.id) ?? [] }
        let contents = matchedIDs.isEmpty ? [:] : try await store.presentationContents(ids: matchedIDs, asOf: asOf)
        let labels = Dictionary(opened.values.flatMap { $0 }.map { ($0.id, $0.containerID) }, uniquingKeysWith: { a, _ in a })

        var containers: [Report.Container] = []
        var totals = Report.Totals()
        var lookups: [(key: Key, index: Int, s10s: [String])] = []
        for key in lists.keys.sorted() {
            let imports = lists[key]!
            let inForce = imports.keys.max()!
            let listed = Set(imports[inForce]!.map(\.s10))
            let ps = (opened[key] ?? []).sorted { $0.id < $1.id }
            var scanned: [String: ContainerScan] = [:]
            for p in ps { for s in contents[p.id] ?? [] where scanned[s.s10] == nil { scanned[s.s10] = s } }
            let missing = listed.subtracting(scanned.keys).sorted()
            let unlisted = scanned.keys.filter { !listed.contains($0) }.sorted()
            containers.append(Report.Container(
                day: key.day, container: ps.first?.containerID ?? written[key]!, direction: key.direction, manifestImport: inForce, replacedImports: imports.keys.filter { $0 != inForce }.sorted(),
                presentations: ps.map(\.id), declared: ps.isEmpty ? nil : ps.reduce(0) { $0 + $1.declaredCount }, listed: listed.count, scanned: scanned.count,
                matched: listed.count - missing.count, missing: [],
                unlisted: unlisted.map { Report.Unlisted(s10: $0, at: Timestamp.iso(millis: scanned[$0]!.atMillis), presentation: scanned[$0]!.presentationID!) }))
            if !missing.isEmpty { lookups.append((key, containers.count - 1, missing)) }
        }

        // Where the missing pieces were scanned instead: from the start of their day to as_of.
        for direction in ["in", "out"] {
            let wanted = lookups.filter { $0.key.direction == direction }
            guard let earliest = wanted.map({ Int64(CivilDate($0.key.day)!.dayNumber) * dayMillis }).min() else { continue }
            var scans: [String: [ContainerScan]] = [:]
            let s10s = Array(Set(wanted.flatMap(\.s10s))).sorted()
            for start in stride(from: 0, to: s10s.count, by: 20_000) {
                for s in try await store.containerScans(s10s: Array(s10s[start..<min(s10s.count, start + 20_000)]), direction: direction, from: earliest, asOf: asOf) {
                    scans[s.s10, default: []].append(s)
                }
            }
            var elsewhere: [Int64: String] = labels
            let unknownBatches = Set(scans.values.flatMap { $0.compactMap(\.presentationID) }).subtracting(elsewhere.keys)
            if !unknownBatches.isEmpty {
                for id in unknownBatches { if let p = try await store.presentation(id: id) { elsewhere[id] = p.containerID } }
            }
            for w in wanted {
                let start = Int64(CivilDate(w.key.day)!.dayNumber) * dayMillis
                containers[w.index].missing = w.s10s.map { s10 in
                    guard let s = scans[s10]?.filter({ $0.atMillis >= start }).min(by: { $0.atMillis < $1.atMillis }) else {
                        return Report.Missing(s10: s10, whereabouts: "not_scanned", at: nil, presentation: nil, container: nil)
                    }
                    return Report.Missing(s10: s10, whereabouts: s.presentationID == nil ? "no_container" : "other_container", at: Timestamp.iso(millis: s.atMillis),
                                          presentation: s.presentationID, container: s.presentationID.flatMap { elsewhere[$0] })
                }
            }
        }

        for c in containers {
            totals.containers += 1
            if c.presentations.isEmpty { totals.neverPresented += 1 }
            totals.listed += c.listed; totals.matched += c.matched; totals.missing += c.missing.count; totals.unlisted += c.unlisted.count
            totals.scannedElsewhere += c.missing.filter { $0.whereabouts != "not_scanned" }.count
        }
        let without = opened.filter { lists[$0.key] == nil }.flatMap { key, ps in
            ps.map { Report.WithoutManifest(day: key.day, container: $0.containerID, direction: $0.direction, presentation: $0.id, declared: $0.declaredCount,
                                            scanned: $0.scannedCount) }
        }.sorted { ($0.day, $0.presentation) < ($1.day, $1.presentation) }
        totals.withoutManifest = without.count
        return Report(from: Timestamp.iso(millis: from), to: Timestamp.iso(millis: to), asOf: Timestamp.iso(millis: asOf), containers: containers,
                      withoutManifest: without, totals: totals)
    }
}

/// A carrier's manifest: header row, then `date, container_id, s10` (any order; other columns
/// kept by name in the import record): the UTC day the container was handed over (or the return
/// batch taken), its label as printed, and one piece. Refused rows are kept as written with their
/// codes: `REQUIRED_MISSING`, `DATE_INVALID`, `CONTAINER_FORMAT`, `S10_FORMAT`, `S10_CHECK`,
/// `DUPLICATE` (a piece twice in one container's list), `CSV_MALFORMED`.
public enum Manifest {
    public static let columns = ["date", "container_id", "s10"]
    public static let maxRows = 2_000_000
    public static let maxFileBytes = 256 << 20

    public struct Plan: Sendable {
        public var rowsTotal = 0
        public var accepted: [StoredManifestRow] = []
        public var rejected: [RejectedRow] = []
        public var unknownColumns: [String] = []
    }

    /// A container label as scan stations and the CLI accept it.
    public static func isLabel(_ s: String) -> Bool {
        !s.isEmpty && s.count <= 64 && s.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_./".contains($0)) }
    }

    public static func plan(_ data: Data, direction: String) throws -> Plan {
        guard data.count <= maxFileBytes else { throw CustodyError(.invalid, "the file is larger than \(maxFileBytes >> 20) MB; split it by day") }
        var plan = Plan()
        var seen: [String: Int] = [:] // day|CONTAINER|s10 → line
        let read = try TargetImport.readTable(data, columns: columns, maxRows: maxRows, tooMany: "split it by day") { r in
            let dateText = r.value("date")!
            guard dateText.count == 10, let d = CivilDate(dateText) else { return ("DATE_INVALID", "\(dateText) is not a date (YYYY-MM-DD)") }
            let label = r.value("container_id")!
            guard isLabel(label) else { return ("CONTAINER_FORMAT", "a container label is 1 to 64 letters, digits, '-', '_', '.' or '/': \(label)") }
            let s10: S10
            switch S10.parse(r.value("s10")!) {
            case .success(let s): s10 = s
            case .failure(let p): return (p.code, "\(r.value("s10")!): \(p)")
            }
            let k = "\(d.description)|\(label.uppercased())|\(s10.value)"
            if let first = seen[k] { return ("DUPLICATE", "\(s10.value) is listed in \(label) on \(d.description) on line \(first) already") }
            seen[k] = r.record.line
            plan.accepted.append(StoredManifestRow(importID: 0, line: r.record.line, day: d.description, container: label, direction: direction, s10: s10.value))
            return nil
        }
        (plan.rowsTotal, plan.rejected, plan.unknownColumns) = read
        return plan
    }
}
