/// Everything a `KubeClient` needs: where the server is and how to trust it, how to
/// authenticate, the default namespace, and names for messages. Build one with `load(_:)`
/// (kubectl's rules, with in-cluster fallback), `from(kubeconfig:context:namespace:)` or
/// `inCluster(...)`.
public struct ClientConfiguration: Sendable {
    public var transport: TransportConfiguration
    public var authentication: Authentication
    /// PEM client certificate and key for mutual TLS (kubeconfig `client-certificate[-data]`).
    public var clientCertificate: [UInt8]?
    public var clientKey: Sensitive<[UInt8]>?
    /// The namespace calls use when they are given none.
    public var namespace: String
    /// Names for messages: which context, cluster and user, and from where.
    public var identity: Identity
    public var retryPolicy: RetryPolicy = .standard
    /// How long an exec credential plugin may run before it is killed (not applied while it
    /// talks to a terminal).
    public var execPluginTimeout: Duration = .seconds(60)
    /// How often a token file (`tokenFile`, the service-account token) is read again; the
    /// kubelet rotates service-account tokens, kubectl re-reads them every minute.
    public var tokenRefreshInterval: Duration = .seconds(60)

    public init(
        transport: TransportConfiguration, authentication: Authentication = .none,
        clientCertificate: [UInt8]? = nil, clientKey: Sensitive<[UInt8]>? = nil,
        namespace: String = "default",
        identity: Identity = Identity(cluster: "cluster", user: "user", source: "configuration")
    ) {
        self.transport = transport
        self.authentication = authentication
        self.clientCertificate = clientCertificate
        self.clientKey = clientKey
        self.namespace = namespace
        self.identity = identity
    }

    /// How requests are authenticated.
    public enum Authentication: Sendable {
        case none
        case bearerToken(Sensitive<String>)
        /// A file holding the token, read again every `tokenRefreshInterval`.
        case tokenFile(path: String)
        case basic(username: String, password: Sensitive<String>)
        case exec(ExecPluginConfiguration)

        var name: String {
            switch self {
            case .none: return "anonymous"
            case .bearerToken: return "token"
            case .tokenFile: return "token file"
            case .basic: return "basic"
            case .exec: return "exec plugin"
            }
        }
    }

    /// The names a person would recognise in a message.
    public struct Identity: Sendable {
        public var context: String?
        public var cluster: String
        public var user: String
        /// The kubeconfig file(s), or `in-cluster service account (/var/run/...)`.
        public var source: String

        public init(context: String? = nil, cluster: String, user: String, source: String) {
            self.context = context
            self.cluster = cluster
            self.user = user
            self.source = source
        }
    }

    /// Where to look for configuration, like kubectl's global flags.
    public struct Options: Sendable {
        /// `--kubeconfig`.
        public var kubeconfig: String?
        /// `--context`.
        public var context: String?
        /// `-n/--namespace`, overriding the context's namespace.
        public var namespace: String?
        public var environment: [String: String]
        /// The service-account folder used in a pod (settable for tests).
        public var serviceAccountDirectory: String
        /// Use the in-cluster service account when no kubeconfig file exists.
        public var allowInCluster: Bool

        public init(
            kubeconfig: String? = nil, context: String? = nil, namespace: String? = nil,
            environment: [String: String] = ProcessEnvironment.current,
            serviceAccountDirectory: String = InClusterConfiguration.defaultServiceAccountDirectory,
            allowInCluster: Bool = true
        ) {
            self.kubeconfig = kubeconfig
            self.context = context
            self.namespace = namespace
            self.environment = environment
            self.serviceAccountDirectory = serviceAccountDirectory
            self.allowInCluster = allowInCluster
        }
    }

    /// Resolves the configuration as kubectl would: the kubeconfig files of `options`, else,
    /// inside a pod, the service account.
    public static func load(_ options: Options = Options()) throws(KubeError) -> ClientConfiguration {
        let loader = KubeconfigLoader(explicitPath: options.kubeconfig, environment: options.environment)
        if let kubeconfig = try loader.load() {
            return try from(kubeconfig: kubeconfig, context: options.context, namespace: options.namespace)
        }
        if options.allowInCluster, options.context == nil,
            InClusterConfiguration.isAvailable(
                environment: options.environment, serviceAccountDirectory: options.serviceAccountDirectory)
        {
            return try InClusterConfiguration.load(
                serviceAccountDirectory: options.serviceAccountDirectory, environment: options.environment,
                namespace: options.namespace)
        }
        let looked = loader.candidateFiles.paths.joined(separator: ", ")
        throw KubeError(
            .configuration,
            "no kubeconfig found (looked for \(looked)) and not running in a cluster: pass --kubeconfig or set KUBECONFIG"
        )
    }

