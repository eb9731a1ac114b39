import Synchronization

/// Where a workstation workflow writes what it tells the operator, a line at a time: standard
/// output in the CLI, a buffer in tests (as kubeseal's functions take an `io.Writer`).
public protocol OutputSink: Sendable {
    func write(_ line: String)
}

/// Standard output; inside a multi-cluster run, the cluster's scope (`ClusterScope`).
public struct StandardOutputSink: OutputSink {
    public init() {}
    public func write(_ line: String) {
        if let scope = ClusterScope.current {
            scope.say(line)
        } else {
            print(line)
        }
    }
}

/// Keeps the lines, for tests.
public final class CapturedOutput: OutputSink {
    private let lines = Mutex<[String]>([])

    public init() {}

    public func write(_ line: String) { lines.withLock { $0.append(line) } }

    /// Everything written, one line each.
    public var text: String { lines.withLock { $0.map { $0 + "\n" }.joined() } }
}
