import KubeAPI
import Sealing

/// Why a change made from a workstation (a key set, rotated, rolled back or deleted, a setting
/// changed, a restart) did not happen, or did not finish as asked. Each case says what to do;
/// none ever carries a value.
public enum ChangeError: Error, Sendable, CustomStringConvertible {
    /// The API refused or could not be reached.
    case api(KubeError)
    /// The sealed store could not be read or edited.
    case store(SealedStoreError)
    /// A value could not be sealed (empty, too large, invalid key name).
    case sealing(SealingError)
    /// Other writers kept changing the object: every replay met a newer version.
    case conflictPersisted(object: String, attempts: Int)
    /// The key does not exist where the command looked for it.
    case keyNotFound(key: String, object: String, hint: String)
    /// A direct write to a key the agent manages from the sealed store.
    case managedBySealedStore(key: String, sealedStore: String)
    /// A sealed write to a key written straight into the Secret, by a user who may not hand it over.
    case managedDirectly(key: String, secret: String)
    /// An unsigned rollback to a signed version, which an agent refuses to apply again.
    case signedVersionCannotBeRolledBack(key: String, version: Int)
    /// The agent refused the envelope of this version; the Secret keeps the previous value.
    case rejectedByAgent(key: String, version: Int, reason: String)
    /// The rollout of a Deployment failed (ProgressDeadlineExceeded).
    case rolloutFailed(deployment: String, message: String)
    /// Waiting for the agent or a rollout took longer than allowed.
    case timedOut(waitingFor: String, after: String)
    /// An object this command follows was deleted while it waited.
    case disappeared(object: String)
    /// A setting name or value the ConfigMap cannot hold.
    case invalidSetting(String)
    /// The sealed store would hold more than a ConfigMap may (1 MiB of data in all).
    case storeTooLarge(object: String, bytes: Int)

    /// A 409 from the API: the write met a newer version (retried by `ConflictRetry`).
    var isConflict: Bool {
        if case .api(let error) = self { return error.isConflict }
        return false
    }

    public var description: String {
        switch self {
        case .api(let error):
            return error.description
        case .store(let error):
            return error.description
        case .sealing(let error):
            return error.description
        case .conflictPersisted(let object, let attempts):
            return
                "\(object) kept changing while this command wrote it (\(attempts) attempts): "
                + "another writer is busy; run the command again"
        case .keyNotFound(let key, let object, let hint):
            return "key \"\(key)\" is not in \(object): \(hint)"
        case .managedBySealedStore(let key, let sealedStore):
            return
                "key \"\(key)\" is managed by the agent from the sealed store \(sealedStore): a direct write "
                + "would be undone; drop --direct to seal it, or delete it from the sealed store first"
        case .managedDirectly(let key, let secret):
            return
                "key \"\(key)\" is written straight into the Secret \(secret) (--direct), and you may not update "
                + "that Secret to hand it over to the agent, which refuses an envelope for it: have a user who may "
                + "run `beluga-secrets set \(key)`, or `beluga-secrets delete \(key) --direct` first, or keep writing "
                + "it with --direct"
        case .signedVersionCannotBeRolledBack(let key, let version):
            return
                "version \(version) of key \"\(key)\" is a signed envelope (format 2) that records its own "
                + "version, and an agent refuses to apply an old signed version again (replay protection) unless "
                + "the rollback is signed: roll back with your signing key (beluga-secrets signer init; an "
                + "administrator lists it with beluga-secrets signer add), or set the old value again with "
                + "`beluga-secrets set \(key)`"
        case .rejectedByAgent(let key, let version, let reason):
            return
                "the agent rejected version \(version) of key \"\(key)\": \(reason); the Secret keeps the "
                + "previous value"
        case .rolloutFailed(let deployment, let message):
            return
                "the rollout of deployment \"\(deployment)\" failed: \(message); check the pods with "
                + "kubectl describe deployment \(deployment)"
        case .timedOut(let waitingFor, let after):
            return
                "gave up waiting for \(waitingFor) after \(after): raise --timeout, or check again with beluga-secrets status"
        case .disappeared(let object):
            return "\(object) was deleted while this command waited for it"
        case .invalidSetting(let message):
            return message
        case .storeTooLarge(let object, let bytes):
            return
                "\(object) would hold \(bytes) bytes of envelopes, more than the 1 MiB (\(SealedStoreWriter.maximumDataBytes) bytes) a ConfigMap "
                + "may hold (a sealed value takes about 4/3 of its size): store a smaller value, or delete keys no longer used"
        }
    }
}

extension ChangeError {
    /// The outcome of `body` as a value, so that requests made at once (`async let`) can each
    /// fail without cancelling the others, and be judged in the order the work needs them.
    static func result<T>(_ body: () async throws(ChangeError) -> T) async -> Result<T, ChangeError> {
        do throws(ChangeError) {
            return .success(try await body())
        } catch {
            return .failure(error)
        }
    }
}
