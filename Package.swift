// swift-tools-version:6.0
//
// oemsync: OEM-integration middleware for car dealers.
//
// The targets follow the pipeline (sources -> mapping -> sinks -> runtime -> CLI) and the weight of
// their dependencies: OEMSyncCore has none, so the value model compiles and tests on its own.
//
// Dependencies, each with its reason:
// - swift-argument-parser: the `oemsync` command tree, help and usage errors (exit 64).
// - swift-log: the logging API every component takes a `Logger` from.
// - Yams: YAML with line/column marks, which the mapping and config diagnostics need.
// - swift-service-lifecycle: the daemon (`oemsync run`) as one ServiceGroup with graceful shutdown on
//   SIGTERM and the SIGHUP listener (+22 CPU-s to a clean build, with swift-async-algorithms and
//   swift-collections; measured in the platform notes).
// - swift-async-algorithms: already built for swift-service-lifecycle (so it adds nothing to a build);
//   its AsyncChannel carries the daemon's events (a run ended, stop, reload, its timer) to the main loop.
// - FlyingFox: the OEM simulator's HTTP server (and the daemon's metrics endpoint). Chosen over
//   Hummingbird for its cost: it has no dependencies and adds ~17 s to a clean build, where
//   Hummingbird with TLS adds ~3.5 min (both measured on this machine); the simulator needs plain
//   HTTP on loopback, with faults it controls.
// System libraries: libsqlite3 (embedded dealer DB), libpq (PostgreSQL, with COPY), libcurl (the
// REST and SOAP transport: private CAs, client certificates, keep-alive, decompression), zlib (the
// ledger's stored payloads are deflated; CRC-32 names a dropped file's content), libxml2 (SOAP
// payloads, through its SAX2 push parser: FoundationXML's XMLParser alone, with a delegate doing
// nothing, runs at under half of `xmllint --stream`, measured by `make bench-soap`).

import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "oemsync",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "oemsync", targets: ["oemsync"]),
        .executable(name: "oemsync-simulator", targets: ["oemsync-simulator"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/swhitty/FlyingFox", from: "0.27.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-async-algorithms", from: "1.0.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CSQLite3", path: "Sources/CSQLite3", pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(
            name: "CLibPQ", path: "Sources/CLibPQ", pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]),
        .systemLibrary(
            name: "CCurl", path: "Sources/CCurl", pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(
            name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(
            name: "CLibXML2", path: "Sources/CLibXML2", pkgConfig: "libxml-2.0",
            providers: [.apt(["libxml2-dev"])]),

        // Values shared by every stage: records, positions, diagnostics, typed values, batches.
        .target(name: "OEMSyncCore", swiftSettings: swiftSettings),
        // Mapping files and the data dictionary: YAML with positions -> compiled, immutable plan.
        .target(
            name: "OEMSyncMapping",
            dependencies: ["OEMSyncCore", .product(name: "Yams", package: "Yams")],
            swiftSettings: swiftSettings),
        // Where records come from: CSV drops, REST JSON APIs (HTTP through libcurl, JSON, auth,
        // pagination, retries, rate limits); SOAP plugs in beside them.
        .target(name: "OEMSyncFeeds", dependencies: ["OEMSyncCore", "CCurl", "CZlib", "CLibXML2"], swiftSettings: swiftSettings),
        // Where rows go: the dealer database (SQLite, PostgreSQL), its migrations, checkpoints, ledger.
        .target(
            name: "OEMSyncSinks",
            dependencies: ["OEMSyncCore", "CSQLite3", "CLibPQ", "CZlib"],
            swiftSettings: swiftSettings),
        // Configuration and the sync pipeline that ties a feed's source, mapping and sink together.
        .target(
            name: "OEMSyncRuntime",
            dependencies: [
                "OEMSyncCore", "OEMSyncMapping", "OEMSyncFeeds", "OEMSyncSinks",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "AsyncAlgorithms", package: "swift-async-algorithms"),
                .product(name: "FlyingFox", package: "FlyingFox"),
                .product(name: "FlyingSocks", package: "FlyingFox"),
            ],
            swiftSettings: swiftSettings),
        // The single binary. Parses arguments and calls into OEMSyncRuntime; nothing else.
        .executableTarget(
            name: "oemsync",
            dependencies: [
                "OEMSyncRuntime", "OEMSyncCore", "OEMSyncMapping",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings),

        // The validators' benchmark (scripts/bench-validators): VINs and phones per second on one core.
        .executableTarget(
            name: "oemsync-bench-validators",
            dependencies: ["OEMSyncMapping"],
            swiftSettings: swiftSettings),

        // The XML benchmark (scripts/bench-soap): a SOAP inventory file read and mapped.
        .executableTarget(
            name: "oemsync-bench-xml",
            dependencies: ["OEMSyncFeeds", "OEMSyncMapping", "OEMSyncCore"],
            swiftSettings: swiftSettings),

        // A local OEM: REST endpoints (OAuth2, paged orders and vehicles) with switchable faults, for
        // the demo, the tests and onboarding. It knows nothing of oemsync's own modules.
        .target(
            name: "OEMSimulator",
            dependencies: ["OEMSyncCore", .product(name: "FlyingFox", package: "FlyingFox")],
            swiftSettings: swiftSettings),
        .executableTarget(
            name: "oemsync-simulator",
            dependencies: ["OEMSimulator", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: swiftSettings),

        // Test support: fixture paths, temporary directories, the test PostgreSQL database.
        .target(
            name: "OEMSyncTesting",
            dependencies: ["OEMSyncCore", "OEMSyncSinks", "OEMSimulator"],
            path: "Tests/Support",
            swiftSettings: swiftSettings),
        .testTarget(
            name: "OEMSyncCoreTests",
            dependencies: ["OEMSyncCore"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "OEMSyncMappingTests",
            dependencies: ["OEMSyncMapping", "OEMSyncCore", "OEMSyncTesting"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "OEMSyncFeedsTests",
            dependencies: ["OEMSyncFeeds", "OEMSyncCore", "OEMSyncTesting", "OEMSimulator"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "OEMSyncSinksTests",
            dependencies: ["OEMSyncSinks", "OEMSyncCore", "OEMSyncTesting"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "OEMSyncRuntimeTests",
            dependencies: [
                "OEMSyncRuntime", "OEMSyncMapping", "OEMSyncSinks", "OEMSyncFeeds", "OEMSyncCore",
                "OEMSyncTesting", "OEMSimulator",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "OEMSyncCLITests",
            dependencies: ["OEMSyncTesting", "OEMSyncCore", "OEMSimulator"],
            swiftSettings: swiftSettings),
    ]
)
