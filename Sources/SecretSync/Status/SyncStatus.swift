import JSONValue

/// The agent's outcome for one key, from the status object's `sync-status` (docs/formats.md).
public struct SyncStatus: Sendable, Equatable {
    public enum State: String, Sendable {
        /// The Secret holds this version's value.
        case applied
        /// This version's envelope (or deletion) was refused; the Secret keeps the previous value.
        case rejected
        /// This version deleted the key (a tombstone the agent applied): the Secret no longer
        /// holds it.
        case deleted
    }

    public var state: State
    public var version: Int
    /// The verified fingerprint of the applied value; empty for a rejection.
    public var fingerprint: String
    public var at: String
    /// Why a version was rejected; empty when applied.
    public var reason: String
    /// The highest signed version the agent applied to the key (the version inside a format 2
    /// envelope, which may come from `seal --version` through Helm rather than from the sealed
    /// store's numbering); nil when it applied no signed version. Writers number the next version
    /// above it, so that an agent requiring signatures does not take their change for a replay.
    public var signedVersion: Int?

    public init(
        state: State, version: Int, fingerprint: String = "", at: String, reason: String = "",
        signedVersion: Int? = nil
    ) {
        self.state = state
        self.version = version
        self.fingerprint = fingerprint
        self.at = at
        self.reason = reason
        self.signedVersion = signedVersion
    }
}

extension SyncStatus {
    var json: JSON {
        var object: JSON = [
            "state": .string(state.rawValue), "version": .int(version), "fingerprint": .string(fingerprint),
            "at": .string(at), "reason": .string(reason),
        ]
        if let signedVersion { object["signedVersion"] = .int(signedVersion) }
        return object
    }

    /// Reads an entry someone else may have written, within bounds (see `UntrustedField`).
    init(untrusted json: JSON, at path: UntrustedField.Path) throws(FieldProblem) {
        guard json.objectValue != nil else { throw path.problem("is not an object") }
        self.init(
            state: try UntrustedField.choice(
                json, "state", otherwise: "not applied, rejected or deleted", at: path),
            version: try UntrustedField.counter(json, "version", at: path),
            fingerprint: try UntrustedField.fingerprint(json, "fingerprint", at: path),
            at: try UntrustedField.time(json, "at", at: path),
            reason: try UntrustedField.text(json, "reason", at: path),
            signedVersion: try UntrustedField.optionalCounter(json, "signedVersion", at: path).flatMap {
                $0 > 0 ? $0 : nil
            })
    }
}
