import JSONValue
import Sealing
import TimeFormat

/// The agent identity's signed word on which sealing key is current in a namespace
/// (docs/formats.md, "Sealing keys": `current.json`).
///
/// The identity signs every sealing key it makes, so a key list alone cannot tell a superseded
/// key from the current one: whoever may patch the public-key ConfigMap could mark an old key
/// current again. The statement names the current key under the identity's signature with a
/// counter the agent raises on every change of the current key; a workstation that saw counter
/// N refuses a key marked current with a lower one (an old statement replayed).
public struct CurrentKeyStatement: Sendable, Equatable {
    public var namespace: String
    /// The current sealing key's id (16 lower-case hex characters).
    public var kid: String
    /// Standard base64 of the current sealing key's 32 bytes.
    public var publicKey: String
    /// Raised by one each time another key becomes current; from 1.
    public var counter: Int
    /// When the identity signed it (RFC 3339 UTC).
    public var signedAt: String
    /// Ed25519 signature (64 bytes) by the identity over `signedText`.
    public var signature: [UInt8]

    /// The first line of the signed text, naming the format.
    public static let context = "beluga-secrets/current-sealing-key/v1"
    /// The highest counter: the largest integer every JSON reader holds exactly (2^53-1).
    public static let maximumCounter = 9_007_199_254_740_991
    /// The statement's JSON is a few hundred bytes; anything much longer is not one.
    static let maximumTextLength = 4096

    /// A statement for `key`, signed by `identity`.
    public static func sign(
        namespace: String, key: SealingPublicKey, counter: Int, at signedAt: String, identity: SigningKeyPair
    ) -> CurrentKeyStatement {
        var statement = CurrentKeyStatement(
            namespace: namespace, kid: key.keyID.hex, publicKey: key.base64,
            counter: min(max(counter, 1), maximumCounter), signedAt: signedAt, signature: [])
        statement.signature = identity.sign(Array(statement.signedText.utf8))
        return statement
    }

    /// What the identity signs: the context line, then namespace, counter, kid, public key and
    /// time, one per line, joined by `\n` (no final newline).
    public var signedText: String {
        [Self.context, namespace, String(counter), kid, publicKey, signedAt].joined(separator: "\n")
    }

    /// Whether `identity` signed this statement.
    public func isSigned(by identity: SigningPublicKey) -> Bool {
        identity.verify(signature: signature, of: Array(signedText.utf8))
    }

    /// The counter the next current key gets (saturating at `maximumCounter`).
    public var nextCounter: Int { counter < Self.maximumCounter ? counter + 1 : counter }

    // MARK: - JSON form

    /// `{"counter":…,"kid":…,"namespace":…,"publicKey":…,"signature":…,"signedAt":…}`, compact,
    /// members sorted.
    public var text: String {
        JSON.object([
            "counter": .int(counter), "kid": .string(kid), "namespace": .string(namespace),
            "publicKey": .string(publicKey), "signature": .string(StandardBase64.encode(signature)),
            "signedAt": .string(signedAt),
        ]).jsonText
    }

    private init(
        namespace: String, kid: String, publicKey: String, counter: Int, signedAt: String, signature: [UInt8]
    ) {
        self.namespace = namespace
        self.kid = kid
        self.publicKey = publicKey
        self.counter = counter
        self.signedAt = signedAt
        self.signature = signature
    }

    /// Reads a statement strictly: exactly the six members with their types, the counter in
    /// 1...`maximumCounter`, a kid that is the public key's, a 64-byte signature in canonical
    /// base64, an RFC 3339 time. Whether it is signed is `isSigned(by:)`'s question.
    public init(parsing text: String) throws(CurrentKeyStatementError) {
        guard text.utf8.count <= Self.maximumTextLength else { throw .malformed("it is too long") }
        guard let members = (try? JSON(parsing: text))?.objectValue else {
            throw .malformed("it is not a JSON object")
        }
        let expected: Set<String> = ["counter", "kid", "namespace", "publicKey", "signature", "signedAt"]
        guard Set(members.keys) == expected else {
            throw .malformed("its members are not exactly \(expected.sorted().joined(separator: ", "))")
        }
        guard case .int(let counter) = members["counter"], counter >= 1, counter <= Self.maximumCounter
        else { throw .malformed("counter is not an integer from 1 to \(Self.maximumCounter)") }
        guard let namespace = members["namespace"]?.stringValue, !namespace.isEmpty,
            namespace.utf8.count <= 63
        else { throw .malformed("namespace is not a namespace name") }
        guard let kid = members["kid"]?.stringValue, KeyID(kid) != nil else {
            throw .malformed("kid is not 16 lower-case hex characters")
        }
        guard let publicKey = members["publicKey"]?.stringValue,
            let key = try? SealingPublicKey(base64: publicKey), key.base64 == publicKey
        else { throw .malformed("publicKey is not standard base64 of a 32-byte key") }
        guard key.keyID.hex == kid else { throw .malformed("kid is not the id of publicKey") }
        guard let signedAt = members["signedAt"]?.stringValue, RFC3339.parse(signedAt) != nil else {
            throw .malformed("signedAt is not an RFC 3339 time")
        }
        guard let signatureText = members["signature"]?.stringValue,
            let signature = StandardBase64.decode(signatureText),
            signature.count == SigningPublicKey.signatureLength
        else { throw .malformed("signature is not standard base64 of 64 bytes") }
        self.init(
            namespace: namespace, kid: kid, publicKey: publicKey, counter: counter, signedAt: signedAt,
            signature: signature)
    }
}

/// Why a current-key statement cannot be read.
public enum CurrentKeyStatementError: Error, Sendable, Equatable, CustomStringConvertible {
    case malformed(String)

    public var description: String {
        switch self {
        case .malformed(let problem): return problem
        }
    }
}
