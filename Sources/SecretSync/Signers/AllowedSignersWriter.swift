import JSONValue
import KubeAPI

/// Edits the signers ConfigMap as every writer of beluga-secrets does: read it, apply one edit,
/// replace the whole object with the `resourceVersion` read (create it when missing), and on a
/// conflict read again and replay the edit, so two administrators adding different signers at
/// the same moment both succeed.
public struct AllowedSignersWriter: Sendable {
    public let client: KubeClient
    public let namespace: String
    /// The ConfigMap's name (`beluga-secrets-signers`).
    public let name: String
    /// Reads and writes in all before giving up with `conflictPersisted`.
    public var maximumAttempts = 10

    public init(client: KubeClient, namespace: String, name: String) {
        self.client = client
        self.namespace = namespace
        self.name = name
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
        var attempt = 0
        while true {
            attempt += 1
            let object = try await read()
            var signers: AllowedSigners
            do {
                signers =
                    try object.map { configMap throws(AllowedSignersError) in
                        try AllowedSigners(configMap: configMap.json)
                    } ?? AllowedSigners()
            } catch {
                throw .signers(error)
            }
            let before = signers
            let result: Result
            do {
                result = try edit(&signers)
            } catch {
                throw .signers(error)
            }
            let changed = signers != before
            let outcome = Outcome(result: result, signers: signers, created: object == nil, changed: changed)
            if dryRun || !changed { return outcome }
            do {
                if let object {
                    _ = try await client.replace(
                        ConfigMap(json: signers.writing(into: object.json)), namespace: namespace)
                } else {
                    _ = try await client.create(
                        ConfigMap(json: signers.newConfigMap(name: name, namespace: namespace)),
                        namespace: namespace)
                }
                return outcome
            } catch  where error.category == .conflict || error.category == .alreadyExists {
                guard attempt < maximumAttempts else {
                    throw .conflictPersisted(object: "ConfigMap \(namespace)/\(name)", attempts: attempt)
                }
                let ceiling = min(20 * (1 << min(attempt, 5)), 500)
                try? await Task.sleep(for: .milliseconds(Int.random(in: ceiling / 4...ceiling)))
            } catch {
                throw .api(error)
            }
        }
    }

    /// The ConfigMap as it is now, `nil` when it does not exist.
    public func read() async throws(AllowedSignersWriteError) -> ConfigMap? {
        do {
            return try await client.getIfPresent(ConfigMap.self, name: name, namespace: namespace)
        } catch {
            throw .api(error)
        }
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
