import Foundation

/// Secret values that are easy to search for. Tests use them as API keys and then assert that
/// none appears in anything the product printed, logged or stored outside the Secret.
public struct LeakMarkers: Sendable {
    public private(set) var values: [String] = []

    public init() {}

    /// A new marker, unique in this process, shaped like an API key.
    public mutating func make(_ label: String = "key") -> String {
        let marker = "sk-MARKER-\(label)-\(UUID().uuidString.replacingOccurrences(of: "-", with: ""))"
        values.append(marker)
        return marker
    }

    /// The markers (or their base64 forms) that occur in `text`.
    public func leaks(in text: String) -> [String] {
        values.filter { marker in
            text.contains(marker) || text.contains(Data(marker.utf8).base64EncodedString().dropLast(4))
        }
    }
}
