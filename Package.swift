// swift-tools-version:6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny")
]

let package = Package(
    name: "beluga-secrets",
    products: [
        .executable(name: "beluga-secrets", targets: ["beluga-secrets"]),
        .executable(name: "kube-emulator", targets: ["kube-emulator"]),
        .library(name: "Sealing", targets: ["Sealing"]),
        .library(name: "KubeAPI", targets: ["KubeAPI"]),
        .library(name: "SecretSync", targets: ["SecretSync"]),
        .library(name: "KubeEmulator", targets: ["KubeEmulator"]),
        .library(name: "TimeFormat", targets: ["TimeFormat"]),
        .library(name: "YAML", targets: ["YAML"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio-http2", from: "1.46.0"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        .systemLibrary(
            name: "CSodium", pkgConfig: "libsodium",
            providers: [.apt(["libsodium-dev"])]),
        .systemLibrary(
            name: "CCurl", pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(
            name: "CLibYAML", pkgConfig: "yaml-0.1",
            providers: [.apt(["libyaml-dev"])]),
        // Declarations of glibc functions the Glibc module hides (pipe2, closefrom for spawn).
        .systemLibrary(name: "CGNUExtensions"),
        .target(name: "JSONValue", swiftSettings: swiftSettings),
        // RFC 3339 and HTTP dates, wall-clock times and Duration conversions, without Foundation.
        .target(name: "TimeFormat", swiftSettings: swiftSettings),
        .target(name: "Sealing", dependencies: ["CSodium", "TimeFormat"], swiftSettings: swiftSettings),
        // YAML (kubeconfig files, `-o yaml`) read into and written from `JSON` through libyaml.
        .target(name: "YAML", dependencies: ["CLibYAML", "JSONValue"], swiftSettings: swiftSettings),
        .target(
            name: "KubeAPI",
            dependencies: [
                "CCurl", "CGNUExtensions", "JSONValue", "TimeFormat", "YAML", "Sealing",
                .product(name: "Logging", package: "swift-log"),
            ], swiftSettings: swiftSettings),
        .target(
            name: "SecretSync",
            dependencies: [
                "Sealing", "KubeAPI", "JSONValue", "TimeFormat",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ], swiftSettings: swiftSettings),
        .target(
            name: "KubeEmulator",
            dependencies: [
                "JSONValue", "TimeFormat", "YAML",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ], swiftSettings: swiftSettings),
        .executableTarget(
            name: "kube-emulator",
            dependencies: [
                "KubeEmulator",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ], swiftSettings: swiftSettings),
        .executableTarget(
            name: "beluga-secrets",
            dependencies: [
                "Sealing", "KubeAPI", "SecretSync", "JSONValue", "TimeFormat", "YAML", "CGNUExtensions",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ], swiftSettings: swiftSettings),

        // Tests. `TestSupport` holds what several test targets share: locating the built
        // executables, running them, starting the emulator, checking output for leaked markers.
        .target(
            name: "TestSupport", dependencies: ["KubeEmulator", "JSONValue"], path: "Tests/TestSupport",
            swiftSettings: swiftSettings),
        .testTarget(name: "JSONValueTests", dependencies: ["JSONValue"], swiftSettings: swiftSettings),
        .testTarget(name: "TimeFormatTests", dependencies: ["TimeFormat"], swiftSettings: swiftSettings),
        .testTarget(name: "YAMLTests", dependencies: ["YAML", "JSONValue"], swiftSettings: swiftSettings),
        .testTarget(
            name: "SealingTests", dependencies: ["Sealing", "TimeFormat", "TestSupport"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "KubeEmulatorTests", dependencies: ["KubeEmulator", "TestSupport", "JSONValue"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "KubeAPITests",
            dependencies: ["KubeAPI", "KubeEmulator", "TestSupport", "JSONValue", "TimeFormat"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "SecretSyncTests",
            dependencies: [
                "SecretSync", "Sealing", "KubeAPI", "KubeEmulator", "TestSupport", "JSONValue", "TimeFormat",
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "ReliabilityTests",
            dependencies: ["SecretSync", "Sealing", "KubeEmulator", "TestSupport", "JSONValue", "TimeFormat"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "CLITests",
            dependencies: ["Sealing", "KubeAPI", "KubeEmulator", "TestSupport", "JSONValue"],
            swiftSettings: swiftSettings),
    ]
)
