import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization
import X509

/// An HTTP/1.1 server on 127.0.0.1 (optionally TLS) that hands each complete request to an async
/// handler and writes its answer: whole bodies with `Content-Length`, streams with chunked
/// encoding (the connection closes when a stream ends or the client goes away).
final class HTTPServer: Sendable {
    typealias Handler = @Sendable (HTTPRequest) async -> HTTPResponse
    typealias Connection = NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>

    /// Bodies above this size are refused with 413, as the real server does above 3 MiB.
    static let maximumBodySize = 3 * 1024 * 1024

    let port: Int
    private let serverChannel: NIOAsyncChannel<Connection, Never>
    private let connections: ConnectionRegistry
    private let acceptTask = Mutex<Task<Void, Never>?>(nil)

    private init(
        serverChannel: NIOAsyncChannel<Connection, Never>, port: Int, connections: ConnectionRegistry
    ) {
        self.serverChannel = serverChannel
        self.port = port
        self.connections = connections
    }

    /// Binds `127.0.0.1:port` (0 picks a free port) and starts accepting connections.
    static func start(port: Int, tls: NIOSSLContext?, handler: @escaping Handler) async throws -> HTTPServer {
        let connections = ConnectionRegistry()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .bind(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls))
                    }
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    return try connections.open(channel)
                }
            }
        let boundPort = channel.channel.localAddress?.port ?? port
        let server = HTTPServer(serverChannel: channel, port: boundPort, connections: connections)
        let task = emulatorTask { await server.acceptLoop(handler: handler, tls: tls != nil) }
        server.acceptTask.withLock { $0 = task }
        return server
    }

    /// Stops accepting, closes every open connection and waits until all are done.
    func stop() async {
        connections.closeAll()
        try? await serverChannel.channel.close()
        let task = acceptTask.withLock { $0 }
        await task?.value
    }

    private func acceptLoop(handler: @escaping Handler, tls: Bool) async {
        do {
            try await withThrowingDiscardingTaskGroup { group in
                try await serverChannel.executeThenClose { inbound in
                    for try await connection in inbound {
                        group.addTask {
                            await self.serve(connection, handler: handler, tls: tls)
                        }
                    }
                }
            }
        } catch {
            // The listening socket closed: the server is stopping.
        }
    }

    private func serve(_ connection: Connection, handler: Handler, tls: Bool) async {
        let channel = connection.channel
        do {
            try await connection.executeThenClose { inbound, outbound in
                var head: HTTPRequestHead?
                var body: [UInt8] = []
                var tooLarge = false
                var subject: ClientCertificateSubject?
                var subjectKnown = !tls
                for try await part in inbound {
                    switch part {
                    case .head(let requestHead):
                        head = requestHead
                        body = []
                        tooLarge = false
                        // libcurl asks before sending larger bodies; answering at once saves
                        // it a one-second wait.
                        if requestHead.headers[canonicalForm: "expect"].contains(where: {
                            $0.lowercased() == "100-continue"
                        }) {
                            try await outbound.write(
                                .head(HTTPResponseHead(version: requestHead.version, status: .continue)))
                        }
                    case .body(let buffer):
                        if body.count + buffer.readableBytes > HTTPServer.maximumBodySize {
                            tooLarge = true
                            body = []
                        } else if !tooLarge {
                            body.append(contentsOf: buffer.readableBytesView)
                        }
                    case .end:
                        guard let requestHead = head else { continue }
                        head = nil
                        if !subjectKnown {
                            subject = await HTTPServer.clientSubject(of: channel)
                            subjectKnown = true
                        }
                        let response: HTTPResponse
                        if tooLarge {
                            response = .error(.requestEntityTooLarge("limit is 3145728"))
                        } else {
                            let request = HTTPRequest(
                                method: requestHead.method.rawValue, uri: requestHead.uri,
                                headers: requestHead.headers.map { ($0.name, $0.value) }, body: body,
                                clientCertificate: subject)
                            response = await handler(request)
                        }
                        let keepOpen = try await HTTPServer.write(
                            response, to: outbound, channel: channel, keepAlive: requestHead.isKeepAlive,
                            version: requestHead.version)
                        body = []
                        if !keepOpen { return }
                    }
                }
            }
        } catch {
            // The client went away or sent something that is not HTTP: nothing left to answer.
        }
    }

    /// Writes one response; returns whether the connection may serve another request.
    private static func write(
        _ response: HTTPResponse, to outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>,
        channel: any Channel, keepAlive: Bool, version: HTTPVersion
    ) async throws -> Bool {
        var headers = HTTPHeaders()
        for (name, value) in response.headers { headers.add(name: name, value: value) }
        let status = HTTPResponseStatus(statusCode: response.status)
        switch response.body {
        case .bytes(let bytes):
            headers.replaceOrAdd(name: "Content-Length", value: String(bytes.count))
            if !keepAlive { headers.replaceOrAdd(name: "Connection", value: "close") }
            try await outbound.write(
                .head(HTTPResponseHead(version: version, status: status, headers: headers)))
            if !bytes.isEmpty {
                try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: bytes))))
            }
            try await outbound.write(.end(nil))
            return keepAlive
        case .stream(let stream):
            headers.replaceOrAdd(name: "Transfer-Encoding", value: "chunked")
            headers.replaceOrAdd(name: "Connection", value: "close")
            try await outbound.write(
                .head(HTTPResponseHead(version: version, status: status, headers: headers)))
            // Stop streaming when the client closes the connection, even if no chunk is due.
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    do {
                        for await chunk in stream {
                            try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: chunk))))
                        }
                        try await outbound.write(.end(nil))
                    } catch {
                        // The client is gone.
                    }
                }
                group.addTask {
                    try? await channel.closeFuture.get()
                }
                _ = await group.next()
                group.cancelAll()
                // Unblocks the close watcher when the stream ended first.
                channel.close(promise: nil)
            }
            return false
        case .never:
            try? await channel.closeFuture.get()
            return false
        }
    }

    private static func clientSubject(of channel: any Channel) async -> ClientCertificateSubject? {
        guard let certificate = try? await channel.nioSSL_peerCertificate().get(),
            let der = try? certificate.toDERBytes(),
            let parsed = try? Certificate(derEncoded: der)
        else { return nil }
        var commonName = ""
        var organizations: [String] = []
        for rdn in parsed.subject {
            for attribute in rdn {
                if attribute.type == .RDNAttributeType.commonName {
                    commonName = attribute.value.description
                } else if attribute.type == .RDNAttributeType.organizationName {
                    organizations.append(attribute.value.description)
                }
            }
        }
        return ClientCertificateSubject(commonName: commonName, organizations: organizations)
    }
}

