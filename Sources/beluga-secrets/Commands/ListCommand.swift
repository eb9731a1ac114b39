import ArgumentParser
import JSONValue
import SecretSync

/// `beluga-secrets list`: every key with its version and state.
struct ListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the keys: version, fingerprint, age, who set them and whether they are applied.",
        discussion: """
            Reads the sealed store, which operators who may not read Secrets can read too, and the \
            Secret when permitted (for keys written there directly). STATE is applied (the Secret \
            holds the current version), pending (the agent has not applied it yet), rejected (the \
            agent refused it; REASON says why and the Secret keeps the previous value), direct \
            (written with --direct) or unmanaged (written by another tool). AGE says "overdue" \
            when the key's current version is older than its maximum age (`beluga-secrets max-age`, \
            or the chart's apiKeys[].maxAge); -o json gives maxAge and overdue for such keys. A * \
            after the state marks a key whose envelope in Helm values is sealed to a previous \
            sealing key: REASON says how to re-seal it into the values (beluga-secrets keys \
            helm-values).

            With --context given several times, or --all-contexts, the clusters are read at once \
            and compared key by key: DRIFT is same (every cluster holds the key, with equal \
            fingerprints), different (two clusters hold different values), missing (some clusters \
            do not hold it; those that do agree) or unknown (the clusters use different namespaces \
            or Secrets, whose fingerprints cannot be compared); then, per context, the version and \
            fingerprint it holds, or - when it holds none. No value is read. A cluster that cannot \
            be read is named on standard error and in -o json, and the command exits with the most \
            severe cluster's code.
            """)

    @OptionGroup var output: OutputOptions
    @OptionGroup var release: ReleaseOptions
    @OptionGroup(title: "Several clusters") var clusters: MultiClusterOptions

    func run() async throws {
        if let contexts = try ClusterTargets.contexts(
            release.cluster, clusters, command: "list", changes: false)
        {
            return try await ClusterDriftReport(release: release, contexts: contexts).run(output)
        }
        let workspace = try release.connect()
        let inventory = try await KeyInventory.read(workspace)
        inventory.noteIfSecretDenied(workspace)
        let data: JSON = [
            "namespace": .string(workspace.namespace), "secret": .string(workspace.names.secret),
            "keys": .array(inventory.reports.map(\.json)),
        ]
        if output.printData(data) { return }
        guard !inventory.reports.isEmpty else {
            StandardError.writeLine(
                "No keys in namespace \(workspace.namespace) (Secret \(workspace.names.secret)).")
            return
        }
        var table = TableWriter("KEY", "VERSION", "FINGERPRINT", "AGE", "BY", "STATE", "REASON")
        for report in inventory.reports {
            table.add([
                report.key, report.versionText, report.fingerprint,
                Age.text(report.age())
                    + (report.overdue() ? " overdue (max \(report.maxAge?.text ?? ""))" : ""),
                report.by.isEmpty ? "-" : report.by,
                report.helmReseal == nil ? report.state : report.state + "*",
                [report.reason, report.helmResealText].filter { !$0.isEmpty }.joined(separator: "; "),
            ])
        }
        print(table.text, terminator: "")
    }
}
