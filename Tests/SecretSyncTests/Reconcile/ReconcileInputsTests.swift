import JSONValue
import KubeAPI
import Sealing
import Testing

@testable import SecretSync

/// The pure decisions of one reconcile (`ReconcileInputs`, `SignerPolicy`), which the agent and
/// the `agent-plan` fuzz target share.
@Suite struct ReconcileInputsTests {
    let names = ObjectNames()
    let now = "2026-12-06T00:00:00Z"
    let required = PolicyRecord(policy: .required, since: "2026-12-01T00:00:00Z")

    func signers(policy: String?) -> AllowedSigners {
        var annotations: [String: JSON] = [:]
        if let policy { annotations[AllowedSigners.policyAnnotation] = .string(policy) }
        return ReconcileInputs.signers(
            [
                "apiVersion": "v1", "kind": "ConfigMap",
                "metadata": ["name": "beluga-secrets-signers", "annotations": .object(annotations)],
                "data": [:],
            ])
    }

    @Test func theAnnotationSetsThePolicyAndIsRecorded() {
        let decided = SignerPolicy.decide(
            signers: signers(policy: "required"), configMapExists: true, recorded: nil, configured: .optional,
            names: names, at: now)
        #expect(decided.policy == .required)
        #expect(decided.record == PolicyRecord(policy: .required, since: now))
        #expect(decided.kept == nil)
        #expect(decided.source == "annotation beluga-ai.io/signatures")
    }

    @Test func aValueThatIsNeitherCountsAsRequired() {
        let decided = SignerPolicy.decide(
            signers: signers(policy: "off"), configMapExists: true, recorded: nil, configured: .optional,
            names: names, at: now)
        #expect(decided.policy == .required)
    }

    @Test func aDeletedConfigMapKeepsTheRecordedRequiredPolicy() {
        let decided = SignerPolicy.decide(
            signers: ReconcileInputs.signers(nil), configMapExists: false, recorded: required,
            configured: .optional, names: names, at: now)
        #expect(decided.policy == .required)
        #expect(decided.record == required)
        #expect(decided.kept?.hasPrefix("ConfigMap beluga-secrets-signers is gone") == true)
    }

    @Test func aRemovedAnnotationKeepsTheRecordedRequiredPolicy() {
        let decided = SignerPolicy.decide(
            signers: signers(policy: nil), configMapExists: true, recorded: required, configured: .optional,
            names: names, at: now)
        #expect(decided.policy == .required)
        #expect(decided.kept?.hasPrefix("its annotation beluga-ai.io/signatures is gone") == true)
    }

    @Test func withNeitherTheFlagDecides() {
        let decided = SignerPolicy.decide(
            signers: signers(policy: nil), configMapExists: true, recorded: nil, configured: .required,
            names: names, at: now)
        #expect(decided.policy == .required)
        #expect(decided.kept == nil)
        #expect(decided.source == "--signatures")
        #expect(SignerPolicy.fallback(recorded: nil, configured: .optional) == .optional)
        #expect(SignerPolicy.fallback(recorded: required, configured: .optional) == .required)
    }

    @Test func managedKeysAreTrimmedAndEmptyNamesDropped() {
        var secret = Secret(name: "beluga-ai-secrets", namespace: "prod")
        secret.metadata.annotations[SecretPlan.managedKeysAnnotation] =
            " openai-api-key,, anthropic-api-key ,"
        #expect(ReconcileInputs.managedKeys(of: secret) == ["openai-api-key", "anthropic-api-key"])
        #expect(ReconcileInputs.managedKeys(of: nil) == [])
    }

    /// Found by the agent-plan fuzz target: a sealed-store data key that is not a Secret key name
    /// got a status entry the agent's own status reader refuses.
    @Test func aPlanRecordsNoStatusTheStatusReaderRefuses() throws {
        let store = ReconcileInputs.store(
            [
                "apiVersion": "v1", "kind": "ConfigMap",
                "metadata": ["name": "beluga-ai-secrets-sealed", "namespace": "prod"],
                "data": ["kubectl.kubernetes.io/last-applied-configuration": "bs1.2db5062f15fd04d1.AAAA"],
            ])
        let plan = ReconcileInputs.plan(
            namespace: "prod", names: names, store: store, live: nil, status: AgentStatus(),
            signerPolicy: SignerPolicy(signers: AllowedSigners(), policy: .optional),
            keyring: SealingKeyring(current: .generate()), at: now)
        #expect(plan.outcomes.isEmpty)
        var status = AgentStatus()
        status.keys = plan.status
        let reread = AgentStatus(configMap: status.writing(into: nil, name: names.status, namespace: "prod"))
        #expect(reread.problems.isEmpty)
        #expect(reread.sameContent(as: status))
    }

    /// Found by the agent-plan fuzz target: an applied version the agent read back differently
    /// from what it wrote (a deletion without its version), or could not record in its status (a
    /// version beyond the counters).
    @Test func appliedVersionsReadBackAsTheAgentWritesThem() {
        let text =
            #"{"a":{"deleted":{"at":"2026-12-06T00:51:40Z","ver$ion":2},"fingerprint":"","version":0},"#
            + #""b":{"fingerprint":"fp1:00","version":9223372036854775807},"#
            + #""c":{"deleted":{"at":"2026-12-06T00:51:40Z","version":3},"fingerprint":"","version":0}}"#
        let parsed = AppliedVersion.parse(text)
        #expect(parsed["a"] == AppliedVersion(version: 0, fingerprint: ""))
        #expect(parsed["b"] == nil)
        #expect(
            parsed["c"]
                == AppliedVersion(
                    version: 0, fingerprint: "", deletedVersion: 3, deletedAt: "2026-12-06T00:51:40Z"))
        #expect(AppliedVersion.parse(AppliedVersion.text(parsed)) == parsed)
    }
}
