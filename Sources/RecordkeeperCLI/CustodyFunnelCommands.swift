import Archive
import ArgumentParser
import Custody
import Foundation
import Recordkeeper
import RecordkeeperCore

/// The volume funnel's inputs and report (R-FUN): the carrier's daily counts, category requests,
/// the countries-of-interest list.
extension CustodyCommand {
    /// The archive's store as the kind of store a custody service needs, or an error saying what
    /// this store does not keep.
    static func store<S>(_ archive: ArchiveOptions, as: S.Type, keeping what: String) async throws -> S {
        guard let store = try await archive.open().store as? S else { throw ArchiveError(.invalid, "this archive's store does not keep \(what)") }
        return store
    }

    static func funnel(_ archive: ArchiveOptions) async throws -> FunnelService {
        FunnelService(store: try await store(archive, as: (any CustodyStore & CustodyFunnelStore).self, keeping: "carrier counts"))
    }

    static func advanceData(_ archive: ArchiveOptions) async throws -> AdvanceDataService {
        AdvanceDataService(store: try await store(archive, as: AdvanceDataService.Store.self, keeping: "advance data"))
    }

    /// What a carrier-count or advance-data import did (or would do), for a person or as JSON.
    static func printImport(_ out: FunnelService.ArrivalOutcome, commit: Bool, json: Bool) {
        if json { print(Terminal.json(out, pretty: true)); return }
        if out.alreadyImported, let s = out.stored {
            print("\(out.file) was imported on \(s.importedAt) by \(s.importedBy) (import \(s.id)): nothing \(commit ? "added" : "would be added") now.")
            return
        }
        print("\(out.file): \(out.rows) row(s), \(out.accepted) \(commit ? "stored" : "would be stored"), \(out.rejected.count) rejected"
            + (out.unknownColumns.isEmpty ? "" : "; other columns kept by name: \(out.unknownColumns.joined(separator: ", "))"))
        for r in out.rejected.prefix(50) { print("  line \(r.line)  \(r.code)  \(r.detail)  | \(r.raw)") }
        if out.rejected.count > 50 { print("  … \(out.rejected.count - 50) more (--json lists all)") }
        if let s = out.stored, commit { print("Import \(s.id), digest \(s.digest).") } else if !commit { print("Dry run: run again with --commit to store.") }
    }

    struct Arrivals: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "arrivals", abstract: "Import the carrier's daily arrival counts (CSV or XLSX); a dry run unless --commit.",
            discussion: """
                Columns (header row, any order): \(ArrivalCounts.columns.joined(separator: ", ")): the UTC day (YYYY-MM-DD), the \
                origin's ISO 3166-1 alpha-2 code, the mail class (\(MailClass.allCases.map(\.rawValue).joined(separator: ", "))) and \
                the pieces the carrier counted (for example from its daily extract). Other columns are kept by name in the import \
                record. Rejected rows are kept as written with their codes (REQUIRED_MISSING, DATE_INVALID, VALUE_UNKNOWN, \
                DUPLICATE, CSV_MALFORMED). A file is imported once; a later file's count for the same day, origin and class is \
                the one R-FUN reads (the earlier stays on record). Exit status 0 either way; the counts say what happened.
                """)
        @Argument(help: "The CSV or XLSX file.") var file: String
        @Flag(help: "Store the accepted rows (and keep the rejected ones); without it nothing is written.") var commit = false
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var archive: ArchiveOptions

        func run() async throws {
            try await CLIError.report {
                let out = try await CustodyCommand.funnel(archive).importArrivals(URL(fileURLWithPath: file), commit: commit, actor: archive.resolvedActor)
                CustodyCommand.printImport(out, commit: commit, json: json)
            }
        }
    }

    struct AdvanceDataImport: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "aed", abstract: "Import advance electronic data per piece (CSV or XLSX) for R-AED; a dry run unless --commit.",
            discussion: """
                Columns (header row, any order): \(AdvanceData.columns.joined(separator: ", ")): the piece's identifier (S10, or \
                another scheme's), the origin post's country, when the data arrived (ISO 8601 with a zone), the declaration's \
                article lines and how many carry an HS code, and whether the recipient was sent (yes/no). A site produces it \
                from its ITMATT or CUSITM feed. Refused rows are kept as written with their codes (REQUIRED_MISSING, \
                DATE_INVALID, VALUE_UNKNOWN, S10_CHECK, DUPLICATE, CSV_MALFORMED). A file is imported once; a later file's row \
                for the same piece is the one in force.
                """)
        @Argument(help: "The CSV or XLSX file.") var file: String
        @Flag(help: "Store the accepted rows (and keep the rejected ones); without it nothing is written.") var commit = false
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var archive: ArchiveOptions

        func run() async throws {
            try await CLIError.report {
                let out = try await CustodyCommand.advanceData(archive).importFile(URL(fileURLWithPath: file), commit: commit, actor: archive.resolvedActor)
                CustodyCommand.printImport(out, commit: commit, json: json)
            }
        }
    }

    struct BulkRequest: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "bulk-request",
            abstract: "Record a category request: pieces of one origin and mail class asked of the carrier for a day (R-FUN counts them).")
        @Option(help: "The UTC day (YYYY-MM-DD).") var day: String
        @Option(help: "The origin's ISO 3166-1 alpha-2 code.") var origin: String
        @Option(name: .customLong("class"), help: "The mail class (\(MailClass.allCases.map(\.rawValue).joined(separator: ", "))).") var mailClass: String
        @Option(help: "Pieces asked for (leave out for all of them).") var count: Int?
        @Option(help: "Why (the risk or the operation).") var reason: String
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var archive: ArchiveOptions

        func run() async throws {
            try await CLIError.report {
                let r = try await CustodyCommand.funnel(archive).requestBulk(day: day, origin: origin, mailClass: mailClass, count: count, reason: reason,
                                                                             actor: archive.resolvedActor)
                if json { print(Terminal.json(r, pretty: true)); return }
                print("Category request \(r.id): \(r.day) \(r.originCountry) \(r.mailClass), \(r.requestedCount.map { "\($0) pieces" } ?? "all pieces").")
            }
        }
    }

    struct COI: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "coi", abstract: "The countries-of-interest list R-FUN splits the funnel by.",
                                                        subcommands: [Show.self, Set.self])
        struct Show: AsyncParsableCommand {
            static let configuration = CommandConfiguration(commandName: "show", abstract: "The list in force.")
            @OptionGroup var archive: ArchiveOptions
            func run() async throws {
                try await CLIError.report {
                    let list = try await CustodyCommand.funnel(archive).coiCountries()
                    print(list.isEmpty ? "No countries of interest are set." : list.joined(separator: ","))
                }
            }
        }
        struct Set: AsyncParsableCommand {
            static let configuration = CommandConfiguration(commandName: "set", abstract: "Replace the list (the old one stays in the history and the audit log).")
            @Argument(help: "ISO 3166-1 alpha-2 codes, comma-separated (CN,HK); empty to clear.") var countries: String
            @Option(help: "Why it changes.") var reason: String
            @OptionGroup var archive: ArchiveOptions
            func run() async throws {
                try await CLIError.report {
                    let list = try await CustodyCommand.funnel(archive).setCOI(countries, reason: reason, actor: archive.resolvedActor)
                    print("Countries of interest: \(list.isEmpty ? "none" : list.joined(separator: ","))")
                }
            }
        }
    }
}

