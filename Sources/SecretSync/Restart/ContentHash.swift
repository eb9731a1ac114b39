import JSONValue
import KubeAPI
import Sealing

/// The content hash of the objects a Deployment reloads on (docs/formats.md, "Content hash").
///
/// It goes into the Deployment's pod-template annotation `beluga-ai.io/content-hash`: when it
/// differs, patching it rolls the pods; when it does not, nothing restarts. Every field is
/// length-prefixed, so two different contents never serialize alike.
public enum ContentHash {
    /// The pod-template annotation that holds the hash.
    public static let annotation = "beluga-ai.io/content-hash"
    /// The Deployment label that records the hash of what its pods run when the agent first sees
    /// it without one (no rollout); the pod template's annotation, once there, takes precedence.
    public static let label = "beluga-ai.io/content-hash"

    /// The hash as a label value: its first 63 hex digits (label values are at most 63
    /// characters), 252 bits.
    public static func labelValue(_ hash: String) -> String { String(hash.prefix(63)) }

    /// Whether a recorded hash (an annotation's, or a label's 63 digits) is that of `hash`.
    public static func matches(recorded: String, hash: String) -> Bool {
        recorded == hash || (recorded.count == 63 && labelValue(hash) == recorded)
    }

    /// The hash of `objects`, each given as its keys and value bytes, or `nil` when the object
    /// does not exist.
    public static func compute(_ objects: [ObjectReference: [String: [UInt8]]?]) -> String {
        var hasher = Digest.SHA256()
        func field(_ bytes: some Collection<UInt8>) {
            var length = UInt64(bytes.count).bigEndian
            withUnsafeBytes(of: &length) { hasher.update(Array($0)) }
            hasher.update(bytes)
        }
        for reference in objects.keys.sorted() {
            field(Array(reference.kind.rawValue.utf8))
            field(Array(reference.name.utf8))
            guard let content = objects[reference] ?? nil else {
                field(Array("absent".utf8))
                continue
            }
            field(Array(String(content.count).utf8))
            let keys = content.keys.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
            for key in keys {
                field(Array(key.utf8))
                field(content[key] ?? [])
            }
        }
        return Digest.hex(hasher.finalize())
    }

    /// The keys and value bytes of a Secret object (`data`, base64-decoded). The API server
    /// only stores valid base64; should a value not be, its text counts as its bytes, so the
    /// hash stays a function of the object.
    public static func content(ofSecret object: JSON) -> [String: [UInt8]] {
        var content: [String: [UInt8]] = [:]
        for (key, value) in object["data"]?.objectValue ?? [:] {
            content[key] = decodeBase64(value.stringValue ?? "")
        }
        // The API server folds stringData into data; an object built locally may still carry it.
        for (key, value) in object["stringData"]?.objectValue ?? [:] {
            content[key] = Array((value.stringValue ?? "").utf8)
        }
        return content
    }

    /// The keys and value bytes of a ConfigMap object: `data` as UTF-8, `binaryData` decoded.
    public static func content(ofConfigMap object: JSON) -> [String: [UInt8]] {
        var content: [String: [UInt8]] = [:]
        for (key, value) in object["data"]?.objectValue ?? [:] {
            content[key] = Array((value.stringValue ?? "").utf8)
        }
        for (key, value) in object["binaryData"]?.objectValue ?? [:] {
            content[key] = decodeBase64(value.stringValue ?? "")
        }
        return content
    }

    static func decodeBase64(_ text: String) -> [UInt8] {
        if let bytes = Base64.decode(text) { return bytes }
        return Array(text.utf8)
    }
}
