/// Namespaces waiting for a reconcile, each at most once, in the order they were marked; one
/// consumer takes them. A namespace marked while it is being reconciled is reconciled again.
///
/// A namespace whose work failed comes back after a delay that grows with its consecutive
/// failures (client-go's rate-limited queue: `markRateLimited`, `forget`), so the agent's one
/// way of trying again is this queue.
actor WorkQueue {
    private var pending: [String] = []
    private var waiter: CheckedContinuation<String?, Never>?
    private var closed = false
    private var failures: [String: Int] = [:]
    private var delayed: [String: Task<Void, Never>] = [:]
    private let sleep: @Sendable (Duration) async throws -> Void

    /// `sleep` waits for a requeue's delay (the agent's clock).
    init(sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }) {
        self.sleep = sleep
    }

    func mark(_ namespace: String) {
        guard !closed else { return }
        if let waiter {
            self.waiter = nil
            waiter.resume(returning: namespace)
            return
        }
        if !pending.contains(namespace) { pending.append(namespace) }
    }

    /// The delay after `failures` consecutive failures: exponential from 200 ms, capped at 5 s
    /// (few objects, and a watch event marks the namespace at once anyway).
    static func delay(afterFailures failures: Int) -> Duration {
        .milliseconds(min(5_000, 200 * (1 << min(max(failures, 1) - 1, 5))))
    }

    /// Marks `namespace` again once the delay its consecutive failures call for has passed;
    /// returns that delay. A namespace already waiting keeps its earlier turn.
    @discardableResult
    func markRateLimited(_ namespace: String) -> Duration {
        let count = (failures[namespace] ?? 0) + 1
        failures[namespace] = count
        let delay = Self.delay(afterFailures: count)
        guard !closed, delayed[namespace] == nil else { return delay }
        let sleep = self.sleep
        delayed[namespace] = Task {
            do {
                try await sleep(delay)
            } catch {
                return
            }
            self.requeue(namespace)
        }
        return delay
    }

    private func requeue(_ namespace: String) {
        delayed[namespace] = nil
        mark(namespace)
    }

    /// Clears the failures of `namespace` (its work succeeded).
    func forget(_ namespace: String) {
        failures[namespace] = nil
    }

    /// The next namespace; `nil` once closed.
    func next() async -> String? {
        if closed { return nil }
        if !pending.isEmpty { return pending.removeFirst() }
        return await withCheckedContinuation { waiter = $0 }
    }

    /// Stops handing out work; a waiting consumer gets `nil`, and delayed requeues are dropped.
    func close() {
        closed = true
        pending = []
        for task in delayed.values { task.cancel() }
        delayed = [:]
        waiter?.resume(returning: nil)
        waiter = nil
    }
}
