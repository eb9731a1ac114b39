extension KubeClient {
    /// The log of a pod's container (`kubectl logs`).
    public func podLogs(
        name: String, namespace: String? = nil, options: PodLogOptions = PodLogOptions()
    ) async throws(KubeError) -> String {
        let namespace = resolveNamespace(.pods, namespace)
        let description = RequestDescription(
            verb: "get", resource: .pods, namespace: namespace, name: name, subresource: "log")
        let response = try await send(
            request(
                .get, ResourceType.pods.path(namespace: namespace, name: name, subresource: "log"),
                query: options.queryItems),
            description)
        guard (200..<300).contains(response.status) else { throw error(for: response, description) }
        return String(decoding: response.body, as: UTF8.self)
    }

    /// Follows the log of a pod's container (`kubectl logs -f`): yields complete lines until
    /// the container ends or the consuming task is cancelled.
    public func followPodLogs(
        name: String, namespace: String? = nil, options: PodLogOptions = PodLogOptions()
    ) -> AsyncThrowingStream<String, any Error> {
        let namespace = resolveNamespace(.pods, namespace)
        let description = RequestDescription(
            verb: "get", resource: .pods, namespace: namespace, name: name, subresource: "log")
        var query = options.queryItems
        query.append(("follow", "true"))
        let request = HTTPRequest(
            method: .get,
            pathAndQuery: ResourceType.pods.path(namespace: namespace, name: name, subresource: "log")
                + makeQuery(query), headers: [("Accept", "*/*")], timeout: nil)
        let (stream, continuation) = AsyncThrowingStream<String, any Error>.makeStream()
        let task = Task {
            do throws(KubeError) {
                let credentials = try await authenticator.credentials()
                final class State: @unchecked Sendable {
                    var status = 0
                    var errorBody: [UInt8] = []
                    var splitter = LineSplitter()
                    var head = HTTPResponseHead(status: 0, headers: [:])
                }
                let state = State()
                let result = await transport.stream(
                    request, credentials: credentials, onHead: { head in state.head = head },
                    onBody: { bytes in
                        if state.head.status != 200 {
                            state.errorBody += bytes
                            return true
                        }
                        for line in state.splitter.push(bytes) {
                            continuation.yield(String(decoding: line, as: UTF8.self))
                        }
                        return true
                    })
                switch result {
                case .success(let status):
                    if state.head.status == 0 { state.head.status = status }
                    if state.head.status != 200 {
                        throw error(for: HTTPResponse(head: state.head, body: state.errorBody), description)
                    }
                    continuation.finish()
                case .failure(let failure):
                    if failure.kind == .cancelled {
                        continuation.finish()
                        return
                    }
                    throw ErrorMapping.fromTransport(
                        failure, identity: configuration.identity, configuration: configuration.transport)
                }
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }
}
