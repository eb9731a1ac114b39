import Foundation
import Testing

/// The reliability suite (issue "Benchmarks … and a reliability suite that tries to break it"):
/// the real agent and CLI processes against the emulator, attacked with concurrency, API
/// faults, crashes, failover and bad input, every value a leak marker. The scenarios run one
/// after the other: each starts many processes, and they share a small machine with the rest
/// of `make test`. `BELUGA_SOAK_ROUNDS` raises the counts (docs/reliability.md).
@Suite(.serialized) struct ReliabilityTests {}

/// Runs `body` against a fresh cluster and always stops it (processes killed, emulator stopped).
func withCluster(
    namespaces: [String] = [], _ body: (ReliabilityCluster) async throws -> Void
) async throws {
    let cluster = try await ReliabilityCluster.start(namespaces: namespaces)
    do {
        try await body(cluster)
    } catch {
        await cluster.stop()
        throw error
    }
    await cluster.stop()
}
