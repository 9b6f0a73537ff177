import ArgumentParser
import Foundation
import Recordkeeper

struct ObjectLockCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "object-lock",
        abstract: "Keep S3 Object Lock in step with retention and legal holds.",
        subcommands: [Sync.self])

    struct Sync: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "sync",
            abstract: "Extend each object's retention to its records' disposition date and set legal-hold flags.",
            discussion: """
                For every blob: COMPLIANCE retention until the latest date any record naming it \
                becomes eligible for disposition, at most the blob store's retention-days ahead \
                (records with no date get that horizon, renewed when half has run down); never \
                shortened. The object's legal-hold flag is on while any of its records is under an \
                active hold. Only what changed since the last pass is sent. `serve` runs a pass \
                every hour; run this from cron when no server runs. Exits 1 when some objects \
                could not be updated (each is named; the next pass retries).
                """)
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var archive: ArchiveOptions

        func run() async throws {
            var failed = false
            try await CLIError.report {
                let handle = try await archive.open(.operator)
                let report = try await ObjectLockService(archive: handle).sync(actor: archive.resolvedActor, progress: { r in
                    Terminal.progress("object lock: \(Terminal.count(r.blobsExamined)) blobs examined")
                })
                Terminal.endProgress()
                failed = !report.failures.isEmpty
                if json { print(Terminal.json(report, pretty: true)); return }
                guard report.active else {
                    print("Blobs are in \(handle.blobs.locationDescription), which has no Object Lock: nothing to do.")
                    return
                }
                print("\(Terminal.count(report.blobsExamined)) blobs examined in \(String(format: "%.1f", report.seconds)) s (horizon \(report.horizonDays) days)")
                print("  retention extended  \(Terminal.count(report.retentionExtended))")
                print("  legal holds set     \(Terminal.count(report.legalHoldsSet))")
                print("  legal holds lifted  \(Terminal.count(report.legalHoldsLifted))")
                for f in report.failures.prefix(50) { Terminal.error("not updated: \(f)") }
            }
            if failed { throw ExitCode(1) }
        }
    }
}
