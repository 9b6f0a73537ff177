import Foundation
import Testing

/// Issue 17: every input a fuzzer found to break a reader (Tests/Fuzz/TARGET/) is replayed
/// through the same target in every test run, together with the connectors' own fixtures, by
/// the ordinary build of `recordkeeper-fuzz` (the one scripts/fuzz.sh builds with libFuzzer).
@Suite("Fuzz regressions replayed", .serialized)
struct FuzzRegressionTests {
    static let binary = CLI.binary.deletingLastPathComponent().appendingPathComponent("recordkeeper-fuzz")
    static let regressions = packageRoot.appendingPathComponent("Tests/Fuzz")
    static let fixtures = packageRoot.appendingPathComponent("Tests/ConnectorsTests/Fixtures")

    func replay(_ target: String, _ paths: [URL]) throws -> (status: Int32, out: String) {
        let p = Process()
        p.executableURL = Self.binary
        p.arguments = [target] + paths.map(\.path)
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        return (p.terminationStatus, text)
    }

    @Test func everyTargetRunsItsSeedsAndEveryFindingAgain() throws {
        let listed = try replay("--list", [])
        let targets = try #require(listed.out.firstMatch(of: /targets: ([^)]+)\)/)).1.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        #expect(targets.count >= 16 && targets.contains("mbox") && targets.contains("search"))
        let seeds: [String: [String]] = [
            "whatsapp-txt": ["whatsapp"], "whatsapp-zip": ["whatsapp"], "telegram": ["telegram"], "teams": ["teams"], "sms": ["sms"],
            "eml": ["mail"], "mbox": ["mail", "mail-carried"], "wickr": ["wickr"], "matrix": ["matrix"],
        ]
        var replayed = 0
        for target in targets {
            var paths: [URL] = []
            let folder = Self.regressions.appendingPathComponent(target)
            for name in (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [] where !name.hasPrefix(".") {
                paths.append(folder.appendingPathComponent(name))
            }
            for dir in seeds[target] ?? [] {
                let d = Self.fixtures.appendingPathComponent(dir)
                for name in try FileManager.default.contentsOfDirectory(atPath: d.path) {
                    var isDirectory: ObjCBool = false
                    if FileManager.default.fileExists(atPath: d.appendingPathComponent(name).path, isDirectory: &isDirectory), !isDirectory.boolValue {
                        paths.append(d.appendingPathComponent(name))
                    }
                }
            }
            guard !paths.isEmpty else { continue }
            let r = try replay(target, paths)
            #expect(r.status == 0, "\(target) crashed on one of \(paths.map(\.lastPathComponent)): \(r.out.suffix(2000))")
            let done = r.out.split(separator: "\n").filter { $0.hasPrefix("ok \(target) ") }.count
            #expect(done == paths.count, "\(target): \(done) of \(paths.count) inputs replayed")
            replayed += done
        }
        #expect(replayed > 40)
    }
}
