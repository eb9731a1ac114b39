import JSONValue
import Synchronization

/// The OpenAPI v3 documents kubectl reads before `apply`, `create -f`, `replace -f` and
/// `explain`: `/openapi/v3` (an index of group-versions) and `/openapi/v3/<group-version>` (the
/// paths with their operations, `x-kubernetes-group-version-kind`, the query parameters each
/// accepts, and the schemas of the kinds with everything they refer to).
///
/// kubectl looks for the PATCH operation of a kind and its `fieldValidation` parameter: when
/// present, it lets the server validate (`fieldValidation=Strict`) instead of downloading
/// `/openapi/v2`. `kubectl explain` reads the schemas, with their descriptions; `kubectl apply`
/// computes strategic merge patches from their `x-kubernetes-patch-*` extensions. The schemas
/// are the API's published definitions (`OpenAPISchemas`), converted from their JSON schema form
/// back to OpenAPI's; without them each kind gets an empty placeholder. `/openapi/v2` is not
/// served (404).
struct OpenAPIDocuments: Sendable {
    let catalog: ResourceCatalog
    let schemas: OpenAPISchemas?
    private let cache = DocumentCache()

    init(catalog: ResourceCatalog, schemas: OpenAPISchemas?) {
        self.catalog = catalog
        self.schemas = schemas
    }

    /// Documents are made on first request and kept: they never change.
    final class DocumentCache: Sendable {
        let documents = Mutex<[String: JSON]>([:])
    }

    /// Group-version paths as the index names them (`api/v1`, `apis/apps/v1`).
    var groupVersionPaths: [String] {
        var paths: [String] = []
        for resource in catalog.resources where !paths.contains(Self.groupVersionPath(resource)) {
            paths.append(Self.groupVersionPath(resource))
        }
        return paths
    }

    static func groupVersionPath(_ resource: APIResource) -> String {
        resource.group.isEmpty ? "api/\(resource.version)" : "apis/\(resource.group)/\(resource.version)"
    }

    var v3Index: JSON {
        var paths: [String: JSON] = [:]
        for path in groupVersionPaths {
            paths[path] = [
                "serverRelativeURL": .string("/openapi/v3/\(path)?hash=\(OpenAPIDocuments.hash(path))")
            ]
        }
        return ["paths": .object(paths)]
    }

    /// A stable content hash for the index's URLs (clients cache by it).
    static func hash(_ path: String) -> String {
        var value: UInt64 = 1_469_598_103_934_665_603
        for byte in (path + "/kube-emulator/2/" + OpenAPISchemas.kubernetesVersion).utf8 {
            value ^= UInt64(byte)
            value = value &* 1_099_511_628_211
        }
        return String(value, radix: 16, uppercase: true)
    }

    func v3Document(path: String) -> JSON? {
        if let cached = cache.documents.withLock({ $0[path] }) { return cached }
        guard let document = makeDocument(path: path) else { return nil }
        cache.documents.withLock { $0[path] = document }
        return document
    }

    private func makeDocument(path: String) -> JSON? {
        let resources = catalog.resources.filter { Self.groupVersionPath($0) == path }
        guard !resources.isEmpty else { return nil }
        var paths: [String: JSON] = [:]
        var schemas: [String: JSON] = [
            "io.k8s.apimachinery.pkg.apis.meta.v1.Patch": [
                "type": "object",
                "description":
                    "Patch is provided to give a concrete name and type to the Kubernetes PATCH request body.",
            ],
            "io.k8s.apimachinery.pkg.apis.meta.v1.Status": [
                "type": "object",
                "description": "Status is a return value for calls that don't return other objects.",
            ],
        ]
        var published: [String] = []
        for resource in resources where resource.isStored {
            let schemaName: String
            if let name = self.schemas?.definitionName(
                group: resource.group, version: resource.version, kind: resource.kind)
            {
                schemaName = name
                published.append(name)
            } else {
                schemaName = Self.schemaName(resource)
                schemas[schemaName] = [
                    "type": "object",
                    "description": .string("\(resource.kind) as served by the emulator."),
                    "x-kubernetes-group-version-kind": [Self.gvk(resource)],
                    "properties": [
                        "apiVersion": ["type": "string"], "kind": ["type": "string"],
                        "metadata": ["type": "object"],
                    ],
                ]
            }
            let base = "/" + path + (resource.namespaced ? "/namespaces/{namespace}/" : "/") + resource.name
            paths[base] = collectionPath(resource, schemaName: schemaName)
            paths[base + "/{name}"] = itemPath(resource, schemaName: schemaName, subresource: nil)
            for subresource in resource.subresources where subresource == "status" || subresource == "scale" {
                paths[base + "/{name}/" + subresource] = itemPath(
                    resource, schemaName: schemaName, subresource: subresource)
            }
        }
        if let source = self.schemas {
            for (name, schema) in OpenAPISchemaConversion.reachable(from: published, in: source) {
                schemas[name] = schema
            }
        }
        return [
            "openapi": "3.0.0",
            "info": ["title": "Kubernetes", "version": .string(OpenAPISchemas.kubernetesVersion)],
            "paths": .object(paths),
            "components": ["schemas": .object(schemas)],
        ]
    }

