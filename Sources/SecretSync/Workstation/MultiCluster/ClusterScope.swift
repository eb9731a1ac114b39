import JSONValue
import Synchronization

/// The cluster a task works on while a command runs on several kubeconfig contexts at once.
///
/// The single-cluster workflows say what they do a line at a time; inside a scope those lines go
/// to the scope's sink, named by context, instead of standard output, so that clusters followed
/// at the same time stay apart, and the last line is kept for the command's summary.
public final class ClusterScope: Sendable {
    /// The kubeconfig context.
    public let context: String
    private let sink: @Sendable (String) -> Void
    private let last = Mutex<String?>(nil)
    private let kept = Mutex<JSON?>(nil)

    /// The scope of the current task; `nil` outside a multi-cluster run.
    @TaskLocal public static var current: ClusterScope?

    /// `sink` receives every line said in this scope, without the context (it adds it).
    public init(context: String, sink: @escaping @Sendable (String) -> Void) {
        self.context = context
        self.sink = sink
    }

    /// Says `line` for this cluster, and keeps it as the latest.
    public func say(_ line: String) {
        last.withLock { $0 = line }
        sink(line)
    }

    /// The last line said, for the summary.
    public var lastLine: String? { last.withLock { $0 } }

    /// Keeps what a reading command would print as data (`-o json|yaml`), to be printed with the
    /// other clusters' as one document.
    public func keep(_ data: JSON) { kept.withLock { $0 = data } }

    /// The data kept, if any.
    public var data: JSON? { kept.withLock { $0 } }
}
