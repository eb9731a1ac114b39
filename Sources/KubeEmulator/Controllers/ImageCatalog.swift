import JSONValue
import Synchronization

/// What the simulated container runtime does with an image.
public enum ImageBehaviour: Sendable, Equatable {
    /// It pulls and its containers run (every image not listed in the catalog).
    case runs
    /// Its registry does not have it: every pull fails with NotFound (`ErrImagePull`, then
    /// `ImagePullBackOff`).
    case missing
    /// Its containers start and exit at once with `exitCode`, having printed `log` (one element
    /// per line), so that pods crash-loop (`CrashLoopBackOff`).
    case crashes(exitCode: Int, log: [String])
}

/// The images that do not simply run, keyed by their normalized reference (`nginx` and
/// `docker.io/library/nginx:latest` are one image, as for a container runtime). Changes take
/// effect at the kubelet's next attempt: a pull retried after its back-off, a restart after the
/// crash-loop back-off, as on a real node.
public final class ImageCatalog: Sendable {
    private let table = Mutex<[String: ImageBehaviour]>([:])

    public init() {}

    /// Sets how `image` behaves; `.runs` removes it from the catalog.
    public func set(_ image: String, _ behaviour: ImageBehaviour) {
        let key = Self.normalized(image)
        table.withLock { $0[key] = behaviour == .runs ? nil : behaviour }
    }

    public func behaviour(of image: String) -> ImageBehaviour {
        let key = Self.normalized(image)
        return table.withLock { $0[key] } ?? .runs
    }

    /// Every image runs again.
    public func reset() {
        table.withLock { $0 = [:] }
    }

    /// The listed images, sorted by reference.
    public var entries: [(image: String, behaviour: ImageBehaviour)] {
        table.withLock { $0 }.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    /// A reference as a container runtime resolves it: registry `docker.io` and namespace
    /// `library` by default, tag `latest` when neither a tag nor a digest is given.
    public static func normalized(_ image: String) -> String {
        var name = image
        var digest = ""
        if let at = name.firstIndex(of: "@") {
            digest = String(name[at...])
            name = String(name[..<at])
        }
        var tag = ""
        if let colon = name.lastIndex(of: ":"), !name[colon...].contains("/") {
            tag = String(name[colon...])
            name = String(name[..<colon])
        }
        var components = name.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        let first = components.first ?? ""
        let hasRegistry =
            components.count > 1 && (first.contains(".") || first.contains(":") || first == "localhost")
        if !hasRegistry { components.insert("docker.io", at: 0) }
        if components[0] == "docker.io" && components.count == 2 { components.insert("library", at: 1) }
        if tag.isEmpty && digest.isEmpty { tag = ":latest" }
        return components.joined(separator: "/") + tag + digest
    }

    // MARK: - The admin endpoint's JSON

    var json: JSON {
        ["images": .array(entries.map { Self.json(image: $0.image, behaviour: $0.behaviour) })]
    }

    static func json(image: String, behaviour: ImageBehaviour) -> JSON {
        switch behaviour {
        case .runs: return ["image": .string(image), "behaviour": "runs"]
        case .missing: return ["image": .string(image), "behaviour": "missing"]
        case .crashes(let exitCode, let log):
            return [
                "image": .string(image), "behaviour": "crashes", "exitCode": .int(exitCode),
                "log": .string(log.map { $0 + "\n" }.joined()),
            ]
        }
    }

    /// `{"image": "repo:tag", "behaviour": "runs|missing|crashes", "exitCode": 1, "log": "text"}`.
    static func entry(from json: JSON) throws(APIError) -> (String, ImageBehaviour) {
        guard let image = json["image"]?.stringValue, !image.isEmpty else {
            throw APIError.badRequest("an image entry needs \"image\" (a reference such as nginx:1.25)")
        }
        switch json["behaviour"]?.stringValue {
        case "runs": return (image, .runs)
        case "missing": return (image, .missing)
        case "crashes":
            let exitCode = json["exitCode"]?.intValue ?? 1
            guard (0...255).contains(exitCode) else {
                throw APIError.badRequest("exitCode must be between 0 and 255, not \(exitCode)")
            }
            let text = json["log"]?.stringValue ?? ""
            var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            if lines.last == "" { lines.removeLast() }
            return (image, .crashes(exitCode: exitCode, log: lines))
        default:
            throw APIError.badRequest(
                "image \(image): \"behaviour\" must be runs, missing or crashes")
        }
    }
}
