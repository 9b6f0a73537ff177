import ArgumentParser
import Archive
import Custody
import Foundation
import RecordkeeperCore

extension CustodyCommand.Report {
    struct Decisions: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "decisions",
            abstract: "What customs decided about each piece, for the carrier (the CUSRSP role): holds, releases, seizures, detentions, referrals, duties.",
            discussion: """
                One row per decision made in the period (at most 31 days), in time order. --csv prints the carrier's file (the same as \
                GET /api/v1/custody/export/cusrsp); a site's EDI gateway maps its decision names onto the M44 codes it exchanges.
                """)
        @OptionGroup var period: CustodyCommand.ReportPeriod
        @Flag(help: "Print JSON.") var json = false
        @Flag(help: "Print the carrier's file (CSV) instead.") var csv = false
        @OptionGroup var archive: ArchiveOptions
        func run() async throws {
            try await CLIError.report {
                let store = try await CustodyCommand.store(archive, as: DecisionService.Store.self, keeping: "detentions, referrals and duties")
                let r = try await DecisionService(store: store).report(from: try period.start(), to: try period.end(), asOf: try period.moment())
                if json { print(Terminal.json(r, pretty: true)); return }
                if csv { print(r.csv, terminator: ""); return }
                let counts = DecisionService.Decision.allCases.compactMap { d in r.counts[d.rawValue].map { "\($0) \(d.rawValue)" } }
                print("Decisions for the carrier [\(r.from), \(r.to)) as of \(r.asOf): \(r.decisions.count)\(counts.isEmpty ? "" : " (" + counts.joined(separator: ", ") + ")")")
                for d in r.decisions {
                    var line = "  \(d.decidedAt)  \(d.s10)  \(d.decision.rawValue)"
                    if let party = d.party { line += "  \(party)" }
                    if let amount = d.amount, let currency = d.currency { line += "  \(d.kind ?? "") \(currency) \(amount)" + (d.entry.map { " entry \($0)" } ?? "") }
                    print(line)
                }
            }
        }
    }
}
