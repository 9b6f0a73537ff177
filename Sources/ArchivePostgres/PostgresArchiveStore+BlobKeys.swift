import Archive
import Foundation
import PostgresNIO
import RecordkeeperCore

extension PostgresArchiveStore {
    static func blobKey(_ r: (String, String, String, Data)) -> BlobDataKey? {
        ContentHash(hex: r.0).map { BlobDataKey(hash: $0, keyID: r.1, kekID: r.2, wrapped: r.3) }
    }

    public func blobKey(_ hash: ContentHash) async throws -> BlobDataKey? {
        try await rows("reading a blob's data key", "SELECT hash, key_id, kek_id, wrapped FROM blob_key WHERE hash = \(hash.hex)",
                       as: (String, String, String, Data).self).first.flatMap(Self.blobKey)
    }

    public func addBlobKey(_ key: BlobDataKey) async throws -> BlobDataKey {
        try await transaction("recording a blob's data key") { conn in
            try await conn.run("""
                INSERT INTO blob_key (hash, key_id, kek_id, wrapped, created_at)
                VALUES (\(key.hash.hex), \(key.keyID), \(key.kekID), \(key.wrapped), \(Timestamp.iso(millis: Timestamp.nowMillis())))
                ON CONFLICT (hash) DO NOTHING
                """, logger: self.logger)
            guard let stored = try await conn.all("SELECT hash, key_id, kek_id, wrapped FROM blob_key WHERE hash = \(key.hash.hex)",
                                                  as: (String, String, String, Data).self, logger: self.logger).first.flatMap(Self.blobKey) else {
                throw ArchiveError(.storage, "blob \(key.hash.hex)'s data key could not be recorded")
            }
            return stored
        }
    }

    public func destroyBlobKey(_ hash: ContentHash) async throws {
        do {
            try await transaction("destroying a blob's data key") { conn in
                try await conn.run("DELETE FROM blob_key WHERE hash = \(hash.hex)", logger: self.logger)
            }
        } catch let e as ArchiveError where e.message.contains("only once a disposition") {
            throw ArchiveError(.refused, "blob \(hash.hex)'s data key is destroyed only once a disposition has released the blob")
        }
    }

    public func blobKeys(after: ContentHash?, limit: Int) async throws -> [BlobDataKey] {
        try await rows("reading data keys", """
            SELECT hash, key_id, kek_id, wrapped FROM blob_key WHERE hash > \(after?.hex ?? "") ORDER BY hash LIMIT \(Int64(limit))
            """, as: (String, String, String, Data).self).compactMap(Self.blobKey)
    }

    public func rewrapBlobKey(_ hash: ContentHash, keyID: String, kekID: String, wrapped: Data) async throws {
        try await transaction("re-wrapping a data key") { conn in
            let changed = try await conn.count("""
                WITH changed AS (UPDATE blob_key SET kek_id = \(kekID), wrapped = \(wrapped) WHERE hash = \(hash.hex) AND key_id = \(keyID) RETURNING 1)
                SELECT count(*) FROM changed
                """, logger: self.logger)
            if changed != 1 { throw ArchiveError(.notFound, "blob \(hash.hex) has no data key \(keyID) to re-wrap") }
        }
    }
}
