import Foundation

/// Reads the Secret over and over while a scenario runs and keeps every value it saw that is
/// not one of the values written: a half-written, mixed or foreign value would show up here.
final class SecretObserver: @unchecked Sendable {
    private let lock = NSLock()
    private var foreign: [String] = []
    private var reads = 0
    private var allowed: [String: Set<String>]
    private var task: Task<Void, Never>?

    /// Watches `keys` of the Secret in `namespace`; a key may be absent, or hold an allowed value.
    init(cluster: ReliabilityCluster, allowed: [String: Set<String>], namespace: String? = nil) {
        self.allowed = allowed
        task = Task { [weak self] in
            while !Task.isCancelled {
                guard let self else { return }
                if let values = try? await cluster.secretValues(namespace: namespace) {
                    self.check(values)
                }
                try? await Task.sleep(for: .milliseconds(15))
            }
        }
    }

    /// Allows one more value of `key` (written after the observer started).
    func allow(_ value: String, for key: String) {
        _ = lock.withLock { allowed[key, default: []].insert(value) }
    }

    private func check(_ values: [String: String]) {
        lock.withLock {
            reads += 1
            for (key, allowedValues) in allowed {
                if let value = values[key], !allowedValues.contains(value) {
                    foreign.append(key)
                }
            }
        }
    }

    /// Stops reading; the keys seen holding a value never written, and how many reads were made.
    func stop() -> (foreign: [String], reads: Int) {
        task?.cancel()
        return lock.withLock { (foreign, reads) }
    }
}
