import SecretSync

/// What a workflow tells the operator about its change, a line at a time: standard output, or,
/// while a command runs on several clusters, the cluster's own line (`ClusterScope`).
enum Narration {
    static func say(_ line: String) {
        if let scope = ClusterScope.current {
            scope.say(line)
        } else {
            print(line)
        }
    }

    /// Says `text`, which ends with a newline (a table).
    static func sayText(_ text: String) {
        guard !text.isEmpty else { return }
        say(text.hasSuffix("\n") ? String(text.dropLast()) : text)
    }
}
