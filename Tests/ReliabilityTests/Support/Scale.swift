import Foundation

/// How hard the suite pushes: the bounded counts of `make test`, or, with
/// `BELUGA_SOAK_ROUNDS=N` in the environment (`make soak` sets 200), the counts of the issue
/// (docs/reliability.md lists both).
struct Scale: Sendable {
    /// Rotations made while the API server fails requests and drops watches.
    var faultRotations: Int
    /// SIGKILLs of the agent during rotations.
    var crashKills: Int
    /// Leaders killed, one after the other, while rotations are under way.
    var failovers: Int
    /// Keys written at once for the agent to apply (spread over namespaces).
    var manyKeys: Int
    /// Namespaces the keys are spread over (a sealed store holds about 1,500 keys at most: its
    /// version records live in an annotation, and Kubernetes allows 256 KiB of them).
    var manyKeyNamespaces: Int
    /// `set` processes started at the same moment, for distinct keys.
    var concurrentSets = 50
    /// `rotate` processes started at the same moment for one key.
    var concurrentRotations = 10
    /// Whether this is a soak run.
    var soak: Bool

    static let current: Scale = {
        let text = ProcessInfo.processInfo.environment["BELUGA_SOAK_ROUNDS"] ?? ""
        guard let rounds = Int(text), rounds > 0 else {
            return Scale(
                faultRotations: 40, crashKills: 12, failovers: 2, manyKeys: 2_000, manyKeyNamespaces: 4,
                soak: false)
        }
        return Scale(
            faultRotations: rounds, crashKills: max(1, rounds / 2), failovers: max(2, rounds / 20),
            manyKeys: 10_000, manyKeyNamespaces: 20, soak: true)
    }()
}
