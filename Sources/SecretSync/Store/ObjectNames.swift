/// The names of the objects beluga-ai uses in a namespace, derived from the Helm release the way
/// the chart derives them, each overridable by a flag.
public struct ObjectNames: Sendable, Equatable {
    /// Secret holding the plaintext keys, e.g. `beluga-ai-secrets`.
    public var secret: String
    /// ConfigMap holding the settings, e.g. `beluga-ai-config`.
    public var configMap: String
    /// ConfigMap holding the sealed envelopes: the Secret's name plus `-sealed`.
    public var sealedStore: String
    /// The Deployment restarted when the Secret or ConfigMap change.
    public var deployment: String
    /// Secret holding the agent's private keys.
    public var sealingKeySecret: String
    /// ConfigMap publishing the agent's public keys.
    public var publicKeyConfigMap: String
    /// Lease for leader election between agent replicas.
    public var lease: String
    /// ConfigMap listing the operators whose signed envelopes the agent accepts.
    public var signers: String

    public static let defaultRelease = "beluga-ai"
    static let chartName = "beluga-ai"

    public init(
        release: String = ObjectNames.defaultRelease, secret: String? = nil, configMap: String? = nil,
        deployment: String? = nil, sealingKeySecret: String = "beluga-secrets-sealing-key",
        publicKeyConfigMap: String = "beluga-secrets-public-key", lease: String = "beluga-secrets-agent",
        signers: String = "beluga-secrets-signers"
    ) {
        let fullname = ObjectNames.fullname(release: release)
        self.secret = secret ?? fullname + "-secrets"
        self.configMap = configMap ?? fullname + "-config"
        self.sealedStore = self.secret + "-sealed"
        self.deployment = deployment ?? fullname
        self.sealingKeySecret = sealingKeySecret
        self.publicKeyConfigMap = publicKeyConfigMap
        self.lease = lease
        self.signers = signers
    }

    /// The chart's `beluga-ai.fullname`: the release name when it already contains the chart
    /// name, else `<release>-beluga-ai`; at most 63 characters, no trailing dash.
    public static func fullname(release: String) -> String {
        let name = release.contains(chartName) ? release : release + "-" + chartName
        var truncated = String(name.prefix(63))
        while truncated.hasSuffix("-") { truncated.removeLast() }
        return truncated
    }
}
