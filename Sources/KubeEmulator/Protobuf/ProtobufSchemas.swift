/// The protobuf field tables of the kinds `kubectl create <kind>` sends as protobuf, from the
/// `generated.proto` files of k8s.io/api and k8s.io/apimachinery.
indirect enum ProtoType: Sendable {
    case string
    /// `bytes`, written to JSON as base64 (Secret data, ConfigMap binaryData).
    case bytes
    case bool
    case int
    case message(ProtoMessage)
    case map(ProtoType)
    /// `meta/v1.Time`: RFC 3339, `null` for the zero time.
    case time
    /// `resource.Quantity`: its canonical string.
    case quantity
    /// `intstr.IntOrString`.
    case intOrString
}

/// One field: its JSON name, type, whether it repeats, whether a zero value is kept in JSON
/// (pointer fields in the Go types), and whether its members are inlined into the parent
/// (embedded structs such as `LocalObjectReference`).
struct ProtoField: Sendable {
    var name: String
    var type: ProtoType
    var repeated = false
    var keepZero = false
    var inline = false
}

/// A message's fields by number.
struct ProtoMessage: Sendable {
    var fields: [Int: ProtoField]
}

enum ProtobufSchemas {
    static func field(_ name: String, _ type: ProtoType, repeated: Bool = false, keepZero: Bool = false)
        -> ProtoField
    {
        ProtoField(name: name, type: type, repeated: repeated, keepZero: keepZero)
    }

    static let ownerReference = ProtoMessage(fields: [
        1: field("kind", .string), 3: field("name", .string), 4: field("uid", .string),
        5: field("apiVersion", .string),
        6: field("controller", .bool, keepZero: true), 7: field("blockOwnerDeletion", .bool, keepZero: true),
    ])

    static let objectMeta = ProtoMessage(fields: [
        1: field("name", .string), 2: field("generateName", .string), 3: field("namespace", .string),
        4: field("selfLink", .string), 5: field("uid", .string), 6: field("resourceVersion", .string),
        7: field("generation", .int), 8: field("creationTimestamp", .time),
        9: field("deletionTimestamp", .time),
        10: field("deletionGracePeriodSeconds", .int, keepZero: true), 11: field("labels", .map(.string)),
        12: field("annotations", .map(.string)),
        13: field("ownerReferences", .message(ownerReference), repeated: true),
        14: field("finalizers", .string, repeated: true),
    ])

    static let localObjectReference = ProtoMessage(fields: [1: field("name", .string)])

    static let objectReference = ProtoMessage(fields: [
        1: field("kind", .string), 2: field("namespace", .string), 3: field("name", .string),
        4: field("uid", .string),
        5: field("apiVersion", .string), 6: field("resourceVersion", .string), 7: field("fieldPath", .string),
    ])

    static let labelSelector = ProtoMessage(fields: [
        1: field("matchLabels", .map(.string)),
        2: field(
            "matchExpressions",
            .message(
                ProtoMessage(fields: [
                    1: field("key", .string), 2: field("operator", .string),
                    3: field("values", .string, repeated: true),
                ])), repeated: true),
    ])

    static func keySelector() -> ProtoMessage {
        ProtoMessage(fields: [
            1: ProtoField(name: "localObjectReference", type: .message(localObjectReference), inline: true),
            2: field("key", .string), 3: field("optional", .bool, keepZero: true),
        ])
    }

    static let envVar = ProtoMessage(fields: [
        1: field("name", .string), 2: field("value", .string),
        3: field(
            "valueFrom",
            .message(
                ProtoMessage(fields: [
                    1: field(
                        "fieldRef",
                        .message(
                            ProtoMessage(fields: [
                                1: field("apiVersion", .string), 2: field("fieldPath", .string),
                            ]))),
                    3: field("configMapKeyRef", .message(keySelector())),
                    4: field("secretKeyRef", .message(keySelector())),
                ]))),
    ])

    static let container = ProtoMessage(fields: [
        1: field("name", .string), 2: field("image", .string), 3: field("command", .string, repeated: true),
        4: field("args", .string, repeated: true), 5: field("workingDir", .string),
        6: field(
            "ports",
            .message(
                ProtoMessage(fields: [
                    1: field("name", .string), 2: field("hostPort", .int),
                    3: field("containerPort", .int, keepZero: true),
                    4: field("protocol", .string), 5: field("hostIP", .string),
                ])), repeated: true),
        7: field("env", .message(envVar), repeated: true),
        8: field(
            "resources",
            .message(
                ProtoMessage(fields: [
                    1: field("limits", .map(.quantity)), 2: field("requests", .map(.quantity)),
                ]))),
        9: field(
            "volumeMounts",
            .message(
                ProtoMessage(fields: [
                    1: field("name", .string), 2: field("readOnly", .bool), 3: field("mountPath", .string),
                    4: field("subPath", .string),
                ])), repeated: true),
        13: field("terminationMessagePath", .string), 14: field("imagePullPolicy", .string),
        16: field("stdin", .bool), 17: field("stdinOnce", .bool), 18: field("tty", .bool),
        20: field("terminationMessagePolicy", .string),
    ])

