import Foundation
import SafeZip
import Testing
import ZIPFoundation

/// Issue 17: ZIPFoundation's own reading loops spin forever on a member whose data never ends
/// (found by fuzzing the WhatsApp zip reader). SafeZip reads a member's bytes itself.
@Suite("SafeZip: a member's bytes, bounded")
struct SafeZipTests {
    static let text = Data(String(repeating: "[3/1/21, 9:07:12 AM] Karen Walsh: the pallet goes to the locker\n", count: 2000).utf8)

    func archive(_ method: CompressionMethod) throws -> Data {
        let a = try Archive(data: Data(), accessMode: .create)
        try a.addEntry(with: "WhatsApp Chat - Ops.txt", type: .file, uncompressedSize: Int64(Self.text.count), compressionMethod: method) { p, n in
            Self.text.subdata(in: Int(p)..<min(Self.text.count, Int(p) + n))
        }
        return a.data!
    }

    @Test func membersReadWholeAndChecked() throws {
        for method in [CompressionMethod.deflate, .none] {
            let bytes = try archive(method)
            let a = try Archive(data: bytes, accessMode: .read)
            let entry = try #require(a["WhatsApp Chat - Ops.txt"])
            var out = Data()
            let crc = try SafeZip.extract(entry, from: .data(bytes), bufferSize: 1000) { out.append($0) }
            #expect(out == Self.text && crc == entry.checksum, "\(method)")
        }
    }

    /// The member's compressed bytes cut short, with the directory still at the end: ZIPFoundation
    /// would read on into the directory and then spin at the end of the file.
    @Test func aMemberWhoseStreamNeverEndsIsRefusedAtOnce() throws {
        var bytes = try archive(.deflate)
        let a = try Archive(data: bytes, accessMode: .read)
        let entry = try #require(a["WhatsApp Chat - Ops.txt"])
        // Zero the second half of the deflate data: the stream cannot end where it should.
        let start = 30 + "WhatsApp Chat - Ops.txt".utf8.count
        let half = start + Int(entry.compressedSize) / 2
        bytes.replaceSubrange(half..<(start + Int(entry.compressedSize)), with: Data(count: start + Int(entry.compressedSize) - half))
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("rk-safezip-\(UUID().uuidString).zip")
        try bytes.write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        // On a thread of its own, so that a regression shows as a failure, not a test run that never ends.
        let outcome = Outcome()
        let done = DispatchSemaphore(value: 0)
        Thread {
            do {
                guard let damaged = try Archive(url: file, accessMode: .read)["WhatsApp Chat - Ops.txt"] else { throw SafeZip.Failure(description: "no member") }
                var out = Data()
                let crc = try SafeZip.extract(damaged, from: .file(file)) { out.append($0) }
                outcome.set(crc == damaged.checksum ? "read as if whole" : "read, and the checksum caught it")
            } catch {
                outcome.set("refused: \(error)")
            }
            done.signal()
        }.start()
        #expect(done.wait(timeout: .now() + 120) == .success, "the damaged member was still being read after two minutes")
        #expect(outcome.get()?.hasPrefix("refused") == true || outcome.get() == "read, and the checksum caught it", "\(outcome.get() ?? "")")
    }
}

final class Outcome: @unchecked Sendable {
    private let lock = NSLock()
    private var value: String?
    func set(_ v: String) { lock.withLock { value = v } }
    func get() -> String? { lock.withLock { value } }
}
