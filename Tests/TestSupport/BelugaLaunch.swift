import Foundation
import JSONValue
import KubeEmulator

/// How the CLI and reliability tests start `beluga-secrets`: the agent's arguments (short lease
/// timing, a health server on a free port), the CLI's workstation (its own configuration folder
/// and HOME, the kubeconfig unless the command works offline), and the chart's objects the agent
/// acts on.
public enum BelugaLaunch {
    /// Subcommands that never talk to a cluster (they take no `--kubeconfig`).
    public static let offlineCommands: Set<String> = [
        "signer", "seal", "unseal", "keygen", "fingerprint", "version", "completion",
    ]

    /// `arguments` with `--kubeconfig kubeconfig` appended, unless the command works offline or
    /// the arguments already name a kubeconfig.
    public static func cliArguments(_ arguments: [String], kubeconfig: String) -> [String] {
        if arguments.contains("--kubeconfig") || offlineCommands.contains(arguments.first ?? "") {
            return arguments
        }
        return arguments + ["--kubeconfig", kubeconfig]
    }

    /// The environment of one operator's workstation: its configuration folder
    /// (`XDG_CONFIG_HOME`) and HOME inside `home`.
    public static func workstationEnvironment(home: TemporaryDirectory, adding extra: [String: String] = [:])
        -> [String: String]
    {
        ["XDG_CONFIG_HOME": home.file("config"), "HOME": home.path].merging(extra) { $1 }
    }

    /// `beluga-secrets agent` arguments: a health server on a free port and lease timing short
    /// enough for a quick failover, yet long enough that a leader starved of CPU by the processes
    /// beside it keeps renewing within its renew deadline.
    public static func agentArguments(
        kubeconfig: String, identity: String, namespace: String? = nil, debounce: String = "100ms",
        leaseDuration: String, renewDeadline: String, extra: [String] = []
    ) -> [String] {
        ["agent", "--kubeconfig", kubeconfig]
            + (namespace.map { ["-n", $0] } ?? [])
            + [
                "--health-addr", "127.0.0.1:0", "--identity", identity, "--debounce", debounce,
                "--lease-duration", leaseDuration, "--renew-deadline", renewDeadline, "--retry-period",
                "250ms",
            ] + extra
    }

    /// Puts the chart's objects into `namespace`: the Deployment `beluga-ai` (annotated to
    /// reload on the Secret and the settings) and the settings ConfigMap.
    public static func putChartObjects(
        into emulator: KubeEmulator, namespace: String = "default", replicas: Int = 1
    )
        async throws
    {
        try await emulator.put([
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": [
                "name": "beluga-ai", "namespace": .string(namespace),
                "annotations": ["beluga-ai.io/reload": "beluga-ai-secrets,beluga-ai-config"],
            ],
            "spec": [
                "replicas": .int(replicas), "selector": ["matchLabels": ["app": "beluga-ai"]],
                "template": [
                    "metadata": ["labels": ["app": "beluga-ai"]],
                    "spec": ["containers": [["name": "server", "image": "beluga-ai:1.0.0"]]],
                ],
            ],
        ])
        try await emulator.put([
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": ["name": "beluga-ai-config", "namespace": .string(namespace)],
            "data": ["llmProvider": "openai"],
        ])
    }
}
