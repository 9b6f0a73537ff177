import Archive
import Foundation
import RecordkeeperCore

/// The reconciliation reports by name, with one table form of each: the web page, the CSV and
/// the JSON answer of `GET /api/v1/custody/reports/{id}` come from the same run, so they show the
/// same numbers (CUSTODY.md §3: "available as web page, CSV and JSON").
public enum CustodyReportID: String, Sendable, CaseIterable {
    case notPresented = "not-presented", notInspected = "not-inspected", effectiveness, late, aging, latency, balance, security, dataQuality = "data-quality",
         detentions, referrals, workload, funnel, revenue, aed, manifests, decisions

    public var title: String {
        switch self {
        case .notPresented: "R-NP: targeted, not presented"
        case .notInspected: "R-NI: presented, not inspected"
        case .effectiveness: "R-EFF: targeting effectiveness per rule"
        case .late: "R-LATE: seizures not in SEACATS within 24 hours"
        case .aging: "R-AGE: in custody longer than allowed"
        case .latency: "R-LAT: arrival to inspection"
        case .balance: "R-BAL: daily custody balance"
        case .security: "R-SEC: physical-security exceptions"
        case .dataQuality: "R-DQ: data quality"
        case .detentions: "R-DET: detentions and the notice queue"
        case .referrals: "R-REF: referrals to other agencies"
        case .workload: "R-WORK: inspections by officer, method and equipment"
        case .funnel: "R-FUN: volume funnel by day, origin and mail class"
        case .revenue: "R-REV: revenue targets and duties assessed"
        case .aed: "R-AED: advance electronic data completeness by origin"
        case .manifests: "R-MAN: carrier manifests against scans, per container"
        case .decisions: "Decisions for the carrier (the CUSRSP role): holds, releases, seizures, duties"
        }
    }

    /// The balance is for one day; the others for a period and a moment.
    public var isDaily: Bool { self == .balance }
}

/// What a report is asked for: a period [from, to) and a moment, or a day.
public struct CustodyReportRequest: Sendable {
    public var id: CustodyReportID
    public var from: Int64
    public var to: Int64
    public var asOf: Int64
    public var hours: Int
    public var graceHours: Int
    public init(id: CustodyReportID, from: Int64, to: Int64, asOf: Int64, hours: Int = 72, graceHours: Int = 48) {
        self.id = id; self.from = from; self.to = to; self.asOf = asOf; self.hours = hours; self.graceHours = graceHours
    }
}

/// A report as a table: summary figures, then one row per item (or rule).
public struct ReportTable: Sendable, Equatable {
    public struct Figure: Sendable, Equatable, Encodable {
        public var label: String
        public var value: String
    }
    public var title: String
    public var figures: [Figure]
    public var headers: [String]
    public var rows: [[String]]
    public var definition: String

    /// RFC 4180: the header row, then the rows; CRLF line ends; fields quoted when needed. A field
    /// a spreadsheet would run as a formula is prefixed with an apostrophe.
    public var csv: String {
        func field(_ s: String) -> String {
            var s = s
            if let c = s.first, "=+-@\t\r".contains(c), Double(s) == nil { s = "'" + s }
            return s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
        }
        return ([headers] + rows).map { $0.map(field).joined(separator: ",") }.joined(separator: "\r\n") + "\r\n"
    }
}

public struct CustodyReports: Sendable {
    let store: any CustodyStore

    public init(store: any CustodyStore) { self.store = store }

