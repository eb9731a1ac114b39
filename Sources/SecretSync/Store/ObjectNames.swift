/// The names of the objects beluga-ai uses in a namespace, derived from the Helm release the way
/// the chart derives them, each overridable by a flag.
public struct ObjectNames: Sendable, Equatable {
    /// The Helm release the names derive from.
    public var release: String
    /// Secret holding the plaintext keys, e.g. `beluga-ai-secrets`.
    public var secret: String
    /// ConfigMap holding the settings, e.g. `beluga-ai-config`.
    public var configMap: String
    /// ConfigMap holding the sealed envelopes: the Secret's name plus `-sealed`.
    public var sealedStore: String
    /// ConfigMap holding the agent's status (written by the agent only): the Secret's name plus
    /// `-status`.
    public var status: String
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

    /// The agent's own objects as every release named them before names derived from the
    /// release: one set per namespace. The agent's defaults, and what a release that already
    /// owns them keeps.
    public enum Legacy {
        public static let sealingKeySecret = "beluga-secrets-sealing-key"
        public static let publicKeyConfigMap = "beluga-secrets-public-key"
        public static let lease = "beluga-secrets-agent"
        public static let signers = "beluga-secrets-signers"
    }

    /// Names for the agent: the agent's own objects keep the fixed (legacy) names unless given,
    /// as `beluga-secrets agent` does without its name flags.
    public init(
        release: String = ObjectNames.defaultRelease, secret: String? = nil, configMap: String? = nil,
        deployment: String? = nil, sealingKeySecret: String = Legacy.sealingKeySecret,
        publicKeyConfigMap: String = Legacy.publicKeyConfigMap, lease: String = Legacy.lease,
        signers: String = Legacy.signers
    ) {
        let fullname = ObjectNames.fullname(release: release)
        self.release = release
        self.secret = secret ?? fullname + "-secrets"
        self.configMap = configMap ?? fullname + "-config"
        self.sealedStore = self.secret + "-sealed"
        self.status = self.secret + "-status"
        self.deployment = deployment ?? fullname
        self.sealingKeySecret = sealingKeySecret
        self.publicKeyConfigMap = publicKeyConfigMap
        self.lease = lease
        self.signers = signers
    }

    /// Every name derived from the release, as the chart names a new release's objects:
    /// `<fullname>-sealing-key`, `<fullname>-public-key`, `<fullname>-signers` and the Lease
    /// `<fullname>-agent`, so that several releases share a namespace.
    public static func derived(
        release: String = ObjectNames.defaultRelease, secret: String? = nil, configMap: String? = nil,
        deployment: String? = nil
    ) -> ObjectNames {
        let agent = AgentObjects(release: release)
        return ObjectNames(
            release: release, secret: secret, configMap: configMap, deployment: deployment,
            sealingKeySecret: agent.sealingKeySecret, publicKeyConfigMap: agent.publicKeyConfigMap,
            lease: agent.lease, signers: agent.signers)
    }

    /// The names with the agent's objects replaced.
    public func with(_ agent: AgentObjects) -> ObjectNames {
        var names = self
        names.sealingKeySecret = agent.sealingKeySecret
        names.publicKeyConfigMap = agent.publicKeyConfigMap
        names.lease = agent.lease
        names.signers = agent.signers
        return names
    }

    /// The agent's objects these names use.
    public var agentObjects: AgentObjects {
        AgentObjects(
            sealingKeySecret: sealingKeySecret, publicKeyConfigMap: publicKeyConfigMap, lease: lease,
            signers: signers)
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

/// The four objects of a release's agent: its sealing keys, its published public keys, its
/// Lease and its allowed signers.
public struct AgentObjects: Sendable, Equatable {
    public var sealingKeySecret: String
    public var publicKeyConfigMap: String
    public var lease: String
    public var signers: String

    public init(sealingKeySecret: String, publicKeyConfigMap: String, lease: String, signers: String) {
        self.sealingKeySecret = sealingKeySecret
        self.publicKeyConfigMap = publicKeyConfigMap
        self.lease = lease
        self.signers = signers
    }

    /// The names the chart derives from the release (its `beluga-ai.sealingKeyName` and
    /// siblings): the fullname, cut to leave room for the longest suffix, plus the suffix.
    public init(release: String) {
        var base = String(ObjectNames.fullname(release: release).prefix(51))
        while base.hasSuffix("-") { base.removeLast() }
        self.init(
            sealingKeySecret: base + "-sealing-key", publicKeyConfigMap: base + "-public-key",
            lease: base + "-agent", signers: base + "-signers")
    }

    /// The fixed names of releases installed before names derived from the release.
    public static let legacy = AgentObjects(
        sealingKeySecret: ObjectNames.Legacy.sealingKeySecret,
        publicKeyConfigMap: ObjectNames.Legacy.publicKeyConfigMap, lease: ObjectNames.Legacy.lease,
        signers: ObjectNames.Legacy.signers)
}
