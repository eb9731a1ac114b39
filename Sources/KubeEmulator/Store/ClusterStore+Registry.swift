import Foundation
import JSONValue

/// Options common to writes (`dryRun`, `fieldManager`).
struct WriteOptions: Sendable {
    var dryRun = false
    var fieldManager: String?
    var userAgent: String?
    /// `Strict` refuses unknown fields, `Warn` drops them with a warning, `Ignore` drops them;
    /// nil: the emulator's default.
    var fieldValidation: FieldValidation?
    /// Where `Warn` puts its warnings (the response's `Warning` headers).
    var warnings = Warnings()
    /// The subresource ownership is recorded under when it differs from the one written
    /// (`scale` writes the main resource).
    var recordedSubresource: String?

    /// The manager a write is recorded under: `fieldManager`, else the User-Agent's product
    /// name (as the real server derives it), else "unknown".
    var manager: String {
        if let fieldManager, !fieldManager.isEmpty { return fieldManager }
        if let userAgent, let product = userAgent.split(separator: "/").first, !product.isEmpty {
            return String(product)
        }
        return "unknown"
    }
}

/// `DeleteOptions` as the emulator honours them.
struct DeleteOptions: Sendable {
    enum Propagation: String, Sendable {
        case orphan = "Orphan", background = "Background", foreground = "Foreground"
    }
    var propagation: Propagation?
    var preconditionUID: String?
    var preconditionResourceVersion: String?
    var dryRun = false
}

/// The answer to a list request.
struct ListPage: Sendable {
    var items: [JSON]
    var resourceVersion: Int
    var continueToken: String?
    var remainingItemCount: Int?
}

/// Namespaces that cannot be deleted.
let protectedNamespaces: Set<String> = ["default", "kube-system", "kube-public"]

extension ClusterStore {
    // MARK: - Get and list

    func get(_ resource: APIResource, namespace: String, name: String) throws(APIError) -> JSON {
        guard let object = object(resource.groupResource, ObjectName(namespace: namespace, name: name)) else {
            throw APIError.notFound(resource.groupResource, name)
        }
        return object
    }

    /// A list as the real server answers it: at the latest revision, at a given one
    /// (`resourceVersionMatch=Exact`, and every page after the first, which the continue token
    /// pins to the first page's revision), with `410 Expired` once that revision is compacted.
    func list(_ resource: APIResource, namespace: String?, _ options: ListOptions) throws(APIError)
        -> ListPage
    {
        var start: ObjectName?
        var listRevision = revision
        var snapshotRevision: Int?
        if let continueToken = options.continueToken {
            let (tokenRevision, key) = try ContinueToken.decode(continueToken)
            start = key
            // -1: the token the server hands out with a 410, which continues at the latest
            // revision (an inconsistent list, as the client was told).
            if tokenRevision != -1 {
                if tokenRevision < compactedRevision {
                    throw APIError.expiredContinue(
                        inconsistentToken: ContinueToken.encode(revision: -1, start: key))
                }
                listRevision = tokenRevision
                snapshotRevision = tokenRevision
            }
        } else if options.resourceVersionMatch == "Exact", let exact = options.resourceVersion {
            if exact < compactedRevision {
                throw APIError.expired("The resourceVersion for the provided list is too old.")
            }
            listRevision = exact
            snapshotRevision = exact
        }
        let candidates =
            snapshotRevision.map { snapshot(of: resource.groupResource, namespace: namespace, at: $0) }
            ?? objects(of: resource.groupResource, namespace: namespace)
        let matching = candidates.filter { name, object in
            if let start, name < start { return false }
            return options.labels.matches(object: object)
                && options.fields.matches { FieldPaths.value(of: $0, in: object) }
        }
        guard let limit = options.limit, limit > 0, matching.count > limit else {
            return ListPage(items: matching.map(\.1), resourceVersion: listRevision)
        }
        let page = matching.prefix(limit)
        let last = page.last?.0 ?? ObjectName(namespace: "", name: "")
        let next = ObjectName(namespace: last.namespace, name: last.name + "\u{0}")
        let remaining =
            options.labels.isEverything && options.fields.isEverything ? matching.count - limit : nil
        return ListPage(
            items: page.map(\.1), resourceVersion: listRevision,
            continueToken: ContinueToken.encode(revision: listRevision, start: next),
            remainingItemCount: remaining)
    }

