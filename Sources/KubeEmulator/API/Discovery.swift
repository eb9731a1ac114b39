import JSONValue

/// Discovery documents: `/version`, `/api`, `/apis`, `/api/v1`, `/apis/<group>/<version>`, in the
/// legacy form and, when the client asks for it, the aggregated form (`apidiscovery.k8s.io/v2`)
/// that client-go prefers.
struct Discovery: Sendable {
    let catalog: ResourceCatalog

    static let aggregatedContentType = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"

    static let version: JSON = [
        "major": "1", "minor": "32", "gitVersion": "v1.32.0",
        "gitCommit": "70d3cc986aa8221cd1dfb1121852688902d3bf53", "gitTreeState": "clean",
        "buildDate": "2024-12-11T17:59:15Z", "goVersion": "go1.23.3", "compiler": "gc",
        "platform": "linux/amd64",
    ]

    /// Whether the `Accept` header asks for aggregated discovery (v2).
    static func wantsAggregated(_ accept: String?) -> Bool {
        guard let accept else { return false }
        return accept.split(separator: ",").contains { entry in
            let parameters = entry.split(separator: ";").map { $0.trimmingSpacesSubstring }
            return parameters.contains("as=APIGroupDiscoveryList") && parameters.contains("v=v2")
                && parameters.contains("g=apidiscovery.k8s.io")
        }
    }

    func coreVersions(serverAddress: String) -> JSON {
        [
            "kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [
                ["clientCIDR": "0.0.0.0/0", "serverAddress": .string(serverAddress)]
            ],
        ]
    }

    var groupList: JSON {
        let groups: [JSON] = catalog.groupOrder.map { group in
            let versions = catalog.versions(of: group)
            let entries: [JSON] = versions.map {
                ["groupVersion": .string("\(group)/\($0)"), "version": .string($0)]
            }
            return ["name": .string(group), "versions": .array(entries), "preferredVersion": entries[0]]
        }
        return ["kind": "APIGroupList", "apiVersion": "v1", "groups": .array(groups)]
    }

    func resourceList(group: String, version: String) -> JSON? {
        let resources = catalog.resources(group: group, version: version)
        guard !resources.isEmpty else { return nil }
        let entries = resources.flatMap(\.discoveryEntries).sorted {
            ($0["name"]?.stringValue ?? "") < ($1["name"]?.stringValue ?? "")
        }
        return [
            "kind": "APIResourceList", "apiVersion": "v1",
            "groupVersion": .string(group.isEmpty ? version : "\(group)/\(version)"),
            "resources": .array(entries),
        ]
    }

    /// `APIGroupDiscoveryList` for `/api` (core) or `/apis` (every named group).
    func aggregated(core: Bool) -> JSON {
        let groups = core ? [""] : catalog.groupOrder
        let items: [JSON] = groups.map { group in
            let versions: [JSON] = catalog.versions(of: group).map { version in
                [
                    "version": .string(version),
                    "resources": .array(
                        catalog.resources(group: group, version: version).map(aggregatedResource)),
                    "freshness": "Current",
                ]
            }
            var metadata: JSON = ["creationTimestamp": .null]
            if !group.isEmpty { metadata["name"] = .string(group) }
            return ["metadata": metadata, "versions": .array(versions)]
        }
        return [
            "kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "metadata": [:],
            "items": .array(items),
        ]
    }

    private func aggregatedResource(_ resource: APIResource) -> JSON {
        var entry: JSON = [
            "resource": .string(resource.name),
            "responseKind": [
                "group": .string(resource.group), "version": .string(resource.version),
                "kind": .string(resource.kind),
            ],
            "scope": resource.namespaced ? "Namespaced" : "Cluster",
            "singularResource": .string(resource.singularName),
            "verbs": .array(resource.verbs.map { .string($0) }),
        ]
        if !resource.shortNames.isEmpty {
            entry["shortNames"] = .array(resource.shortNames.map { .string($0) })
        }
        if !resource.categories.isEmpty {
            entry["categories"] = .array(resource.categories.map { .string($0) })
        }
        let subresources: [JSON] = resource.discoveryEntries.dropFirst().map { sub in
            let name = (sub["name"]?.stringValue ?? "").split(separator: "/").last.map(String.init) ?? ""
            return [
                "subresource": .string(name),
                "responseKind": [
                    "group": sub["group"] ?? .string(resource.group),
                    "version": sub["version"] ?? .string(resource.version),
                    "kind": sub["kind"] ?? "",
                ],
                "verbs": sub["verbs"] ?? [],
            ]
        }
        if !subresources.isEmpty { entry["subresources"] = .array(subresources) }
        return entry
    }
}

extension Substring {
    var trimmingSpacesSubstring: Substring {
        var text = self
        while let first = text.first, first == " " { text = text.dropFirst() }
        while let last = text.last, last == " " { text = text.dropLast() }
        return text
    }
}
