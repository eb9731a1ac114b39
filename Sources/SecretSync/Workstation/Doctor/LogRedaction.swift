import Sealing

/// Log lines of a crashing container made safe to print: a server that fails on a bad API key
/// often prints the key. Each line loses every value of the Secret this user could read, every
/// word shaped like a credential (long, with letters and digits, as API keys and tokens are) and
/// what follows a credential's name (`api_key=…`, `Authorization: Bearer …`); then it is cut to
/// one bounded line of printable characters, since the text comes from the cluster.
public enum LogRedaction {
    public static let placeholder = "[redacted]"
    /// A word this long with letters and digits is taken for a credential.
    static let credentialLength = 16
    /// Names after which the rest of the word is a value.
    static let credentialNames = [
        "key", "token", "secret", "password", "passwd", "credential", "bearer", "auth",
    ]

    /// Authorization schemes, kept before the credential they introduce.
    static let schemes: Set<String> = ["bearer", "basic", "token"]

    /// The last `count` non-empty lines of `log`, each redacted.
    public static func lastLines(of log: String, count: Int, values: [SecureBytes] = []) -> [String] {
        let lines = log.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" }).map(String.init)
            .filter { !$0.allSatisfy(\.isWhitespace) }
        return lines.suffix(count).map { redact($0, values: values) }
    }

    /// One line with the values and credential-shaped words replaced.
    public static func redact(_ line: String, values: [SecureBytes] = []) -> String {
        var bytes = Array(line.utf8)
        for value in values where value.count >= 4 {
            bytes = value.withUnsafeBytes { replacing(Array($0), in: bytes) }
        }
        var words: [String] = []
        var hideNext = false
        for word in String(decoding: bytes, as: UTF8.self).split(
            separator: " ", omittingEmptySubsequences: false)
        {
            var text = String(word)
            if hideNext && !text.isEmpty {
                // `Authorization: Bearer …`: the scheme stays, the credential after it goes.
                if !schemes.contains(text.lowercased()) {
                    text = placeholder
                    hideNext = false
                }
            } else if let cut = valueStart(in: text) {
                // `api_key=…`, `token:…`: keep the name, hide the value; `key:` alone hides the next word.
                let name = text[..<cut]
                text = text[cut...].isEmpty ? String(name) : String(name) + placeholder
                hideNext = text == String(name)
            } else if looksLikeCredential(text) {
                text = placeholder
            } else if credentialNames.contains(where: { text.lowercased() == $0 }) {
                hideNext = text.lowercased() == "bearer"
            }
            words.append(text)
        }
        return RolloutStall.clean(words.joined(separator: " "))
    }

    /// Where the value starts in `name=value` or `name: value` when the name is a credential's.
    static func valueStart(in word: String) -> String.Index? {
        guard let separator = word.firstIndex(where: { $0 == "=" || $0 == ":" }) else { return nil }
        let name = word[..<separator].lowercased()
        guard credentialNames.contains(where: { name.contains($0) }) else { return nil }
        return word.index(after: separator)
    }

    static func looksLikeCredential(_ word: String) -> Bool {
        let core = word.trimmed(of: "\"'`,;()[]{}<>.")
        guard core.count >= credentialLength else { return false }
        var letters = false
        var digits = false
        for scalar in core.unicodeScalars {
            switch scalar {
            case "a"..."z", "A"..."Z": letters = true
            case "0"..."9": digits = true
            case "-", "_", "+", "/", "=", ".", "~": break
            default: return false
            }
        }
        return letters && digits
    }

    static func replacing(_ needle: [UInt8], in haystack: [UInt8]) -> [UInt8] {
        guard !needle.isEmpty, haystack.count >= needle.count else { return haystack }
        var result: [UInt8] = []
        var index = 0
        while index < haystack.count {
            if index + needle.count <= haystack.count,
                haystack[index..<index + needle.count].elementsEqual(needle)
            {
                result += Array(placeholder.utf8)
                index += needle.count
            } else {
                result.append(haystack[index])
                index += 1
            }
        }
        return result
    }
}

extension String {
    fileprivate func trimmed(of set: String) -> String {
        var scalars = Substring(self)
        while let first = scalars.first, set.contains(first) { scalars.removeFirst() }
        while let last = scalars.last, set.contains(last) { scalars.removeLast() }
        return String(scalars)
    }
}
