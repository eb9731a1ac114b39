import JSONValue
import KubeAPI
import Sealing

/// One entry of `keys.json` (docs/formats.md, "Sealing keys"): a sealing public key, when it was
/// made, where it stands, and the agent identity's signature over it.
public struct PublishedSealingKey: Sendable, Equatable {
    /// Where a sealing key stands.
    public enum State: String, Sendable {
        /// New envelopes are sealed to it.
        case current
        /// Still opens the envelopes sealed to it; no longer used for new ones.
        case previous
        /// Its private key is gone; envelopes sealed to it cannot be opened any more.
        case retired
    }

    public var kid: String
    /// Standard base64 of the 32-byte X25519 public key.
    public var publicKey: String
    public var createdAt: String
    /// Standard base64 of the Ed25519 signature over `signedText`.
    public var signature: String
    public var state: State

    public init(kid: String, publicKey: String, createdAt: String, signature: String, state: State) {
        self.kid = kid
        self.publicKey = publicKey
        self.createdAt = createdAt
        self.signature = signature
        self.state = state
    }

    /// What the identity key signs: `beluga-secrets/sealing-key/v1\n<kid>\n<publicKey>\n<createdAt>`.
    public static func signedText(kid: String, publicKey: String, createdAt: String) -> String {
        "beluga-secrets/sealing-key/v1\n\(kid)\n\(publicKey)\n\(createdAt)"
    }

    /// A new entry for `publicKey`, signed by `identity`.
    public init(
        signing publicKey: SealingPublicKey, createdAt: String, state: State, identity: SigningKeyPair
    ) {
        let text = Self.signedText(
            kid: publicKey.keyID.hex, publicKey: publicKey.base64, createdAt: createdAt)
        self.init(
            kid: publicKey.keyID.hex, publicKey: publicKey.base64, createdAt: createdAt,
            signature: Base64.encode(identity.sign(Array(text.utf8))), state: state)
    }

    /// Whether `identity` signed this entry, and the public key matches its kid.
    public func isSigned(by identity: SigningPublicKey) -> Bool {
        guard let key = try? SealingPublicKey(base64: publicKey), key.keyID.hex == kid,
            let signatureBytes = SigningPublicKey.signature(base64: signature)
        else { return false }
        let text = Self.signedText(kid: kid, publicKey: publicKey, createdAt: createdAt)
        return identity.verify(signature: signatureBytes, of: Array(text.utf8))
    }

    var json: JSON {
        [
            "kid": .string(kid), "publicKey": .string(publicKey), "createdAt": .string(createdAt),
            "signature": .string(signature), "state": .string(state.rawValue),
        ]
    }

    init?(json: JSON) {
        guard let kid = json["kid"]?.stringValue, let publicKey = json["publicKey"]?.stringValue,
            let createdAt = json["createdAt"]?.stringValue, let signature = json["signature"]?.stringValue,
            let state = json["state"]?.stringValue.flatMap(State.init(rawValue:))
        else { return nil }
        self.init(kid: kid, publicKey: publicKey, createdAt: createdAt, signature: signature, state: state)
    }

    /// `keys.json`: the entries, oldest first.
    static func listText(_ entries: [PublishedSealingKey]) -> String {
        JSON.array(entries.map(\.json)).jsonText
    }

    static func parseList(_ text: String) -> [PublishedSealingKey]? {
        guard let array = (try? JSON(parsing: text))?.arrayValue else { return nil }
        let entries = array.compactMap(PublishedSealingKey.init(json:))
        return entries.count == array.count ? entries : nil
    }
}
