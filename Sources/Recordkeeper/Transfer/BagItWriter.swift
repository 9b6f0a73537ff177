import Foundation
import RecordkeeperCore

/// Writes a BagIt 1.0 bag (RFC 8493): payload under `data/`, SHA-256 payload and tag manifests,
/// `bagit.txt` and `bag-info.txt`. Files are written into `<destination>.partial` and the bag
/// appears under its final name only when complete.
struct BagItWriter {
    let destination: URL
    let staging: URL
    private(set) var manifest: [(path: String, sha256: String, size: Int64)] = []

    /// `replacing`: the External-Identifier of a bag an interrupted run of the same packaging
    /// may have moved into place before the archive recorded it; such a bag is replaced.
    init(destination: URL, replacing identifier: String? = nil) throws {
        let fm = FileManager.default
        self.destination = destination.standardizedFileURL
        if fm.fileExists(atPath: self.destination.path) {
            let contents = (try? fm.contentsOfDirectory(atPath: self.destination.path)) ?? ["?"]
            let info = (try? String(contentsOf: self.destination.appendingPathComponent("bag-info.txt"), encoding: .utf8)) ?? ""
            // Only a bag as this writer leaves it: its tag files and data/, nothing else.
            let bagShape = Set(contents).isSubset(of: ["bagit.txt", "bag-info.txt", "manifest-sha256.txt", "tagmanifest-sha256.txt", "data"])
            let ours = bagShape && (identifier.map { id in info.split(separator: "\n").contains { $0 == "External-Identifier: \(id)" } } ?? false)
            guard contents.isEmpty || ours else {
                throw ArchiveError(.invalid, "\(self.destination.path) already exists and is not empty; choose a new directory for the bag")
            }
            try fm.removeItem(at: self.destination)
        }
        staging = self.destination.deletingLastPathComponent().appendingPathComponent(self.destination.lastPathComponent + ".partial")
        let marker = staging.appendingPathComponent(".recordkeeper-partial-bag")
        if fm.fileExists(atPath: staging.path) {
            // Only a bag an interrupted run of ours left is removed.
            guard fm.fileExists(atPath: marker.path) else {
                throw ArchiveError(.invalid, "\(staging.path) exists and was not written by Recordkeeper; move it or choose another --output")
            }
            try fm.removeItem(at: staging)
        }
        try fm.createDirectory(at: staging.appendingPathComponent("data"), withIntermediateDirectories: true)
        fm.createFile(atPath: marker.path, contents: Data())
    }

    /// Adds a payload file at `data/<relative>`; `relative` uses only safe characters.
    mutating func addPayload(_ relative: String, _ bytes: [UInt8]) throws {
        precondition(!relative.contains("..") && !relative.hasPrefix("/"))
        let path = "data/" + relative
        let url = staging.appendingPathComponent(path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(bytes).write(to: url)
        manifest.append((path, ContentHash.of(bytes).hex, Int64(bytes.count)))
    }

    var payloadBytes: Int64 { manifest.reduce(0) { $0 + $1.size } }

    /// Writes the tag files, checks every payload file against its manifest line, moves the bag
    /// into place and returns the SHA-256 of its payload manifest.
    func finish(info: [(String, String)]) throws -> String {
        let lines = manifest.sorted { $0.path < $1.path }.map { "\($0.sha256)  \(Self.encodePath($0.path))\n" }.joined()
        let manifestBytes = Array(lines.utf8)
        try Data(manifestBytes).write(to: staging.appendingPathComponent("manifest-sha256.txt"))
        let bagit = Array("BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n".utf8)
        try Data(bagit).write(to: staging.appendingPathComponent("bagit.txt"))
        var infoText = ""
        for (k, v) in info + [("Payload-Oxum", "\(payloadBytes).\(manifest.count)"), ("Bag-Size", Self.humanSize(payloadBytes))] {
            let value = v.replacingOccurrences(of: "\r", with: " ").replacingOccurrences(of: "\n", with: " ")
            infoText += "\(k): \(value)\n"
        }
        let infoBytes = Array(infoText.utf8)
        try Data(infoBytes).write(to: staging.appendingPathComponent("bag-info.txt"))
        let tags = [("bag-info.txt", infoBytes), ("bagit.txt", bagit), ("manifest-sha256.txt", manifestBytes)]
        let tagManifest = tags.map { "\(ContentHash.of($0.1).hex)  \($0.0)\n" }.joined()
        try Data(tagManifest.utf8).write(to: staging.appendingPathComponent("tagmanifest-sha256.txt"))
        // Read every payload file back before the bag is declared complete.
        for entry in manifest {
            let data = try Data(contentsOf: staging.appendingPathComponent(entry.path))
            guard ContentHash.of(data).hex == entry.sha256 else {
                throw ArchiveError(.storage, "\(entry.path) changed while the bag was written; the disk may be failing")
            }
        }
        try FileManager.default.removeItem(at: staging.appendingPathComponent(".recordkeeper-partial-bag"))
        try FileManager.default.moveItem(at: staging, to: destination)
        return ContentHash.of(manifestBytes).hex
    }

    /// RFC 8493 §2.1.3: CR, LF and % in a manifest path are percent-encoded.
    static func encodePath(_ p: String) -> String {
        p.replacingOccurrences(of: "%", with: "%25").replacingOccurrences(of: "\n", with: "%0A").replacingOccurrences(of: "\r", with: "%0D")
    }

    static func humanSize(_ n: Int64) -> String {
        let units = ["bytes", "KB", "MB", "GB", "TB"]
        var v = Double(n)
        var i = 0
        while v >= 1000, i < units.count - 1 { v /= 1000; i += 1 }
        return i == 0 ? "\(n) bytes" : String(format: "%.1f %@", v, units[i])
    }

    /// A path segment made of ASCII letters, digits and dashes.
    static func slug(_ s: String, max: Int = 40) -> String {
        var out = ""
        var dash = false
        // Accents are folded first, so "Attaché Office" becomes attache-office, not attach-office.
        let folded = s.folding(options: [.diacriticInsensitive, .caseInsensitive], locale: Locale(identifier: "en_US_POSIX"))
        for u in folded.lowercased().unicodeScalars {
            if (u >= "a" && u <= "z") || (u >= "0" && u <= "9") { out.unicodeScalars.append(u); dash = false }
            else if !dash, !out.isEmpty { out += "-"; dash = true }
            if out.count >= max { break }
        }
        while out.hasSuffix("-") { out.removeLast() }
        return out.isEmpty ? "conversation" : out
    }
}
