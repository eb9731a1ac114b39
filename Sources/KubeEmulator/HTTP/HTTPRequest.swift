import Foundation

/// One HTTP request as the API layer sees it: method, decoded path and query, headers, body and
/// the subject of a verified client certificate, if the client presented one.
struct HTTPRequest: Sendable {
    var method: String
    /// The path, percent-decoded, without the query.
    var path: String
    /// Query parameters in order; a name may repeat.
    var queryItems: [(name: String, value: String)]
    /// Header names in lower case.
    var headers: [(name: String, value: String)]
    var body: [UInt8]
    var clientCertificate: ClientCertificateSubject?
    /// Warnings for the answer's `Warning` headers.
    let warnings = Warnings()

    /// `HTTP/1.1` or `HTTP/2`.
    var httpVersion: String
    /// The HTTP/2 connection the request came on (nil over HTTP/1.1).
    var connection: HTTP2Connection?

    init(
        method: String, uri: String, headers: [(String, String)], body: [UInt8],
        clientCertificate: ClientCertificateSubject? = nil, httpVersion: String = "HTTP/1.1",
        connection: HTTP2Connection? = nil
    ) {
        self.httpVersion = httpVersion
        self.connection = connection
        self.method = method
        let (path, query) = HTTPRequest.split(uri)
        self.path = path
        self.queryItems = query
        self.headers = headers.map { (name: $0.0.lowercased(), value: $0.1) }
        self.body = body
        self.clientCertificate = clientCertificate
    }

    func header(_ name: String) -> String? {
        let lower = name.lowercased()
        return headers.first { $0.name == lower }?.value
    }

    func query(_ name: String) -> String? { queryItems.first { $0.name == name }?.value }

    /// A boolean query parameter as Go's `strconv.ParseBool` reads it (`1`, `t`, `true`, ...).
    func queryFlag(_ name: String) -> Bool {
        guard let value = query(name) else { return false }
        return ["1", "t", "T", "true", "TRUE", "True"].contains(value)
    }

    /// The media type of the body, without parameters, in lower case.
    var contentType: String {
        guard let value = header("content-type") else { return "" }
        return value.split(separator: ";", maxSplits: 1).first.map {
            $0.trimmingCharacters(in: .whitespaces).lowercased()
        } ?? ""
    }

    static func split(_ uri: String) -> (String, [(name: String, value: String)]) {
        let parts = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        let path = percentDecode(String(parts.first ?? ""), plusIsSpace: false)
        var items: [(name: String, value: String)] = []
        if parts.count > 1 {
            for pair in parts[1].split(separator: "&") where !pair.isEmpty {
                let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let name = percentDecode(String(kv[0]), plusIsSpace: true)
                let value = kv.count > 1 ? percentDecode(String(kv[1]), plusIsSpace: true) : ""
                items.append((name: name, value: value))
            }
        }
        return (path, items)
    }

    static func percentDecode(_ text: String, plusIsSpace: Bool) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var iterator = Array(text.utf8)[...]
        while let byte = iterator.popFirst() {
            if byte == UInt8(ascii: "%"), iterator.count >= 2,
                let high = hexValue(iterator[iterator.startIndex]),
                let low = hexValue(iterator[iterator.startIndex + 1])
            {
                bytes.append(high << 4 | low)
                iterator = iterator.dropFirst(2)
            } else if byte == UInt8(ascii: "+"), plusIsSpace {
                bytes.append(UInt8(ascii: " "))
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

/// The user a verified client certificate names: CN is the user, each O a group (as Kubernetes
/// maps X.509 subjects).
struct ClientCertificateSubject: Sendable, Equatable {
    var commonName: String
    var organizations: [String]
}
