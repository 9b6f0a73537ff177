import Archive
import Foundation
import Logging
import PostgresNIO
import RecordkeeperCore

/// The archive on PostgreSQL (issue 14): the production backend, shared by any number of
/// `serve` instances.
///
/// It grows concern by concern behind the same protocols as the SQLite store, and each concern
/// joins its conformance suite (which then runs on both backends) when it lands. Today it holds
/// the audit log, leases on background jobs, and browser sessions with sign-in throttling.
///
/// Every method is one transaction on a pooled connection. The schema is a numbered history
/// (`PostgresSchema`), applied under an advisory lock, so instances starting together migrate once.
public final class PostgresArchiveStore: Sendable {
    let client: PostgresClient
    let logger: Logger
    private let runner: Task<Void, Never>

    /// How many of the newest index rows a search tests one by one before it reads older rows
    /// through the GIN index (see `search`).
    let searchScanWindow: Int
    /// The custody locations' kinds as last read: a location never changes once registered, so a
    /// scan batch reads them again only when it names a code not here (one round trip fewer a batch).
    let locationKinds = LockedMap()
    /// 2,000 rows (~2.5 ms at 10M): enough for a page of any word in one match of 100 rows; the
    /// walk goes on from there when the density it found says so (decision 0003).
    public static let defaultSearchScanWindow = 2_000

    /// Connects to `url` (`postgres://user:password@host:port/database?sslmode=…`) and brings the
    /// schema up to date. Call `close()` when done. `searchScanWindow` is for tests (a small one
    /// sends nearly every search through the GIN path).
    public static func open(url: String, logger: Logger = Logger(label: "recordkeeper.postgres"),
                            searchScanWindow: Int = defaultSearchScanWindow) async throws -> PostgresArchiveStore {
        let parsed = try PostgresURL.parse(url)
        // One connection first, so a wrong host, password or database name is an error that says
        // so: the pool would retry it forever, and `serve` would wait without a word.
        try await PostgresAdmin.probe(url: parsed, logger: logger)
        let store = PostgresArchiveStore(configuration: parsed.configuration, logger: logger, searchScanWindow: max(1, searchScanWindow))
        // The pool serves only once `run()` has begun (a query before that is logged as a
        // warning and waits); let the runner task get there first.
        await store.started.first { _ in true }
        try? await Task.sleep(for: .milliseconds(2))
        do {
            try await PostgresSchema.migrate(store)
        } catch {
            store.close()
            throw error
        }
        return store
    }

    init(configuration: PostgresClient.Configuration, logger: Logger, searchScanWindow: Int = defaultSearchScanWindow) {
        var configuration = configuration
        configuration.options.maximumConnections = 16
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.client = client
        self.logger = logger
        self.searchScanWindow = searchScanWindow
        let (started, signal) = AsyncStream<Void>.makeStream()
        self.started = started
        self.runner = Task {
            signal.yield()
            signal.finish()
            await client.run()
        }
    }

    /// Finishes when the runner task is about to call `client.run()`.
    private let started: AsyncStream<Void>

    /// Closes every pooled connection.
    public func close() { runner.cancel() }

    deinit { runner.cancel() }

    /// Runs `body` in one transaction; a failure rolls it back and is reported as a storage error
    /// carrying the server's message (never the query's bound values).
    func transaction<T: Sendable>(_ what: String, _ body: (PostgresConnection) async throws -> T) async throws -> T {
        do {
            return try await client.withTransaction(logger: logger) { conn in try await body(conn) }
        } catch let e as ArchiveError {
            throw e
        } catch let e as PostgresTransactionError {
            if let inner = e.closureError as? ArchiveError { throw inner }
            throw Self.storageError(what, e.closureError ?? e.beginError ?? e.commitError ?? e.rollbackError ?? e)
        } catch {
            throw Self.storageError(what, error)
        }
    }

    /// One statement outside an explicit transaction (reads).
    func rows<each T: PostgresDecodable>(_ what: String, _ query: PostgresQuery, as: (repeat each T).Type) async throws -> [(repeat each T)] {
        do {
            var out: [(repeat each T)] = []
            for try await row in try await client.query(query, logger: logger).decode((repeat each T).self) { out.append(row) }
            return out
        } catch {
            throw Self.storageError(what, error)
        }
    }

