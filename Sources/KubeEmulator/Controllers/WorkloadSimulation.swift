import JSONValue

/// How the emulator runs workloads in place of a scheduler, kubelet and container runtime.
struct WorkloadSimulation: Sendable {
    /// How long a pod takes from creation to running containers (`--rollout-delay`).
    var startDelay: Duration
    /// Emulated seconds per real second for the waiting periods of the kubelet and the deployment
    /// controller (back-offs, retries, `progressDeadlineSeconds`): with 60, a 600 s progress
    /// deadline passes after 10 real seconds. Timestamps written into objects stay wall-clock time.
    var timeScale: Double
    /// Which images are missing from their registry or crash.
    var images: ImageCatalog

    /// The real duration of an emulated waiting period.
    func real(_ emulated: Duration) -> Duration {
        timeScale == 1 ? emulated : emulated / timeScale
    }

    /// The node every simulated pod runs on (created by `bootstrap`).
    static let nodeName = "emulator-node"
    static let hostIP = "10.0.0.10"
}

/// What the simulated kubelet and controllers remember between syncs: per pod, its containers'
/// runs and back-offs (a real kubelet keeps these in its pod workers and back-off tables); per
/// Deployment, when it last made progress; the events already recorded, so repeats are counted
/// on one Event as client-go's event correlator does.
struct WorkloadState: Sendable {
    var pods: [String: KubeletPod] = [:]
    /// Progressing conditions' `lastUpdateTime`, as monotonic instants (the timestamps have whole
    /// seconds only, too coarse for a scaled clock).
    var progressMarks: [ObjectName: ProgressMark] = [:]
    /// The earliest scheduled resync of each Deployment waiting for its progress deadline.
    var deadlineWakeups: [ObjectName: ContinuousClock.Instant] = [:]
    /// Recorded events by what makes them the same event (involved object, reason, message).
    var events: [EventKey: ObjectName] = [:]

    struct ProgressMark: Sendable {
        var lastUpdateTime: String
        var instant: ContinuousClock.Instant
    }

    struct EventKey: Hashable, Sendable {
        var involvedUID: String
        var fieldPath: String
        var type: String
        var reason: String
        var message: String
        var component: String
    }
}

/// One pod as the simulated kubelet runs it.
struct KubeletPod: Sendable {
    var uid: String
    var key: ObjectName
    /// When the runtime may start the pod's containers (creation plus the start delay).
    var startAt: ContinuousClock.Instant
    /// Volumes mounted and sandbox created (`PodReadyToStartContainers`).
    var sandboxReady = false
    var podIP: String
    var mountFailures = 0
    var nextMountAttempt: ContinuousClock.Instant?
    var containers: [String: KubeletContainer] = [:]
    /// The earliest sync already scheduled.
    var wakeup: ContinuousClock.Instant?
}

/// One container of a simulated pod: its current and last state, restarts and back-offs.
struct KubeletContainer: Sendable {
    /// `state` as the API shows it (`waiting`, `running` or `terminated`).
    var state: JSON = ["waiting": ["reason": "ContainerCreating"]]
    /// `lastState`: the previous instance's termination, or empty.
    var lastState: JSON = [:]
    var restartCount = 0
    var containerID: String?
    var imageID = ""
    /// No start attempt before this instant (image pull or crash-loop back-off, config retry).
    var nextAttempt: ContinuousClock.Instant?
    /// A failed pull shows as `ErrImagePull` until this instant, then as `ImagePullBackOff`.
    var backOffShownAt: ContinuousClock.Instant?
    var failedPulls = 0
    /// `ErrImagePull: <message>` of the last failed pull, which the back-off message repeats.
    var lastPullError = ""
    /// The image is on the node (pulled once, or present from the start).
    var imagePresent = false
    /// Instances that exited.
    var exits = 0
    /// A start failed at least once: later starts are reported with the kubelet's events.
    var troubled = false
    /// The log of the last instance that exited, served by `pods/log` for it.
    var lastExitLog: [LogLine] = []

    var isRunning: Bool { state["running"] != nil }
    var waitingReason: String? { state[path: "waiting", "reason"]?.stringValue }
}

/// Durations written the way Go's `time.Duration.String()` writes them (`10s`, `1m20s`, `5m0s`),
/// as the kubelet's messages quote its back-offs.
enum GoDuration {
    static func text(seconds: Int) -> String {
        if seconds < 60 { return "\(seconds)s" }
        let hours = seconds / 3600
        let minutes = (seconds % 3600) / 60
        let rest = seconds % 60
        return hours > 0 ? "\(hours)h\(minutes)m\(rest)s" : "\(minutes)m\(rest)s"
    }
}
