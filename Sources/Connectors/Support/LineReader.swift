import Foundation

/// Reads a file line by line in fixed-size chunks, so memory does not grow with the file.
///
/// Lines end at `\r\n`, `\r` or `\n` (WhatsApp iOS writes CRLF, Android LF); the terminator is not
/// part of the line. A UTF-8 byte-order mark at the start of the file is skipped. The last line
/// may lack a terminator.
public final class LineReader {
    private let handle: FileHandle
    private var buffer: [UInt8] = []
    private var start = 0
    private var eof = false
    private var pendingCR = false
    private let chunkSize: Int
    /// Longest line returned whole; a longer one is returned in pieces of this size (each piece
    /// counts as a line), so a hostile file without line breaks cannot exhaust memory.
    public let maxLineBytes: Int
    /// True when the line most recently returned was a piece of a longer line (all its pieces
    /// carry the same line number).
    public private(set) var lastLineWasSplit = false
    private var inSplitLine = false
    /// 1-based number of the line most recently returned.
    public private(set) var lineNumber = 0
    /// Bytes consumed so far, terminators included.
    public private(set) var bytesConsumed: Int64 = 0
    private var firstLine = true

    public init(url: URL, chunkSize: Int = 1 << 20, maxLineBytes: Int = 1 << 20) throws {
        self.handle = try FileHandle(forReadingFrom: url)
        self.chunkSize = chunkSize
        self.maxLineBytes = maxLineBytes
    }

    deinit { try? handle.close() }

    /// Calls `body` with the next line's bytes; returns false at the end of the file.
    /// The buffer is only valid during the call.
    public func nextLine<R>(_ body: (ArraySlice<UInt8>) throws -> R) throws -> R? {
        while true {
            // Scan for a terminator in buffer[start...].
            var i = start
            let n = buffer.count
            while i < n {
                let b = buffer[i]
                if b == 0x0A || b == 0x0D { break }
                i += 1
            }
            if i < n, i - start <= maxLineBytes {
                lastLineWasSplit = inSplitLine
                if !inSplitLine { lineNumber += 1 }
                inSplitLine = false
                var lineStart = start
                let terminator = buffer[i]
                var next = i + 1
                if terminator == 0x0D {
                    if next < n {
                        if buffer[next] == 0x0A { next += 1 }
                    } else if !eof {
                        pendingCR = true
                    }
                }
                lineStart = skipBOM(lineStart, i)
                bytesConsumed += Int64(next - start)
                start = next
                return try body(buffer[lineStart..<i])
            }
            if n - start > maxLineBytes {
                // No terminator within the limit: hand out a piece, keep the rest for later.
                var end = start + maxLineBytes
                // Never cut a UTF-8 sequence: back off over continuation bytes.
                var back = 0
                while back < 3, end > start + 1, buffer[end] & 0xC0 == 0x80 { end -= 1; back += 1 }
                let lineStart = skipBOM(start, end)
                bytesConsumed += Int64(end - start)
                let slice = buffer[lineStart..<end]
                start = end
                if !inSplitLine { lineNumber += 1 }
                inSplitLine = true
                lastLineWasSplit = true
                return try body(slice)
            }
            if eof {
                pendingCR = false
                if start < n {
                    lastLineWasSplit = inSplitLine
                    if !inSplitLine { lineNumber += 1 }
                    inSplitLine = false
                    let lineStart = skipBOM(start, n)
                    bytesConsumed += Int64(n - start)
                    let slice = buffer[lineStart..<n]
                    start = n
                    return try body(slice)
                }
                return nil
            }
            try fill()
        }
    }

    private func skipBOM(_ from: Int, _ end: Int) -> Int {
        guard firstLine else { return from }
        firstLine = false
        if end - from >= 3, buffer[from] == 0xEF, buffer[from + 1] == 0xBB, buffer[from + 2] == 0xBF { return from + 3 }
        return from
    }

    private func fill() throws {
        if start > 0 {
            buffer.removeSubrange(0..<start)
            start = 0
        }
        let data = try handle.read(upToCount: chunkSize) ?? Data()
        if data.isEmpty {
            eof = true
        } else {
            if pendingCR, data.first == 0x0A {
                // CRLF split across chunks: drop the LF.
                pendingCR = false
                bytesConsumed += 1
                buffer.append(contentsOf: data.dropFirst())
            } else {
                pendingCR = false
                buffer.append(contentsOf: data)
            }
        }
    }
}
