import JSONValue
import KubeAPI
import Sealing

/// The allowed signers of a namespace: ConfigMap `beluga-secrets-signers` (docs/formats.md).
///
/// `data[<name>]` holds a signer's Ed25519 public key in standard base64, so a plain
/// `kubectl create configmap --from-literal=alice=<key>` writes one. Signers that were removed
/// are kept in the annotation `beluga-ai.io/removed-signers`, so that the agent can say "removed
/// signer alice" rather than "unknown signer", and the annotation `beluga-ai.io/signatures`
/// (`optional` or `required`), when present, overrides the agent's `--signatures` flag for this
/// namespace.
///
/// Whoever may write this ConfigMap decides who may change the namespace's keys: grant `update`
/// on it to administrators only.
public struct AllowedSigners: Sendable, Equatable {
    public static let removedAnnotation = "beluga-ai.io/removed-signers"
    public static let policyAnnotation = "beluga-ai.io/signatures"
    /// Longest signer name.
    public static let maximumNameLength = 63

    /// A signer taken off the list: its key stays known so its envelopes are reported as such.
    public struct RemovedSigner: Sendable, Equatable {
        public var name: String
        public var publicKey: SigningPublicKey
        public var removedAt: String
        /// Who removed it, as the remover named themselves (a claim).
        public var removedBy: String

        public init(name: String, publicKey: SigningPublicKey, removedAt: String, removedBy: String) {
            self.name = name
            self.publicKey = publicKey
            self.removedAt = removedAt
            self.removedBy = removedBy
        }
    }

    /// The allowed signers, by name.
    public private(set) var signers: [String: SigningPublicKey] = [:]
    /// Removed signers, by key id.
    public private(set) var removed: [SignerID: RemovedSigner] = [:]
    /// `data` entries that are not a valid name and key; kept as they are when the list is written.
    public private(set) var invalidEntries: [String: String] = [:]
    /// The namespace's policy, when the annotation sets one.
    public var policy: SignaturePolicy?
    /// The annotation's text when it is neither `optional` nor `required`.
    public private(set) var invalidPolicy: String?
    /// What lenient reading could not understand (the agent logs these).
    public private(set) var problems: [AllowedSignersError] = []

    /// No signers.
    public init() {}

    /// Reads the list from a ConfigMap object.
    ///
    /// Strict reading (the CLI, before it writes) refuses a removed-signers annotation that is
    /// not the documented JSON, so an edit never silently drops what it cannot read. Lenient
    /// reading (the agent) records problems and keeps what it can: an entry it cannot read
    /// allows nobody.
    public init(configMap: JSON, lenient: Bool = false) throws(AllowedSignersError) {
        let name = configMap[path: "metadata", "name"]?.stringValue ?? ObjectNames().signers
        for (entry, value) in configMap["data"]?.objectValue ?? [:] {
            let text = value.stringValue ?? ""
            guard Self.validate(name: entry) == nil,
                let key = try? SigningPublicKey(base64: text.trimmingWhitespace())
            else {
                invalidEntries[entry] = text
                problems.append(.invalidEntry(configMap: name, entry: entry))
                continue
            }
            signers[entry] = key
        }
        let annotations = configMap[path: "metadata", "annotations"]?.objectValue ?? [:]
        if let text = annotations[Self.policyAnnotation]?.stringValue {
            let trimmed = text.trimmingWhitespace()
            if let policy = SignaturePolicy(rawValue: trimmed) {
                self.policy = policy
            } else {
                invalidPolicy = text
                problems.append(.invalidPolicy(configMap: name, value: text))
            }
        }
        if let text = annotations[Self.removedAnnotation]?.stringValue {
            guard let parsed = try? JSON(parsing: text), let entries = parsed.objectValue,
                let removed = Self.parseRemoved(entries)
            else {
                let problem = AllowedSignersError.malformedAnnotation(
                    configMap: name, annotation: Self.removedAnnotation)
                guard lenient else { throw problem }
                problems.append(problem)
                return
            }
            self.removed = removed
        }
    }