    /// The first column of every row of one statement outside an explicit transaction.
    func column<T: PostgresDecodable>(_ what: String, _ query: PostgresQuery, as: T.Type) async throws -> [T] {
        do {
            var out: [T] = []
            for try await row in try await client.query(query, logger: logger) { out.append(try row.decode(T.self)) }
            return out
        } catch {
            throw Self.storageError(what, error)
        }
    }

    static func storageError(_ what: String, _ error: any Error) -> ArchiveError {
        if let e = error as? ArchiveError { return e }
        if let e = error as? PSQLError {
            let server = e.serverInfo?[.message].map { ": " + $0 } ?? ""
            return ArchiveError(.storage, "\(what) failed on PostgreSQL (\(e.code))\(server)", underlying: e)
        }
        return ArchiveError(.storage, "\(what) failed on PostgreSQL", underlying: error)
    }
}

extension PostgresConnection {
    /// Decodes every row of `query`.
    func all<each T: PostgresDecodable>(_ query: PostgresQuery, as: (repeat each T).Type, logger: Logger) async throws -> [(repeat each T)] {
        var out: [(repeat each T)] = []
        for try await row in try await self.query(query, logger: logger).decode((repeat each T).self) { out.append(row) }
        return out
    }

    /// Runs a statement, reading (and dropping) any rows it returns; for a count of changed rows
    /// write the statement as `WITH changed AS (… RETURNING 1) SELECT count(*) FROM changed`.
    func run(_ query: PostgresQuery, logger: Logger) async throws {
        for try await _ in try await self.query(query, logger: logger) {}
    }

    /// The first column of every row.
    func column<T: PostgresDecodable>(_ query: PostgresQuery, as: T.Type, logger: Logger) async throws -> [T] {
        var out: [T] = []
        for try await row in try await self.query(query, logger: logger) { out.append(try row.decode(T.self)) }
        return out
    }

    /// The single integer the query returns.
    func count(_ query: PostgresQuery, logger: Logger) async throws -> Int {
        try await column(query, as: Int64.self, logger: logger).first.map { Int($0) } ?? 0
    }
}

/// A `postgres://` (or `postgresql://`) URL read into a client configuration.
public struct PostgresURL: Sendable, Hashable {
    public var host: String
    public var port: Int
    public var user: String
    public var password: String?
    public var database: String
    /// `disable`, `prefer` (the default) or `require` (verify-full: the server's certificate must
    /// be valid for its name).
    public var sslMode: String

