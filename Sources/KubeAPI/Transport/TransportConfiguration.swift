/// How to reach an API server: address, TLS, proxy and time limits. Built from a kubeconfig
/// cluster or the in-cluster service account; values, no credentials.
public struct TransportConfiguration: Sendable {
    /// Scheme, host and port of the API server, e.g. `https://10.0.0.1:6443` (a path prefix
    /// such as `https://host/k8s/clusters/c-1` is kept).
    public var server: String
    /// PEM bytes of the certificate authorities to trust; `nil` uses the system's trust store.
    public var certificateAuthority: [UInt8]?
    /// Accept any server certificate (kubeconfig `insecure-skip-tls-verify`).
    public var insecureSkipTLSVerify: Bool
    /// Name to expect in the server's certificate and to send as SNI, when it differs from
    /// the host of `server` (kubeconfig `tls-server-name`).
    public var tlsServerName: String?
    /// Proxy for every request (kubeconfig `proxy-url`); without it libcurl honours
    /// `HTTPS_PROXY`/`NO_PROXY` as kubectl does.
    public var proxyURL: String?
    /// Time allowed to open a connection (TCP and TLS).
    public var connectTimeout: Duration
    /// Time allowed for a whole non-streaming request.
    public var requestTimeout: Duration
    /// `User-Agent` header.
    public var userAgent: String

    /// Whether requests travel unencrypted (an `http://` server): credentials are then never
    /// sent, as client-go sends none (`IsConfigTransportTLS`), whatever the kubeconfig holds.
    public var isPlainHTTP: Bool { ParsedURL.scheme(of: server) == "http" }

    public init(
        server: String, certificateAuthority: [UInt8]? = nil, insecureSkipTLSVerify: Bool = false,
        tlsServerName: String? = nil, proxyURL: String? = nil, connectTimeout: Duration = .seconds(10),
        requestTimeout: Duration = .seconds(30), userAgent: String = KubeAPIVersion.userAgent
    ) {
        self.server = server
        self.certificateAuthority = certificateAuthority
        self.insecureSkipTLSVerify = insecureSkipTLSVerify
        self.tlsServerName = tlsServerName
        self.proxyURL = proxyURL
        self.connectTimeout = connectTimeout
        self.requestTimeout = requestTimeout
        self.userAgent = userAgent
    }
}

/// The version this library reports in its `User-Agent`.
public enum KubeAPIVersion {
    public static let version = "0.1.0"

    static var platform: String {
        #if arch(x86_64)
            let arch = "amd64"
        #elseif arch(arm64)
            let arch = "arm64"
        #else
            let arch = "unknown"
        #endif
        #if os(Linux)
            return "linux/\(arch)"
        #elseif os(macOS)
            return "darwin/\(arch)"
        #else
            return "unknown/\(arch)"
        #endif
    }

    /// `beluga-secrets/<version> (linux/amd64)`, in the shape kubectl uses.
    public static var userAgent: String { "beluga-secrets/\(version) (\(platform))" }
}
