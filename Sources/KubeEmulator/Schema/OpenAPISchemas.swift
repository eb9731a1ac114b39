import Foundation
import JSONValue
import Synchronization

/// The Kubernetes API's schemas, read from a published copy of its OpenAPI definitions: the
/// JSON schema form that the PyPI package `kubernetes-validate` ships for each Kubernetes
/// release (`kubernetes-json-schema/v1.32.0-local/_definitions.json`, made from the release's
/// OpenAPI document). The emulator checks write bodies against them and serves them in its
/// OpenAPI v3 documents.
///
/// Reading and compiling the definitions takes a moment, so each file is read once per process
/// and shared by every emulator started in it.
public final class OpenAPISchemas: Sendable {
    /// The Kubernetes release the emulator serves (`/version`), and so the schemas it reads.
    public static let kubernetesVersion = "v1.32.0"
    /// The folder of that release in `kubernetes-validate`'s package.
    static let releaseFolder = "v1.32.0-local"
    /// The environment variable naming the schemas (a file, its folder, or a Python venv).
    public static let environmentVariable = "KUBE_EMULATOR_SCHEMAS"

    /// The file the schemas were read from.
    public let path: String
    /// Each definition as published (descriptions and extensions included), by name.
    let published: [String: JSON]
    let nodes: [String: SchemaNode]
    /// Definition names by group, version and kind (`x-kubernetes-group-version-kind`).
    private let kinds: [String: String]

    init(path: String, definitions: [String: JSON]) {
        self.path = path
        published = definitions
        var nodes: [String: SchemaNode] = [:]
        var kinds: [String: String] = [:]
        for (name, definition) in definitions {
            nodes[name] = SchemaNode(compiling: definition, definitionName: name)
            for gvk in definition["x-kubernetes-group-version-kind"]?.arrayValue ?? [] {
                let key = OpenAPISchemas.kindKey(
                    group: gvk["group"]?.stringValue ?? "", version: gvk["version"]?.stringValue ?? "",
                    kind: gvk["kind"]?.stringValue ?? "")
                kinds[key] = name
            }
        }
        self.nodes = nodes
        self.kinds = kinds
    }

    private static func kindKey(group: String, version: String, kind: String) -> String {
        "\(group)/\(version)/\(kind)"
    }

    /// The definition name of a kind, e.g. `io.k8s.api.apps.v1.Deployment`.
    func definitionName(group: String, version: String, kind: String) -> String? {
        kinds[OpenAPISchemas.kindKey(group: group, version: version, kind: kind)]
    }

    func node(_ name: String) -> SchemaNode { nodes[name] ?? .anything }

    // MARK: - Loading

    /// Why schemas could not be read.
    public struct LoadError: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    private static let loaded = Mutex<[String: OpenAPISchemas]>([:])

    /// Reads the schemas at `path`: the `_definitions.json` file, a folder holding it (or the
    /// release folder holding it), or a Python virtual environment with `kubernetes-validate`
    /// installed. Each file is read once per process.
    public static func load(path: String) throws(LoadError) -> OpenAPISchemas {
        guard let file = definitionsFile(under: path) else {
            throw LoadError(
                description:
                    "no Kubernetes \(kubernetesVersion) schemas at \(path): give the _definitions.json of kubernetes-validate's \(releaseFolder) folder, or a Python venv with kubernetes-validate installed"
            )
        }
        if let cached = loaded.withLock({ $0[file] }) { return cached }
        guard let data = FileManager.default.contents(atPath: file) else {
            throw LoadError(description: "cannot read \(file)")
        }
        let document: JSON
        do {
            document = try JSON(parsing: data)
        } catch {
            throw LoadError(description: "\(file) is not JSON: \(error.description)")
        }
        guard let definitions = (document["$defs"] ?? document["definitions"])?.objectValue,
            !definitions.isEmpty
        else {
            throw LoadError(description: "\(file) holds no schema definitions ($defs)")
        }
        let schemas = OpenAPISchemas(path: file, definitions: definitions)
        return loaded.withLock { cache in
            if let first = cache[file] { return first }
            cache[file] = schemas
            return schemas
        }
    }

    /// The schemas `make test` and `make run` provide: those named by `KUBE_EMULATOR_SCHEMAS`,
    /// else those of the Python venv `.venv` in the current directory; nil (with the reason)
    /// when there are none.
    public static func located(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        currentDirectory: String = FileManager.default.currentDirectoryPath
    ) -> Result<OpenAPISchemas, LoadError> {
        if let named = environment[environmentVariable], !named.isEmpty {
            do {
                return .success(try load(path: named))
            } catch {
                return .failure(LoadError(description: "\(environmentVariable): \(error.description)"))
            }
        }
        do {
            return .success(try load(path: currentDirectory + "/.venv"))
        } catch {
            return .failure(
                LoadError(
                    description:
                        "no schemas: set \(environmentVariable) or run `make python-deps` (kubernetes-validate in .venv)"
                ))
        }
    }

    /// The located schemas, read once per process; nil when there are none.
    public static let standard: OpenAPISchemas? = try? located().get()

    /// The `_definitions.json` under `path`, looking where a venv, a site-packages folder, the
    /// package's schema folder or the release folder keep it.
    static func definitionsFile(under path: String) -> String? {
        let files = FileManager.default
        var isDirectory: ObjCBool = false
        guard files.fileExists(atPath: path, isDirectory: &isDirectory) else { return nil }
        if !isDirectory.boolValue { return path }
        let release = "kubernetes_validate/kubernetes-json-schema/\(releaseFolder)/_definitions.json"
        var candidates = [
            "_definitions.json", "\(releaseFolder)/_definitions.json",
            "kubernetes-json-schema/\(releaseFolder)/_definitions.json", release,
        ]
        // A venv: lib/python3.X/site-packages/...
        let lib = path + "/lib"
        for entry in ((try? files.contentsOfDirectory(atPath: lib)) ?? []).sorted()
        where entry.hasPrefix("python") {
            candidates.append("lib/\(entry)/site-packages/\(release)")
        }
        return candidates.map { path + "/" + $0 }.first { files.fileExists(atPath: $0) }
    }
}