    /// The objects of a resource as they were at `revision` (not older than the compacted
    /// revision): today's objects with every later change undone, newest first.
    func snapshot(of resource: GroupResource, namespace: String?, at revision: Int) -> [(ObjectName, JSON)] {
        var state: [ObjectName: JSON] = [:]
        for (name, object) in objects(of: resource, namespace: namespace) { state[name] = object }
        for change in history.reversed() where change.revision > revision && change.resource == resource {
            let name = ObjectName(
                namespace: change.object[path: "metadata", "namespace"]?.stringValue ?? "",
                name: change.object[path: "metadata", "name"]?.stringValue ?? "")
            if let namespace, name.namespace != namespace { continue }
            switch change.type {
            case .added: state[name] = nil
            case .modified, .deleted: state[name] = change.previous
            case .bookmark, .error: break
            }
        }
        return state.sorted { $0.key < $1.key }
    }

    // MARK: - Create

    func create(
        _ resource: APIResource, namespace: String, body: JSON, options: WriteOptions,
        keepManagedFields: Bool = false
    ) throws(APIError) -> JSON {
        let rules = RulesRegistry.rules(for: resource)
        var object = try prepareBody(
            body, resource: resource, namespace: namespace, rules: rules, options: options)
        var meta = object["metadata"] ?? [:]
        if let version = meta["resourceVersion"]?.stringValue, !version.isEmpty {
            throw APIError.internalError("resourceVersion should not be set on objects to be created")
        }
        if (meta["name"]?.stringValue ?? "").isEmpty, let prefix = meta["generateName"]?.stringValue,
            !prefix.isEmpty
        {
            meta["name"] = .string(ObjectMetaRules.generateName(prefix))
        }
        meta["uid"] = .string(ObjectMetaRules.newUID())
        meta["creationTimestamp"] = .string(Clock.timestamp())
        meta["deletionTimestamp"] = nil
        meta["deletionGracePeriodSeconds"] = nil
        meta["generation"] = nil
        meta["resourceVersion"] = nil
        object["metadata"] = meta
        rules.prepareForCreate(&object)
        rules.applyDefaults(&object)
        let errors = withRequiredFields(
            ObjectMetaRules.validate(object, resource: resource, rules: rules) + rules.validate(object),
            object,
            resource: resource)
        let name = object[path: "metadata", "name"]?.stringValue ?? ""
        if !errors.isEmpty {
            throw APIError.invalid(group: resource.group, kind: resource.kind, name: name, errors)
        }
        if resource.namespaced { try admitIntoNamespace(resource, namespace: namespace, name: name) }
        if self.object(resource.groupResource, ObjectName(namespace: namespace, name: name)) != nil {
            throw APIError.alreadyExists(resource.groupResource, name)
        }
        if !keepManagedFields {
            object[path: "metadata", "managedFields"] = nil
            ManagedFields.recordUpdate(
                &object, old: nil, manager: options.manager, subresource: nil, resource: resource)
        }
        if options.dryRun { return object }
        return commit(.added, resource.groupResource, object, previous: nil)
    }

    /// NamespaceLifecycle admission: the namespace must exist and not be terminating.
    func admitIntoNamespace(_ resource: APIResource, namespace: String, name: String) throws(APIError) {
        let namespaces = GroupResource(group: "", resource: "namespaces")
        guard let ns = object(namespaces, ObjectName(namespace: "", name: namespace)) else {
            throw APIError.notFound(namespaces, namespace)
        }
        if ns[path: "metadata", "deletionTimestamp"] != nil
            || ns[path: "status", "phase"]?.stringValue == "Terminating"
        {
            throw APIError.forbidden(
                resource.groupResource, name,
                "unable to create new content in namespace \(namespace) because it is being terminated")
        }
    }

