import Foundation
import KubeEmulator
import Testing
import TestSupport

@testable import KubeAPI

/// Retries under faults the emulator injects: 429 with `Retry-After`, 503 and 500, for reads
/// and writes, and a server that accepts and never answers.
@Suite struct RetryTests {
    typealias Fault = FaultPlan.ErrorFault

    @Test func throttledReadsAndWritesWaitForRetryAfter() async throws {
        try await withEmulator { fixture in
            let client = try makeClient(kubeconfig: fixture.kubeconfigPath)
            _ = try await client.create(ConfigMap(name: "target"))
            fixture.emulator.faults.update {
                $0.errors = [
                    Fault(
                        code: 429, count: 2, retryAfterSeconds: 1,
                        match: .init(verbs: ["get"], resources: ["configmaps"]))
                ]
            }
            let started = ContinuousClock.now
            #expect(try await client.get(ConfigMap.self, name: "target").name == "target")
            #expect(ContinuousClock.now - started >= .milliseconds(1900), "Retry-After: 1 honoured twice")

            // A 429 means the server did nothing: even a create is sent again.
            fixture.emulator.faults.update {
                $0.errors = [
                    Fault(code: 429, count: 1, retryAfterSeconds: 0, match: .init(verbs: ["create"]))
                ]
            }
            _ = try await client.create(ConfigMap(name: "created-after-429"))
            #expect(
                try await fixture.emulator.object(
                    "configmaps", namespace: "default", name: "created-after-429")
                    != nil)
        }
    }

    @Test func unavailableServerIsRetriedForReadsOnly() async throws {
        try await withEmulator { fixture in
            let client = try makeClient(kubeconfig: fixture.kubeconfigPath)
            _ = try await client.create(ConfigMap(name: "target"))
            fixture.emulator.faults.update {
                $0.errors = [
                    Fault(code: 503, count: 3, retryAfterSeconds: 0, match: .init(verbs: ["get", "list"]))
                ]
            }
            #expect(try await client.get(ConfigMap.self, name: "target").name == "target")

            fixture.emulator.faults.update {
                $0.errors = [
                    Fault(code: 503, count: 1, retryAfterSeconds: 0, match: .init(verbs: ["create"]))
                ]
            }
            do {
                _ = try await client.create(ConfigMap(name: "not-repeated"))
                Issue.record("a create answered 503 must not be repeated")
            } catch let error as KubeError {
                #expect(error.category == .server)
                #expect(error.httpStatus == 503)
            }
            #expect(fixture.emulator.faults.plan.errors.first?.count == 0, "exactly one create was sent")

            fixture.emulator.faults.update {
                $0.errors = [Fault(code: 500, share: 1, retryAfterSeconds: 0, match: .init(verbs: ["list"]))]
            }
            do {
                _ = try await client.list(ConfigMap.self)
                Issue.record("a server that keeps failing ends in an error")
            } catch let error as KubeError {
                #expect(error.category == .server)
                #expect(error.message.contains("HTTP 500"))
                #expect(error.isTransient)
            }
        }
    }

    @Test func hangingServerTimesOut() async throws {
        try await withEmulator { fixture in
            fixture.emulator.faults.update { $0.hang = .init(verbs: ["get"], resources: ["secrets"]) }
            let client = try makeClient(kubeconfig: fixture.kubeconfigPath) {
                $0.transport.requestTimeout = .milliseconds(700)
                $0.retryPolicy = .none
            }
            do {
                _ = try await client.get(Secret.self, name: "anything")
                Issue.record("expected a time-out")
            } catch let error as KubeError {
                #expect(error.category == .timeout)
                #expect(error.message.contains(fixture.emulator.url))
            }
            // The server still answers other calls (a client with a time limit that suits a busy
            // test machine).
            _ = try await makeClient(kubeconfig: fixture.kubeconfigPath).list(ConfigMap.self)
        }
    }

    @Test func manyConcurrentCallsShareTheClient() async throws {
        try await withEmulator { fixture in
            let client = try makeClient(kubeconfig: fixture.kubeconfigPath)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<60 {
                    group.addTask { _ = try await client.create(ConfigMap(name: "parallel-\(index)")) }
                }
                try await group.waitForAll()
            }
            #expect(
                try await client.listAll(ConfigMap.self).items.filter { $0.name.hasPrefix("parallel-") }.count
                    == 60)
        }
    }
}
