import JSONValue
import KubeAPI
import Testing

@testable import SecretSync

@Suite struct RestartDecisionTests {
    let contents: [ObjectReference: [String: [UInt8]]?] = [
        .secret("beluga-ai-secrets"): ["openai-api-key": Array("v1".utf8)],
        .configMap("beluga-ai-config"): ["llmProvider": Array("openai".utf8)],
    ]

    @Test func restartsWhenTheHashDiffersAndSaysWhy() {
        let decision = RestartDecision.decide(
            namespace: "prod", deployment: "beluga-ai",
            reloadAnnotation: "beluga-ai-secrets,beluga-ai-config",
            currentHash: "0123456789abcdef", contents: contents, changed: [.secret("beluga-ai-secrets")])
        #expect(decision.action == .restart)
        #expect(decision.objects == [.configMap("beluga-ai-config"), .secret("beluga-ai-secrets")])
        #expect(decision.hash == ContentHash.compute(contents))
        #expect(decision.reason.contains("0123456789ab → "))
        #expect(decision.reason.contains("secret/beluga-ai-secrets"))
        #expect(
            decision.patch
                == [
                    "spec": [
                        "template": [
                            "metadata": ["annotations": ["beluga-ai.io/content-hash": .string(decision.hash)]]
                        ]
                    ]
                ])
    }

    /// A new leader, the periodic check or `beluga-secrets restart` saw no change event, and says
    /// so rather than giving no cause.
    @Test func aRestartWithoutAChangeSeenSaysTheContentChangedMeanwhile() {
        let decision = RestartDecision.decide(
            namespace: "prod", deployment: "beluga-ai", reloadAnnotation: "beluga-ai-secrets",
            currentHash: "0123456789abcdef", contents: contents)
        #expect(decision.action == .restart)
        #expect(decision.reason.hasSuffix("; the content changed since the hash was recorded"))
        #expect(!decision.reason.contains("after a change of"))
    }

    @Test func leavesACurrentDeploymentAlone() {
        let hash = ContentHash.compute(contents)
        let decision = RestartDecision.decide(
            namespace: "prod", deployment: "beluga-ai",
            reloadAnnotation: "beluga-ai-secrets, beluga-ai-config",
            currentHash: hash, contents: contents, changed: [.secret("beluga-ai-secrets")])
        #expect(decision.action == .none)
        #expect(decision.reason.contains("is current"))
    }

    /// The agent's first look: no hash yet, so the content is taken as what the pods run and
    /// recorded in a label (no rollout); a later look compares with that label.
    @Test func recordsAMissingHashInALabelAndComparesWithIt() throws {
        let first = RestartDecision.decide(
            namespace: "prod", deployment: "beluga-ai",
            reloadAnnotation: "beluga-ai-secrets,beluga-ai-config",
            currentHash: nil, contents: contents, recordFirst: true)
        #expect(first.action == .record)
        #expect(first.reason.contains("no content hash recorded yet"))
        let label = ContentHash.labelValue(first.hash)
        #expect(label.count == 63 && first.hash.hasPrefix(label))
        #expect(first.patch == ["metadata": ["labels": ["beluga-ai.io/content-hash": .string(label)]]])

        let deployment = Deployment(json: [
            "metadata": ["name": "beluga-ai", "labels": ["beluga-ai.io/content-hash": .string(label)]],
            "spec": ["template": ["metadata": [:]]],
        ])
        let recorded = try #require(RestartDecision.recordedHash(of: deployment))
        let later = RestartDecision.decide(
            namespace: "prod", deployment: "beluga-ai",
            reloadAnnotation: "beluga-ai-secrets,beluga-ai-config",
            currentHash: recorded, contents: contents)
        #expect(later.action == .none)

        var changed = contents
        changed[.secret("beluga-ai-secrets")] = ["openai-api-key": Array("v2".utf8)]
        let afterChange = RestartDecision.decide(
            namespace: "prod", deployment: "beluga-ai",
            reloadAnnotation: "beluga-ai-secrets,beluga-ai-config",
            currentHash: recorded, contents: changed, recordFirst: true)
        #expect(afterChange.action == .restart)

        // Without `recordFirst` (a write from the workstation), a missing hash still restarts.
        let direct = RestartDecision.decide(
            namespace: "prod", deployment: "beluga-ai", reloadAnnotation: "beluga-ai-secrets",
            currentHash: nil, contents: contents)
        #expect(direct.action == .restart)
    }

    /// The pod template's hash wins over the label: it is what the pods were last rolled to.
    @Test func theTemplatesHashTakesPrecedenceOverTheLabel() {
        let deployment = Deployment(json: [
            "metadata": ["name": "d", "labels": ["beluga-ai.io/content-hash": "old"]],
            "spec": ["template": ["metadata": ["annotations": ["beluga-ai.io/content-hash": "new"]]]],
        ])
        #expect(RestartDecision.recordedHash(of: deployment) == "new")
        #expect(RestartDecision.recordedHash(of: Deployment(json: ["metadata": ["name": "d"]])) == nil)
        #expect(!ContentHash.matches(recorded: "abc", hash: "abcdef"))
    }

    @Test func hashesOnlyTheObjectsTheDeploymentNames() {
        let onlySecret = RestartDecision.decide(
            namespace: "prod", deployment: "d", reloadAnnotation: "secret/beluga-ai-secrets",
            currentHash: nil,
            contents: contents)
        #expect(onlySecret.objects == [.secret("beluga-ai-secrets")])
        #expect(onlySecret.action == .restart)
        #expect(onlySecret.reason.contains("no content hash recorded yet"))
        // A change of the ConfigMap does not move the hash of a Deployment that reloads only on
        // the Secret.
        var changed = contents
        changed[.configMap("beluga-ai-config")] = ["llmProvider": Array("anthropic".utf8)]
        let again = RestartDecision.decide(
            namespace: "prod", deployment: "d", reloadAnnotation: "secret/beluga-ai-secrets",
            currentHash: onlySecret.hash, contents: changed, changed: [.configMap("beluga-ai-config")])
        #expect(again.action == .none)
    }

    @Test func ignoresDeploymentsThatDoNotOptIn() {
        let none = RestartDecision.decide(
            namespace: "prod", deployment: "d", reloadAnnotation: nil, currentHash: nil, contents: contents)
        #expect(none.action == .none)
        #expect(none.reason.contains("not annotated"))
        let other = RestartDecision.decide(
            namespace: "prod", deployment: "d", reloadAnnotation: "configmap/beluga-ai-secrets,other",
            currentHash: nil, contents: contents)
        #expect(other.action == .none)
        #expect(other.reason.contains("none of which the agent manages"))
    }
}