    /// Decoding and the checks every write body gets: kind, apiVersion, the schema's field
    /// types and fields, namespace.
    func prepareBody(
        _ body: JSON, resource: APIResource, namespace: String, rules: any ResourceRules,
        options: WriteOptions
    ) throws(APIError) -> JSON {
        guard body.objectValue != nil else {
            throw decodingError(
                kind: resource.kind, version: resource.version,
                "json: cannot unmarshal \(goTypeName(body)) into Go value of type struct { APIVersion string \"json:\\\"apiVersion,omitempty\\\"\"; Kind string \"json:\\\"kind,omitempty\\\"\" }"
            )
        }
        if let kind = body["kind"]?.stringValue, !kind.isEmpty, kind != resource.kind {
            throw APIError.badRequest(
                "the kind in the body (\(kind)) does not match the kind of the resource (\(resource.kind))")
        }
        if let apiVersion = body["apiVersion"]?.stringValue, !apiVersion.isEmpty,
            apiVersion != resource.apiVersion
        {
            throw APIError.badRequest(
                "the API version in the data (\(apiVersion)) does not match the expected API version (\(resource.apiVersion))"
            )
        }
        try ObjectMetaRules.decode(body, kind: resource.kind, version: resource.version)
        var object = try decodeWithSchema(
            body.droppingNulls(), kind: resource.kind, group: resource.group, version: resource.version,
            options: options)
        try rules.decode(&object)
        // Decoding applies the defaults, before any strategy compares old and new.
        rules.applyDefaults(&object)
        object["kind"] = .string(resource.kind)
        object["apiVersion"] = .string(resource.apiVersion)
        if resource.namespaced {
            let given = object[path: "metadata", "namespace"]?.stringValue ?? ""
            if !given.isEmpty && given != namespace {
                throw APIError.badRequest(
                    "the namespace of the provided object does not match the namespace sent on the request")
            }
            object[path: "metadata", "namespace"] = .string(namespace)
        } else if object["metadata"] == nil {
            object["metadata"] = [:]
        }
        return object
    }

    // MARK: - Update and patch

    /// Replaces an object (PUT), or its `status`. Unchanged objects are not written again: the
    /// resourceVersion stays and no watch event is sent, as on a real server.
    func update(
        _ resource: APIResource, namespace: String, name: String, subresource: String?, body: JSON,
        options: WriteOptions, operation: String = "Update"
    ) throws(APIError) -> JSON {
        let rules = RulesRegistry.rules(for: resource)
        let key = ObjectName(namespace: resource.namespaced ? namespace : "", name: name)
        var object = try prepareBody(
            body, resource: resource, namespace: namespace, rules: rules, options: options)
        let bodyName = object[path: "metadata", "name"]?.stringValue ?? ""
        if bodyName != name {
            throw APIError.badRequest(
                "the name of the object (\(bodyName)) does not match the name on the URL (\(name))")
        }
        guard let old = self.object(resource.groupResource, key) else {
            if Self.allowsCreateOnUpdate(resource), subresource == nil {
                var fresh = object
                fresh[path: "metadata", "resourceVersion"] = nil
                return try create(resource, namespace: namespace, body: fresh, options: options)
            }
            throw APIError.notFound(resource.groupResource, name)
        }
        let oldVersion = old[path: "metadata", "resourceVersion"]?.stringValue ?? ""
        let givenVersion = object[path: "metadata", "resourceVersion"]?.stringValue ?? ""
        if givenVersion.isEmpty, !rules.allowsUnconditionalUpdate, operation != "Apply" {
            // The real message names the resource where the kind belongs (and prints the
            // missing version as Go's %#v of a uint64).
            throw APIError.invalid(
                group: resource.group, kind: resource.name, name: name,
                [
                    FieldError(
                        type: .invalid, field: "metadata.resourceVersion", value: nil,
                        detail: "0x0: must be specified for an update")
                ])
        }
        if !givenVersion.isEmpty, givenVersion != oldVersion {
            throw APIError.conflict(resource.groupResource, name, APIError.staleObjectMessage)
        }
        // Requests cannot set the generation; the strategy bumps it on spec changes.
        object[path: "metadata", "generation"] = old[path: "metadata", "generation"]
        if subresource == "status" {
            object["spec"] = old["spec"]
            object[path: "metadata", "labels"] = old[path: "metadata", "labels"]
        } else {
            rules.prepareForUpdate(&object, old: old)
        }
        var meta = object["metadata"] ?? [:]
        let oldMeta = old["metadata"] ?? [:]
        var errors: [FieldError] = []
        if let uid = meta["uid"]?.stringValue, !uid.isEmpty, uid != oldMeta["uid"]?.stringValue {
            errors.append(.immutable("metadata.uid", .string(uid)))
        }
        meta["uid"] = oldMeta["uid"]
        meta["creationTimestamp"] = oldMeta["creationTimestamp"]
        meta["deletionTimestamp"] = oldMeta["deletionTimestamp"]
        meta["deletionGracePeriodSeconds"] = oldMeta["deletionGracePeriodSeconds"]
        meta["resourceVersion"] = .string(oldVersion)
        // Absent managedFields keep the stored ones; an empty list resets them.
        if meta["managedFields"] == nil {
            meta["managedFields"] = oldMeta["managedFields"]
        } else if meta["managedFields"]?.arrayValue?.isEmpty == true {
            meta["managedFields"] = nil
        }
        object["metadata"] = meta
        rules.applyDefaults(&object)
        errors += ObjectMetaRules.validate(object, resource: resource, rules: rules)
        errors += subresource == "status" ? [] : rules.validateUpdate(object, old: old)
        errors = withRequiredFields(errors, object, resource: resource)
        if !errors.isEmpty {
            throw APIError.invalid(group: resource.group, kind: resource.kind, name: name, errors)
        }
        if object == old { return old }
        if operation != "Apply" {
            ManagedFields.recordUpdate(
                &object, old: old, manager: options.manager,
                subresource: options.recordedSubresource ?? subresource,
                resource: resource)
        }
        if options.dryRun { return object }
        // The last finalizer removed from an object being deleted: the deletion completes.
        if oldMeta["deletionTimestamp"] != nil, (meta["finalizers"]?.arrayValue ?? []).isEmpty {
            return commit(.deleted, resource.groupResource, object, previous: old)
        }
        return commit(.modified, resource.groupResource, object, previous: old)
    }