    /// Runs the report; returns what the JSON answer encodes and its table.
    public func run(_ r: CustodyReportRequest) async throws -> (report: any Encodable & Sendable, table: ReportTable) {
        func pct(_ v: Double?) -> String { v.map { String(format: "%.2f", $0) } ?? "" }
        func num(_ v: Double?) -> String { v.map { String(format: "%.2f", $0) } ?? "" }
        func fig(_ label: String, _ value: Int) -> ReportTable.Figure { .init(label: label, value: String(value)) }
        switch r.id {
        case .notPresented:
            let rep = try await ReceiptService(store: store).notPresented(from: r.from, to: r.to, asOf: r.asOf, graceHours: r.graceHours)
            let rows = rep.notPresented.map { ["not presented", $0.s10, $0.rule, $0.targetedAt, $0.expectedArrivalAt ?? "", $0.dueAt, "", ""] }
                + rep.pending.map { ["pending", $0.s10, $0.rule, $0.targetedAt, $0.expectedArrivalAt ?? "", $0.dueAt, "", ""] }
                + rep.presentedLate.map { ["late", $0.s10, $0.rule, $0.targetedAt, $0.expectedArrivalAt ?? "", $0.dueAt, $0.receivedAt ?? "", String($0.lateBySeconds ?? 0)] }
            return (rep, ReportTable(title: r.id.title, figures: [fig("Targets", rep.targets), fig("Presented", rep.presented),
                                                                  fig("Not presented", rep.notPresented.count), fig("Pending (within grace)", rep.pending.count),
                                                                  fig("Presented late", rep.presentedLate.count)],
                                     headers: ["status", "s10", "rule", "targeted_at", "expected_arrival_at", "due_at", "received_at", "late_by_seconds"],
                                     rows: rows, definition: rep.definition))
        case .notInspected:
            let rep = try await ReconciliationService(store: store).notInspected(from: r.from, to: r.to, asOf: r.asOf)
            let rows = rep.inCustody.map { ["in custody", $0.s10, $0.rule, $0.receivedAt, "", ""] }
                + rep.returnedUninspected.map { ["returned uninspected", $0.s10, $0.rule, $0.receivedAt, $0.returnedAt ?? "", $0.returnDetail ?? ""] }
            return (rep, ReportTable(title: r.id.title, figures: [fig("Presented, not inspected", rep.inCustody.count + rep.returnedUninspected.count),
                                                                  fig("Still in custody", rep.inCustody.count),
                                                                  fig("Returned uninspected", rep.returnedUninspected.count)],
                                     headers: ["status", "s10", "rule", "received_at", "returned_at", "return_detail"], rows: rows, definition: rep.definition))
        case .effectiveness:
            let rep = try await ReconciliationService(store: store).effectiveness(from: r.from, to: r.to, asOf: r.asOf)
            let rows = (rep.rules + [rep.total]).map { row in
                [row.rule, String(row.targeted), String(row.presented), pct(row.presentationRate), String(row.inspected), pct(row.inspectionRate),
                 String(row.hits), pct(row.hitRate), row.hitsByViolation.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: "; ")]
            }
            return (rep, ReportTable(title: r.id.title, figures: [fig("Targeted", rep.total.targeted), fig("Presented", rep.total.presented),
                                                                  fig("Inspected", rep.total.inspected), fig("Hits", rep.total.hits),
                                                                  .init(label: "Hit rate %", value: pct(rep.total.hitRate))],
                                     headers: ["rule", "targeted", "presented", "presentation_rate_pct", "inspected", "inspection_rate_pct", "hits", "hit_rate_pct",
                                               "hits_by_violation"], rows: rows, definition: rep.definition))
        case .late:
            let rep = try await SeizureService(store: store).late(from: r.from, to: r.to, asOf: r.asOf)
            func row(_ status: String, _ z: LateSeizureReport.Row) -> [String] {
                [status, String(z.seizure), z.s10, z.seizedAt, z.deadline, z.seizingOfficer, z.form6051S, z.seacatsCase ?? "", z.recordedAt ?? "", num(z.hours),
                 z.lateReason ?? ""]
            }
            return (rep, ReportTable(title: r.id.title, figures: [fig("Seizures", rep.seizures), fig("On time", rep.onTime),
                                                                  fig("Recorded late", rep.recordedLate.count), fig("Overdue, not recorded", rep.overdueOpen.count),
                                                                  fig("Open, within 24 h", rep.open.count)],
                                     headers: ["status", "seizure", "s10", "seized_at", "deadline", "seizing_officer", "form_6051s", "seacats_case", "recorded_at",
                                               "hours", "late_reason"],
                                     rows: rep.recordedLate.map { row("late", $0) } + rep.overdueOpen.map { row("overdue", $0) } + rep.open.map { row("open", $0) },
                                     definition: rep.definition))
        case .aging:
            let rep = try await InspectionService(store: store).aging(from: r.from, to: r.to, asOf: r.asOf, hours: r.hours)
            return (rep, ReportTable(title: r.id.title, figures: [fig("In custody", rep.inCustody), fig("Held longer than \(rep.hours) h", rep.items.count),
                                                                  fig("Held as evidence (seized property)", rep.heldAsEvidence)],
                                     headers: ["s10", "received_at", "location", "held_hours", "inspected"],
                                     rows: rep.items.map { [$0.s10, $0.receivedAt, $0.location ?? "", num($0.heldHours), $0.inspected ? "yes" : "no"] },
                                     definition: rep.definition))
        case .latency:
            let rep = try await InspectionService(store: store).latency(from: r.from, to: r.to, asOf: r.asOf)
            return (rep, ReportTable(title: r.id.title, figures: [fig("Received", rep.received), fig("Inspected", rep.inspected),
                                                                  .init(label: "Mean (days)", value: num(rep.meanDays)),
                                                                  .init(label: "Median (days)", value: num(rep.medianDays)),
                                                                  .init(label: "90th percentile (days)", value: num(rep.p90Days)),
                                                                  .init(label: "Longest (days)", value: num(rep.maxDays))],
                                     headers: ["received", "inspected", "mean_days", "median_days", "p90_days", "max_days"],
                                     rows: [[String(rep.received), String(rep.inspected), num(rep.meanDays), num(rep.medianDays), num(rep.p90Days), num(rep.maxDays)]],
                                     definition: rep.definition))
        case .security:
            let rep = try await SecurityService(store: store).report(from: r.from, to: r.to)
            let rows = rep.heldInWeakLocations.map { ["weak location", $0.s10, $0.location, $0.at, $0.event, $0.why] }
                + rep.missingChecks.map { ["no check", "", $0.location, $0.day, "", $0.finding] }
                + rep.failedChecks.map { ["check failed", "", $0.location, $0.day, $0.checkedBy ?? "", $0.finding] }
                + rep.seizedWithoutWitness.map { ["no witness", $0.s10, $0.location, $0.at, $0.event, $0.why] }
            return (rep, ReportTable(title: r.id.title, figures: [fig("Placed in weak locations", rep.heldInWeakLocations.count),
                                                                  fig("Days without a check", rep.missingChecks.count), fig("Failed checks", rep.failedChecks.count),
                                                                  fig("Seized-item events without a witness", rep.seizedWithoutWitness.count)],
                                     headers: ["kind", "s10", "location", "at_or_day", "event_or_checked_by", "detail"], rows: rows, definition: rep.definition))
        case .dataQuality:
            let rep = try await DataQualityService(store: store).report(from: r.from, to: r.to)
            let rows = rep.imports.map { i in ["import", String(i.importID), i.file, String(i.rows), String(i.rejected),
                                               i.rejectedByCode.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: "; ")] }
                + rep.correctionsByUser.sorted { $0.key < $1.key }.map { ["corrections", $0.key, "", String($0.value), "", ""] }
                + rep.lateEdits.map { ["late edit", String($0.seizure), $0.s10, $0.by, "\($0.field) \($0.old) → \($0.new)", $0.reason] }
            return (rep, ReportTable(title: r.id.title, figures: [fig("Custody events", rep.facts.events), fig("Typed by hand", rep.facts.manualEntries),
                                                                  fig("Arrivals without a date", rep.facts.arrivalsWithoutDate),
                                                                  fig("Inspections without a date", rep.facts.inspectionsWithoutDate),
                                                                  fig("Inspections before arrival", rep.facts.inspectionsBeforeArrival),
                                                                  fig("Late edits", rep.lateEdits.count)],
                                     headers: ["kind", "id_or_user", "file_or_s10", "rows_or_count", "rejected_or_change", "detail"], rows: rows,
                                     definition: rep.definition))
        case .detentions:
            guard let privacy = store as? any CustodyPrivacyStore else { throw CustodyError(.invalid, "this archive's store does not keep detentions") }
            let rep = try await DetentionService.queue(privacy, from: r.from, to: r.to, asOf: r.asOf)
            func row(_ status: String, _ d: DetentionService.QueueReport.Row) -> [String] {
                [status, String(d.detention), d.s10, d.detainedAt, d.reason, d.contents, num(d.ageHours), d.noticeSentAt ?? "", d.responseDueAt ?? "", d.response ?? ""]
            }
            return (rep, ReportTable(title: r.id.title, figures: [fig("Detentions", rep.detentions), fig("Open", rep.open),
                                                                  fig("Notice not sent", rep.noticePending.count), fig("Answer period over, not disposed of", rep.pastDue.count),
                                                                  fig("Disposed of", rep.disposed)],
                                     headers: ["status", "detention", "s10", "detained_at", "reason", "contents", "age_hours", "notice_sent_at", "response_due_at",
                                               "response"],
                                     rows: rep.noticePending.map { row("notice pending", $0) } + rep.pastDue.map { row("past due", $0) },
                                     definition: rep.definition))
        case .referrals:
            guard let referrals = store as? any CustodyReferralStore else { throw CustodyError(.invalid, "this archive's store does not keep referrals") }
            let rep = try await ReferralService.report(referrals, from: r.from, to: r.to, asOf: r.asOf)
            let rows = rep.agencies.map { a in ["agency", a.agency, String(a.referred), String(a.open), String(a.collected), String(a.declined),
                                                num(a.meanHoursToCollect), num(a.medianHoursToCollect), ""] }
                + rep.open.map { o in ["open", o.agency, String(o.referral), o.s10, o.notifiedAt, num(o.ageHours), "", "", o.answered ? "answered" : "no answer"] }
            return (rep, ReportTable(title: r.id.title, figures: [fig("Referred", rep.agencies.reduce(0) { $0 + $1.referred }), fig("Open", rep.open.count),
                                                                  fig("Open without an answer", rep.open.filter { !$0.answered }.count),
                                                                  fig("Collected", rep.agencies.reduce(0) { $0 + $1.collected }),
                                                                  fig("Declined", rep.agencies.reduce(0) { $0 + $1.declined })],
                                     headers: ["kind", "agency", "referred_or_referral", "open_or_s10", "collected_or_notified_at", "declined_or_age_hours",
                                               "mean_hours_to_collect", "median_hours_to_collect", "answer"],
                                     rows: rows, definition: rep.definition))
        case .workload:
            let rep = try await WorkloadService(store: store).report(from: r.from, to: r.to)
            func rows(_ kind: String, _ gs: [WorkloadService.Report.Group]) -> [[String]] {
                gs.map { [kind, $0.key, String($0.inspections), num($0.examHours), num($0.perExamHour), num($0.meanMinutes), num($0.medianMinutes), String($0.findings)] }
            }
            return (rep, ReportTable(title: r.id.title, figures: [fig("Inspections", rep.inspections), fig("Officers", rep.byOfficer.count),
                                                                  fig("Pieces of equipment", rep.byEquipment.filter { $0.key != "(none)" }.count)],
                                     headers: ["by", "key", "inspections", "exam_hours", "per_exam_hour", "mean_minutes", "median_minutes", "findings"],
                                     rows: rows("officer", rep.byOfficer) + rows("method", rep.byMethod) + rows("equipment", rep.byEquipment),
                                     definition: rep.definition))
        case .funnel:
            guard let funnel = store as? any CustodyStore & CustodyFunnelStore else { throw CustodyError(.invalid, "this archive's store does not keep carrier counts") }
            let rep = try await FunnelService(store: funnel).report(from: r.from, to: r.to, asOf: r.asOf)
            func opt(_ v: Int?) -> String { v.map(String.init) ?? "" }
            func row(_ kind: String, _ x: FunnelService.Report.Row) -> [String] {
                [kind, x.day, x.origin, x.mailClass, x.coi ? "yes" : "no", opt(x.carrierArrivals), String(x.requestedTargeted), String(x.bulkRequests),
                 opt(x.bulkRequestedPieces), String(x.presentedTargeted), String(x.presentedOther), String(x.inspectedTargeted), String(x.inspectedOther),
                 String(x.hitsTargeted), String(x.hitsOther), pct(x.examRate), pct(x.hitRate)]
            }
            var figures = [ReportTable.Figure(label: "Carrier arrivals", value: opt(rep.total.carrierArrivals)),
                           fig("Requested (targets)", rep.total.requestedTargeted), fig("Category requests", rep.total.bulkRequests),
                           fig("Presented", rep.total.presented), fig("Inspected", rep.total.inspected), fig("Hits", rep.total.hits),
                           .init(label: "Exam rate %", value: pct(rep.total.examRate)), .init(label: "Hit rate %", value: pct(rep.total.hitRate))]
            for l in rep.table1 {
                figures.append(.init(label: "\(l.line): examined / received", value: "\(l.examined) / \(opt(l.received)) (\(pct(l.examRate)) %)"))
                figures.append(.init(label: "\(l.line): with a violation", value: "\(l.withViolation) (\(pct(l.violationRate)) %)"))
            }
            return (rep, ReportTable(title: r.id.title, figures: figures,
                                     headers: ["kind", "day", "origin", "mail_class", "coi", "carrier_arrivals", "requested_targeted", "bulk_requests",
                                               "bulk_requested_pieces", "presented_targeted", "presented_other", "inspected_targeted", "inspected_other",
                                               "hits_targeted", "hits_other", "exam_rate_pct", "hit_rate_pct"],
                                     rows: rep.rows.map { row("day", $0) } + rep.origins.map { row("origin", $0) } + [row("total", rep.total)],
                                     definition: rep.definition))
        case .aed:
            guard let aedStore = store as? any CustodyStore & CustodyFunnelStore & CustodyAdvanceDataStore else {
                throw CustodyError(.invalid, "this archive's store does not keep advance data")
            }
            let rep = try await AdvanceDataService(store: aedStore).report(from: r.from, to: r.to, asOf: r.asOf)
            func row(_ x: AdvanceDataService.Report.Row) -> [String] {
                [x.origin, String(x.presented), String(x.withAED), pct(x.aedRate), String(x.inAdvance), pct(x.advanceRate), String(x.withContentLines),
                 pct(x.contentRate), String(x.fullyHSCoded), pct(x.hsRate), String(x.withRecipient), pct(x.recipientRate), String(x.otherIDs)]
            }
            func ruleRow(_ x: AdvanceDataService.Report.RuleRow) -> [String] {
                ["rule " + x.rule, String(x.targeted), String(x.withAED), pct(x.aedRate), "", "", String(x.withContentLines), pct(x.contentRate),
                 String(x.fullyHSCoded), pct(x.hsRate), String(x.withRecipient), pct(x.recipientRate), ""]
            }
            return (rep, ReportTable(title: r.id.title, figures: [fig("Pieces presented", rep.total.presented), fig("With advance data", rep.total.withAED),
                                                                  .init(label: "With advance data %", value: pct(rep.total.aedRate)),
                                                                  .init(label: "In advance %", value: pct(rep.total.advanceRate)),
                                                                  .init(label: "Fully HS-coded %", value: pct(rep.total.hsRate)),
                                                                  .init(label: "With recipient %", value: pct(rep.total.recipientRate)),
                                                                  fig("Rows with other identifiers", rep.total.otherIDs)],
                                     headers: ["origin_or_rule", "presented_or_targeted", "with_aed", "aed_pct", "in_advance", "in_advance_pct", "with_content_lines",
                                               "content_pct", "fully_hs_coded", "hs_pct", "with_recipient", "recipient_pct", "other_ids"],
                                     rows: rep.origins.map(row) + rep.rules.map(ruleRow) + [row(rep.total)], definition: rep.definition))
        case .manifests:
            guard let manifests = store as? any CustodyStore & CustodyManifestStore else { throw CustodyError(.invalid, "this archive's store does not keep manifests") }
            let rep = try await ManifestService(store: manifests).report(from: r.from, to: r.to, asOf: r.asOf)
            var rows: [[String]] = []
            for c in rep.containers {
                let ps = c.presentations.map(String.init).joined(separator: ";")
                rows.append([c.presentations.isEmpty ? "never presented" : "container", c.day, c.container, c.direction, ps, "", String(c.listed), String(c.scanned),
                             c.declared.map(String.init) ?? "", "matched \(c.matched); manifest import \(c.manifestImport)"
                                + (c.replacedImports.isEmpty ? "" : " (replaces \(c.replacedImports.map(String.init).joined(separator: ";")))")])
                let (notThere, notListed) = c.direction == "out" ? ("listed, not in batch", "in batch, not listed") : ("listed, not received", "received, not listed")
                rows += c.missing.map { [notThere, c.day, c.container, c.direction, ps, $0.s10, "", "", "", $0.text(direction: c.direction)] }
                rows += c.unlisted.map { [notListed, c.day, c.container, c.direction, String($0.presentation), $0.s10, "", "", "", "scanned at \($0.at)"] }
            }
            rows += rep.withoutManifest.map { ["no manifest", $0.day, $0.container, $0.direction, String($0.presentation), "", "", String($0.scanned), String($0.declared), ""] }
            let t = rep.totals
            return (rep, ReportTable(title: r.id.title, figures: [fig("Containers listed", t.containers), fig("Never presented", t.neverPresented),
                                                                  fig("Pieces listed", t.listed), fig("Listed and scanned", t.matched),
                                                                  fig("Listed, not scanned into the container", t.missing), fig("… scanned elsewhere", t.scannedElsewhere),
                                                                  fig("Scanned, not listed", t.unlisted), fig("Containers without a manifest", t.withoutManifest)],
                                     headers: ["kind", "day", "container", "direction", "presentations", "s10", "listed", "scanned", "declared", "detail"],
                                     rows: rows, definition: rep.definition))
        case .decisions:
            guard let decisions = store as? DecisionService.Store else { throw CustodyError(.invalid, "this archive's store does not keep detentions, referrals and duties") }
            let rep = try await DecisionService(store: decisions).report(from: r.from, to: r.to, asOf: r.asOf)
            return (rep, ReportTable(title: r.id.title, figures: [fig("Decisions", rep.decisions.count)]
                                        + DecisionService.Decision.allCases.map { fig($0.rawValue, rep.counts[$0.rawValue] ?? 0) },
                                     headers: DecisionService.Report.csvHeaders, rows: rep.tableRows, definition: rep.definition))
        case .revenue:
            guard let duties = store as? any CustodyStore & CustodyDutyStore else { throw CustodyError(.invalid, "this archive's store does not keep duty assessments") }
            let rep = try await DutyService(store: duties).report(from: r.from, to: r.to, asOf: r.asOf)
            let rows = rep.rules.map { ["rule", $0.rule, String($0.targeted), String($0.presented), String($0.inspected), String($0.assessed), pct($0.yieldRate),
                                        $0.amounts.joined(separator: "; "), "", ""] }
                + rep.assessments.map { ["assessment", String($0.assessment), $0.s10, $0.assessedAt, $0.kind, $0.amount, "", $0.entry ?? "",
                                         $0.revenueTarget ? "revenue target" : "other examination", $0.by] }
            return (rep, ReportTable(title: r.id.title, figures: [fig("Revenue targets", rep.rules.reduce(0) { $0 + $1.targeted }),
                                                                  fig("Inspected", rep.rules.reduce(0) { $0 + $1.inspected }),
                                                                  fig("Assessed", rep.rules.reduce(0) { $0 + $1.assessed }),
                                                                  fig("Assessed in other examinations", rep.otherAssessments),
                                                                  .init(label: "Sums in other examinations", value: rep.otherAmounts.joined(separator: "; "))],
                                     headers: ["kind", "rule_or_assessment", "targeted_or_s10", "presented_or_at", "inspected_or_kind", "assessed_or_amount",
                                               "yield_pct", "amounts_or_entry", "source", "by"], rows: rows, definition: rep.definition))
        case .balance:
            let rep = try await BalanceService(store: store).balance(dayStart: r.from)
            var figures = [fig("Opening", rep.opening), fig("Received", rep.received), fig("From lab", rep.fromLab), fig("Returned to carrier", rep.returned),
                           fig("To agency", rep.toAgency), fig("Destroyed", rep.destroyed), fig("To seized property", rep.toSeizedProperty),
                           fig("To lab", rep.toLab), fig("Expected closing", rep.expectedClosing)]
            if let counted = rep.counted { figures += [fig("Counted", counted), fig("Discrepancy", rep.discrepancy ?? 0)] }
            figures.append(fig("Containers with a difference", rep.containersWithDifference))
            let rows = rep.unaccounted.map { ["unaccounted", $0.s10, $0.lastEvent, $0.lastLocation ?? "", $0.lastHolder, $0.lastAt, "", "", ""] }
                + rep.seenNotExpected.map { ["seen, not expected", $0.s10, $0.lastEvent, $0.lastLocation ?? "", $0.lastHolder, $0.lastAt, "", "", ""] }
                + rep.containers.map { [$0.direction == "out" ? "return batch" : "container", $0.container, $0.closedAt == nil ? "open" : "closed", "", "", $0.presentedAt, String($0.declared),
                                        String($0.scanned), String($0.difference)] }
            return (rep, ReportTable(title: r.id.title + " — " + rep.day, figures: figures,
                                     headers: ["kind", "s10_or_container", "last_event_or_state", "last_location", "last_holder", "at", "declared", "scanned",
                                               "difference"], rows: rows, definition: rep.definition))
        }
    }
}
