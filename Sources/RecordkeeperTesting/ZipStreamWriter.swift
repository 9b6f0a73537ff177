import Foundation
import ZIPFoundation

/// Where generated attachments go: into the zip being written, or beside the `.txt`.
protocol MediaSink: AnyObject {
    func add(name: String, bytes: [UInt8], modified: LocalDateTimeParts) throws
}

/// An append-only file written through a 1 MB buffer; `offset` counts every byte written so far.
final class BufferedFile {
    private let handle: FileHandle
    private var buffer: [UInt8] = []
    private(set) var offset: UInt64 = 0
    static let flushThreshold = 1 << 20

    init(creating url: URL) throws {
        guard FileManager.default.createFile(atPath: url.path, contents: nil) else {
            throw ExportGeneratorError.io("cannot create \(url.path)")
        }
        handle = try FileHandle(forWritingTo: url)
        buffer.reserveCapacity(BufferedFile.flushThreshold + 65_536)
    }

    func write<C: Collection>(_ bytes: C) throws where C.Element == UInt8 {
        buffer.append(contentsOf: bytes)
        offset += UInt64(bytes.count)
        if buffer.count >= BufferedFile.flushThreshold { try flush() }
    }

    func flush() throws {
        guard !buffer.isEmpty else { return }
        try handle.write(contentsOf: buffer)
        buffer.removeAll(keepingCapacity: true)
    }

    /// Overwrites already-written bytes at `position` (e.g. a local header's CRC and sizes).
    func patch(at position: UInt64, _ bytes: [UInt8]) throws {
        try flush()
        try handle.seek(toOffset: position)
        try handle.write(contentsOf: bytes)
        try handle.seekToEnd()
    }

    func close() throws {
        try flush()
        try handle.close()
    }
}

/// A streaming ZIP writer: entries are deflated (ZIPFoundation's `Data.compress`) straight into
/// the output, one central-directory record per entry is kept in memory, and the end records are
/// written by `finish()`.
///
/// Why not `Archive.addEntry`: ZIPFoundation 0.9.x re-reads and re-writes the whole central
/// directory on every `addEntry`, which is quadratic in the number of attachments (tens of
/// thousands for a million-message export). Archives written here are read back with
/// ZIPFoundation in the package's checks. Entry times come from the chat (deterministic output);
/// names are flagged UTF-8; ZIP64 end records are written past 65,534 entries; entries or offsets
/// beyond 4 GiB are refused.
final class ZipStreamWriter: MediaSink {
    private struct CentralRecord {
        var name: [UInt8]
        var method: UInt16
        var time: UInt16
        var date: UInt16
        var crc: UInt32
        var compressedSize: UInt32
        var size: UInt32
        var offset: UInt32
    }

    private let file: BufferedFile
    private var records: [CentralRecord] = []
    private static let chunk = 1 << 16

    init(creating url: URL) throws {
        file = try BufferedFile(creating: url)
    }

    /// Adds a small in-memory file (deflated, or stored when deflate does not help).
    func add(name: String, bytes: [UInt8], modified: LocalDateTimeParts) throws {
        let data = Data(bytes)
        var compressed = Data()
        let bufferSize = min(ZipStreamWriter.chunk, max(1_024, data.count))
        let crc = try Data.compress(size: Int64(data.count), bufferSize: bufferSize, provider: { position, size in
            data.subdata(in: Int(position)..<Int(position) + size)
        }, consumer: { compressed.append($0) })
        let stored = compressed.count >= data.count
        let payload = stored ? data : compressed
        let offset = file.offset
        let record = try makeRecord(name: name, method: stored ? 0 : 8, modified: modified, crc: crc,
                                    compressedSize: UInt64(payload.count), size: UInt64(data.count), offset: offset)
        try writeLocalHeader(record)
        try file.write(payload)
        records.append(record)
    }

    /// Streams a file from disk into a deflated entry, then patches the local header's CRC and size.
    func addFile(name: String, contentsOf url: URL, modified: LocalDateTimeParts) throws {
        let size = (try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? NSNumber)?.uint64Value ?? 0
        let reader = try FileHandle(forReadingFrom: url)
        defer { try? reader.close() }
        let offset = file.offset
        var record = try makeRecord(name: name, method: 8, modified: modified, crc: 0, compressedSize: 0,
                                    size: size, offset: offset)
        try writeLocalHeader(record)
        var compressedSize: UInt64 = 0
        let out = file
        let crc = try Data.compress(size: Int64(size), bufferSize: ZipStreamWriter.chunk, provider: { _, count in
            var data = Data()
            while data.count < count, let more = try reader.read(upToCount: count - data.count), !more.isEmpty {
                data.append(more)
            }
            return data
        }, consumer: { chunk in
            compressedSize += UInt64(chunk.count)
            try out.write(chunk)
        })
        guard compressedSize < 0xFFFF_FFFF else { throw ExportGeneratorError.io("zip entry \(name) exceeds 4 GiB") }
        record.crc = crc
        record.compressedSize = UInt32(compressedSize)
        var patch: [UInt8] = []
        le32(&patch, crc)
        le32(&patch, record.compressedSize)
        le32(&patch, record.size)
        try file.patch(at: offset + 14, patch)
        records.append(record)
    }