    /// The configuration of `context` (default: the current context) of `kubeconfig`.
    public static func from(
        kubeconfig: Kubeconfig, context requested: String? = nil, namespace: String? = nil
    ) throws(KubeError) -> ClientConfiguration {
        let files = kubeconfig.filesDescription
        guard let contextName = requested ?? kubeconfig.currentContext else {
            let names = kubeconfig.contexts.keys.sorted()
            let hint = names.isEmpty ? "" : " (contexts: \(names.joined(separator: ", ")))"
            throw KubeError(
                .configuration,
                "no current context is set in \(files)\(hint): pass --context or run kubectl config use-context NAME"
            )
        }
        guard let context = kubeconfig.contexts[contextName] else {
            let names = kubeconfig.contexts.keys.sorted()
            let hint = names.isEmpty ? "" : " (contexts: \(names.joined(separator: ", ")))"
            throw KubeError(.configuration, "context \"\(contextName)\" not found in \(files)\(hint)")
        }
        guard let clusterName = context.cluster else {
            throw KubeError(
                .configuration, "context \"\(contextName)\" in \(context.origin) names no cluster")
        }
        guard let cluster = kubeconfig.clusters[clusterName] else {
            throw KubeError(
                .configuration,
                "cluster \"\(clusterName)\" (of context \"\(contextName)\") not found in \(files)")
        }
        var user = Kubeconfig.User(origin: context.origin)
        let userName = context.user ?? ""
        if let name = context.user {
            guard let found = kubeconfig.users[name] else {
                throw KubeError(
                    .configuration, "user \"\(name)\" (of context \"\(contextName)\") not found in \(files)")
            }
            user = found
        }

        guard let server = cluster.server else {
            throw KubeError(
                .configuration, "cluster \"\(clusterName)\" in \(cluster.origin) has no server address")
        }
        var certificateAuthority = cluster.certificateAuthorityData
        if certificateAuthority == nil, let path = cluster.certificateAuthority {
            certificateAuthority = try readReferenced(
                path, what: "certificate-authority of cluster \"\(clusterName)\" (in \(cluster.origin))")
        }
        if cluster.insecureSkipTLSVerify && certificateAuthority != nil {
            throw KubeError(
                .configuration,
                "cluster \"\(clusterName)\" in \(cluster.origin) sets both insecure-skip-tls-verify and a certificate authority: remove one"
            )
        }
        var transport = TransportConfiguration(
            server: server, certificateAuthority: certificateAuthority,
            insecureSkipTLSVerify: cluster.insecureSkipTLSVerify, tlsServerName: cluster.tlsServerName,
            proxyURL: cluster.proxyURL)
        if let proxy = cluster.proxyURL {
            let scheme = ParsedURL.scheme(of: proxy) ?? ""
            guard ["http", "https", "socks5", "socks5h"].contains(scheme) else {
                throw KubeError(
                    .configuration,
                    "proxy-url of cluster \"\(clusterName)\" in \(cluster.origin) must be an http, https or socks5 URL"
                )
            }
        }
        transport.userAgent = KubeAPIVersion.userAgent

        let userLabel = "user \"\(userName)\" (in \(user.origin))"
        let authentication = try authentication(of: user, label: userLabel)
        var certificate = user.clientCertificateData
        if certificate == nil, let path = user.clientCertificate {
            certificate = try readReferenced(path, what: "client-certificate of \(userLabel)")
        }
        var key = user.clientKeyData
        if key == nil, let path = user.clientKey {
            key = Sensitive(try readReferenced(path, what: "client-key of \(userLabel)"))
        }
        if (certificate == nil) != (key == nil) {
            throw KubeError(
                .configuration,
                "\(userLabel) has a client \(certificate == nil ? "key but no certificate" : "certificate but no key")"
            )
        }

        var configuration = ClientConfiguration(
            transport: transport, authentication: authentication, clientCertificate: certificate,
            clientKey: key,
            namespace: namespace ?? context.namespace ?? "default",
            identity: Identity(context: contextName, cluster: clusterName, user: userName, source: files))
        configuration.retryPolicy = .standard
        return configuration
    }

    private static func authentication(of user: Kubeconfig.User, label: String) throws(KubeError)
        -> Authentication
    {
        if let provider = user.authProvider {
            throw KubeError(
                .configuration,
                "\(label) uses auth-provider \"\(provider)\", which is not supported: use an exec credential plugin (as kubectl recommends)"
            )
        }
        let hasToken = user.token != nil || user.tokenFile != nil
        let hasBasic = user.username != nil || user.password != nil
        if hasToken && hasBasic {
            throw KubeError(
                .configuration, "\(label) has both a token and a username/password: keep only one of them")
        }
        if let path = user.tokenFile {
            _ = try readReferenced(path, what: "tokenFile of \(label)")
            return .tokenFile(path: path)
        }
        if let token = user.token { return .bearerToken(token) }
        if hasBasic {
            guard let username = user.username, let password = user.password else {
                throw KubeError(
                    .configuration, "\(label) needs both username and password for basic authentication")
            }
            return .basic(username: username, password: password)
        }
        if let exec = user.exec { return .exec(exec) }
        return .none
    }

    private static func readReferenced(_ path: String, what: String) throws(KubeError) -> [UInt8] {
        do {
            return try KubeconfigLoader.readBytes(path, required: true, what: "file") ?? []
        } catch {
            throw KubeError(.configuration, "\(what): \(error.message)")
        }
    }
}