    static let podSpec = ProtoMessage(fields: [
        2: field("containers", .message(container), repeated: true), 3: field("restartPolicy", .string),
        4: field("terminationGracePeriodSeconds", .int, keepZero: true),
        5: field("activeDeadlineSeconds", .int, keepZero: true), 6: field("dnsPolicy", .string),
        7: field("nodeSelector", .map(.string)), 8: field("serviceAccountName", .string),
        9: field("serviceAccount", .string), 10: field("nodeName", .string), 11: field("hostNetwork", .bool),
        15: field("imagePullSecrets", .message(localObjectReference), repeated: true),
        16: field("hostname", .string),
        17: field("subdomain", .string), 19: field("schedulerName", .string),
        20: field("initContainers", .message(container), repeated: true),
        21: field("automountServiceAccountToken", .bool, keepZero: true),
        24: field("priorityClassName", .string),
    ])

    static let podTemplateSpec = ProtoMessage(fields: [
        1: field("metadata", .message(objectMeta)), 2: field("spec", .message(podSpec)),
    ])

    static let deployment = ProtoMessage(fields: [
        1: field("metadata", .message(objectMeta)),
        2: field(
            "spec",
            .message(
                ProtoMessage(fields: [
                    1: field("replicas", .int, keepZero: true), 2: field("selector", .message(labelSelector)),
                    3: field("template", .message(podTemplateSpec)),
                    4: field(
                        "strategy",
                        .message(
                            ProtoMessage(fields: [
                                1: field("type", .string),
                                2: field(
                                    "rollingUpdate",
                                    .message(
                                        ProtoMessage(fields: [
                                            1: field("maxUnavailable", .intOrString),
                                            2: field("maxSurge", .intOrString),
                                        ]))),
                            ]))),
                    5: field("minReadySeconds", .int), 6: field("revisionHistoryLimit", .int, keepZero: true),
                    7: field("paused", .bool), 9: field("progressDeadlineSeconds", .int, keepZero: true),
                ]))),
        3: field("status", .message(ProtoMessage(fields: [:]))),
    ])

    static let secret = ProtoMessage(fields: [
        1: field("metadata", .message(objectMeta)), 2: field("data", .map(.bytes)), 3: field("type", .string),
        4: field("stringData", .map(.string)), 5: field("immutable", .bool, keepZero: true),
    ])

    static let configMap = ProtoMessage(fields: [
        1: field("metadata", .message(objectMeta)), 2: field("data", .map(.string)),
        3: field("binaryData", .map(.bytes)), 4: field("immutable", .bool, keepZero: true),
    ])

    static let namespace = ProtoMessage(fields: [
        1: field("metadata", .message(objectMeta)),
        2: field("spec", .message(ProtoMessage(fields: [1: field("finalizers", .string, repeated: true)]))),
        3: field("status", .message(ProtoMessage(fields: [1: field("phase", .string)]))),
    ])

    static let serviceAccount = ProtoMessage(fields: [
        1: field("metadata", .message(objectMeta)),
        2: field("secrets", .message(objectReference), repeated: true),
        3: field("imagePullSecrets", .message(localObjectReference), repeated: true),
        4: field("automountServiceAccountToken", .bool, keepZero: true),
    ])

    static let service = ProtoMessage(fields: [
        1: field("metadata", .message(objectMeta)),
        2: field(
            "spec",
            .message(
                ProtoMessage(fields: [
                    1: field(
                        "ports",
                        .message(
                            ProtoMessage(fields: [
                                1: field("name", .string), 2: field("protocol", .string),
                                3: field("port", .int, keepZero: true),
                                4: field("targetPort", .intOrString), 5: field("nodePort", .int),
                                6: field("appProtocol", .string),
                            ])), repeated: true),
                    2: field("selector", .map(.string)), 3: field("clusterIP", .string),
                    4: field("type", .string),
                    5: field("externalIPs", .string, repeated: true), 7: field("sessionAffinity", .string),
                    10: field("externalName", .string), 18: field("clusterIPs", .string, repeated: true),
                ]))),
        3: field("status", .message(ProtoMessage(fields: [:]))),
    ])

