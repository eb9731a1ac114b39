import Foundation
import JSONValue
import TimeFormat

/// `pods/log`: `container`, `follow`, `sinceSeconds`, `sinceTime`, `tailLines`, `timestamps`,
/// `limitBytes`, with the real server's errors for a missing or ambiguous container.
extension APIServer {
    func podLog(_ request: HTTPRequest, namespace: String, pod name: String) async throws(APIError)
        -> HTTPResponse
    {
        guard let pods = catalog.resource(group: "", version: "v1", name: "pods") else {
            throw APIError.notFoundPath()
        }
        let pod = try await store.get(pods, namespace: namespace, name: name)
        let containers = (pod[path: "spec", "containers"]?.arrayValue ?? []).compactMap {
            $0["name"]?.stringValue
        }
        let initContainers = (pod[path: "spec", "initContainers"]?.arrayValue ?? []).compactMap {
            $0["name"]?.stringValue
        }
        var container = request.query("container") ?? ""
        if container.isEmpty {
            if let defaulted = pod[
                path: "metadata", "annotations", "kubectl.kubernetes.io/default-container"]?.stringValue
            {
                container = defaulted
            } else if containers.count == 1 {
                container = containers[0]
            } else {
                let all = (initContainers + containers).joined(separator: " ")
                throw APIError.badRequest(
                    "a container name must be specified for pod \(name), choose one of: [\(all)]")
            }
        }
        guard containers.contains(container) || initContainers.contains(container) else {
            throw APIError.badRequest("container \(container) is not valid for pod \(name)")
        }
        // A pod the simulated kubelet runs: an exited instance's log, or the kubelet's reason for
        // having none; the running instance reads the attached file.
        var exitedLog: [LogLine]?
        switch await store.containerLog(
            namespace: namespace, pod: name, container: container, previous: request.queryFlag("previous"))
        {
        case .notSimulated:
            if request.queryFlag("previous") {
                throw APIError.badRequest(
                    "previous terminated container \"\(container)\" in pod \"\(name)\" not found")
            }
        case .running:
            break
        case .exited(let lines):
            exitedLog = lines
        case .unavailable(let message):
            throw APIError.badRequest(message)
        }
        var since: UnixTime?
        if let text = request.query("sinceSeconds") {
            guard let seconds = Int(text), seconds > 0 else {
                throw APIError.invalid(
                    group: "", kind: "PodLogOptions", name: "",
                    [.invalid("sinceSeconds", .string(text), "must be greater than 0")])
            }
            since = UnixTime.now() - .seconds(seconds)
        }
        if let text = request.query("sinceTime") {
            guard let date = Clock.parse(text) else {
                throw APIError.badRequest(
                    "parsing time \(goQuote(text)) as \"2006-01-02T15:04:05Z07:00\": cannot parse")
            }
            since = date
        }
        let tail = request.query("tailLines").flatMap(Int.init)
        let limit = request.query("limitBytes").flatMap(Int.init)
        let timestamps = request.queryFlag("timestamps")
        let follow = request.queryFlag("follow")

        func render(_ line: LogLine) -> String {
            (timestamps ? Clock.format(line.time, fractionDigits: 9) + " " : "") + line.text + "\n"
        }

        let lines: [LogLine]
        let stream: AsyncStream<LogLine>?
        if let exitedLog {
            // An exited container's log is complete: following it ends at once, as on a node.
            (lines, stream) = (exitedLog, nil)
        } else if let source = podLogs.source(
            namespace: namespace, pod: name, labels: pod.labels, container: container)
        {
            (lines, stream) = await source.read(follow: follow)
        } else {
            return .text("")
        }
        var selected = lines.filter { line in since.map { line.time >= $0 } ?? true }
        if let tail, tail >= 0 { selected = Array(selected.suffix(tail)) }
        var text = selected.map(render).joined()
        if let limit, limit >= 0, text.utf8.count > limit {
            text = String(decoding: Array(text.utf8).prefix(limit), as: UTF8.self)
        }
        guard let stream else { return .text(text) }

        let (output, continuation) = AsyncStream.makeStream(of: [UInt8].self)
        if !text.isEmpty { continuation.yield(Array(text.utf8)) }
        let store = self.store
        let pump = emulatorTask {
            for await line in stream {
                continuation.yield(Array(render(line).utf8))
            }
            continuation.finish()
        }
        // A followed log ends when the pod goes away.
        let watcher = emulatorTask {
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(200))
                if await store.object(pods.groupResource, ObjectName(namespace: namespace, name: name)) == nil
                {
                    continuation.finish()
                    return
                }
            }
        }
        continuation.onTermination = { _ in
            pump.cancel()
            watcher.cancel()
        }
        return HTTPResponse(
            status: 200, headers: [("Content-Type", "text/plain")], body: .stream(output))
    }
}
