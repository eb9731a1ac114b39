/// What `KubeClient` sends its requests through: libcurl's connection pool in the product
/// (`CurlTransport`); a test may put another in front of it, to count, delay or fail requests.
protocol KubeTransport: Sendable {
    /// Sends one request and returns the whole response.
    func send(_ request: HTTPRequest, credentials: RequestCredentials) async throws(TransportError)
        -> HTTPResponse

    /// Sends one request and hands the response over as it arrives (watches, logs); `onBody`
    /// returns false to end the transfer. The status, or why the transfer failed.
    func stream(
        _ request: HTTPRequest, credentials: RequestCredentials,
        onHead: @escaping @Sendable (HTTPResponseHead) -> Void,
        onBody: @escaping @Sendable ([UInt8]) -> Bool
    ) async -> Result<Int, TransportError>

    /// How many connections it has opened (keep-alive checks).
    var openedConnections: Int { get }
}

extension CurlTransport: KubeTransport {}
