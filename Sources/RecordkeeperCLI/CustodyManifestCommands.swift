import Archive
import ArgumentParser
import Custody
import Foundation
import Recordkeeper
import RecordkeeperCore

/// Carrier manifests per container and their reconciliation (R-MAN).
extension CustodyCommand {
    static func manifests(_ archive: ArchiveOptions) async throws -> ManifestService {
        ManifestService(store: try await store(archive, as: ManifestService.Store.self, keeping: "manifests"))
    }

    struct ManifestImport: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "manifest", abstract: "Import the carrier's manifest of its containers (CSV or XLSX) for R-MAN; a dry run unless --commit.",
            discussion: """
                Columns (header row, any order): \(Manifest.columns.joined(separator: ", ")): the UTC day the container was handed \
                over (YYYY-MM-DD), its label as printed, and one piece's S10 identifier per row (for example the carrier's hold \
                list or presentation list). With --out the file lists return batches: what the carrier's driver signed for. Other \
                columns are kept by name in the import record. Refused rows are kept as written with their codes \
                (REQUIRED_MISSING, DATE_INVALID, CONTAINER_FORMAT, S10_FORMAT, S10_CHECK, DUPLICATE, CSV_MALFORMED). A file is \
                imported once; a later file's list for the same container and day is the one in force. A manifest records what \
                the carrier said; it never receives, moves or returns anything.
                """)
        @Argument(help: "The CSV or XLSX file.") var file: String
        @Flag(help: "The file lists return batches (pieces handed back to the carrier), not containers handed over.") var out = false
        @Flag(help: "Store the accepted rows (and keep the rejected ones); without it nothing is written.") var commit = false
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var archive: ArchiveOptions

        func run() async throws {
            try await CLIError.report {
                let result = try await CustodyCommand.manifests(archive).importFile(URL(fileURLWithPath: file), direction: out ? "out" : "in", commit: commit,
                                                                                    actor: archive.resolvedActor)
                CustodyCommand.printImport(result, commit: commit, json: json)
            }
        }
    }
}

extension CustodyCommand.Report {
    struct Manifests: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "manifests",
            abstract: "R-MAN: each container the carrier's manifest lists, against what was scanned into it: listed not received, received not listed.")
        @OptionGroup var period: CustodyCommand.ReportPeriod
        @Option(help: "Print at most this many pieces per container (all with --json).") var show = 20
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var archive: ArchiveOptions
        func run() async throws {
            try await CLIError.report {
                let r = try await CustodyCommand.manifests(archive).report(from: try period.start(), to: try period.end(), asOf: try period.moment())
                if json { print(Terminal.json(r, pretty: true)); return }
                let t = r.totals
                print("Carrier manifests [\(r.from), \(r.to)) as of \(r.asOf): \(t.containers) container(s) listed (\(t.neverPresented) never presented), "
                    + "\(t.listed) piece(s) listed, \(t.matched) scanned as listed, \(t.missing) not scanned into their container "
                    + "(\(t.scannedElsewhere) scanned elsewhere), \(t.unlisted) scanned but not listed; \(t.withoutManifest) container(s) without a manifest")
                for c in r.containers {
                    let what = c.direction == "out" ? "return batch" : "container"
                    let opened = c.presentations.isEmpty ? "never presented" : "\(what) \(c.presentations.map(String.init).joined(separator: ", "))"
                    print("  \(c.day) \(c.container) (\(opened)): listed \(c.listed), scanned \(c.scanned)\(c.declared.map { ", declared \($0)" } ?? ""), matched \(c.matched)")
                    for m in c.missing.prefix(show) { print("    \(c.direction == "out" ? "listed, not in batch" : "listed, not received")  \(m.s10)  \(m.text(direction: c.direction))") }
                    for u in c.unlisted.prefix(show) { print("    \(c.direction == "out" ? "in batch, not listed" : "received, not listed")  \(u.s10)  at \(u.at)") }
                    let more = max(0, c.missing.count - show) + max(0, c.unlisted.count - show)
                    if more > 0 { print("    … \(more) more (--show, or --json for all)") }
                }
                for w in r.withoutManifest {
                    print("  \(w.day) \(w.container) (\(w.direction == "out" ? "return batch" : "container") \(w.presentation)): no manifest; declared \(w.declared), scanned \(w.scanned)")
                }
            }
        }
    }
}
