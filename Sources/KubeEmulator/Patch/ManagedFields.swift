import JSONValue

/// Field ownership (`metadata.managedFields`) and server-side apply, following the documented
/// semantics of structured-merge-diff: a write gives its manager the fields it changed and takes
/// them from the others; an apply owns exactly the fields of its configuration, conflicts with
/// other owners that hold different values (unless forced), and removes fields it owned before
/// and no longer sets when nobody else owns them.
enum ManagedFields {
    /// One `managedFields` entry.
    struct Entry: Sendable, Equatable {
        var manager: String
        var operation: String
        var apiVersion: String
        var time: String
        var subresource: String
        var fields: FieldSet

        func owns(_ other: Entry) -> Bool {
            manager == other.manager && operation == other.operation && subresource == other.subresource
        }

        var json: JSON {
            var entry: JSON = [
                "manager": .string(manager), "operation": .string(operation),
                "apiVersion": .string(apiVersion),
                "time": .string(time), "fieldsType": "FieldsV1", "fieldsV1": fields.fieldsV1,
            ]
            if !subresource.isEmpty { entry["subresource"] = .string(subresource) }
            return entry
        }

        /// How conflict messages name the manager.
        var printed: String {
            var text = goQuote(manager)
            if !subresource.isEmpty { text += " with subresource \(goQuote(subresource))" }
            if operation == "Update" { text += " using \(apiVersion)" }
            return text
        }
    }

    static func entries(of object: JSON?) -> [Entry] {
        (object?[path: "metadata", "managedFields"]?.arrayValue ?? []).compactMap { entry in
            guard let manager = entry["manager"]?.stringValue, let operation = entry["operation"]?.stringValue
            else {
                return nil
            }
            return Entry(
                manager: manager, operation: operation, apiVersion: entry["apiVersion"]?.stringValue ?? "",
                time: entry["time"]?.stringValue ?? "", subresource: entry["subresource"]?.stringValue ?? "",
                fields: FieldSet(fieldsV1: entry["fieldsV1"] ?? [:]))
        }
    }

    static func write(_ entries: [Entry], to object: inout JSON) {
        let kept = entries.filter { !$0.fields.isEmpty }
        object[path: "metadata", "managedFields"] = kept.isEmpty ? nil : .array(kept.map(\.json))
    }

    /// The fields a write to `subresource` can own.
    static func fields(of object: JSON?, resource: APIResource, subresource: String?) -> FieldSet {
        guard let object else { return FieldSet() }
        let schema = PatchSchema.forKind(resource.kind)
        let hasStatus = resource.subresources.contains("status")
        if subresource == "status" {
            let all = FieldSet.of(object, schema: schema)
            return FieldSet(paths: all.paths.filter { $0.first == .field("status") })
        }
        return FieldSet.of(object, schema: schema, ignoringStatus: hasStatus)
    }

    /// Records a non-apply write (create, update, patch) by `manager`.
    static func recordUpdate(
        _ object: inout JSON, old: JSON?, manager: String, subresource: String?, resource: APIResource
    ) {
        let newFields = fields(of: object, resource: resource, subresource: subresource)
        let oldFields = fields(of: old, resource: resource, subresource: subresource)
        var changed = FieldSet()
        for path in newFields.paths {
            if !oldFields.paths.contains(path) {
                changed.paths.insert(path)
                continue
            }
            let newValue = FieldSet.value(at: path, in: object)
            if isLeaf(newValue), newValue != FieldSet.value(at: path, in: old ?? [:]) {
                changed.paths.insert(path)
            }
        }
        let removed = oldFields - newFields
        let me = Entry(
            manager: manager, operation: "Update", apiVersion: resource.apiVersion, time: Clock.timestamp(),
            subresource: subresource ?? "", fields: FieldSet())
        var entries = entries(of: old)
        var found = false
        for index in entries.indices {
            if entries[index].owns(me) {
                found = true
                entries[index].fields = entries[index].fields - removed + changed
                if !changed.isEmpty {
                    entries[index].time = me.time
                    entries[index].apiVersion = me.apiVersion
                }
            } else {
                entries[index].fields = entries[index].fields - removed - changed
            }
        }
        if !found && !changed.isEmpty {
            var entry = me
            entry.fields = changed
            entries.append(entry)
        }
        write(entries, to: &object)
    }

    static func isLeaf(_ value: JSON?) -> Bool {
        switch value {
        case .object(let members)?: return members.isEmpty
        case nil: return true
        default: return true
        }
    }

