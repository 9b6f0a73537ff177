import Archive
import Foundation
import RecordkeeperCore

/// R-WORK, the workload evidence (CUSTODY.md §3; F8, F10, R1: the OIG found too few officers and
/// too little working equipment, and CBP had no numbers to show it): inspections per officer, per
/// method and per piece of equipment, with the time they took. Staffing itself is not software;
/// this gives the evidence for it.
public struct WorkloadService: Sendable {
    let store: any CustodyStore

    public init(store: any CustodyStore) { self.store = store }

    public struct Report: Sendable, Encodable {
        public struct Group: Sendable, Encodable {
            public var key: String
            public var inspections: Int
            /// Hours between each inspection's start and end, summed.
            public var examHours: Double
            /// Inspections per hour of inspecting (its reciprocal is the mean time one takes).
            public var perExamHour: Double?
            public var meanMinutes: Double?
            public var medianMinutes: Double?
            /// Inspections with a result other than no_anomaly.
            public var findings: Int
        }
        public var from: String
        public var to: String
        public var inspections: Int
        public var byOfficer: [Group]
        public var byMethod: [Group]
        /// Inspections that named no equipment are under "(none)".
        public var byEquipment: [Group]
        /// What R-WORK asks for and the archive does not record yet.
        public var notRecorded = ["officer shift hours (inspections per hour worked)", "equipment out-of-service hours", "canine-team hours"]
        public var definition = """
            R-WORK over inspections whose ended_at is in [from, to), grouped by officer, by method and by equipment id: the count, the \
            hours between start and end summed, inspections per such hour, the mean and median minutes one took, and those with a \
            result other than no_anomaly. Shift rosters, equipment status and canine-team hours are not recorded, so inspections per \
            hour worked and out-of-service hours are not computed.
            """
    }

    public func report(from: Int64, to: Int64) async throws -> Report {
        let all = try await store.inspections(endedFrom: from, to: to)
        func groups(_ key: (StoredInspection) -> String) -> [Report.Group] {
            Dictionary(grouping: all, by: key).map { k, xs in
                let minutes = xs.map { Double($0.endedAtMillis - $0.startedAtMillis) / 60_000 }.sorted()
                let hours = minutes.reduce(0, +) / 60
                let median = minutes.count % 2 == 1 ? minutes[minutes.count / 2] : (minutes[minutes.count / 2 - 1] + minutes[minutes.count / 2]) / 2
                return Report.Group(key: k, inspections: xs.count, examHours: hours, perExamHour: hours > 0 ? Double(xs.count) / hours : nil,
                                    meanMinutes: minutes.reduce(0, +) / Double(minutes.count), medianMinutes: median,
                                    findings: xs.filter { $0.result != "no_anomaly" }.count)
            }.sorted { ($1.inspections, $0.key) < ($0.inspections, $1.key) }
        }
        return Report(from: Timestamp.iso(millis: from), to: Timestamp.iso(millis: to), inspections: all.count, byOfficer: groups(\.officer),
                      byMethod: groups(\.method), byEquipment: groups { $0.equipment ?? "(none)" })
    }
}