    public static func parse(_ text: String) throws -> PostgresURL {
        guard let c = URLComponents(string: text), let scheme = c.scheme?.lowercased(), scheme == "postgres" || scheme == "postgresql" else {
            throw ArchiveError(.invalid, "a database URL looks like postgres://user:password@host:5432/database")
        }
        guard let host = c.host, !host.isEmpty else { throw ArchiveError(.invalid, "the database URL names no host") }
        guard let user = c.user, !user.isEmpty else { throw ArchiveError(.invalid, "the database URL names no user") }
        let database = String(c.path.drop(while: { $0 == "/" }))
        guard !database.isEmpty else { throw ArchiveError(.invalid, "the database URL names no database (…/database at its end)") }
        let query = Dictionary((c.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { _, b in b })
        let mode = query["sslmode"] ?? "prefer"
        guard ["disable", "prefer", "require", "verify-full"].contains(mode) else {
            throw ArchiveError(.invalid, "sslmode must be disable, prefer, require or verify-full (not \(mode))")
        }
        return PostgresURL(host: host, port: c.port ?? 5432, user: user.removingPercentEncoding ?? user,
                           password: c.password.map { $0.removingPercentEncoding ?? $0 }, database: database.removingPercentEncoding ?? database,
                           sslMode: mode)
    }

    /// The same URL with the password replaced, for logs and messages.
    public var redacted: String { "postgres://\(user)\(password == nil ? "" : ":***")@\(host):\(port)/\(database)?sslmode=\(sslMode)" }

    public var configuration: PostgresClient.Configuration {
        let tls: PostgresClient.Configuration.TLS
        switch sslMode {
        case "disable": tls = .disable
        case "require", "verify-full": tls = .require(.makeClientConfiguration())
        default: tls = .prefer(.makeClientConfiguration())
        }
        return PostgresClient.Configuration(host: host, port: port, username: user, password: password, database: database, tls: tls)
    }

    public func with(database: String) -> PostgresURL {
        var copy = self
        copy.database = database
        return copy
    }
}

extension PostgresURL {
    /// The URL again, password included (for handing to `PostgresArchiveStore.open`; never log it:
    /// use `redacted`).
    public var urlString: String {
        var c = URLComponents()
        c.scheme = "postgres"
        c.host = host
        c.port = port
        c.user = user
        c.password = password
        c.path = "/" + database
        c.queryItems = [URLQueryItem(name: "sslmode", value: sslMode)]
        return c.string ?? redacted
    }
}

/// Statements that cannot run in a transaction (`CREATE DATABASE`, `DROP DATABASE`), on a
/// short-lived connection: for operators' setup and for tests.
public enum PostgresAdmin {
    public static func execute(url: PostgresURL, sql: String, logger: Logger = Logger(label: "recordkeeper.postgres.admin")) async throws {
        let connection = try await connect(url, logger: logger)
        do {
            try await connection.run(PostgresQuery(unsafeSQL: sql), logger: logger)
            try await connection.close()
        } catch {
            try? await connection.close()
            throw PostgresArchiveStore.storageError("running \(sql.prefix(40))…", error)
        }
    }

    /// Connects once (within the connection's timeout, 10 s) and closes: the server is reachable,
    /// the credentials hold and the database exists, or the error names which.
    /// What may pass (the server starting, out of connection slots, the network) is tried again
    /// for up to `patience`; a wrong database, user or password is said at once.
    public static func probe(url: PostgresURL, logger: Logger, patience: Duration = .seconds(30)) async throws {
        let deadline = ContinuousClock.now + patience
        var pause = Duration.milliseconds(100)
        while true {
            do {
                let connection = try await connect(url, logger: logger)
                try? await connection.close()
                return
            } catch let error as ArchiveError {
                guard isTransient(error.underlying), ContinuousClock.now + pause < deadline else { throw error }
                logger.info("PostgreSQL is not accepting this connection yet; trying again", metadata: ["error": "\(error.message)"])
                try await Task.sleep(for: pause)
                pause = min(pause * 2, .seconds(2))
            }
        }
    }

    /// Server refusals that pass (too many connections, starting up or shutting down) and failures
    /// below PostgreSQL (refused, reset); not a missing database, a wrong user or password.
    static func isTransient(_ error: (any Error)?) -> Bool {
        guard let e = error as? PSQLError else { return true }
        if let state = e.serverInfo?[.sqlState] { return state.hasPrefix("53") || state.hasPrefix("57P") || state.hasPrefix("08") }
        return e.code != .server
    }

    /// One connection outside the pool; a failure names the URL (password redacted) and why.
    static func connect(_ url: PostgresURL, logger: Logger) async throws -> PostgresConnection {
        do {
            return try await PostgresConnection.connect(
                configuration: PostgresConnection.Configuration(host: url.host, port: url.port, username: url.user, password: url.password,
                                                                database: url.database, tls: try Self.tls(url)),
                id: 1, logger: logger)
        } catch {
            throw PostgresArchiveStore.storageError("connecting to \(url.redacted)", error)
        }
    }

    static func tls(_ url: PostgresURL) throws -> PostgresConnection.Configuration.TLS {
        switch url.sslMode {
        case "disable": return .disable
        case "require", "verify-full": return .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
        default: return .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
        }
    }
}

/// A dictionary behind a lock, shared by the tasks of one store.
final class LockedMap: @unchecked Sendable {
    private let lock = NSLock()
    private var map: [String: String] = [:]
    var value: [String: String] {
        get { lock.lock(); defer { lock.unlock() }; return map }
        set { lock.lock(); map = newValue; lock.unlock() }
    }
}

