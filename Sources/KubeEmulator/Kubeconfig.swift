import Foundation

/// Writing kubeconfig files that point at the emulator.
extension KubeEmulator {
    /// Writes a kubeconfig (mode 0600) with one cluster, one user authenticated by `token`
    /// (default: the admin token), and a current context using `namespace`.
    public func writeKubeconfig(
        to path: String, user: String = "kube-emulator-admin", token: String? = nil,
        namespace: String = "default",
        context: String = "kube-emulator"
    ) throws {
        try writeKubeconfig(
            to: path, user: user, credentials: ["token": token ?? adminToken], namespace: namespace,
            context: context)
    }

    /// Writes a kubeconfig whose user authenticates with a client certificate (TLS only).
    public func writeKubeconfig(
        to path: String, user: String, clientCertificate: CertificateAndKey, namespace: String = "default",
        context: String = "kube-emulator"
    ) throws {
        try writeKubeconfig(
            to: path, user: user,
            credentials: [
                "client-certificate-data": Data(clientCertificate.certificatePEM.utf8).base64EncodedString(),
                "client-key-data": Data(clientCertificate.privateKeyPEM.utf8).base64EncodedString(),
            ], namespace: namespace, context: context)
    }

    /// The kubeconfig text for `credentials` (`token`, or client certificate data).
    public func kubeconfig(
        user: String, credentials: [String: String], namespace: String = "default",
        context: String = "kube-emulator"
    ) -> String {
        var cluster = "    server: \(url)\n"
        if let ca = certificateAuthority {
            cluster +=
                "    certificate-authority-data: \(Data(ca.certificatePEM.utf8).base64EncodedString())\n"
        }
        let userFields = credentials.keys.sorted().map { "    \($0): \(credentials[$0] ?? "")\n" }.joined()
        return """
            apiVersion: v1
            kind: Config
            clusters:
            - name: kube-emulator
              cluster:
            \(cluster)contexts:
            - name: \(context)
              context:
                cluster: kube-emulator
                user: \(user)
                namespace: \(namespace)
            current-context: \(context)
            users:
            - name: \(user)
              user:
            \(userFields)preferences: {}

            """
    }

    private func writeKubeconfig(
        to path: String, user: String, credentials: [String: String], namespace: String, context: String
    ) throws {
        let text = kubeconfig(user: user, credentials: credentials, namespace: namespace, context: context)
        let created = FileManager.default.createFile(
            atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600])
        guard created else {
            throw KubeEmulatorError.cannotWrite(path: path, reason: "the file could not be created")
        }
        // createFile keeps the mode of an existing file: make sure it is private.
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
    }
}
