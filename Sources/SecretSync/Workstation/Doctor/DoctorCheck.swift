/// One of `doctor`'s checks as plain data: what was looked at, the verdict, what was seen and
/// the command that fixes it. Deciding is separate from printing, so each verdict is one unit of
/// text an operator can act on and a test can read.
public struct DoctorCheck: Sendable, Equatable {
    /// How bad it is; ordered, so the worst verdict of a run is the `max`.
    public enum Verdict: String, Sendable, Comparable, CaseIterable {
        case ok
        case warning
        case failure

        private var rank: Int {
            switch self {
            case .ok: return 0
            case .warning: return 1
            case .failure: return 2
            }
        }

        public static func < (lhs: Verdict, rhs: Verdict) -> Bool { lhs.rank < rhs.rank }
    }

    /// A stable identifier, e.g. `missing-keys` (what `-o json` and tests key on).
    public var name: String
    public var verdict: Verdict
    /// One line: what was found.
    public var summary: String
    /// What was seen, one fact per line (object names, pod reasons, redacted log lines).
    public var evidence: [String]
    /// The exact commands that fix it (or look further), in order; empty when nothing is to do.
    public var fix: [String]

    public init(
        name: String, verdict: Verdict, summary: String, evidence: [String] = [], fix: [String] = []
    ) {
        self.name = name
        self.verdict = verdict
        self.summary = summary
        self.evidence = evidence
        self.fix = fix
    }
}

/// Everything one `doctor` run found.
public struct DoctorReport: Sendable, Equatable {
    public var namespace: String
    public var release: String
    public var checks: [DoctorCheck]

    public init(namespace: String, release: String, checks: [DoctorCheck]) {
        self.namespace = namespace
        self.release = release
        self.checks = checks
    }

    /// The worst verdict of the checks (`ok` when there are none).
    public var verdict: DoctorCheck.Verdict { checks.map(\.verdict).max() ?? .ok }
}
