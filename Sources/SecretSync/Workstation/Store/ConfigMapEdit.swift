import KubeAPI

/// The read-modify-write every workstation writer of a ConfigMap makes (docs/formats.md): read
/// it, let the caller edit what it holds, replace the whole object with the `resourceVersion`
/// read (create it when it did not exist), and after a conflict read again and replay the edit,
/// by the package's one rule (`ConflictRetry`). So two writers at the same moment both succeed,
/// and neither overwrites the other's change.
public struct ConfigMapEdit: Sendable {
    public let client: KubeClient
    public let namespace: String
    public let name: String
    /// How conflicts are retried before giving up.
    public var conflictRetry = ConflictRetry.standard

    public init(client: KubeClient, namespace: String, name: String) {
        self.client = client
        self.namespace = namespace
        self.name = name
    }

    /// The ConfigMap as it is now, `nil` when it does not exist.
    public func read() async throws(KubeError) -> ConfigMap? {
        try await client.getIfPresent(ConfigMap.self, name: name, namespace: namespace)
    }

    /// What went wrong inside: a conflict (replayed), or the caller's own failure.
    private enum Failed<Failure: Error>: Error {
        case conflict(KubeError)
        case failure(Failure)
    }

    /// Runs `edit` on the ConfigMap as it is (`nil` when missing) with the attempt number; writes
    /// the object it returns (none: nothing to write) and returns its result. An API error
    /// becomes `api(error)`; conflicts past the rule, `conflictPersisted(object, attempts)`.
    func run<Result, Failure: Error>(
        api: (KubeError) -> Failure, conflictPersisted: (_ object: String, _ attempts: Int) -> Failure,
        _ edit: (_ current: ConfigMap?, _ attempt: Int) throws(Failure) -> (write: ConfigMap?, result: Result)
    ) async throws(Failure) -> Result {
        let object = "ConfigMap \(namespace)/\(name)"
        do throws(Failed<Failure>) {
            return try await conflictRetry.run(
                isConflict: { if case .conflict = $0 { true } else { false } },
                exhausted: { attempts, _ in .failure(conflictPersisted(object, attempts)) }
            ) { (attempt: Int) async throws(Failed<Failure>) -> Result in
                let current: ConfigMap?
                do throws(KubeError) {
                    current = try await read()
                } catch {
                    throw .failure(api(error))
                }
                let edited: (write: ConfigMap?, result: Result)
                do throws(Failure) {
                    edited = try edit(current, attempt)
                } catch {
                    throw .failure(error)
                }
                guard let write = edited.write else { return edited.result }
                do throws(KubeError) {
                    if current != nil {
                        _ = try await client.replace(write, namespace: namespace)
                    } else {
                        _ = try await client.create(write, namespace: namespace)
                    }
                } catch  where error.isConflict {
                    throw .conflict(error)
                } catch {
                    throw .failure(api(error))
                }
                return edited.result
            }
        } catch {
            switch error {
            case .failure(let failure): throw failure
            case .conflict(let conflict): throw api(conflict)
            }
        }
    }
}
