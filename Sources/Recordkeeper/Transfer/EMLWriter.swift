import Foundation
import RecordkeeperCore

/// Writes Internet Message Format (RFC 5322) files with MIME (RFC 2045–2047, RFC 2231) parts:
/// the form NARA accepts for transferred electronic messages.
enum EMLWriter {
    struct Part {
        var contentType: String
        var fileName: String?
        var bytes: [UInt8]
    }

    /// One header line; non-ASCII values become RFC 2047 encoded words. Long ASCII values are
    /// cut to stay within RFC 5322's 998-octet line limit.
    static func header(_ name: String, _ value: String) -> String {
        var v = encodeWords(value)
        if !v.contains("=?UTF-8?"), v.utf8.count > 900 { v = String(v.prefix(896)) + " ..." }
        return "\(name): \(v)\r\n"
    }

    /// An address header value: `"Display Name" <addr>` with the name quoted or, when not ASCII,
    /// encoded (RFC 2047 §5: only the phrase may be encoded, never the address).
    static func address(name: String?, email: String) -> String {
        let addr = "<\(email.filter { $0 != "<" && $0 != ">" && $0 != "\r" && $0 != "\n" })>"
        guard let name, !name.isEmpty else { return addr }
        let clean = name.replacingOccurrences(of: "\r", with: " ").replacingOccurrences(of: "\n", with: " ")
        if clean.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value < 0x7F }) {
            return "\"" + clean.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\" " + addr
        }
        return encodeWords(clean) + " " + addr
    }

    static func encodeWords(_ value: String) -> String {
        let cleaned = value.replacingOccurrences(of: "\r", with: " ").replacingOccurrences(of: "\n", with: " ")
        if cleaned.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value < 0x7F }) { return cleaned }
        // Encoded words of at most 45 bytes of UTF-8 each (60 base64 characters), split between characters.
        var words: [String] = []
        var chunk: [UInt8] = []
        for ch in cleaned {
            let bytes = Array(String(ch).utf8)
            if chunk.count + bytes.count > 45, !chunk.isEmpty {
                words.append("=?UTF-8?B?\(Data(chunk).base64EncodedString())?=")
                chunk = []
            }
            chunk += bytes
        }
        if !chunk.isEmpty { words.append("=?UTF-8?B?\(Data(chunk).base64EncodedString())?=") }
        return words.joined(separator: "\r\n ")
    }

    /// An RFC 5322 date ("Wed, 03 Nov 2021 14:02:11 -0400") for an instant shown in a zone.
    static func date(_ seconds: Int64, zone: String) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: zone) ?? TimeZone(identifier: "UTC")
        f.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
        return f.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
    }

    static func base64Lines(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString(options: [.lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed])
    }

    /// A filename parameter: plain when safe ASCII, RFC 2231 `filename*=UTF-8''…` otherwise.
    static func fileNameParameter(_ name: String) -> String {
        let safe = name.unicodeScalars.allSatisfy { $0.isASCII && $0.value >= 0x20 && $0.value < 0x7F && $0 != "\"" && $0 != "\\" }
        if safe { return "filename=\"\(name)\"" }
        var out = ""
        for b in name.utf8 {
            let c = Character(Unicode.Scalar(b))
            if b < 0x80, c.isLetter || c.isNumber || "-._~".contains(c) { out.append(c) } else { out += String(format: "%%%02X", b) }
        }
        return "filename*=UTF-8''\(out)"
    }

    static func contentType(forFileName name: String) -> String {
        switch (name as NSString).pathExtension.lowercased() {
        case "jpg", "jpeg": return "image/jpeg"
        case "png": return "image/png"
        case "gif": return "image/gif"
        case "webp": return "image/webp"
        case "heic": return "image/heic"
        case "mp4": return "video/mp4"
        case "mov": return "video/quicktime"
        case "opus", "ogg": return "audio/ogg"
        case "m4a": return "audio/mp4"
        case "mp3": return "audio/mpeg"
        case "pdf": return "application/pdf"
        case "vcf": return "text/vcard"
        case "txt": return "text/plain"
        case "docx": return "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        case "xlsx": return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        default: return "application/octet-stream"
        }
    }

    /// A complete multipart/mixed message.
    static func message(headers: [(String, String)], boundarySeed: String, parts: [Part]) -> [UInt8] {
        let boundary = "=_rk_" + String(ContentHash.of(boundarySeed).hex.prefix(24))
        var out = ""
        for (k, v) in headers {
            // Address headers arrive already formed by `address(name:email:)`.
            out += (k == "From" || k == "To") ? "\(k): \(v)\r\n" : header(k, v)
        }
        out += "MIME-Version: 1.0\r\n"
        out += "Content-Type: multipart/mixed; boundary=\"\(boundary)\"\r\n\r\n"
        out += "This is a multi-part message in MIME format.\r\n"
        var bytes = Array(out.utf8)
        for p in parts {
            var h = "\r\n--\(boundary)\r\nContent-Type: \(p.contentType)\r\nContent-Transfer-Encoding: base64\r\n"
            if let name = p.fileName { h += "Content-Disposition: attachment; \(fileNameParameter(name))\r\n" } else { h += "Content-Disposition: inline\r\n" }
            h += "\r\n"
            bytes += Array(h.utf8)
            bytes += Array(base64Lines(p.bytes).utf8)
            bytes += Array("\r\n".utf8)
        }
        bytes += Array("\r\n--\(boundary)--\r\n".utf8)
        return bytes
    }
}
