import KubeAPI

/// Runs an operation that waits for something in the cluster, and gives up after a time limit.
enum Deadline {
    /// The result of `operation`, or `ChangeError.timedOut` once `limit` has passed (the
    /// operation is then cancelled).
    static func run<T: Sendable>(
        _ limit: Duration, waitingFor: String, _ operation: @escaping @Sendable () async throws -> T
    ) async throws(ChangeError) -> T {
        do {
            return try await withThrowingTaskGroup(of: DeadlineFinish<T>.self) { group in
                group.addTask { .value(try await operation()) }
                group.addTask {
                    try await Task.sleep(for: limit)
                    return .timeout
                }
                defer { group.cancelAll() }
                guard case .value(let value)? = try await group.next() else {
                    throw ChangeError.timedOut(waitingFor: waitingFor, after: format(limit))
                }
                return value
            }
        } catch let error as ChangeError {
            throw error
        } catch let error as KubeError {
            throw .api(error)
        } catch {
            throw .api(KubeError(.server, "waiting for \(waitingFor) failed: \(error)"))
        }
    }

    /// `90s`, `2m`, `1h30m`: as the duration flags are written.
    static func format(_ duration: Duration) -> String {
        let seconds = Int(duration.components.seconds)
        if seconds == 0 { return "\(duration.components.attoseconds / 1_000_000_000_000_000)ms" }
        var text = ""
        if seconds >= 3600 { text += "\(seconds / 3600)h" }
        if seconds % 3600 >= 60 { text += "\(seconds % 3600 / 60)m" }
        if seconds % 60 > 0 || text.isEmpty { text += "\(seconds % 60)s" }
        return text
    }
}

/// Which of the racing tasks finished first.
private enum DeadlineFinish<T: Sendable>: Sendable {
    case value(T)
    case timeout
}