    /// Applies `patch` to the current object and writes the result as an update.
    func patch(
        _ resource: APIResource, namespace: String, name: String, subresource: String?, options: WriteOptions,
        operation: String = "Update",
        _ patch: @Sendable (JSON) throws(APIError) -> JSON
    ) throws(APIError) -> JSON {
        let key = ObjectName(namespace: resource.namespaced ? namespace : "", name: name)
        guard let current = object(resource.groupResource, key) else {
            throw APIError.notFound(resource.groupResource, name)
        }
        let patched = try patch(current)
        return try update(
            resource, namespace: namespace, name: name, subresource: subresource, body: patched,
            options: options,
            operation: operation)
    }

    /// Server-side apply (`application/apply-patch+yaml`): creates the object when it does not
    /// exist. Returns the stored object and whether it was created.
    func apply(
        _ resource: APIResource, namespace: String, name: String, subresource: String?, configuration: JSON,
        force: Bool, options: WriteOptions
    ) throws(APIError) -> (JSON, created: Bool) {
        guard configuration.objectValue != nil else {
            throw APIError.badRequest("error decoding YAML: the apply configuration must be an object")
        }
        guard let apiVersion = configuration["apiVersion"]?.stringValue, !apiVersion.isEmpty else {
            throw APIError.badRequest("apiVersion must be set in the apply configuration")
        }
        guard let kind = configuration["kind"]?.stringValue, !kind.isEmpty else {
            throw APIError.badRequest("kind must be set in the apply configuration")
        }
        if apiVersion != resource.apiVersion || kind != resource.kind {
            throw APIError.badRequest(
                "the apply configuration is a \(apiVersion), Kind=\(kind), not a \(resource.apiVersion), Kind=\(resource.kind)"
            )
        }
        let given = configuration[path: "metadata", "name"]?.stringValue ?? ""
        if given != name {
            throw APIError.badRequest(
                "the name of the object (\(given)) does not match the name on the URL (\(name))")
        }
        let key = ObjectName(namespace: resource.namespaced ? namespace : "", name: name)
        let live = object(resource.groupResource, key)
        if live == nil && subresource != nil { throw APIError.notFound(resource.groupResource, name) }
        let merged = try ManagedFields.apply(
            configuration, to: live, manager: options.manager, force: force, subresource: subresource,
            resource: resource)
        if live == nil {
            return (
                try create(
                    resource, namespace: namespace, body: merged, options: options, keepManagedFields: true),
                true
            )
        }
        return (
            try update(
                resource, namespace: namespace, name: name, subresource: subresource, body: merged,
                options: options,
                operation: "Apply"), false
        )
    }

    static func allowsCreateOnUpdate(_ resource: APIResource) -> Bool {
        ["leases", "events", "endpoints"].contains(resource.name)
    }

    // MARK: - Delete

