// swift-tools-version:6.0
import PackageDescription

// The dependency graph of Recordkeeper, layer by layer (see docs/ARCHITECTURE.md):
//   RecordkeeperCore  <- Connectors, Archive (+ ArchivePostgres, ObjectStorage), RecordkeeperTesting
//   Recordkeeper (services) <- RecordkeeperWeb (HTTP: web UI and /api/v1) <- recordkeeper CLI
let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "Recordkeeper",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "recordkeeper", targets: ["RecordkeeperCLI"]),
        // Fuzz targets (issue 17): scripts/fuzz.sh builds this with libFuzzer; built plainly it
        // replays files (the crash fixtures in Tests/Fuzz) through a target.
        .executable(name: "recordkeeper-fuzz", targets: ["RecordkeeperFuzz"]),
        .library(name: "Recordkeeper", targets: ["Recordkeeper"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", exact: "4.5.2"),
        .package(url: "https://github.com/apple/swift-log", exact: "1.16.2"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", exact: "0.9.20"),
        .package(url: "https://github.com/jpsim/Yams", exact: "6.2.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", exact: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth", exact: "2.5.0"),
        .package(url: "https://github.com/vapor/multipart-kit", exact: "4.7.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus", exact: "2.4.1"),
        // Already built for Hummingbird; named so the server can bound its graceful shutdown.
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", exact: "2.13.0"),
        // The production backend's records engine (issue 14); its TLS (swift-nio-ssl) is already
        // built for HummingbirdTesting, so it adds little build time.
        .package(url: "https://github.com/vapor/postgres-nio", exact: "1.33.2"),
        // The object-storage backend's HTTP client (issue 14); already built for HummingbirdTesting.
        .package(url: "https://github.com/swift-server/async-http-client", exact: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        // TLS for SMTP (STARTTLS, issue 16); already built for HummingbirdTesting and PostgresNIO.
        .package(url: "https://github.com/apple/swift-nio-ssl", exact: "2.37.6"),
        // Single sign-on (issue 16): OpenID Connect ID tokens checked against the provider's keys.
        .package(url: "https://github.com/vapor/jwt-kit", exact: "5.8.0"),
    ],
    targets: [
        .target(
            name: "RecordkeeperCore",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strict
        ),
        // A zip member's bytes read without ZIPFoundation's own loops, which spin forever on some
        // hostile archives (issue 17).
        .target(
            name: "SafeZip",
            dependencies: [.product(name: "ZIPFoundation", package: "ZIPFoundation")],
            swiftSettings: strict
        ),
        .target(
            name: "Connectors",
            dependencies: [
                "RecordkeeperCore", "SafeZip",
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "Archive",
            dependencies: [
                "RecordkeeperCore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "ArchivePostgres",
            dependencies: [
                "Archive", "RecordkeeperCore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "ObjectStorage",
            dependencies: [
                "Archive", "RecordkeeperCore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "RecordkeeperTesting",
            dependencies: ["RecordkeeperCore", .product(name: "ZIPFoundation", package: "ZIPFoundation")],
            swiftSettings: strict
        ),
        .target(
            name: "Recordkeeper",
            dependencies: [
                "RecordkeeperCore", "Connectors", "Archive", "RecordkeeperTesting",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: strict
        ),
        // Custody of physical items (issue 15): identifiers, target lists, custody and reports,
        // on the archive's stores and audit log.
        .target(
            name: "Custody",
            dependencies: ["RecordkeeperCore", "Archive", "SafeZip", .product(name: "Crypto", package: "swift-crypto"),
                           .product(name: "ZIPFoundation", package: "ZIPFoundation")],
            swiftSettings: strict
        ),
        .target(
            name: "RecordkeeperWeb",
            dependencies: [
                "Recordkeeper", "RecordkeeperCore", "Archive", "Custody",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "MultipartKit", package: "multipart-kit"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "JWTKit", package: "jwt-kit"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "RecordkeeperFuzz",
            dependencies: ["Connectors", "RecordkeeperCore", "Custody"],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "RecordkeeperCLI",
            dependencies: [
                // Archive and RecordkeeperTesting are imported directly: undeclared, a change to a store protocol
                // left the CLI's objects stale and the binary jumped through old witness tables.
                "Recordkeeper", "RecordkeeperCore", "RecordkeeperWeb", "Archive", "RecordkeeperTesting", "ArchivePostgres", "ObjectStorage", "Custody",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "ConnectorsTests",
            dependencies: [
                "Connectors", "RecordkeeperCore", "RecordkeeperTesting", "SafeZip",
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            ],
            resources: [.copy("Fixtures")],
            swiftSettings: strict
        ),
        .testTarget(
            name: "RecordkeeperTests",
            dependencies: [
                "Recordkeeper", "Archive", "ArchivePostgres", "ObjectStorage", "Connectors", "RecordkeeperCore", "RecordkeeperTesting", "Custody",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            ],
            resources: [.copy("Golden")],
            swiftSettings: strict
        ),
        .testTarget(
            name: "RecordkeeperWebTests",
            dependencies: [
                "RecordkeeperWeb", "Recordkeeper", "Archive", "RecordkeeperCore", "RecordkeeperTesting",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "JWTKit", package: "jwt-kit"),
            ],
            swiftSettings: strict
        ),
    ]
)
