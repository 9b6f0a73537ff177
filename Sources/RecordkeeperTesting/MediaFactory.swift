import Foundation

/// CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320) as used by PNG and ZIP.
enum CRC32 {
    static let table: [UInt32] = (0..<256).map { i -> UInt32 in
        var c = UInt32(i)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    /// Continues `crc` (0 to start) over `bytes`.
    static func update<S: Sequence>(_ crc: UInt32, _ bytes: S) -> UInt32 where S.Element == UInt8 {
        var c = ~crc
        for b in bytes { c = table[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        return ~c
    }

    static func of<S: Sequence>(_ bytes: S) -> UInt32 where S.Element == UInt8 { update(0, bytes) }
}

/// Small but valid media files, generated from a random generator so each attachment differs.
///
/// Only formats this module can produce correctly are made: baseline JPEG (photos), PNG
/// (screenshots sent as files), PDF (documents) and vCard 3.0 (contact cards).
enum MediaFactory {
    // MARK: JPEG

    /// A baseline (SOF0) JFIF JPEG, YCbCr 4:4:4, whose 8×8 blocks are flat colours (DC
    /// coefficients only; every block's AC part is a single end-of-block code).
    static func jpeg(width: Int, height: Int, rng: inout SeededGenerator) -> [UInt8] {
        precondition(width % 8 == 0 && height % 8 == 0 && width > 0 && height > 0)
        var out: [UInt8] = [0xFF, 0xD8]
        // APP0 JFIF 1.01, no density units, 1:1, no thumbnail.
        out += [0xFF, 0xE0, 0x00, 0x10, 0x4A, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00]
        // DQT: table 0, 8-bit, every coefficient quantised by 8 (so a DC value of v decodes to mean v + 128).
        out += [0xFF, 0xDB, 0x00, 0x43, 0x00] + [UInt8](repeating: 8, count: 64)
        // SOF0: 8-bit, height, width, 3 components, 1×1 sampling, quant table 0.
        out += [0xFF, 0xC0, 0x00, 17, 8, UInt8(height >> 8), UInt8(height & 0xFF), UInt8(width >> 8), UInt8(width & 0xFF), 3,
                1, 0x11, 0, 2, 0x11, 0, 3, 0x11, 0]
        // DHT: the standard luminance DC table (ITU T.81 K.3), class 0 id 0.
        let dcBits: [UInt8] = [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0]
        let dcVals: [UInt8] = Array(0...11)
        out += [0xFF, 0xC4, 0x00, UInt8(2 + 1 + 16 + dcVals.count), 0x00] + dcBits + dcVals
        // DHT: a two-symbol AC table, class 1 id 0: EOB (0x00) = `00`, 0x01 = `01`.
        let acBits: [UInt8] = [0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
        let acVals: [UInt8] = [0x00, 0x01]
        out += [0xFF, 0xC4, 0x00, UInt8(2 + 1 + 16 + acVals.count), 0x10] + acBits + acVals
        // SOS: 3 components, all on tables 0/0, spectral 0...63, no approximation.
        out += [0xFF, 0xDA, 0x00, 12, 3, 1, 0x00, 2, 0x00, 3, 0x00, 0, 63, 0]

        let dcCodes = huffmanCodes(bits: dcBits, values: dcVals)
        let eob = huffmanCodes(bits: acBits, values: acVals)[0]
        var bits = BitWriter()
        var previous = [0, 0, 0]
        // A scene: sky-ish top, road-ish bottom, a random "vehicle" colour patch, some noise.
        let sky = (r: rng.between(90...170), g: rng.between(140...200), b: rng.between(190...250))
        let ground = (r: rng.between(70...130), g: rng.between(70...120), b: rng.between(60...110))
        let patch = (r: rng.between(0...255), g: rng.between(0...255), b: rng.between(0...255))
        let bw = width / 8, bh = height / 8
        let px = rng.below(max(1, bw - 1)), py = bh / 2 + rng.below(max(1, bh - bh / 2))
        for by in 0..<bh {
            for bx in 0..<bw {
                let base = by < bh / 2 ? sky : ground
                let isPatch = (bx == px || bx == px + 1) && by == py
                var r = isPatch ? patch.r : base.r + rng.between(-12...12) - by * 3
                var g = isPatch ? patch.g : base.g + rng.between(-12...12) - by * 2
                var b = isPatch ? patch.b : base.b + rng.between(-12...12) - by * 2
                r = min(255, max(0, r)); g = min(255, max(0, g)); b = min(255, max(0, b))
                let y = (299 * r + 587 * g + 114 * b) / 1000
                let cb = 128 + (-168_736 * r - 331_264 * g + 500_000 * b) / 1_000_000
                let cr = 128 + (500_000 * r - 418_688 * g - 81_312 * b) / 1_000_000
                let components = [y, cb, cr]
                for c in 0..<3 {
                    let dc = min(255, max(0, components[c])) - 128
                    let diff = dc - previous[c]
                    previous[c] = dc
                    let magnitude = abs(diff)
                    var size = 0
                    while (1 << size) <= magnitude { size += 1 }
                    bits.write(dcCodes[size])
                    if size > 0 {
                        let value = diff > 0 ? diff : diff + (1 << size) - 1
                        bits.write((code: UInt32(value), length: size))
                    }
                    bits.write(eob)
                }
            }
        }
        out += bits.finish()
        out += [0xFF, 0xD9]
        return out
    }

    /// Canonical Huffman codes (T.81 Annex C) indexed by position in `values`.
    private static func huffmanCodes(bits: [UInt8], values: [UInt8]) -> [(code: UInt32, length: Int)] {
        var result = [(code: UInt32, length: Int)](repeating: (0, 0), count: Int(values.max()!) + 1)
        var code: UInt32 = 0
        var k = 0
        for length in 1...16 {
            for _ in 0..<Int(bits[length - 1]) {
                result[Int(values[k])] = (code, length)
                code += 1
                k += 1
            }
            code <<= 1
        }
        return result
    }

    /// Writes entropy-coded bits MSB first, stuffing a zero byte after every 0xFF.
    private struct BitWriter {
        var bytes: [UInt8] = []
        var accumulator: UInt32 = 0
        var count = 0

        mutating func write(_ item: (code: UInt32, length: Int)) {
            for i in stride(from: item.length - 1, through: 0, by: -1) {
                accumulator = (accumulator << 1) | ((item.code >> UInt32(i)) & 1)
                count += 1
                if count == 8 { emit() }
            }
        }

        private mutating func emit() {
            let byte = UInt8(accumulator & 0xFF)
            bytes.append(byte)
            if byte == 0xFF { bytes.append(0x00) }
            accumulator = 0
            count = 0
        }

        /// Pads the last byte with one bits.
        mutating func finish() -> [UInt8] {
            while count != 0 {
                accumulator = (accumulator << 1) | 1
                count += 1
                if count == 8 { emit() }
            }
            return bytes
        }
    }

    // MARK: PNG

    /// An 8-bit RGB PNG that looks like a phone screenshot of a list (light background, dark text
    /// bars, a coloured title bar), its zlib stream made of stored deflate blocks.
    static func png(width: Int, height: Int, rng: inout SeededGenerator) -> [UInt8] {
        let accent = (UInt8(rng.between(0...120)), UInt8(rng.between(60...160)), UInt8(rng.between(120...230)))
        var raw: [UInt8] = []
        raw.reserveCapacity(height * (1 + width * 3))
        var barEnds: [Int] = []
        for _ in 0..<height { barEnds.append(width / 8 + rng.below(max(1, width * 3 / 4))) }
        for y in 0..<height {
            raw.append(0) // filter: none
            let titleBar = y < height / 8
            let textRow = !titleBar && (y / 3) % 3 == 1
            for x in 0..<width {
                if titleBar {
                    raw.append(accent.0); raw.append(accent.1); raw.append(accent.2)
                } else if textRow && x >= 3 && x < barEnds[y - y % 3] {
                    raw.append(40); raw.append(40); raw.append(48)
                } else {
                    raw.append(246); raw.append(246); raw.append(248)
                }
            }
        }
        var ihdr: [UInt8] = []
        appendBE32(&ihdr, UInt32(width))
        appendBE32(&ihdr, UInt32(height))
        ihdr += [8, 2, 0, 0, 0]
        var out: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        appendChunk(&out, "IHDR", ihdr)
        appendChunk(&out, "IDAT", zlibStored(raw))
        appendChunk(&out, "IEND", [])
        return out
    }

    /// A zlib stream (RFC 1950) of stored deflate blocks (RFC 1951 §3.2.4) with its Adler-32.
    static func zlibStored(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x78, 0x01]
        var start = 0
        repeat {
            let length = min(65_535, data.count - start)
            let final = start + length == data.count
            out.append(final ? 1 : 0)
            out += [UInt8(length & 0xFF), UInt8(length >> 8)]
            let complement = ~UInt16(length)
            out += [UInt8(complement & 0xFF), UInt8(complement >> 8)]
            out += data[start..<start + length]
            start += length
        } while start < data.count
        appendBE32(&out, adler32(data))
        return out
    }

    static func adler32(_ data: [UInt8]) -> UInt32 {
        var a: UInt32 = 1, b: UInt32 = 0
        for byte in data {
            a = (a + UInt32(byte)) % 65_521
            b = (b + a) % 65_521
        }
        return (b << 16) | a
    }

    private static func appendChunk(_ out: inout [UInt8], _ type: String, _ data: [UInt8]) {
        appendBE32(&out, UInt32(data.count))
        let typeBytes = Array(type.utf8)
        out += typeBytes
        out += data
        appendBE32(&out, CRC32.update(CRC32.of(typeBytes), data))
    }

    static func appendBE32(_ out: inout [UInt8], _ v: UInt32) {
        out += [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)]
    }

    // MARK: PDF

    /// A PDF 1.4 with `pages` Letter pages of Helvetica text and a correct cross-reference table.
    static func pdf(title: String, lines: [String], pages: Int, created: LocalDateTimeParts) -> [UInt8] {
        var out: [UInt8] = Array("%PDF-1.4\n%".utf8) + [0xE2, 0xE3, 0xCF, 0xD3, 0x0A]
        var offsets: [Int] = []
        let pageObjects = (0..<pages).map { 4 + 2 * $0 }
        let infoObject = 4 + 2 * pages
        func object(_ body: String) {
            offsets.append(out.count)
            out += Array("\(offsets.count) 0 obj\n\(body)\nendobj\n".utf8)
        }
        object("<< /Type /Catalog /Pages 2 0 R >>")
        object("<< /Type /Pages /Kids [\(pageObjects.map { "\($0) 0 R" }.joined(separator: " "))] /Count \(pages) >>")
        object("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
        for page in 0..<pages {
            var content = "BT\n/F1 16 Tf\n72 720 Td\n(\(pdfEscape(title))) Tj\n/F1 11 Tf\n0 -28 Td\n"
            content += "(Page \(page + 1) of \(pages) - FOR OFFICIAL USE ONLY) Tj\n"
            for line in lines { content += "0 -18 Td\n(\(pdfEscape(line))) Tj\n" }
            content += "ET\n"
            object("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> /Contents \(5 + 2 * page) 0 R >>")
            let stream = Array(content.utf8)
            offsets.append(out.count)
            out += Array("\(offsets.count) 0 obj\n<< /Length \(stream.count) >>\nstream\n".utf8)
            out += stream
            out += Array("\nendstream\nendobj\n".utf8)
        }
        precondition(offsets.count + 1 == infoObject)
        object("<< /Title (\(pdfEscape(title))) /Producer (Recordkeeper sample generator) /CreationDate (D:\(created.compact)) >>")
        let xref = out.count
        var table = "xref\n0 \(offsets.count + 1)\n0000000000 65535 f \n"
        for offset in offsets {
            let digits = String(offset)
            table += String(repeating: "0", count: 10 - digits.count) + digits + " 00000 n \n"
        }
        table += "trailer\n<< /Size \(offsets.count + 1) /Root 1 0 R /Info \(infoObject) 0 R >>\nstartxref\n\(xref)\n%%EOF\n"
        out += Array(table.utf8)
        return out
    }

    /// ASCII-only PDF string text: diacritics folded, other non-ASCII dropped, delimiters escaped.
    static func pdfEscape(_ s: String) -> String {
        let folded = s.folding(options: .diacriticInsensitive, locale: nil)
        var out = ""
        for u in folded.unicodeScalars {
            switch u {
            case "(", ")", "\\": out.append("\\"); out.unicodeScalars.append(u)
            case " "..."~": out.unicodeScalars.append(u)
            default: continue
            }
        }
        return out
    }

    // MARK: vCard

    /// A vCard 3.0 contact card as WhatsApp shares it (CRLF lines, `waid` on the number).
    static func vcard(name: String, rng: inout SeededGenerator) -> [UInt8] {
        let parts = name.split(separator: " ")
        let family = parts.count > 1 ? parts.dropFirst().joined(separator: " ") : ""
        let given = parts.first.map(String.init) ?? name
        let area = rng.pick(["619", "520", "915", "956", "305", "202"])
        let line = 100 + rng.below(100) // 555-0100 ... 555-0199 are reserved for fiction
        let number = "+1 \(area)-555-0\(line)"
        let waid = "1\(area)5550\(line)"
        let text = "BEGIN:VCARD\r\nVERSION:3.0\r\nN:\(family);\(given);;;\r\nFN:\(name)\r\n"
            + "TEL;type=CELL;type=VOICE;waid=\(waid):\(number)\r\nEND:VCARD\r\n"
        return Array(text.utf8)
    }
}

/// Calendar fields of a generated timestamp, with the formatting helpers the media use.
struct LocalDateTimeParts {
    var year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int

    /// `YYYYMMDDHHMMSS`.
    var compact: String {
        pad(year, 4) + pad(month, 2) + pad(day, 2) + pad(hour, 2) + pad(minute, 2) + pad(second, 2)
    }

    func pad(_ v: Int, _ width: Int) -> String {
        let s = String(v)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }
}
