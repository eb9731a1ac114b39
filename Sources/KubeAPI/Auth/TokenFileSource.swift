/// A bearer token kept in a file that another party rotates (the kubelet, for service
/// accounts). The file is read again when the last read is older than the refresh interval,
/// or at once after the server refused the token.
actor TokenFileSource {
    let path: String
    let refreshInterval: Duration
    private var token: Sensitive<String>?
    private var readAt: ContinuousClock.Instant?

    init(path: String, refreshInterval: Duration) {
        self.path = path
        self.refreshInterval = refreshInterval
    }

    func current() throws(KubeError) -> Sensitive<String> {
        let now = ContinuousClock.now
        if let token, let readAt, now - readAt < refreshInterval { return token }
        do throws(KubeError) {
            let text = try KubeconfigLoader.readText(path, required: true, what: "token file") ?? ""
            let trimmed = text.trimmingWhitespace()
            guard !trimmed.isEmpty else { throw KubeError(.configuration, "token file \(path) is empty") }
            token = Sensitive(trimmed)
            readAt = now
            return Sensitive(trimmed)
        } catch {
            // A rotation in progress may briefly remove the file: keep the last good token.
            if let token { return token }
            throw error
        }
    }

    /// Forces the next `current()` to read the file again.
    func invalidate() { readAt = nil }
}
