/// The clock the agent reads and waits on: any `Clock` measured in `Duration` (the continuous
/// clock in the product, a manual one in tests, as client-go's leader election takes one "to
/// allow for less flaky testing"), behind one concrete type so that the agent's types need no
/// generic parameter.
public struct AgentClock: Clock {
    /// A point in time: how long after the clock was made.
    public struct Instant: InstantProtocol {
        public var offset: Duration

        public func advanced(by duration: Duration) -> Instant { Instant(offset: offset + duration) }
        public func duration(to other: Instant) -> Duration { other.offset - offset }
        public static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.offset < rhs.offset }
    }

    private let elapsed: @Sendable () -> Duration
    private let sleeper: @Sendable (Duration) async throws -> Void

    public init<C: Clock>(_ clock: C) where C.Duration == Duration {
        let origin = clock.now
        elapsed = { origin.duration(to: clock.now) }
        sleeper = { try await clock.sleep(until: clock.now.advanced(by: $0), tolerance: nil) }
    }

    /// The continuous clock (it keeps counting while the machine sleeps).
    public static var continuous: AgentClock { AgentClock(ContinuousClock()) }

    public var now: Instant { Instant(offset: elapsed()) }
    public var minimumResolution: Duration { .zero }

    public func sleep(until deadline: Instant, tolerance: Duration? = nil) async throws {
        try await sleeper(max(.zero, now.duration(to: deadline)))
    }
}