    /// Writes the central directory and end records and closes the file.
    func finish() throws {
        let cdStart = file.offset
        for r in records {
            var h: [UInt8] = []
            le32(&h, 0x0201_4B50)
            le16(&h, 0x031E)            // made by: UNIX, spec 3.0
            le16(&h, 20)                // needed: 2.0
            le16(&h, 0x0800)            // UTF-8 names
            le16(&h, r.method)
            le16(&h, r.time)
            le16(&h, r.date)
            le32(&h, r.crc)
            le32(&h, r.compressedSize)
            le32(&h, r.size)
            le16(&h, UInt16(r.name.count))
            le16(&h, 0)                 // extra
            le16(&h, 0)                 // comment
            le16(&h, 0)                 // disk
            le16(&h, 0)                 // internal attributes
            le32(&h, 0o100644 << 16)    // regular file, rw-r--r--
            le32(&h, r.offset)
            try file.write(h)
            try file.write(r.name)
        }
        let cdEnd = file.offset
        let cdSize = cdEnd - cdStart
        let count = UInt64(records.count)
        let needsZip64 = count >= 0xFFFF || cdStart >= 0xFFFF_FFFF || cdSize >= 0xFFFF_FFFF
        var e: [UInt8] = []
        if needsZip64 {
            le32(&e, 0x0606_4B50)
            le64(&e, 44)
            le16(&e, 45)
            le16(&e, 45)
            le32(&e, 0)
            le32(&e, 0)
            le64(&e, count)
            le64(&e, count)
            le64(&e, cdSize)
            le64(&e, cdStart)
            le32(&e, 0x0706_4B50)
            le32(&e, 0)
            le64(&e, cdEnd)
            le32(&e, 1)
        }
        le32(&e, 0x0605_4B50)
        le16(&e, 0)
        le16(&e, 0)
        le16(&e, UInt16(min(count, 0xFFFF)))
        le16(&e, UInt16(min(count, 0xFFFF)))
        le32(&e, UInt32(min(cdSize, 0xFFFF_FFFF)))
        le32(&e, UInt32(min(cdStart, 0xFFFF_FFFF)))
        le16(&e, 0)
        try file.write(e)
        try file.close()
    }

    private func makeRecord(name: String, method: UInt16, modified: LocalDateTimeParts, crc: UInt32,
                            compressedSize: UInt64, size: UInt64, offset: UInt64) throws -> CentralRecord {
        guard size < 0xFFFF_FFFF, compressedSize < 0xFFFF_FFFF, offset < 0xFFFF_FFFF else {
            throw ExportGeneratorError.io("zip archives beyond 4 GiB are not supported by the sample generator")
        }
        let year = min(2107, max(1980, modified.year))
        return CentralRecord(
            name: Array(name.utf8), method: method,
            time: UInt16(modified.hour << 11 | modified.minute << 5 | modified.second / 2),
            date: UInt16((year - 1980) << 9 | modified.month << 5 | modified.day),
            crc: crc, compressedSize: UInt32(compressedSize), size: UInt32(size), offset: UInt32(offset))
    }

    private func writeLocalHeader(_ r: CentralRecord) throws {
        var h: [UInt8] = []
        le32(&h, 0x0403_4B50)
        le16(&h, 20)
        le16(&h, 0x0800)
        le16(&h, r.method)
        le16(&h, r.time)
        le16(&h, r.date)
        le32(&h, r.crc)
        le32(&h, r.compressedSize)
        le32(&h, r.size)
        le16(&h, UInt16(r.name.count))
        le16(&h, 0)
        try file.write(h)
        try file.write(r.name)
    }

    private func le16(_ out: inout [UInt8], _ v: UInt16) {
        out += [UInt8(v & 0xFF), UInt8(v >> 8)]
    }

    private func le32(_ out: inout [UInt8], _ v: UInt32) {
        out += [UInt8(v & 0xFF), UInt8((v >> 8) & 0xFF), UInt8((v >> 16) & 0xFF), UInt8(v >> 24)]
    }

    private func le64(_ out: inout [UInt8], _ v: UInt64) {
        le32(&out, UInt32(v & 0xFFFF_FFFF))
        le32(&out, UInt32(v >> 32))
    }
}

/// Writes attachments as plain files in a directory (Android "share" without a zip).
final class DirectoryMediaSink: MediaSink {
    private let directory: URL

    init(directory: URL) { self.directory = directory }

    func add(name: String, bytes: [UInt8], modified: LocalDateTimeParts) throws {
        try Data(bytes).write(to: directory.appendingPathComponent(name))
    }
}
