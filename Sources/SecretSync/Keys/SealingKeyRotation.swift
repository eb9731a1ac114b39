import JSONValue
import KubeAPI
import TimeFormat

/// How an operator asks the agent for a new sealing key: `beluga-secrets keys rotate` sets an
/// annotation on the public-key ConfigMap; the agent that leads sees it, makes a new current
/// key, publishes it, removes the annotation and re-seals the stored envelopes to the new key
/// in the background. Asking needs `get`, `patch` and `watch` on that one ConfigMap, never
/// access to the keys themselves.
public enum SealingKeyRotation {
    /// Annotation on the public-key ConfigMap; its value is when the rotation was asked for.
    public static let requestAnnotation = "beluga-ai.io/rotate-sealing-key"

    /// The merge patch that asks for a rotation.
    public static func requestPatch(at time: String) -> JSON {
        ["metadata": ["annotations": [requestAnnotation: .string(time)]]]
    }

    /// The outcome of a rotation asked for and seen through.
    public struct Outcome: Sendable {
        public var previous: String
        public var current: PublishedSealingKey
        /// The keys as published after the rotation.
        public var published: PublishedKeys
    }

    /// Asks the agent of `namespace` for a new sealing key and waits (at most `timeout`) until
    /// it has published one signed by the same identity.
    public static func request(
        client: KubeClient, namespace: String, configMap: String, timeout: Duration
    ) async throws(SealingKeyRotationError) -> Outcome {
        let before: PublishedKeys
        do {
            let object = try await client.get(ConfigMap.self, name: configMap, namespace: namespace)
            before = try PublishedKeys(configMap: object.json, namespace: namespace)
        } catch let error as KubeError {
            throw .api(error)
        } catch let error as PublishedKeysError {
            throw .published(error)
        } catch {
            throw .api(KubeError(.server, "\(error)"))
        }
        do {
            _ = try await client.patch(
                ConfigMap.self, name: configMap, namespace: namespace,
                patch: .merge(requestPatch(at: RFC3339.format(.now()))))
        } catch {
            throw .api(error)
        }
        let previous = before.current.keyID.hex
        let outcome = await withTaskGroup(of: Result<Outcome, SealingKeyRotationError>?.self) { group in
            group.addTask {
                do {
                    for try await object in client.watchObject(
                        ConfigMap.self, name: configMap, namespace: namespace)
                    {
                        guard let object,
                            object.metadata.annotations[requestAnnotation] == nil,
                            let keys = try? PublishedKeys(configMap: object.json, namespace: namespace),
                            keys.current.keyID.hex != previous
                        else { continue }
                        guard keys.identity == before.identity else {
                            return .failure(.identityChanged(namespace: namespace))
                        }
                        // A new current key with a counter not above the old one is an old
                        // statement put back, not the rotation asked for.
                        guard keys.currentStatement.counter > before.currentStatement.counter else {
                            continue
                        }
                        if let entry = keys.currentEntry {
                            return .success(Outcome(previous: previous, current: entry, published: keys))
                        }
                    }
                } catch let error as KubeError {
                    return .failure(.api(error))
                } catch {
                    return nil
                }
                return nil
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return .failure(.timedOut(namespace: namespace, timeout: timeout))
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first ?? .failure(.timedOut(namespace: namespace, timeout: timeout))
        }
        return try outcome.get()
    }
}

/// Why a rotation could not be asked for or seen through.
public enum SealingKeyRotationError: Error, Sendable, CustomStringConvertible {
    case api(KubeError)
    case published(PublishedKeysError)
    case timedOut(namespace: String, timeout: Duration)
    case identityChanged(namespace: String)

    public var description: String {
        switch self {
        case .api(let error): return error.description
        case .published(let error): return error.description
        case .timedOut(let namespace, let timeout):
            return "the agent did not publish a new sealing key within \(Self.seconds(timeout))s; "
                + "is it running in namespace \"\(namespace)\"? The request stays and is carried out when it starts "
                + "(kubectl logs -n \(namespace) -l app.kubernetes.io/component=secrets-agent)"
        case .identityChanged(let namespace):
            return
                "the new sealing key in namespace \"\(namespace)\" is signed by another identity than before; "
                + "do not seal to it, and check who changed the public-key ConfigMap"
        }
    }

    /// `duration` in seconds as a person writes them: `300`, `2.5`.
    static func seconds(_ duration: Duration) -> String {
        let milliseconds = duration.inMilliseconds
        return milliseconds % 1000 == 0 ? "\(milliseconds / 1000)" : "\(Double(milliseconds) / 1000)"
    }
}
