/// Why a YAML text could not be read: where, and what libyaml or the reader found wrong. It
/// never quotes the text (a kubeconfig holds tokens and keys).
public struct YAMLError: Error, Sendable, Equatable, CustomStringConvertible {
    /// 1-based line and column, when known.
    public var line: Int?
    public var column: Int?
    public var problem: String

    public init(line: Int? = nil, column: Int? = nil, problem: String) {
        self.line = line
        self.column = column
        self.problem = problem
    }

    /// `line 3, column 7`, or empty when the position is not known.
    public var location: String {
        guard let line else { return "" }
        return column.map { "line \(line), column \($0)" } ?? "line \(line)"
    }

    public var description: String { location.isEmpty ? problem : "\(problem) at \(location)" }
}
