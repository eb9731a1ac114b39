/// The one rule for repeating a read-modify-write after optimistic-concurrency conflicts, after
/// client-go's `retry.RetryOnConflict`: every conflict means another writer succeeded, so the
/// edit is replayed on a fresh read, after a pause that grows with the attempts and is jittered
/// (writers that collided must not collide again in lockstep), until it succeeds, or the
/// attempts or the deadline run out, and then it always throws.
public struct ConflictRetry: Sendable {
    /// Attempts in all, the first included.
    public var maximumAttempts: Int
    /// How long after the first attempt a conflict may still be retried.
    public var deadline: Duration
    /// The ceiling of the pause before the second attempt; it doubles up to `maximumDelay`.
    public var initialDelay: Duration
    public var maximumDelay: Duration

    public init(maximumAttempts: Int, deadline: Duration, initialDelay: Duration, maximumDelay: Duration) {
        self.maximumAttempts = max(1, maximumAttempts)
        self.deadline = deadline
        self.initialDelay = initialDelay
        self.maximumDelay = maximumDelay
    }

    /// Workstation writers: many may write one object at once (a pipeline setting dozens of keys
    /// in parallel), and all should get through on a slow or busy server.
    public static let standard = ConflictRetry(
        maximumAttempts: 100, deadline: .seconds(30), initialDelay: .milliseconds(40),
        maximumDelay: .milliseconds(500))

    /// The agent: only the leader writes its objects, so a conflict is rare and short; when one
    /// outlasts this, the agent reports it and its work queue tries again later, instead of
    /// holding up the namespace.
    public static let agent = ConflictRetry(
        maximumAttempts: 8, deadline: .seconds(10), initialDelay: .milliseconds(20),
        maximumDelay: .milliseconds(250))

    /// The pause before attempt `attempt` (2 for the first retry): jittered between a quarter of
    /// and the whole of a ceiling that doubles with each attempt.
    public func delay(beforeAttempt attempt: Int) -> Duration {
        let exponent = min(max(attempt - 2, 0), 16)
        let ceiling = min(initialDelay * (1 << exponent), maximumDelay)
        let ceilingMicros = max(4, Int(ceiling / .microseconds(1)))
        return .microseconds(Int.random(in: ceilingMicros / 4...ceilingMicros))
    }

    /// Runs `body` (given the attempt number, from 1) until it returns or throws an error that is
    /// not a conflict; after a conflict, pauses and runs it again. When the attempts or the
    /// deadline run out, throws `exhausted(attempts, lastError)`: it never gives up silently.
    public func run<Result, Failure: Error>(
        isolation: isolated (any Actor)? = #isolation,
        isConflict: (Failure) -> Bool,
        exhausted: (_ attempts: Int, _ last: Failure) -> Failure,
        _ body: (_ attempt: Int) async throws(Failure) -> Result
    ) async throws(Failure) -> Result {
        let clock = ContinuousClock()
        let started = clock.now
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try await body(attempt)
            } catch  where isConflict(error) {
                guard attempt < maximumAttempts, clock.now - started < deadline else {
                    throw exhausted(attempt, error)
                }
                try? await Task.sleep(for: delay(beforeAttempt: attempt + 1))
            }
        }
    }

    /// `run` for calls that throw `KubeError`: a 409 (conflict, or a create that lost a race) is
    /// retried; when the retries run out, a `conflict` error names `object` and the attempts.
    public func run<Result>(
        isolation: isolated (any Actor)? = #isolation,
        object: String,
        _ body: (_ attempt: Int) async throws(KubeError) -> Result
    ) async throws(KubeError) -> Result {
        try await run(
            isConflict: \.isConflict,
            exhausted: { attempts, last in
                KubeError(
                    .conflict,
                    "\(object) kept changing while it was written (\(attempts) attempts): try again",
                    httpStatus: last.httpStatus, reason: last.reason)
            }, body)
    }
}

extension KubeError {
    /// A 409: the object changed since it was read, or a create lost a race with another.
    public var isConflict: Bool { category == .conflict || category == .alreadyExists }
}
