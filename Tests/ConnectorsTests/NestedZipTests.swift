import Connectors
import Foundation
import Testing
import ZIPFoundation

/// Issue 17, hostile containers: a zip of exports (as e-mail carries them) is unpacked only
/// within its folder and its limits; whatever breaks them is refused by name, nothing is
/// written outside the folder.
@Suite("Nested zips: hostile containers")
struct NestedZipTests {
    func zip(_ entries: [(String, Data)], compression: CompressionMethod = .deflate) throws -> Data {
        let archive = try Archive(data: Data(), accessMode: .create)
        for (path, data) in entries {
            try archive.addEntry(with: path, type: .file, uncompressedSize: Int64(data.count), compressionMethod: compression) { position, size in
                data.subdata(in: Int(position)..<min(data.count, Int(position) + size))
            }
        }
        return archive.data!
    }

    func unpack(_ bytes: Data, limits: NestedZip.Limits = NestedZip.Limits()) throws -> (Result<[String], ConnectorError>, URL) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rk-nested-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let file = dir.appendingPathComponent("exports.zip")
        try bytes.write(to: file)
        do { return (.success(try NestedZip.unpack(file, into: dir.appendingPathComponent("out"), limits: limits)), dir) } catch let e as ConnectorError {
            return (.failure(e), dir)
        }
    }

    @Test func pathsThatClimbOutAreRefusedAndNothingIsWrittenOutside() throws {
        for path in ["../escaped.txt", "a/../../escaped.txt", "/tmp/rk-absolute-escape.txt"] {
            let (result, dir) = try unpack(try zip([("ok.txt", Data("fine".utf8)), (path, Data("evil".utf8))]))
            defer { try? FileManager.default.removeItem(at: dir) }
            guard case .failure(let e) = result else { Issue.record("\(path) was unpacked"); continue }
            #expect(e.code == .hostileArchive && e.message.contains("path leaves the archive"), "\(path): \(e.message)")
            #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("escaped.txt").path))
            #expect(!FileManager.default.fileExists(atPath: "/tmp/rk-absolute-escape.txt"))
        }
    }

    @Test func bombsAndFloodsAreRefusedByTheirLimits() throws {
        // 64 MiB of zeros deflates about 1000:1.
        let (bomb, dir1) = try unpack(try zip([("WhatsApp Chat - Ops.txt", Data(count: 64 << 20))]))
        defer { try? FileManager.default.removeItem(at: dir1) }
        guard case .failure(let e) = bomb else { Issue.record("a bomb was unpacked"); return }
        #expect(e.code == .hostileArchive && e.message.contains("zip bomb"))
        var few = NestedZip.Limits()
        few.maxEntries = 10
        let (flood, dir2) = try unpack(try zip((0..<11).map { ("f\($0).txt", Data("x".utf8)) }), limits: few)
        defer { try? FileManager.default.removeItem(at: dir2) }
        guard case .failure(let f) = flood else { Issue.record("a flood of entries was unpacked"); return }
        #expect(f.code == .hostileArchive && f.message.contains("more than 10 entries"))
        var small = NestedZip.Limits()
        small.maxTotalBytes = 1000
        let (big, dir3) = try unpack(try zip([("a.txt", Data(count: 600)), ("b.txt", Data(count: 600))], compression: .none), limits: small)
        defer { try? FileManager.default.removeItem(at: dir3) }
        guard case .failure(let g) = big else { Issue.record("more than the total was unpacked"); return }
        #expect(g.code == .hostileArchive)
    }

    @Test func anOrdinaryZipOfExportsUnpacks() throws {
        let (result, dir) = try unpack(try zip([("exports/WhatsApp Chat - Ops.txt", Data("[3/1/21, 9:07:12 AM] A: hi\n".utf8))]))
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(try result.get() == ["exports/WhatsApp Chat - Ops.txt"])
    }
}
