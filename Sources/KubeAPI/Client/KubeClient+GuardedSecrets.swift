import JSONValue
import Sealing

/// Secrets read and written with their values in secure memory end to end on this side: the
/// request body that carries values is built in a `SecureBytes` and handed to libcurl where it
/// lies, and the response is collected into `SecureBytes` and decoded without its values
/// becoming `String`s (`GuardedSecret`). What libcurl and OpenSSL copy into their own buffers on
/// the way is out of reach; the process being undumpable guards those.
extension KubeClient {
    /// The Secret `name`, or nil when it does not exist.
    public func getGuardedSecretIfPresent(name: String, namespace: String? = nil) async throws(KubeError)
        -> GuardedSecret?
    {
        let namespace = resolveNamespace(.secrets, namespace)
        let description = RequestDescription(
            verb: "get", resource: .secrets, namespace: namespace, name: name)
        var request = self.request(.get, ResourceType.secrets.path(namespace: namespace, name: name))
        request.sensitiveResponse = true
        do {
            return try await sendExpectingGuardedSecret(request, description)
        } catch  where error.category == .notFound {
            return nil
        }
    }

    /// Creates `secret` (its `data`, if any, is ignored) with `values` as its data.
    public func createGuarded(
        _ secret: Secret, values: [String: SecureBytes], namespace: String? = nil
    ) async throws(KubeError) -> GuardedSecret {
        let namespace = resolveNamespace(.secrets, namespace ?? secret.namespace)
        var object = secret.json
        if let namespace { object[path: "metadata", "namespace"] = .string(namespace) }
        let description = RequestDescription(
            verb: "create", resource: .secrets, namespace: namespace,
            name: secret.name.isEmpty ? nil : secret.name)
        var request = self.request(
            .post, ResourceType.secrets.path(namespace: namespace), query: [("fieldManager", fieldManager)],
            bodyBytes: [])
        request.body = nil
        request.sensitiveBody = GuardedSecretCoding.encode(object, values: values)
        request.sensitiveResponse = true
        return try await sendExpectingGuardedSecret(request, description)
    }

    /// Merge-patches the Secret `name`: `patch` (without `data`) plus `data` holding `values`,
    /// and `null` for each of `removing`.
    public func patchGuarded(
        secretName name: String, namespace: String? = nil, patch: JSON, values: [String: SecureBytes],
        removing: [String] = []
    ) async throws(KubeError) -> GuardedSecret {
        let namespace = resolveNamespace(.secrets, namespace)
        let description = RequestDescription(
            verb: "patch", resource: .secrets, namespace: namespace, name: name)
        var request = self.request(
            .patch, ResourceType.secrets.path(namespace: namespace, name: name),
            query: [("fieldManager", fieldManager)], contentType: Patch.merge([:]).contentType, bodyBytes: [])
        request.body = nil
        request.sensitiveBody = GuardedSecretCoding.encode(patch, values: values, nullKeys: removing)
        request.sensitiveResponse = true
        return try await sendExpectingGuardedSecret(request, description)
    }

    private func sendExpectingGuardedSecret(_ request: HTTPRequest, _ description: RequestDescription)
        async throws(KubeError) -> GuardedSecret
    {
        let response = try await send(request, description)
        guard (200..<300).contains(response.status) else { throw error(for: response, description) }
        guard let body = response.sensitiveBody else {
            throw KubeError(
                .server, "the server answered \(description.verb) \(description.target) without a body")
        }
        do {
            return try GuardedSecretCoding.decode(body)
        } catch {
            throw KubeError(
                .server,
                "the server answered \(description.verb) \(description.target) with something that is not a Secret (\(error.reason))"
            )
        }
    }
}
