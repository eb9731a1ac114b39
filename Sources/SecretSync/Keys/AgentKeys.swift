import JSONValue
import Sealing
import TimeFormat

/// The agent's keys in one namespace: its Ed25519 identity, its X25519 sealing key pairs (one
/// current), and the signed list of them it publishes (docs/formats.md, "Sealing keys").
///
/// The Secret `beluga-secrets-sealing-key` is the source of truth; the public-key ConfigMap is
/// derived from it and rewritten whenever it differs, so an edit of the ConfigMap cannot change
/// which key operators seal to without the identity's signature.
public struct AgentKeys: Sendable {
    public private(set) var identity: SigningKeyPair
    public private(set) var keyring: SealingKeyring
    /// Every sealing key ever made here, oldest first, retired ones included.
    public private(set) var entries: [PublishedSealingKey]
    /// The identity's signed word on which key is current, with its counter.
    public private(set) var currentStatement: CurrentKeyStatement

    /// Data keys of the sealing-key Secret.
    public static let identityDataKey = "identity.key"
    public static let keysDataKey = "keys.json"
    /// The signed current-key statement, in the Secret and in the ConfigMap alike.
    public static let currentStatementDataKey = "current.json"
    static let privateKeySuffix = ".key"

    /// Data keys of the public-key ConfigMap.
    public static let currentDataKey = "current"
    public static let sealingPublicKeyDataKey = "sealing.pub"
    public static let identityPublicKeyDataKey = "identity.pub"

    /// Fresh keys for `namespace`: a new identity and a first sealing key, current with counter 1.
    public static func create(at createdAt: String, namespace: String) -> AgentKeys {
        let identity = SigningKeyPair.generate()
        let pair = SealingKeyPair.generate()
        let entry = PublishedSealingKey(
            signing: pair.publicKey, createdAt: createdAt, state: .current, identity: identity)
        let statement = CurrentKeyStatement.sign(
            namespace: namespace, key: pair.publicKey, counter: 1, at: createdAt, identity: identity)
        return AgentKeys(
            identity: identity, keyring: SealingKeyring(current: pair), entries: [entry],
            currentStatement: statement)
    }

    private init(
        identity: SigningKeyPair, keyring: SealingKeyring, entries: [PublishedSealingKey],
        currentStatement: CurrentKeyStatement
    ) {
        self.identity = identity
        self.keyring = keyring
        self.entries = entries
        self.currentStatement = currentStatement
    }

    /// Reads the keys of `namespace` from the sealing-key Secret's data.
    public init(
        secretData data: [String: [UInt8]], secretName: String, namespace: String
    ) throws(AgentKeysError) {
        guard let identityBytes = data[Self.identityDataKey] else {
            throw .damaged(secret: secretName, problem: "it has no \(Self.identityDataKey)")
        }
        let identity: SigningKeyPair
        do {
            identity = try SigningKeyPair(libsodiumSecretKey: SecureBytes(identityBytes))
        } catch {
            throw .damaged(
                secret: secretName, problem: "\(Self.identityDataKey) is not an Ed25519 key (\(error))")
        }
        var pairs: [String: SealingKeyPair] = [:]
        for (name, bytes) in data where name.hasSuffix(Self.privateKeySuffix) && name != Self.identityDataKey
        {
            let kid = String(name.dropLast(Self.privateKeySuffix.count))
            guard let pair = try? SealingKeyPair(privateKey: SecureBytes(bytes)), pair.keyID.hex == kid else {
                throw .damaged(
                    secret: secretName, problem: "\(name) is not the X25519 private key of kid \(kid)")
            }
            pairs[kid] = pair
        }
        var entries =
            data[Self.keysDataKey].flatMap {
                PublishedSealingKey.parseList(String(decoding: $0, as: UTF8.self))
            } ?? []
        // Keys whose entry is missing (a Secret written by hand or by an older agent) get one,
        // signed now; the newest becomes current when none is.
        let now = RFC3339.format(.now())
        for kid in pairs.keys.sorted() where !entries.contains(where: { $0.kid == kid }) {
            if let pair = pairs[kid] {
                entries.append(
                    PublishedSealingKey(
                        signing: pair.publicKey, createdAt: now, state: .previous, identity: identity))
            }
        }
        for index in entries.indices {
            if pairs[entries[index].kid] == nil { entries[index].state = .retired }
            // Re-sign entries whose signature is not the identity's (e.g. after a hand edit).
            if !entries[index].isSigned(by: identity.publicKey), let pair = pairs[entries[index].kid] {
                let state = entries[index].state
                entries[index] = PublishedSealingKey(
                    signing: pair.publicKey, createdAt: entries[index].createdAt, state: state,
                    identity: identity)
            }
        }
        let currentKid =
            entries.last(where: { $0.state == .current && pairs[$0.kid] != nil })?.kid
            ?? entries.last(where: { pairs[$0.kid] != nil })?.kid
        guard let currentKid, let current = pairs[currentKid] else {
            throw .damaged(secret: secretName, problem: "it holds no sealing key")
        }
        for index in entries.indices where entries[index].state != .retired {
            entries[index].state = entries[index].kid == currentKid ? .current : .previous
        }
        // The stored statement stands while it names this key; otherwise (a Secret written by an
        // older agent, or edited) a new one is signed with a higher counter than any stored.
        let stored = data[Self.currentStatementDataKey].flatMap {
            try? CurrentKeyStatement(parsing: String(decoding: $0, as: UTF8.self))
        }
        let statement: CurrentKeyStatement
        if let stored, stored.isSigned(by: identity.publicKey), stored.namespace == namespace,
            stored.kid == currentKid, stored.publicKey == current.publicKey.base64
        {
            statement = stored
        } else {
            statement = CurrentKeyStatement.sign(
                namespace: namespace, key: current.publicKey, counter: stored?.nextCounter ?? 1, at: now,
                identity: identity)
        }
        self.init(
            identity: identity,
            keyring: SealingKeyring(
                current: current, others: pairs.values.filter { $0.keyID != current.keyID }),
            entries: entries, currentStatement: statement)
    }

