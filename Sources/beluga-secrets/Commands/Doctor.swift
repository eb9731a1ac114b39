import ArgumentParser
import JSONValue
import KubeAPI
import Sealing
import SecretSync

/// `beluga-secrets doctor`: is the release healthy, and if not, what fixes it.
struct DoctorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract:
            "Check a release: its objects, pods, agent and keys, each with a verdict and the command that fixes it.",
        discussion: """
            Read-only. Checks that the release's objects exist; that the server's pods pull their \
            images (and whether the imagePullSecrets they name exist), do not wait for a missing \
            Secret, ConfigMap or key (naming the beluga-secrets set command), and do not crash (with \
            their last log lines, credentials redacted); that the agent runs, leads and has \
            published a sealing key validly signed by the identity this workstation pinned; that no \
            key is pending or rejected in the sealed store; that no pod runs an older content hash \
            than the Deployment's; that the rollout makes progress; that an autoscaler has metrics; \
            and, with --service-monitor, that the cluster serves ServiceMonitors. Checks this user \
            may not read are reported as not checked. Exit status: 0 every check ok, 1 warnings, \
            6 failures (and the usual codes when the cluster cannot be asked). With --context given \
            several times, or --all-contexts, every cluster is checked at once, each in a section of \
            its own (==> context <==), and the exit status is the most severe cluster's; with -o \
            json, each cluster carries its checks, or the error that kept it from being asked, with \
            its exit code.
            """)

    @OptionGroup var output: OutputOptions
    @OptionGroup var release: ReleaseOptions
    @OptionGroup(title: "Several clusters") var clusters: MultiClusterOptions

    @Option(
        name: .customLong("agent-deployment"),
        help: ArgumentHelp(
            "Name of the agent's Deployment (default: <deployment>-agent, as the chart names it).",
            valueName: "name"))
    var agentDeployment: String?

    @Flag(
        inversion: .prefixedNo,
        help:
            "The agents elect a leader on their Lease, as the chart sets them up; --no-leader-election when they do not (no Lease is read)."
    )
    var leaderElection = true

    @Flag(
        name: .customLong("service-monitor"),
        help:
            "A ServiceMonitor was requested (the chart's serviceMonitor.enabled): check that the cluster serves them."
    )
    var serviceMonitor = false

    @Option(
        name: .customLong("log-lines"),
        help: ArgumentHelp(
            "How many of a crashing container's last log lines to show, credentials redacted (0: its log is not read).",
            valueName: "n"))
    var logLines = 5

    @Option(help: ArgumentHelp("The chart the helm upgrade fixes name.", valueName: "path"))
    var chart = "./deploy/helm/beluga-ai"

    func validate() throws {
        if logLines < 0 || logLines > 100 {
            throw ValidationError("--log-lines must be between 0 and 100")
        }
    }

    func run() async throws {
        try await ClusterTargets.report(release, clusters, output: output, command: "doctor") { release in
            try await run(on: release)
        }
    }

    /// The checks of one cluster.
    private func run(on release: ReleaseOptions) async throws {
        let connected = try release.connect()
        // The release's agent objects: the derived names, or the fixed ones the release owns; a
        // failed look leaves the derived names, and the checks below report why.
        let workspace = (try? await connected.resolvingAgentObjects())?.0 ?? connected
        if let agentDeployment { try KubernetesNames.validateObjectName(agentDeployment, kind: "Deployment") }
        // The keys as list and status read them: the same code, wherever the agent keeps its verdicts.
        var keys: [KeyReport]?
        let secret: Doctor.SecretObservation
        do {
            let inventory = try await KeyInventory.read(workspace)
            keys = inventory.reports
            if let guarded = inventory.secret {
                secret = .present(guarded)
            } else if let denied = inventory.secretDenied {
                secret = .unreadable(denied.message)
            } else {
                secret = .missing
            }
        } catch let error as KubeError where error.category == .forbidden {
            keys = nil
            secret = .unreadable(error.message)
        }
        let pins = try AgentIdentityPins.standard()
        let server = workspace.server
        let namespace = workspace.namespace
        let publicKeys = workspace.names.publicKeyConfigMap
        let doctor = Doctor(
            workspace: workspace,
            options: Doctor.Options(
                release: release.release,
                agentDeployment: agentDeployment
                    ?? Doctor.Options.chartAgentName(for: workspace.names.deployment),
                leaderElection: leaderElection, serviceMonitorRequested: serviceMonitor, logLines: logLines,
                chart: chart),
            inputs: Doctor.Inputs(
                keys: keys, secret: secret,
                pin: { published in
                    switch try? pins.check(
                        published, server: server, namespace: namespace, configMap: publicKeys)
                    {
                    case .known: return .known
                    case .firstUse, nil: return .firstUse
                    case .changed(let pinned):
                        return .changed(
                            pinned: (try? SigningPublicKey(base64: pinned.identity)).map { $0.signerID.hex }
                                ?? "(unreadable)")
                    case .currentReplayed(let pinned):
                        return .replayed(seenCounter: pinned.currentCounter ?? 0)
                    }
                }))
        let report = try await doctor.run()
        if !output.printData(report.json) { Narration.sayText(report.text) }
        if let verdict = DoctorVerdict(report) { throw verdict }
    }
}

