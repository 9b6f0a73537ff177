import ArgumentParser
import Archive
import Foundation
import Recordkeeper
import RecordkeeperCore

/// The report's fields, shared by `incident open` and `incident update`.
struct IncidentFieldOptions: ParsableArguments {
    @Option(name: .customLong("case-number"), help: ArgumentHelp("NARA's case number, e.g. UD-2022-0001.", valueName: "number")) var caseNumber: String?
    @Option(help: "Description of the records (1230.14(a)(1)).") var description: String?
    @Option(help: "How many records, if known.") var volume: Int?
    @Option(name: .customLong("from"), help: ArgumentHelp("First date of the records (YYYY-MM-DD).", valueName: "date")) var recordsFrom: String?
    @Option(name: .customLong("to"), help: ArgumentHelp("Last date of the records (YYYY-MM-DD).", valueName: "date")) var recordsTo: String?
    @Option(help: "Office maintaining the records.") var office: String?
    @Option(help: "Exact circumstances of the disposition.") var circumstances: String?
    @Option(help: "Safeguards taken to prevent recurrence.") var safeguards: String?
    @Option(help: "Actions taken to salvage, retrieve or reconstruct the records.") var salvage: String?
    @Option(help: "Corrective actions.") var corrective: String?
    @Option(help: "Policies, training and records schedules in place.") var policies: String?

    func fields(title: String? = nil) -> IncidentService.Fields {
        IncidentService.Fields(title: title, caseNumber: caseNumber, description: description, volume: volume, recordsFrom: recordsFrom,
                               recordsTo: recordsTo, office: office, circumstances: circumstances, safeguards: safeguards,
                               salvage: salvage, corrective: corrective, policies: policies)
    }
}

