import CCurl
import Sealing
import Synchronization

/// Sends HTTP requests to one API server through libcurl: a pool of easy handles (keep-alive),
/// each transfer on its own thread, bridged to `async` with cancellation that stops the
/// transfer.
final class CurlTransport: Sendable {
    let configuration: TransportConfiguration
    let endpoint: ServerEndpoint
    private let pool = CurlHandlePool()
    /// Short requests in flight at once; streams (watches, log follows) are not counted.
    private let limiter = TransferLimiter(limit: 32)
    private let connectionsOpened = Atomic<Int>(0)

    /// How many connections have been opened so far (keep-alive keeps this low).
    var openedConnections: Int { connectionsOpened.load(ordering: .relaxed) }
    /// Responses larger than this are refused rather than held in memory.
    static let maximumResponseSize = 64 << 20

    init(configuration: TransportConfiguration) throws(KubeError) {
        self.configuration = configuration
        endpoint = try ServerEndpoint(
            server: configuration.server, tlsServerName: configuration.tlsServerName)
        CurlGlobal.ensureInitialized()
    }

    /// Sends `request` and collects the whole response.
    func send(_ request: HTTPRequest, credentials: RequestCredentials) async throws(TransportError)
        -> HTTPResponse
    {
        final class Collector: @unchecked Sendable {
            var head = HTTPResponseHead(status: 0, headers: [:])
            var body: [UInt8] = []
            /// A sensitive response's chunks, each in secure memory, joined at the end.
            var chunks: [SecureBytes] = []
            var size = 0
            var tooLarge = false
        }
        let collector = Collector()
        let sensitive = request.sensitiveResponse
        await limiter.acquire()
        let result = await stream(
            request, credentials: credentials,
            onHead: { collector.head = $0 },
            onRawBody: { chunk in
                if collector.size + chunk.count > CurlTransport.maximumResponseSize {
                    collector.tooLarge = true
                    return false
                }
                collector.size += chunk.count
                if sensitive {
                    collector.chunks.append(SecureBytes(copying: chunk))
                } else {
                    collector.body.append(contentsOf: chunk)
                }
                return true
            })
        await limiter.release()
        if collector.tooLarge {
            throw TransportError(
                kind: .connectionLost,
                message: "the response is larger than \(Self.maximumResponseSize >> 20) MiB",
                curlCode: -1)
        }
        switch result {
        case .success(let status):
            if collector.head.status == 0 { collector.head.status = status }
            guard sensitive else { return HTTPResponse(head: collector.head, body: collector.body) }
            let joined = SecureBytes(capacity: collector.size) { target in
                var offset = 0
                for chunk in collector.chunks {
                    chunk.withUnsafeBytes { bytes in
                        UnsafeMutableRawBufferPointer(rebasing: target[offset..<(offset + bytes.count)])
                            .copyMemory(from: bytes)
                        offset += bytes.count
                    }
                }
                return offset
            }
            collector.chunks = []
            // An error answer is a Status, which holds no value: it is read like any other.
            guard (200..<300).contains(collector.head.status) else {
                return HTTPResponse(head: collector.head, body: joined.withUnsafeBytes { Array($0) })
            }
            return HTTPResponse(head: collector.head, body: [], sensitiveBody: joined)
        case .failure(let error): throw error
        }
    }

    /// Runs `request`, handing the head and then each body chunk to the callbacks (on the
    /// transfer thread, in order) until the server ends the response, `onBody` returns
    /// `false`, or the calling task is cancelled.
    func stream(
        _ request: HTTPRequest, credentials: RequestCredentials,
        onHead: @escaping @Sendable (HTTPResponseHead) -> Void,
        onBody: @escaping @Sendable ([UInt8]) -> Bool
    ) async -> Result<Int, TransportError> {
        await stream(request, credentials: credentials, onHead: onHead, onRawBody: { onBody(Array($0)) })
    }

    /// `stream` handing each chunk where libcurl delivered it (valid during the call only), so
    /// that a sensitive response is copied straight into secure memory.
    private func stream(
        _ request: HTTPRequest, credentials: RequestCredentials,
        onHead: @escaping @Sendable (HTTPResponseHead) -> Void,
        onRawBody: @escaping @Sendable (UnsafeRawBufferPointer) -> Bool
    ) async -> Result<Int, TransportError> {
        let sink = TransferSink(onHead: onHead, onBody: onRawBody)
        let setup = TransferSetup(configuration: configuration, endpoint: endpoint, credentials: credentials)
        let pool = self.pool
        defer { connectionsOpened.add(sink.newConnections, ordering: .relaxed) }
        return await withTaskCancellationHandler {
            if Task.isCancelled {
                return .failure(TransportError(kind: .cancelled, message: "cancelled", curlCode: -1))
            }
            return await TransferThread.run(name: "kubeapi-transfer") {
                guard let handle = pool.take() else {
                    return .failure(
                        TransportError(
                            kind: .setup, message: "libcurl could not create a handle", curlCode: -1))
                }
                let result = CurlTransfer.perform(request, setup: setup, handle: handle, sink: sink)
                // Only a handle whose transfer completed goes back to the pool. Over HTTP/2 a
                // transfer stopped early (a cancelled watch) leaves its stream open on the
                // server, which goes on sending to it, until the connection closes: dropping the
                // handle closes it, as the end of an HTTP/1.1 transfer does.
                if case .success = result { pool.giveBack(handle) }
                return result
            }
        } onCancel: {
            sink.cancelled.store(true, ordering: .relaxed)
        }
    }

    /// Closes idle connections.
    func closeIdleConnections() { pool.drain() }
}
