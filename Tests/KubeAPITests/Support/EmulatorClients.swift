import Foundation
import KubeEmulator
import TestSupport

@testable import KubeAPI

/// A client configured from a kubeconfig file exactly as the CLI would be (`--kubeconfig`).
func makeClient(
    kubeconfig path: String, context: String? = nil, namespace: String? = nil,
    adjust: (inout ClientConfiguration) -> Void = { _ in }
) throws(KubeError) -> KubeClient {
    var configuration = try ClientConfiguration.load(
        .init(
            kubeconfig: path, context: context, namespace: namespace,
            environment: isolatedEnvironment(home: "/nonexistent-home"), allowInCluster: false))
    configuration.retryPolicy = RetryPolicy(maximumAttempts: 4, initialBackoff: .milliseconds(20))
    adjust(&configuration)
    return try KubeClient(configuration: configuration)
}

/// Runs `body`, failing with `TimedOut` after `seconds` (generous: the machine may be busy).
func within<T: Sendable>(
    _ seconds: Double, _ what: String, _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: .seconds(seconds))
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let value = first else { throw TimedOut(what: what) }
        return value
    }
}
