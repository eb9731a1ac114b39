/// Configuration inside a pod: the API server from `KUBERNETES_SERVICE_HOST`/`_PORT`, and
/// the service account's token, CA and namespace from its mounted folder.
public enum InClusterConfiguration {
    public static let defaultServiceAccountDirectory = "/var/run/secrets/kubernetes.io/serviceaccount"

    /// Whether this looks like a pod: the service variables are set and a token is mounted.
    public static func isAvailable(environment: [String: String], serviceAccountDirectory: String) -> Bool {
        guard let host = environment["KUBERNETES_SERVICE_HOST"], !host.isEmpty,
            let port = environment["KUBERNETES_SERVICE_PORT"], !port.isEmpty
        else { return false }
        return FileStatus(serviceAccountDirectory + "/token") != nil
    }

    /// The in-cluster configuration. The token file is read again every
    /// `ClientConfiguration.tokenRefreshInterval` (the kubelet rotates it).
    public static func load(
        serviceAccountDirectory: String = defaultServiceAccountDirectory,
        environment: [String: String] = ProcessEnvironment.current, namespace: String? = nil
    ) throws(KubeError) -> ClientConfiguration {
        guard let host = environment["KUBERNETES_SERVICE_HOST"], !host.isEmpty,
            let port = environment["KUBERNETES_SERVICE_PORT"], !port.isEmpty
        else {
            throw KubeError(
                .configuration,
                "not running in a cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set (pass --kubeconfig outside a pod)"
            )
        }
        guard Int(port) != nil else {
            throw KubeError(.configuration, "KUBERNETES_SERVICE_PORT \"\(port)\" is not a port number")
        }
        let tokenPath = serviceAccountDirectory + "/token"
        do {
            _ = try KubeconfigLoader.readBytes(tokenPath, required: true, what: "service-account token")
        } catch {
            throw KubeError(.configuration, "\(error.message): is a service account mounted in this pod?")
        }
        // Like client-go: without a readable CA the system's trust store is used.
        let ca = try? KubeconfigLoader.readBytes(
            serviceAccountDirectory + "/ca.crt", required: false, what: "service-account CA")
        var resolvedNamespace = namespace
        if resolvedNamespace == nil, let fromEnvironment = environment["POD_NAMESPACE"],
            !fromEnvironment.isEmpty
        {
            resolvedNamespace = fromEnvironment
        }
        if resolvedNamespace == nil,
            let text = try? KubeconfigLoader.readText(
                serviceAccountDirectory + "/namespace", required: false, what: "namespace file")
        {
            let trimmed = text.trimmingWhitespace()
            if !trimmed.isEmpty { resolvedNamespace = trimmed }
        }
        let bracketedHost = host.contains(":") ? "[\(host)]" : host
        let transport = TransportConfiguration(
            server: "https://\(bracketedHost):\(port)", certificateAuthority: ca ?? nil)
        return ClientConfiguration(
            transport: transport, authentication: .tokenFile(path: tokenPath),
            namespace: resolvedNamespace ?? "default",
            identity: ClientConfiguration.Identity(
                context: nil, cluster: "in-cluster", user: "service account",
                source: "in-cluster service account (\(serviceAccountDirectory))"))
    }
}
