
/// `--health-addr`: `:8081`, `127.0.0.1:8081`, `0` for a free port.
struct HealthAddress {
    var host: String
    var port: Int

    init(_ text: String) throws {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        let portText = parts.last.map(String.init) ?? ""
        guard let port = Int(portText), (0...65535).contains(port) else {
            throw CommandError("--health-addr \(text) is not [host]:port (e.g. :8081)", .usage)
        }
        self.port = port
        host = parts.count > 1 ? parts.dropLast().joined(separator: ":") : ""
    }
}
