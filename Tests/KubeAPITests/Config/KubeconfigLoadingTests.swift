import Foundation
import Testing
import TestSupport

@testable import KubeAPI

@Suite struct KubeconfigLoadingTests {
    func load(
        _ fixtures: Fixtures, kubeconfig: String? = nil, env: String? = nil, context: String? = nil,
        namespace: String? = nil
    ) throws(KubeError) -> ClientConfiguration {
        try ClientConfiguration.load(
            .init(
                kubeconfig: kubeconfig, context: context, namespace: namespace,
                environment: isolatedEnvironment(home: fixtures.path + "/home", kubeconfig: env),
                serviceAccountDirectory: fixtures.path + "/no-sa", allowInCluster: true))
    }

    func expectError(
        _ category: KubeError.Category, containing fragments: [String], _ body: () throws(KubeError) -> Void
    ) {
        do {
            try body()
            Issue.record("expected a \(category) error")
        } catch {
            #expect(error.category == category, "\(error.message)")
            for fragment in fragments { #expect(error.message.contains(fragment), "\(error.message)") }
        }
    }

    @Test func explicitFileIsUsedAndNamespaceComesFromContext() throws {
        let fixtures = try Fixtures()
        let file = try fixtures.write(
            "a/config", kubeconfigText(server: "https://10.1.2.3:6443", namespace: "team"))
        let configuration = try load(fixtures, kubeconfig: file)
        #expect(configuration.transport.server == "https://10.1.2.3:6443")
        #expect(configuration.namespace == "team")
        #expect(configuration.identity.context == "test")
        #expect(configuration.identity.user == "tester")
        #expect(configuration.identity.cluster == "test")
        guard case .bearerToken(let token) = configuration.authentication else {
            Issue.record("expected a bearer token")
            return
        }
        #expect(token.value == "t0ken")
        #expect(!"\(configuration)".contains("t0ken"), "a printed configuration must not show the token")
    }

    @Test func namespaceFlagOverridesContextAndDefaultIsDefault() throws {
        let fixtures = try Fixtures()
        let withNamespace = try fixtures.write("a", kubeconfigText(server: "https://h:1", namespace: "team"))
        let without = try fixtures.write("b", kubeconfigText(server: "https://h:1"))
        #expect(try load(fixtures, kubeconfig: withNamespace, namespace: "other").namespace == "other")
        #expect(try load(fixtures, kubeconfig: without).namespace == "default")
    }

    @Test func homeConfigIsTheDefault() throws {
        let fixtures = try Fixtures()
        try fixtures.write("home/.kube/config", kubeconfigText(server: "https://home:6443"))
        #expect(try load(fixtures).transport.server == "https://home:6443")
    }

    @Test func kubeconfigListMergesWithFirstFileWinning() throws {
        let fixtures = try Fixtures()
        // First file: no current-context, defines cluster "shared" and context "one".
        let first = try fixtures.write(
            "first",
            """
            clusters:
            - name: shared
              cluster:
                server: https://first:6443
            users:
            - name: u1
              user:
                token: first-token
            contexts:
            - name: one
              context: {cluster: shared, user: u1, namespace: ns-one}
            """)
        // Second file: sets current-context and redefines "shared" (ignored) and adds "two".
        let second = try fixtures.write(
            "second",
            """
            current-context: two
            clusters:
            - name: shared
              cluster:
                server: https://second:6443
            - name: other
              cluster:
                server: https://other:6443
            users:
            - name: u1
              user:
                token: second-token
            contexts:
            - name: two
              context: {cluster: shared, user: u1}
            - name: three
              context: {cluster: other, user: u1}
            """)
        let missing = fixtures.path + "/missing"
        let configuration = try load(fixtures, env: "\(first):\(missing):\(second)")
        #expect(
            configuration.identity.context == "two", "current-context comes from the first file setting one")
        #expect(
            configuration.transport.server == "https://first:6443", "the first file to define a cluster wins")
        guard case .bearerToken(let token) = configuration.authentication else {
            Issue.record("expected a token")
            return
        }
        #expect(token.value == "first-token")
        #expect(
            try load(fixtures, env: "\(first):\(second)", context: "three").transport.server
                == "https://other:6443")
        #expect(try load(fixtures, env: "\(first):\(second)", context: "one").namespace == "ns-one")
    }

    @Test func relativePathsResolveAgainstTheKubeconfigFolder() throws {
        let fixtures = try Fixtures()
        try fixtures.write(
            "conf/certs/ca.pem", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
        try fixtures.write("conf/token.txt", "file-token\n")
        let file = try fixtures.write(
            "conf/kubeconfig",
            kubeconfigText(
                server: "https://h:6443", clusterExtra: "    certificate-authority: certs/ca.pem\n",
                userBody: "    tokenFile: token.txt\n"))
        let configuration = try load(fixtures, kubeconfig: file)
        #expect(
            String(decoding: configuration.transport.certificateAuthority ?? [], as: UTF8.self).contains(
                "MIIB"))
        guard case .tokenFile(let path) = configuration.authentication else {
            Issue.record("expected a token file")
            return
        }
        #expect(path == fixtures.path + "/conf/token.txt")

        let execFile = try fixtures.write(
            "conf/exec-config",
            kubeconfigText(
                server: "https://h:6443",
                userBody: """
                        exec:
                          apiVersion: client.authentication.k8s.io/v1
                          command: ./bin/plugin
                          interactiveMode: Never

                    """))
        guard case .exec(let plugin) = try load(fixtures, kubeconfig: execFile).authentication else {
            Issue.record("expected an exec plugin")
            return
        }
        #expect(plugin.command == fixtures.path + "/conf/./bin/plugin")
    }

    @Test func clientCertificateFromFilesAndData() throws {
        let fixtures = try Fixtures()
        try fixtures.write("c/client.crt", "CERT-PEM")
        try fixtures.write("c/client.key", "KEY-PEM")
        let fromFiles = try fixtures.write(
            "c/files",
            kubeconfigText(
                server: "https://h:1",
                userBody: "    client-certificate: client.crt\n    client-key: client.key\n"))
        let configuration = try load(fixtures, kubeconfig: fromFiles)
        #expect(configuration.clientCertificate == Array("CERT-PEM".utf8))
        #expect(configuration.clientKey?.value == Array("KEY-PEM".utf8))

        let certData = Data("CERT-DATA".utf8).base64EncodedString()
        let keyData = Data("KEY-DATA".utf8).base64EncodedString()
        let fromData = try fixtures.write(
            "c/data",
            kubeconfigText(
                server: "https://h:1",
                userBody: "    client-certificate-data: \(certData)\n    client-key-data: \(keyData)\n"))
        let second = try load(fixtures, kubeconfig: fromData)
        #expect(second.clientCertificate == Array("CERT-DATA".utf8))
        #expect(second.clientKey?.value == Array("KEY-DATA".utf8))
        guard case .none = second.authentication else {
            Issue.record("a certificate alone needs no other authentication")
            return
        }
    }

    @Test func basicAuthentication() throws {
        let fixtures = try Fixtures()
        let file = try fixtures.write(
            "k", kubeconfigText(server: "https://h:1", userBody: "    username: admin\n    password: pa55\n"))
        guard case .basic(let user, let password) = try load(fixtures, kubeconfig: file).authentication else {
            Issue.record("expected basic authentication")
            return
        }
        #expect(user == "admin" && password.value == "pa55")
    }

    @Test func tlsSettingsAreRead() throws {
        let fixtures = try Fixtures()
        let ca = Data("CA-PEM".utf8).base64EncodedString()
        let file = try fixtures.write(
            "k",
            kubeconfigText(
                server: "https://10.0.0.1:6443",
                clusterExtra:
                    "    certificate-authority-data: \(ca)\n    tls-server-name: api.internal\n    proxy-url: http://proxy:3128\n"
            ))
        let transport = try load(fixtures, kubeconfig: file).transport
        #expect(transport.certificateAuthority == Array("CA-PEM".utf8))
        #expect(transport.tlsServerName == "api.internal")
        #expect(transport.proxyURL == "http://proxy:3128")
        #expect(!transport.insecureSkipTLSVerify)
        #expect(transport.userAgent.hasPrefix("beluga-secrets/"))

        let insecure = try fixtures.write(
            "i", kubeconfigText(server: "https://h:1", clusterExtra: "    insecure-skip-tls-verify: true\n"))
        #expect(try load(fixtures, kubeconfig: insecure).transport.insecureSkipTLSVerify)
    }

    @Test func tlsServerNameConnectsToTheRealHost() throws {
        let endpoint = try ServerEndpoint(server: "https://127.0.0.1:6443/", tlsServerName: "api.internal")
        #expect(endpoint.baseURL == "https://api.internal:6443")
        #expect(endpoint.connectTo == "api.internal:6443:127.0.0.1:6443")
        #expect(endpoint.hostHeader == "127.0.0.1:6443")
        let plain = try ServerEndpoint(server: "https://127.0.0.1:6443/prefix/", tlsServerName: nil)
        #expect(plain.baseURL == "https://127.0.0.1:6443/prefix")
    }

    // MARK: Bad input: each error names the file and what is wrong, and never a credential.

    @Test func missingExplicitFile() throws {
        let fixtures = try Fixtures()
        let path = fixtures.path + "/nope/config"
        expectError(.configuration, containing: [path, "does not exist"]) { () throws(KubeError) in
            _ = try load(fixtures, kubeconfig: path)
        }
    }

    @Test func unreadableFile() throws {
        let fixtures = try Fixtures()
        let folder = fixtures.path + "/folder"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        expectError(.configuration, containing: [folder, "is a folder"]) { () throws(KubeError) in
            _ = try load(fixtures, kubeconfig: folder)
        }
        if getuid() != 0 {  // root reads any file
            let locked = try fixtures.write("locked", kubeconfigText(server: "https://h:1"), mode: 0o000)
            expectError(.configuration, containing: [locked, "cannot be read"]) { () throws(KubeError) in
                _ = try load(fixtures, kubeconfig: locked)
            }
        }
    }

    @Test func yamlErrorSaysWhereAndHidesTheText() throws {
        let fixtures = try Fixtures()
        var markers = LeakMarkers()
        let secret = markers.make("token")
        let file = try fixtures.write(
            "bad",
            """
            apiVersion: v1
            users:
            - name: u
              user:
                token: "\(secret)
                  - : [unclosed
            """)
        expectError(.configuration, containing: [file, "not valid YAML", "line"]) { () throws(KubeError) in
            _ = try load(fixtures, kubeconfig: file)
        }
        do {
            _ = try load(fixtures, kubeconfig: file)
        } catch {
            #expect(markers.leaks(in: error.message).isEmpty)
        }
    }

    @Test func notAKubeconfig() throws {
        let fixtures = try Fixtures()
        let file = try fixtures.write("list", "- a\n- b\n")
        expectError(.configuration, containing: [file, "not a kubeconfig"]) { () throws(KubeError) in
            _ = try load(fixtures, kubeconfig: file)
        }
    }

    @Test func unknownContextUserAndCluster() throws {
        let fixtures = try Fixtures()
        let file = try fixtures.write("config", kubeconfigText(server: "https://h:1"))
        expectError(.configuration, containing: ["context \"prod\" not found in \(file)", "test"]) {
            () throws(KubeError) in
            _ = try load(fixtures, kubeconfig: file, context: "prod")
        }
        let badUser = try fixtures.write(
            "bad-user",
            kubeconfigText(server: "https://h:1").replacingOccurrences(
                of: "    user: tester", with: "    user: ghost"))
        expectError(.configuration, containing: ["user \"ghost\"", "not found in \(badUser)"]) {
            () throws(KubeError) in
            _ = try load(fixtures, kubeconfig: badUser)
        }
        let badCluster = try fixtures.write(
            "bad-cluster",
            kubeconfigText(server: "https://h:1").replacingOccurrences(
                of: "    cluster: test", with: "    cluster: gone"))
        expectError(.configuration, containing: ["cluster \"gone\"", "not found in \(badCluster)"]) {
            () throws(KubeError) in
            _ = try load(fixtures, kubeconfig: badCluster)
        }
        let noCurrent = try fixtures.write(
            "no-current", kubeconfigText(server: "https://h:1", currentContext: nil))
        expectError(.configuration, containing: ["no current context", noCurrent, "--context"]) {
            () throws(KubeError) in
            _ = try load(fixtures, kubeconfig: noCurrent)
        }
    }

    @Test func contradictoryOrIncompleteSettings() throws {
        let fixtures = try Fixtures()
        let ca = Data("CA".utf8).base64EncodedString()
        let both = try fixtures.write(
            "both",
            kubeconfigText(
                server: "https://h:1",
                clusterExtra: "    insecure-skip-tls-verify: true\n    certificate-authority-data: \(ca)\n"))
        expectError(.configuration, containing: [both, "insecure-skip-tls-verify"]) { () throws(KubeError) in
            _ = try load(fixtures, kubeconfig: both)
        }
        let tokenAndBasic = try fixtures.write(
            "tb",
            kubeconfigText(
                server: "https://h:1", userBody: "    token: abc\n    username: u\n    password: p\n"))
        expectError(.configuration, containing: [tokenAndBasic, "both a token and a username"]) {
            () throws(KubeError) in
            _ = try load(fixtures, kubeconfig: tokenAndBasic)
        }
        let certOnly = try fixtures.write(
            "co", kubeconfigText(server: "https://h:1", userBody: "    client-certificate-data: \(ca)\n"))
        expectError(.configuration, containing: [certOnly, "certificate but no key"]) {
            () throws(KubeError) in
            _ = try load(fixtures, kubeconfig: certOnly)
        }
        let badBase64 = try fixtures.write(
            "b64", kubeconfigText(server: "https://h:1", userBody: "    client-key-data: '%%%not-base64'\n"))
        expectError(.configuration, containing: [badBase64, "client-key-data is not valid base64"]) {
            () throws(KubeError) in
            _ = try load(fixtures, kubeconfig: badBase64)
        }
        let missingCA = try fixtures.write(
            "mca",
            kubeconfigText(server: "https://h:1", clusterExtra: "    certificate-authority: nowhere.pem\n"))
        expectError(.configuration, containing: [fixtures.path + "/nowhere.pem", "certificate-authority"]) {
            () throws(KubeError) in
            _ = try load(fixtures, kubeconfig: missingCA)
        }
        let noServer = try fixtures.write("ns", kubeconfigText(server: "''"))
        expectError(.configuration, containing: [noServer, "has no server"]) { () throws(KubeError) in
            _ = try load(fixtures, kubeconfig: noServer)
        }
        let execV1 = try fixtures.write(
            "ev1",
            kubeconfigText(
                server: "https://h:1",
                userBody: "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: x\n"))
        expectError(.configuration, containing: [execV1, "interactiveMode is required"]) {
            () throws(KubeError) in
            _ = try load(fixtures, kubeconfig: execV1)
        }
        let provider = try fixtures.write(
            "ap", kubeconfigText(server: "https://h:1", userBody: "    auth-provider:\n      name: oidc\n"))
        expectError(.configuration, containing: [provider, "auth-provider \"oidc\"", "exec"]) {
            () throws(KubeError) in
            _ = try load(fixtures, kubeconfig: provider)
        }
    }

    @Test func nothingFoundOutsideACluster() throws {
        let fixtures = try Fixtures()
        expectError(
            .configuration, containing: ["no kubeconfig found", fixtures.path + "/home/.kube/config"]
        ) {
            () throws(KubeError) in
            _ = try load(fixtures)
        }
    }

    @Test func errorsMapToTheDocumentedExitCodes() {
        #expect(KubeError(.configuration, "").exitCode == 1)
        #expect(KubeError(.notFound, "").exitCode == 2)
        #expect(KubeError(.conflict, "").exitCode == 3)
        #expect(KubeError(.alreadyExists, "").exitCode == 3)
        #expect(KubeError(.forbidden, "").exitCode == 4)
        #expect(KubeError(.unauthorized, "").exitCode == 4)
        #expect(KubeError(.unreachable, "").exitCode == 5)
        #expect(KubeError(.timeout, "").exitCode == 5)
        #expect(KubeError(.invalid, "").exitCode == 6)
    }

    // MARK: - YAML as kubectl reads it (go-yaml v2, YAML 1.1)

    @Test func yamlOneOneScalarsAnchorsAndMergesReadAsKubectlReadsThem() throws {
        let fixtures = try Fixtures()
        let file = try fixtures.write(
            "yaml11",
            """
            current-context: 'dev'
            clusters:
            - name: base
              cluster: &base
                server: https://10.0.0.1:6443
                insecure-skip-tls-verify: y
            - name: copy
              cluster:
                <<: *base
                server: https://10.0.0.2:6443
            users:
            - name: ops
              user:
                token: !!str 0x1F2E
            contexts:
            - {name: dev, context: {cluster: copy, user: ops, namespace: "0123"}}
            """)
        let configuration = try load(fixtures, kubeconfig: file)
        #expect(configuration.transport.server == "https://10.0.0.2:6443")
        #expect(configuration.transport.insecureSkipTLSVerify, "y is true in YAML 1.1, as kubectl reads it")
        #expect(configuration.namespace == "0123")
        guard case .bearerToken(let token) = configuration.authentication else {
            Issue.record("expected a bearer token")
            return
        }
        #expect(token.value == "0x1F2E")
    }

    @Test func valuesYAMLReadsAsNumbersOrBooleansAreRefusedWhereStringsBelong() throws {
        let fixtures = try Fixtures()
        // kubectl refuses these too ("cannot unmarshal number into ... of type string").
        for (body, field) in [
            ("    token: 0123456789\n", "token"), ("    token: 0o17\n", "token"),
            ("    username: yes\n    password: p\n", "username"),
        ] {
            let file = try fixtures.write(
                "typed-\(field)", kubeconfigText(server: "https://h:1", userBody: body))
            expectError(
                .configuration,
                containing: [file, "users[\"tester\"].user.\(field) must be a string", "quotes"]
            ) {
                () throws(KubeError) in
                _ = try load(fixtures, kubeconfig: file)
            }
            do {
                _ = try load(fixtures, kubeconfig: file)
            } catch {
                #expect(!error.message.contains("0123456789"), "the value is not shown: \(error.message)")
            }
        }
        let numericName = try fixtures.write(
            "numeric-name",
            kubeconfigText(server: "https://h:1").replacingOccurrences(
                of: "- name: test\n  cluster:", with: "- name: 1234\n  cluster:"))
        expectError(.configuration, containing: [numericName, "clusters[0].name must be a string"]) {
            () throws(KubeError) in
            _ = try load(fixtures, kubeconfig: numericName)
        }
    }

    @Test func aKeyGivenTwiceIsRefusedWithItsLine() throws {
        let fixtures = try Fixtures()
        // kubectl keeps the last server; a second server line is a mistake worth stopping for.
        let file = try fixtures.write(
            "twice", kubeconfigText(server: "https://first:1", clusterExtra: "    server: https://second:1\n")
        )
        expectError(
            .configuration, containing: [file, "not valid YAML", "line 8", "\"server\" is given twice"]
        ) {
            () throws(KubeError) in
            _ = try load(fixtures, kubeconfig: file)
        }
    }
}
