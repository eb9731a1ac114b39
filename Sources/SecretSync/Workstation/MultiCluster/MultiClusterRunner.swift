import JSONValue

/// Runs one single-cluster workflow on several kubeconfig contexts at once.
///
/// Each context gets its own task and `ClusterScope`; the workflow runs there exactly as it does
/// for one cluster. A failure stays with its cluster: the others go on to their own end, and
/// every cluster's outcome (a value or the error it threw) is returned in the order the contexts
/// were given, for one summary.
public struct MultiClusterRunner: Sendable {
    /// The contexts, in the order given, each once.
    public let contexts: [String]
    /// Receives the lines said in each cluster's scope, with the context.
    public let sink: @Sendable (_ context: String, _ line: String) -> Void

    public init(contexts: [String], sink: @escaping @Sendable (_ context: String, _ line: String) -> Void) {
        var seen = Set<String>()
        self.contexts = contexts.filter { seen.insert($0).inserted }
        self.sink = sink
    }

    /// One cluster's outcome.
    public struct Run<Value: Sendable>: Sendable {
        public let context: String
        public let result: Result<Value, any Error>
        /// The last line the workflow said in this cluster.
        public let lastLine: String?
        /// The data the workflow kept instead of printing it (`ClusterScope.keep`).
        public let data: JSON?

        public init(context: String, result: Result<Value, any Error>, lastLine: String?, data: JSON? = nil) {
            self.context = context
            self.result = result
            self.lastLine = lastLine
            self.data = data
        }

        public var value: Value? { try? result.get() }
        public var error: (any Error)? {
            if case .failure(let error) = result { return error }
            return nil
        }
    }

    /// Runs `body` for each context concurrently and collects every outcome.
    public func run<Value: Sendable>(
        _ body: @escaping @Sendable (_ context: String) async throws -> Value
    ) async -> [Run<Value>] {
        await run(contexts.map { ($0, ()) }) { context, _ in try await body(context) }
    }

    /// Runs `body` for each context with its own input (the result of an earlier stage).
    public func run<Input: Sendable, Value: Sendable>(
        _ inputs: [(context: String, input: Input)],
        _ body: @escaping @Sendable (_ context: String, _ input: Input) async throws -> Value
    ) async -> [Run<Value>] {
        let sink = self.sink
        return await withTaskGroup(of: (Int, Run<Value>).self) { group in
            for (index, item) in inputs.enumerated() {
                group.addTask {
                    let scope = ClusterScope(context: item.context) { line in sink(item.context, line) }
                    let result: Result<Value, any Error>
                    do {
                        result = .success(
                            try await ClusterScope.$current.withValue(scope) {
                                try await body(item.context, item.input)
                            })
                    } catch {
                        result = .failure(error)
                    }
                    return (
                        index,
                        Run(context: item.context, result: result, lastLine: scope.lastLine, data: scope.data)
                    )
                }
            }
            var runs = [Run<Value>?](repeating: nil, count: inputs.count)
            for await (index, run) in group { runs[index] = run }
            return runs.compactMap { $0 }
        }
    }
}
