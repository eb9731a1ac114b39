import JSONValue

/// Strategic merge patch (`application/strategic-merge-patch+json`): a merge patch whose lists
/// merge by key where the schema says so (containers by `name`, ports by `containerPort`, ...),
/// with the directives `$patch` (replace, delete, merge), `$retainKeys`,
/// `$deleteFromPrimitiveList/<field>` and `$setElementOrder/<field>`.
struct StrategicMergePatch {
    let schema: PatchSchema

    /// Why a patch could not be applied.
    struct Failure: Error, Sendable {
        var message: String
        /// 400 for malformed directives, 500 where the real server fails without a status.
        var code: Int
    }

    func apply(_ patch: JSON, to original: JSON) throws(Failure) -> JSON {
        guard patch.objectValue != nil else {
            throw Failure(
                message: "unable to find api field in struct Unstructured for the json field \"\"", code: 400)
        }
        return try mergeMap(original.objectValue ?? [:], patch.objectValue ?? [:], path: []) ?? .object([:])
    }

    /// Returns nil when the map is deleted (`$patch: delete`).
    private func mergeMap(_ original: [String: JSON], _ patch: [String: JSON], path: [String]) throws(Failure)
        -> JSON?
    {
        var patch = patch
        if let directive = patch.removeValue(forKey: "$patch") {
            switch directive.stringValue {
            case "replace": return StrategicMergePatch.strip(.object(patch))
            case "delete": return nil
            case "merge": break
            default:
                throw Failure(
                    message:
                        "Unknown patch type: \(directive.stringValue ?? directive.jsonText) in map: \(patch)",
                    code: 400)
            }
        }
        var result = original
        if let retain = patch.removeValue(forKey: "$retainKeys") {
            guard let keys = retain.arrayValue?.compactMap(\.stringValue) else {
                throw Failure(message: "doesn't support setElementOrder/retainKeys for non-list", code: 400)
            }
            result = result.filter { keys.contains($0.key) }
        }
        var orders: [String: [JSON]] = [:]
        for key in Array(patch.keys) {
            if key.hasPrefix("$deleteFromPrimitiveList/") {
                let field = String(key.dropFirst("$deleteFromPrimitiveList/".count))
                let remove = patch.removeValue(forKey: key)?.arrayValue ?? []
                if let list = result[field]?.arrayValue {
                    result[field] = .array(list.filter { !remove.contains($0) })
                }
            } else if key.hasPrefix("$setElementOrder/") {
                let field = String(key.dropFirst("$setElementOrder/".count))
                orders[field] = patch.removeValue(forKey: key)?.arrayValue ?? []
            }
        }
        for (key, value) in patch {
            let childPath = path + [key]
            if value.isNull {
                result[key] = nil
                continue
            }
            switch (result[key], value) {
            case (.object(let old)?, .object(let new)):
                result[key] = try mergeMap(old, new, path: childPath)
            case (.array(let old)?, .array(let new)):
                result[key] = .array(try mergeList(old, new, path: childPath))
            case (_, .object(let new)):
                result[key] = try mergeMap([:], new, path: childPath)
            case (_, .array(let new)):
                result[key] = .array(try mergeList([], new, path: childPath))
            default:
                result[key] = value
            }
        }
        for (field, order) in orders {
            guard let list = result[field]?.arrayValue else { continue }
            result[field] = .array(reorder(list, by: order, merge: schema.listMerge(path + [field])))
        }
        return .object(result)
    }

    private func mergeList(_ original: [JSON], _ patch: [JSON], path: [String]) throws(Failure) -> [JSON] {
        switch schema.listMerge(path) {
        case nil:
            return patch.map(StrategicMergePatch.strip)
        case .primitiveSet:
            var result = original
            for value in patch where !result.contains(value) { result.append(value) }
            return result
        case .byKey(let key):
            if patch.contains(where: { $0["$patch"]?.stringValue == "replace" }) {
                return patch.filter { $0["$patch"] == nil }.map(StrategicMergePatch.strip)
            }
            var result = original
            for element in patch {
                guard case .object(var members) = element else {
                    throw Failure(message: "the list of \(path.last ?? "") must contain maps", code: 500)
                }
                let directive = members["$patch"]?.stringValue
                guard let keyValue = members[key] else {
                    if directive == "delete" { continue }
                    throw Failure(
                        message: "map: \(goMap(members)) does not contain declared merge key: \(key)",
                        code: 500)
                }
                let index = result.firstIndex { $0[key] == keyValue }
                if directive == "delete" {
                    result.removeAll { $0[key] == keyValue }
                    continue
                }
                members["$patch"] = nil
                if let index {
                    result[index] =
                        try mergeMap(result[index].objectValue ?? [:], members, path: path) ?? .object([:])
                } else {
                    result.append(try mergeMap([:], members, path: path) ?? .object([:]))
                }
            }
            return result
        }
    }

    /// Orders a merged list as `$setElementOrder` says; elements it does not name keep their
    /// relative order after the named ones.
    private func reorder(_ list: [JSON], by order: [JSON], merge: ListMerge?) -> [JSON] {
        func identity(_ element: JSON) -> JSON {
            if case .byKey(let key) = merge { return element[key] ?? .null }
            return element
        }
        let orderIdentities = order.map(identity)
        let named = orderIdentities.compactMap { id in list.first { identity($0) == id } }
        let rest = list.filter { element in !orderIdentities.contains(identity(element)) }
        return named + rest
    }

    /// Removes patch directives from content that is inserted as it is.
    static func strip(_ value: JSON) -> JSON {
        switch value {
        case .object(let members):
            var out: [String: JSON] = [:]
            for (key, child) in members where !key.hasPrefix("$") { out[key] = strip(child) }
            return .object(out)
        case .array(let elements):
            return .array(elements.map(strip))
        default:
            return value
        }
    }

    private func goMap(_ members: [String: JSON]) -> String {
        "map["
            + members.keys.sorted().map { "\($0):\(members[$0]?.stringValue ?? members[$0]?.jsonText ?? "")" }
            .joined(separator: " ") + "]"
    }
}
