import ArgumentParser
import Archive
import Foundation
import Recordkeeper
import RecordkeeperCore

extension Recommendation.Status: ExpressibleByArgument {}

struct TrackerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tracker", abstract: "Audit recommendations: status, owners, target dates, corrective action plans, evidence, 90-day updates.",
        subcommands: [Seed.self, List.self, Show.self, Update.self, Evidence.self, Due.self])

    struct Seed: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "seed", abstract: "Enter OIG-21-62 (6 recommendations) and the March 2021 JFK mail-facility report (8).")
        @OptionGroup var archive: ArchiveOptions
        func run() async throws {
            try await CLIError.report {
                let list = try await TrackerService(archive: try await archive.open()).seed(actor: archive.resolvedActor)
                print("\(list.count) recommendations entered")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "Reports and their recommendations.")
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var archive: ArchiveOptions
        func run() async throws {
            try await CLIError.report {
                let service = TrackerService(archive: try await archive.open())
                let reports = try await service.reports()
                let recs = try await service.list()
                struct Out: Encodable { var reports: [AuditReport]; var recommendations: [Recommendation] }
                if json { print(Terminal.json(Out(reports: reports, recommendations: recs), pretty: true)); return }
                if reports.isEmpty { print("no audit reports; `recordkeeper tracker seed` enters the demo reports") }
                for report in reports {
                    print("\(report.reference) — \(report.title) (\(report.issuer), \(report.issued))")
                    for r in recs where r.reportID == report.id {
                        print("  #\(r.id) R\(r.number) \(r.status.rawValue.padding(toLength: 15, withPad: " ", startingAt: 0)) \(r.concurrence.padding(toLength: 10, withPad: " ", startingAt: 0)) target \(r.targetDate ?? "—")  \(r.office ?? "(office not named)")")
                        print("      \(r.text)")
                    }
                }
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "One recommendation with its plan, evidence and history.")
        @Argument(help: "Recommendation id.") var id: Int64
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var archive: ArchiveOptions
        func run() async throws {
            try await CLIError.report {
                let service = TrackerService(archive: try await archive.open())
                let r = try await service.get(id)
                let notes = try await service.notes(id: id)
                struct Out: Encodable { var recommendation: Recommendation; var history: [IncidentNote] }
                if json { print(Terminal.json(Out(recommendation: r, history: notes), pretty: true)); return }
                print("R\(r.number): \(r.text)\nOffice: \(r.office ?? "—")   \(r.concurrence)   status \(r.status.rawValue)   target \(r.targetDate ?? "—")")
                print("Response: \(r.response ?? "—")\nCorrective action plan: \(r.correctiveActionPlan ?? "—")")
                print("Evidence: \(r.evidence.isEmpty ? "none" : r.evidence.map { "record \($0)" }.joined(separator: ", "))")
                print("Last update \(r.lastUpdate ?? "—"), next due \(r.nextUpdateDue ?? "—")\nHistory:")
                for n in notes { print("  \(n.at)  \(n.actor): \(n.note)") }
            }
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "update", abstract: "Change status, office, target date or plan; record an update sent to the auditor.")
        @Argument(help: "Recommendation id.") var id: Int64
        @Option(help: "open-unresolved, open-resolved or closed.") var status: Recommendation.Status?
        @Option(help: "The owning office.") var office: String?
        @Option(help: "Target date (YYYY-MM-DD).") var target: CivilDate?
        @Option(help: "The corrective action plan.") var plan: String?
        @Option(name: .customLong("update-sent"), help: ArgumentHelp("Date an update went to the auditor; the next is due 90 days later.", valueName: "date")) var updateSent: CivilDate?
        @Option(help: "What changed, for the history.") var note: String
        @OptionGroup var archive: ArchiveOptions
        func run() async throws {
            try await CLIError.report {
                let r = try await TrackerService(archive: try await archive.open()).update(id: id, status: status, office: office, targetDate: target, plan: plan,
                                                                                    updateSent: updateSent, note: note, actor: archive.resolvedActor)
                print("R\(r.number) \(r.status.rawValue); next update due \(r.nextUpdateDue ?? "—")")
            }
        }
    }

    struct Evidence: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "evidence", abstract: "Cite an archive record (a memo's e-mail, a training notice) as evidence.")
        @Argument(help: "Recommendation id.") var id: Int64
        @Option(help: "The record's id.") var record: Int64
        @OptionGroup var archive: ArchiveOptions
        func run() async throws {
            try await CLIError.report {
                let r = try await TrackerService(archive: try await archive.open()).addEvidence(id: id, recordID: record, actor: archive.resolvedActor)
                print("R\(r.number): evidence \(r.evidence.map { "record \($0)" }.joined(separator: ", "))")
            }
        }
    }

    struct Due: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "due", abstract: "Open recommendations with a passed target date or a 90-day update due within two weeks.")
        @OptionGroup var archive: ArchiveOptions
        func run() async throws {
            try await CLIError.report {
                let due = try await TrackerService(archive: try await archive.open()).due()
                if due.isEmpty { print("nothing due") }
                for d in due { print("\(d.due)  #\(d.recommendation.id) R\(d.recommendation.number): \(d.what) (\(d.recommendation.office ?? "office not named"))") }
            }
        }
    }
}
