/// The timing of leader election, as client-go's `LeaderElectionConfig` names it.
public struct LeaseTiming: Sendable, Equatable {
    /// How long a standby waits, after it last saw the lease change, before taking it over.
    public var leaseDuration: Duration
    /// How long the leader keeps trying to renew before it gives up leading.
    public var renewDeadline: Duration
    /// How often candidates try to acquire, and the leader renews.
    public var retryPeriod: Duration

    /// client-go's defaults (15 s, 10 s, 2 s), as used by Kubernetes' own controllers.
    public static let standard = LeaseTiming(
        leaseDuration: .seconds(15), renewDeadline: .seconds(10), retryPeriod: .seconds(2))

    public init(leaseDuration: Duration, renewDeadline: Duration, retryPeriod: Duration) {
        self.leaseDuration = leaseDuration
        self.renewDeadline = renewDeadline
        self.retryPeriod = retryPeriod
    }

    /// Why these timings cannot work, or `nil` (client-go's checks).
    public var problem: String? {
        if leaseDuration <= renewDeadline {
            return "the lease duration must be longer than the renew deadline"
        }
        if renewDeadline <= retryPeriod { return "the renew deadline must be longer than the retry period" }
        if retryPeriod <= .zero { return "the retry period must be positive" }
        return nil
    }
}
