import Sealing
import TimeFormat

/// The agent's verdict on who changed a key, from an opened envelope, the namespace's allowed
/// signers, the key's rollback statement and the version applied before (docs/formats.md,
/// "Signatures").
///
/// Pure, so that every rule of the policy is a unit test: under `required` an unsigned envelope,
/// an unknown or removed signer, a bad signature or a replayed version is refused; under
/// `optional` the same envelopes are applied and the audit record says what was wrong.
struct SignatureCheck: Sendable {
    /// What the agent does with the envelope.
    enum Verdict: Sendable, Equatable {
        case accept(Acceptance)
        /// Refused; the reason is one line saying what is wrong and what to do.
        case reject(reason: String)
    }

    /// An accepted envelope: who is accountable for it, and what the record must flag.
    struct Acceptance: Sendable, Equatable {
        /// The allowed signer's name, or empty when no allowed signer's signature verifies.
        var signer: String
        var signerKeyId: String
        /// For the audit record: a rollback's description, and what was wrong under `optional`.
        var reason: String
        /// The key's applied version after the envelope is applied.
        var applied: AppliedVersion?
    }

    /// Why an envelope is not proven to be a new change by an allowed signer.
    enum Problem: Sendable, Equatable {
        case unsigned
        case unknownSigner(SignerID)
        case removedSigner(name: String, id: SignerID, removedAt: String)
        case badSignature(name: String, id: SignerID)
        case replayed(version: Int, applied: Int)
        case sealedBeforeDeletion(version: Int, deletedVersion: Int, deletedAt: String)
        case rollbackUnknownSigner(SignerID)
        case rollbackRemovedSigner(name: String, id: SignerID)
        case rollbackBadSignature(name: String, id: SignerID)
        case unsignedDeletion
        case deletionUnknownSigner(SignerID)
        case deletionRemovedSigner(name: String, id: SignerID)
        case deletionBadSignature(name: String, id: SignerID)
        case replayedDeletion(version: Int, applied: Int)

        /// The rejection reason under `required`.
        var rejection: String {
            switch self {
            case .unsigned:
                return SealingError.unsignedEnvelope.description
            case .unknownSigner(let id):
                return
                    "envelope is signed by signer \(id), which is not an allowed signer: have an allowed signer "
                    + "seal the value, or add the signer's key (beluga-secrets signer add NAME KEY)"
            case .removedSigner(let name, let id, let removedAt):
                return "envelope is signed by signer \(name) (\(id)), removed from the allowed signers at "
                    + "\(removedAt): have an allowed signer seal the value again"
            case .badSignature(let name, let id):
                return
                    "envelope's signature in the name of signer \(name) (\(id)) does not verify: it was altered "
                    + "or forged; seal the value again"
            case .replayed(let version, let applied):
                return
                    "envelope version \(version) is not higher than version \(applied), applied before (an old "
                    + "envelope replayed): set the value again, or restore it with a signed rollback"
            case .sealedBeforeDeletion(let version, let deletedVersion, let deletedAt):
                return
                    "envelope version \(version) was sealed before the key was deleted at \(deletedAt), when "
                    + "version \(deletedVersion) was applied (an old envelope replayed): set the value again"
            case .rollbackUnknownSigner(let id):
                return
                    "rollback statement is signed by signer \(id), which is not an allowed signer: have an "
                    + "allowed signer roll back (beluga-secrets rollback with their signing key)"
            case .rollbackRemovedSigner(let name, let id):
                return
                    "rollback statement is signed by signer \(name) (\(id)), removed from the allowed signers: "
                    + "have an allowed signer roll back"
            case .rollbackBadSignature(let name, let id):
                return
                    "rollback statement's signature in the name of signer \(name) (\(id)) does not verify: it "
                    + "was altered or forged; roll back again"
            case .unsignedDeletion:
                return
                    "deletion is not signed, and signatures are required: the value stays; delete the key again "
                    + "with an allowed signer's key (beluga-secrets delete KEY --signer-key FILE)"
            case .deletionUnknownSigner(let id):
                return
                    "deletion is signed by signer \(id), which is not an allowed signer: the value stays; have an "
                    + "allowed signer delete the key"
            case .deletionRemovedSigner(let name, let id):
                return
                    "deletion is signed by signer \(name) (\(id)), removed from the allowed signers: the value "
                    + "stays; have an allowed signer delete the key"
            case .deletionBadSignature(let name, let id):
                return
                    "deletion's signature in the name of signer \(name) (\(id)) does not verify: it was altered or "
                    + "forged; the value stays; delete the key again"
            case .replayedDeletion(let version, let applied):
                return
                    "deletion version \(version) is not higher than version \(applied), applied before (an old "
                    + "deletion replayed): the value stays; delete the key again"
            }
        }

