import KubeAPI
import TimeFormat

/// Who leads the agent's replicas, read from the Lease they elect on: its holder and when it
/// last renewed. A leader that stopped renewing for longer than the lease duration is gone.
public struct LeaderReport: Sendable, Equatable {
    /// The leading replica's identity; empty when the Lease has no holder.
    public var holder: String
    /// When the holder last renewed (RFC 3339 with microseconds), empty when unknown.
    public var renewTime: String
    /// How long a standby waits before it takes an unrenewed lease.
    public var leaseDurationSeconds: Int

    public init(lease: Lease) {
        holder = lease.holderIdentity ?? ""
        renewTime = lease.renewTime ?? ""
        leaseDurationSeconds = lease.leaseDurationSeconds ?? 15
    }

    /// Seconds since the last renewal; `nil` when unknown.
    public func secondsSinceRenewal(now: UnixTime = .now()) -> Double? {
        RFC3339.parse(renewTime).map { max(0, (now - $0).inSeconds) }
    }

    /// Whether a replica holds the lease and renewed it within its duration.
    public func isLive(now: UnixTime = .now()) -> Bool {
        guard !holder.isEmpty, let since = secondsSinceRenewal(now: now) else { return false }
        return since <= Double(leaseDurationSeconds)
    }
}
