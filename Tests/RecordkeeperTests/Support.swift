import Archive
import Foundation
import GRDB
import Recordkeeper
import RecordkeeperCore
import RecordkeeperTesting

/// A fresh temporary directory, removed by `cleanup()`.
struct TempDir {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("rk-test-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    func sub(_ name: String) throws -> URL {
        let u = url.appendingPathComponent(name, isDirectory: true)
        try FileManager.default.createDirectory(at: u, withIntermediateDirectories: true)
        return u
    }
    func cleanup() { try? FileManager.default.removeItem(at: url) }
}

/// A new archive in a temporary directory.
func makeArchive(_ tmp: TempDir) async throws -> ArchiveHandle {
    try await DataDirectory(url: tmp.url.appendingPathComponent("data")).create(actor: "test")
}

let officer = "k.walsh@cbp.example.gov"

func ingest(_ archive: ArchiveHandle, _ url: URL, custodian: String = officer, timeZone: String? = "America/Phoenix",
            dateOrder: DateOrder? = nil) async throws -> BatchReport {
    let reports = try await IngestService(archive: archive).ingest(
        IngestRequest(paths: [url], custodian: custodian, timeZone: timeZone, dateOrder: dateOrder, actor: "test"))
    guard reports.count == 1 else { throw TestFailure("expected one batch, got \(reports.count)") }
    if let e = reports[0].error { throw TestFailure("ingest failed: \(e)") }
    return reports[0]
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// Writes a chat text file by hand (real-format fixture written in the test).
func writeText(_ text: String, named name: String, in dir: URL) throws -> URL {
    let url = dir.appendingPathComponent(name)
    try Data(text.utf8).write(to: url)
    return url
}

/// The package root (for the built binary and golden files).
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// Runs scripts/verify_checkpoints.py (python3 and openssl, no archive) on `file`: its exit status
/// and what it printed.
func runCheckpointScript(_ file: URL, _ extra: [String] = []) throws -> (status: Int32, output: String) {
    try BagValidator.run("/usr/bin/env", ["python3", packageRoot.appendingPathComponent("scripts/verify_checkpoints.py").path, file.path] + extra)
}

/// A connection of its own to the archive's database, as an attacker or another process opens
/// it: it waits for the write lock like every writer (a read's audit entry may be being chained
/// in the background when it asks).
func rawDatabase(_ archive: ArchiveHandle) throws -> DatabaseQueue {
    var config = Configuration()
    config.busyMode = .timeout(30)
    return try DatabaseQueue(path: archive.directory.databaseURL.path, configuration: config)
}
