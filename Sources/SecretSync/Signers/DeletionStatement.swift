import JSONValue
import KubeAPI
import Sealing

/// An operator's signed request to delete a key (docs/formats.md, "Deletions").
///
/// `beluga-secrets delete` leaves a tombstone in the key's `sealed-versions` entry: the next
/// version, who deleted it and when. With a signing key it adds this statement, "key K of this
/// namespace and Secret is deleted as version N", signed by the operator. An agent that requires
/// signatures removes a key from the Secret only for such a statement by an allowed signer, with
/// a version higher than the one it applied; a statement replayed later fails like any old
/// version.
public struct DeletionStatement: Sendable, Equatable {
    /// The tombstone's version.
    public var version: Int
    /// Id of the signer's Ed25519 key.
    public var signer: SignerID
    /// When it was signed (RFC 3339 UTC).
    public var signedAt: String
    /// Ed25519 signature (64 bytes) over `signedText(for:)`.
    public var signature: [UInt8]

    /// The first line of the signed text, naming the format.
    public static let context = "beluga-secrets/delete/v1"

    public init(version: Int, signer: SignerID, signedAt: String, signature: [UInt8]) {
        self.version = version
        self.signer = signer
        self.signedAt = signedAt
        self.signature = signature
    }

    /// A statement signed with `key` deleting the key at `binding` as `version`.
    public static func sign(binding: SecretBinding, version: Int, key: SigningKeyPair, at signedAt: String)
        -> DeletionStatement
    {
        var statement = DeletionStatement(
            version: version, signer: key.signerID, signedAt: signedAt, signature: [])
        statement.signature = key.sign(Array(statement.signedText(for: binding).utf8))
        return statement
    }

    /// The text the signature covers: the context line, then namespace, Secret, key, version,
    /// signer id and time, one per line, joined by `\n` (no final newline).
    public func signedText(for binding: SecretBinding) -> String {
        [Self.context, binding.namespace, binding.secret, binding.key, String(version), signer.hex, signedAt]
            .joined(separator: "\n")
    }

    /// Whether `key` signed this statement for `binding`.
    public func isSigned(by key: SigningPublicKey, for binding: SecretBinding) -> Bool {
        key.signerID == signer && key.verify(signature: signature, of: Array(signedText(for: binding).utf8))
    }

    // MARK: - JSON form (the `deletion` member of a key's sealed-versions entry)

    var json: JSON {
        [
            "version": .int(version), "signer": .string(signer.hex), "signedAt": .string(signedAt),
            "signature": .string(Base64.encode(signature)),
        ]
    }

    /// Reads a statement someone else may have written, within bounds.
    init(untrusted json: JSON, at path: UntrustedField.Path) throws(FieldProblem) {
        guard json.objectValue != nil else { throw path.problem("is not an object") }
        let version = try UntrustedField.counter(json, "version", at: path)
        guard
            let signer = SignerID(
                try UntrustedField.text(json, "signer", maximumBytes: 16, required: true, at: path))
        else { throw path.problem("signer", "is not a signer id (16 lower-case hex digits)") }
        let signedAt = try UntrustedField.time(json, "signedAt", required: true, at: path)
        guard
            let signature = Base64.decode(
                try UntrustedField.text(json, "signature", maximumBytes: 128, at: path)),
            signature.count == 64
        else { throw path.problem("signature", "is not base64 of 64 bytes") }
        self.init(version: version, signer: signer, signedAt: signedAt, signature: signature)
    }
}
