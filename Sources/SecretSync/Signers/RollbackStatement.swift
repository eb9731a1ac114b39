import JSONValue
import KubeAPI
import Sealing

/// An operator's signed request to restore an earlier envelope of a key (docs/formats.md,
/// "Signed rollback").
///
/// A signed envelope carries its version, and an agent that requires signatures refuses a
/// version not higher than the one it applied, so restoring an old envelope looks like a replay.
/// The statement says, under an allowed signer's key, "key K of this namespace and Secret goes
/// back from version F to the envelope of version T, as new version N", naming that envelope by
/// its SHA-256. The agent applies the old envelope as version N when the statement verifies and
/// names exactly the envelope stored; replaying the statement later fails like any old version.
public struct RollbackStatement: Sendable, Equatable {
    /// The version rolled back from (the key's version when the rollback was made).
    public var from: Int
    /// The version whose envelope is restored.
    public var to: Int
    /// The new version: the agent applies the restored envelope as this version.
    public var version: Int
    /// Lower-hex SHA-256 of the restored envelope's text.
    public var envelopeHash: String
    /// Id of the signer's Ed25519 key.
    public var signer: SignerID
    /// When it was signed (RFC 3339 UTC).
    public var signedAt: String
    /// Ed25519 signature (64 bytes) over `signedText(for:)`.
    public var signature: [UInt8]

    /// The first line of the signed text, naming the format.
    public static let context = "beluga-secrets/rollback/v1"

    public init(
        from: Int, to: Int, version: Int, envelopeHash: String, signer: SignerID, signedAt: String,
        signature: [UInt8]
    ) {
        self.from = from
        self.to = to
        self.version = version
        self.envelopeHash = envelopeHash
        self.signer = signer
        self.signedAt = signedAt
        self.signature = signature
    }

    /// A statement signed with `key` for restoring `envelope` at `binding`.
    public static func sign(
        binding: SecretBinding, from: Int, to: Int, version: Int, envelope: String, key: SigningKeyPair,
        at signedAt: String
    ) -> RollbackStatement {
        var statement = RollbackStatement(
            from: from, to: to, version: version, envelopeHash: Digest.sha256Hex(envelope),
            signer: key.signerID,
            signedAt: signedAt, signature: [])
        statement.signature = key.sign(Array(statement.signedText(for: binding).utf8))
        return statement
    }

    /// The text the signature covers: the context line, then namespace, Secret, key, from, to,
    /// version, envelope hash, signer id and time, one per line, joined by `\n` (no final newline).
    public func signedText(for binding: SecretBinding) -> String {
        [
            Self.context, binding.namespace, binding.secret, binding.key, String(from), String(to),
            String(version),
            envelopeHash, signer.hex, signedAt,
        ].joined(separator: "\n")
    }

    /// Whether this statement names `envelope`.
    public func names(envelope: String) -> Bool { Digest.sha256Hex(envelope) == envelopeHash }

    /// Whether `key` signed this statement for `binding`.
    public func isSigned(by key: SigningPublicKey, for binding: SecretBinding) -> Bool {
        key.signerID == signer && key.verify(signature: signature, of: Array(signedText(for: binding).utf8))
    }

    // MARK: - JSON form (the `rollback` member of a key's sealed-versions entry)

    var json: JSON {
        [
            "from": .int(from), "to": .int(to), "version": .int(version),
            "envelopeHash": .string(envelopeHash),
            "signer": .string(signer.hex), "signedAt": .string(signedAt),
            "signature": .string(Base64.encode(signature)),
        ]
    }

    /// Reads a statement someone else may have written, within bounds.
    init(untrusted json: JSON, at path: UntrustedField.Path) throws(FieldProblem) {
        guard json.objectValue != nil else { throw path.problem("is not an object") }
        let from = try UntrustedField.counter(json, "from", at: path)
        let to = try UntrustedField.counter(json, "to", at: path)
        let version = try UntrustedField.counter(json, "version", at: path)
        let hash = try UntrustedField.hash(json, "envelopeHash", at: path)
        guard
            let signer = SignerID(
                try UntrustedField.text(json, "signer", maximumBytes: 16, required: true, at: path))
        else { throw path.problem("signer", "is not a signer id (16 lower-case hex digits)") }
        let signedAt = try UntrustedField.text(json, "signedAt", maximumBytes: 64, required: true, at: path)
        guard
            let signature = SigningPublicKey.signature(
                base64: try UntrustedField.text(json, "signature", maximumBytes: 128, at: path))
        else { throw path.problem("signature", "is not base64 of 64 bytes") }
        self.init(
            from: from, to: to, version: version, envelopeHash: hash, signer: signer, signedAt: signedAt,
            signature: signature)
    }
}