struct IncidentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "incident", abstract: "Unauthorized-disposition incidents (36 CFR 1230.14): open, complete, report to NARA, follow up.",
        discussion: """
            `verify` opens one when it finds records missing or altered. For the capture findings that call for one \
            (messages the agency's own people deleted before capture, the other side of a chat never captured), \
            `serve` opens them every hour in the system's name, and `incident open-findings` opens them at once in \
            yours; reading the findings (`report findings`, the dashboard) opens nothing. Records officers open others \
            by hand. The report is due to NARA 30 days after opening, then an update every quarter until NARA closes \
            the case.
            """,
        subcommands: [Open.self, OpenFindings.self, List.self, Show.self, Update.self, Report.self, Reported.self, Progress.self, Close.self])

    struct OpenFindings: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "open-findings",
            abstract: "Open an incident for each capture finding that calls for one and has none yet, in your name.")
        @Option(help: ArgumentHelp("Judge as of this date (YYYY-MM-DD; default today).", valueName: "date")) var asOf: String?
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var archive: ArchiveOptions
        func run() async throws {
            try await CLIError.report {
                let (findings, opened) = try await IncidentService(archive: try await archive.open()).openForFindings(asOf: try CivilDateParser.asOf(asOf),
                                                                                                                         actor: archive.resolvedActor)
                if json { print(Terminal.json(opened, pretty: true)); return }
                let calling = findings.filter(IncidentService.callsForIncident).count
                print("\(calling) finding\(calling == 1 ? "" : "s") call\(calling == 1 ? "s" : "") for an incident; \(opened.count) opened now"
                    + (calling > opened.count ? " (the others were opened before)" : ""))
                for i in opened { print("  incident \(i.id) opened: \(i.title); report due \(i.reportDue.prefix(10))") }
            }
        }
    }

    struct Open: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "open", abstract: "Open an incident by hand.")
        @Argument(help: "A title, e.g. \"WhatsApp messages of Oct 2018 – Mar 2019 never captured\".") var title: String
        @OptionGroup var fields: IncidentFieldOptions
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var archive: ArchiveOptions
        func run() async throws {
            try await CLIError.report {
                let i = try await IncidentService(archive: try await archive.open()).open(title: title, fields: fields.fields(), actor: archive.resolvedActor)
                if json { print(Terminal.json(i, pretty: true)); return }
                print("incident \(i.id) opened: \(i.title); report due \(i.reportDue.prefix(10))")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "Incidents and what is due, overdue first.")
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var archive: ArchiveOptions
        func run() async throws {
            try await CLIError.report {
                let service = IncidentService(archive: try await archive.open())
                let list = try await service.list()
                if json { print(Terminal.json(list, pretty: true)); return }
                if list.isEmpty { print("no incidents"); return }
                let due = try await service.deadlines()
                for i in list {
                    let d = due.first { $0.incident.id == i.id }
                    print("#\(i.id)  \(i.caseNumber ?? "(no case number)")  \(i.status.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0)) \(i.title)")
                    if let d { print("      \(d.overdue ? "OVERDUE: " : "")\(d.what) due \(d.due)") }
                }
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "An incident with its history.")
        @Argument(help: "Incident id.") var id: Int64
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var archive: ArchiveOptions
        func run() async throws {
            try await CLIError.report {
                let service = IncidentService(archive: try await archive.open())
                let i = try await service.get(id)
                let notes = try await service.notes(id: id)
                struct Out: Encodable { var incident: Incident; var history: [IncidentNote] }
                if json { print(Terminal.json(Out(incident: i, history: notes), pretty: true)); return }
                print(service.render(i, markdown: true, signer: nil))
                print("History:")
                for n in notes { print("  \(n.at)  \(n.actor): \(n.note)") }
            }
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "update", abstract: "Complete or correct the report's fields.")
        @Argument(help: "Incident id.") var id: Int64
        @Option(help: "A new title.") var title: String?
        @OptionGroup var fields: IncidentFieldOptions
        @Option(help: "Why (kept in the incident's history).") var note: String?
        @OptionGroup var archive: ArchiveOptions
        func run() async throws {
            try await CLIError.report {
                let i = try await IncidentService(archive: try await archive.open()).update(id: id, fields: fields.fields(title: title), note: note, actor: archive.resolvedActor)
                print("incident \(i.id) updated")
            }
        }
    }

    struct Report: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "report", abstract: "Render the report to NARA for the records officer's signature.")
        @Argument(help: "Incident id.") var id: Int64
        @Option(help: "markdown or html.") var format = "markdown"
        @Option(help: "The records officer who signs it.") var signer: String?
        @Option(name: .shortAndLong, help: ArgumentHelp("Write to this file instead of standard output.", valueName: "path")) var output: String?
        @OptionGroup var archive: ArchiveOptions
        func run() async throws {
            try await CLIError.report {
                guard ["markdown", "md", "html"].contains(format) else { throw ValidationError("--format is markdown or html") }
                let handle = try await archive.open()
                let service = IncidentService(archive: handle)
                let text = service.render(try await service.get(id), markdown: format != "html", signer: signer)
                try await handle.store.appendReadAudit(AuditDraft(actor: archive.resolvedActor, action: "incident.render", target: "incident:\(id)", detail: ["format": format]))
                if let output { try Data(text.utf8).write(to: URL(fileURLWithPath: output)); print("wrote \(output)") } else { print(text, terminator: "") }
            }
        }
    }

    struct Reported: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "reported", abstract: "Record that the report went to NARA (quarterly updates fall due from then).")
        @Argument(help: "Incident id.") var id: Int64
        @Option(help: "The date it was sent (YYYY-MM-DD; default today).") var on: CivilDate?
        @OptionGroup var archive: ArchiveOptions
        func run() async throws {
            try await CLIError.report {
                let i = try await IncidentService(archive: try await archive.open()).markReported(id: id, on: on ?? CivilDate.today(), actor: archive.resolvedActor)
                print("incident \(i.id) reported; next quarterly update due \(i.nextUpdateDue ?? "-")")
            }
        }
    }

    struct Progress: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "progress", abstract: "Record a quarterly update sent to NARA.")
        @Argument(help: "Incident id.") var id: Int64
        @Option(help: "What the update said.") var note: String
        @Option(help: "The date it was sent (YYYY-MM-DD; default today).") var on: CivilDate?
        @OptionGroup var archive: ArchiveOptions
        func run() async throws {
            try await CLIError.report {
                let i = try await IncidentService(archive: try await archive.open()).recordUpdate(id: id, on: on ?? CivilDate.today(), note: note, actor: archive.resolvedActor)
                print("incident \(i.id): next quarterly update due \(i.nextUpdateDue ?? "-")")
            }
        }
    }

    struct Close: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "close", abstract: "Close an incident (e.g. NARA closed the case).")
        @Argument(help: "Incident id.") var id: Int64
        @Option(help: "Why.") var reason: String
        @OptionGroup var archive: ArchiveOptions
        func run() async throws {
            try await CLIError.report {
                let i = try await IncidentService(archive: try await archive.open()).close(id: id, reason: reason, actor: archive.resolvedActor)
                print("incident \(i.id) closed")
            }
        }
    }
}
