/// The version `beluga-secrets version` and `--version` print.
enum ProductVersion {
    static let current = "0.1.0"
}
