import JSONValue

/// Produces the credentials of each request from the configured method, and renews them
/// after the server refused them (401): token files are read again, exec plugins rerun.
///
/// Over plain HTTP there are none, as with kubectl (client-go reads a user's credentials only
/// for an `https` server): no token, password or client certificate, and no exec plugin runs.
final class Authenticator: Sendable {
    private enum Source: Sendable {
        case fixed(String?)
        case tokenFile(TokenFileSource)
        case exec(ExecCredentialProvider)
    }

    private let source: Source
    private let clientCertificate: [UInt8]?
    private let clientKey: [UInt8]?
    /// Credentials were configured but are not sent: the server is plain HTTP.
    let withheldOverPlainHTTP: Bool

    init(configuration: ClientConfiguration) {
        if configuration.transport.isPlainHTTP {
            var configured = configuration.clientCertificate != nil || configuration.clientKey != nil
            if case .none = configuration.authentication {} else { configured = true }
            withheldOverPlainHTTP = configured
            clientCertificate = nil
            clientKey = nil
            source = .fixed(nil)
            return
        }
        withheldOverPlainHTTP = false
        clientCertificate = configuration.clientCertificate
        clientKey = configuration.clientKey?.value
        switch configuration.authentication {
        case .none:
            source = .fixed(nil)
        case .bearerToken(let token):
            source = .fixed("Bearer \(token.value)")
        case .basic(let username, let password):
            let encoded = Base64.encode(Array("\(username):\(password.value)".utf8))
            source = .fixed("Basic \(encoded)")
        case .tokenFile(let path):
            source = .tokenFile(
                TokenFileSource(path: path, refreshInterval: configuration.tokenRefreshInterval))
        case .exec(let plugin):
            let transport = configuration.transport
            var cluster: JSON = ["server": .string(transport.server)]
            if let ca = transport.certificateAuthority {
                cluster["certificate-authority-data"] = .string(Base64.encode(ca))
            }
            if transport.insecureSkipTLSVerify { cluster["insecure-skip-tls-verify"] = true }
            if let name = transport.tlsServerName { cluster["tls-server-name"] = .string(name) }
            if let proxy = transport.proxyURL { cluster["proxy-url"] = .string(proxy) }
            let identity = configuration.identity
            source = .exec(
                ExecCredentialProvider(
                    configuration: plugin, clusterInfo: cluster,
                    userLabel: "user \"\(identity.user)\" (in \(identity.source))",
                    timeout: configuration.execPluginTimeout))
        }
    }

    func credentials() async throws(KubeError) -> RequestCredentials {
        var credentials = RequestCredentials(clientCertificate: clientCertificate, clientKey: clientKey)
        switch source {
        case .fixed(let header):
            credentials.authorization = header
        case .tokenFile(let file):
            credentials.authorization = "Bearer \(try await file.current().value)"
        case .exec(let plugin):
            let credential = try await plugin.credential()
            credentials.authorization = credential.token.map { "Bearer \($0.value)" }
            if let certificate = credential.clientCertificate, let key = credential.clientKey {
                credentials.clientCertificate = certificate
                credentials.clientKey = key.value
            }
        }
        return credentials
    }

    /// Drops renewable credentials after a 401; `true` when a retry may now succeed.
    func renewAfterUnauthorized() async -> Bool {
        switch source {
        case .fixed: return false
        case .tokenFile(let file):
            await file.invalidate()
            return true
        case .exec(let plugin):
            await plugin.invalidate()
            return true
        }
    }

    /// How many times the exec plugin ran (tests check caching with it).
    var execPluginRuns: Int {
        get async {
            if case .exec(let plugin) = source { return await plugin.runs }
            return 0
        }
    }
}
