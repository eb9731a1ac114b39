/// A kubeconfig: named clusters, users and contexts, and the current context. It may be the
/// merge of several files (`$KUBECONFIG`); each entry remembers the file it came from, and
/// relative paths in it are already resolved against that file's folder.
public struct Kubeconfig: Sendable {
    public var currentContext: String?
    public var clusters: [String: Cluster] = [:]
    public var users: [String: User] = [:]
    public var contexts: [String: Context] = [:]
    /// The files this configuration was read from, in precedence order.
    public var files: [String] = []

    public init() {}

    /// The files, for messages: `/a` or `/a, /b`.
    var filesDescription: String { files.isEmpty ? "the kubeconfig" : files.joined(separator: ", ") }

    /// How to reach one API server (kubeconfig `clusters[].cluster`).
    public struct Cluster: Sendable {
        public var server: String?
        /// Absolute path of `certificate-authority`.
        public var certificateAuthority: String?
        /// Decoded `certificate-authority-data` (PEM bytes).
        public var certificateAuthorityData: [UInt8]?
        public var insecureSkipTLSVerify = false
        public var tlsServerName: String?
        public var proxyURL: String?
        /// The file that defined this cluster.
        public var origin: String

        public init(origin: String) { self.origin = origin }
    }

    /// How to authenticate (kubeconfig `users[].user`).
    public struct User: Sendable {
        public var token: Sensitive<String>?
        /// Absolute path of `tokenFile`.
        public var tokenFile: String?
        public var clientCertificate: String?
        public var clientCertificateData: [UInt8]?
        public var clientKey: String?
        public var clientKeyData: Sensitive<[UInt8]>?
        public var username: String?
        public var password: Sensitive<String>?
        public var exec: ExecPluginConfiguration?
        /// Name of a legacy `auth-provider` (unsupported; reported as such).
        public var authProvider: String?
        public var origin: String

        public init(origin: String) { self.origin = origin }
    }

    /// A (cluster, user, namespace) triple (kubeconfig `contexts[].context`).
    public struct Context: Sendable {
        public var cluster: String?
        public var user: String?
        public var namespace: String?
        public var origin: String

        public init(origin: String) { self.origin = origin }
    }
}

/// An exec credential plugin (kubeconfig `users[].user.exec`), as GKE, EKS and AKS use.
public struct ExecPluginConfiguration: Sendable {
    /// `client.authentication.k8s.io/v1` or `v1beta1`.
    public var apiVersion: String
    /// The program: a name looked up on `PATH`, or a path (relative ones were resolved
    /// against the kubeconfig's folder).
    public var command: String
    public var args: [String] = []
    /// Extra environment variables for the plugin, on top of this process's environment.
    public var env: [(name: String, value: String)] = []
    public var installHint: String?
    public var provideClusterInfo = false
    public var interactiveMode: InteractiveMode

    /// Whether the plugin may read from the terminal (kubeconfig `interactiveMode`).
    public enum InteractiveMode: String, Sendable {
        case never = "Never"
        case ifAvailable = "IfAvailable"
        case always = "Always"
    }

    public init(
        apiVersion: String, command: String, args: [String] = [], env: [(name: String, value: String)] = [],
        installHint: String? = nil, provideClusterInfo: Bool = false,
        interactiveMode: InteractiveMode = .ifAvailable
    ) {
        self.apiVersion = apiVersion
        self.command = command
        self.args = args
        self.env = env
        self.installHint = installHint
        self.provideClusterInfo = provideClusterInfo
        self.interactiveMode = interactiveMode
    }

    static let supportedVersions = [
        "client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1",
    ]
}
