import Archive
import ArchivePostgres
import ObjectStorage
import Foundation
import Logging
import Testing

/// One backend of a concern's conformance suite: opens a fresh, empty store, and cleans up.
///
/// Every concern the PostgreSQL store implements runs its suite on SQLite (a file with its WAL
/// pool, and in memory) and on PostgreSQL (a new database on the test server for each test).
/// The PostgreSQL server comes from `RECORDKEEPER_TEST_POSTGRES_URL` (`scripts/test.sh` starts
/// one); without it the PostgreSQL runs are left out, except under `CI=true`, where they fail.
struct Backend<Store: Sendable>: CustomTestStringConvertible, Sendable {
    let name: String
    let open: @Sendable () async throws -> OpenStore<Store>
    var testDescription: String { name }
}

struct OpenStore<Store: Sendable>: Sendable {
    let store: Store
    let close: @Sendable () async -> Void
}

enum Backends {
    static func sqliteFile<S>(_ cast: @escaping @Sendable (SQLiteArchiveStore) -> S) -> Backend<S> {
        Backend(name: "SQLite file") {
            let tmp = try TempDir()
            return OpenStore(store: cast(try SQLiteArchiveStore(path: tmp.url.appendingPathComponent("store.sqlite").path))) { tmp.cleanup() }
        }
    }

    static func sqliteMemory<S>(_ cast: @escaping @Sendable (SQLiteArchiveStore) -> S) -> Backend<S> {
        Backend(name: "SQLite in memory") { OpenStore(store: cast(try SQLiteArchiveStore())) {} }
    }

    static func postgres<S>(_ cast: @escaping @Sendable (PostgresArchiveStore) -> S, searchScanWindow: Int? = nil) -> Backend<S> {
        Backend(name: searchScanWindow.map { "PostgreSQL, search scan window \($0)" } ?? "PostgreSQL") {
            let db = try await TestPostgres.createDatabase()
            var logger = Logger(label: "recordkeeper.postgres")
            logger.logLevel = .warning // the pool's connection churn at close is not news
            let store = try await PostgresArchiveStore.open(url: db.url, logger: logger, searchScanWindow: searchScanWindow ?? PostgresArchiveStore.defaultSearchScanWindow)
            return OpenStore(store: cast(store)) {
                store.close()
                await TestPostgres.dropDatabase(db.name)
            }
        }
    }

    /// SQLite twice, and PostgreSQL when a server is there (or CI requires one).
    static func all<S>(sqlite: @escaping @Sendable (SQLiteArchiveStore) -> S, postgres pg: @escaping @Sendable (PostgresArchiveStore) -> S) -> [Backend<S>] {
        var out = [sqliteFile(sqlite), sqliteMemory(sqlite)]
        if TestPostgres.wanted { out.append(postgres(pg)) }
        return out
    }

    static let auditLogs: [Backend<any AuditLog>] = all(sqlite: { $0 }, postgres: { $0 })
    static let leases: [Backend<any LeaseStore>] = all(sqlite: { $0 }, postgres: { $0 })
    static let sessions: [Backend<any WebSessionStore>] = all(sqlite: { $0 }, postgres: { $0 })
    static let conversations: [Backend<any ConversationStore>] = all(sqlite: { $0 }, postgres: { $0 })
    static let capture: [Backend<any ConversationStore & CaptureStore & MessageStore & IntegrityStore>] = all(sqlite: { $0 }, postgres: { $0 })
    /// PostgreSQL twice: a search first tests the newest index rows one by one and reads older
    /// ones through GIN; a window of 3 sends nearly every query down the second path.
    static let search: [Backend<any ConversationStore & CaptureStore & SearchIndexStore>] =
        all(sqlite: { $0 }, postgres: { $0 }) + (TestPostgres.wanted ? [postgres({ $0 }, searchScanWindow: 3)] : [])
    static let records: [Backend<any ConversationStore & CaptureStore & SearchIndexStore & PeopleStore & RetentionStore & HoldStore & AuditLog>] =
        all(sqlite: { $0 }, postgres: { $0 })
    static let dispositions: [Backend<any ConversationStore & CaptureStore & SearchIndexStore & PeopleStore & RetentionStore & HoldStore & AuditLog
        & DispositionStore & MessageStore & IntegrityStore>] = all(sqlite: { $0 }, postgres: { $0 })
    static let people: [Backend<any PeopleStore & AccessStore & ConversationStore>] = all(sqlite: { $0 }, postgres: { $0 })

    /// The filesystem store, and S3 (a new bucket with Object Lock on the test server) when
    /// there is one (or CI requires it). New S3 blobs get no retention here, so `destroy` can
    /// be tested; the lock is tested on its own.
    static let blobs: [Backend<any BlobStore>] = {
        var out: [Backend<any BlobStore>] = [Backend(name: "files") {
            let tmp = try TempDir()
            return OpenStore(store: FileBlobStore(root: try tmp.sub("blobs"), scratch: try tmp.sub("tmp"))) { tmp.cleanup() }
        }]
        if TestS3.wanted {
            out.append(Backend(name: "S3 (SeaweedFS)") {
                let tmp = try TempDir()
                return OpenStore(store: S3BlobStore(client: try await TestS3.freshBucket(), scratch: try tmp.sub("tmp"), lock: .none)) { tmp.cleanup() }
            })
        }
        return out
    }()
}

/// The shared PostgreSQL test server: one server for the whole run, one database per test.
enum TestPostgres {
    static let serverURL = ProcessInfo.processInfo.environment["RECORDKEEPER_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
    static let required = ProcessInfo.processInfo.environment["CI"] == "true"
    static var wanted: Bool { serverURL != nil || required }

    struct Database: Sendable {
        let name: String
        let url: String
    }

    static func serverAdmin() async throws -> (PostgresURL, String) {
        guard let serverURL else {
            throw ArchiveError(.invalid, "the PostgreSQL runs need a server: set RECORDKEEPER_TEST_POSTGRES_URL (scripts/test.sh starts one)")
        }
        return (try PostgresURL.parse(serverURL), serverURL)
    }

    static func createDatabase() async throws -> Database {
        let (server, _) = try await serverAdmin()
        let name = "rk_test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        try await PostgresAdmin.execute(url: server, sql: "CREATE DATABASE \(name)")
        var url = server.with(database: name)
        url.sslMode = server.sslMode
        return Database(name: name, url: url.urlString)
    }

    static func dropDatabase(_ name: String) async {
        guard let (server, _) = try? await serverAdmin() else { return }
        try? await PostgresAdmin.execute(url: server, sql: "DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
    }
}
