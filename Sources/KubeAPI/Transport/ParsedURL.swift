/// An absolute URL split into the parts libcurl needs apart (RFC 3986 syntax): enough to check
/// a server or proxy address and to put another host name in it.
struct ParsedURL {
    /// Lower case.
    var scheme: String
    var userInfo: String?
    /// Without the brackets of an IPv6 address.
    var host: String
    var port: Int?
    /// Path, query and fragment, as written.
    var rest: Substring

    init?(_ text: String) {
        guard let scheme = Self.scheme(of: text) else { return nil }
        // Characters a URL never holds unencoded.
        guard
            text.unicodeScalars.allSatisfy({
                (0x21...0x7E).contains($0.value) && !"\"<>\\^`{|}".unicodeScalars.contains($0)
            })
        else { return nil }
        let afterScheme = text.dropFirst(scheme.count + 1)
        guard afterScheme.hasPrefix("//") else { return nil }
        let authorityAndRest = afterScheme.dropFirst(2)
        let authorityEnd =
            authorityAndRest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? authorityAndRest.endIndex
        var authority = authorityAndRest[..<authorityEnd]
        rest = authorityAndRest[authorityEnd...]
        if let at = authority.lastIndex(of: "@") {
            userInfo = String(authority[..<at])
            authority = authority[authority.index(after: at)...]
        }
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            host = String(authority[authority.index(after: authority.startIndex)..<close])
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { return nil }
                portText = after.dropFirst()
            }
        } else if let colon = authority.firstIndex(of: ":") {
            host = String(authority[..<colon])
            let port = authority[authority.index(after: colon)...]
            guard !port.contains(":") else { return nil }
            portText = port
        } else {
            host = String(authority)
        }
        guard !host.isEmpty, !host.contains("[") && !host.contains("]") else { return nil }
        self.scheme = scheme
        if let portText, !portText.isEmpty {
            guard portText.allSatisfy(\.isASCII), portText.allSatisfy(\.isNumber), portText.count <= 5,
                let port = Int(portText), port <= 65535
            else { return nil }
            self.port = port
        }
    }

    /// The scheme of `text` in lower case (`https` of `HTTPS://h`), when it starts with one.
    static func scheme(of text: String) -> String? {
        guard let colon = text.firstIndex(of: ":") else { return nil }
        let scheme = text[..<colon]
        guard let first = scheme.unicodeScalars.first,
            ("a"..."z").contains(first) || ("A"..."Z").contains(first),
            scheme.unicodeScalars.allSatisfy({
                ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0)
                    || "+-.".unicodeScalars.contains($0)
            })
        else { return nil }
        return scheme.lowercased()
    }

    /// The URL with `host` and `port` in place of its own.
    func replacing(host newHost: String, port newPort: Int) -> String {
        let bracketed = newHost.contains(":") ? "[\(newHost)]" : newHost
        return "\(scheme)://\(userInfo.map { "\($0)@" } ?? "")\(bracketed):\(newPort)\(rest)"
    }
}
