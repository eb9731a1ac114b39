import JSONValue
import KubeAPI
import Sealing

/// The pure part of one reconcile: from the objects as read (the sealed store, the live Secret,
/// the agent's status, the allowed signers) to the decisions the agent acts on. No I/O and no
/// clock: `SecretReconciler` reads, calls these, then writes and reports; the fuzz target
/// `agent-plan` (Fuzz/Sources/FuzzAgentPlan) runs the very same functions on arbitrary objects.
enum ReconcileInputs {
    /// The store as the agent reads it: leniently, since the envelopes alone are enough to
    /// reconcile (damaged annotations are reported in `problems`).
    static func store(_ json: JSON) -> SealedStore {
        (try? SealedStore(configMap: json, lenient: true)) ?? SealedStore()
    }

    /// The allowed signers the ConfigMap holds, read leniently (none when it does not exist).
    static func signers(_ json: JSON?) -> AllowedSigners {
        json.map { AllowedSigners(lenientConfigMap: $0) } ?? AllowedSigners()
    }

    /// The keys the live Secret's `managed-keys` annotation lists.
    static func managedKeys(of live: Secret?) -> [String] {
        live?.metadata.annotations[SecretPlan.managedKeysAnnotation]?
            .split(separator: ",").map { $0.trimmingWhitespace() }
            .filter { !$0.isEmpty } ?? []
    }

    /// The plan for the Secret `names.secret` of `namespace`.
    static func plan(
        namespace: String, names: ObjectNames, store: SealedStore, live: Secret?, status: AgentStatus,
        signerPolicy: SignerPolicy, keyring: SealingKeyring, at now: String
    ) -> SecretPlan {
        SecretPlan(
            namespace: namespace, secretName: names.secret, store: store, status: status.keys,
            orphaned: status.orphaned, keyring: keyring,
            live: live?.data, managed: managedKeys(of: live), policy: signerPolicy.policy,
            signers: signerPolicy.signers,
            applied: AppliedVersion.parse(live?.metadata.annotations[AppliedVersion.annotation]),
            direct: Set(live.map { Array(DirectVersions(secret: $0.json).entries.keys) } ?? []),
            at: now)
    }
}

/// What the signers' ConfigMap decides: the allowed signers, the policy that applies, and the
/// policy to record in the status (see `PolicyRecord`).
struct SignerPolicy: Sendable {
    var signers: AllowedSigners
    var policy: SignaturePolicy
    var record: PolicyRecord?
    /// Why a stricter policy than the ConfigMap and flag give alone is kept, if it is.
    var kept: String?
    /// Where the policy comes from, for the log.
    var source = "--signatures"

    /// The policy that holds when the ConfigMap's annotation says nothing: the stricter of the
    /// one the annotation last set (`recorded`) and the agent's `--signatures` (`configured`).
    static func fallback(recorded: PolicyRecord?, configured: SignaturePolicy) -> SignaturePolicy {
        recorded?.policy == .required ? .required : configured
    }

    /// The policy: the annotation's when it is set (a value that is neither counts as
    /// `required`); else `fallback(recorded:configured:)`, so that deleting the ConfigMap
    /// (`configMapExists` false) or its annotation never weakens it silently.
    static func decide(
        signers: AllowedSigners, configMapExists: Bool, recorded: PolicyRecord?,
        configured: SignaturePolicy, names: ObjectNames, at now: String
    ) -> SignerPolicy {
        let fallback = fallback(recorded: recorded, configured: configured)
        var result = SignerPolicy(signers: signers, policy: fallback, record: recorded)
        if signers.policy != nil || signers.invalidPolicy != nil {
            result.policy = signers.effectivePolicy(default: configured)
            result.source = "annotation \(AllowedSigners.policyAnnotation)"
            if recorded?.policy != result.policy {
                result.record = PolicyRecord(policy: result.policy, since: now)
            }
        } else if fallback != configured {
            result.source =
                "kept from annotation \(AllowedSigners.policyAnnotation) of \(recorded?.since ?? "before")"
            result.kept =
                (configMapExists
                    ? "its annotation \(AllowedSigners.policyAnnotation) is gone"
                    : "ConfigMap \(names.signers) is gone")
                + "; signatures stay required, as the annotation set them: set the annotation to optional to "
                + "lower the policy"
        }
        return result
    }
}
