import Sealing

/// The values block that re-seals the envelopes Helm values own to the current sealing key,
/// from what the agent published in its status (`helm-reseal`): `sealedSecrets:` with one
/// envelope per key, to merge with `helm upgrade -f values.yaml -f sealed-values.yaml`.
///
/// Every envelope printed is checked first: a format 1 envelope sealed to `current`, the
/// current key that the agent's pinned identity signed. Anything else is refused as a whole
/// (the status is only the agent's to write, but the workstation checks what it hands to Helm).
public struct HelmValuesBlock: Sendable, Equatable {
    /// The keys and their re-sealed envelopes, sorted by key.
    public var envelopes: [(key: String, envelope: String)] {
        entries.keys.sorted().compactMap { key in entries[key].map { (key, $0) } }
    }
    private var entries: [String: String] = [:]
    /// Signed envelopes: only their signer can seal them again (key, the version to seal).
    public private(set) var signed: [(key: String, version: Int)] = []
    /// Keys whose envelope in the sealed store changed since the agent reported them (a newer
    /// value was put in): the published envelope would undo that change, so it is left out.
    public private(set) var changedSince: [String] = []

    public static func == (lhs: HelmValuesBlock, rhs: HelmValuesBlock) -> Bool {
        lhs.entries == rhs.entries && lhs.signed.map(\.key) == rhs.signed.map(\.key)
            && lhs.signed.map(\.version) == rhs.signed.map(\.version) && lhs.changedSince == rhs.changedSince
    }

    /// The block for the report `reported` (the status's `helm-reseal`), checked against the
    /// sealed store's envelopes `stored` and the trusted current key `current`.
    public init(
        reported: [String: HelmReseal], stored: [String: String], current: SealingPublicKey
    ) throws(HelmValuesError) {
        for key in reported.keys.sorted() {
            guard let entry = reported[key] else { continue }
            guard let text = stored[key], HelmReseal.source(of: text) == entry.source else {
                changedSince.append(key)
                continue
            }
            if entry.signed {
                signed.append((key, entry.version + 1))
                continue
            }
            let envelope: Envelope
            do {
                envelope = try Envelope.parse(entry.envelope)
            } catch {
                throw .notSealedToCurrent(key: key, found: "no envelope", current: current.keyID.hex)
            }
            guard envelope.format == .v1, envelope.keyID == current.keyID else {
                throw .notSealedToCurrent(
                    key: key, found: "\(envelope.format) sealed to \(envelope.keyID.hex)",
                    current: current.keyID.hex)
            }
            entries[key] = entry.envelope
        }
    }

    /// The YAML document to save as `sealed-values.yaml`; empty when nothing is to be re-sealed.
    public func yaml(kid: String) -> String {
        guard !entries.isEmpty else { return "" }
        var text =
            "# Envelopes of Helm values re-sealed to sealing key \(kid) (same values).\n"
            + "# helm upgrade RELEASE CHART -f values.yaml -f sealed-values.yaml\n"
            + "sealedSecrets:\n"
        for (key, envelope) in envelopes {
            // Key names are [-._a-zA-Z0-9] and envelopes base64url with dots: quoting needs no escapes.
            text += "  \"\(key)\": \"\(envelope)\"\n"
        }
        return text
    }
}

/// Why `HelmValuesBlock` refused the agent's report.
public enum HelmValuesError: Error, Sendable, Equatable, CustomStringConvertible {
    case notSealedToCurrent(key: String, found: String, current: String)

    public var description: String {
        switch self {
        case .notSealedToCurrent(let key, let found, let current):
            return
                "the agent's status publishes for \(key) \(found), not an envelope sealed to the current sealing "
                + "key \(current) its identity signed: nothing printed; wait for the agent to report again "
                + "(beluga-secrets status), and check who may write the status ConfigMap"
        }
    }
}