        /// What the audit record says when the envelope is applied anyway (`optional`). The
        /// prefixes `unsigned`, `not verified:` and `replayed:` are documented: `audit` flags them.
        var flag: String {
            switch self {
            case .unsigned: return Flag.unsigned
            case .unknownSigner(let id): return Flag.notVerified + " signed by unknown signer \(id)"
            case .removedSigner(let name, let id, _):
                return Flag.notVerified + " signed by removed signer \(name) (\(id))"
            case .badSignature(let name, let id):
                return Flag.notVerified + " bad signature in the name of signer \(name) (\(id))"
            case .replayed(let version, let applied):
                return Flag.replayed
                    + " version \(version) is not higher than version \(applied), applied before"
            case .sealedBeforeDeletion(let version, _, let deletedAt):
                return Flag.replayed
                    + " version \(version) was sealed before the key was deleted at \(deletedAt)"
            case .rollbackUnknownSigner(let id):
                return Flag.notVerified + " rollback signed by unknown signer \(id)"
            case .rollbackRemovedSigner(let name, let id):
                return Flag.notVerified + " rollback signed by removed signer \(name) (\(id))"
            case .rollbackBadSignature(let name, let id):
                return Flag.notVerified + " bad rollback signature in the name of signer \(name) (\(id))"
            case .unsignedDeletion: return Flag.unsigned
            case .deletionUnknownSigner(let id):
                return Flag.notVerified + " deletion signed by unknown signer \(id)"
            case .deletionRemovedSigner(let name, let id):
                return Flag.notVerified + " deletion signed by removed signer \(name) (\(id))"
            case .deletionBadSignature(let name, let id):
                return Flag.notVerified + " bad deletion signature in the name of signer \(name) (\(id))"
            case .replayedDeletion(let version, let applied):
                return Flag.replayed
                    + " deletion version \(version) is not higher than version \(applied), applied before"
            }
        }

        /// Whether the envelope's own signature is verified and only its version is wrong.
        var isReplay: Bool {
            switch self {
            case .replayed, .sealedBeforeDeletion, .replayedDeletion: return true
            default: return false
            }
        }
    }

    /// The documented prefixes of audit reasons for changes applied without proof.
    enum Flag {
        static let unsigned = "unsigned"
        static let notVerified = "not verified:"
        static let replayed = "replayed:"
        static let rollback = "rollback"
    }

