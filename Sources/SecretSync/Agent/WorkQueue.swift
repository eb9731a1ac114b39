/// Namespaces waiting for a reconcile, each at most once, in the order they were marked; one
/// consumer takes them. A namespace marked while it is being reconciled is reconciled again.
actor WorkQueue {
    private var pending: [String] = []
    private var waiter: CheckedContinuation<String?, Never>?
    private var closed = false

    func mark(_ namespace: String) {
        guard !closed else { return }
        if let waiter {
            self.waiter = nil
            waiter.resume(returning: namespace)
            return
        }
        if !pending.contains(namespace) { pending.append(namespace) }
    }

    /// The next namespace; `nil` once closed.
    func next() async -> String? {
        if closed { return nil }
        if !pending.isEmpty { return pending.removeFirst() }
        return await withCheckedContinuation { waiter = $0 }
    }

    /// Stops handing out work; a waiting consumer gets `nil`.
    func close() {
        closed = true
        pending = []
        waiter?.resume(returning: nil)
        waiter = nil
    }
}
