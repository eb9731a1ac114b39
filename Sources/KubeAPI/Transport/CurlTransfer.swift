import CCurl
import Synchronization
import TimeFormat

/// Receives what one transfer produces, on the transfer's thread: the response head once,
/// then the body in chunks. Returning `false` from `onBody` stops the transfer.
final class TransferSink: @unchecked Sendable {
    let cancelled = Atomic<Bool>(false)
    private let onHead: (HTTPResponseHead) -> Void
    private let onBody: (UnsafeRawBufferPointer) -> Bool
    private var status = 0
    private var headers: [String: String] = [:]
    private var headDelivered = false
    private(set) var stoppedByReceiver = false
    /// Connections libcurl had to open for this transfer (0 when it reused one).
    var newConnections = 0
    let errorBuffer: UnsafeMutablePointer<CChar>

    init(onHead: @escaping (HTTPResponseHead) -> Void, onBody: @escaping (UnsafeRawBufferPointer) -> Bool) {
        self.onHead = onHead
        self.onBody = onBody
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
    }

    deinit { errorBuffer.deallocate() }

    var errorMessage: String { String(cString: errorBuffer) }

    func receiveHeaderLine(_ bytes: UnsafeRawBufferPointer) {
        let line = String(decoding: bytes, as: UTF8.self).trimmingWhitespace()
        if line.hasPrefix("HTTP/") {
            // A new header block (after `100 Continue`, or the proxy's `200 Connection established`).
            let parts = line.split(separator: " ", maxSplits: 2)
            status = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
            headers = [:]
            return
        }
        guard let colon = line.firstIndex(of: ":") else { return }
        let name = line[..<colon].lowercased()
        let value = line[line.index(after: colon)...].trimmingWhitespace()
        headers[name] = value
    }

    func receiveBody(_ bytes: UnsafeRawBufferPointer) -> Bool {
        deliverHeadIfNeeded()
        if cancelled.load(ordering: .relaxed) { return false }
        if !onBody(bytes) {
            stoppedByReceiver = true
            return false
        }
        return true
    }

    func deliverHeadIfNeeded(status finalStatus: Int? = nil) {
        guard !headDelivered else { return }
        headDelivered = true
        onHead(HTTPResponseHead(status: finalStatus ?? status, headers: headers))
    }
}

/// What the transfer thread needs besides the request: the server, TLS and credentials.
struct TransferSetup: Sendable {
    var configuration: TransportConfiguration
    var endpoint: ServerEndpoint
    var credentials: RequestCredentials
}

/// The parts of the server address libcurl needs separately.
struct ServerEndpoint: Sendable {
    /// Base URL to which request paths are appended (no trailing slash).
    var baseURL: String
    /// `CURLOPT_CONNECT_TO` entry when `tls-server-name` differs from the server's host.
    var connectTo: String?
    /// `Host` header to send when the URL's host was replaced by `tls-server-name`.
    var hostHeader: String?

    init(server: String, tlsServerName: String?) throws(KubeError) {
        var trimmed = server
        while trimmed.hasSuffix("/") { trimmed.removeLast() }
        guard let url = ParsedURL(trimmed), url.scheme == "https" || url.scheme == "http" else {
            throw KubeError(
                .configuration,
                "the server address \"\(server)\" is not a URL like https://host:6443")
        }
        let host = url.host
        let port = url.port ?? (url.scheme == "https" ? 443 : 80)
        guard let tlsServerName, !tlsServerName.isEmpty, tlsServerName != host else {
            baseURL = trimmed
            return
        }
        // Send the request to `tlsServerName` (so libcurl uses it for SNI and for checking the
        // certificate) while connecting to the real host, and keep the real `Host` header.
        baseURL = url.replacing(host: tlsServerName, port: port)
        let bracketed = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        connectTo = "\(tlsServerName):\(port):\(bracketed):\(port)"
        hostHeader = url.port.map { "\(bracketed):\($0)" } ?? bracketed
    }
}

