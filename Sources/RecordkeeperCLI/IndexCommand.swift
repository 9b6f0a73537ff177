import ArgumentParser
import Foundation
import Recordkeeper

struct IndexCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "index",
        abstract: "The search index: how far it lags behind capture, catch it up, rebuild it.",
        discussion: """
            Records are captured first and indexed for search behind capture. `ingest` waits for the \
            index unless given --no-wait-index; `serve` indexes continuously. Every search answer \
            says how many captured messages it could not see yet.
            """,
        subcommands: [Status.self, CatchUp.self, Rebuild.self])

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "status", abstract: "How many captured messages are not yet searchable, and since when.")
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var archive: ArchiveOptions
        func run() async throws {
            try await CLIError.report {
                let s = try await IndexService(archive: try await archive.open(.operator)).status()
                if json {
                    struct Out: Encodable { var indexedThrough: Int64; var capturedThrough: Int64; var coverage: SearchCoverage; var lagSeconds: Double }
                    print(Terminal.json(Out(indexedThrough: s.indexedThrough, capturedThrough: s.capturedThrough, coverage: SearchCoverage(s),
                                            lagSeconds: (s.lagSeconds() * 10).rounded() / 10), pretty: true))
                    return
                }
                print(s.coverageStatement)
                print("indexed through message \(s.indexedThrough) of \(s.capturedThrough)" + (s.pending > 0 ? String(format: "; oldest waiting %.0f s", s.lagSeconds()) : ""))
            }
        }
    }

    struct CatchUp: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "catch-up", abstract: "Index everything captured so far (waits for another indexer instead of competing with it).")
        @OptionGroup var archive: ArchiveOptions
        func run() async throws {
            try await CLIError.report {
                let service = IndexService(archive: try await archive.open(.operator))
                let added = try await service.catchUp(progress: { p in
                    Terminal.progress("indexing: \(Terminal.count(p.indexed)) indexed, \(Terminal.count(p.pending)) to go (\(String(format: "%.0f", p.elapsed)) s)")
                })
                Terminal.endProgress()
                print("\(Terminal.count(added)) message\(added == 1 ? "" : "s") indexed. " + (try await service.status()).coverageStatement)
            }
        }
    }

    struct Rebuild: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rebuild", abstract: "Empty the search index and build it again from every captured record (audited).",
            discussion: "Searches meanwhile report the records not yet re-indexed. Records themselves are not touched.")
        @OptionGroup var archive: ArchiveOptions
        func run() async throws {
            try await CLIError.report {
                let service = IndexService(archive: try await archive.open(.operator))
                let started = Date()
                let added = try await service.rebuild(actor: archive.resolvedActor, progress: { p in
                    let rate = p.elapsed > 0 ? Double(p.indexed) / p.elapsed : 0
                    Terminal.progress("rebuilding: \(Terminal.count(p.indexed)) indexed, \(Terminal.count(p.pending)) to go, \(Terminal.count(Int(rate))) msg/s")
                })
                Terminal.endProgress()
                print("Search index rebuilt: \(Terminal.count(added)) messages in \(String(format: "%.1f", Date().timeIntervalSince(started))) s.")
            }
        }
    }
}
