import JSONValue
import Logging
import TimeFormat

/// List-then-watch with the habits of client-go's reflector: resume from the last
/// `resourceVersion` seen (bookmarks included) after the server ends a watch or the
/// connection drops; on `410 Gone` list again and report the difference as events; back off
/// between failed reconnects. Fatal answers (401 after renewing credentials, 403, 404) end it.
struct Watcher<Object: KubeObjectView>: Sendable {
    let client: KubeClient
    let resource: ResourceType
    /// `nil`: all namespaces.
    let namespace: String?
    let options: WatchOptions

    private enum Outcome {
        case ended
        case expired
        case failed(KubeError)
    }

    private enum Chunk: Sendable {
        case head(HTTPResponseHead)
        case data([UInt8])
        case end(Result<Int, TransportError>)
    }

    func signals() -> AsyncThrowingStream<WatchSignal<Object>, any Error> {
        let (stream, continuation) = AsyncThrowingStream<WatchSignal<Object>, any Error>.makeStream()
        let task = Task {
            do {
                try await run(continuation)
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    private func run(_ output: AsyncThrowingStream<WatchSignal<Object>, any Error>.Continuation)
        async throws(KubeError)
    {
        var known: [String: Object] = [:]
        var resourceVersion = options.resourceVersion
        var failures = 0
        if resourceVersion == nil {
            resourceVersion = try await relist(&known, output, failures: &failures)
        }
        while !Task.isCancelled {
            let outcome = try await watchOnce(
                from: resourceVersion ?? "", known: &known, resourceVersion: &resourceVersion, output)
            switch outcome {
            case .ended:
                failures = 0
                options.onRestart?(.ended)
            case .expired:
                client.logger.debug("watch expired, listing again", metadata: ["resource": "\(resource)"])
                options.onRestart?(.expired)
                resourceVersion = try await relist(&known, output, failures: &failures)
            case .failed(let error):
                failures += 1
                options.onRestart?(.failed)
                try await pause(after: error, failures: failures)
            }
        }
        throw KubeError(.cancelled, "the watch of \(resource) was cancelled")
    }

    private func pause(after error: KubeError, failures: Int) async throws(KubeError) {
        let delay = options.reconnectBackoff.delay(beforeRetry: failures, retryAfter: nil)
        client.logger.debug(
            "watch interrupted, reconnecting",
            metadata: [
                "resource": "\(resource)", "error": "\(error.message)", "delay_ms": "\(delay.inMilliseconds)",
            ])
        do {
            try await Task.sleep(for: delay)
        } catch {
            throw KubeError(.cancelled, "the watch of \(resource) was cancelled")
        }
    }

    private func key(_ object: Object) -> String { "\(object.namespace ?? "")/\(object.name)" }

    /// Lists every page, reports the difference with `known` as one batch, and returns the
    /// version to watch from. Transient failures are retried with backoff.
    private func relist(
        _ known: inout [String: Object],
        _ output: AsyncThrowingStream<WatchSignal<Object>, any Error>.Continuation,
        failures: inout Int
    ) async throws(KubeError) -> String {
        var list: ObjectList<Object>
        while true {
            do {
                list = try await client.listAll(
                    Object.self, resource: resource, namespace: namespace, allNamespaces: namespace == nil,
                    options: options.listOptions)
                break
            } catch  where error.isTransient || error.category == .gone {
                // A `continue` token can expire during a long list: list again from the start.
                failures += 1
                try await pause(after: error, failures: failures)
            }
        }
        var events: [WatchEvent<Object>] = []
        var current: [String: Object] = [:]
        for item in list.items {
            let itemKey = key(item)
            current[itemKey] = item
            if let previous = known[itemKey] {
                if previous.resourceVersion != item.resourceVersion {
                    events.append(WatchEvent(kind: .modified, object: item))
                }
            } else {
                events.append(WatchEvent(kind: .added, object: item))
            }
        }
        for (itemKey, previous) in known where current[itemKey] == nil {
            events.append(WatchEvent(kind: .deleted, object: previous))
        }
        known = current
        output.yield(.resync(events))
        return list.resourceVersion ?? ""
    }

    private func watchOnce(
        from start: String, known: inout [String: Object], resourceVersion: inout String?,
        _ output: AsyncThrowingStream<WatchSignal<Object>, any Error>.Continuation
    ) async throws(KubeError) -> Outcome {
        let timeoutSeconds = options.serverTimeoutSeconds ?? Int.random(in: 300...600)
        var query: [(String, String)] = [("watch", "1"), ("allowWatchBookmarks", "true")]
        if !start.isEmpty { query.append(("resourceVersion", start)) }
        query.append(("timeoutSeconds", String(timeoutSeconds)))
        query += options.listOptions.queryItems
        // The server ends the watch after `timeoutSeconds`; a connection silent well past
        // that is dead.
        let request = client.request(
            .get, resource.path(namespace: namespace), query: query, timeout: .seconds(timeoutSeconds + 30))
        let description = RequestDescription(verb: "watch", resource: resource, namespace: namespace)

        var renewed = false
        while true {
            let credentials = try await client.authenticator.credentials()
            let (chunks, chunkContinuation) = AsyncStream<Chunk>.makeStream()
            let transport = client.transport
            async let finished: Void = {
                let result = await transport.stream(
                    request, credentials: credentials,
                    onHead: { chunkContinuation.yield(.head($0)) },
                    onBody: { bytes in
                        chunkContinuation.yield(.data(bytes))
                        return true
                    })
                chunkContinuation.yield(.end(result))
                chunkContinuation.finish()
            }()

            var head: HTTPResponseHead?
            var decoder = WatchStreamDecoder<Object>()
            var errorBody: [UInt8] = []
            var outcome: Outcome?
            var retryWithRenewedCredentials = false
            chunkLoop: for await chunk in chunks {
                switch chunk {
                case .head(let responseHead):
                    head = responseHead
                case .data(let bytes):
                    guard head?.status == 200 else {
                        errorBody += bytes
                        continue
                    }
                    for line in decoder.push(bytes) {
                        if let result = try handle(
                            line, known: &known, resourceVersion: &resourceVersion, output)
                        {
                            outcome = result
                            break chunkLoop
                        }
                    }
                case .end(let result):
                    switch result {
                    case .failure(let error):
                        if error.kind == .cancelled {
                            throw KubeError(.cancelled, "the watch of \(resource) was cancelled")
                        }
                        outcome = .failed(
                            ErrorMapping.fromTransport(
                                error, identity: client.configuration.identity,
                                configuration: client.configuration.transport))
                    case .success(let status):
                        let response = HTTPResponse(
                            head: head ?? HTTPResponseHead(status: status, headers: [:]), body: errorBody)
                        if response.status == 200 {
                            outcome = .ended
                        } else if response.status == 410 {
                            outcome = .expired
                        } else if response.status == 401, !renewed,
                            await client.authenticator.renewAfterUnauthorized()
                        {
                            renewed = true
                            retryWithRenewedCredentials = true
                        } else if response.status == 429 || response.status >= 500 {
                            outcome = .failed(client.error(for: response, description))
                        } else {
                            throw client.error(for: response, description)
                        }
                    }
                }
            }
            _ = await finished
            if retryWithRenewedCredentials { continue }
            if Task.isCancelled { throw KubeError(.cancelled, "the watch of \(resource) was cancelled") }
            return outcome ?? .ended
        }
    }

    /// Applies one event line; returns an outcome when the watch must stop.
    private func handle(
        _ line: WatchStreamDecoder<Object>.Line, known: inout [String: Object],
        resourceVersion: inout String?,
        _ output: AsyncThrowingStream<WatchSignal<Object>, any Error>.Continuation
    ) throws(KubeError) -> Outcome? {
        let event: WatchEvent<Object>
        switch line {
        case .malformed:
            return .failed(
                KubeError(.server, "the watch of \(resource) sent a line that is not a watch event"))
        case .unknownType:
            return nil
        case .event(let decoded):
            event = decoded
        case .failure(let status):
            let code = status.code ?? 500
            if code == 410 { return .expired }
            let error = KubeError(
                code >= 500 ? .server : .invalid,
                "the watch of \(resource) failed: \(status.message ?? "error \(code)")", httpStatus: code,
                reason: status.reason)
            if code >= 500 || code == 429 { return .failed(error) }
            throw error
        }
        let object = event.object
        if let version = object.resourceVersion, !version.isEmpty { resourceVersion = version }
        switch event.kind {
        case .added, .modified: known[key(object)] = object
        case .deleted: known[key(object)] = nil
        case .bookmark: if !options.includeBookmarks { return nil }
        }
        output.yield(.event(event))
        return nil
    }
}
