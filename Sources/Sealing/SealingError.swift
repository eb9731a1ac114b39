/// Everything that can go wrong in this module, each with a one-line text saying what is wrong
/// and what to do. No case ever carries a secret value, a private key or decrypted text; where
/// a mismatch is reported, the text names the field, never its content.
public enum SealingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The text does not start with a known envelope prefix (`bs1.`, `bs2.`).
    case notAnEnvelope
    /// The prefix names an envelope format version this code does not read.
    case unsupportedEnvelopeVersion(String)
    /// The envelope is truncated or its parts are malformed; the reason says which part.
    case malformedEnvelope(String)
    /// The envelope is sealed to a key id that none of the held key pairs has.
    case unknownKeyID(KeyID, held: [KeyID])
    /// The ciphertext did not open with the key pair of its key id (altered, or another key).
    case cannotOpen(KeyID)
    /// The envelope opened, but its payload is not the JSON object of the format.
    case malformedPayload(String)
    /// The payload was sealed for another namespace, Secret or key than the one it is used for.
    case bindingMismatch(SecretBinding.Field)
    /// A signed envelope's payload names another signer than the one whose signature it bears.
    case payloadSignerMismatch(SignerID)
    /// An unsigned envelope where a signature is required.
    case unsignedEnvelope
    /// An envelope signed by a key that is not among the allowed signers.
    case unknownSigner(SignerID)
    /// An envelope whose signature does not verify with its signer's key.
    case badSignature(SignerID)
    /// A Secret key name that Kubernetes would refuse; the reason says which rule it breaks.
    case invalidKeyName(String)
    /// An empty value.
    case emptyValue
    /// A value above the 1 MiB a Secret can hold (the count of bytes is not secret).
    case valueTooLarge(Int)
    /// A `sealedAt` that is not an RFC 3339 time.
    case invalidTimestamp
    /// A payload version outside 1...2^53-1.
    case invalidVersion
    /// A key given as text (not a file) that is not base64 of the right length.
    case invalidKey(KeyKind, String)
    /// A key file that cannot be opened or read; the reason is the system's.
    case keyFileUnreadable(path: String, kind: KeyKind, reason: String)
    /// A private key file that group or others may access.
    case insecureKeyFile(path: String, kind: KeyKind, mode: UInt32)
    /// A key file that is not one line of standard base64.
    case keyFileMalformed(path: String, kind: KeyKind)
    /// A key file whose key has the wrong length.
    case wrongKeyLength(path: String, kind: KeyKind, found: Int)
    /// A key file that already exists where a new one was to be written.
    case keyFileExists(path: String, kind: KeyKind)
    /// A key file that could not be written; the reason is the system's.
    case keyFileWriteFailed(path: String, kind: KeyKind, reason: String)

    /// Which kind of key a key-file error is about, for the texts.
    public enum KeyKind: String, Sendable, Equatable {
        case sealingPrivateKey = "sealing private key"
        case sealingPublicKey = "sealing public key"
        case signerPrivateKey = "signer private key"
        case signerPublicKey = "signer public key"

        /// What the user should pass instead.
        var expected: String {
            switch self {
            case .sealingPrivateKey: return "the sealing.key written by beluga-secrets keygen"
            case .sealingPublicKey: return "the sealing.pub written by beluga-secrets keygen or the agent"
            case .signerPrivateKey: return "the signer.key written by beluga-secrets signer init"
            case .signerPublicKey: return "the public key printed by beluga-secrets signer show"
            }
        }
    }

    public var description: String {
        switch self {
        case .notAnEnvelope:
            return "input is not a sealed envelope (it does not start with \"bs1.\" or \"bs2.\"): "
                + "pass the line printed by beluga-secrets seal"
        case .unsupportedEnvelopeVersion(let version):
            return "envelope format version \(version) is not supported (this beluga-secrets reads "
                + "versions 1 and 2): upgrade beluga-secrets, or seal the value again"
        case .malformedEnvelope(let reason):
            return
                "envelope is malformed (\(reason)): copy the whole envelope line again, or seal the value again"
        case .unknownKeyID(let keyID, let held):
            let heldText =
                held.isEmpty ? "no keys are held" : "held: " + held.map(\.hex).joined(separator: ", ")
            return
                "envelope is sealed to key id \(keyID), which is not among the available keys (\(heldText)): "
                + "use the matching private key, or seal the value again with the current public key"
        case .cannotOpen(let keyID):
            return "envelope sealed to key id \(keyID) does not open: it was altered after sealing or "
                + "sealed to another key; seal the value again"
        case .malformedPayload(let reason):
            return "envelope opened but its payload is malformed (\(reason)): seal the value again with "
                + "a tool that follows envelope format of beluga-secrets"
        case .bindingMismatch(let field):
            return "envelope was sealed for another \(field.rawValue) than the one it is used for "
                + "(an envelope cannot be moved): seal the value again for this \(field.rawValue)"
        case .payloadSignerMismatch(let signer):
            return "envelope is signed by signer \(signer) but its sealed payload names another signer "
                + "(re-signed by someone other than its author): have the author seal the value again"
        case .unsignedEnvelope:
            return
                "envelope is not signed, and a signature is required: seal the value again with a signer key "
                + "(beluga-secrets signer init)"
        case .unknownSigner(let signer):
            return "envelope is signed by signer \(signer), which is not an allowed signer: have an allowed "
                + "signer seal the value, or have the signer's public key added"
        case .badSignature(let signer):
            return "envelope's signature by signer \(signer) does not verify: it was altered or forged; "
                + "seal the value again"
        case .invalidKeyName(let reason):
            return
                "invalid key name: \(reason); use letters, digits, '-', '_' and '.' (at most 253 characters)"
        case .emptyValue:
            return "the value is empty: provide a non-empty value"
        case .valueTooLarge(let count):
            return "the value is \(count) bytes, more than the 1 MiB (1048576 bytes) a Secret can hold: "
                + "store a smaller value"
        case .invalidTimestamp:
            return "sealing time is not an RFC 3339 UTC time: use the form 2025-01-31T12:00:00Z"
        case .invalidVersion:
            return "version must be a whole number from 1 to 9007199254740991: pass a positive version"
        case .invalidKey(let kind, let reason):
            return "not a valid \(kind.rawValue) (\(reason)): pass \(kind.expected)"
        case .keyFileUnreadable(let path, let kind, let reason):
            return "cannot read \(kind.rawValue) file \(path): \(reason); check the path and its permissions"
        case .insecureKeyFile(let path, let kind, let mode):
            return "\(kind.rawValue) file \(path) is accessible by group or others (mode \(octal(mode))): "
                + "run chmod 600 \(path)"
        case .keyFileMalformed(let path, let kind):
            return
                "\(path) is not a \(kind.rawValue) file (one line of base64 expected): pass \(kind.expected)"
        case .wrongKeyLength(let path, let kind, let found):
            return "\(path) holds \(found) bytes, a \(kind.rawValue) has 32: pass \(kind.expected)"
        case .keyFileExists(let path, let kind):
            return "\(kind.rawValue) file \(path) already exists: move it away first, or write elsewhere"
        case .keyFileWriteFailed(let path, let kind, let reason):
            return
                "cannot write \(kind.rawValue) file \(path): \(reason); check the folder and its permissions"
        }
    }
}

/// `0644`-style text of permission bits.
private func octal(_ mode: UInt32) -> String {
    let digits = String(mode & 0o7777, radix: 8)
    return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
}
