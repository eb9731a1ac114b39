import Foundation
import Synchronization
import TimeFormat

/// One line of a container's log and when the emulator first saw it (the container runtime's
/// timestamp on a real node).
struct LogLine: Sendable {
    var time: UnixTime
    var text: String
}

/// Where `pods/log` reads from: per pod and container, a file that something else (a test, the
/// demo, a real process's redirected output) writes to. The file is followed by polling, and each
/// line is stamped with the time it was first read, so `sinceTime`, `sinceSeconds` and
/// `timestamps` behave as on a real node.
final class PodLogRegistry: Sendable {
    struct Key: Hashable, Sendable {
        var namespace: String
        var pod: String
        /// Empty: any container of the pod.
        var container: String
    }

    private let sources = Mutex<[Key: PodLogSource]>([:])

    /// Sources for every pod a label selector matches (pods whose names are not known in
    /// advance, such as a Deployment's).
    struct SelectorKey: Sendable {
        var namespace: String
        var selector: LabelSelector
        var container: String
    }

    private let selectorSources = Mutex<[(key: SelectorKey, source: PodLogSource)]>([])

    func attach(namespace: String, selector: LabelSelector, container: String, path: String) -> PodLogSource {
        let source = PodLogSource(path: path)
        selectorSources.withLock {
            $0.append((SelectorKey(namespace: namespace, selector: selector, container: container), source))
        }
        emulatorTask { await source.start() }
        return source
    }

    /// The source for a pod: attached to the pod itself, else to a selector matching its labels.
    func source(namespace: String, pod: String, labels: [String: String], container: String) -> PodLogSource?
    {
        if let direct = source(namespace: namespace, pod: pod, container: container) { return direct }
        return selectorSources.withLock { entries in
            let matching = entries.filter { $0.key.namespace == namespace && $0.key.selector.matches(labels) }
            return
                (matching.last { $0.key.container == container } ?? matching.last { $0.key.container.isEmpty })?
                .source
        }
    }

    func attach(namespace: String, pod: String, container: String, path: String) -> PodLogSource {
        let source = PodLogSource(path: path)
        let previous = sources.withLock { sources -> PodLogSource? in
            let old = sources[Key(namespace: namespace, pod: pod, container: container)]
            sources[Key(namespace: namespace, pod: pod, container: container)] = source
            return old
        }
        if let previous { emulatorTask { await previous.stop() } }
        emulatorTask { await source.start() }
        return source
    }

    func source(namespace: String, pod: String, container: String) -> PodLogSource? {
        sources.withLock {
            $0[Key(namespace: namespace, pod: pod, container: container)]
                ?? $0[Key(namespace: namespace, pod: pod, container: "")]
        }
    }

    func stopAll() async {
        var all = sources.withLock { sources -> [PodLogSource] in
            let values = Array(sources.values)
            sources = [:]
            return values
        }
        all += selectorSources.withLock { entries -> [PodLogSource] in
            let values = entries.map(\.source)
            entries = []
            return values
        }
        for source in all { await source.stop() }
    }
}

/// Follows one log file.
actor PodLogSource {
    let path: String
    private(set) var lines: [LogLine] = []
    private var offset: UInt64 = 0
    private var partial: [UInt8] = []
    private var followers: [Int: AsyncStream<LogLine>.Continuation] = [:]
    private var nextFollower = 0
    private var poller: Task<Void, Never>?

    init(path: String) { self.path = path }

    func start() {
        guard poller == nil else { return }
        poller = emulatorTask { [weak self] in
            while !Task.isCancelled {
                await self?.poll()
                try? await Task.sleep(for: .milliseconds(50))
            }
        }
    }

    func stop() {
        poller?.cancel()
        poller = nil
        for follower in followers.values { follower.finish() }
        followers = [:]
    }

    /// Reads what was appended since the last poll.
    func poll() {
        guard let handle = FileHandle(forReadingAtPath: path) else { return }
        defer { try? handle.close() }
        let size = (try? handle.seekToEnd()) ?? 0
        if size < offset {  // truncated or replaced: start over
            offset = 0
            partial = []
        }
        guard size > offset else { return }
        try? handle.seek(toOffset: offset)
        guard let data = try? handle.readToEnd() else { return }
        offset += UInt64(data.count)
        let now = UnixTime.now()
        for byte in data {
            if byte == 0x0A {
                append(LogLine(time: now, text: String(decoding: partial, as: UTF8.self)))
                partial = []
            } else {
                partial.append(byte)
            }
        }
    }

    private func append(_ line: LogLine) {
        lines.append(line)
        for follower in followers.values { follower.yield(line) }
    }

    /// The lines so far and, when `follow`, a stream of the ones that come after.
    func read(follow: Bool) -> ([LogLine], AsyncStream<LogLine>?) {
        poll()
        guard follow else { return (lines, nil) }
        let (stream, continuation) = AsyncStream.makeStream(of: LogLine.self)
        let id = nextFollower
        nextFollower += 1
        followers[id] = continuation
        continuation.onTermination = { [weak self] _ in
            emulatorTask { await self?.removeFollower(id) }
        }
        return (lines, stream)
    }

    private func removeFollower(_ id: Int) {
        followers[id] = nil
    }
}