/// Owns every accepted connection from the moment its pipeline is set up until its channel
/// closes.
///
/// A connection's outbound writer must be finished before it is released, or NIO stops the
/// process ("Deinited NIOAsyncWriter without calling finish()"). `serve` finishes it, but a
/// connection accepted while the server stops may never reach `serve`: the accept sequence has
/// ended and drops it. Holding each connection here, and finishing its writer when its channel
/// closes, makes a late connection harmless; once stopping, new ones are refused outright.
final class ConnectionRegistry: Sendable {
    private struct State {
        var stopping = false
        var open: [ObjectIdentifier: HTTPServer.Connection] = [:]
    }
    private let state = Mutex(State())

    /// Wraps an accepted channel (on its event loop) and keeps it until the channel closes;
    /// throws once the server is stopping, which makes NIO close the channel.
    func open(_ channel: any Channel) throws -> HTTPServer.Connection {
        let connection = try HTTPServer.Connection(wrappingChannelSynchronously: channel)
        let id = ObjectIdentifier(channel)
        let accepted = state.withLock { state in
            if state.stopping { return false }
            state.open[id] = connection
            return true
        }
        guard accepted else {
            ConnectionRegistry.finish(connection)
            throw ChannelError.ioOnClosedChannel
        }
        channel.closeFuture.whenComplete { _ in
            if let closed = self.state.withLock({ $0.open.removeValue(forKey: id) }) {
                ConnectionRegistry.finish(closed)
            }
        }
        return connection
    }

    /// Finishes the writer and closes the channel (a no-op for a connection `serve` finished).
    private static func finish(_ connection: HTTPServer.Connection) {
        emulatorTask { try? await connection.executeThenClose { _, _ in } }
    }

    /// Refuses new connections and closes the open ones; each writer is finished as its channel
    /// closes.
    func closeAll() {
        let open = state.withLock { state in
            state.stopping = true
            return Array(state.open.values)
        }
        for connection in open { connection.channel.close(promise: nil) }
    }
}
