import TimeFormat

/// When and how long to wait before repeating a failed request: exponential backoff with full
/// jitter, and the server's `Retry-After` honoured (up to `maximumRetryAfter`).
///
/// A 429 and a refused connection are retried for every call (the server did not act on it);
/// a 5xx, a time-out or a broken connection only for reads, which cannot apply a change twice.
public struct RetryPolicy: Sendable {
    /// Attempts in all, the first included; 1 disables retries.
    public var maximumAttempts: Int
    public var initialBackoff: Duration
    public var maximumBackoff: Duration
    public var maximumRetryAfter: Duration

    public init(
        maximumAttempts: Int = 5, initialBackoff: Duration = .milliseconds(200),
        maximumBackoff: Duration = .seconds(10),
        maximumRetryAfter: Duration = .seconds(30)
    ) {
        self.maximumAttempts = max(1, maximumAttempts)
        self.initialBackoff = initialBackoff
        self.maximumBackoff = maximumBackoff
        self.maximumRetryAfter = maximumRetryAfter
    }

    public static let standard = RetryPolicy()
    public static let none = RetryPolicy(maximumAttempts: 1)

    /// The wait before retry number `retry` (1 for the first retry).
    func delay(beforeRetry retry: Int, retryAfter: Duration?) -> Duration {
        if let retryAfter {
            let capped = min(retryAfter, maximumRetryAfter)
            // A little jitter so that many clients told the same delay do not return together.
            let jitter = Double.random(in: 0...0.1) * min(capped, .seconds(1)).inSeconds
            return capped + .milliseconds(Int(jitter * 1000))
        }
        let exponent = min(retry - 1, 20)
        let ceiling = min(initialBackoff.inSeconds * Double(1 << exponent), maximumBackoff.inSeconds)
        // Full jitter, but never less than half the step, so that retries do spread out.
        let seconds = Double.random(in: (ceiling / 2)...ceiling)
        return .milliseconds(Int(seconds * 1000))
    }

    /// Parses `Retry-After`: seconds, or an HTTP date.
    static func parseRetryAfter(_ value: String?, now: UnixTime = .now()) -> Duration? {
        guard let value = value?.trimmingWhitespace(), !value.isEmpty else { return nil }
        if let seconds = Int(value) { return .seconds(max(0, seconds)) }
        guard let time = HTTPDate.parse(value) else { return nil }
        return max(.zero, time - now)
    }
}
