import JSONValue
import KubeAPI
import Logging

/// Leader election on a `coordination.k8s.io/v1` Lease, with client-go's algorithm: a
/// candidate takes the lease when its holder has not renewed it for `leaseDuration` (measured
/// on the candidate's own clock from when it last saw the lease change, so clocks need not
/// agree); the leader renews every `retryPeriod` and stops leading when it could not renew for
/// `renewDeadline`, before any standby may take over. Updates carry the `resourceVersion` read,
/// so two candidates never both succeed. Time is read from the clock it is given (tests move a
/// manual one).
public actor LeaderElector {
    public let namespace: String
    public let leaseName: String
    public let identity: String
    public let timing: LeaseTiming
    private let client: KubeClient
    private let logger: Logger
    private let clock: AgentClock

    /// Whether this replica holds the lease, as of its last successful renewal.
    public private(set) var isLeader = false
    /// When this replica last talked to the API server about the lease successfully.
    public private(set) var lastContact: AgentClock.Instant?
    /// The holder last seen, for logs and `status`.
    public private(set) var observedHolder: String?

    /// Set by `release()`: from then on this replica never takes or renews the lease, so a
    /// renewal still in flight cannot take back the lease just given up.
    private var released = false
    private var observedRecord: JSON?
    private var observedTime: AgentClock.Instant
    private var lastRenewal: AgentClock.Instant

    public init(
        client: KubeClient, namespace: String, leaseName: String, identity: String, timing: LeaseTiming,
        logger: Logger, clock: AgentClock = .continuous
    ) {
        self.clock = clock
        observedTime = clock.now
        lastRenewal = clock.now
        self.client = client
        self.namespace = namespace
        self.leaseName = leaseName
        self.identity = identity
        self.timing = timing
        self.logger = logger
    }

    /// Tries every `retryPeriod` until this replica holds the lease; returns `false` when the
    /// calling task is cancelled first.
    public func acquire() async -> Bool {
        var announced = false
        while !Task.isCancelled {
            if await tryAcquireOrRenew() {
                logger.info("became the leader", metadata: ["lease": "\(namespace)/\(leaseName)"])
                return true
            }
            if !announced, let holder = observedHolder, !holder.isEmpty {
                logger.info("standing by", metadata: ["leader": "\(holder)"])
                announced = true
            }
            do {
                try await clock.sleep(for: jittered(timing.retryPeriod))
            } catch {
                return false
            }
        }
        return false
    }

    /// Renews every `retryPeriod` while this replica leads; returns when a renewal has not
    /// succeeded for `renewDeadline` (leadership lost) or the calling task is cancelled.
    public func holdLeadership() async {
        while isLeader && !Task.isCancelled {
            do {
                try await clock.sleep(for: timing.retryPeriod)
            } catch {
                return
            }
            if await tryAcquireOrRenew() { continue }
            if lastRenewal.duration(to: clock.now) >= timing.renewDeadline || !isLeader {
                isLeader = false
                AgentMetrics.leader(false)
                logger.warning(
                    "lost the leadership",
                    metadata: ["lease": "\(namespace)/\(leaseName)", "holder": "\(observedHolder ?? "")"])
                return
            }
        }
    }

    /// Gives the lease up so that a standby takes over at once (client-go's
    /// `ReleaseOnCancel`): empty holder, a one-second duration. A renewal racing with it makes
    /// the write conflict; the lease is then read again, a few times at most.
    public func release() async {
        released = true
        guard isLeader else { return }
        isLeader = false
        AgentMetrics.leader(false)
        do {
            let released = try await Self.releaseRetry.run(object: "Lease \(namespace)/\(leaseName)") {
                (_: Int) async throws(KubeError) -> Bool in
                var lease = try await client.get(Lease.self, name: leaseName, namespace: namespace)
                guard lease.holderIdentity == identity else { return false }
                let now = KubeTime.microTime()
                lease.holderIdentity = ""
                lease.leaseDurationSeconds = 1
                lease.acquireTime = now
                lease.renewTime = now
                _ = try await client.replace(lease, namespace: namespace)
                return true
            }
            if released {
                logger.info("released the lease", metadata: ["lease": "\(namespace)/\(leaseName)"])
            }
        } catch {
            logger.warning(
                "could not release the lease; a standby takes over when it expires",
                metadata: ["error": "\(error)"])
        }
    }

    /// A release happens while the agent stops: a few quick attempts, then the lease expires.
    static let releaseRetry = ConflictRetry(
        maximumAttempts: 3, deadline: .seconds(2), initialDelay: .milliseconds(10),
        maximumDelay: .milliseconds(50))

    /// One attempt, as client-go's `tryAcquireOrRenew`.
    func tryAcquireOrRenew() async -> Bool {
        guard !released else { return false }
        let now = KubeTime.microTime()
        let seconds = Int(
            (Double(timing.leaseDuration.components.seconds) + Double(
                timing.leaseDuration.components.attoseconds) / 1e18).rounded(.up))
        let existing: Lease?
        do {
            existing = try await client.getIfPresent(Lease.self, name: leaseName, namespace: namespace)
        } catch {
            logger.debug("could not read the lease", metadata: ["error": "\(error)"])
            return false
        }
        lastContact = clock.now
        guard var lease = existing else {
            var fresh = Lease(name: leaseName, namespace: namespace)
            fresh.holderIdentity = identity
            fresh.leaseDurationSeconds = seconds
            fresh.acquireTime = now
            fresh.renewTime = now
            fresh.leaseTransitions = 0
            do {
                let created = try await client.create(fresh, namespace: namespace)
                observe(created, mine: true)
                return true
            } catch {
                logger.debug("could not create the lease", metadata: ["error": "\(error)"])
                return false
            }
        }
        let record = lease.json["spec"] ?? .object([:])
        if record != observedRecord {
            observedRecord = record
            observedTime = clock.now
        }
        observedHolder = lease.holderIdentity
        let holder = lease.holderIdentity ?? ""
        let held = !holder.isEmpty && holder != identity
        let duration = Duration.seconds(lease.leaseDurationSeconds ?? seconds)
        if held && clock.now < observedTime.advanced(by: duration) {
            if isLeader {
                // Someone else holds it: this replica must not act as leader any longer.
                isLeader = false
                AgentMetrics.leader(false)
            }
            return false
        }
        if holder != identity {
            lease.acquireTime = now
            lease.leaseTransitions = (lease.leaseTransitions ?? 0) + 1
        }
        lease.holderIdentity = identity
        lease.leaseDurationSeconds = seconds
        lease.renewTime = now
        // Released while the lease was being read: give it up, do not take it back.
        guard !released else { return false }
        do {
            let updated = try await client.replace(lease, namespace: namespace)
            observe(updated, mine: true)
            return true
        } catch {
            logger.debug("could not update the lease", metadata: ["error": "\(error)"])
            return false
        }
    }

    private func observe(_ lease: Lease, mine: Bool) {
        observedRecord = lease.json["spec"] ?? .object([:])
        observedTime = clock.now
        observedHolder = lease.holderIdentity
        if mine {
            lastRenewal = clock.now
            if !isLeader { AgentMetrics.leader(true) }
            isLeader = true
        }
    }

    /// client-go adds up to 20 % jitter to the acquire period, so candidates do not collide.
    private func jittered(_ period: Duration) -> Duration {
        period + period * Double.random(in: 0..<0.2)
    }
}
