extension KubeClient {
    /// Watches objects of `resource`: the current ones first (as `added`, unless
    /// `options.resourceVersion` says where to start), then every change, across server
    /// time-outs, dropped connections and `410 Gone` (after which the difference found by a
    /// new list arrives as events). Ends with an error only for answers a retry cannot fix
    /// (403, 404, a 401 after renewing credentials); ends when the consuming task is cancelled.
    public func watch<T: KubeObjectView>(
        _ type: T.Type = T.self, resource: ResourceType, namespace: String? = nil,
        allNamespaces: Bool = false,
        options: WatchOptions = WatchOptions()
    ) -> AsyncThrowingStream<WatchEvent<T>, any Error> {
        let watcher = Watcher<T>(
            client: self, resource: resource,
            namespace: allNamespaces ? nil : resolveNamespace(resource, namespace),
            options: options)
        let signals = watcher.signals()
        let (stream, continuation) = AsyncThrowingStream<WatchEvent<T>, any Error>.makeStream()
        let task = Task {
            do {
                for try await signal in signals {
                    switch signal {
                    case .resync(let events): for event in events { continuation.yield(event) }
                    case .event(let event): continuation.yield(event)
                    }
                }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    public func watch<T: KubeObject>(
        _ type: T.Type, namespace: String? = nil, allNamespaces: Bool = false,
        options: WatchOptions = WatchOptions()
    ) -> AsyncThrowingStream<WatchEvent<T>, any Error> {
        watch(
            type, resource: T.resource, namespace: namespace, allNamespaces: allNamespaces, options: options)
    }

    /// Like an informer: yields the complete current set of matching objects (sorted by
    /// namespace and name) after the first list and after every change.
    public func informer<T: KubeObjectView>(
        _ type: T.Type = T.self, resource: ResourceType, namespace: String? = nil,
        allNamespaces: Bool = false,
        options: WatchOptions = WatchOptions()
    ) -> AsyncThrowingStream<[T], any Error> {
        var options = options
        options.resourceVersion = nil
        options.includeBookmarks = false
        let watcher = Watcher<T>(
            client: self, resource: resource,
            namespace: allNamespaces ? nil : resolveNamespace(resource, namespace),
            options: options)
        let signals = watcher.signals()
        let (stream, continuation) = AsyncThrowingStream<[T], any Error>.makeStream()
        let task = Task {
            var state: [String: T] = [:]
            func apply(_ event: WatchEvent<T>) {
                let key = "\(event.object.namespace ?? "")/\(event.object.name)"
                switch event.kind {
                case .added, .modified: state[key] = event.object
                case .deleted: state[key] = nil
                case .bookmark: break
                }
            }
            func snapshot() -> [T] { state.keys.sorted().compactMap { state[$0] } }
            do {
                for try await signal in signals {
                    switch signal {
                    case .resync(let events): events.forEach(apply)
                    case .event(let event): apply(event)
                    }
                    continuation.yield(snapshot())
                }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    public func informer<T: KubeObject>(
        _ type: T.Type, namespace: String? = nil, allNamespaces: Bool = false,
        options: WatchOptions = WatchOptions()
    ) -> AsyncThrowingStream<[T], any Error> {
        informer(
            type, resource: T.resource, namespace: namespace, allNamespaces: allNamespaces, options: options)
    }

    /// Follows one object by name (with `fieldSelector=metadata.name=<name>`, so a Role with
    /// `resourceNames` suffices): yields its current state, `nil` while it does not exist,
    /// after the first list and after every change.
    public func watchObject<T: KubeObject>(
        _ type: T.Type, name: String, namespace: String? = nil
    ) -> AsyncThrowingStream<T?, any Error> {
        let snapshots = informer(type, namespace: namespace, options: .named(name))
        let (stream, continuation) = AsyncThrowingStream<T?, any Error>.makeStream()
        let task = Task {
            do {
                for try await objects in snapshots { continuation.yield(objects.first { $0.name == name }) }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }
}
