import NIOCore
import NIOHTTP1
import NIOHTTP2
import NIOPosix
import NIOSSL
import Synchronization
import X509

/// An HTTP server on 127.0.0.1 that hands each complete request to an async handler and writes
/// its answer: whole bodies with `Content-Length`, streams as they come.
///
/// Plain connections speak HTTP/1.1. TLS connections negotiate HTTP/2 or HTTP/1.1 with ALPN,
/// as a real API server's do (kubectl and libcurl pick HTTP/2): over HTTP/2 each request is a
/// stream of one connection, and a stream's end ends only that request. Over HTTP/1.1 a stream
/// is sent with chunked encoding and the connection closes when it ends.
final class HTTPServer: Sendable {
    typealias Handler = @Sendable (HTTPRequest) async -> HTTPResponse
    /// One HTTP/1.1 connection, or one HTTP/2 stream: request parts in, response parts out.
    typealias Exchange = NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>
    typealias Negotiated = NIONegotiatedHTTPVersion<
        Exchange, (HTTP2Connection, NIOHTTP2Handler.AsyncStreamMultiplexer<Exchange>)
    >

    /// Bodies above this size are refused with 413, as the real server does above 3 MiB.
    static let maximumBodySize = 3 * 1024 * 1024

    let port: Int
    private let listener: any Channel
    let connections: ConnectionRegistry
    private let acceptTask = Mutex<Task<Void, Never>?>(nil)

    private init(listener: any Channel, port: Int, connections: ConnectionRegistry) {
        self.listener = listener
        self.port = port
        self.connections = connections
    }