    static let policyRule = ProtoMessage(fields: [
        1: field("verbs", .string, repeated: true), 2: field("apiGroups", .string, repeated: true),
        3: field("resources", .string, repeated: true), 4: field("resourceNames", .string, repeated: true),
        5: field("nonResourceURLs", .string, repeated: true),
    ])

    static let role = ProtoMessage(fields: [
        1: field("metadata", .message(objectMeta)), 2: field("rules", .message(policyRule), repeated: true),
    ])

    static let roleBinding = ProtoMessage(fields: [
        1: field("metadata", .message(objectMeta)),
        2: field(
            "subjects",
            .message(
                ProtoMessage(fields: [
                    1: field("kind", .string), 2: field("apiGroup", .string), 3: field("name", .string),
                    4: field("namespace", .string),
                ])), repeated: true),
        3: field(
            "roleRef",
            .message(
                ProtoMessage(fields: [
                    1: field("apiGroup", .string), 2: field("kind", .string), 3: field("name", .string),
                ]))),
    ])

    static let tokenRequest = ProtoMessage(fields: [
        1: field("metadata", .message(objectMeta)),
        2: field(
            "spec",
            .message(
                ProtoMessage(fields: [
                    1: field("audiences", .string, repeated: true),
                    4: field("expirationSeconds", .int, keepZero: true),
                    3: field(
                        "boundObjectRef",
                        .message(
                            ProtoMessage(fields: [
                                1: field("kind", .string), 2: field("apiVersion", .string),
                                3: field("name", .string),
                                4: field("uid", .string),
                            ]))),
                ]))),
    ])

    static let selfSubjectAccessReview = ProtoMessage(fields: [
        1: field("metadata", .message(objectMeta)),
        2: field(
            "spec",
            .message(
                ProtoMessage(fields: [
                    1: field(
                        "resourceAttributes",
                        .message(
                            ProtoMessage(fields: [
                                1: field("namespace", .string), 2: field("verb", .string),
                                3: field("group", .string),
                                4: field("version", .string), 5: field("resource", .string),
                                6: field("subresource", .string), 7: field("name", .string),
                            ]))),
                    2: field(
                        "nonResourceAttributes",
                        .message(
                            ProtoMessage(fields: [1: field("path", .string), 2: field("verb", .string)]))),
                ]))),
    ])

    static let selfSubjectReview = ProtoMessage(fields: [1: field("metadata", .message(objectMeta))])

    static let selfSubjectRulesReview = ProtoMessage(fields: [
        1: field("metadata", .message(objectMeta)),
        2: field("spec", .message(ProtoMessage(fields: [1: field("namespace", .string)]))),
    ])

    /// `meta/v1.DeleteOptions`, which client-go's typed clients send with a delete (Helm, when it
    /// removes its release Secrets). Every group version serves it.
    static let deleteOptions = ProtoMessage(fields: [
        1: field("gracePeriodSeconds", .int, keepZero: true),
        2: field(
            "preconditions",
            .message(ProtoMessage(fields: [1: field("uid", .string), 2: field("resourceVersion", .string)]))),
        3: field("orphanDependents", .bool, keepZero: true), 4: field("propagationPolicy", .string),
        5: field("dryRun", .string, repeated: true),
        6: field("ignoreStoreReadErrorWithClusterBreakingPotential", .bool, keepZero: true),
    ])

    /// The table for a kind, by `apiVersion` and `kind`.
    static func message(apiVersion: String, kind: String) -> ProtoMessage? {
        switch (apiVersion, kind) {
        case ("v1", "Secret"): secret
        case ("v1", "ConfigMap"): configMap
        case ("v1", "Namespace"): namespace
        case ("v1", "ServiceAccount"): serviceAccount
        case ("v1", "Service"): service
        case ("apps/v1", "Deployment"): deployment
        case ("rbac.authorization.k8s.io/v1", "Role"), ("rbac.authorization.k8s.io/v1", "ClusterRole"): role
        case ("rbac.authorization.k8s.io/v1", "RoleBinding"),
            ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"):
            roleBinding
        case ("authentication.k8s.io/v1", "TokenRequest"): tokenRequest
        case ("authentication.k8s.io/v1", "SelfSubjectReview"): selfSubjectReview
        case ("authorization.k8s.io/v1", "SelfSubjectAccessReview"): selfSubjectAccessReview
        case ("authorization.k8s.io/v1", "SelfSubjectRulesReview"): selfSubjectRulesReview
        case (_, "DeleteOptions"): deleteOptions
        default: nil
        }
    }
}
