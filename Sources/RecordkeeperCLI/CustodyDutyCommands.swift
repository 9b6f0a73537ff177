import Archive
import ArgumentParser
import Custody
import Foundation
import Recordkeeper
import RecordkeeperCore

/// Duties and fees assessed on inspected items, and R-REV.
extension CustodyCommand {
    static func duties(_ archive: ArchiveOptions) async throws -> DutyService {
        DutyService(store: try await store(archive, as: (any CustodyStore & CustodyDutyStore).self, keeping: "duty assessments"))
    }

    struct Duty: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "duty",
            abstract: "Record the duty or fee an inspection found owing on an item (an outcome, once per inspection; counted as a revenue hit).",
            discussion: "Refused for a seized or detained item and during an open inspection. This machine's clock (UTC) is the assessment's time.")
        @Argument(help: "The item's S10 identifier.") var item: String
        @Option(help: "duty, fee or duty_and_fee.") var kind: String
        @Option(help: "The sum, with at most two decimals (12.50).") var amount: String
        @Option(help: "ISO 4217 currency.") var currency = "USD"
        @Option(help: "The entry or receipt it was assessed under.") var entry: String?
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var archive: ArchiveOptions

        func run() async throws {
            try await CLIError.report {
                let d = try await CustodyCommand.duties(archive).assess(item, kind: kind, amount: amount, currency: currency, entry: entry, actor: archive.resolvedActor)
                if json { print(Terminal.json(d, pretty: true)); return }
                print("Assessment \(d.id): \(d.s10) \(d.kind) \(DutyService.money(d.amountMinor, d.currency))"
                    + (d.entryReference.map { " under \($0)" } ?? "") + " at \(Timestamp.iso(millis: d.assessedAtMillis)) by \(d.assessedBy).")
            }
        }
    }
}

extension CustodyCommand.Report {
    struct Revenue: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "revenue", abstract: "R-REV: revenue targets from targeting to assessment, and the duties and fees assessed.")
        @OptionGroup var period: CustodyCommand.ReportPeriod
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var archive: ArchiveOptions
        func run() async throws {
            try await CLIError.report {
                let r = try await CustodyCommand.duties(archive).report(from: try period.start(), to: try period.end(), asOf: try period.moment())
                if json { print(Terminal.json(r, pretty: true)); return }
                print("As of \(r.asOf): \(r.rules.reduce(0) { $0 + $1.targeted }) revenue target(s), \(r.assessments.count) assessment(s) in the period")
                for x in r.rules {
                    print("  \(x.rule): targeted \(x.targeted), presented \(x.presented), inspected \(x.inspected), assessed \(x.assessed)"
                        + (x.yieldRate.map { String(format: " (%.2f %%)", $0) } ?? "") + (x.amounts.isEmpty ? "" : ", \(x.amounts.joined(separator: "; "))"))
                }
                print("  in other examinations: \(r.otherAssessments)" + (r.otherAmounts.isEmpty ? "" : ", \(r.otherAmounts.joined(separator: "; "))"))
                for a in r.assessments {
                    print("  \(a.assessedAt)  \(a.s10)  \(a.kind)  \(a.amount)\(a.entry.map { "  \($0)" } ?? "")  \(a.revenueTarget ? "revenue target" : "other")  \(a.by)")
                }
            }
        }
    }
}
