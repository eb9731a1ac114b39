import Prometheus
import SecretSync

/// What the agent answers on its health address.
enum HealthEndpoints {
    static func handler(agent: Agent, registry: PrometheusCollectorRegistry) -> HealthServer.Handler {
        { method, path in
            guard method == "GET" || method == "HEAD" else { return .text(405, "method not allowed") }
            switch path {
            case "/healthz", "/livez":
                let health = await agent.health()
                return health.alive ? .text(200, "ok") : .text(503, "the agent's loops are stuck")
            case "/readyz":
                let health = await agent.health()
                return .text(health.ready ? 200 : 503, health.detail)
            case "/metrics":
                return HealthServer.Answer(
                    status: 200, contentType: "text/plain; version=0.0.4; charset=utf-8",
                    body: registry.emitToBuffer())
            default:
                return .text(404, "not found: try /healthz, /readyz or /metrics")
            }
        }
    }
}
