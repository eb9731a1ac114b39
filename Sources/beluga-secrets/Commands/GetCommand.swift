import ArgumentParser
import KubeAPI
import Sealing
import SecretSync
import TimeFormat

/// `beluga-secrets get`: one key's details, or with `--reveal` its value.
struct GetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get",
        abstract: "Show a key: version, fingerprint, age, who set it, its state and kept versions.",
        discussion: """
            With --reveal, prints the value the Secret holds to standard output instead, exactly as \
            stored and without a newline added. That needs permission to get the Secret; \
            without it, the other details still show. With --context given several times, or \
            --all-contexts, every cluster is read at once and shown in a section of its own \
            (==> context <==), or with -o json|yaml as one document (--reveal takes one cluster).
            """)

    @Argument(help: "Name of the key.")
    var key: String

    @Flag(help: "Print the value held in the Secret (needs permission to get the Secret).")
    var reveal = false

    @OptionGroup var output: OutputOptions
    @OptionGroup var release: ReleaseOptions
    @OptionGroup(title: "Several clusters") var clusters: MultiClusterOptions

    func validate() throws {
        if reveal, output.format != .table {
            throw ValidationError("--reveal prints the value alone: drop -o")
        }
        if reveal, clusters.allContexts || Set(release.cluster.contexts).count > 1 {
            throw ValidationError("--reveal prints one cluster's value: give one --context")
        }
    }

    func run() async throws {
        try await ClusterTargets.report(release, clusters, output: output, command: "get") { release in
            try await run(on: release)
        }
    }

    /// The key in one cluster.
    private func run(on release: ReleaseOptions) async throws {
        let workspace = try release.connect()
        try SecretBinding.validateKeyName(key)
        let inventory = try await KeyInventory.read(workspace)
        let report = inventory.reports.first { $0.key == key }
        if reveal { return try revealValue(workspace, inventory: inventory, report: report) }
        guard let report else {
            inventory.noteIfSecretDenied(workspace)
            throw CommandError(
                "key \"\(key)\" not found in namespace \(workspace.namespace): run `beluga-secrets list` to see the keys",
                .notFound)
        }
        if output.printData(report.json) { return }
        var lines = [
            ("Key", report.key), ("Source", report.source.rawValue), ("Version", report.versionText),
            ("Fingerprint", report.fingerprint), ("Set by", report.by.isEmpty ? "-" : report.by),
            ("Set at", report.at.isEmpty ? "-" : "\(report.at) (\(Age.text(report.age())) ago)"),
            ("State", report.state),
        ]
        if let applied = report.appliedVersion { lines.append(("Applied version", String(applied))) }
        if !report.reason.isEmpty { lines.append(("Reason", report.reason)) }
        for (name, value) in lines {
            let label = name + ":"
            Narration.say(label.padded(to: 17) + value)
        }
        guard !report.history.isEmpty else { return }
        Narration.say("Kept versions:")
        var table = TableWriter("  VERSION", "FINGERPRINT", "AGE", "BY", "FORMAT")
        for entry in report.history {
            let age = RFC3339.parse(entry.sealedAt).map { (UnixTime.now() - $0).inSeconds }
            table.add([
                "  \(entry.version)" + (entry.rollbackOf.map { " (of \($0))" } ?? ""), entry.fingerprint,
                Age.text(age), entry.sealedBy, String(entry.envelope.prefix(3)),
            ])
        }
        Narration.sayText(table.text)
    }

    /// Prints the Secret's value; says which permission is missing when it cannot be read.
    private func revealValue(_ workspace: Workspace, inventory: KeyInventory, report: KeyReport?) throws {
        let name = workspace.names.secret
        if let denied = inventory.secretDenied {
            throw CommandError(
                "--reveal reads the value from Secret \(workspace.namespace)/\(name), and user "
                    + "\"\(workspace.client.configuration.identity.user)\" may not get it: it needs the RBAC permission "
                    + "get on secrets \"\(name)\" in namespace \(workspace.namespace) (check with: kubectl auth can-i get "
                    + "secrets \(name) -n \(workspace.namespace)); the key's details show without --reveal",
                denied.exitStatus)
        }
        guard let value = inventory.secret?.values[key] else {
            let why =
                report.map { "its state is \($0.state); the agent has not written it yet" }
                ?? "run `beluga-secrets list` to see the keys"
            throw CommandError(
                "key \"\(key)\" is not in Secret \(workspace.namespace)/\(name): \(why)", .notFound)
        }
        if let report, report.source == .sealed,
            let binding = try? SecretBinding(namespace: workspace.namespace, secret: name, key: key),
            Fingerprint(of: value, binding: binding).text != report.fingerprint
        {
            StandardError.writeLine(
                "note: the Secret holds \(Fingerprint(of: value, binding: binding)), not version \(report.version) "
                    + "(\(report.fingerprint)), which is \(report.state)")
        }
        try StandardOutput.writeValue(value)
    }
}
