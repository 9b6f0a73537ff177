import Archive
import Foundation
import RecordkeeperCore

/// R-DQ (CUSTODY.md §3; findings F22, recommendation 7): what the import controls rejected and
/// why, the corrections each user made and those made more than 24 hours after the fact, typed
/// entries, and the OIG's three defect classes of the Access database (1,551 arrivals without a
/// date, 12,789 exams without a date, 72 exams before arrival, L780) — which here must be zero.
public struct DataQualityService: Sendable {
    let store: any CustodyStore

    public init(store: any CustodyStore) { self.store = store }

    public func report(from: Int64, to: Int64) async throws -> DataQualityReport {
        guard from < to else { throw CustodyError(.invalid, "the period's start is not before its end") }
        var report = DataQualityReport(from: Timestamp.iso(millis: from), to: Timestamp.iso(millis: to))
        // Target lists and the carrier's counts alike: every file the import controls read.
        var imports = try await store.targetImports()
        if let funnel = store as? any CustodyFunnelStore { imports += try await funnel.arrivalImports() }
        if let aed = store as? any CustodyAdvanceDataStore { imports += try await aed.aedImports() }
        for i in imports.sorted(by: { $0.id < $1.id }) {
            guard let at = CustodyTime.millis(i.importedAt), at >= from, at < to else { continue }
            var codes: [String: Int] = [:]
            for r in try await store.rejectedRows(importID: i.id) { codes[r.code, default: 0] += 1 }
            report.imports.append(.init(importID: i.id, file: i.fileName, rows: i.rowsTotal, added: i.added, rejected: i.rejected, merged: i.merged,
                                        rejectedByCode: codes))
        }
        let corrections = try await store.seizureCorrections(from: from, to: to)
        report.correctionsByUser = Dictionary(corrections.map { ($0.correctedBy, 1) }, uniquingKeysWith: +)
        report.lateEdits = corrections.filter(\.isLate).map {
            .init(seizure: $0.seizureID, s10: $0.s10, field: "seized_at", old: Timestamp.iso(millis: $0.oldAtMillis), new: Timestamp.iso(millis: $0.newAtMillis),
                  by: $0.correctedBy, at: Timestamp.iso(millis: $0.correctedAtMillis), reason: $0.reason)
        }
        report.facts = try await store.dataQualityFacts(from: from, to: to)
        return report
    }
}

public struct DataQualityReport: Sendable, Encodable {
    public struct Import: Sendable, Encodable {
        public var importID: Int64
        public var file: String
        public var rows: Int
        public var added: Int
        public var rejected: Int
        public var merged: Int
        public var rejectedByCode: [String: Int]
    }
    public struct Edit: Sendable, Encodable {
        public var seizure: Int64
        public var s10: String
        public var field: String
        public var old: String
        public var new: String
        public var by: String
        public var at: String
        public var reason: String
    }
    public var from: String
    public var to: String
    public var imports: [Import] = []
    public var correctionsByUser: [String: Int] = [:]
    /// Corrections made more than 24 hours after the time they change.
    public var lateEdits: [Edit] = []
    public var facts = DataQualityFacts(events: 0, manualEntries: 0, inspectionsBeforeArrival: 0, arrivalsWithoutDate: 0, inspectionsWithoutDate: 0)
    public var definition = DataQualityReport.definitionText
    public static let definitionText = """
        Imports made in [from, to) with their rejected rows by reason code; corrections made in [from, to) by user, and those made more than \
        24 h after the time they change; custody events in [from, to) and how many were typed by hand; inspections ended in [from, to) that \
        started before the item's arrival; items without an arrival time and inspections without a date (all time).
        """
}