    /// Deletes an object. Returns the answer and whether it was removed at once (objects with
    /// finalizers, and namespaces, are only marked for deletion).
    func delete(_ resource: APIResource, namespace: String, name: String, options: DeleteOptions)
        throws(APIError)
        -> (body: JSON, removed: Bool)
    {
        let key = ObjectName(namespace: resource.namespaced ? namespace : "", name: name)
        guard let existing = object(resource.groupResource, key) else {
            throw APIError.notFound(resource.groupResource, name)
        }
        let uid = existing[path: "metadata", "uid"]?.stringValue ?? ""
        if let expected = options.preconditionUID, expected != uid {
            throw APIError.conflict(
                resource.groupResource, name,
                "Precondition failed: UID in precondition: \(expected), UID in object meta: \(uid)")
        }
        let version = existing[path: "metadata", "resourceVersion"]?.stringValue ?? ""
        if let expected = options.preconditionResourceVersion, expected != version {
            throw APIError.conflict(
                resource.groupResource, name,
                "Precondition failed: ResourceVersion in precondition: \(expected), ResourceVersion in object meta: \(version)"
            )
        }
        if resource.kind == "Namespace" {
            if protectedNamespaces.contains(name) {
                throw APIError.forbidden(resource.groupResource, name, "this namespace may not be deleted")
            }
            var marked = existing
            if marked[path: "metadata", "deletionTimestamp"] == nil {
                marked[path: "metadata", "deletionTimestamp"] = .string(Clock.timestamp())
                marked[path: "metadata", "deletionGracePeriodSeconds"] = 0
            }
            marked[path: "status", "phase"] = "Terminating"
            if options.dryRun || marked == existing { return (marked, false) }
            return (commit(.modified, resource.groupResource, marked, previous: existing), false)
        }
        var finalizers = existing[path: "metadata", "finalizers"]?.arrayValue ?? []
        if options.propagation == .foreground, !finalizers.contains("foregroundDeletion") {
            finalizers.append("foregroundDeletion")
        }
        if options.propagation == .orphan, !finalizers.contains("orphan"), hasDependents(uid: uid) {
            finalizers.append("orphan")
        }
        if !finalizers.isEmpty {
            var marked = existing
            marked[path: "metadata", "finalizers"] = .array(finalizers)
            if marked[path: "metadata", "deletionTimestamp"] == nil {
                marked[path: "metadata", "deletionTimestamp"] = .string(Clock.timestamp())
                marked[path: "metadata", "deletionGracePeriodSeconds"] = 0
            }
            if options.dryRun || marked == existing { return (marked, false) }
            return (commit(.modified, resource.groupResource, marked, previous: existing), false)
        }
        if !options.dryRun { commit(.deleted, resource.groupResource, existing, previous: existing) }
        var details: JSON = ["name": .string(name), "kind": .string(resource.name), "uid": .string(uid)]
        if !resource.group.isEmpty { details["group"] = .string(resource.group) }
        return (
            ["kind": "Status", "apiVersion": "v1", "metadata": [:], "status": "Success", "details": details],
            true
        )
    }

    func hasDependents(uid: String) -> Bool {
        objects.values.contains { objects in
            objects.values.contains { object in
                (object[path: "metadata", "ownerReferences"]?.arrayValue ?? []).contains {
                    $0["uid"]?.stringValue == uid
                }
            }
        }
    }

    /// Deletes every object of a resource matching the selectors; returns what was deleted.
    func deleteCollection(
        _ resource: APIResource, namespace: String?, labels: LabelSelector, fields: FieldSelector,
        options: DeleteOptions
    ) throws(APIError) -> [JSON] {
        var deleted: [JSON] = []
        for (name, object) in objects(of: resource.groupResource, namespace: namespace)
        where labels.matches(object: object) && fields.matches({ FieldPaths.value(of: $0, in: object) }) {
            let (body, removed) = try delete(
                resource, namespace: name.namespace, name: name.name, options: options)
            deleted.append(removed ? object : body)
        }
        return deleted
    }
}

/// List continuation tokens in the real server's format: base64url of
/// `{"v":"meta.k8s.io/v1","rv":N,"start":"<key>"}`.
enum ContinueToken {
    static func encode(revision: Int, start: ObjectName) -> String {
        let key = start.namespace.isEmpty ? start.name : "\(start.namespace)/\(start.name)"
        let json: JSON = ["v": "meta.k8s.io/v1", "rv": .int(revision), "start": .string(key)]
        return Data(json.serialized()).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func decode(_ token: String) throws(APIError) -> (Int, ObjectName) {
        var base64 = token.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        guard let data = Data(base64Encoded: base64), let json = try? JSON(parsing: Array(data)),
            json["v"]?.stringValue == "meta.k8s.io/v1", let revision = json["rv"]?.intValue,
            let start = json["start"]?.stringValue
        else {
            throw APIError.badRequest(
                "continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)")
        }
        let parts = start.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        if parts.count == 2 {
            return (revision, ObjectName(namespace: String(parts[0]), name: String(parts[1])))
        }
        return (revision, ObjectName(namespace: "", name: start))
    }
}