    /// Binds `127.0.0.1:port` (0 picks a free port) and starts accepting connections.
    static func start(port: Int, tls: NIOSSLContext?, handler: @escaping Handler) async throws -> HTTPServer {
        let connections = ConnectionRegistry()
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
        guard let tls else {
            let channel = try await bootstrap.bind(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    return try connections.open(channel, connection: "HTTP/1.1")
                }
            }
            let server = HTTPServer(
                listener: channel.channel, port: channel.channel.localAddress?.port ?? port,
                connections: connections)
            server.startAccepting {
                await server.acceptLoop(channel) { connection in
                    await server.serve(connection, handler: handler, tls: false, http2: nil)
                }
            }
            return server
        }
        let channel: NIOAsyncChannel<EventLoopFuture<Negotiated>, Never> = try await bootstrap.bind(
            host: "127.0.0.1", port: port
        ) { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls))
            }.flatMap {
                channel.configureAsyncHTTPServerPipeline(
                    http2Configuration: HTTPServer.http2Configuration,
                    http1ConnectionInitializer: { channel in
                        channel.eventLoop.makeCompletedFuture {
                            try connections.open(channel, connection: "HTTP/1.1")
                        }
                    },
                    http2ConnectionInitializer: { channel in
                        channel.eventLoop.makeCompletedFuture { try connections.openHTTP2(channel) }
                    },
                    http2StreamInitializer: { stream in
                        stream.eventLoop.makeCompletedFuture {
                            try stream.pipeline.syncOperations.addHandler(
                                HTTP2FramePayloadToHTTP1ServerCodec())
                            connections.trackStream(stream)
                            return try connections.open(stream)
                        }
                    })
            }
        }
        let server = HTTPServer(
            listener: channel.channel, port: channel.channel.localAddress?.port ?? port,
            connections: connections)
        server.startAccepting {
            await server.acceptLoop(channel) { negotiation in
                guard let negotiated = try? await negotiation.get() else { return }
                switch negotiated {
                case .http1_1(let connection):
                    await server.serve(connection, handler: handler, tls: true, http2: nil)
                case .http2(let (connection, multiplexer)):
                    await server.serveHTTP2(connection, streams: multiplexer, handler: handler)
                }
            }
        }
        return server
    }

    private func startAccepting(_ loop: @escaping @Sendable () async -> Void) {
        let task = emulatorTask { await loop() }
        acceptTask.withLock { $0 = task }
    }

    /// Stops accepting, closes every open connection and waits until all are done.
    func stop() async {
        connections.closeAll()
        try? await listener.close()
        let task = acceptTask.withLock { $0 }
        await task?.value
    }

    private func acceptLoop<Accepted: Sendable>(
        _ listener: NIOAsyncChannel<Accepted, Never>, serve: @escaping @Sendable (Accepted) async -> Void
    ) async {
        do {
            try await withThrowingDiscardingTaskGroup { group in
                try await listener.executeThenClose { inbound in
                    for try await accepted in inbound {
                        group.addTask { await serve(accepted) }
                    }
                }
            }
        } catch {
            // The listening socket closed: the server is stopping.
        }
    }

    /// Serves the streams of one HTTP/2 connection, each on its own task, until it closes.
    private func serveHTTP2(
        _ connection: HTTP2Connection, streams: NIOHTTP2Handler.AsyncStreamMultiplexer<Exchange>,
        handler: @escaping Handler
    ) async {
        do {
            try await withThrowingDiscardingTaskGroup { group in
                for try await stream in streams.inbound {
                    group.addTask {
                        await self.serve(stream, handler: handler, tls: true, http2: connection)
                    }
                }
            }
        } catch {
            // The connection closed.
        }
    }

    /// Serves the requests of an HTTP/1.1 connection, or the one request of an HTTP/2 stream.
    private func serve(_ exchange: Exchange, handler: Handler, tls: Bool, http2: HTTP2Connection?) async {
        let channel = exchange.channel
        do {
            try await exchange.executeThenClose { inbound, outbound in
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
                        if http2 == nil,
                            requestHead.headers[canonicalForm: "expect"].contains(where: {
                                $0.lowercased() == "100-continue"
                            })
                        {
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
                            // Over HTTP/2 the TLS handler is the connection's, the stream's parent.
                            subject = await HTTPServer.clientSubject(of: channel.parent ?? channel)
                            subjectKnown = true
                        }
                        let response: HTTPResponse
                        if tooLarge {
                            response = .error(.requestEntityTooLarge("limit is 3145728"))
                        } else {
                            let request = HTTPRequest(
                                method: requestHead.method.rawValue, uri: requestHead.uri,
                                headers: requestHead.headers.map { ($0.name, $0.value) }, body: body,
                                clientCertificate: subject,
                                httpVersion: http2 == nil ? "HTTP/1.1" : "HTTP/2", connection: http2)
                            response = await handler(request)
                        }
                        let keepOpen = try await HTTPServer.write(
                            response, to: outbound, channel: channel,
                            keepAlive: http2 == nil && requestHead.isKeepAlive, version: requestHead.version,
                            http2: http2 != nil)
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
        channel: any Channel, keepAlive: Bool, version: HTTPVersion, http2: Bool
    ) async throws -> Bool {
        var headers = HTTPHeaders()
        for (name, value) in response.headers { headers.add(name: name, value: value) }
        let status = HTTPResponseStatus(statusCode: response.status)
        switch response.body {
        case .bytes(let bytes):
            headers.replaceOrAdd(name: "Content-Length", value: String(bytes.count))
            if !keepAlive && !http2 { headers.replaceOrAdd(name: "Connection", value: "close") }
            try await outbound.write(
                .head(HTTPResponseHead(version: version, status: status, headers: headers)))
            if !bytes.isEmpty {
                try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: bytes))))
            }
            try await outbound.write(.end(nil))
            return keepAlive
        case .stream(let stream):
            // HTTP/2 frames its data itself and forbids connection headers.
            if !http2 {
                headers.replaceOrAdd(name: "Transfer-Encoding", value: "chunked")
                headers.replaceOrAdd(name: "Connection", value: "close")
            }
            try await outbound.write(
                .head(HTTPResponseHead(version: version, status: status, headers: headers)))
            // Stop streaming when the client closes the connection (or resets the stream), even
            // if no chunk is due.
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

extension HTTPServer {
    /// NIO's HTTP/2 defaults end a connection (GOAWAY) after 200 control, reset or stream-error
    /// frames from the client in 30 s, a defence against flooding. A Kubernetes API server has
    /// no such budget, and libcurl's per-request frames reach it after about 200 requests on one
    /// connection: the next request fails with "Error in the HTTP2 framing layer", which a real
    /// cluster never causes. The emulator allows what a busy client sends.
    static var http2Configuration: NIOHTTP2Handler.Configuration {
        var configuration = NIOHTTP2Handler.Configuration()
        configuration.connection.controlFrameRateLimit.maximumCount = 1_000_000
        configuration.stream.streamResetFrameRateLimit.maximumCount = 1_000_000
        configuration.stream.streamErrorRateLimit.maximumCount = 1_000_000
        return configuration
    }
}

/// One HTTP/2 connection, as the requests on its streams see it: it can be told to go away.
final class HTTP2Connection: Sendable {
    let channel: any Channel
    private struct State {
        var goingAway = false
        var openStreams = 0
        var lastStreamID = HTTP2StreamID.rootStream
    }
    private let state = Mutex(State())

