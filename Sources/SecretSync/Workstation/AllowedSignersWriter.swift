import JSONValue
import KubeAPI

/// Edits the signers ConfigMap as every writer of beluga-secrets does: read it, apply one edit,
/// replace the whole object with the `resourceVersion` read (create it when missing), and on a
/// conflict read again and replay the edit, so two administrators adding different signers at
/// the same moment both succeed.
public struct AllowedSignersWriter: Sendable {
    /// The signers ConfigMap (`beluga-secrets-signers`) and how conflicts on it are retried.
    public var configMap: ConfigMapEdit
    public var namespace: String { configMap.namespace }
    public var name: String { configMap.name }

    public init(client: KubeClient, namespace: String, name: String) {
        configMap = ConfigMapEdit(client: client, namespace: namespace, name: name)
    }

    /// What one edit did.
    public struct Outcome<Result: Sendable>: Sendable {
        public var result: Result
        /// The list as written (in a dry run: as it would be written).
        public var signers: AllowedSigners
        /// Whether the ConfigMap did not exist and was (or would be) created.
        public var created: Bool
        /// Whether anything was (or would be) written: an edit that changes nothing writes nothing.
        public var changed: Bool
    }

    /// Applies `edit` to the current list and writes the result; with `dryRun`, reads and edits
    /// but writes nothing. `edit` may run more than once (after a conflict), so it must depend
    /// only on the list it is given.
    public func update<Result: Sendable>(
        dryRun: Bool = false, _ edit: (inout AllowedSigners) throws(AllowedSignersError) -> Result
    ) async throws(AllowedSignersWriteError) -> Outcome<Result> {
        let namespace = configMap.namespace
        let name = configMap.name
        return try await configMap.run(
            api: AllowedSignersWriteError.api, conflictPersisted: AllowedSignersWriteError.conflictPersisted
        ) {
            (object: ConfigMap?, _: Int) throws(AllowedSignersWriteError) -> (
                write: ConfigMap?, result: Outcome<Result>
            ) in
            var signers: AllowedSigners
            do throws(AllowedSignersError) {
                signers =
                    try object.map { configMap throws(AllowedSignersError) in
                        try AllowedSigners(configMap: configMap.json)
                    } ?? AllowedSigners()
            } catch {
                throw .signers(error)
            }
            let before = signers
            let result: Result
            do throws(AllowedSignersError) {
                result = try edit(&signers)
            } catch {
                throw .signers(error)
            }
            let changed = signers != before
            let outcome = Outcome(result: result, signers: signers, created: object == nil, changed: changed)
            if dryRun || !changed { return (nil, outcome) }
            let written = ConfigMap(
                json: object.map { signers.writing(into: $0.json) }
                    ?? signers.newConfigMap(name: name, namespace: namespace))
            return (written, outcome)
        }
    }

    /// The ConfigMap as it is now, `nil` when it does not exist.
    public func read() async throws(AllowedSignersWriteError) -> ConfigMap? {
        do throws(KubeError) { return try await configMap.read() } catch { throw .api(error) }
    }
}

/// Why the signers ConfigMap could not be read or written.
public enum AllowedSignersWriteError: Error, Sendable, CustomStringConvertible {
    case api(KubeError)
    case signers(AllowedSignersError)
    case conflictPersisted(object: String, attempts: Int)

    public var description: String {
        switch self {
        case .api(let error): return error.description
        case .signers(let error): return error.description
        case .conflictPersisted(let object, let attempts):
            return "\(object) kept changing while it was written (\(attempts) attempts): try again"
        }
    }
}
