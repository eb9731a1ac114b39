import JSONValue
import Sealing

/// A key whose envelope Helm values own and that is sealed to a sealing key other than the
/// current one (after a rotation): the agent leaves it as it is and reports it here, in the
/// status part `helm-reseal` (docs/formats.md). For an unsigned envelope the agent publishes the
/// same value re-sealed to the current key (ciphertext only, same binding, author and time), which
/// `beluga-secrets keys helm-values` prints as a values block; a signed envelope only its signer
/// can re-seal.
public struct HelmReseal: Sendable, Equatable {
    /// The sealing key the envelope in the values is sealed to.
    public var kid: String
    /// The current sealing key when the agent reported it.
    public var current: String
    /// SHA-256 (lower hex) of the envelope text in the sealed store: what the values hold now.
    public var source: String
    /// The value re-sealed to `current`; empty for a signed envelope.
    public var envelope: String
    /// Whether the envelope in the values is signed (format 2): then its signer must seal it
    /// again (`beluga-secrets seal KEY --version version+1`).
    public var signed: Bool
    /// The key's version in the sealed store.
    public var version: Int
    /// When the agent first reported it.
    public var since: String

    public init(
        kid: String, current: String, source: String, envelope: String, signed: Bool, version: Int,
        since: String
    ) {
        self.kid = kid
        self.current = current
        self.source = source
        self.envelope = envelope
        self.signed = signed
        self.version = version
        self.since = since
    }

    /// The SHA-256 of an envelope's text, as `source` holds it.
    public static func source(of envelopeText: String) -> String { Digest.sha256Hex(envelopeText) }

    /// Longest envelope kept (a sealed store holds at most 1 MiB in all).
    static let maximumEnvelopeBytes = 1_048_576
}

extension HelmReseal {
    var json: JSON {
        [
            "kid": .string(kid), "current": .string(current), "source": .string(source),
            "envelope": .string(envelope), "signed": .bool(signed), "version": .int(version),
            "since": .string(since),
        ]
    }

    /// Reads an entry someone else may have written, within bounds (see `UntrustedField`).
    init(untrusted json: JSON, at path: UntrustedField.Path) throws(FieldProblem) {
        guard json.objectValue != nil else { throw path.problem("is not an object") }
        func keyID(_ field: String) throws(FieldProblem) -> String {
            let text = try UntrustedField.text(json, field, maximumBytes: 16, required: true, at: path)
            guard text.utf8.count == 16,
                text.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) })
            else { throw path.problem(field, "is not a key id (16 lower-case hex digits)") }
            return text
        }
        let signed: Bool
        switch json["signed"] {
        case .bool(let value)?: signed = value
        case nil: signed = false
        case let other?: throw path.problem("signed", "is not a boolean (\(UntrustedField.kind(of: other)))")
        }
        let envelope = try UntrustedField.text(
            json, "envelope", maximumBytes: Self.maximumEnvelopeBytes, at: path)
        if !envelope.isEmpty {
            guard let parsed = try? Envelope.parse(envelope), parsed.format == .v1 else {
                throw path.problem("envelope", "is not a format 1 envelope")
            }
        }
        self.init(
            kid: try keyID("kid"), current: try keyID("current"),
            source: try UntrustedField.hash(json, "source", at: path), envelope: envelope, signed: signed,
            version: try UntrustedField.counter(json, "version", at: path),
            since: try UntrustedField.time(json, "since", at: path))
    }
}
