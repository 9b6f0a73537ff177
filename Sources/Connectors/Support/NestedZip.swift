import Foundation
import SafeZip
import ZIPFoundation

/// Unpacks a zip that no connector reads as a whole (a zip of exports, forwarded by e-mail)
/// so the exports inside it can be found. Every input is hostile: member paths that climb out,
/// links, and zip bombs are refused, and the limits below bound what one zip may unpack.
public enum NestedZip {
    public struct Limits: Sendable {
        public var maxEntries = 20_000
        public var maxTotalBytes: UInt64 = 8 << 30
        public var maxRatio: UInt64 = 200
        public init() {}
    }

    /// True when the file starts like a zip.
    public static func looksLikeZip(_ url: URL) -> Bool {
        guard let h = try? FileHandle(forReadingFrom: url) else { return false }
        defer { try? h.close() }
        return (try? h.read(upToCount: 4)) == Data([0x50, 0x4B, 0x03, 0x04])
    }

    /// Extracts every regular file of `zip` under `folder` (created); returns the relative paths.
    public static func unpack(_ zip: URL, into folder: URL, limits: Limits = Limits()) throws -> [String] {
        let archive: Archive
        do { archive = try Archive(url: zip, accessMode: .read) } catch {
            throw ConnectorError(.unreadable, "\(zip.lastPathComponent) is not a readable zip", underlying: error)
        }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        var count = 0
        var seen: [String: Int] = [:]
        var total: UInt64 = 0
        var out: [String] = []
        for entry in archive {
            count += 1
            guard count <= limits.maxEntries else {
                throw ConnectorError(.hostileArchive, "\(zip.lastPathComponent) holds more than \(limits.maxEntries) entries")
            }
            guard entry.type == .file else { continue }
            guard let parts = ExportFolderFiles.safeComponents(entry.path) else {
                throw ConnectorError(.hostileArchive, "\(zip.lastPathComponent) holds a member whose path leaves the archive")
            }
            let size = UInt64(entry.uncompressedSize)
            // A zip64 size may be anything up to UInt64.max: added with a check, not trapping.
            let (sum, overflow) = total.addingReportingOverflow(size)
            total = sum
            if overflow || total > limits.maxTotalBytes || (entry.compressedSize > 0 && size / UInt64(entry.compressedSize) > limits.maxRatio && size > 1 << 20) {
                throw ConnectorError(.hostileArchive, "\(zip.lastPathComponent) would unpack to more than its limits allow (zip bomb?)")
            }
            let relative = parts.joined(separator: "/")
            if let first = seen.updateValue(count, forKey: relative) {
                throw ConnectorError(.hostileArchive, ZipNames.twice(zip.lastPathComponent, relative, first, count))
            }
            let target = folder.appendingPathComponent(relative)
            try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
            guard FileManager.default.createFile(atPath: target.path, contents: nil), let handle = try? FileHandle(forWritingTo: target) else {
                throw ConnectorError(.unreadable, "could not unpack a member of \(zip.lastPathComponent)")
            }
            defer { try? handle.close() }
            var written: UInt64 = 0
            do {
                let crc = try SafeZip.extract(entry, from: .file(zip), bufferSize: 1 << 18) { chunk in
                    written += UInt64(chunk.count)
                    // The header may lie about the size: the bytes are counted as they come.
                    guard written <= size else { throw ConnectorError(.hostileArchive, "a member is larger than its header says") }
                    try handle.write(contentsOf: chunk)
                }
                guard crc == entry.checksum else {
                    throw ConnectorError(.unreadable, "\(entry.path) in \(zip.lastPathComponent) is damaged (CRC-32 mismatch)")
                }
            } catch let e as ConnectorError {
                throw e
            } catch {
                throw ConnectorError(.unreadable, "a member of \(zip.lastPathComponent) could not be extracted (damaged archive?)", underlying: error)
            }
            out.append(relative)
        }
        return out
    }
}

/// A zip that names one member twice is ambiguous (which copy is the chat, which the photo?):
/// readers disagree on which copy they return, so such an export is refused, naming the member
/// and both entries, rather than read one way here and another way elsewhere.
enum ZipNames {
    /// More entries than any export this reads holds (a guard on the names kept to compare).
    static let maxEntries = 1_000_000

    /// `key`: how the reader looks members up (a WhatsApp attachment by its file name, in any
    /// folder, case and Unicode form aside): two members with one key are as ambiguous as two
    /// with one path.
    static func requireUnique(_ archive: Archive, displayName: String, key: (String) -> String = { $0 }) throws {
        var seen: [String: (Int, String)] = [:]
        var index = 0
        for entry in archive {
            index += 1
            guard index <= maxEntries else { throw ConnectorError(.hostileArchive, "\(displayName) holds more than \(maxEntries) entries") }
            guard entry.type == .file else { continue }
            if let (first, path) = seen.updateValue((index, entry.path), forKey: key(entry.path)) {
                throw ConnectorError(.hostileArchive, path == entry.path ? twice(displayName, entry.path, first, index)
                    : "\(displayName) holds '\(path)' (entry \(first)) and '\(entry.path)' (entry \(index)), which name the same file; "
                        + "which copy is the record is ambiguous, so nothing was read from it")
            }
        }
    }

    static func twice(_ displayName: String, _ path: String, _ first: Int, _ second: Int) -> String {
        "\(displayName) names the member '\(path)' twice (entries \(first) and \(second)); which copy is the record is ambiguous, so nothing was read from it"
    }
}
