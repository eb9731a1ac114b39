import KubeAPI

/// The `resourceVersion` of the agent's own last write of each object it watches, so that the
/// watch event echoing that write does not start another reconcile that can only find nothing
/// to do.
///
/// Skipping the echo is safe because every such write is conditioned on the `resourceVersion`
/// the agent read: a change made by anyone else in between makes the write conflict, and any
/// later change arrives with a different version. The server may send the echo before the
/// write's answer reaches the agent, so a write is announced before it is sent, and the echo
/// check waits for the answer of a write in flight.
actor OwnWrites {
    private struct Object: Hashable {
        var kind: String
        var namespace: String
        var name: String

        init<T: KubeObject>(_ type: T.Type, namespace: String, name: String) {
            kind = T.resource.plural
            self.namespace = namespace
            self.name = name
        }
    }

    private var versions: [Object: String] = [:]
    private var inFlight: [Object: Int] = [:]
    private var waiters: [Object: [CheckedContinuation<Void, Never>]] = [:]

    /// A write of the object is about to be sent.
    func begin<T: KubeObject>(_ type: T.Type, namespace: String, name: String) {
        inFlight[Object(type, namespace: namespace, name: name), default: 0] += 1
    }

    /// The write ended: with the object's new `resourceVersion`, or `nil` when it failed.
    func end<T: KubeObject>(_ type: T.Type, namespace: String, name: String, version: String?) {
        let key = Object(type, namespace: namespace, name: name)
        if let version { versions[key] = version }
        let remaining = (inFlight[key] ?? 1) - 1
        inFlight[key] = remaining > 0 ? remaining : nil
        if remaining <= 0, let waiting = waiters.removeValue(forKey: key) {
            for waiter in waiting { waiter.resume() }
        }
    }

    /// Whether `object`, as a watch delivered it, is exactly what the agent's last write left
    /// (after the answers of the writes in flight have come).
    func isEcho<T: KubeObject>(_ object: T?, namespace: String) async -> Bool {
        guard let object, let version = object.resourceVersion else { return false }
        let key = Object(T.self, namespace: object.namespace ?? namespace, name: object.name)
        while inFlight[key] != nil {
            await withCheckedContinuation { waiters[key, default: []].append($0) }
        }
        return versions[key] == version
    }
}
