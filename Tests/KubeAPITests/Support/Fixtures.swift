import Foundation
import TestSupport

/// Writes files for a test: kubeconfigs, plugin scripts, service-account folders.
struct Fixtures {
    let directory: TemporaryDirectory

    init() throws { directory = try TemporaryDirectory(prefix: "kubeapi-test") }

    var path: String { directory.path }

    @discardableResult
    func write(_ name: String, _ text: String, mode: Int = 0o600) throws -> String {
        let file = directory.file(name)
        let folder = (file as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try Data(text.utf8).write(to: URL(fileURLWithPath: file))
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: file)
        return file
    }

    /// A shell script, executable.
    @discardableResult
    func script(_ name: String, _ body: String) throws -> String {
        try write(name, "#!/bin/sh\n" + body + "\n", mode: 0o700)
    }

    func read(_ name: String) -> String {
        (try? String(contentsOfFile: directory.file(name), encoding: .utf8)) ?? ""
    }
}

/// A kubeconfig with one cluster, user and context, for tests; `user` is the YAML body of the
/// user entry (indented by the caller with 4 spaces).
func kubeconfigText(
    server: String, cluster: String = "test", user: String = "tester", context: String = "test",
    namespace: String? = nil, clusterExtra: String = "", userBody: String = "    token: t0ken\n",
    currentContext: String? = "test"
) -> String {
    var text = "apiVersion: v1\nkind: Config\n"
    if let currentContext { text += "current-context: \(currentContext)\n" }
    text += "clusters:\n- name: \(cluster)\n  cluster:\n    server: \(server)\n\(clusterExtra)"
    text += "users:\n- name: \(user)\n  user:\n\(userBody)"
    text += "contexts:\n- name: \(context)\n  context:\n    cluster: \(cluster)\n    user: \(user)\n"
    if let namespace { text += "    namespace: \(namespace)\n" }
    return text
}

/// An environment for configuration loading that sees nothing of the test runner's.
func isolatedEnvironment(home: String, kubeconfig: String? = nil) -> [String: String] {
    var environment = ["HOME": home, "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"]
    if let kubeconfig { environment["KUBECONFIG"] = kubeconfig }
    return environment
}
