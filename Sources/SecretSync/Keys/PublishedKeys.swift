import JSONValue
import KubeAPI
import Sealing

/// What the public-key ConfigMap (`beluga-secrets-public-key`) tells an operator, checked: the
/// agent's identity key, and the sealing keys it signed, one of them current.
///
/// The CLI pins `identity` per cluster and namespace on first use (its `signerID` is a short,
/// stable name for it) and then accepts any sealing key that identity signed and marked current
/// (`currentStatement`), so a sealing-key rotation needs nothing from operators while a replaced
/// identity, or a superseded key marked current again, is refused.
public struct PublishedKeys: Sendable {
    /// The agent's Ed25519 identity public key (`identity.pub`).
    public let identity: SigningPublicKey
    /// The key new envelopes must be sealed to (`current`, `sealing.pub`).
    public let current: SealingPublicKey
    /// Every sealing key the agent made, oldest first, each verified against `identity`.
    public let keys: [PublishedSealingKey]
    /// The identity's signed statement that `current` is current, with its counter.
    public let currentStatement: CurrentKeyStatement
    /// A rotation asked for with `keys rotate` and not yet carried out, if any.
    public let pendingRotation: String?

    /// Reads and checks the ConfigMap's `data`, read from `namespace`.
    public init(configMap: JSON, namespace: String) throws(PublishedKeysError) {
        let name = configMap[path: "metadata", "name"]?.stringValue ?? "beluga-secrets-public-key"
        let data = configMap["data"]?.objectValue?.compactMapValues(\.stringValue) ?? [:]
        func field(_ key: String) throws(PublishedKeysError) -> String {
            guard let value = data[key], !value.isEmpty else { throw .missing(configMap: name, field: key) }
            return value
        }
        let identityText = try field(AgentKeys.identityPublicKeyDataKey)
        guard
            let identity = try? SigningPublicKey(
                base64: identityText.trimmingWhitespace())
        else { throw .malformed(configMap: name, field: AgentKeys.identityPublicKeyDataKey) }
        let currentKid = try field(AgentKeys.currentDataKey).trimmingWhitespace()
        let sealingText = try field(AgentKeys.sealingPublicKeyDataKey).trimmingWhitespace()
        guard let current = try? SealingPublicKey(base64: sealingText) else {
            throw .malformed(configMap: name, field: AgentKeys.sealingPublicKeyDataKey)
        }
        guard let keys = PublishedSealingKey.parseList(try field(AgentKeys.keysDataKey)) else {
            throw .malformed(configMap: name, field: AgentKeys.keysDataKey)
        }
        guard current.keyID.hex == currentKid,
            let entry = keys.first(where: { $0.kid == currentKid }), entry.state == .current,
            entry.publicKey == current.base64
        else { throw .inconsistent(configMap: name) }
        for key in keys where !key.isSigned(by: identity) {
            throw .badSignature(configMap: name, kid: key.kid)
        }
        // Which key is current counts only under the identity's signature: every key it ever
        // made is signed, so without this a superseded key could be marked current again.
        guard let statementText = data[AgentKeys.currentStatementDataKey] else {
            throw .currentUnsigned(configMap: name)
        }
        let statement: CurrentKeyStatement
        do {
            statement = try CurrentKeyStatement(parsing: statementText)
        } catch {
            throw .badCurrentStatement(configMap: name, problem: error.description)
        }
        guard statement.isSigned(by: identity) else {
            throw .badCurrentStatement(
                configMap: name, problem: "it is not signed by the agent's identity key")
        }
        guard statement.namespace == namespace else {
            throw .badCurrentStatement(
                configMap: name, problem: "it was signed for namespace \"\(statement.namespace)\"")
        }
        guard statement.kid == currentKid, statement.publicKey == current.base64 else {
            throw .badCurrentStatement(
                configMap: name, problem: "it names sealing key \(statement.kid), not \(currentKid)")
        }
        self.identity = identity
        self.current = current
        self.keys = keys
        currentStatement = statement
        pendingRotation =
            configMap[path: "metadata", "annotations", SealingKeyRotation.requestAnnotation]?.stringValue
    }

    /// The entry of the current key (its creation time, for `status`).
    public var currentEntry: PublishedSealingKey? { keys.first { $0.kid == current.keyID.hex } }
}

/// Why a public-key ConfigMap cannot be trusted or used.
public enum PublishedKeysError: Error, Sendable, Equatable, CustomStringConvertible {
    case missing(configMap: String, field: String)
    case malformed(configMap: String, field: String)
    case inconsistent(configMap: String)
    case badSignature(configMap: String, kid: String)
    case currentUnsigned(configMap: String)
    case badCurrentStatement(configMap: String, problem: String)

    public var description: String {
        switch self {
        case .missing(let configMap, let field):
            return
                "ConfigMap \"\(configMap)\" has no \(field); is the agent running? It publishes its keys on start"
        case .malformed(let configMap, let field):
            return
                "\(field) in ConfigMap \"\(configMap)\" is not what the agent writes; the agent rewrites it within seconds, try again"
        case .inconsistent(let configMap):
            return "ConfigMap \"\(configMap)\" names a current key that its key list does not confirm; "
                + "it was edited by hand: wait for the agent to rewrite it, or check who changed it"
        case .badSignature(let configMap, let kid):
            return
                "sealing key \(kid) in ConfigMap \"\(configMap)\" is not signed by the agent's identity key; "
                + "do not seal to it, and check who changed the ConfigMap"
        case .currentUnsigned(let configMap):
            return
                "ConfigMap \"\(configMap)\" does not say under the agent's signature which sealing key is current "
                + "(no \(AgentKeys.currentStatementDataKey)); the agent is older than this beluga-secrets, or the "
                + "ConfigMap was edited: upgrade the agent, or wait for it to rewrite the ConfigMap"
        case .badCurrentStatement(let configMap, let problem):
            return
                "the current-key statement (\(AgentKeys.currentStatementDataKey)) in ConfigMap \"\(configMap)\" "
                + "cannot be trusted: \(problem); do not seal to it, and check who changed the ConfigMap"
        }
    }
}