    /// The current sealing key's entry.
    public var current: PublishedSealingKey {
        entries.first { $0.kid == keyring.currentKeyID.hex }
            ?? PublishedSealingKey(
                kid: keyring.currentKeyID.hex, publicKey: keyring.current.publicKey.base64, createdAt: "",
                signature: "", state: .current)
    }

    /// Makes a new sealing key current; the others keep opening what was sealed to them.
    @discardableResult
    public mutating func rotate(at createdAt: String) -> PublishedSealingKey {
        let pair = SealingKeyPair.generate()
        for index in entries.indices where entries[index].state == .current {
            entries[index].state = .previous
        }
        let entry = PublishedSealingKey(
            signing: pair.publicKey, createdAt: createdAt, state: .current, identity: identity)
        entries.append(entry)
        keyring.add(pair, makeCurrent: true)
        currentStatement = CurrentKeyStatement.sign(
            namespace: currentStatement.namespace, key: pair.publicKey, counter: currentStatement.nextCounter,
            at: createdAt, identity: identity)
        return entry
    }

    /// Drops the private key of a previous sealing key; its entry stays, marked retired.
    public mutating func retire(_ kid: KeyID) {
        guard kid != keyring.currentKeyID, keyring.remove(kid) else { return }
        for index in entries.indices where entries[index].kid == kid.hex { entries[index].state = .retired }
    }

    /// Previous keys, each with the time it was superseded (the next key's creation).
    public var previousKeys: [(kid: KeyID, supersededAt: String)] {
        var result: [(KeyID, String)] = []
        for (index, entry) in entries.enumerated() where entry.state == .previous {
            guard let kid = KeyID(entry.kid) else { continue }
            let next = entries[(index + 1)...].first?.createdAt ?? ""
            result.append((kid, next))
        }
        return result
    }

    /// The sealing-key Secret's data.
    public func secretData() -> [String: [UInt8]] {
        var data: [String: [UInt8]] = [:]
        data[Self.identityDataKey] = identity.libsodiumSecretKey.withUnsafeBytes { Array($0) }
        for kid in keyring.keyIDs {
            if let pair = keyring[kid] {
                data[kid.hex + Self.privateKeySuffix] = pair.privateKey.withUnsafeBytes { Array($0) }
            }
        }
        data[Self.keysDataKey] = Array(PublishedSealingKey.listText(entries).utf8)
        data[Self.currentStatementDataKey] = Array(currentStatement.text.utf8)
        return data
    }

    /// The public-key ConfigMap's data.
    public func publicKeyData() -> [String: String] {
        [
            Self.currentDataKey: keyring.currentKeyID.hex,
            Self.sealingPublicKeyDataKey: keyring.current.publicKey.base64,
            Self.identityPublicKeyDataKey: identity.publicKey.base64,
            Self.keysDataKey: PublishedSealingKey.listText(entries),
            Self.currentStatementDataKey: currentStatement.text,
        ]
    }
}

/// Why the agent cannot use the keys it finds.
public enum AgentKeysError: Error, Sendable, Equatable, CustomStringConvertible {
    case damaged(secret: String, problem: String)

    public var description: String {
        switch self {
        case .damaged(let secret, let problem):
            return "the sealing-key Secret \"\(secret)\" is damaged: \(problem); restore it from a backup "
                + "(deleting it makes the agent create new keys, and envelopes sealed to the old ones can no longer be opened)"
        }
    }
}
