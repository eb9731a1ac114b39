import ArgumentParser

/// `beluga-secrets version`.
struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "version", abstract: "Print the version of beluga-secrets.")

    func run() {
        print("beluga-secrets \(ProductVersion.current)")
    }
}
