import Foundation
import JSONValue
import KubeEmulator
import Testing
import TestSupport

@testable import KubeAPI

/// The same kubeconfig file for the installed `kubectl` and this client: each reads what the
/// other wrote.
@Suite struct KubectlInteropTests {
    @Test func kubectlAndClientShareAKubeconfig() async throws {
        try await withEmulator { fixture in
            var markers = LeakMarkers()
            let value = markers.make("api-key")
            let path = fixture.kubeconfigPath

            // kubectl writes (protobuf bodies), the client reads.
            let created = try await fixture.kubectl(
                ["create", "secret", "generic", "from-kubectl", "--from-literal=openai-api-key=\(value)"],
                kubeconfig: path)
            #expect(created.status == 0, "\(created.stderr)")
            let client = try makeClient(kubeconfig: path)
            let secret = try await client.get(Secret.self, name: "from-kubectl")
            #expect(secret.data["openai-api-key"] == Array(value.utf8))

            // The client writes, kubectl reads.
            var map = ConfigMap(name: "from-client")
            map["llmProvider"] = "anthropic"
            _ = try await client.create(map)
            let read = try await fixture.kubectl(
                ["get", "configmap", "from-client", "-o", "jsonpath={.data.llmProvider}"], kubeconfig: path)
            #expect(read.status == 0, "\(read.stderr)")
            #expect(read.stdout == "anthropic")

            // Both use the context's namespace and honour a context chosen by flag.
            let context = try await fixture.kubectl(["config", "current-context"], kubeconfig: path)
            #expect(
                client.configuration.identity.context
                    == context.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        }
    }

    @Test func bothRejectTheSameBrokenFile() async throws {
        try await withEmulator { fixture in
            let fixtures = try Fixtures()
            let text = try String(contentsOfFile: fixture.kubeconfigPath, encoding: .utf8)
            let path = try fixtures.write("config", text)
            let kubectl = try await fixture.kubectl(
                ["get", "configmaps", "--context", "prod"], kubeconfig: path)
            #expect(kubectl.status != 0)
            do {
                _ = try makeClient(kubeconfig: path, context: "prod")
                Issue.record("expected an unknown context")
            } catch let error as KubeError {
                #expect(error.message == "context \"prod\" not found in \(path) (contexts: kube-emulator)")
            }
        }
    }
}