    init(channel: any Channel) { self.channel = channel }

    func streamOpened(_ id: HTTP2StreamID) {
        state.withLock { state in
            state.openStreams += 1
            state.lastStreamID = max(state.lastStreamID, id)
        }
    }

    func streamClosed() {
        let idle = state.withLock { state in
            state.openStreams -= 1
            return state.goingAway && state.openStreams == 0
        }
        if idle { channel.close(promise: nil) }
    }

    /// Sends GOAWAY (no error, naming the last stream the server saw), as a server shutting down
    /// does: the streams open now may finish, the client opens a new connection for anything
    /// else, and this one closes once its streams are done.
    func goAway() {
        let (first, lastStreamID, idle) = state.withLock { state in
            let first = !state.goingAway
            state.goingAway = true
            return (first, state.lastStreamID, state.openStreams == 0)
        }
        guard first else { return }
        let frame = HTTP2Frame(
            streamID: .rootStream,
            payload: .goAway(lastStreamID: lastStreamID, errorCode: .noError, opaqueData: nil))
        channel.writeAndFlush(frame, promise: nil)
        if idle { channel.close(promise: nil) }
    }
}

/// Owns every accepted connection (and HTTP/2 stream) from the moment its pipeline is set up
/// until its channel closes.
///
/// A connection's outbound writer must be finished before it is released, or NIO stops the
/// process ("Deinited NIOAsyncWriter without calling finish()"). `serve` finishes it, but a
/// connection accepted while the server stops may never reach `serve`: the accept sequence has
/// ended and drops it. Holding each connection here, and finishing its writer when its channel
/// closes, makes a late connection harmless; once stopping, new ones are refused outright.
final class ConnectionRegistry: Sendable {
    private struct State {
        var stopping = false
        var open: [ObjectIdentifier: HTTPServer.Exchange] = [:]
        var http2: [ObjectIdentifier: HTTP2Connection] = [:]
        var accepted: [String: Int] = [:]
    }
    private let state = Mutex(State())

    /// Connections accepted so far, by protocol (`HTTP/1.1`, `HTTP/2`).
    var acceptedConnections: [String: Int] { state.withLock { $0.accepted } }

    /// Wraps an accepted channel or stream (on its event loop) and keeps it until the channel
    /// closes; throws once the server is stopping, which makes NIO close the channel.
    /// `connection` names the protocol of a new connection (nil for an HTTP/2 stream).
    func open(_ channel: any Channel, connection kind: String? = nil) throws -> HTTPServer.Exchange {
        let connection = try HTTPServer.Exchange(wrappingChannelSynchronously: channel)
        let id = ObjectIdentifier(channel)
        let accepted = state.withLock { state in
            if state.stopping { return false }
            state.open[id] = connection
            if let kind { state.accepted[kind, default: 0] += 1 }
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

    /// Keeps an HTTP/2 connection until its channel closes.
    func openHTTP2(_ channel: any Channel) throws -> HTTP2Connection {
        let connection = HTTP2Connection(channel: channel)
        let id = ObjectIdentifier(channel)
        let accepted = state.withLock { state in
            if state.stopping { return false }
            state.http2[id] = connection
            state.accepted["HTTP/2", default: 0] += 1
            return true
        }
        guard accepted else { throw ChannelError.ioOnClosedChannel }
        channel.closeFuture.whenComplete { _ in
            _ = self.state.withLock { $0.http2.removeValue(forKey: id) }
        }
        return connection
    }

    /// Counts a stream against its connection from now until it closes (for GOAWAY).
    func trackStream(_ stream: any Channel) {
        guard let parent = stream.parent,
            let connection = state.withLock({ $0.http2[ObjectIdentifier(parent)] }),
            let id = try? stream.syncOptions?.getOption(HTTP2StreamChannelOptions.streamID)
        else { return }
        connection.streamOpened(id)
        stream.closeFuture.whenComplete { _ in connection.streamClosed() }
    }

    /// Finishes the writer and closes the channel (a no-op for a connection `serve` finished).
    private static func finish(_ connection: HTTPServer.Exchange) {
        emulatorTask { try? await connection.executeThenClose { _, _ in } }
    }

    /// Refuses new connections and closes the open ones; each writer is finished as its channel
    /// closes.
    func closeAll() {
        let (open, http2) = state.withLock { state in
            state.stopping = true
            return (Array(state.open.values), Array(state.http2.values))
        }
        for connection in open { connection.channel.close(promise: nil) }
        for connection in http2 { connection.channel.close(promise: nil) }
    }
}
