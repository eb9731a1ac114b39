import Foundation
import KubeAPI
import KubeEmulator
import Logging
import Testing

@testable import SecretSync
import TestSupport

/// The Lease protocol on its own, against the emulator.
struct LeaderElectorTests {
    let timing = LeaseTiming(
        leaseDuration: .seconds(6), renewDeadline: .seconds(4), retryPeriod: .milliseconds(250))

    func elector(_ identity: String, _ fixture: EmulatorFixture) throws -> LeaderElector {
        let client = try KubeClient(
            options: ClientConfiguration.Options(kubeconfig: fixture.kubeconfigPath, environment: [:]))
        return LeaderElector(
            client: client, namespace: "default", leaseName: "beluga-secrets-agent", identity: identity,
            timing: timing, logger: Logger(label: "test"))
    }

    func holder(_ fixture: EmulatorFixture) async throws -> String? {
        try await fixture.emulator.object("leases", namespace: "default", name: "beluga-secrets-agent")?[
            path: "spec", "holderIdentity"]?.stringValue
    }

    /// A renewal still in flight when the lease is released must not take the free lease
    /// back: the standby would then wait out a whole lease duration.
    @Test func aReleasedLeaseIsNeverTakenBackByTheSameReplica() async throws {
        try await withEmulator(KubeEmulator.Options()) { fixture in
            let leader = try elector("agent-a", fixture)
            #expect(await leader.acquire())
            #expect(try await holder(fixture) == "agent-a")

            await leader.release()
            #expect(try await holder(fixture) == "")
            #expect(await leader.tryAcquireOrRenew() == false)
            #expect(await leader.isLeader == false)
            #expect(try await holder(fixture) == "")

            // A standby takes the released lease at its first attempt.
            let standby = try elector("agent-b", fixture)
            #expect(await standby.tryAcquireOrRenew())
            #expect(try await holder(fixture) == "agent-b")
        }
    }

    /// Renewals racing with the release make its write conflict; the release reads the lease
    /// again and still gives it up.
    @Test func releaseWinsOverConcurrentRenewals() async throws {
        try await withEmulator(KubeEmulator.Options()) { fixture in
            for round in 0..<10 {
                let leader = try elector("agent-\(round)", fixture)
                // The previous round released the lease, so this replica takes it at once.
                #expect(await leader.tryAcquireOrRenew())
                await withTaskGroup(of: Void.self) { group in
                    for _ in 0..<2 { group.addTask { _ = await leader.tryAcquireOrRenew() } }
                    group.addTask { await leader.release() }
                }
                #expect(try await holder(fixture) == "", "round \(round)")
            }
        }
    }
}
