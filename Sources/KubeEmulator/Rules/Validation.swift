/// The name and key rules of `k8s.io/apimachinery/pkg/util/validation`, with its messages.
enum Validation {
    static let dns1123LabelMaxLength = 63
    static let dns1123SubdomainMaxLength = 253
    static let labelValueMaxLength = 63
    static let qualifiedNameMaxLength = 63

    static let dns1123LabelMessage =
        "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
    static let dns1123SubdomainMessage =
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
    static let dns1035LabelMessage =
        "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
    static let qualifiedNamePartMessage =
        "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
    static let labelValueMessage =
        "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
    static let configKeyMessage =
        "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"

    static func maxLengthMessage(_ length: Int) -> String { "must be no more than \(length) characters" }

    private static func isLowerAlphanumeric(_ c: UInt8) -> Bool {
        (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39)
    }

    private static func isAlphanumeric(_ c: UInt8) -> Bool {
        isLowerAlphanumeric(c) || (c >= 0x41 && c <= 0x5A)
    }

    /// `[a-z0-9]([-a-z0-9]*[a-z0-9])?`
    static func isDNS1123Label(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard let first = bytes.first, let last = bytes.last else { return false }
        return isLowerAlphanumeric(first) && isLowerAlphanumeric(last)
            && bytes.allSatisfy { isLowerAlphanumeric($0) || $0 == UInt8(ascii: "-") }
    }

    static func dns1123LabelProblems(_ text: String) -> [String] {
        var problems: [String] = []
        if text.utf8.count > dns1123LabelMaxLength {
            problems.append(maxLengthMessage(dns1123LabelMaxLength))
        }
        if !isDNS1123Label(text) { problems.append(dns1123LabelMessage) }
        return problems
    }

    static func dns1123SubdomainProblems(_ text: String) -> [String] {
        var problems: [String] = []
        if text.utf8.count > dns1123SubdomainMaxLength {
            problems.append(maxLengthMessage(dns1123SubdomainMaxLength))
        }
        let labels = text.split(separator: ".", omittingEmptySubsequences: false)
        if text.isEmpty || !labels.allSatisfy({ isDNS1123Label(String($0)) }) {
            problems.append(dns1123SubdomainMessage)
        }
        return problems
    }

    static func dns1035LabelProblems(_ text: String) -> [String] {
        var problems: [String] = []
        if text.utf8.count > dns1123LabelMaxLength {
            problems.append(maxLengthMessage(dns1123LabelMaxLength))
        }
        let first = text.utf8.first ?? 0
        if !isDNS1123Label(text) || !(first >= 0x61 && first <= 0x7A) { problems.append(dns1035LabelMessage) }
        return problems
    }

    /// `path.ValidatePathSegmentName`: the rule for RBAC object names.
    static func pathSegmentProblems(_ text: String) -> [String] {
        if text == "." || text == ".." { return ["may not be '\(text)'"] }
        var problems: [String] = []
        for illegal in ["/", "%"] where text.contains(illegal) {
            problems.append("may not contain '\(illegal)'")
        }
        return problems
    }

    private static func isQualifiedNamePart(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard let first = bytes.first, let last = bytes.last else { return false }
        return isAlphanumeric(first) && isAlphanumeric(last)
            && bytes.allSatisfy {
                isAlphanumeric($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_")
                    || $0 == UInt8(ascii: ".")
            }
    }

    /// Label keys and annotation keys: an optional DNS subdomain prefix and `/`, then a name.
    static func qualifiedNameProblems(_ text: String) -> [String] {
        var problems: [String] = []
        let parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        let name: String
        switch parts.count {
        case 1:
            name = parts[0]
        case 2:
            let prefix = parts[0]
            name = parts[1]
            if prefix.isEmpty {
                problems.append("prefix part must be non-empty")
            } else {
                problems += dns1123SubdomainProblems(prefix).map { "prefix part " + $0 }
            }
        default:
            return [
                "a qualified name " + qualifiedNamePartMessage
                    + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
            ]
        }
        if name.isEmpty {
            problems.append("name part must be non-empty")
        } else if name.utf8.count > qualifiedNameMaxLength {
            problems.append("name part " + maxLengthMessage(qualifiedNameMaxLength))
        }
        if !name.isEmpty && !isQualifiedNamePart(name) {
            problems.append("name part " + qualifiedNamePartMessage)
        }
        return problems
    }

    static func labelValueProblems(_ text: String) -> [String] {
        var problems: [String] = []
        if text.utf8.count > labelValueMaxLength { problems.append(maxLengthMessage(labelValueMaxLength)) }
        if !text.isEmpty && !isQualifiedNamePart(text) { problems.append(labelValueMessage) }
        return problems
    }

    /// Secret and ConfigMap keys (`IsConfigMapKey`).
    static func configKeyProblems(_ text: String) -> [String] {
        var problems: [String] = []
        if text.utf8.count > dns1123SubdomainMaxLength {
            problems.append(maxLengthMessage(dns1123SubdomainMaxLength))
        }
        let valid =
            !text.isEmpty
            && text.utf8.allSatisfy {
                isAlphanumeric($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_")
                    || $0 == UInt8(ascii: ".")
            }
        if !valid { problems.append(configKeyMessage) }
        if text == "." {
            problems.append("must not be '.'")
        } else if text == ".." {
            problems.append("must not be '..'")
        } else if text.hasPrefix("..") {
            problems.append("must not start with '..'")
        }
        return problems
    }
}
