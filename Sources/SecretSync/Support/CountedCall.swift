import KubeAPI

/// Runs one Kubernetes API call and counts its outcome by HTTP status
/// (`beluga_secrets_api_requests_total{code}`).
func counted<T>(
    isolation: isolated (any Actor)? = #isolation, _ call: () async throws(KubeError) -> T
) async throws(KubeError) -> T {
    do {
        let result = try await call()
        AgentMetrics.apiRequest(code: "2xx")
        return result
    } catch {
        AgentMetrics.apiRequest(code: error.httpStatus.map(String.init) ?? "error")
        throw error
    }
}
