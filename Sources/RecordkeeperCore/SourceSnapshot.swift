import Foundation
import Glibc

/// What a source file was when capture began: device, inode, size and modification time to the
/// nanosecond. Any write, truncation or rename over it changes one of them. (Not the change
/// time: sync clients and virus scanners set extended attributes, and backup tools add links,
/// without touching the content.) The ingest compares the file against it after copying the original and before each
/// chunk is handed to the store, so a chunk is stored only if every byte it came from was read
/// before the file changed; the chunk that notices the change, and all after it, are not.
public struct SourceSnapshot: Equatable, Sendable {
    /// The file is not what it was; `message` says how, and what to do.
    public struct Changed: Error, Sendable { public var message: String }

    var device: UInt64
    var inode: UInt64
    var size: Int64
    var modified: timespec

    /// Nil for anything but a regular file (a chat folder is read file by file).
    public static func of(_ url: URL) -> SourceSnapshot? {
        var st = stat()
        guard stat(url.path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
        return SourceSnapshot(device: UInt64(st.st_dev), inode: UInt64(st.st_ino), size: Int64(st.st_size), modified: st.st_mtim)
    }

    public static func == (a: SourceSnapshot, b: SourceSnapshot) -> Bool {
        a.device == b.device && a.inode == b.inode && a.size == b.size
            && a.modified.tv_sec == b.modified.tv_sec && a.modified.tv_nsec == b.modified.tv_nsec
    }

    /// Throws `changed(message)` when the file is no longer what it was.
    public func check(_ url: URL, displayName: String, stage: String) throws {
        guard let now = SourceSnapshot.of(url) else {
            throw Changed(message: "\(displayName) was removed or replaced while it was being captured (\(stage)); ingest it again once it is complete")
        }
        guard now != self else { return }
        let what = now.inode != inode || now.device != device ? "it was replaced by another file"
            : now.size != size ? "its size went from \(size) to \(now.size) bytes" : "it was written to"
        throw Changed(message: "\(displayName) changed while it was being captured (\(what), \(stage)); ingest it again once it is complete")
    }
}
