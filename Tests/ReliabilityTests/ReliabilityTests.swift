import Foundation
import Testing
import TestSupport

/// The reliability suite: the real agent and CLI processes against the emulator, attacked with
/// concurrency, API faults, crashes, failover and bad input, every value a leak marker.
///
/// It starts hundreds of processes, so it runs on its own, after the other suites (which run in
/// parallel with each other and have timing of their own): `make test` runs it as a separate
/// step (`make reliability`), `make soak` with higher counts. A plain `swift test` skips it
/// unless `BELUGA_RELIABILITY=1` or `BELUGA_SOAK_ROUNDS` is set. The scenarios run one after
/// the other for the same reason. docs/reliability.md lists scenarios and counts.
@Suite(.serialized, .enabled(if: reliabilitySuiteEnabled, "set BELUGA_RELIABILITY=1 (make reliability)"))
struct ReliabilityTests {}

/// Whether the environment asks for the reliability suite.
let reliabilitySuiteEnabled: Bool = {
    let environment = ProcessInfo.processInfo.environment
    return !(environment["BELUGA_RELIABILITY"] ?? "").isEmpty
        || !(environment["BELUGA_SOAK_ROUNDS"] ?? "").isEmpty
}()

/// Runs `body` against a fresh cluster and always stops it (processes killed, emulator stopped).
func withCluster(
    namespaces: [String] = [], _ body: (ReliabilityCluster) async throws -> Void
) async throws {
    try await withStarted(try await ReliabilityCluster.start(namespaces: namespaces), body)
}
