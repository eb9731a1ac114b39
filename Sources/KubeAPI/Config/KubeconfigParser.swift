import JSONValue
import YAML

/// Turns the text of one kubeconfig file into a `Kubeconfig`, resolving relative paths
/// against the file's folder. Errors name the file and the entry, never a value.
enum KubeconfigParser {
    static func parse(_ text: String, file: String) throws(KubeError) -> Kubeconfig {
        let document: JSON
        do {
            document = try YAMLReader.read(text)
        } catch {
            let location = error.location.isEmpty ? "" : " at \(error.location)"
            throw KubeError(
                .configuration, "\(file) is not valid YAML\(location): \(error.problem)")
        }
        var config = Kubeconfig()
        config.files = [file]
        if document.isNull { return config }
        guard document.objectValue != nil else {
            throw KubeError(
                .configuration,
                "\(file) is not a kubeconfig: expected a mapping with clusters, users and contexts")
        }
        let folder = Path.folder(of: file)
        let reader = Reader(file: file, folder: folder)

        config.currentContext = try reader.string(document["current-context"], "current-context")
        for (name, body) in try reader.namedList(
            document["clusters"], listKey: "clusters", itemKey: "cluster")
        where config.clusters[name] == nil {
            config.clusters[name] = try reader.cluster(body, name: name)
        }
        for (name, body) in try reader.namedList(document["users"], listKey: "users", itemKey: "user")
        where config.users[name] == nil {
            config.users[name] = try reader.user(body, name: name)
        }
        for (name, body) in try reader.namedList(
            document["contexts"], listKey: "contexts", itemKey: "context")
        where config.contexts[name] == nil {
            var context = Kubeconfig.Context(origin: file)
            context.cluster = try reader.string(body["cluster"], "contexts[\"\(name)\"].cluster")
            context.user = try reader.string(body["user"], "contexts[\"\(name)\"].user")
            context.namespace = try reader.string(body["namespace"], "contexts[\"\(name)\"].namespace")
            config.contexts[name] = context
        }
        return config
    }

    struct Reader {
        var file: String
        var folder: String

        func fail(_ what: String) -> KubeError { KubeError(.configuration, "\(file): \(what)") }

        func namedList(_ value: JSON?, listKey: String, itemKey: String) throws(KubeError) -> [(String, JSON)]
        {
            guard let value, !value.isNull else { return [] }
            guard let items = value.arrayValue else { throw fail("\(listKey) must be a list") }
            var result: [(String, JSON)] = []
            for (index, item) in items.enumerated() {
                guard let name = try string(item["name"], "\(listKey)[\(index)].name") else {
                    throw fail("\(listKey)[\(index)] has no name")
                }
                let body = item[itemKey] ?? .object([:])
                guard body.isNull || body.objectValue != nil else {
                    throw fail("\(listKey)[\"\(name)\"].\(itemKey) must be a mapping")
                }
                result.append((name, body.isNull ? .object([:]) : body))
            }
            return result
        }

        func string(_ value: JSON?, _ field: String) throws(KubeError) -> String? {
            guard let value, !value.isNull else { return nil }
            guard let text = value.stringValue else {
                // kubectl refuses these too. The value itself is not shown: it may be a token.
                switch value {
                case .bool, .int, .double:
                    throw fail(
                        "\(field) must be a string, but YAML reads it as a \(value.boolValue != nil ? "boolean" : "number"): put it in quotes"
                    )
                default: throw fail("\(field) must be a string")
                }
            }
            return text.isEmpty ? nil : text
        }

        func bool(_ value: JSON?, _ field: String) throws(KubeError) -> Bool {
            guard let value, !value.isNull else { return false }
            if let flag = value.boolValue { return flag }
            // Quoted words are accepted too, though kubectl refuses them.
            switch value.stringValue?.lowercased() {
            case "true", "yes", "on": return true
            case "false", "no", "off", "": return false
            default: throw fail("\(field) must be true or false")
            }
        }

        func base64(_ value: JSON?, _ field: String) throws(KubeError) -> [UInt8]? {
            guard let text = try string(value, field) else { return nil }
            let compact = text.filter { !$0.isWhitespace }
            guard let bytes = Base64.decode(compact, canonical: false) else {
                throw fail("\(field) is not valid base64")
            }
            return bytes
        }

        /// A path from the file, made absolute against the file's folder (as kubectl does).
        func path(_ value: JSON?, _ field: String) throws(KubeError) -> String? {
            guard let text = try string(value, field) else { return nil }
            let expanded = Path.expandingTilde(text)
            if expanded.hasPrefix("/") { return expanded }
            return Path.join(folder, expanded)
        }

