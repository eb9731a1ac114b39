/// The parameters of a list request, read and checked as the real server's `ValidateListOptions`
/// checks them (422 `ListOptions.meta.k8s.io "" is invalid` for a bad combination).
struct ListOptions: Sendable {
    var labels = LabelSelector.everything
    var fields = FieldSelector.everything
    var limit: Int?
    var continueToken: String?
    /// The requested resourceVersion; nil when absent or "0" (any version will do).
    var resourceVersion: Int?
    /// `Exact` or `NotOlderThan` (nil: not given).
    var resourceVersionMatch: String?

    init() {}

    init(_ request: HTTPRequest, fields: FieldSelector) throws(APIError) {
        labels = try LabelSelector(parsing: request.query("labelSelector") ?? "")
        self.fields = fields
        if let text = request.query("limit"), !text.isEmpty {
            guard let value = Int(text) else { throw APIError.badRequest("invalid limit \(goQuote(text))") }
            limit = value
        }
        let token = request.query("continue") ?? ""
        continueToken = token.isEmpty ? nil : token
        let version = request.query("resourceVersion") ?? ""
        let match = request.query("resourceVersionMatch") ?? ""
        var errors: [FieldError] = []
        if !match.isEmpty {
            if version.isEmpty {
                errors.append(
                    .forbidden(
                        "resourceVersionMatch",
                        "resourceVersionMatch is forbidden unless resourceVersion is provided"))
            }
            if continueToken != nil {
                errors.append(
                    .forbidden(
                        "resourceVersionMatch", "resourceVersionMatch is forbidden when continue is provided")
                )
            }
            if match != "Exact" && match != "NotOlderThan" {
                errors.append(
                    .notSupported("resourceVersionMatch", .string(match), ["Exact", "NotOlderThan", ""]))
            }
            if match == "Exact" && version == "0" {
                errors.append(
                    .forbidden(
                        "resourceVersionMatch",
                        "resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\""
                    ))
            }
        }
        if request.query("sendInitialEvents") != nil {
            errors.append(.forbidden("sendInitialEvents", "sendInitialEvents is forbidden for list"))
        }
        if !errors.isEmpty {
            throw APIError.invalid(group: "meta.k8s.io", kind: "ListOptions", name: "", errors)
        }
        resourceVersionMatch = match.isEmpty ? nil : match
        if !version.isEmpty && version != "0" {
            guard let number = Int(version), number > 0 else {
                throw APIError.badRequest("invalid resource version: \(goQuote(version))")
            }
            resourceVersion = number
        }
    }
}

extension APIServer {
    /// A list at a resourceVersion the store has not reached waits for it, as the watch cache
    /// does (`waitUntilFreshAndBlock`), and then answers 504.
    func waitUntilFresh(_ options: ListOptions) async throws(APIError) {
        guard let wanted = options.resourceVersion, options.continueToken == nil else { return }
        let deadline = ContinuousClock.now + freshnessWait
        while true {
            let current = await store.revision
            if current >= wanted { return }
            if ContinuousClock.now >= deadline {
                throw APIError.tooLargeResourceVersion(wanted, current: current)
            }
            try? await Task.sleep(for: .milliseconds(10))
        }
    }
}
