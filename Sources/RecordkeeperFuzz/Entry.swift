import Foundation

// Two builds of one program (issue 17):
// - scripts/fuzz.sh builds it with `-DFUZZING -sanitize=fuzzer,address`: libFuzzer's own main
//   drives `LLVMFuzzerTestOneInput` with the target RK_FUZZ_TARGET names;
// - the ordinary build replays files through a target, so that every crash libFuzzer ever found
//   (Tests/Fuzz/<target>/) is run again by the test suite without a fuzzing toolchain.

/// A scratch directory per process, in memory when the machine has /dev/shm.
let fuzzWorkspace: URL = {
    let base = FileManager.default.fileExists(atPath: "/dev/shm") ? URL(fileURLWithPath: "/dev/shm") : FileManager.default.temporaryDirectory
    let url = base.appendingPathComponent("rk-fuzz-\(ProcessInfo.processInfo.processIdentifier)", isDirectory: true)
    try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}()

#if FUZZING
let fuzzTarget: FuzzTarget = {
    let name = ProcessInfo.processInfo.environment["RK_FUZZ_TARGET"] ?? ""
    guard let target = FuzzTarget(rawValue: name) else {
        FileHandle.standardError.write(Data("RK_FUZZ_TARGET must name a target: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", "))\n".utf8))
        exit(2)
    }
    return target
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let data = bytes.map { Data(bytes: $0, count: count) } ?? Data()
    fuzzTarget.run(data, in: fuzzWorkspace)
    return 0
}

/// libFuzzer's driver (compiler-rt, LLVM 13 and later).
@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                     _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

/// SwiftPM links an executable's `main` to `<module>_main` (so that tests can link the module);
/// here that entry hands over to libFuzzer, whose own `main` is then never linked.
@_cdecl("RecordkeeperFuzz_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var vector = argv
    return runFuzzerDriver(&count, &vector) { bytes, size in fuzzOneInput(bytes, size) }
}
#else
@main
struct Replay {
    static func main() {
        let args = Array(CommandLine.arguments.dropFirst())
        guard let name = args.first, let target = FuzzTarget(rawValue: name), args.count > 1 else {
            print("usage: recordkeeper-fuzz TARGET FILE|DIR…   (targets: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")))")
            exit(args.first == "--list" ? 0 : 2)
        }
        defer { try? FileManager.default.removeItem(at: fuzzWorkspace) }
        var files: [URL] = []
        for path in args.dropFirst() {
            let url = URL(fileURLWithPath: path)
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else { print("missing: \(path)"); exit(2) }
            if isDirectory.boolValue {
                let names = (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []
                files += names.sorted().filter { !$0.hasPrefix(".") }.map { url.appendingPathComponent($0) }
            } else {
                files.append(url)
            }
        }
        for file in files {
            guard let data = try? Data(contentsOf: file) else { continue }
            let started = Date()
            target.run(data, in: fuzzWorkspace)
            print("ok \(target.rawValue) \(file.lastPathComponent) \(data.count) bytes \(Int(Date().timeIntervalSince(started) * 1000)) ms")
        }
    }
}
#endif
