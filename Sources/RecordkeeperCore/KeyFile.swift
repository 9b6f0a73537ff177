import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A secret kept in a file of its own, outside the database (the archive's signing key, the
/// addressee key): 32 bytes in base64, readable by its owner only.
public enum KeyFile {
    public enum Failure: Error, Equatable {
        /// Group or others may read it (mode, octal).
        case tooOpen(String)
        /// Another user owns it (uid).
        case notOwned(UInt32)
        /// Not 32 bytes in base64.
        case malformed
        /// It could not be written (errno).
        case unwritable(Int32)
    }

    /// The key's bytes, or nil when there is no file. A file others can read is refused.
    public static func read(_ url: URL) throws -> Data? {
        guard let text = try readPrivateText(url) else { return nil }
        guard let raw = Data(base64Encoded: text), raw.count == 32 else { throw Failure.malformed }
        return raw
    }

    /// Any secret kept in a file (an API token, an OAuth client secret): its text, trimmed, or nil
    /// when there is no file. Like ssh with a private key, a file another account may read, or
    /// another account owns, is refused rather than used.
    public static func readPrivateText(_ url: URL) throws -> String? {
        guard let data = FileManager.default.contents(atPath: url.path) else { return nil }
        // The file itself, through a symbolic link (a mounted secret is often one): its mode and owner.
        var st = stat()
        if stat(url.path, &st) == 0 {
            let mode = Int(st.st_mode) & 0o777
            if mode & 0o077 != 0 { throw Failure.tooOpen(String(mode, radix: 8)) }
            if st.st_uid != geteuid() { throw Failure.notOwned(st.st_uid) }
        }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Writes `key` as a new file at `url`, whole or not at all: written and synced under a
    /// temporary name (owner-only), then linked into place, which fails if a key is already there
    /// (two processes making the first key cannot both win, and neither reads a half-written
    /// file). Returns false when another key was there first (read it instead).
    public static func create(_ url: URL, key: Data) throws -> Bool {
        let dir = url.deletingLastPathComponent()
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let temp = dir.appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString.prefix(8))")
        let fd = open(temp.path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else { throw Failure.unwritable(errno) }
        defer { unlink(temp.path) }
        let bytes = Array((key.base64EncodedString() + "\n").utf8)
        let written = write(fd, bytes, bytes.count)
        let synced = fsync(fd)
        close(fd)
        guard written == bytes.count, synced == 0 else { throw Failure.unwritable(errno) }
        if link(temp.path, url.path) != 0 {
            if errno == EEXIST { return false }
            // A file system without hard links (vfat, SMB, some FUSE mounts): an exclusive create.
            guard [EPERM, EOPNOTSUPP, ENOSYS, EXDEV, EMLINK].contains(errno) else { throw Failure.unwritable(errno) }
            let fd = open(url.path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
            guard fd >= 0 else {
                if errno == EEXIST { return false }
                throw Failure.unwritable(errno)
            }
            let written = write(fd, bytes, bytes.count), synced = fsync(fd)
            close(fd)
            guard written == bytes.count, synced == 0 else { unlink(url.path); throw Failure.unwritable(errno) }
        }
        let dirfd = open(dir.path, O_RDONLY)
        if dirfd >= 0 { fsync(dirfd); close(dirfd) }
        return true
    }
}