        func cluster(_ body: JSON, name: String) throws(KubeError) -> Kubeconfig.Cluster {
            let prefix = "clusters[\"\(name)\"].cluster"
            var cluster = Kubeconfig.Cluster(origin: file)
            cluster.server = try string(body["server"], "\(prefix).server")
            cluster.certificateAuthority = try path(
                body["certificate-authority"], "\(prefix).certificate-authority")
            cluster.certificateAuthorityData = try base64(
                body["certificate-authority-data"], "\(prefix).certificate-authority-data")
            cluster.insecureSkipTLSVerify = try bool(
                body["insecure-skip-tls-verify"], "\(prefix).insecure-skip-tls-verify")
            cluster.tlsServerName = try string(body["tls-server-name"], "\(prefix).tls-server-name")
            cluster.proxyURL = try string(body["proxy-url"], "\(prefix).proxy-url")
            return cluster
        }

        func user(_ body: JSON, name: String) throws(KubeError) -> Kubeconfig.User {
            let prefix = "users[\"\(name)\"].user"
            var user = Kubeconfig.User(origin: file)
            user.token = try string(body["token"], "\(prefix).token").map { Sensitive($0) }
            user.tokenFile = try path(body["tokenFile"], "\(prefix).tokenFile")
            user.clientCertificate = try path(body["client-certificate"], "\(prefix).client-certificate")
            user.clientCertificateData = try base64(
                body["client-certificate-data"], "\(prefix).client-certificate-data")
            user.clientKey = try path(body["client-key"], "\(prefix).client-key")
            user.clientKeyData = try base64(body["client-key-data"], "\(prefix).client-key-data").map {
                Sensitive($0)
            }
            user.username = try string(body["username"], "\(prefix).username")
            user.password = try string(body["password"], "\(prefix).password").map { Sensitive($0) }
            if let provider = body["auth-provider"], !provider.isNull {
                user.authProvider = provider["name"]?.stringValue ?? "unnamed"
            }
            if let exec = body["exec"], !exec.isNull {
                user.exec = try self.exec(exec, prefix: "\(prefix).exec")
            }
            return user
        }

        func exec(_ body: JSON, prefix: String) throws(KubeError) -> ExecPluginConfiguration {
            guard let apiVersion = try string(body["apiVersion"], "\(prefix).apiVersion") else {
                throw fail("\(prefix).apiVersion is missing (use client.authentication.k8s.io/v1)")
            }
            guard ExecPluginConfiguration.supportedVersions.contains(apiVersion) else {
                throw fail(
                    "\(prefix).apiVersion \"\(apiVersion)\" is not supported (use client.authentication.k8s.io/v1 or v1beta1)"
                )
            }
            guard var command = try string(body["command"], "\(prefix).command") else {
                throw fail("\(prefix).command is missing")
            }
            // A command with a slash is a path: relative ones are relative to the kubeconfig.
            if command.contains("/") && !command.hasPrefix("/") {
                command = Path.join(folder, command)
            }
            var args: [String] = []
            if let list = body["args"], !list.isNull {
                guard let items = list.arrayValue else { throw fail("\(prefix).args must be a list") }
                for (index, item) in items.enumerated() {
                    guard let text = item.stringValue else {
                        throw fail("\(prefix).args[\(index)] must be a string")
                    }
                    args.append(text)
                }
            }
            var env: [(name: String, value: String)] = []
            if let list = body["env"], !list.isNull {
                guard let items = list.arrayValue else { throw fail("\(prefix).env must be a list") }
                for (index, item) in items.enumerated() {
                    guard let name = try string(item["name"], "\(prefix).env[\(index)].name") else {
                        throw fail("\(prefix).env[\(index)] has no name")
                    }
                    env.append((name, try string(item["value"], "\(prefix).env[\(index)].value") ?? ""))
                }
            }
            let mode: ExecPluginConfiguration.InteractiveMode
            if let text = try string(body["interactiveMode"], "\(prefix).interactiveMode") {
                guard let parsed = ExecPluginConfiguration.InteractiveMode(rawValue: text) else {
                    throw fail(
                        "\(prefix).interactiveMode must be Never, IfAvailable or Always, not \"\(text)\"")
                }
                mode = parsed
            } else if apiVersion == "client.authentication.k8s.io/v1" {
                throw fail(
                    "\(prefix).interactiveMode is required with apiVersion client.authentication.k8s.io/v1 (Never, IfAvailable or Always)"
                )
            } else {
                mode = .ifAvailable
            }
            return ExecPluginConfiguration(
                apiVersion: apiVersion, command: command, args: args, env: env,
                installHint: try string(body["installHint"], "\(prefix).installHint"),
                provideClusterInfo: try bool(body["provideClusterInfo"], "\(prefix).provideClusterInfo"),
                interactiveMode: mode)
        }
    }
}
