import JSONValue

/// The fields the typed objects of the common kinds have, for `fieldValidation`: with `Strict`
/// (what kubectl sends) an unknown field is a 400 `strict decoding error`; otherwise it is
/// dropped, as decoding into the Go types drops it. Subtrees this table does not describe are
/// left alone (never refused).
indirect enum FieldSchema: Sendable {
    /// Anything is accepted.
    case open
    /// A struct with these fields.
    case object([String: FieldSchema])
    /// A map with free keys.
    case map
    case list(FieldSchema)
    case scalar

    /// Unknown fields of `value`, as dotted paths (`spec.template.spec.containers[0].imagee`).
    func unknownFields(in value: JSON, path: String = "") -> [String] {
        switch (self, value) {
        case (.object(let fields), .object(let members)):
            var unknown: [String] = []
            for (key, child) in members {
                let childPath = path.isEmpty ? key : "\(path).\(key)"
                guard let schema = fields[key] else {
                    unknown.append(childPath)
                    continue
                }
                unknown += schema.unknownFields(in: child, path: childPath)
            }
            return unknown
        case (.list(let element), .array(let elements)):
            return elements.enumerated().flatMap { index, child in
                element.unknownFields(in: child, path: "\(path)[\(index)]")
            }
        default:
            return []
        }
    }

    /// `value` without its unknown fields.
    func pruning(_ value: JSON) -> JSON {
        switch (self, value) {
        case (.object(let fields), .object(let members)):
            var kept: [String: JSON] = [:]
            for (key, child) in members {
                if let schema = fields[key] { kept[key] = schema.pruning(child) }
            }
            return .object(kept)
        case (.list(let element), .array(let elements)):
            return .array(elements.map(element.pruning))
        default:
            return value
        }
    }
}

enum KnownFields {
    static func fields(_ names: [String], _ nested: [String: FieldSchema] = [:]) -> FieldSchema {
        var all: [String: FieldSchema] = [:]
        for name in names { all[name] = .scalar }
        for (name, schema) in nested { all[name] = schema }
        return .object(all)
    }

    static let objectMeta = fields(
        [
            "name", "generateName", "namespace", "selfLink", "uid", "resourceVersion", "generation",
            "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds",
        ],
        [
            "labels": .map, "annotations": .map, "finalizers": .list(.scalar), "managedFields": .list(.open),
            "ownerReferences": .list(
                fields(["apiVersion", "kind", "name", "uid", "controller", "blockOwnerDeletion"])),
        ])

    static func root(_ names: [String], _ nested: [String: FieldSchema]) -> FieldSchema {
        var all = nested
        all["metadata"] = objectMeta
        return fields(["apiVersion", "kind"] + names, all)
    }

    static let labelSelector = fields(
        [],
        [
            "matchLabels": .map,
            "matchExpressions": .list(fields(["key", "operator"], ["values": .list(.scalar)])),
        ])

    static let container = fields(
        [
            "name", "image", "workingDir", "terminationMessagePath", "terminationMessagePolicy",
            "imagePullPolicy", "stdin",
            "stdinOnce", "tty", "restartPolicy",
        ],
        [
            "command": .list(.scalar), "args": .list(.scalar),
            "ports": .list(fields(["name", "hostPort", "containerPort", "protocol", "hostIP"])),
            "envFrom": .list(.open), "env": .list(fields(["name", "value"], ["valueFrom": .open])),
            "resources": fields([], ["limits": .map, "requests": .map, "claims": .list(.open)]),
            "resizePolicy": .list(.open),
            "volumeMounts": .list(
                fields([
                    "name", "readOnly", "recursiveReadOnly", "mountPath", "subPath", "mountPropagation",
                    "subPathExpr",
                ])),
            "volumeDevices": .list(.open), "livenessProbe": .open, "readinessProbe": .open,
            "startupProbe": .open,
            "lifecycle": .open, "securityContext": .open,
        ])

