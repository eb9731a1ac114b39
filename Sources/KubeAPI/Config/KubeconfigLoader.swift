/// Finds and merges kubeconfig files the way kubectl does: `--kubeconfig` alone when given
/// (it must exist); else every file of `$KUBECONFIG` (a `:`-separated list; missing files are
/// skipped; for each cluster, user and context name the first file that defines it wins, and
/// `current-context` comes from the first file that sets one); else `~/.kube/config`.
public struct KubeconfigLoader: Sendable {
    /// `--kubeconfig`.
    public var explicitPath: String?
    /// The environment to read `KUBECONFIG` and `HOME` from.
    public var environment: [String: String]

    public init(
        explicitPath: String? = nil, environment: [String: String] = ProcessEnvironment.current
    ) {
        self.explicitPath = explicitPath
        self.environment = environment
    }

    /// The files to read, in precedence order, and whether they were named explicitly (then
    /// a missing one is an error).
    public var candidateFiles: (paths: [String], required: Bool) {
        if let explicitPath, !explicitPath.isEmpty {
            return ([absolute(explicitPath)], true)
        }
        if let list = environment["KUBECONFIG"], !list.isEmpty {
            var seen = Set<String>()
            let paths = list.split(separator: ":").map { absolute(String($0)) }.filter {
                seen.insert($0).inserted
            }
            return (paths, false)
        }
        return ([defaultPath], false)
    }

    /// `~/.kube/config`.
    public var defaultPath: String {
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? Path.passwordHome(nil) ?? "/"
        return Path.join(home, ".kube/config")
    }

    private func absolute(_ path: String) -> String {
        let expanded = Path.expandingTilde(path)
        if expanded.hasPrefix("/") { return expanded }
        return Path.join(Path.currentFolder, expanded)
    }

    /// The merged configuration, or `nil` when no file exists (and none was required).
    public func load() throws(KubeError) -> Kubeconfig? {
        let (paths, required) = candidateFiles
        var merged: Kubeconfig?
        for path in paths {
            guard let text = try Self.readText(path, required: required, what: "kubeconfig") else { continue }
            let file = try KubeconfigParser.parse(text, file: path)
            merged = merged.map { Self.merge($0, file) } ?? file
        }
        return merged
    }

    /// `first` wins for every name it defines and for `current-context`.
    static func merge(_ first: Kubeconfig, _ second: Kubeconfig) -> Kubeconfig {
        var result = first
        if result.currentContext == nil { result.currentContext = second.currentContext }
        result.clusters.merge(second.clusters) { existing, _ in existing }
        result.users.merge(second.users) { existing, _ in existing }
        result.contexts.merge(second.contexts) { existing, _ in existing }
        result.files += second.files
        return result
    }

    /// The contents of `path`; `nil` if it does not exist and is optional.
    static func readText(_ path: String, required: Bool, what: String) throws(KubeError) -> String? {
        guard let bytes = try readBytes(path, required: required, what: what) else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func readBytes(_ path: String, required: Bool, what: String) throws(KubeError) -> [UInt8]? {
        switch FileContents.read(path) {
        case .success(let bytes): return bytes
        case .failure(.missing):
            if !required { return nil }
            throw KubeError(.configuration, "\(what) \(path) does not exist")
        case .failure(.folder):
            throw KubeError(.configuration, "\(what) \(path) is a folder, not a file")
        case .failure(.unreadable(let reason)):
            throw KubeError(
                .configuration, "\(what) \(path) cannot be read (\(reason)): check its permissions")
        case .failure(.tooLarge):
            throw KubeError(
                .configuration,
                "\(what) \(path) is larger than \(FileContents.limit >> 20) MiB: is it the right file?")
        }
    }
}