extension CustodyCommand.Report {
    struct AED: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "aed", abstract: "R-AED: per origin and per targeting rule, the share of pieces with advance data, in advance, with content lines, HS codes, the recipient.")
        @OptionGroup var period: CustodyCommand.ReportPeriod
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var archive: ArchiveOptions
        func run() async throws {
            try await CLIError.report {
                let r = try await CustodyCommand.advanceData(archive).report(from: try period.start(), to: try period.end(), asOf: try period.moment())
                if json { print(Terminal.json(r, pretty: true)); return }
                func p(_ v: Double?) -> String { v.map { String(format: "%.2f %%", $0) } ?? "—" }
                print("Advance electronic data [\(r.from), \(r.to)) as of \(r.asOf): \(r.total.presented) piece(s) presented")
                for x in r.origins + [r.total] {
                    print("  \(x.origin.padding(toLength: 4, withPad: " ", startingAt: 0)) presented \(x.presented): with AED \(p(x.aedRate)), in advance \(p(x.advanceRate)), "
                        + "content lines \(p(x.contentRate)), fully HS-coded \(p(x.hsRate)), recipient \(p(x.recipientRate)); other identifiers \(x.otherIDs)")
                }
                if !r.rules.isEmpty { print("Per rule, over the pieces it targeted in the period:") }
                for x in r.rules {
                    print("  \(x.rule): targeted \(x.targeted): with AED \(p(x.aedRate)), content lines \(p(x.contentRate)), fully HS-coded \(p(x.hsRate)), "
                        + "recipient \(p(x.recipientRate))")
                }
            }
        }
    }

    struct Funnel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "funnel", abstract: "R-FUN: carrier arrivals → requested → presented → inspected → hits, per day, origin and mail class.")
        @OptionGroup var period: CustodyCommand.ReportPeriod
        @Option(help: "Print at most this many day rows (all with --json).") var show = 40
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var archive: ArchiveOptions
        func run() async throws {
            try await CLIError.report {
                let r = try await CustodyCommand.funnel(archive).report(from: try period.start(), to: try period.end(), asOf: try period.moment())
                if json { print(Terminal.json(r, pretty: true)); return }
                func n(_ v: Int?) -> String { v.map(String.init) ?? "—" }
                func p(_ v: Double?) -> String { v.map { String(format: "%.2f %%", $0) } ?? "—" }
                let t = r.total
                print("Volume funnel [\(r.from), \(r.to)) as of \(r.asOf); countries of interest: \(r.coiCountries.isEmpty ? "none set" : r.coiCountries.joined(separator: ","))")
                print("  carrier arrivals \(n(t.carrierArrivals)) → requested \(t.requestedTargeted) targets + \(t.bulkRequests) category request(s) → presented \(t.presented) "
                    + "→ inspected \(t.inspected) (exam rate \(p(t.examRate))) → hits \(t.hits) (hit rate \(p(t.hitRate)))")
                for l in r.table1 {
                    print("  \(l.line): received \(n(l.received)), examined \(l.examined) (\(p(l.examRate))), with a violation \(l.withViolation) (\(p(l.violationRate)))")
                }
                print("  day        origin class       arrivals targets presented inspected hits exam rate")
                for x in r.rows.prefix(show) {
                    print("  " + [x.day, (x.origin + (x.coi ? "*" : "")).padding(toLength: 6, withPad: " ", startingAt: 0),
                                  x.mailClass.padding(toLength: 11, withPad: " ", startingAt: 0), n(x.carrierArrivals).leftPadded(8), String(x.requestedTargeted).leftPadded(7),
                                  String(x.presented).leftPadded(9), String(x.inspected).leftPadded(9), String(x.hits).leftPadded(4), p(x.examRate)].joined(separator: " "))
                }
                if r.rows.count > show { print("  … \(r.rows.count - show) more day row(s) (--show, or --json for all); * = country of interest") }
            }
        }
    }
}

extension String {
    fileprivate func leftPadded(_ width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
}
