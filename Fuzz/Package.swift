// swift-tools-version:6.1
import PackageDescription

// libFuzzer targets for beluga-secrets' parsers of untrusted input. A separate package, so the
// main package's `swift build` never builds them; see docs/fuzzing.md. Build (from the
// repository root) with `make fuzz` or:
//   swift build --package-path Fuzz --scratch-path .build-fuzz -Xswiftc -sanitize=fuzzer,address
// The targets reach internal parsers with `@testable import`, which debug builds allow.
let package = Package(
    name: "beluga-secrets-fuzz",
    dependencies: [.package(name: "beluga-secrets", path: "..")],
    targets: [
        .target(name: "CLibFuzzer"),
        .target(name: "FuzzSupport", dependencies: ["CLibFuzzer"]),
        .executableTarget(
            name: "FuzzAgentPlan",
            dependencies: [
                "FuzzSupport", .product(name: "SecretSync", package: "beluga-secrets"),
                .product(name: "Sealing", package: "beluga-secrets"),
                .product(name: "KubeAPI", package: "beluga-secrets"),
                .product(name: "TimeFormat", package: "beluga-secrets"),
            ]),
        .executableTarget(
            name: "FuzzEnvelope",
            dependencies: [
                "FuzzSupport", .product(name: "Sealing", package: "beluga-secrets"),
                .product(name: "TimeFormat", package: "beluga-secrets"),
            ]),
        .executableTarget(
            name: "FuzzKubeconfig",
            dependencies: [
                "FuzzSupport", .product(name: "KubeAPI", package: "beluga-secrets"),
                .product(name: "YAML", package: "beluga-secrets"),
            ]),
        .executableTarget(
            name: "FuzzWatchEvents",
            dependencies: [
                "FuzzSupport", .product(name: "KubeAPI", package: "beluga-secrets"),
            ]),
    ]
)
