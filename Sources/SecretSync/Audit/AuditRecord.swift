import JSONValue

/// What an audit record reports (docs/formats.md, "Audit record").
public struct AuditEvent: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    /// A key appeared in the Secret.
    public static let secretCreated = AuditEvent(rawValue: "secret.created")
    /// A key's value changed (a rotation, a rollback, or a hand edit set back).
    public static let secretRotated = AuditEvent(rawValue: "secret.rotated")
    /// A key left the sealed store and was removed from the Secret.
    public static let secretDeleted = AuditEvent(rawValue: "secret.deleted")
    /// An envelope was refused; the Secret kept the previous value.
    public static let secretRejected = AuditEvent(rawValue: "secret.rejected")
    /// A key of the settings ConfigMap changed.
    public static let configChanged = AuditEvent(rawValue: "config.changed")
    /// A Deployment's content hash was patched, rolling its pods.
    public static let rolloutTriggered = AuditEvent(rawValue: "rollout.triggered")
    /// The agent created its first sealing key (and its identity key).
    public static let sealingKeyCreated = AuditEvent(rawValue: "sealing-key.created")
    /// A new sealing key became current, or stored envelopes were re-sealed to it.
    public static let sealingKeyRotated = AuditEvent(rawValue: "sealing-key.rotated")
    /// The lines of the audit head did not verify as the agent's own records, so a taking-over
    /// agent did not print them again.
    public static let auditHeadRejected = AuditEvent(rawValue: "audit.head-rejected")
    /// A field of an object someone else may write was out of bounds, or the agent's status
    /// object was edited by someone else; the agent kept its previous good state.
    public static let inputRejected = AuditEvent(rawValue: "input.rejected")
    /// A key's current version became older than the key's maximum age (once per version).
    public static let keyOverdue = AuditEvent(rawValue: "key.overdue")

    public static let known: [AuditEvent] = [
        .secretCreated, .secretRotated, .secretDeleted, .secretRejected, .configChanged,
        .rolloutTriggered, .sealingKeyCreated, .sealingKeyRotated, .auditHeadRejected, .inputRejected,
        .keyOverdue,
    ]

    public var description: String { rawValue }
}

/// One line of the audit trail. It never holds a value: a fingerprint identifies one.
///
/// Every member is always written (`""` when empty), except `change`, written only when a
/// change made in several clusters named one; compactly with members sorted by name, so
/// that a line's bytes are a function of the record and its hash and signature can be checked
/// by any tool.
public struct AuditRecord: Sendable, Equatable {
    /// Position in the namespace's chain, from 1.
    public var seq: Int
    /// When the agent made the change (RFC 3339 UTC).
    public var ts: String
    public var event: AuditEvent
    public var namespace: String
    /// The Secret (or ConfigMap, for `config.changed`) the record is about.
    public var secret: String
    /// The key; empty for whole-object events.
    public var key: String
    /// The key's version in the sealed store (0 when it has none).
    public var version: Int
    public var fingerprint: String
    public var previousFingerprint: String
    /// As the envelope claims them.
    public var sealedBy: String
    public var sealedAt: String
    /// The verified signer of a signed envelope; empty when unsigned.
    public var signer: String
    public var signerKeyId: String
    /// Why: a rejection's cause, the objects a rollout was for, …
    public var reason: String
    /// The agent replica that wrote the record.
    public var agent: String
    /// Lower-hex SHA-256 of the previous record's line; empty for the first record.
    public var prev: String
    /// Base64 Ed25519 signature by the agent's identity key over the record without `sig`.
    public var sig: String
    /// The id of a change made in several clusters (`ChangeID`), as the version record names it;
    /// empty otherwise, and then not written, so records without one read as before.
    public var change: String = ""

    public init(
        event: AuditEvent, namespace: String, secret: String = "", key: String = "", version: Int = 0,
        fingerprint: String = "", previousFingerprint: String = "", sealedBy: String = "",
        sealedAt: String = "", signer: String = "", signerKeyId: String = "", reason: String = "",
        seq: Int = 0, ts: String = "", agent: String = "", prev: String = "", sig: String = "",
        change: String = ""
    ) {
        self.change = change
        self.seq = seq
        self.ts = ts
        self.event = event
        self.namespace = namespace
        self.secret = secret
        self.key = key
        self.version = version
        self.fingerprint = fingerprint
        self.previousFingerprint = previousFingerprint
        self.sealedBy = sealedBy
        self.sealedAt = sealedAt
        self.signer = signer
        self.signerKeyId = signerKeyId
        self.reason = reason
        self.agent = agent
        self.prev = prev
        self.sig = sig
    }

    /// The record as JSON; without `sig` it is what the signature covers.
    public func json(includingSignature: Bool = true) -> JSON {
        var object: [String: JSON] = [
            "seq": .int(seq), "ts": .string(ts), "event": .string(event.rawValue),
            "namespace": .string(namespace), "secret": .string(secret), "key": .string(key),
            "version": .int(version), "fingerprint": .string(fingerprint),
            "previousFingerprint": .string(previousFingerprint), "sealedBy": .string(sealedBy),
            "sealedAt": .string(sealedAt), "signer": .string(signer), "signerKeyId": .string(signerKeyId),
            "reason": .string(reason), "agent": .string(agent), "prev": .string(prev),
        ]
        if !change.isEmpty { object["change"] = .string(change) }
        if includingSignature { object["sig"] = .string(sig) }
        return .object(object)
    }

    /// The bytes the signature covers.
    public var signedBytes: [UInt8] { json(includingSignature: false).serialized() }

    /// The line as printed.
    public var line: String { json().jsonText }

    /// Reads a record from a parsed line. A line that is not an audit record (an operational
    /// log line that happens to be JSON) gives `nil`.
    public init?(json: JSON) {
        guard let seq = json["seq"]?.intValue, let event = json["event"]?.stringValue,
            json["prev"]?.stringValue != nil
        else { return nil }
        func text(_ name: String) -> String { json[name]?.stringValue ?? "" }
        self.init(
            event: AuditEvent(rawValue: event), namespace: text("namespace"), secret: text("secret"),
            key: text("key"), version: json["version"]?.intValue ?? 0, fingerprint: text("fingerprint"),
            previousFingerprint: text("previousFingerprint"), sealedBy: text("sealedBy"),
            sealedAt: text("sealedAt"), signer: text("signer"), signerKeyId: text("signerKeyId"),
            reason: text("reason"), seq: seq, ts: text("ts"), agent: text("agent"), prev: text("prev"),
            sig: text("sig"), change: text("change"))
    }
}