    /// Reads the list leniently (see `init(configMap:lenient:)`), as the agent does.
    public init(lenientConfigMap configMap: JSON) {
        self = (try? AllowedSigners(configMap: configMap, lenient: true)) ?? AllowedSigners()
    }

    private static func parseRemoved(_ entries: [String: JSON]) -> [SignerID: RemovedSigner]? {
        var result: [SignerID: RemovedSigner] = [:]
        for (id, entry) in entries {
            // Names and times end up in rejection reasons and audit records: bounded.
            let path = UntrustedField.Path(object: "", field: "")
            guard let keyText = entry["publicKey"]?.stringValue,
                let key = try? SigningPublicKey(base64: keyText), key.signerID.hex == id,
                let name = try? UntrustedField.text(entry, "name", maximumBytes: maximumNameLength, at: path),
                let removedAt = try? UntrustedField.text(entry, "removedAt", maximumBytes: 64, at: path),
                let removedBy = try? UntrustedField.text(entry, "removedBy", at: path)
            else { return nil }
            result[key.signerID] = RemovedSigner(
                name: name, publicKey: key, removedAt: removedAt, removedBy: removedBy)
        }
        return result
    }

    // MARK: - Looking up

    /// The allowed signer with this key id: its name and key (the first name, sorted, if an
    /// administrator listed one key twice).
    public func signer(withID id: SignerID) -> (name: String, key: SigningPublicKey)? {
        signers.sorted { $0.key < $1.key }.first { $0.value.signerID == id }.map { ($0.key, $0.value) }
    }

    /// The allowed public keys.
    public var publicKeys: [SigningPublicKey] { signers.keys.sorted().compactMap { signers[$0] } }

    /// The policy that applies: the annotation's, else `default`; an annotation that is neither
    /// value counts as `required`, so a typo never turns verification off.
    public func effectivePolicy(default policy: SignaturePolicy) -> SignaturePolicy {
        if invalidPolicy != nil { return .required }
        return self.policy ?? policy
    }

    // MARK: - Editing (signer add / remove)

    /// What `add` did.
    public enum AddOutcome: Sendable, Equatable {
        case added
        /// The name was listed with this key already.
        case unchanged
    }

    /// Lists `key` as signer `name`. A removed signer's key may be listed again.
    @discardableResult
    public mutating func add(name: String, key: SigningPublicKey) throws(AllowedSignersError) -> AddOutcome {
        if let problem = Self.validate(name: name) { throw .invalidName(name: name, reason: problem) }
        if let existing = signers[name] {
            if existing == key { return .unchanged }
            throw .nameTaken(name: name, signerID: existing.signerID)
        }
        if let other = signers.first(where: { $0.value == key }) {
            throw .keyListed(name: other.key, signerID: key.signerID)
        }
        if invalidEntries[name] != nil {
            throw .nameTaken(name: name, signerID: nil)
        }
        signers[name] = key
        removed[key.signerID] = nil
        return .added
    }

    /// Takes signer `name` off the list; its key is remembered as removed. Returns its key.
    @discardableResult
    public mutating func remove(name: String, at time: String, by remover: String) throws(AllowedSignersError)
        -> SigningPublicKey?
    {
        if let key = signers.removeValue(forKey: name) {
            removed[key.signerID] = RemovedSigner(
                name: name, publicKey: key, removedAt: time, removedBy: remover)
            return key
        }
        if invalidEntries.removeValue(forKey: name) != nil { return nil }
        throw .notListed(name: name, listed: signers.keys.sorted())
    }

    /// `nil` when `name` is a valid signer name, else what is wrong with it.
    public static func validate(name: String) -> String? {
        let bytes = Array(name.utf8)
        guard !bytes.isEmpty else { return "it is empty" }
        guard bytes.count <= maximumNameLength else {
            return "it has \(bytes.count) characters, at most \(maximumNameLength) are allowed"
        }
        func alphanumeric(_ byte: UInt8) -> Bool {
            (0x61...0x7a).contains(byte) || (0x41...0x5a).contains(byte) || (0x30...0x39).contains(byte)
        }
        guard bytes.allSatisfy({ alphanumeric($0) || $0 == 0x2d || $0 == 0x5f || $0 == 0x2e }) else {
            return "only letters, digits, '-', '_' and '.' are allowed"
        }
        guard let first = bytes.first, let last = bytes.last, alphanumeric(first), alphanumeric(last) else {
            return "it must start and end with a letter or digit"
        }
        return nil
    }

