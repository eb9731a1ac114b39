import JSONValue

/// The `Status` object the API server returns with an error (and for some deletes).
public struct Status: Sendable, Equatable {
    public var json: JSON
    public init(json: JSON) { self.json = json }

    /// Parses a response body; `nil` unless it is a `Status`.
    init?(body: [UInt8]) {
        guard let json = try? JSON(parsing: body), json["kind"]?.stringValue == "Status" else { return nil }
        self.json = json
    }

    /// `Success` or `Failure`.
    public var status: String? { json["status"]?.stringValue }
    public var message: String? { json["message"]?.stringValue }
    /// A CamelCase reason such as `NotFound`, `AlreadyExists`, `Conflict`, `Invalid`, `Expired`.
    public var reason: String? { json["reason"]?.stringValue }
    public var code: Int? { json["code"]?.intValue }
    /// `details.causes[].message`, for validation errors.
    public var causes: [String] {
        (json[path: "details", "causes"]?.arrayValue ?? []).compactMap { cause in
            guard let message = cause["message"]?.stringValue else { return nil }
            if let field = cause["field"]?.stringValue, !field.isEmpty { return "\(field): \(message)" }
            return message
        }
    }
}

/// One page of a list: the items, the collection's `resourceVersion` (to watch from), and the
/// `continue` token of the next page.
public struct ObjectList<Item: KubeObjectView>: Sendable {
    public var items: [Item]
    public var resourceVersion: String?
    /// Present when more pages follow (`ListOptions.continueToken`).
    public var continueToken: String?
    /// The list as the server sent it, without `items`.
    public var json: JSON

    init(json: JSON) {
        var rest = json
        items = (json["items"]?.arrayValue ?? []).map { Item(json: $0) }
        rest["items"] = nil
        resourceVersion = json[path: "metadata", "resourceVersion"]?.stringValue
        let token = json[path: "metadata", "continue"]?.stringValue
        continueToken = (token?.isEmpty ?? true) ? nil : token
        self.json = rest
    }

    public init(items: [Item], resourceVersion: String?) {
        self.items = items
        self.resourceVersion = resourceVersion
        continueToken = nil
        json = .object([:])
    }
}
