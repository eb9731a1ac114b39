import JSONValue

extension ClusterStore {
    /// The objects a fresh cluster has: the four system namespaces and one ready node.
    func bootstrap() {
        guard let namespaces = catalog.resource(group: "", version: "v1", name: "namespaces"),
            let nodes = catalog.resource(group: "", version: "v1", name: "nodes")
        else { return }
        for name in ["default", "kube-system", "kube-public", "kube-node-lease"] {
            _ = try? create(
                namespaces, namespace: "",
                body: ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(name)]],
                options: WriteOptions())
        }
        if let services = catalog.resource(group: "", version: "v1", name: "services") {
            let service: JSON = [
                "apiVersion": "v1", "kind": "Service",
                "metadata": [
                    "name": "kubernetes", "namespace": "default",
                    "labels": ["component": "apiserver", "provider": "kubernetes"],
                ],
                "spec": [
                    "clusterIP": "10.96.0.1", "clusterIPs": ["10.96.0.1"],
                    "ports": [["name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443]],
                ],
            ]
            _ = try? create(services, namespace: "default", body: service, options: WriteOptions())
        }
        let now = Clock.timestamp()
        let node: JSON = [
            "apiVersion": "v1", "kind": "Node",
            "metadata": [
                "name": "emulator-node",
                "labels": [
                    "kubernetes.io/hostname": "emulator-node", "kubernetes.io/os": "linux",
                    "kubernetes.io/arch": "amd64",
                    "node-role.kubernetes.io/control-plane": "",
                ],
            ],
            "spec": [:],
        ]
        if let created = try? create(nodes, namespace: "", body: node, options: WriteOptions()) {
            var ready = created
            ready["status"] = [
                "conditions": [
                    [
                        "type": "Ready", "status": "True", "reason": "KubeletReady",
                        "message": "kubelet is posting ready status", "lastHeartbeatTime": .string(now),
                        "lastTransitionTime": .string(now),
                    ]
                ],
                "addresses": [
                    ["type": "InternalIP", "address": "10.0.0.10"],
                    ["type": "Hostname", "address": "emulator-node"],
                ],
                "nodeInfo": [
                    "kubeletVersion": "v1.32.0", "kubeProxyVersion": "v1.32.0", "operatingSystem": "linux",
                    "architecture": "amd64", "containerRuntimeVersion": "containerd://1.7.24",
                    "osImage": "kube-emulator", "kernelVersion": "6.1.0",
                ],
                "allocatable": ["cpu": "8", "memory": "16Gi", "pods": "110"],
                "capacity": ["cpu": "8", "memory": "16Gi", "pods": "110"],
            ]
            commit(.modified, nodes.groupResource, ready, previous: created)
        }
    }
}
