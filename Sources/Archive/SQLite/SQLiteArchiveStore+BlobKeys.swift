import Foundation
import GRDB
import RecordkeeperCore

extension SQLiteArchiveStore {
    static func decodeBlobKey(_ row: Row) -> BlobDataKey? {
        guard let hash = ContentHash(hex: row["hash"]) else { return nil }
        return BlobDataKey(hash: hash, keyID: row["key_id"], kekID: row["kek_id"], wrapped: row["wrapped"])
    }

    public func blobKey(_ hash: ContentHash) async throws -> BlobDataKey? {
        try await read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM blob_key WHERE hash = ?", arguments: [hash.hex]).flatMap(Self.decodeBlobKey)
        }
    }

    public func addBlobKey(_ key: BlobDataKey) async throws -> BlobDataKey {
        try await write { db in
            try db.execute(sql: "INSERT INTO blob_key (hash, key_id, kek_id, wrapped, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (hash) DO NOTHING",
                           arguments: [key.hash.hex, key.keyID, key.kekID, key.wrapped, Timestamp.iso(millis: Timestamp.nowMillis())])
            guard let stored = try Row.fetchOne(db, sql: "SELECT * FROM blob_key WHERE hash = ?", arguments: [key.hash.hex]).flatMap(Self.decodeBlobKey) else {
                throw ArchiveError(.storage, "blob \(key.hash.hex)'s data key could not be recorded")
            }
            return stored
        }
    }

    public func destroyBlobKey(_ hash: ContentHash) async throws {
        do {
            try await write { db in try db.execute(sql: "DELETE FROM blob_key WHERE hash = ?", arguments: [hash.hex]) }
        } catch let e as ArchiveError {
            if let db = e.underlying as? DatabaseError, db.resultCode == .SQLITE_CONSTRAINT {
                throw ArchiveError(.refused, "blob \(hash.hex)'s data key is destroyed only once a disposition has released the blob")
            }
            throw e
        }
    }

    public func blobKeys(after: ContentHash?, limit: Int) async throws -> [BlobDataKey] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM blob_key WHERE hash > ? ORDER BY hash LIMIT ?", arguments: [after?.hex ?? "", limit])
                .compactMap(Self.decodeBlobKey)
        }
    }

    public func rewrapBlobKey(_ hash: ContentHash, keyID: String, kekID: String, wrapped: Data) async throws {
        try await write { db in
            try db.execute(sql: "UPDATE blob_key SET kek_id = ?, wrapped = ? WHERE hash = ? AND key_id = ?", arguments: [kekID, wrapped, hash.hex, keyID])
            if db.changesCount != 1 { throw ArchiveError(.notFound, "blob \(hash.hex) has no data key \(keyID) to re-wrap") }
        }
    }
}
