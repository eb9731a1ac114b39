/// Kubernetes' rules for the names this CLI is given, checked before anything is sealed so a
/// typo fails here and not later in the cluster. Like an invalid key name, an invalid name is
/// "rejected by validation" (exit code 6), as the API server would reject it.
enum KubernetesNames {
    /// A namespace is a DNS-1123 label: at most 63 of `[a-z0-9-]`, starting and ending
    /// alphanumeric.
    static func validateNamespace(_ name: String) throws {
        guard isLabel(Substring(name)) else {
            throw CommandError(
                "invalid namespace \"\(printable(name))\": use at most 63 lower-case letters, digits and '-', "
                    + "starting and ending with a letter or digit", .rejected)
        }
    }

    /// A Secret name is a DNS-1123 subdomain: at most 253 characters, dot-separated labels.
    static func validateSecretName(_ name: String) throws {
        try validateObjectName(name, kind: "Secret")
    }

    /// The names of ConfigMaps and Deployments follow the same rule as Secrets.
    static func validateObjectName(_ name: String, kind: String) throws {
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        guard name.utf8.count <= 253, labels.allSatisfy({ isLabel($0, maximum: 253) }) else {
            throw CommandError(
                "invalid \(kind) name \"\(printable(name))\": use lower-case letters, digits, '-' and '.', "
                    + "starting and ending with a letter or digit (at most 253 characters)", .rejected)
        }
    }

    private static func isLabel(_ label: Substring, maximum: Int = 63) -> Bool {
        let bytes = Array(label.utf8)
        guard let first = bytes.first, let last = bytes.last, bytes.count <= maximum else { return false }
        func alphanumeric(_ byte: UInt8) -> Bool {
            (0x61...0x7a).contains(byte) || (0x30...0x39).contains(byte)
        }
        return alphanumeric(first) && alphanumeric(last)
            && bytes.allSatisfy { alphanumeric($0) || $0 == 0x2d }
    }

    private static func printable(_ name: String) -> String {
        String(
            String.UnicodeScalarView(
                name.unicodeScalars.prefix(80).map { (0x20...0x7e).contains($0.value) ? $0 : "?" }))
    }
}