    /// Decides on one opened envelope.
    ///
    /// - Parameters:
    ///   - text: the envelope as stored (a rollback statement names it by its hash).
    ///   - opened: the envelope opened with the allowed signers' keys.
    ///   - fingerprint: the fingerprint of its value.
    ///   - statement: the key's rollback statement, if its version record has one.
    ///   - applied: the key's applied version, from the Secret.
    static func verdict(
        text: String, opened: VerifiedPayload, binding: SecretBinding, fingerprint: String,
        signers: AllowedSigners, statement: RollbackStatement?, applied: AppliedVersion?,
        policy: SignaturePolicy
    ) -> Verdict {
        let payload = opened.payload
        let restoring = statement.flatMap { $0.names(envelope: text) ? $0 : nil }
        if let applied, let payloadVersion = payload.version,
            (restoring?.version ?? payloadVersion) == applied.version, fingerprint == applied.fingerprint
        {
            // The value applied before, by this very version: it stays, whatever became of its
            // signer since (a removed signer's values stay until they are replaced).
            let author = provenSigner(
                text: text, opened: opened, binding: binding, restoring: restoring, signers: signers)
            let removed = author.flatMap { signers.removed[$0.id] }
            return .accept(
                Acceptance(
                    signer: author?.name ?? "", signerKeyId: author?.id.hex ?? "",
                    reason: removed.map {
                        "set before signer \($0.name) (\($0.publicKey.signerID)) was removed"
                    } ?? "",
                    applied: applied))
        }
        var accountable: (name: String, id: SignerID)?
        var problem: Problem?
        switch opened.signature {
        case .signed(let key):
            accountable = (signers.signer(withID: key.signerID)?.name ?? key.signerID.hex, key.signerID)
        case .unsigned:
            problem = .unsigned
        case .unknownSigner(let id):
            if let removed = signers.removed[id] {
                problem = .removedSigner(name: removed.name, id: id, removedAt: removed.removedAt)
            } else {
                problem = .unknownSigner(id)
            }
        case .badSignature(let id):
            problem = .badSignature(name: signers.signer(withID: id)?.name ?? id.hex, id: id)
        }
        var version = payload.version ?? 0
        var sealedAt = payload.sealedAt
        var reason = ""

        if let statement = restoring {
            // A restore: the statement's signer is accountable, and the envelope counts as the
            // statement's new version, provided the value itself is an authentic signed one.
            if let (name, key) = signers.signer(withID: statement.signer) {
                if !statement.isSigned(by: key, for: binding) {
                    problem = .rollbackBadSignature(name: name, id: statement.signer)
                } else if let author = authenticAuthor(text: text, opened: opened, signers: signers) {
                    problem = nil
                    accountable = (name, statement.signer)
                    version = statement.version
                    sealedAt = statement.signedAt
                    reason =
                        "\(Flag.rollback) from version \(statement.from) to the envelope of version \(statement.to), "
                        + "signed by \(name) at \(statement.signedAt); value sealed by \(payload.sealedBy) at "
                        + "\(payload.sealedAt), signed by \(author)"
                }
            } else if let removed = signers.removed[statement.signer] {
                problem = .rollbackRemovedSigner(name: removed.name, id: statement.signer)
            } else {
                problem = .rollbackUnknownSigner(statement.signer)
            }
        }

        if problem == nil, let applied {
            let fresh =
                version > applied.version
                || (version == applied.version && fingerprint == applied.fingerprint)
            if !fresh {
                problem = .replayed(version: version, applied: applied.version)
            } else if let deletedVersion = applied.deletedVersion, let deletedAt = applied.deletedAt,
                version <= deletedVersion,
                Self.isEarlier(sealedAt, than: deletedAt)
            {
                problem = .sealedBeforeDeletion(
                    version: version, deletedVersion: deletedVersion, deletedAt: deletedAt)
            }
        }

        guard let problem else {
            return .accept(
                Acceptance(
                    signer: accountable?.name ?? "", signerKeyId: accountable?.id.hex ?? "", reason: reason,
                    applied: (applied ?? AppliedVersion(version: 0, fingerprint: "")).applying(
                        version: version, fingerprint: fingerprint)))
        }
        switch policy {
        case .required:
            return .reject(reason: problem.rejection)
        case .optional:
            // A replay is still signed by its author; anything else has no proven author.
            let signer = problem.isReplay ? accountable : nil
            return .accept(
                Acceptance(
                    signer: signer?.name ?? "", signerKeyId: signer?.id.hex ?? "",
                    reason: [reason, problem.flag].filter { !$0.isEmpty }.joined(separator: "; "),
                    applied: applied))
        }
    }