/// A run with warnings (exit 1) or failures (exit 6), named in one line after the report.
struct DoctorVerdict: ReportableError {
    var message: String
    var exitStatus: ExitStatus

    init?(_ report: DoctorReport) {
        let failed = report.checks.filter { $0.verdict == .failure }.map(\.name)
        let warned = report.checks.filter { $0.verdict == .warning }.map(\.name)
        switch report.verdict {
        case .ok: return nil
        case .warning:
            exitStatus = .usage
            message = "doctor: warnings from \(warned.joined(separator: ", ")): the fixes are in the report"
        case .failure:
            exitStatus = .rejected
            message =
                "doctor: \(failed.count) check\(failed.count == 1 ? "" : "s") failed (\(failed.joined(separator: ", ")))"
                + (warned.isEmpty ? "" : ", warnings from \(warned.joined(separator: ", "))")
                + ": the fixes are in the report"
        }
    }
}

extension DoctorReport {
    var json: JSON {
        [
            "namespace": .string(namespace), "release": .string(release),
            "verdict": .string(verdict.rawValue),
            "checks": .array(
                checks.map { check in
                    [
                        "name": .string(check.name), "verdict": .string(check.verdict.rawValue),
                        "summary": .string(check.summary),
                        "evidence": .array(check.evidence.map { .string($0) }),
                        "fix": .array(check.fix.map { .string($0) }),
                    ]
                }),
        ]
    }

    /// The checks as a table, then what each check that is not ok saw and the commands that fix it.
    var text: String {
        var out = "Namespace: \(namespace)   Release: \(release)\n\n"
        var table = TableWriter("CHECK", "VERDICT", "SUMMARY")
        for check in checks { table.add([check.name, check.verdict.rawValue.uppercased(), check.summary]) }
        out += table.text
        for check in checks where check.verdict != .ok {
            out += "\n\(check.name) (\(check.verdict.rawValue)): \(check.summary)\n"
            for line in check.evidence { out += "  \(line)\n" }
            for command in check.fix { out += "  fix: \(command)\n" }
        }
        let failures = checks.filter { $0.verdict == .failure }.count
        let warnings = checks.filter { $0.verdict == .warning }.count
        out += "\n"
        switch verdict {
        case .ok: out += "All \(checks.count) checks passed.\n"
        case .warning: out += "\(warnings) warning\(warnings == 1 ? "" : "s"), no failure.\n"
        case .failure:
            out +=
                "\(failures) failure\(failures == 1 ? "" : "s")"
                + (warnings > 0 ? ", \(warnings) warning\(warnings == 1 ? "" : "s")" : "") + ".\n"
        }
        return out
    }
}
