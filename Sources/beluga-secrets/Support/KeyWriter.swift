import Sealing
import SecretSync

/// The work of `set` and `rotate`: seal the value to the agent's current key and store it as the
/// key's next version in the sealed store, or with `--direct` write it into the Secret and patch
/// the Deployment's content hash; then say what happened, and with `--wait` follow it to the end.
struct KeyWriter {
    let key: String
    let value: KeyValueOptions
    let direct: Bool
    let dryRun: Bool
    let wait: ChangeWaitOptions
    let release: ReleaseOptions
    /// `rotate`: the key must exist already.
    let mustExist: Bool

    func run() async throws {
        let early = try value.prompts ? nil : value.readValue(key: key)
        let workspace = try release.connect()
        let binding = try SecretBinding(
            namespace: workspace.namespace, secret: workspace.names.secret, key: key)
        if direct {
            try await writeDirect(workspace, early: early)
        } else {
            try await writeSealed(workspace, binding: binding, early: early)
        }
    }

    private func writeSealed(_ workspace: Workspace, binding: SecretBinding, early: SecureBytes?) async throws
    {
        // Everything that can fail without the value is checked before it is typed.
        let recipient = try await SealingKeySource.trustedKey(
            in: workspace, acceptNewIdentity: value.acceptNewIdentity, dryRun: dryRun)
        let signer = try value.signingKey()
        if mustExist { try await requireSealedKey(workspace) }
        let secretValue = try early ?? value.readValue(key: key)
        let before =
            wait.followsRollout && !dryRun ? try await ChangeFollower.deploymentBefore(workspace) : nil
        let author = value.author
        let key = self.key
        let mustExist = self.mustExist
        let outcome = try await workspace.sealedStore.update(dryRun: dryRun) {
            (store: inout SealedStore) throws(ChangeError) -> (version: Int, fingerprint: String) in
            if mustExist, store.envelopes[key] == nil {
                throw .keyNotFound(
                    key: key, object: "the sealed store",
                    hint: "set it first with `beluga-secrets set \(key)`")
            }
            let version = store.nextVersion(of: key)
            let envelope = try Self.seal(
                secretValue, binding: binding, recipient: recipient, author: author, version: version,
                signer: signer)
            let fingerprint = Fingerprint(of: secretValue, binding: binding).text
            let assigned = store.set(
                key: key, envelope: envelope.text, fingerprint: fingerprint, sealedBy: author,
                sealedAt: Timestamp.now())
            return (assigned, fingerprint)
        }
        let version = outcome.result.version
        let signed = signer.map { " and signed by \($0.signerID)" } ?? ""
        let store = workspace.describe("ConfigMap", workspace.names.sealedStore)
        if dryRun {
            print(
                "\(key): would store version \(version) sealed to kid \(recipient.keyID)\(signed) "
                    + "(\(outcome.result.fingerprint)) in \(store)\(outcome.created ? ", creating it" : "") "
                    + "(dry run: nothing written)")
            return
        }
        print(
            "\(key): version \(version) sealed to kid \(recipient.keyID)\(signed) (\(outcome.result.fingerprint)), "
                + "stored in \(store); "
                + (wait.wait ? "waiting for the agent" : "the agent will apply it"))
        guard wait.wait else { return }
        let previous = outcome.previous.status[key]
        try await ChangeFollower(workspace: workspace, timeout: wait.timeout).followSealed(
            key: key, version: version,
            previousAppliedFingerprint: previous?.state == .applied ? previous?.fingerprint : nil,
            before: before, throughRollout: wait.throughRollout)
    }

    private func requireSealedKey(_ workspace: Workspace) async throws {
        let object = try await workspace.sealedStore.read()
        guard object?.data[key] != nil else {
            throw ChangeError.keyNotFound(
                key: key, object: "the sealed store \(workspace.namespace)/\(workspace.names.sealedStore)",
                hint:
                    "set it first with `beluga-secrets set \(key)`, or pass --direct for a key written directly"
            )
        }
    }

    private func writeDirect(_ workspace: Workspace, early: SecureBytes?) async throws {
        if early == nil { try await workspace.directSecret.check(key: key, mustExist: mustExist) }
        let secretValue = try early ?? value.readValue(key: key)
        let outcome = try await workspace.directSecret.write(
            key: key, .set(secretValue, mustExist: mustExist), by: value.author, dryRun: dryRun)
        let secret = workspace.describe("Secret", workspace.names.secret)
        let unchanged = outcome.previousFingerprint == outcome.fingerprint
        if dryRun {
            print(
                "\(key): would write version \(outcome.version) (\(outcome.fingerprint)) into \(secret)"
                    + "\(outcome.createdSecret ? ", creating it" : "")\(unchanged ? ", the value it holds already" : "") "
                    + "(dry run: nothing written)")
        } else {
            print(
                "\(key): version \(outcome.version) (\(outcome.fingerprint)) written into \(secret)"
                    + (unchanged ? " (the value it held already)" : ""))
        }
        let pending = DeploymentRestarter.PendingChange(
            object: .secret(workspace.names.secret), key: key,
            value: dryRun ? secretValue.withUnsafeBytes { Array($0) } : nil)
        try await DirectRestart(
            workspace: workspace, dryRun: dryRun, waitTimeout: wait.rolloutLimit, pending: pending,
            writtenSecret: outcome.written
        ).run()
    }

    /// Seals format 2 when there is a signer, else format 1.
    static func seal(
        _ value: SecureBytes, binding: SecretBinding, recipient: SealingPublicKey, author: String,
        version: Int,
        signer: SigningKeyPair?
    ) throws(ChangeError) -> Envelope {
        do {
            if let signer {
                return try Envelope.seal(
                    value, for: binding, to: recipient, sealedBy: author, version: version, signer: signer)
            }
            return try Envelope.seal(value, for: binding, to: recipient, sealedBy: author)
        } catch {
            throw .sealing(error)
        }
    }
}