    /// Server-side apply of `configuration` by `manager` onto `live` (nil: the object does not
    /// exist yet). Returns the object to store, with its managed fields.
    static func apply(
        _ configuration: JSON, to live: JSON?, manager: String, force: Bool, subresource: String?,
        resource: APIResource
    ) throws(APIError) -> JSON {
        var applied = configuration.droppingNulls()
        let hasStatus = resource.subresources.contains("status")
        if hasStatus && subresource == nil { applied["status"] = nil }
        if subresource == "status" {
            applied = [
                "apiVersion": applied["apiVersion"] ?? .null, "kind": applied["kind"] ?? .null,
                "metadata": applied["metadata"] ?? [:], "status": applied["status"] ?? [:],
            ]
        }
        applied[path: "metadata", "managedFields"] = nil
        let schema = PatchSchema.forKind(resource.kind)
        let appliedFields = fields(of: applied, resource: resource, subresource: subresource)
        let current = live ?? [:]
        var entries = entries(of: live)
        let me = Entry(
            manager: manager, operation: "Apply", apiVersion: resource.apiVersion, time: Clock.timestamp(),
            subresource: subresource ?? "", fields: appliedFields)

        // Conflicts: fields another manager owns whose value the configuration changes.
        var conflicts: [(Entry, FieldPath)] = []
        for entry in entries where !entry.owns(me) {
            for path in entry.fields.intersection(appliedFields).paths.sorted(by: { $0.dotted < $1.dotted }) {
                let wanted = FieldSet.value(at: path, in: applied)
                guard isLeaf(wanted) else { continue }
                if wanted != FieldSet.value(at: path, in: current) { conflicts.append((entry, path)) }
            }
        }
        if !conflicts.isEmpty && !force { throw conflictError(conflicts) }

        // Merge the configuration into the live object.
        var merged: JSON
        do {
            merged = try StrategicMergePatch(schema: schema).apply(applied, to: current)
        } catch {
            throw APIError.internalError(error.message)
        }
        // Remove what this manager set before and no longer sets, unless others own it.
        let previous = entries.first { $0.owns(me) }?.fields ?? FieldSet()
        let othersOwn = entries.filter { !$0.owns(me) }.reduce(FieldSet()) { $0 + $1.fields }
        let dropped = (previous - appliedFields - othersOwn).paths.sorted { $0.count < $1.count }
        var removed: [FieldPath] = []
        for path in dropped {
            if removed.contains(where: { path.count > $0.count && Array(path.prefix($0.count)) == $0 }) {
                continue
            }
            let ownedBelow = othersOwn.paths.contains {
                $0.count > path.count && Array($0.prefix(path.count)) == path
            }
            if ownedBelow { continue }
            merged = FieldSet.removing(path, from: merged)
            removed.append(path)
            // A list emptied this way disappears, as an empty slice does from the typed object.
            if case .key = path.last ?? .field(""), path.count > 1 {
                let parent = Array(path.dropLast())
                if FieldSet.value(at: parent, in: merged)?.arrayValue?.isEmpty == true {
                    merged = FieldSet.removing(parent, from: merged)
                }
            }
        }
        // Ownership: forced fields move to this manager; shared equal values stay co-owned.
        let taken = FieldSet(paths: Set(conflicts.map(\.1)))
        for index in entries.indices where !entries[index].owns(me) {
            entries[index].fields = entries[index].fields - taken
        }
        entries.removeAll { $0.owns(me) }
        entries.append(me)
        write(entries, to: &merged)
        return merged
    }

    static func conflictError(_ conflicts: [(Entry, FieldPath)]) -> APIError {
        let causes: [JSON] = conflicts.map { entry, path in
            [
                "reason": "FieldManagerConflict", "message": .string("conflict with \(entry.printed)"),
                "field": .string(path.dotted),
            ]
        }
        let message: String
        if conflicts.count == 1 {
            message =
                "Apply failed with 1 conflict: conflict with \(conflicts[0].0.printed): \(conflicts[0].1.dotted)"
        } else {
            var byManager: [String: [String]] = [:]
            for (entry, path) in conflicts { byManager[entry.printed, default: []].append(path.dotted) }
            var lines: [String] = []
            for manager in byManager.keys.sorted() {
                lines.append("conflicts with \(manager):")
                lines += (byManager[manager] ?? []).map { "- \($0)" }
            }
            message = "Apply failed with \(conflicts.count) conflicts: " + lines.joined(separator: "\n")
        }
        return APIError(code: 409, reason: "Conflict", message: message, details: ["causes": .array(causes)])
    }
}
