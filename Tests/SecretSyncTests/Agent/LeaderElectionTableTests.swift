import Foundation
import JSONValue
import KubeAPI
import KubeEmulator
import Logging
import Testing
import TimeFormat

@testable import SecretSync
import TestSupport

/// The leader election's decisions, table-driven like client-go's `TestTryAcquireOrRenew`:
/// each case puts a Lease as another replica left it, lets time pass on a manual clock (the
/// elector measures expiry from when it saw the lease change, on its own clock), and checks
/// whether the candidate takes the lease and what the Lease says then.
struct LeaderElectionTableTests {
    static let timing = LeaseTiming(
        leaseDuration: .seconds(15), renewDeadline: .seconds(10), retryPeriod: .seconds(2))

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        /// The holder of the Lease before the candidate looks (nil: no Lease; "": released).
        var holder: String?
        /// The `renewTime` the holder wrote, relative to the real time (another replica's clock
        /// may be skewed: it must not matter).
        var renewTimeOffset: TimeInterval = 0
        var leaseSeconds: Int = 15
        /// Time passed on the candidate's clock between its first look and its second.
        var elapsed: Duration
        /// Whether the holder renewed (changed the Lease) in between.
        var holderRenewed = false
        var acquiredAtSecondLook: Bool
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "no lease: taken", holder: nil, elapsed: .zero, acquiredAtSecondLook: true),
        Case(name: "released lease: taken", holder: "", elapsed: .zero, acquiredAtSecondLook: true),
        Case(
            name: "held and fresh: standby", holder: "agent-b", elapsed: .seconds(14),
            acquiredAtSecondLook: false),
        Case(
            name: "held, unchanged for the lease duration: expired, taken", holder: "agent-b",
            elapsed: .seconds(15), acquiredAtSecondLook: true),
        Case(
            name: "held, renewed in between: standby", holder: "agent-b", elapsed: .seconds(20),
            holderRenewed: true, acquiredAtSecondLook: false),
        Case(
            name: "holder's clock an hour behind: still held", holder: "agent-b", renewTimeOffset: -3600,
            elapsed: .seconds(5), acquiredAtSecondLook: false),
        Case(
            name: "holder's clock an hour ahead: expires all the same", holder: "agent-b",
            renewTimeOffset: 3600, elapsed: .seconds(16), acquiredAtSecondLook: true),
        Case(
            name: "the holder's own, shorter lease duration counts", holder: "agent-b", leaseSeconds: 3,
            elapsed: .seconds(4), acquiredAtSecondLook: true),
    ]

    func putLease(_ fixture: EmulatorFixture, holder: String, renewTimeOffset: TimeInterval, seconds: Int)
        async throws
    {
        let time = KubeTime.microTime(
            UnixTime(secondsSince1970: Date().timeIntervalSince1970 + renewTimeOffset))
        try await fixture.emulator.put([
            "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
            "metadata": ["name": "beluga-secrets-agent", "namespace": "default"],
            "spec": [
                "holderIdentity": .string(holder), "leaseDurationSeconds": .int(seconds),
                "acquireTime": .string(time), "renewTime": .string(time), "leaseTransitions": 3,
            ],
        ])
    }

    func lease(_ fixture: EmulatorFixture) async throws -> JSON? {
        try await fixture.emulator.object("leases", namespace: "default", name: "beluga-secrets-agent")
    }

    func elector(_ fixture: EmulatorFixture, clock: ManualClock, identity: String = "agent-a") throws
        -> LeaderElector
    {
        let client = try KubeClient(
            options: ClientConfiguration.Options(kubeconfig: fixture.kubeconfigPath, environment: [:]))
        return LeaderElector(
            client: client, namespace: "default", leaseName: "beluga-secrets-agent", identity: identity,
            timing: Self.timing, logger: Logger(label: "test"), clock: AgentClock(clock))
    }

    @Test(arguments: cases)
    func tryAcquireOrRenew(_ test: Case) async throws {
        try await withEmulator(KubeEmulator.Options()) { fixture in
            if let holder = test.holder {
                try await putLease(
                    fixture, holder: holder, renewTimeOffset: test.renewTimeOffset, seconds: test.leaseSeconds
                )
            }
            let clock = ManualClock()
            let candidate = try elector(fixture, clock: clock)
            let first = await candidate.tryAcquireOrRenew()
            if test.elapsed == .zero {
                #expect(first == test.acquiredAtSecondLook)
            } else {
                #expect(first == false, "a held lease is never taken at the first look")
                if test.holderRenewed {
                    clock.advance(by: test.elapsed - .seconds(1))
                    try await putLease(
                        fixture, holder: "agent-b", renewTimeOffset: 0, seconds: test.leaseSeconds)
                    _ = await candidate.tryAcquireOrRenew()
                    clock.advance(by: .seconds(1))
                } else {
                    clock.advance(by: test.elapsed)
                }
                #expect(await candidate.tryAcquireOrRenew() == test.acquiredAtSecondLook)
            }
            let spec = try await lease(fixture)?["spec"]
            let expectedHolder = test.acquiredAtSecondLook ? "agent-a" : test.holder
            #expect(spec?["holderIdentity"]?.stringValue == expectedHolder)
            #expect(await candidate.isLeader == test.acquiredAtSecondLook)
            if test.acquiredAtSecondLook, test.holder == "agent-b" {
                // A change of holder counts a transition and stamps the acquire time.
                #expect(spec?["leaseTransitions"]?.intValue == 4)
                #expect(spec?["leaseDurationSeconds"]?.intValue == 15)
            }
        }
    }

    /// A leader that cannot renew keeps leading until the renew deadline, then steps down,
    /// before any standby (which waits a whole lease duration) may take over.
    @Test func aLeaderThatCannotRenewStepsDownAtTheRenewDeadline() async throws {
        try await withEmulator(KubeEmulator.Options()) { fixture in
            let clock = ManualClock()
            let leader = try elector(fixture, clock: clock)
            #expect(await leader.tryAcquireOrRenew())
            // Every read and write of the Lease is refused from now on.
            fixture.emulator.faults.update {
                $0.errors = [
                    FaultPlan.ErrorFault(code: 403, match: FaultPlan.Match(resources: ["leases"]))
                ]
            }
            let holding = Task { await leader.holdLeadership() }
            var waited: Duration = .zero
            while waited < Self.timing.renewDeadline {
                try await eventually("the leader waits for its next renewal") { clock.sleepers > 0 }
                #expect(await leader.isLeader, "still leading after \(waited) without a renewal")
                clock.advance(by: Self.timing.retryPeriod)
                waited += Self.timing.retryPeriod
            }
            await holding.value
            #expect(await leader.isLeader == false)
            #expect(waited < Self.timing.leaseDuration)
        }
    }

    /// A release racing with renewals: whichever order the writes land in, the lease ends free,
    /// and the released replica never takes it back.
    @Test func aReleaseRacingARenewalLeavesTheLeaseFree() async throws {
        try await withEmulator(KubeEmulator.Options()) { fixture in
            let clock = ManualClock()
            let leader = try elector(fixture, clock: clock)
            #expect(await leader.tryAcquireOrRenew())
            async let renewal = leader.tryAcquireOrRenew()
            async let release: Void = leader.release()
            _ = await (renewal, release)
            #expect(try await lease(fixture)?[path: "spec", "holderIdentity"]?.stringValue == "")
            #expect(await leader.tryAcquireOrRenew() == false)
            let standby = try elector(fixture, clock: clock, identity: "agent-b")
            #expect(await standby.tryAcquireOrRenew())
        }
    }
}
