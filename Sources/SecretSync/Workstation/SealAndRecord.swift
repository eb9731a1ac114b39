import Sealing

/// `set` and `rotate` on the sealed path: seal a value to the agent's current key and record it
/// as the key's next version in the sealed store, as one edit (replayed after a conflict), under
/// one version and one time; then say what was stored.
public struct SealAndRecord: Sendable {
    public let workspace: Workspace
    public let key: String
    public let output: any OutputSink

    public init(workspace: Workspace, key: String, output: any OutputSink = StandardOutputSink()) {
        self.workspace = workspace
        self.key = key
        self.output = output
    }

    /// What was stored (or, in a dry run, would be).
    public struct Outcome: Sendable {
        public var recorded: SealedStore.Recorded
        /// The key's status before the write (what a wait compares against).
        public var previousStatus: SyncStatus?
        /// Whether Helm values own the key: the next `helm upgrade` puts their envelope back.
        public var helmOwned: Bool = false
    }

    /// Seals `value` to `recipient` (signed by `signer`, when given) by `author` and stores it;
    /// with `mustExist` (`rotate`) only if the store holds the key. `waiting` only changes what
    /// the report line promises.
    public func run(
        _ value: SecureBytes, to recipient: SealingPublicKey, by author: String, signer: SigningKeyPair?,
        mustExist: Bool, dryRun: Bool, waiting: Bool, change: ChangeID? = nil
    ) async throws(ChangeError) -> Outcome {
        let binding: SecretBinding
        do {
            binding = try SecretBinding(
                namespace: workspace.namespace, secret: workspace.names.secret, key: key)
        } catch {
            throw .sealing(error)
        }
        let key = self.key
        let outcome = try await workspace.sealedStore.update(dryRun: dryRun) {
            (store: inout SealedStore) throws(ChangeError) -> SealedStore.Recorded in
            if mustExist, store.envelopes[key] == nil {
                throw .keyNotFound(
                    key: key, object: "the sealed store",
                    hint: "set it first with `beluga-secrets set \(key)`")
            }
            return try store.sealAndRecord(
                value, key: key, binding: binding, to: recipient, by: author, signer: signer, change: change)
        }
        let recorded = outcome.result
        let signed = signer.map { " and signed by \($0.signerID)" } ?? ""
        let store = workspace.describe("ConfigMap", workspace.names.sealedStore)
        if dryRun {
            output.write(
                "\(key): would store version \(recorded.version) sealed to kid \(recipient.keyID)\(signed) "
                    + "(\(recorded.fingerprint)) in \(store)\(outcome.created ? ", creating it" : "") "
                    + "(dry run: nothing written)")
        } else {
            output.write(
                "\(key): version \(recorded.version) sealed to kid \(recipient.keyID)\(signed) "
                    + "(\(recorded.fingerprint)), stored in \(store); "
                    + (waiting ? "waiting for the agent" : "the agent will apply it"))
        }
        return Outcome(
            recorded: recorded, previousStatus: outcome.status?.keys[key],
            helmOwned: outcome.helmOwned.contains(key))
    }
}
