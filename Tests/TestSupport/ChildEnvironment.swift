import Foundation

/// What the programs that tests start inherit from the test runner: the minimal environment of
/// a user's shell, plus the sanitizers' and the Swift crash reporter's settings, so that
/// `make test-sanitize` configures the programs under test as it configures the runner. Nothing
/// else of the runner's environment reaches them.
public enum ChildEnvironment {
    public static let inheritedVariables = [
        "PATH", "HOME", "LANG", "TMPDIR", "ASAN_OPTIONS", "LSAN_OPTIONS", "TSAN_OPTIONS", "SWIFT_BACKTRACE",
    ]

    /// The inherited variables (or, with `inheritAll`, the runner's whole environment) with
    /// `environment` on top.
    public static func make(adding environment: [String: String], inheritAll: Bool = false) -> [String:
        String]
    {
        let parent = ProcessInfo.processInfo.environment
        var result = inheritAll ? parent : parent.filter { inheritedVariables.contains($0.key) }
        result.merge(environment) { _, new in new }
        return result
    }
}
