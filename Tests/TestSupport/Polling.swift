import Foundation

/// Checks `condition` every `interval` until it holds or `timeout` seconds have passed, then once
/// more; whether it held. For what has no event to await, such as a process's output.
func poll(timeout: Double, every interval: Duration, _ condition: () -> Bool) async -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if condition() { return true }
        try? await Task.sleep(for: interval)
    }
    return condition()
}