    static func schemaName(_ resource: APIResource) -> String {
        let group: String
        switch resource.group {
        case "": group = "core"
        default: group = resource.group.split(separator: ".").first.map(String.init) ?? resource.group
        }
        return "io.k8s.api.\(group).\(resource.version).\(resource.kind)"
    }

    static func gvk(_ resource: APIResource) -> JSON {
        [
            "group": .string(resource.group), "version": .string(resource.version),
            "kind": .string(resource.kind),
        ]
    }

    private func parameter(_ name: String, _ location: String = "query") -> JSON {
        ["name": .string(name), "in": .string(location), "schema": ["type": "string", "uniqueItems": true]]
    }

    private func operation(
        _ resource: APIResource, action: String, schemaName: String, parameters: [String], body: [String]
    )
        -> JSON
    {
        var operation: JSON = [
            "operationId": .string("\(action)\(resource.kind)"),
            "x-kubernetes-action": .string(action),
            "x-kubernetes-group-version-kind": Self.gvk(resource),
            "parameters": .array(parameters.map { parameter($0) }),
            "responses": [
                "200": [
                    "description": "OK",
                    "content": [
                        "application/json": [
                            "schema": ["$ref": .string("#/components/schemas/\(schemaName)")]
                        ]
                    ],
                ],
                "401": ["description": "Unauthorized"],
            ],
        ]
        if !body.isEmpty {
            var content: [String: JSON] = [:]
            for type in body {
                let ref = type.contains("patch") ? "io.k8s.apimachinery.pkg.apis.meta.v1.Patch" : schemaName
                content[type] = ["schema": ["$ref": .string("#/components/schemas/\(ref)")]]
            }
            operation["requestBody"] = ["content": .object(content), "required": true]
        }
        return operation
    }

    private func itemPath(_ resource: APIResource, schemaName: String, subresource: String?) -> JSON {
        var path: JSON = [
            "parameters": .array(
                [
                    [
                        "name": "name", "in": "path", "required": true,
                        "schema": ["type": "string", "uniqueItems": true],
                    ]
                ] as [JSON]
                    + (resource.namespaced
                        ? [
                            [
                                "name": "namespace", "in": "path", "required": true,
                                "schema": ["type": "string", "uniqueItems": true],
                            ]
                        ]
                        : [])),
            "get": operation(
                resource, action: "get", schemaName: schemaName, parameters: ["pretty"], body: []),
            "put": operation(
                resource, action: "put", schemaName: schemaName,
                parameters: ["dryRun", "fieldManager", "fieldValidation", "pretty"],
                body: ["application/json", "application/yaml"]),
            "patch": operation(
                resource, action: "patch", schemaName: schemaName,
                parameters: ["dryRun", "fieldManager", "fieldValidation", "force", "pretty"],
                body: [
                    "application/json-patch+json", "application/merge-patch+json",
                    "application/apply-patch+yaml",
                ]),
        ]
        if subresource == nil {
            path["delete"] = operation(
                resource, action: "delete", schemaName: schemaName,
                parameters: ["dryRun", "gracePeriodSeconds", "propagationPolicy", "pretty"], body: [])
        }
        return path
    }

    private func collectionPath(_ resource: APIResource, schemaName: String) -> JSON {
        var path: JSON = [
            "get": operation(
                resource, action: "list", schemaName: schemaName,
                parameters: [
                    "allowWatchBookmarks", "continue", "fieldSelector", "labelSelector", "limit",
                    "resourceVersion",
                    "resourceVersionMatch", "sendInitialEvents", "timeoutSeconds", "watch", "pretty",
                ], body: []),
            "post": operation(
                resource, action: "post", schemaName: schemaName,
                parameters: ["dryRun", "fieldManager", "fieldValidation", "pretty"],
                body: ["application/json", "application/yaml"]),
        ]
        if resource.namespaced {
            path["parameters"] = [
                [
                    "name": "namespace", "in": "path", "required": true,
                    "schema": ["type": "string", "uniqueItems": true],
                ]
            ]
        }
        if resource.verbs.contains("deletecollection") {
            path["delete"] = operation(
                resource, action: "deletecollection", schemaName: schemaName,
                parameters: ["dryRun", "fieldSelector", "labelSelector", "propagationPolicy"], body: [])
        }
        return path
    }

    func v2Response(accept: String?) -> HTTPResponse {
        .error(.notFoundPath())
    }
}
