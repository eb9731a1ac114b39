import JSONValue

/// What a watch stream carries before it is encoded as `WatchEvent` JSON lines.
enum WatchOutput: Sendable {
    case event(WatchEventType, JSON)
    /// A bookmark at a revision; `initialEventsEnd` marks the end of `sendInitialEvents`.
    case bookmark(revision: Int, initialEventsEnd: Bool)
    /// An `ERROR` event carrying a `Status` (410 Expired for a compacted resourceVersion).
    case error(APIError)
}

/// Which objects a watch sees.
struct WatchFilter: Sendable {
    var resource: APIResource
    var namespace: String?
    var labels: LabelSelector
    var fields: FieldSelector

    func matches(_ object: JSON) -> Bool {
        if let namespace, object[path: "metadata", "namespace"]?.stringValue ?? "" != namespace {
            return false
        }
        return labels.matches(object: object) && fields.matches { FieldPaths.value(of: $0, in: object) }
    }
}

/// Where a watch starts.
enum WatchStart: Sendable {
    /// No resourceVersion (or "0"): synthetic ADDED events for the current objects, then changes.
    case currentState
    /// `sendInitialEvents=true`: like `currentState`, then a bookmark marking the end.
    case initialEvents
    /// Changes after this resourceVersion.
    case after(Int)
}

struct Watcher: Sendable {
    var filter: WatchFilter
    var continuation: AsyncStream<WatchOutput>.Continuation
    var bookmarkTask: Task<Void, Never>?
}

extension ClusterStore {
    /// Opens a watch; the stream ends when the consumer stops iterating.
    func openWatch(_ filter: WatchFilter, from start: WatchStart, bookmarks: Bool) throws(APIError)
        -> AsyncStream<WatchOutput>
    {
        let (stream, continuation) = AsyncStream.makeStream(of: WatchOutput.self)
        switch start {
        case .after(let since):
            if since < compactedRevision {
                continuation.yield(
                    .error(.expired("too old resource version: \(since) (\(compactedRevision + 1))")))
                continuation.finish()
                return stream
            }
            if since > revision { throw APIError.tooLargeResourceVersion(since, current: revision) }
            for change in history
            where change.revision > since && change.resource == filter.resource.groupResource {
                if let output = Self.output(for: change, filter: filter) { continuation.yield(output) }
            }
        case .currentState, .initialEvents:
            for (_, object) in objects(of: filter.resource.groupResource, namespace: filter.namespace)
            where filter.matches(object) {
                continuation.yield(.event(.added, object))
            }
            if case .initialEvents = start {
                continuation.yield(.bookmark(revision: revision, initialEventsEnd: true))
            }
        }
        let id = nextWatcherID
        nextWatcherID += 1
        var bookmarkTask: Task<Void, Never>?
        if bookmarks {
            let interval = settings.bookmarkInterval
            bookmarkTask = emulatorTask { [weak self] in
                while !Task.isCancelled {
                    try? await Task.sleep(for: interval)
                    if Task.isCancelled { return }
                    await self?.sendBookmark(to: id)
                }
            }
        }
        watchers[id] = Watcher(filter: filter, continuation: continuation, bookmarkTask: bookmarkTask)
        continuation.onTermination = { [weak self] _ in
            emulatorTask { await self?.closeWatch(id) }
        }
        return stream
    }

    func closeWatch(_ id: Int) {
        if let watcher = watchers.removeValue(forKey: id) {
            watcher.bookmarkTask?.cancel()
            watcher.continuation.finish()
        }
    }

    /// Ends every open watch (the server is stopping).
    func closeAllWatches() {
        for id in Array(watchers.keys) { closeWatch(id) }
    }

    var openWatchCount: Int { watchers.count }

    private func sendBookmark(to id: Int) {
        watchers[id]?.continuation.yield(.bookmark(revision: revision, initialEventsEnd: false))
    }

    func deliver(_ change: StoredChange) {
        for watcher in watchers.values where watcher.filter.resource.groupResource == change.resource {
            if let output = Self.output(for: change, filter: watcher.filter) {
                watcher.continuation.yield(output)
            }
        }
    }

    /// The event a filtered watch sees for a change, following the watch cache: an object that
    /// stops matching is DELETED (its previous state at the new revision), one that starts
    /// matching is ADDED.
    static func output(for change: StoredChange, filter: WatchFilter) -> WatchOutput? {
        switch change.type {
        case .added:
            return filter.matches(change.object) ? .event(.added, change.object) : nil
        case .deleted:
            return filter.matches(change.object) ? .event(.deleted, change.object) : nil
        case .modified:
            let now = filter.matches(change.object)
            let before = change.previous.map(filter.matches) ?? false
            switch (before, now) {
            case (true, true): return .event(.modified, change.object)
            case (false, true): return .event(.added, change.object)
            case (true, false):
                var previous = change.previous ?? change.object
                previous[path: "metadata", "resourceVersion"] = .string(String(change.revision))
                return .event(.deleted, previous)
            case (false, false): return nil
            }
        case .bookmark, .error:
            return nil
        }
    }
}

/// Field-selector values of an object, as the real server's field label conversion yields them.
enum FieldPaths {
    static func value(of field: String, in object: JSON) -> String {
        if field == "source" {  // events: `source` is the reporting component
            return object[path: "source", "component"]?.stringValue ?? ""
        }
        let value = object[path: field.split(separator: ".").map(String.init)]
        switch value {
        case .string(let string): return string
        case .int(let int): return String(int)
        case .bool(let bool): return bool ? "true" : "false"
        case .double(let double): return String(double)
        default: return field == "spec.hostNetwork" || field == "spec.unschedulable" ? "false" : ""
        }
    }
}