    /// Decides on a deletion (a tombstone in the key's version record, `record`): under
    /// `required` it takes a deletion statement by an allowed signer, for this key and the
    /// tombstone's version, higher than the version applied; under `optional` any tombstone
    /// deletes, and the record says what was not proven.
    static func deletionVerdict(
        record: SealedVersion, binding: SecretBinding, signers: AllowedSigners, applied: AppliedVersion?,
        policy: SignaturePolicy
    ) -> Verdict {
        var accountable: (name: String, id: SignerID)?
        var problem: Problem?
        if let statement = record.deletion {
            if let (name, key) = signers.signer(withID: statement.signer) {
                if statement.version == record.version, statement.isSigned(by: key, for: binding) {
                    accountable = (name, statement.signer)
                } else {
                    problem = .deletionBadSignature(name: name, id: statement.signer)
                }
            } else if let removed = signers.removed[statement.signer] {
                problem = .deletionRemovedSigner(name: removed.name, id: statement.signer)
            } else {
                problem = .deletionUnknownSigner(statement.signer)
            }
        } else {
            problem = .unsignedDeletion
        }
        if problem == nil, let applied, record.version <= applied.version {
            problem = .replayedDeletion(version: record.version, applied: applied.version)
        }
        guard let problem else {
            return .accept(
                Acceptance(
                    signer: accountable?.name ?? "", signerKeyId: accountable?.id.hex ?? "", reason: "",
                    applied: applied))
        }
        switch policy {
        case .required:
            return .reject(reason: problem.rejection)
        case .optional:
            let signer = problem.isReplay ? accountable : nil
            return .accept(
                Acceptance(
                    signer: signer?.name ?? "", signerKeyId: signer?.id.hex ?? "", reason: problem.flag,
                    applied: applied))
        }
    }

    /// Who is proven accountable for an envelope applied before: the rollback's signer or the
    /// envelope's, among the allowed and the removed signers.
    private static func provenSigner(
        text: String, opened: VerifiedPayload, binding: SecretBinding, restoring: RollbackStatement?,
        signers: AllowedSigners
    ) -> (name: String, id: SignerID)? {
        if let restoring {
            if let (name, key) = signers.signer(withID: restoring.signer),
                restoring.isSigned(by: key, for: binding)
            {
                return (name, key.signerID)
            }
            if let removed = signers.removed[restoring.signer],
                restoring.isSigned(by: removed.publicKey, for: binding)
            {
                return (removed.name, restoring.signer)
            }
            return nil
        }
        switch opened.signature {
        case .signed(let key):
            return (signers.signer(withID: key.signerID)?.name ?? key.signerID.hex, key.signerID)
        case .unknownSigner(let id):
            guard let removed = signers.removed[id], let envelope = try? Envelope.parse(text),
                envelope.verifySignature(allowedSigners: [removed.publicKey])
                    == .signed(by: removed.publicKey)
            else { return nil }
            return (removed.name, id)
        case .unsigned, .badSignature:
            return nil
        }
    }

    /// Who signed the value a rollback restores, when that is proven: an allowed signer, or a
    /// removed one (values a removed signer set before stay valid).
    private static func authenticAuthor(text: String, opened: VerifiedPayload, signers: AllowedSigners)
        -> String?
    {
        switch opened.signature {
        case .signed(let key):
            return "\(signers.signer(withID: key.signerID)?.name ?? key.signerID.hex) (\(key.signerID))"
        case .unknownSigner(let id):
            guard let removed = signers.removed[id], let envelope = try? Envelope.parse(text),
                envelope.verifySignature(allowedSigners: [removed.publicKey])
                    == .signed(by: removed.publicKey)
            else { return nil }
            return "removed signer \(removed.name) (\(id))"
        case .unsigned, .badSignature:
            return nil
        }
    }

    /// Whether time `first` is before `second`; a time that does not parse counts as the
    /// earliest (`first`) or the latest (`second`) possible, as before.
    static func isEarlier(_ first: String, than second: String) -> Bool {
        guard let later = RFC3339.parse(second) else { return true }
        guard let earlier = RFC3339.parse(first) else { return true }
        return earlier < later
    }
}
