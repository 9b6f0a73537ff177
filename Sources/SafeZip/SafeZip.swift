import Foundation
import ZIPFoundation

/// Reads a member of a zip without ZIPFoundation's own reading loop (issue 17).
///
/// ZIPFoundation 0.9.20 reads a member's data with loops that end only when the data is complete:
/// on a member whose deflate stream never ends (or whose stored size runs past the end of the
/// file) they read the rest of the file and then spin at its end forever, and the last deflate
/// chunk is handed to zlib with the full buffer size as its length. Found by fuzzing the WhatsApp
/// zip reader: one hostile upload would hold a server thread forever. Here the member's bytes are
/// read by the project: exactly its compressed size from its local header on, with a final short
/// chunk padded with zeros (zlib stops at the stream's end, or asks for more, which is refused).
public enum SafeZip {
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public let description: String
        public init(description: String) { self.description = description }
    }

    /// Where the member's local header is, as the central directory says (the field is not public:
    /// read by reflection from the pinned version, with the zip64 extra field parsed here).
    static func localHeaderOffset(_ entry: Entry) -> UInt64? {
        guard let directory = Mirror(reflecting: entry).descendant("centralDirectoryStructure") else { return nil }
        let m = Mirror(reflecting: directory)
        guard let offset32 = m.descendant("relativeOffsetOfLocalHeader") as? UInt32 else { return nil }
        guard offset32 == .max else { return UInt64(offset32) }
        // Zip64: the extra field 0x0001 holds, in order, the sizes that overflowed, then the offset.
        guard let extra = m.descendant("extraFieldData") as? Data, let uncompressed32 = m.descendant("uncompressedSize") as? UInt32,
              let compressed32 = m.descendant("compressedSize") as? UInt32 else { return nil }
        let bytes = [UInt8](extra)
        var i = 0
        while i + 4 <= bytes.count {
            let id = UInt16(bytes[i]) | UInt16(bytes[i + 1]) << 8
            let size = Int(UInt16(bytes[i + 2]) | UInt16(bytes[i + 3]) << 8)
            guard i + 4 + size <= bytes.count else { return nil }
            if id == 0x0001 {
                let field = i + 4 + (uncompressed32 == .max ? 8 : 0) + (compressed32 == .max ? 8 : 0)
                guard field + 8 <= i + 4 + size else { return nil }
                var value: UInt64 = 0
                for k in 0..<8 { value |= UInt64(bytes[field + k]) << (8 * UInt64(k)) }
                return value
            }
            i += 4 + size
        }
        return nil
    }

    /// Where an archive's bytes are.
    public enum Source {
        case file(URL)
        case data(Data)
    }

    /// Reads `count` bytes at `offset`, or fewer at the end.
    final class Reader {
        let handle: FileHandle?
        let data: Data?
        var position: UInt64 = 0
        init(_ source: Source) throws {
            switch source {
            case .file(let url): handle = try FileHandle(forReadingFrom: url); data = nil
            case .data(let d): handle = nil; data = d
            }
        }
        deinit { try? handle?.close() }
        func seek(_ offset: UInt64) throws {
            position = offset
            try handle?.seek(toOffset: offset)
        }
        func read(_ count: Int) throws -> Data {
            if let handle {
                let d = try handle.read(upToCount: count) ?? Data()
                position += UInt64(d.count)
                return d
            }
            guard let data, position < UInt64(data.count) else { return Data() }
            let start = data.startIndex + Int(position)
            let end = min(data.endIndex, start + count)
            position += UInt64(end - start)
            return data.subdata(in: start..<end)
        }
    }

    /// Hands the member's uncompressed bytes to `consumer` in chunks and returns their CRC-32 (0
    /// with `skipCRC32`; comparing it with `entry.checksum` is the caller's). Throws `Failure` on
    /// anything the archive gets wrong, and whatever `consumer` throws.
    @discardableResult
    public static func extract(_ entry: Entry, from source: Source, bufferSize: Int = 1 << 18, skipCRC32: Bool = false,
                               consumer: (Data) throws -> Void) throws -> CRC32 {
        guard entry.type == .file else { throw Failure(description: "\(entry.path) is not a file") }
        guard let headerOffset = localHeaderOffset(entry) else { throw Failure(description: "the archive's directory entry for \(entry.path) is unreadable") }
        let reader = try Reader(source)
        try reader.seek(headerOffset)
        let header = [UInt8](try reader.read(30))
        guard header.count == 30, header[0] == 0x50, header[1] == 0x4B, header[2] == 0x03, header[3] == 0x04 else {
            throw Failure(description: "the archive's directory points \(entry.path) at something that is not a member")
        }
        let nameLength = UInt64(header[26]) | UInt64(header[27]) << 8
        let extraLength = UInt64(header[28]) | UInt64(header[29]) << 8
        try reader.seek(headerOffset + 30 + nameLength + extraLength)
        var remaining = entry.compressedSize
        let path = entry.path
        let provider: Provider = { _, size in
            guard remaining > 0 else { throw Failure(description: "\(path)'s compressed data ends before its stream does") }
            let n = Int(min(UInt64(size), remaining))
            let chunk = try reader.read(n)
            guard chunk.count == n else { throw Failure(description: "the archive ends inside \(path)") }
            remaining -= UInt64(n)
            // ZIPFoundation tells zlib the chunk is `size` long: never less.
            return n < size ? chunk + Data(count: size - n) : chunk
        }
        if entry.isCompressed {
            return try Data.decompress(size: Int64(entry.compressedSize), bufferSize: bufferSize, skipCRC32: skipCRC32, provider: provider,
                                       consumer: consumer)
        }
        var crc: CRC32 = 0
        while remaining > 0 {
            let chunk = try provider(0, Int(min(UInt64(bufferSize), remaining)))
            if !skipCRC32 { crc = chunk.crc32(checksum: crc) }
            try consumer(chunk)
        }
        return crc
    }
}
