import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// The agent's small HTTP server on `--health-addr`: `/healthz`, `/readyz` and `/metrics`.
/// Each request is answered by an async handler; connections are kept alive.
final class HealthServer: Sendable {
    /// A response: status, content type, body.
    struct Answer: Sendable {
        var status: Int
        var contentType: String
        var body: [UInt8]

        static func text(_ status: Int, _ text: String) -> Answer {
            Answer(status: status, contentType: "text/plain; charset=utf-8", body: Array((text + "\n").utf8))
        }
    }

    typealias Handler = @Sendable (_ method: String, _ path: String) async -> Answer
    typealias Connection = NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>

    let port: Int
    private let serverChannel: NIOAsyncChannel<Connection, Never>
    private let acceptTask = Mutex<Task<Void, Never>?>(nil)
    private let openConnections = Mutex<[ObjectIdentifier: any Channel]>([:])

    private init(serverChannel: NIOAsyncChannel<Connection, Never>, port: Int) {
        self.serverChannel = serverChannel
        self.port = port
    }

    /// Listens on `host:port` (an empty host: every interface) and serves until `stop()`.
    static func start(host: String, port: Int, handler: @escaping Handler) async throws -> HealthServer {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: host.isEmpty ? "0.0.0.0" : host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    return try Connection(wrappingChannelSynchronously: channel)
                }
            }
        let server = HealthServer(serverChannel: channel, port: channel.channel.localAddress?.port ?? port)
        let task = Task { await server.acceptLoop(handler: handler) }
        server.acceptTask.withLock { $0 = task }
        return server
    }

    func stop() async {
        try? await serverChannel.channel.close()
        let channels = openConnections.withLock { Array($0.values) }
        for channel in channels { channel.close(promise: nil) }
        let task = acceptTask.withLock { $0 }
        await task?.value
    }

    private func acceptLoop(handler: @escaping Handler) async {
        do {
            try await withThrowingDiscardingTaskGroup { group in
                try await serverChannel.executeThenClose { inbound in
                    for try await connection in inbound {
                        let id = ObjectIdentifier(connection.channel)
                        openConnections.withLock { $0[id] = connection.channel }
                        group.addTask {
                            await Self.serve(connection, handler: handler)
                            _ = self.openConnections.withLock { $0.removeValue(forKey: id) }
                        }
                    }
                }
            }
        } catch {
            // The listening socket closed: stopping.
        }
    }

    private static func serve(_ connection: Connection, handler: Handler) async {
        do {
            try await connection.executeThenClose { inbound, outbound in
                var head: HTTPRequestHead?
                for try await part in inbound {
                    switch part {
                    case .head(let requestHead):
                        head = requestHead
                    case .body:
                        continue
                    case .end:
                        guard let requestHead = head else { continue }
                        head = nil
                        let path = String(requestHead.uri.split(separator: "?", maxSplits: 1).first ?? "")
                        let answer = await handler(requestHead.method.rawValue, path)
                        var headers = HTTPHeaders()
                        headers.add(name: "Content-Type", value: answer.contentType)
                        headers.add(name: "Content-Length", value: String(answer.body.count))
                        if !requestHead.isKeepAlive { headers.add(name: "Connection", value: "close") }
                        try await outbound.write(
                            .head(
                                HTTPResponseHead(
                                    version: requestHead.version,
                                    status: HTTPResponseStatus(statusCode: answer.status),
                                    headers: headers)))
                        if requestHead.method != .HEAD, !answer.body.isEmpty {
                            try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: answer.body))))
                        }
                        try await outbound.write(.end(nil))
                        if !requestHead.isKeepAlive { return }
                    }
                }
            }
        } catch {
            // The client went away.
        }
    }
}
