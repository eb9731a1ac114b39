import KubeAPI
import KubeEmulator
import Testing
import TestSupport

@testable import SecretSync

/// Which agent objects `--release R` uses, against the emulator: the names derived from the
/// release, the fixed names only when the objects under them are R's, and never another
/// release's objects.
@Suite struct AgentObjectsResolverTests {
    static let legacy = ObjectNames.Legacy.publicKeyConfigMap

    func client(_ fixture: EmulatorFixture) throws -> KubeClient {
        try KubeClient(
            options: ClientConfiguration.Options(kubeconfig: fixture.kubeconfigPath, environment: [:]))
    }

    /// A public-key ConfigMap as the chart renders it for `release` (Helm's ownership
    /// annotations and the instance label), or unmarked as an agent run without Helm makes it.
    func publish(_ name: String, release: String?, client: KubeClient) async throws {
        var object = ConfigMap(name: name, namespace: "default")
        object.metadata.labels = ["app.kubernetes.io/managed-by": release == nil ? "beluga-secrets" : "Helm"]
        if let release {
            object.metadata.labels["app.kubernetes.io/instance"] = release
            object.metadata.annotations = [
                "meta.helm.sh/release-name": release, "meta.helm.sh/release-namespace": "default",
            ]
        }
        object.data = ["current": release ?? "unmarked"]
        _ = try await client.create(object, namespace: "default")
    }

    func resolve(_ release: String, _ client: KubeClient) async throws -> AgentObjectsResolver.Resolution {
        try await AgentObjectsResolver.resolve(
            ObjectNames.derived(release: release), client: client, namespace: "default")
    }

    @Test func namesDeriveFromTheReleaseLikeTheChart() {
        let main = ObjectNames.derived()
        #expect(main.sealingKeySecret == "beluga-ai-sealing-key")
        #expect(main.publicKeyConfigMap == "beluga-ai-public-key")
        #expect(main.signers == "beluga-ai-signers")
        #expect(main.lease == "beluga-ai-agent")
        let canary = ObjectNames.derived(release: "beluga-ai-canary")
        #expect(canary.publicKeyConfigMap == "beluga-ai-canary-public-key")
        #expect(ObjectNames.derived(release: "prod").lease == "prod-beluga-ai-agent")
        // The agent without its name flags keeps the fixed names.
        #expect(ObjectNames().agentObjects == .legacy)
        // A long release: every name stays a valid object name, the fullname cut to 51.
        let long = ObjectNames.derived(release: String(repeating: "r", count: 70))
        for name in [long.sealingKeySecret, long.publicKeyConfigMap, long.signers, long.lease] {
            #expect(name.count <= 63 && !name.contains("--"))
        }
    }

    @Test func aReleaseInstalledWithDerivedNamesUsesThemEvenBesideAnOldRelease() async throws {
        try await withEmulator { fixture in
            let client = try client(fixture)
            try await publish(Self.legacy, release: "beluga-ai", client: client)
            try await publish("beluga-ai-canary-public-key", release: "beluga-ai-canary", client: client)
            let canary = try await resolve("beluga-ai-canary", client)
            #expect(canary.names.agentObjects == AgentObjects(release: "beluga-ai-canary"))
            #expect(canary.publicKeys?["current"] == "beluga-ai-canary")
            #expect(!canary.legacy)
            let main = try await resolve("beluga-ai", client)
            #expect(main.names.agentObjects == .legacy)
            #expect(main.publicKeys?["current"] == "beluga-ai")
            #expect(main.legacy)
        }
    }

    @Test func theFixedNamesOfAnotherReleaseAreNeverUsed() async throws {
        try await withEmulator { fixture in
            let client = try client(fixture)
            try await publish(Self.legacy, release: "beluga-ai", client: client)
            // The canary has no agent objects yet: the derived names, nothing read.
            let canary = try await resolve("beluga-ai-canary", client)
            #expect(canary.names.agentObjects == AgentObjects(release: "beluga-ai-canary"))
            #expect(canary.publicKeys == nil)
            #expect(!canary.legacy)
            // Marks that disagree (copied labels) make the object nobody's.
            var metadata = ObjectMeta()
            metadata.labels = ["app.kubernetes.io/instance": "beluga-ai-canary"]
            metadata.annotations = ["meta.helm.sh/release-name": "beluga-ai"]
            #expect(!AgentObjectsResolver.belongs(metadata, to: "beluga-ai-canary"))
            #expect(!AgentObjectsResolver.belongs(metadata, to: "beluga-ai"))
        }
    }

    @Test func anUnmarkedOldObjectIsTheDefaultReleasesOnly() async throws {
        try await withEmulator { fixture in
            let client = try client(fixture)
            // What an agent run without Helm (the demo, a plain manifest) publishes.
            try await publish(Self.legacy, release: nil, client: client)
            let main = try await resolve(ObjectNames.defaultRelease, client)
            #expect(main.names.agentObjects == .legacy)
            #expect(main.publicKeys?["current"] == "unmarked")
            let other = try await resolve("prod", client)
            #expect(other.names.agentObjects == AgentObjects(release: "prod"))
            #expect(other.publicKeys == nil)
        }
    }

    @Test func namesGivenExplicitlyAreKept() async throws {
        try await withEmulator { fixture in
            let client = try client(fixture)
            try await publish(Self.legacy, release: "beluga-ai", client: client)
            try await publish("beluga-ai-public-key", release: "beluga-ai", client: client)
            let given = ObjectNames.derived().with(
                AgentObjects(sealingKeySecret: "k", publicKeyConfigMap: "mine", lease: "l", signers: "s"))
            let resolved = try await AgentObjectsResolver.resolve(given, client: client, namespace: "default")
            #expect(resolved.names == given)
            #expect(resolved.publicKeys == nil)
            // Both exist for the release: the derived names win.
            let main = try await resolve("beluga-ai", client)
            #expect(main.names.publicKeyConfigMap == "beluga-ai-public-key")
        }
    }
}
