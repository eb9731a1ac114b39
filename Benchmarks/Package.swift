// swift-tools-version:6.1
// The in-process benchmarks of beluga-secrets (`make bench` runs them), in a package of their
// own so that `make test` never builds the benchmark harness. They measure the root package's
// libraries as a user of them would link them.
import PackageDescription

let package = Package(
    name: "beluga-secrets-benchmarks",
    platforms: [.macOS(.v13)],
    dependencies: [
        .package(name: "beluga-secrets", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        // The libsodium limit: a plain C loop over crypto_box_seal_open, the baseline the
        // agent's open path is compared with.
        .target(
            name: "SodiumBaseline", path: "Sources/SodiumBaseline",
            linkerSettings: [.linkedLibrary("sodium")]),
        .executableTarget(
            name: "SealingBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "Sealing", package: "beluga-secrets"),
                "SodiumBaseline",
            ],
            path: "Benchmarks/SealingBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]),
    ]
)
