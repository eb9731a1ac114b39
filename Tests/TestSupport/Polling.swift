import Foundation
import Testing

/// Checks `condition` every `interval` until it holds or `timeout` has passed, then once more;
/// whether it held. The one polling loop of the tests: for what has no event to await, such as
/// a process's output or an object another process writes.
public func poll(
    timeout: Duration, every interval: Duration = .milliseconds(25), _ condition: () async throws -> Bool
) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: interval)
    }
    return try await condition()
}

/// Seconds, as the process helpers take them.
public func poll(timeout seconds: Double, every interval: Duration, _ condition: () -> Bool) async -> Bool {
    await poll(timeout: .milliseconds(Int(seconds * 1000)), every: interval, condition)
}

/// Waits until `condition` holds, polling; after `timeout` (generous: CI machines are loaded)
/// records an issue naming `what` and throws `TimedOut`, so a test never hangs and never goes on
/// as if the condition held.
public func eventually(
    _ what: String, timeout: Duration = .seconds(60), every interval: Duration = .milliseconds(25),
    sourceLocation: SourceLocation = #_sourceLocation, _ condition: () async throws -> Bool
) async throws {
    if try await poll(timeout: timeout, every: interval, condition) { return }
    Issue.record("timed out after \(timeout) waiting until \(what)", sourceLocation: sourceLocation)
    throw TimedOut(what: what)
}

/// A wait that ran out of time.
public struct TimedOut: Error, CustomStringConvertible {
    public var what: String
    public init(what: String) { self.what = what }
    public var description: String { "timed out waiting until \(what)" }
}