/// Performs one transfer on an easy handle. Blocking: call it on a transfer thread.
enum CurlTransfer {
    static func perform(
        _ request: HTTPRequest, setup: TransferSetup, handle: CurlHandle, sink: TransferSink
    ) -> Result<Int, TransportError> {
        let h = handle.raw
        var failedOption: String?
        func check(_ code: CURLcode, _ name: String) {
            if code != CURLE_OK && failedOption == nil { failedOption = name }
        }

        let url = setup.endpoint.baseURL + request.pathAndQuery
        check(ccurl_setopt_string(h, CURLOPT_URL, url), "URL")
        check(ccurl_setopt_long(h, CURLOPT_NOSIGNAL, 1), "NOSIGNAL")
        check(ccurl_setopt_long(h, CURLOPT_TCP_KEEPALIVE, 1), "TCP_KEEPALIVE")
        check(ccurl_setopt_long(h, CURLOPT_FOLLOWLOCATION, 0), "FOLLOWLOCATION")
        check(ccurl_setopt_string(h, CURLOPT_USERAGENT, setup.configuration.userAgent), "USERAGENT")
        check(
            ccurl_setopt_long(
                h, CURLOPT_CONNECTTIMEOUT_MS, max(1, Int(setup.configuration.connectTimeout.inMilliseconds))),
            "CONNECTTIMEOUT")
        if let timeout = request.timeout {
            check(ccurl_setopt_long(h, CURLOPT_TIMEOUT_MS, max(1, Int(timeout.inMilliseconds))), "TIMEOUT")
        }
        check(ccurl_setopt_pointer(h, CURLOPT_ERRORBUFFER, sink.errorBuffer), "ERRORBUFFER")

        // Method and body.
        switch request.method {
        case .get: check(ccurl_setopt_long(h, CURLOPT_HTTPGET, 1), "HTTPGET")
        case .head: check(ccurl_setopt_long(h, CURLOPT_NOBODY, 1), "NOBODY")
        case .post, .put, .patch, .delete:
            if request.method != .post {
                check(ccurl_setopt_string(h, CURLOPT_CUSTOMREQUEST, request.method.rawValue), "CUSTOMREQUEST")
            }
            if let sensitive = request.sensitiveBody {
                // Not copied by us: libcurl reads the locked buffer, which the request keeps
                // alive until the transfer ends (the handle is reset or dropped after it).
                check(
                    ccurl_setopt_off_t(h, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(sensitive.count)),
                    "POSTFIELDSIZE")
                sensitive.withUnsafeBytes { bytes in
                    let pointer = bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 1)
                    check(
                        ccurl_setopt_pointer(
                            h, CURLOPT_POSTFIELDS, UnsafeMutableRawPointer(mutating: pointer)),
                        "POSTFIELDS")
                }
            } else if let body = request.body {
                check(
                    ccurl_setopt_off_t(h, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count)),
                    "POSTFIELDSIZE")
                body.withUnsafeBytes { bytes in
                    // COPYPOSTFIELDS copies, so the body need not outlive this call.
                    let pointer = bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 1)
                    check(
                        ccurl_setopt_pointer(
                            h, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: pointer)),
                        "COPYPOSTFIELDS")
                }
            } else if request.method == .post {
                check(ccurl_setopt_off_t(h, CURLOPT_POSTFIELDSIZE_LARGE, 0), "POSTFIELDSIZE")
                check(ccurl_setopt_string(h, CURLOPT_COPYPOSTFIELDS, ""), "COPYPOSTFIELDS")
            }
        }

        // Headers, credentials among them. The list is freed after the transfer.
        var headerList: UnsafeMutablePointer<curl_slist>?
        func addHeader(_ line: String) { headerList = curl_slist_append(headerList, line) }
        for header in request.headers { addHeader("\(header.name): \(header.value)") }
        addHeader("Expect:")  // no `100-continue` round trip for larger bodies
        if let hostHeader = setup.endpoint.hostHeader { addHeader("Host: \(hostHeader)") }
        if let authorization = setup.credentials.authorization {
            addHeader("Authorization: \(authorization)")
        }
        defer { curl_slist_free_all(headerList) }
        check(ccurl_setopt_slist(h, CURLOPT_HTTPHEADER, headerList), "HTTPHEADER")

        var connectToList: UnsafeMutablePointer<curl_slist>?
        if let connectTo = setup.endpoint.connectTo {
            connectToList = curl_slist_append(nil, connectTo)
            check(ccurl_setopt_slist(h, CURLOPT_CONNECT_TO, connectToList), "CONNECT_TO")
        }
        defer { curl_slist_free_all(connectToList) }

        // TLS.
        let tls = setup.configuration
        if tls.insecureSkipTLSVerify {
            check(ccurl_setopt_long(h, CURLOPT_SSL_VERIFYPEER, 0), "SSL_VERIFYPEER")
            check(ccurl_setopt_long(h, CURLOPT_SSL_VERIFYHOST, 0), "SSL_VERIFYHOST")
        } else if let ca = tls.certificateAuthority {
            // Trust exactly this authority, as client-go does, not the system store too.
            ca.withUnsafeBytes { bytes in
                check(
                    ccurl_setopt_blob(h, CURLOPT_CAINFO_BLOB, bytes.baseAddress, bytes.count), "CAINFO_BLOB")
            }
            check(ccurl_setopt_string(h, CURLOPT_CAPATH, nil), "CAPATH")
        }
        if let certificate = setup.credentials.clientCertificate, let key = setup.credentials.clientKey {
            check(ccurl_setopt_string(h, CURLOPT_SSLCERTTYPE, "PEM"), "SSLCERTTYPE")
            certificate.withUnsafeBytes { bytes in
                check(
                    ccurl_setopt_blob(h, CURLOPT_SSLCERT_BLOB, bytes.baseAddress, bytes.count), "SSLCERT_BLOB"
                )
            }
            check(ccurl_setopt_string(h, CURLOPT_SSLKEYTYPE, "PEM"), "SSLKEYTYPE")
            key.withUnsafeBytes { bytes in
                check(
                    ccurl_setopt_blob(h, CURLOPT_SSLKEY_BLOB, bytes.baseAddress, bytes.count), "SSLKEY_BLOB")
            }
        }
        if let proxy = tls.proxyURL, !proxy.isEmpty {
            check(ccurl_setopt_string(h, CURLOPT_PROXY, proxy), "PROXY")
        }
        // Headers (the Authorization one among them) go to the server only, never to a proxy's
        // CONNECT (libcurl's default since 7.42.1; stated, not assumed).
        check(ccurl_setopt_long(h, CURLOPT_HEADEROPT, Int(CURLHEADER_SEPARATE)), "HEADEROPT")

        // Callbacks reach the sink through an unretained pointer: the sink outlives the transfer.
        let context = Unmanaged.passUnretained(sink).toOpaque()
        check(
            ccurl_setopt_write_callback(h, CURLOPT_HEADERFUNCTION) { pointer, size, count, userdata in
                guard let pointer, let userdata else { return 0 }
                let sink = Unmanaged<TransferSink>.fromOpaque(userdata).takeUnretainedValue()
                sink.receiveHeaderLine(UnsafeRawBufferPointer(start: pointer, count: size * count))
                return size * count
            }, "HEADERFUNCTION")
        check(ccurl_setopt_pointer(h, CURLOPT_HEADERDATA, context), "HEADERDATA")
        check(
            ccurl_setopt_write_callback(h, CURLOPT_WRITEFUNCTION) { pointer, size, count, userdata in
                guard let pointer, let userdata else { return 0 }
                let sink = Unmanaged<TransferSink>.fromOpaque(userdata).takeUnretainedValue()
                return sink.receiveBody(UnsafeRawBufferPointer(start: pointer, count: size * count))
                    ? size * count : 0
            }, "WRITEFUNCTION")
        check(ccurl_setopt_pointer(h, CURLOPT_WRITEDATA, context), "WRITEDATA")
        check(ccurl_setopt_long(h, CURLOPT_NOPROGRESS, 0), "NOPROGRESS")
        check(
            ccurl_setopt_xferinfo_callback(h, CURLOPT_XFERINFOFUNCTION) { userdata, _, _, _, _ in
                guard let userdata else { return 0 }
                let sink = Unmanaged<TransferSink>.fromOpaque(userdata).takeUnretainedValue()
                return sink.cancelled.load(ordering: .relaxed) ? 1 : 0
            }, "XFERINFOFUNCTION")
        check(ccurl_setopt_pointer(h, CURLOPT_XFERINFODATA, context), "XFERINFODATA")

        if let failedOption {
            return .failure(
                TransportError(kind: .setup, message: "libcurl refused option \(failedOption)", curlCode: -1))
        }

        let code = curl_easy_perform(h)
        var status = 0
        _ = ccurl_getinfo_long(h, CURLINFO_RESPONSE_CODE, &status)
        var connects = 0
        _ = ccurl_getinfo_long(h, CURLINFO_NUM_CONNECTS, &connects)
        sink.newConnections = connects
        if code == CURLE_OK {
            sink.deliverHeadIfNeeded(status: status)
            return .success(status)
        }
        return .failure(classify(code, sink: sink))
    }

    static func classify(_ code: CURLcode, sink: TransferSink) -> TransportError {
        let detail = sink.errorMessage.isEmpty ? String(cString: curl_easy_strerror(code)) : sink.errorMessage
        let kind: TransportError.Kind
        switch code {
        case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY:
            kind = .connect
        case CURLE_OPERATION_TIMEDOUT:
            kind = .timeout
        case CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CONNECT_ERROR, CURLE_SSL_CACERT_BADFILE,
            CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER, CURLE_SSL_ISSUER_ERROR, CURLE_SSL_PINNEDPUBKEYNOTMATCH,
            CURLE_SSL_INVALIDCERTSTATUS, CURLE_SSL_CRL_BADFILE, CURLE_SSL_ENGINE_INITFAILED:
            kind = .tls
        case CURLE_ABORTED_BY_CALLBACK:
            kind = .cancelled
        case CURLE_WRITE_ERROR where sink.cancelled.load(ordering: .relaxed) || sink.stoppedByReceiver:
            kind = .cancelled
        case CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL, CURLE_BAD_FUNCTION_ARGUMENT, CURLE_NOT_BUILT_IN,
            CURLE_UNKNOWN_OPTION:
            kind = .setup
        default:
            kind = .connectionLost
        }
        return TransportError(kind: kind, message: detail, curlCode: Int(code.rawValue))
    }
}
