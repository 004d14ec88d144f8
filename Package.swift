// swift-tools-version:6.1
import PackageDescription

/// Upcoming features every Swift target opts into (see ../shared/STYLE.md §1).
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "watchfolder",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "watchfolder", targets: ["watchfolder"]),
        .library(name: "Pipeline", targets: ["Pipeline"]),
        .library(name: "WatchFolder", targets: ["WatchFolder"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.0"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/LebJe/TOMLKit.git", from: "0.6.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.0.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.0"),
    ],
    targets: [
        // C at the edge: tiny shims over what Swift cannot import directly.
        .target(
            name: "CInotify",
            cSettings: [.define("_GNU_SOURCE")]
        ),
        .target(
            name: "CFiles",
            cSettings: [.define("_GNU_SOURCE")]
        ),
        .target(
            name: "COpenat2",
            cSettings: [.define("_GNU_SOURCE")]
        ),
        .systemLibrary(
            name: "CAV",
            pkgConfig: "libavformat",
            providers: [.apt(["libavformat-dev", "libavcodec-dev", "libavfilter-dev", "libavutil-dev",
                              "libswscale-dev", "libswresample-dev"])]
        ),
        .systemLibrary(
            name: "CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),

        // The media engine: probe, ladder planning, decode-once transcode, HLS packaging.
        .target(
            name: "Pipeline",
            dependencies: [
                "CAV",
                "COpenat2",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),

        // The daemon: config, intake, job store, scheduler, publishers, notifier, status.
        .target(
            name: "WatchFolder",
            dependencies: [
                "Pipeline",
                "CInotify",
                "CFiles",
                "CCurl",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "TOMLKit", package: "TOMLKit"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            swiftSettings: swiftSettings
        ),

        // The status server (hummingbird): JSON API, SSE, /metrics, the dashboard. A target of its own so that
        // hummingbird's imports stay out of the WatchFolder module (they change which clang module owns
        // `struct stat` there, breaking MemberImportVisibility lookups of st_dev & co. in Intake).
        .target(
            name: "WatchFolderStatus",
            dependencies: [
                "WatchFolder",
                "Pipeline",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: swiftSettings
        ),

        // The CLI: a thin ArgumentParser layer over the two libraries.
        .executableTarget(
            name: "watchfolder",
            dependencies: [
                "Pipeline",
                "WatchFolder",
                "WatchFolderStatus",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),

        // What the test targets share: the moto_server and webhook receiver peers, process runners, polling and
        // loopback helpers. Foundation only (no product module, no swift-testing): the test targets record issues.
        .target(
            name: "TestSupport",
            path: "Tests/TestSupport",
            swiftSettings: swiftSettings
        ),

        .testTarget(
            name: "PipelineTests",
            dependencies: ["Pipeline", "CAV", "FuzzHarness", "TestSupport", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        // The fuzz harness (Tests/Fuzz): bytes from a memfd through the engine's untrusted-input path. Shared by the
        // fuzz target (engine-only builds, below) and PipelineTests (which replays the committed regression inputs).
        .target(
            name: "CFuzzSupport",
            path: "Tests/Fuzz/CFuzzSupport",
            cSettings: [.define("_GNU_SOURCE")]
        ),
        .target(
            name: "FuzzHarness",
            dependencies: ["Pipeline", "CFuzzSupport", .product(name: "Logging", package: "swift-log")],
            path: "Tests/Fuzz/FuzzHarness",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "WatchFolderTests",
            dependencies: [
                "WatchFolder",
                "WatchFolderStatus",
                "Pipeline",
                "TestSupport",
                .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            swiftSettings: swiftSettings
        ),
        // The systemd notify client, and the .deb built, linted, installed, upgraded and purged for real.
        .testTarget(
            name: "PackagingTests",
            dependencies: [
                "WatchFolder",
                "TestSupport",
                .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // Runs the built `watchfolder` binary as a user would: CLI contracts, exit codes, the daemon end to end.
        .testTarget(
            name: "EndToEndTests",
            dependencies: ["TestSupport"],
            swiftSettings: swiftSettings
        ),
    ]
)

// `WATCHFOLDER_ENGINE_ONLY=1` (`make test-asan`): the package's targets are the engine alone (Pipeline, its shims, TestSupport,
// PipelineTests and the fuzz harness), so a sanitizer build in its own scratch path compiles Pipeline and swift-log
// only (the dependencies stay declared, so that Package.resolved is the same for every build).
// `WATCHFOLDER_ENGINE_ONLY=fuzz` (`make fuzz`, the fuzz pass of `make test`) adds the libFuzzer target, which exists
// only there: its `main` calls libFuzzer's driver, linked by `-sanitize=fuzzer`, so no other build could link it.
if let engineOnly = Context.environment["WATCHFOLDER_ENGINE_ONLY"], ["1", "fuzz"].contains(engineOnly) {
    let engine: Set<String> = ["CAV", "COpenat2", "Pipeline", "PipelineTests", "TestSupport", "CFuzzSupport", "FuzzHarness"]
    package.targets = package.targets.filter { engine.contains($0.name) }
    package.products = []
    if engineOnly == "fuzz" {
        package.targets.append(.executableTarget(
            name: "PipelineFuzz",
            dependencies: ["FuzzHarness", "CFuzzSupport"],
            path: "Tests/Fuzz/PipelineFuzz",
            swiftSettings: swiftSettings
        ))
        package.products = [.executable(name: "PipelineFuzz", targets: ["PipelineFuzz"])]
    }
}