    static let podSpec = fields(
        [
            "restartPolicy", "terminationGracePeriodSeconds", "activeDeadlineSeconds", "dnsPolicy",
            "serviceAccountName",
            "serviceAccount", "automountServiceAccountToken", "nodeName", "hostNetwork", "hostPID", "hostIPC",
            "shareProcessNamespace", "hostname", "subdomain", "schedulerName", "priorityClassName",
            "priority",
            "runtimeClassName", "enableServiceLinks", "preemptionPolicy", "setHostnameAsFQDN", "hostUsers",
        ],
        [
            "volumes": .list(.open), "initContainers": .list(container), "containers": .list(container),
            "ephemeralContainers": .list(.open), "nodeSelector": .map, "securityContext": .open,
            "imagePullSecrets": .list(fields(["name"])), "affinity": .open, "tolerations": .list(.open),
            "hostAliases": .list(.open), "dnsConfig": .open, "readinessGates": .list(.open), "overhead": .map,
            "topologySpreadConstraints": .list(.open), "os": .open, "schedulingGates": .list(.open),
            "resourceClaims": .list(.open), "resources": .open,
        ])

    static let podTemplate = fields([], ["metadata": objectMeta, "spec": podSpec])

    /// The schema of a kind, or nil when the emulator does not know it well enough to refuse
    /// fields.
    static func schema(for resource: APIResource) -> FieldSchema? {
        switch (resource.group, resource.kind) {
        case ("", "Secret"): return root(["type", "immutable"], ["data": .map, "stringData": .map])
        case ("", "ConfigMap"): return root(["immutable"], ["data": .map, "binaryData": .map])
        case ("", "Namespace"):
            return root([], ["spec": fields([], ["finalizers": .list(.scalar)]), "status": .open])
        case ("", "ServiceAccount"):
            return root(
                ["automountServiceAccountToken"],
                ["secrets": .list(.open), "imagePullSecrets": .list(fields(["name"]))])
        case ("", "Pod"): return root([], ["spec": podSpec, "status": .open])
        case ("", "Event"):
            return root(
                [
                    "reason", "message", "firstTimestamp", "lastTimestamp", "count", "type", "eventTime",
                    "action",
                    "reportingComponent", "reportingInstance",
                ],
                [
                    "involvedObject": fields([
                        "kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath",
                    ]),
                    "source": fields(["component", "host"]), "series": .open, "related": .open,
                ])
        case ("coordination.k8s.io", "Lease"):
            return root(
                [],
                [
                    "spec": fields([
                        "holderIdentity", "leaseDurationSeconds", "acquireTime", "renewTime",
                        "leaseTransitions", "strategy",
                        "preferredHolder",
                    ])
                ])
        case ("apps", "Deployment"):
            return root(
                [],
                [
                    "spec": fields(
                        [
                            "replicas", "minReadySeconds", "revisionHistoryLimit", "paused",
                            "progressDeadlineSeconds",
                        ],
                        [
                            "selector": labelSelector, "template": podTemplate,
                            "strategy": fields(
                                ["type"], ["rollingUpdate": fields(["maxUnavailable", "maxSurge"])]),
                        ]),
                    "status": .open,
                ])
        case ("apps", "ReplicaSet"):
            return root(
                [],
                [
                    "spec": fields(
                        ["replicas", "minReadySeconds"], ["selector": labelSelector, "template": podTemplate]),
                    "status": .open,
                ])
        case ("rbac.authorization.k8s.io", "Role"), ("rbac.authorization.k8s.io", "ClusterRole"):
            let rule = fields(
                [],
                [
                    "verbs": .list(.scalar), "apiGroups": .list(.scalar), "resources": .list(.scalar),
                    "resourceNames": .list(.scalar), "nonResourceURLs": .list(.scalar),
                ])
            return root([], ["rules": .list(rule), "aggregationRule": .open])
        case ("rbac.authorization.k8s.io", "RoleBinding"),
            ("rbac.authorization.k8s.io", "ClusterRoleBinding"):
            return root(
                [],
                [
                    "subjects": .list(fields(["kind", "apiGroup", "name", "namespace"])),
                    "roleRef": fields(["apiGroup", "kind", "name"]),
                ])
        default:
            return nil
        }
    }
}
