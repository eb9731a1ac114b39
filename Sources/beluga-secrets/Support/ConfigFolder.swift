#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The user's configuration folder for beluga-secrets: `$XDG_CONFIG_HOME/beluga-secrets`, or
/// `~/.config/beluga-secrets` when that variable is unset or not an absolute path (as the XDG
/// Base Directory specification says).
enum ConfigFolder {
    static func path() throws -> String {
        if let xdg = environment("XDG_CONFIG_HOME"), xdg.hasPrefix("/") {
            return xdg + "/beluga-secrets"
        }
        guard let home = homeFolder() else {
            throw CommandError("cannot find the home folder: set HOME or XDG_CONFIG_HOME")
        }
        return home + "/.config/beluga-secrets"
    }

    /// Where `signer init` writes the operator's signing key, and `seal` looks for it.
    static func signerPrivateKeyPath() throws -> String { try path() + "/signer.key" }
    static func signerPublicKeyPath() throws -> String { try path() + "/signer.pub" }

    private static func homeFolder() -> String? {
        if let home = environment("HOME"), !home.isEmpty { return home }
        guard let entry = getpwuid(geteuid()), let directory = entry.pointee.pw_dir else { return nil }
        return String(cString: directory)
    }

    private static func environment(_ name: String) -> String? {
        guard let value = getenv(name) else { return nil }
        let text = String(cString: value)
        return text.isEmpty ? nil : text
    }
}
