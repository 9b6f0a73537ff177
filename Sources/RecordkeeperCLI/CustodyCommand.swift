import Archive
import ArgumentParser
import Custody
import Foundation
import Recordkeeper

/// Custody of physical items (issue 15): targeting rules and target lists, so far.
struct CustodyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "custody",
        abstract: "Physical items in custody: targeting rules and target lists.",
        discussion: """
            Targets name the item (its UPU S10 identifier, check digit verified) and the rule and \
            version that selected it. Import a day's target list with `custody import FILE` (a dry \
            run: what would be accepted, and every rejected row with its reason code), then again \
            with --commit. Importing the same file again adds nothing. Works on the embedded \
            archive and on PostgreSQL alike.
            """,
        subcommands: [Rule.self, Import.self, Fixture.self])

    static func service(_ archive: ArchiveOptions) async throws -> TargetImportService {
        let handle = try await archive.open()
        guard let store = handle.store as? any CustodyStore else {
            throw ArchiveError(.invalid, "this archive's store does not keep custody records")
        }
        return TargetImportService(store: store)
    }

    struct Rule: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "rule", abstract: "Targeting rules, versioned.", subcommands: [Add.self, List.self])

        struct Add: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "add", abstract: "Register a rule version (a version is never changed; register the next one).")
            @Argument(help: "The rule's code, as target lists name it (NARC-01).") var code: String
            @Option(help: "The version (1, 2, …).") var version: Int
            @Option(help: ArgumentHelp("One of \(TargetCategory.allCases.map(\.rawValue).joined(separator: ", ")).")) var category: String
            @Option(help: "Where it comes from (ATS, COI list, officer, canine, random).") var source: String
            @Option(help: "What it selects.") var description: String
            @OptionGroup var archive: ArchiveOptions
            func run() async throws {
                try await CLIError.report {
                    guard let c = TargetCategory(rawValue: category) else {
                        throw ValidationError("--category must be one of \(TargetCategory.allCases.map(\.rawValue).joined(separator: ", "))")
                    }
                    let added = try await CustodyCommand.service(archive).addRule(
                        TargetRule(code: code, version: version, category: c, source: source, description: description), actor: archive.resolvedActor)
                    print(added ? "Registered rule \(code) v\(version) (\(c.rawValue))." : "Rule \(code) v\(version) was registered already; nothing changed.")
                }
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(commandName: "list", abstract: "List the registered rule versions.")
            @Flag(help: "Print JSON.") var json = false
            @OptionGroup var archive: ArchiveOptions
            func run() async throws {
                try await CLIError.report {
                    let rules = try await CustodyCommand.service(archive).rules()
                    if json { print(Terminal.json(rules, pretty: true)); return }
                    if rules.isEmpty { print("No rules yet: recordkeeper custody rule add CODE --version 1 --category … --source … --description …") }
                    for r in rules { print("\(r.code) v\(r.version)  \(r.category)  \(r.source)  \(r.description)") }
                }
            }
        }
    }

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import", abstract: "Import a target list (canonical CSV); a dry run unless --commit.",
            discussion: """
                Columns (header row, any order): \(TargetImport.columns.joined(separator: ", ")). Required: \
                s10, rule_code, rule_version, reason_code, targeted_at, targeted_by. Times are ISO 8601 with \
                a zone (2019-06-17T08:00:00Z). Reason codes of rejected rows: S10_CHECK, S10_FORMAT, \
                DATE_INVALID, DATE_ORDER, RULE_UNKNOWN, REQUIRED_MISSING, VALUE_UNKNOWN, CSV_MALFORMED. A row \
                naming an item and rule already targeted is merged, not added. Exit status 0 either way; \
                the counts say what happened.
                """)
        @Argument(help: "The CSV file.") var file: String
        @Flag(help: "Store the accepted rows (and keep the rejected ones); without it nothing is written.") var commit = false
        @Option(help: "How many rejected rows to list (all with --json).") var show: Int = 20
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var archive: ArchiveOptions

        struct Report: Encodable {
            var file: String
            var sha256: String
            var dryRun: Bool
            var alreadyImported: Bool
            var rows: Int
            var accepted: Int
            var added: Int?
            var rejected: Int
            var merged: Int
            /// Codes as values (a JSON object's keys would be re-cased by the encoder).
            var rejectedByCode: [CodeCount]
            var unknownColumns: [String]
            var rejectedRows: [RejectedRow]
            var importID: Int64?
        }

        struct CodeCount: Encodable {
            var code: String
            var rows: Int
        }

        func run() async throws {
            try await CLIError.report {
                let service = try await CustodyCommand.service(archive)
                let url = URL(fileURLWithPath: file)
                let outcome = commit ? try await service.commit(url, actor: archive.resolvedActor) : try await service.dryRun(url)
                let p = outcome.plan
                let report = Report(file: url.lastPathComponent, sha256: outcome.fileHash, dryRun: !commit, alreadyImported: outcome.alreadyImported,
                                    rows: p.rowsTotal, accepted: p.accepted.count, added: commit ? (outcome.alreadyImported ? 0 : outcome.stored?.added) : nil,
                                    rejected: p.rejected.count, merged: commit && !outcome.alreadyImported ? outcome.stored?.merged ?? p.mergedDuplicates.count
                                        : p.mergedDuplicates.count,
                                    rejectedByCode: p.rejectedByCode.sorted { $0.key < $1.key }.map { CodeCount(code: $0.key, rows: $0.value) },
                                    unknownColumns: p.unknownColumns, rejectedRows: p.rejected, importID: outcome.stored?.id)
                if json { print(Terminal.json(report, pretty: true)); return }
                if outcome.alreadyImported, let s = outcome.stored {
                    print("\(report.file) was imported on \(s.importedAt) by \(s.importedBy) (import \(s.id)): nothing \(commit ? "added" : "would be added") now.")
                }
                print("\(report.file): \(p.rowsTotal) row\(p.rowsTotal == 1 ? "" : "s"); \(p.accepted.count) accepted, \(p.rejected.count) rejected, \(report.merged) merged duplicate\(report.merged == 1 ? "" : "s")")
                if !p.rejectedByCode.isEmpty {
                    print("  rejected by reason: " + p.rejectedByCode.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
                }
                for r in p.rejected.prefix(max(0, show)) { print("  line \(r.line)  \(r.code)  \(r.detail)") }
                if p.rejected.count > show { print("  … \(p.rejected.count - show) more (--show N, or --json)") }
                if !p.unknownColumns.isEmpty { print("  columns not read (kept with the import's record): \(p.unknownColumns.joined(separator: ", "))") }
                if commit, !outcome.alreadyImported, let s = outcome.stored {
                    print("Imported as import \(s.id): \(s.added) target\(s.added == 1 ? "" : "s") added, \(s.rejected) rejected row\(s.rejected == 1 ? "" : "s") kept as written.")
                } else if !commit {
                    print("Dry run: nothing was written. Run again with --commit to import.")
                }
            }
        }
    }

    struct Fixture: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "fixture", abstract: "Write an acceptance scenario's files (deterministic by seed).")
        @Option(help: ArgumentHelp("One of \(CustodyFixtures.Scenario.allCases.map(\.rawValue).joined(separator: ", ")).")) var scenario: String
        @Option(help: "The seed.") var seed: UInt64 = 1
        @Option(help: "The directory to write into.") var out: String
        func run() async throws {
            try await CLIError.report {
                guard let s = CustodyFixtures.Scenario(rawValue: scenario.uppercased()) else {
                    throw ValidationError("--scenario must be one of \(CustodyFixtures.Scenario.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                for url in try CustodyFixtures.write(s, seed: seed, to: URL(fileURLWithPath: out)) { print(url.path) }
                for r in CustodyFixtures.rules(for: s) {
                    Terminal.note("register first: recordkeeper custody rule add \(r.code) --version \(r.version) --category \(r.category.rawValue) --source '\(r.source)' --description '\(r.description)'")
                }
            }
        }
    }
}
