import JSONValue
import KubeAPI

/// What the release asks of the cluster: metrics for its autoscaler, the Prometheus Operator for
/// its ServiceMonitor.
extension Doctor {
    static let metricsServer =
        "kubectl apply -f https://github.com/kubernetes-sigs/metrics-server/releases/latest/download/components.yaml"

    func autoscalingCheck(deployment: Reading<Deployment>) async throws(KubeError) -> DoctorCheck {
        let target = workspace.names.deployment
        let listed = try await read { () async throws(KubeError) in
            try await workspace.client.listAll(
                GenericObject.self, resource: Self.horizontalPodAutoscalers, namespace: workspace.namespace
            ).items
        }
        guard case .found(let all) = listed else {
            return DoctorCheck(
                name: "autoscaling", verdict: .ok, summary: "not checked",
                evidence: ["this user may not list horizontalpodautoscalers"])
        }
        let autoscalers = all.filter {
            $0.json[path: "spec", "scaleTargetRef", "kind"]?.stringValue == "Deployment"
                && $0.json[path: "spec", "scaleTargetRef", "name"]?.stringValue == target
        }
        guard !autoscalers.isEmpty else {
            return DoctorCheck(name: "autoscaling", verdict: .ok, summary: "no HorizontalPodAutoscaler")
        }
        var evidence: [String] = []
        var blind: [String] = []
        for autoscaler in autoscalers {
            let conditions = autoscaler.json[path: "status", "conditions"]?.arrayValue ?? []
            let inactive = conditions.first {
                $0["type"]?.stringValue == "ScalingActive" && $0["status"]?.stringValue == "False"
            }
            let metrics = autoscaler.json[path: "status", "currentMetrics"]?.arrayValue ?? []
            let measured = metrics.contains { metric in
                (metric.objectValue ?? [:]).values.contains { $0[path: "current"] != nil }
            }
            if let inactive {
                blind.append(autoscaler.name)
                evidence.append(
                    "HorizontalPodAutoscaler \(autoscaler.name): ScalingActive False: "
                        + "\(inactive["reason"]?.stringValue ?? ""): "
                        + RolloutStall.clean(inactive["message"]?.stringValue ?? ""))
            } else if !measured {
                blind.append(autoscaler.name)
                evidence.append(
                    "HorizontalPodAutoscaler \(autoscaler.name): no current metrics reported "
                        + "(the metrics API does not answer for its pods)")
            } else {
                evidence.append("HorizontalPodAutoscaler \(autoscaler.name): metrics reported")
            }
        }
        return DoctorCheck(
            name: "autoscaling", verdict: blind.isEmpty ? .ok : .warning,
            summary: blind.isEmpty
                ? "the autoscaler has metrics"
                : "autoscaler without metrics: " + blind.joined(separator: ", "),
            evidence: evidence,
            fix: blind.isEmpty ? [] : ["kubectl get apiservice v1beta1.metrics.k8s.io", Self.metricsServer])
    }

    func serviceMonitorCheck() async throws(KubeError) -> DoctorCheck {
        guard options.serviceMonitorRequested else {
            return DoctorCheck(name: "service-monitor", verdict: .ok, summary: "no ServiceMonitor requested")
        }
        let listed = try await read { () async throws(KubeError) in
            try await workspace.client.list(
                GenericObject.self, resource: Self.serviceMonitors, namespace: workspace.namespace,
                options: ListOptions(limit: 1))
        }
        switch listed {
        case .found:
            return DoctorCheck(
                name: "service-monitor", verdict: .ok, summary: "the cluster serves ServiceMonitors",
                evidence: ["monitoring.coreos.com/v1 servicemonitors: served"])
        case .denied:
            return DoctorCheck(
                name: "service-monitor", verdict: .ok, summary: "not checked",
                evidence: ["this user may not list servicemonitors.monitoring.coreos.com"])
        case .missing:
            return DoctorCheck(
                name: "service-monitor", verdict: .warning,
                summary:
                    "a ServiceMonitor is requested, but the cluster does not serve monitoring.coreos.com/v1",
                evidence: [
                    "no CustomResourceDefinition servicemonitors.monitoring.coreos.com: the chart created no "
                        + "ServiceMonitor and Prometheus does not scrape the release"
                ],
                fix: [
                    "kubectl get crd servicemonitors.monitoring.coreos.com",
                    "kubectl apply --server-side -f https://github.com/prometheus-operator/prometheus-operator/releases/latest/download/stripped-down-crds.yaml",
                    "\(helmUpgrade)   # creates the ServiceMonitor once the CRD is served",
                ])
        }
    }
}