    // MARK: - Writing back

    /// `configMap` with this list written into it; every other field is kept, so a replace with
    /// the object's `resourceVersion` changes only the list.
    public func writing(into configMap: JSON) -> JSON {
        var object = configMap
        var data: [String: JSON] = invalidEntries.mapValues { .string($0) }
        for (name, key) in signers { data[name] = .string(key.base64) }
        object["data"] = .object(data)
        if removed.isEmpty {
            object[path: "metadata", "annotations", Self.removedAnnotation] = nil
        } else {
            object[path: "metadata", "annotations", Self.removedAnnotation] = .string(removedText)
        }
        return object
    }

    /// A new signers ConfigMap holding this list.
    public func newConfigMap(name: String, namespace: String) -> JSON {
        writing(into: [
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": [
                "name": .string(name), "namespace": .string(namespace),
                "labels": ["app.kubernetes.io/managed-by": "beluga-secrets"],
            ],
        ])
    }

    var removedText: String {
        JSON.object(
            Dictionary(
                uniqueKeysWithValues: removed.map { id, entry in
                    (
                        id.hex,
                        JSON.object([
                            "name": .string(entry.name), "publicKey": .string(entry.publicKey.base64),
                            "removedAt": .string(entry.removedAt), "removedBy": .string(entry.removedBy),
                        ])
                    )
                })
        ).jsonText
    }
}

/// What is wrong with a signers ConfigMap or an edit of it.
public enum AllowedSignersError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidName(name: String, reason: String)
    /// The name is listed with another key (or with an entry that is not a key).
    case nameTaken(name: String, signerID: SignerID?)
    /// The key is listed under another name.
    case keyListed(name: String, signerID: SignerID)
    case notListed(name: String, listed: [String])
    case invalidEntry(configMap: String, entry: String)
    case invalidPolicy(configMap: String, value: String)
    case malformedAnnotation(configMap: String, annotation: String)

    public var description: String {
        switch self {
        case .invalidName(let name, let reason):
            return
                "invalid signer name \"\(Self.printable(name))\": \(reason); use a short name such as alice or ci-pipeline"
        case .nameTaken(let name, let id):
            let which = id.map { "with key id \($0)" } ?? "with an entry that is not a public key"
            return
                "signer \"\(name)\" is already listed \(which): remove it first (beluga-secrets signer remove \(name)), "
                + "or choose another name"
        case .keyListed(let name, let id):
            return "key \(id) is already listed as signer \"\(name)\": a key is listed under one name only"
        case .notListed(let name, let listed):
            let names = listed.isEmpty ? "no signer is listed" : "listed: " + listed.joined(separator: ", ")
            return
                "signer \"\(Self.printable(name))\" is not listed (\(names)); see beluga-secrets signer list"
        case .invalidEntry(let configMap, let entry):
            return
                "entry \"\(Self.printable(entry))\" of ConfigMap \"\(configMap)\" is not a signer name with a base64 "
                + "Ed25519 public key; it allows nobody: fix it with beluga-secrets signer remove and add"
        case .invalidPolicy(let configMap, let value):
            return "annotation \(AllowedSigners.policyAnnotation) of ConfigMap \"\(configMap)\" is "
                + "\"\(Self.printable(value))\", neither optional nor required; signatures are required until it is fixed"
        case .malformedAnnotation(let configMap, let annotation):
            return
                "annotation \(annotation) of ConfigMap \"\(configMap)\" is not the JSON beluga-secrets writes; "
                + "restore it from a backup or remove the annotation (removed signers then count as unknown)"
        }
    }

    static func printable(_ text: String) -> String {
        String(
            String.UnicodeScalarView(
                text.unicodeScalars.prefix(80).map { (0x20...0x7e).contains($0.value) ? $0 : "?" }))
    }
}
