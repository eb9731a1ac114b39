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
            (written with --direct) or unmanaged (written by another tool).
            """)

    @OptionGroup var output: OutputOptions
    @OptionGroup var release: ReleaseOptions

    func run() async throws {
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
                report.key, report.versionText, report.fingerprint, Age.text(report.age()),
                report.by.isEmpty ? "-" : report.by, report.state, report.reason,
            ])
        }
        print(table.text, terminator: "")
    }
}
