import Sealing

/// What the agent reports about the envelopes Helm values own after a sealing-key rotation, as
/// data: for each Helm-owned key whose envelope is sealed to a key the agent holds but that is
/// not current, a `HelmReseal` (the unsigned ones re-sealed to the current key, to publish). The
/// agent never writes these envelopes back: the next `helm upgrade` would restore the old one,
/// or conflict with the agent under server-side apply.
public struct HelmResealPlan: Sendable, Equatable {
    /// The report, by key.
    public var entries: [String: HelmReseal]
    /// The keys reported now that were not reported before (or were, for another envelope or
    /// another current key): the agent says these in one Warning Event.
    public var fresh: [String]

    /// Plans the report for `store` of secret `secret` in `namespace`. `previous` is the last
    /// report (its entries for the same envelope and current key are kept as they are, so that a
    /// reconcile re-seals nothing twice); `now` stamps new entries.
    public init(
        store: SealedStore, helmOwned: Set<String>, keyring: SealingKeyring, previous: [String: HelmReseal],
        namespace: String, secret: String, now: String
    ) {
        var entries: [String: HelmReseal] = [:]
        var fresh: [String] = []
        let current = keyring.current.publicKey
        for key in helmOwned.sorted() {
            guard let text = store.envelopes[key], let envelope = Self.stale(text, keyring: keyring) else {
                continue
            }
            let source = HelmReseal.source(of: text)
            if let kept = previous[key], kept.source == source, kept.current == current.keyID.hex {
                entries[key] = kept
                continue
            }
            var envelopeText = ""
            if envelope.format == .v1 {
                guard let binding = try? SecretBinding(namespace: namespace, secret: secret, key: key),
                    let payload = try? keyring.open(envelope, expecting: binding),
                    let sealed = try? Envelope.seal(
                        payload.value, for: binding, to: current, sealedBy: payload.sealedBy,
                        sealedAt: payload.sealedAt)
                else {
                    // An envelope that does not open is refused by the reconcile, which says why.
                    continue
                }
                envelopeText = sealed.text
            }
            entries[key] = HelmReseal(
                kid: envelope.keyID.hex, current: current.keyID.hex, source: source, envelope: envelopeText,
                signed: envelope.format != .v1, version: store.version(of: key), since: now)
            fresh.append(key)
        }
        self.entries = entries
        self.fresh = fresh
    }

    /// Whether `previous` is still the report for `store`: every Helm-owned key sealed to a
    /// previous key has its entry for that envelope and the current key, and no other key has
    /// one. Checks without opening anything.
    public static func isCurrent(
        _ previous: [String: HelmReseal], store: SealedStore, helmOwned: Set<String>, keyring: SealingKeyring
    ) -> Bool {
        let current = keyring.currentKeyID.hex
        var due = 0
        for key in helmOwned {
            guard let text = store.envelopes[key], stale(text, keyring: keyring) != nil else { continue }
            due += 1
            guard let kept = previous[key], kept.current == current,
                kept.source == HelmReseal.source(of: text)
            else { return false }
        }
        return due == previous.count
    }

    /// The envelope `text` when it is sealed to a key the agent holds that is not current.
    static func stale(_ text: String, keyring: SealingKeyring) -> Envelope? {
        guard let envelope = try? Envelope.parse(text), envelope.keyID != keyring.currentKeyID,
            keyring[envelope.keyID] != nil
        else { return nil }
        return envelope
    }
}
