import Foundation
import JSONValue
import KubeEmulator
import Testing
import TestSupport

@testable import KubeAPI

/// Credentials as the emulator judges them: 401 and 403 messages, exec plugins re-run after a
/// 401, and the in-cluster service account with token rotation.
@Suite struct ServerAuthenticationTests {
    static let everything = [AccessRule(verbs: ["*"], apiGroups: ["*"], resources: ["*"])]

    @Test func wrongTokenIsUnauthorizedAndNamesUserAndCluster() async throws {
        // TLS: credentials are sent to an https server only.
        try await withEmulator(.init(tls: true, rolloutDelay: .milliseconds(50))) { fixture in
            var markers = LeakMarkers()
            let token = markers.make("token")
            let path = try fixture.kubeconfig(user: "bob", token: token)
            let client = try makeClient(kubeconfig: path)
            do {
                _ = try await client.list(Secret.self)
                Issue.record("expected 401")
            } catch let error as KubeError {
                #expect(error.category == .unauthorized)
                #expect(error.exitCode == 4)
                #expect(error.message.contains("user \"bob\""))
                #expect(error.message.contains("cluster \"kube-emulator\""))
                #expect(error.message.contains(path))
                #expect(markers.leaks(in: error.message).isEmpty)
            }
        }
    }

    @Test func forbiddenNamesVerbResourceAndNamespace() async throws {
        // TLS: credentials are sent to an https server only.
        try await withEmulator(.init(tls: true, rolloutDelay: .milliseconds(50))) { fixture in
            fixture.emulator.setPolicy(
                AccessPolicy(users: [
                    .init(
                        info: UserInfo(name: "reader"), token: "reader-token",
                        rules: [AccessRule(verbs: ["get", "list"], resources: ["configmaps"])])
                ]))
            let client = try makeClient(
                kubeconfig: try fixture.kubeconfig(user: "reader", token: "reader-token"))
            _ = try await client.list(ConfigMap.self)
            do {
                _ = try await client.get(Secret.self, name: "beluga-ai-secrets", namespace: "prod")
                Issue.record("expected 403")
            } catch let error as KubeError {
                #expect(error.category == .forbidden)
                #expect(
                    error.message.contains("cannot get secrets \"beluga-ai-secrets\" in namespace \"prod\""))
                #expect(error.message.contains("kubectl auth can-i get secrets beluga-ai-secrets -n prod"))
            }
            do {
                _ = try await client.patch(
                    Deployment.self, name: "beluga-ai", patch: .merge(["spec": ["replicas": 1]]))
                Issue.record("expected 403")
            } catch let error as KubeError {
                #expect(
                    error.message.contains(
                        "cannot patch deployments.apps \"beluga-ai\" in namespace \"default\"")
                )
            }
        }
    }

    @Test func execPluginRunsAgainAfterA401() async throws {
        // TLS: credentials are sent to an https server only.
        try await withEmulator(.init(tls: true, rolloutDelay: .milliseconds(50))) { fixture in
            fixture.emulator.setPolicy(
                AccessPolicy(users: [
                    .init(info: UserInfo(name: "eks-user"), token: "fresh-token", rules: Self.everything)
                ]))
            let fixtures = try Fixtures()
            // First run: a token the server no longer accepts; later runs: the fresh one, read
            // from a file (never from argv or the environment).
            try fixtures.write("fresh", "fresh-token")
            try fixtures.script(
                "bin/aws-login",
                """
                runs=$(cat "\(fixtures.path)/count" 2>/dev/null | wc -l)
                echo run >> "\(fixtures.path)/count"
                if [ "$runs" -eq 0 ]; then token=revoked-token; else token=$(cat "\(fixtures.path)/fresh"); fi
                printf '{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","status":{"token":"%s"}}\\n' "$token"
                """)
            let text = fixture.emulator.kubeconfig(user: "eks-user", credentials: [:])
                .replacingOccurrences(
                    of: "  user:\n",
                    with: """
                          user:
                            exec:
                              apiVersion: client.authentication.k8s.io/v1beta1
                              command: ./bin/aws-login
                              args: [eks, get-token]

                        """)
            let path = try fixtures.write("kubeconfig", text)
            let client = try makeClient(kubeconfig: path)
            _ = try await client.create(ConfigMap(name: "via-exec"))
            #expect(fixtures.read("count").split(separator: "\n").count == 2, "rerun once after the 401")
            _ = try await client.list(ConfigMap.self)
            #expect(await client.execPluginRuns == 2, "the accepted credential is cached")

            // kubectl runs the same plugin from the same file.
            let result = try await fixture.kubectl(["get", "configmaps", "-o", "name"], kubeconfig: path)
            #expect(result.status == 0, "\(result.stderr)")
        }
    }

    @Test func inClusterServiceAccountWithTokenRotation() async throws {
        try await withEmulator(.init(tls: true, rolloutDelay: .milliseconds(50))) { fixture in
            let account = UserInfo.serviceAccount(namespace: "beluga", name: "agent")
            fixture.emulator.setPolicy(
                AccessPolicy(users: [
                    .init(info: account, token: "sa-token-1", rules: Self.everything),
                    .init(info: account, token: "sa-token-3", rules: Self.everything),
                ]))
            let fixtures = try Fixtures()
            try fixtures.write("sa/token", "sa-token-1")
            try fixtures.write("sa/namespace", "beluga")
            try fixtures.write("sa/ca.crt", fixture.emulator.certificateAuthority?.certificatePEM ?? "")
            var configuration = try ClientConfiguration.load(
                .init(
                    environment: [
                        "HOME": fixtures.path, "KUBERNETES_SERVICE_HOST": "127.0.0.1",
                        "KUBERNETES_SERVICE_PORT": "\(fixture.emulator.port)",
                    ], serviceAccountDirectory: fixtures.path + "/sa"))
            configuration.tokenRefreshInterval = .milliseconds(300)
            configuration.retryPolicy = RetryPolicy(maximumAttempts: 2, initialBackoff: .milliseconds(10))
            let client = try KubeClient(configuration: configuration)
            #expect(client.namespace == "beluga")
            _ = try await client.create(Namespace(name: "beluga"))
            _ = try await client.create(ConfigMap(name: "probe"))

            // The kubelet rotates the token to one the server refuses: after the refresh interval
            // the client uses it (and fails).
            try fixtures.write("sa/token", "sa-token-2")
            try await Task.sleep(for: .milliseconds(400))
            do {
                _ = try await client.get(ConfigMap.self, name: "probe")
                Issue.record("the rotated (refused) token must have been read")
            } catch let error as KubeError {
                #expect(error.category == .unauthorized)
                #expect(error.message.contains("service account"))
            }
            // A valid token appears: the next request reads it at once after its 401.
            try fixtures.write("sa/token", "sa-token-3")
            let probe = try await client.get(ConfigMap.self, name: "probe")
            #expect(probe.name == "probe")
        }
    }
}
