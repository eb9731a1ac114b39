"""The chart renders what the deployment guide shows, plus the agent, in every configuration.

Each test asserts the fields the guide (or the issue) names, not a snapshot.
"""

from __future__ import annotations

from helmchart import AGENT_IMAGE, PROMETHEUS_OPERATOR_API, SIDECAR, containers, load_chart, render, set_values
from chartfixtures import all_on, sealed_markers  # noqa: F401 (fixtures)

SERVER_SELECTOR = {"app.kubernetes.io/name": "beluga-ai", "app.kubernetes.io/instance": "beluga-ai"}
AGENT_SELECTOR = {"app.kubernetes.io/name": "beluga-ai-agent", "app.kubernetes.io/instance": "beluga-ai"}


def matches(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


# --- Chart.yaml and values: the guide's, unchanged -------------------------------------------


def test_chart_metadata_is_the_guides():
    with load_chart() as chart:
        meta = chart.metadata
    assert meta["apiVersion"] == "v2"
    assert meta["name"] == "beluga-ai"
    assert meta["description"] == "Beluga AI Framework deployment"
    assert meta["type"] == "application"
    assert meta["version"] == "1.0.0"
    assert meta["appVersion"] == "1.0.0"


def test_chart_says_where_it_comes_from():
    with load_chart() as chart:
        meta = chart.metadata
    assert meta["home"].startswith("https://")
    assert meta["sources"] and all(url.startswith("https://") for url in meta["sources"])
    assert meta["maintainers"] and all(m["name"] for m in meta["maintainers"])


def test_every_default_of_the_guides_table_is_unchanged():
    with load_chart() as chart:
        values = chart.values
    table = {
        ("replicaCount",): 2,
        ("image", "repository"): "beluga-ai",
        ("image", "tag"): "latest",
        ("image", "pullPolicy"): "IfNotPresent",
        ("service", "type"): "ClusterIP",
        ("service", "port"): 8080,
        ("resources", "limits", "cpu"): "500m",
        ("resources", "limits", "memory"): "512Mi",
        ("resources", "requests", "cpu"): "250m",
        ("resources", "requests", "memory"): "256Mi",
        ("config", "llmProvider"): "openai",
        ("config", "embeddingProvider"): "openai",
    }
    for path, expected in table.items():
        value = values
        for part in path:
            value = value[part]
        assert value == expected, (".".join(path), value)
    assert values["apiKeys"] == [
        {"key": "openai-api-key", "env": "OPENAI_API_KEY"},
        {"key": "anthropic-api-key", "env": "ANTHROPIC_API_KEY", "optional": True},
    ]
    assert values["sealedSecrets"] == {}
    assert values["agent"]["enabled"] is True
    assert values["agent"]["mode"] == "deployment"


# --- default render ---------------------------------------------------------------------------


def test_default_render_has_exactly_the_expected_objects():
    rendered = render()
    assert rendered.names() == sorted(
        [
            "ConfigMap/beluga-ai-config",
            "ConfigMap/beluga-ai-secrets-sealed",
            "ConfigMap/beluga-ai-public-key",
            "ConfigMap/beluga-ai-signers",
            "Deployment/beluga-ai",
            "Deployment/beluga-ai-agent",
            "Lease/beluga-ai-agent",
            "NetworkPolicy/beluga-ai",
            "NetworkPolicy/beluga-ai-agent",
            "PodDisruptionBudget/beluga-ai",
            "PodDisruptionBudget/beluga-ai-agent",
            "Role/beluga-ai-agent",
            "Role/beluga-ai-operator",
            "RoleBinding/beluga-ai-agent",
            "Service/beluga-ai",
            "Service/beluga-ai-agent",
            "ServiceAccount/beluga-ai-agent",
            # `helm test`
            "NetworkPolicy/beluga-ai-test",
            "Pod/beluga-ai-test",
            "Role/beluga-ai-test",
            "RoleBinding/beluga-ai-test",
            "ServiceAccount/beluga-ai-test",
        ]
    )
    for obj in rendered.objects:
        assert obj["metadata"]["namespace"] == "ai", obj["metadata"]["name"]
    assert sorted(o["metadata"]["name"] for o in rendered.tests()) == ["beluga-ai-test"] * 5


def test_server_deployment_has_the_guides_fields():
    deployment = render().get("Deployment", "beluga-ai")
    assert deployment["apiVersion"] == "apps/v1"
    labels = deployment["metadata"]["labels"]
    assert labels["helm.sh/chart"] == "beluga-ai-1.0.0"
    assert labels["app.kubernetes.io/version"] == "1.0.0"
    assert labels["app.kubernetes.io/managed-by"] == "Helm"
    assert matches(SERVER_SELECTOR, labels)
    spec = deployment["spec"]
    assert spec["replicas"] == 2
    assert spec["selector"]["matchLabels"] == SERVER_SELECTOR
    assert spec["template"]["metadata"]["labels"] == SERVER_SELECTOR

    server = containers(deployment)["beluga-ai"]
    assert server["image"] == "beluga-ai:latest"
    assert server["imagePullPolicy"] == "IfNotPresent"
    assert server["ports"] == [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]
    assert server["resources"] == {
        "limits": {"cpu": "500m", "memory": "512Mi"},
        "requests": {"cpu": "250m", "memory": "256Mi"},
    }
    assert server["livenessProbe"] == {
        "httpGet": {"path": "/healthz", "port": "http"},
        "initialDelaySeconds": 10,
        "periodSeconds": 15,
    }
    assert server["readinessProbe"] == {
        "httpGet": {"path": "/readyz", "port": "http"},
        "initialDelaySeconds": 5,
        "periodSeconds": 10,
    }
    assert server["envFrom"] == [{"configMapRef": {"name": "beluga-ai-config"}}]


def test_api_keys_come_from_the_secret_by_secret_key_ref():
    server = containers(render().get("Deployment", "beluga-ai"))["beluga-ai"]
    assert server["env"] == [
        {
            "name": "OPENAI_API_KEY",
            "valueFrom": {"secretKeyRef": {"name": "beluga-ai-secrets", "key": "openai-api-key"}},
        },
        {
            "name": "ANTHROPIC_API_KEY",
            "valueFrom": {
                "secretKeyRef": {"name": "beluga-ai-secrets", "key": "anthropic-api-key", "optional": True}
            },
        },
    ]


def test_api_keys_are_a_list_in_values():
    values = {
        "apiKeys": [
            {"key": "mistral-api-key", "env": "MISTRAL_API_KEY", "optional": True},
            {"key": "cohere-api-key", "env": "COHERE_API_KEY"},
        ]
    }
    rendered = render(values)
    env = containers(rendered.get("Deployment", "beluga-ai"))["beluga-ai"]["env"]
    assert [(e["name"], e["valueFrom"]["secretKeyRef"]) for e in env] == [
        ("MISTRAL_API_KEY", {"name": "beluga-ai-secrets", "key": "mistral-api-key", "optional": True}),
        ("COHERE_API_KEY", {"name": "beluga-ai-secrets", "key": "cohere-api-key"}),
    ]
    assert "beluga-secrets set cohere-api-key -n ai\n" in rendered.notes
    assert "The pods wait (CreateContainerConfigError) until these keys are set: cohere-api-key." in (
        rendered.notes
    )


def test_deployment_is_annotated_for_the_agent_to_reload_it():
    deployment = render().get("Deployment", "beluga-ai")
    assert deployment["metadata"]["annotations"]["beluga-ai.io/reload"] == "beluga-ai-secrets,beluga-ai-config"


def test_service_has_the_guides_fields():
    service = render().get("Service", "beluga-ai")
    assert service["apiVersion"] == "v1"
    assert service["spec"]["type"] == "ClusterIP"
    assert service["spec"]["ports"] == [{"port": 8080, "targetPort": "http", "protocol": "TCP", "name": "http"}]
    assert service["spec"]["selector"] == SERVER_SELECTOR


def test_configmap_holds_the_config_values():
    rendered = render({"config": {"llmProvider": "anthropic", "maxTokens": 4096, "streaming": True}})
    config = rendered.get("ConfigMap", "beluga-ai-config")
    # ConfigMap data is strings only.
    assert config["data"] == {
        "llmProvider": "anthropic",
        "embeddingProvider": "openai",
        "maxTokens": "4096",
        "streaming": "true",
    }


def test_numbers_in_config_keep_the_form_they_were_written_in():
    # Values files give Helm floating-point numbers (`--set` gives integers): neither may come out
    # as "1e+06".
    from_file = {"maxTokens": 1000000, "contextWindow": 2000000000000, "temperature": 0.7, "topP": 1.0,
                 "budget": 12.5, "retries": 0}
    from_set = set_values("config.maxTokens=1000000", "config.temperature=0.7")["config"]
    for values, expected in (
        (from_file, {"maxTokens": "1000000", "contextWindow": "2000000000000", "temperature": "0.7", "topP": "1",
                     "budget": "12.5", "retries": "0"}),
        (from_set, {"maxTokens": "1000000", "temperature": "0.7"}),
    ):
        data = render({"config": values}).get("ConfigMap", "beluga-ai-config")["data"]
        assert {k: data[k] for k in expected} == expected


def test_service_types_of_the_guide_render():
    for service_type in ("ClusterIP", "NodePort", "LoadBalancer"):
        service = render({"service": {"type": service_type, "port": 9090}}).get("Service", "beluga-ai")
        assert service["spec"]["type"] == service_type
        assert service["spec"]["ports"][0]["port"] == 9090
        assert "nodePort" not in service["spec"]["ports"][0]
        assert "annotations" not in service["metadata"]


def test_service_annotations_and_node_port():
    annotations = {"service.beta.kubernetes.io/aws-load-balancer-internal": "true"}
    for service_type in ("NodePort", "LoadBalancer"):
        values = {"service": {"type": service_type, "nodePort": 30080, "annotations": annotations}}
        service = render(values).get("Service", "beluga-ai")
        assert service["metadata"]["annotations"] == annotations
        assert service["spec"]["ports"] == [
            {"port": 8080, "targetPort": "http", "protocol": "TCP", "name": "http", "nodePort": 30080}
        ]


# --- the guide's --set overrides --------------------------------------------------------------


def test_guide_set_overrides():
    rendered = render(set_values("replicaCount=3", "image.tag=v1.2.3"), is_upgrade=True)
    deployment = rendered.get("Deployment", "beluga-ai")
    assert deployment["spec"]["replicas"] == 3
    assert containers(deployment)["beluga-ai"]["image"] == "beluga-ai:v1.2.3"
    # The warning about an unpinned image goes away once the tag is pinned.
    assert 'image.tag is "latest"' not in rendered.notes
    assert 'image.tag is "latest"' in render().notes


def test_images_can_be_pinned_by_digest():
    digest = "sha256:" + "0f" * 32
    rendered = render({"image": {"digest": digest}, "agent": {"image": {"digest": digest}}})
    assert containers(rendered.get("Deployment", "beluga-ai"))["beluga-ai"]["image"] == f"beluga-ai@{digest}"
    agent = containers(rendered.get("Deployment", "beluga-ai-agent"))["beluga-secrets-agent"]
    assert agent["image"] == f"{AGENT_IMAGE}@{digest}"


def test_image_pull_secrets_reach_every_pod():
    rendered = render(set_values("imagePullSecrets[0].name=registry-credentials"))
    for name in ("beluga-ai", "beluga-ai-agent"):
        pod = rendered.get("Deployment", name)["spec"]["template"]["spec"]
        assert pod["imagePullSecrets"] == [{"name": "registry-credentials"}], name


# --- every optional feature on ----------------------------------------------------------------


def test_every_option_on(all_on):
    rendered = render(all_on, api_versions=[PROMETHEUS_OPERATOR_API])

    hpa = rendered.get("HorizontalPodAutoscaler", "beluga-ai")
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "beluga-ai"}
    assert hpa["spec"]["minReplicas"] == 2
    assert hpa["spec"]["maxReplicas"] == 10
    assert hpa["spec"]["metrics"] == [
        {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}}
    ]
    # With an autoscaler the Deployment leaves replicas to it.
    assert "replicas" not in rendered.get("Deployment", "beluga-ai")["spec"]

    monitor = rendered.get("ServiceMonitor", "beluga-ai")
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    assert monitor["metadata"]["labels"]["release"] == "prometheus"
    assert monitor["spec"]["selector"]["matchLabels"] == SERVER_SELECTOR
    assert monitor["spec"]["endpoints"] == [{"port": "http", "path": "/metrics", "interval": "30s",
                                             "relabelings": all_on["serviceMonitor"]["relabelings"]}]
    assert matches(monitor["spec"]["selector"]["matchLabels"], rendered.get("Service", "beluga-ai")["metadata"]["labels"])

    agent_monitor = rendered.get("ServiceMonitor", "beluga-ai-agent")
    assert agent_monitor["spec"]["endpoints"] == [{"port": "metrics", "path": "/metrics", "interval": "30s",
                                                   "metricRelabelings": all_on["agent"]["serviceMonitor"]["metricRelabelings"]}]
    agent_service = rendered.get("Service", "beluga-ai-agent")
    assert matches(agent_monitor["spec"]["selector"]["matchLabels"], agent_service["metadata"]["labels"])
    # Each monitor selects its own Service only.
    assert not matches(monitor["spec"]["selector"]["matchLabels"], agent_service["metadata"]["labels"])
    assert not matches(
        agent_monitor["spec"]["selector"]["matchLabels"], rendered.get("Service", "beluga-ai")["metadata"]["labels"]
    )

    agent = containers(rendered.get("Deployment", "beluga-ai-agent"))["beluga-secrets-agent"]
    assert agent["image"] == f"{AGENT_IMAGE}@sha256:" + "ab" * 32
    assert "--signatures=required" in agent["args"]
    assert rendered.get("ServiceAccount", "beluga-ai-agent")["metadata"]["annotations"] == {
        "example.com/role": "beluga-secrets"
    }
    server_pod = rendered.get("Deployment", "beluga-ai")["spec"]["template"]
    assert server_pod["metadata"]["annotations"] == {"example.com/team": "ai"}
    assert server_pod["spec"]["nodeSelector"] == {"kubernetes.io/os": "linux"}
    assert server_pod["spec"]["tolerations"][0]["key"] == "dedicated"


def test_service_monitors_need_the_prometheus_operator_api():
    values = {"serviceMonitor": {"enabled": True}, "agent": {"serviceMonitor": {"enabled": True}}}
    without = render(values)
    assert without.of_kind("ServiceMonitor") == []
    assert "serviceMonitor.enabled is true, but this cluster does not serve monitoring.coreos.com/v1" in (
        without.notes
    )
    assert "agent.serviceMonitor.enabled is true" in without.notes
    with_api = render(values, api_versions=[PROMETHEUS_OPERATOR_API])
    assert sorted(o["metadata"]["name"] for o in with_api.of_kind("ServiceMonitor")) == [
        "beluga-ai",
        "beluga-ai-agent",
    ]
    assert "does not serve" not in with_api.notes
    # The API alone does not create them: they stay behind their switches.
    assert render(api_versions=[PROMETHEUS_OPERATOR_API]).of_kind("ServiceMonitor") == []


# --- the agent --------------------------------------------------------------------------------


def test_agent_deployment_mode():
    rendered = render()
    deployment = rendered.get("Deployment", "beluga-ai-agent")
    spec = deployment["spec"]
    assert spec["replicas"] == 2
    assert spec["selector"]["matchLabels"] == AGENT_SELECTOR
    pod = spec["template"]["spec"]
    assert pod["serviceAccountName"] == "beluga-ai-agent"
    assert pod["automountServiceAccountToken"] is True
    agent = containers(deployment)["beluga-secrets-agent"]
    assert agent["image"] == f"{AGENT_IMAGE}:0.1.0"
    assert agent["args"] == [
        "agent",
        "--namespace=ai",
        "--release=beluga-ai",
        "--secret=beluga-ai-secrets",
        "--config-map=beluga-ai-config",
        "--deployment=beluga-ai",
        "--sealing-key-secret=beluga-ai-sealing-key",
        "--public-key-config-map=beluga-ai-public-key",
        "--signers-config-map=beluga-ai-signers",
        "--lease=beluga-ai-agent",
        "--debounce=1s",
        "--max-delay=10s",
        "--health-addr=:8081",
        "--leader-elect=true",
        "--signatures=optional",
        "--log-level=info",
    ]
    assert agent["env"] == [{"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}]
    assert agent["ports"] == [{"name": "metrics", "containerPort": 8081, "protocol": "TCP"}]
    assert agent["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "metrics"}
    assert agent["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "metrics"}
    assert agent["resources"]["requests"] and agent["resources"]["limits"]
    # Two agents prefer two nodes.
    anti = pod["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"][0]
    assert anti["podAffinityTerm"]["labelSelector"]["matchLabels"] == AGENT_SELECTOR

    pdb = rendered.get("PodDisruptionBudget", "beluga-ai-agent")
    assert pdb["spec"]["selector"]["matchLabels"] == AGENT_SELECTOR
    assert rendered.get("Service", "beluga-ai-agent")["spec"]["selector"] == AGENT_SELECTOR
    assert rendered.get("Service", "beluga-ai-agent")["spec"]["ports"] == [
        {"name": "metrics", "port": 8081, "targetPort": "metrics", "protocol": "TCP"}
    ]


def test_agent_settings_reach_its_command_line():
    values = {
        "agent": {
            "debounce": "250ms",
            "maxDelay": "5s",
            "healthPort": 9091,
            "logLevel": "debug",
            "replicaCount": 1,
            "leaderElection": {"enabled": False},
        }
    }
    rendered = render(values)
    agent = containers(rendered.get("Deployment", "beluga-ai-agent"))["beluga-secrets-agent"]
    for arg in ("--debounce=250ms", "--max-delay=5s", "--health-addr=:9091", "--log-level=debug", "--leader-elect=false"):
        assert arg in agent["args"], arg
    assert agent["ports"][0]["containerPort"] == 9091
    assert not rendered.has("Lease", "beluga-ai-agent")


def test_server_and_agent_selectors_never_overlap():
    for values in ({}, SIDECAR):
        rendered = render(values)
        server_pod_labels = rendered.get("Deployment", "beluga-ai")["spec"]["template"]["metadata"]["labels"]
        assert not matches(AGENT_SELECTOR, server_pod_labels)
    rendered = render()
    agent_pod_labels = rendered.get("Deployment", "beluga-ai-agent")["spec"]["template"]["metadata"]["labels"]
    for selector in (
        rendered.get("Deployment", "beluga-ai")["spec"]["selector"]["matchLabels"],
        rendered.get("Service", "beluga-ai")["spec"]["selector"],
        rendered.get("PodDisruptionBudget", "beluga-ai")["spec"]["selector"]["matchLabels"],
    ):
        assert not matches(selector, agent_pod_labels), selector


def test_sidecar_mode():
    rendered = render(SIDECAR)
    assert not rendered.has("Deployment", "beluga-ai-agent")
    assert not rendered.has("PodDisruptionBudget", "beluga-ai-agent")
    for kind in ("ServiceAccount", "Role", "RoleBinding", "Service"):
        assert rendered.has(kind, "beluga-ai-agent"), kind

    deployment = rendered.get("Deployment", "beluga-ai")
    pod = deployment["spec"]["template"]["spec"]
    assert list(containers(deployment)) == ["beluga-ai", "beluga-secrets-agent"]
    assert pod["serviceAccountName"] == "beluga-ai-agent"
    # Only the agent container gets the API token.
    assert pod["automountServiceAccountToken"] is False
    token_path = "/var/run/secrets/kubernetes.io/serviceaccount"
    server, agent = containers(deployment)["beluga-ai"], containers(deployment)["beluga-secrets-agent"]
    assert token_path not in [m["mountPath"] for m in server["volumeMounts"]]
    [api_mount] = [m for m in agent["volumeMounts"] if m["mountPath"] == token_path]
    assert api_mount["readOnly"] is True
    [api_volume] = [v for v in pod["volumes"] if v["name"] == api_mount["name"]]
    sources = api_volume["projected"]["sources"]
    assert sources[0]["serviceAccountToken"]["path"] == "token"
    assert sources[1]["configMap"] == {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}
    assert sources[2]["downwardAPI"]["items"][0]["path"] == "namespace"

    assert "--deployment=beluga-ai" in agent["args"]
    assert agent["livenessProbe"]["httpGet"]["path"] == "/healthz"
    # The agent does not decide whether the server receives traffic, unless asked to.
    assert "readinessProbe" not in agent
    gated = render({"agent": {"mode": "sidecar", "sidecar": {"gateReadiness": True}}})
    gated_agent = containers(gated.get("Deployment", "beluga-ai"))["beluga-secrets-agent"]
    assert gated_agent["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "metrics"}

    # Metrics of the sidecars are reached through the server pods.
    assert rendered.get("Service", "beluga-ai-agent")["spec"]["selector"] == SERVER_SELECTOR


def test_agent_disabled():
    rendered = render({"agent": {"enabled": False}})
    assert rendered.names() == sorted(
        [
            "ConfigMap/beluga-ai-config",
            "ConfigMap/beluga-ai-secrets-sealed",
            "Deployment/beluga-ai",
            "NetworkPolicy/beluga-ai",
            "PodDisruptionBudget/beluga-ai",
            "Service/beluga-ai",
        ]
    )
    assert "beluga-secrets set openai-api-key -n ai --direct" in rendered.notes


def test_names_follow_the_release():
    rendered = render(name="prod", namespace="team-a")
    deployment = rendered.get("Deployment", "prod-beluga-ai")
    assert deployment["metadata"]["annotations"]["beluga-ai.io/reload"] == (
        "prod-beluga-ai-secrets,prod-beluga-ai-config"
    )
    assert rendered.has("ConfigMap", "prod-beluga-ai-secrets-sealed")
    agent = containers(rendered.get("Deployment", "prod-beluga-ai-agent"))["beluga-secrets-agent"]
    assert "--release=prod" in agent["args"]
    assert "--namespace=team-a" in agent["args"]
    assert "--secret=prod-beluga-ai-secrets" in agent["args"]
    # The CLI derives the same names from --release.
    assert "beluga-secrets set openai-api-key -n team-a --release prod\n" in rendered.notes
    assert "beluga-secrets status -n team-a --release prod" in rendered.notes


def test_name_overrides_point_the_cli_at_the_secret():
    rendered = render({"fullnameOverride": "llm-server"}, name="prod")
    assert rendered.get("Deployment", "llm-server")["metadata"]["annotations"]["beluga-ai.io/reload"] == (
        "llm-server-secrets,llm-server-config"
    )
    assert rendered.has("ConfigMap", "llm-server-secrets-sealed")
    agent = containers(rendered.get("Deployment", "llm-server-agent"))["beluga-secrets-agent"]
    for arg in ("--secret=llm-server-secrets", "--config-map=llm-server-config", "--deployment=llm-server"):
        assert arg in agent["args"], arg
    assert "beluga-secrets set openai-api-key -n ai --secret llm-server-secrets\n" in rendered.notes
    # The agent's own objects follow the fullname too.
    assert rendered.has("ConfigMap", "llm-server-public-key")
    assert rendered.has("Lease", "llm-server-agent")
    assert "--sealing-key-secret=llm-server-sealing-key" in agent["args"]


def test_notes_tell_the_next_step():
    notes = render().notes
    assert "beluga-secrets set openai-api-key -n ai\n" in notes
    assert "beluga-secrets set anthropic-api-key -n ai    # optional" in notes
    assert "until these keys are set: openai-api-key." in notes
    assert "kubectl get pods -n ai -l app.kubernetes.io/name=beluga-ai,app.kubernetes.io/instance=beluga-ai" in notes
    assert "helm test beluga-ai -n ai --logs" in notes
    assert "helm test" not in render({"tests": {"enabled": False}}).notes
    assert "helm test" not in render({"agent": {"enabled": False}}).notes


def test_network_policies_admit_only_the_pods_ports():
    rendered = render()
    server = rendered.get("NetworkPolicy", "beluga-ai")
    assert server["spec"]["podSelector"]["matchLabels"] == SERVER_SELECTOR
    assert server["spec"]["policyTypes"] == ["Ingress"]
    assert server["spec"]["ingress"] == [{"ports": [{"port": "http", "protocol": "TCP"}]}]
    agent = rendered.get("NetworkPolicy", "beluga-ai-agent")
    assert agent["spec"]["podSelector"]["matchLabels"] == AGENT_SELECTOR
    assert agent["spec"]["ingress"] == [{"ports": [{"port": "metrics", "protocol": "TCP"}]}]

    sidecar = render(SIDECAR)
    assert not sidecar.has("NetworkPolicy", "beluga-ai-agent")
    assert sidecar.get("NetworkPolicy", "beluga-ai")["spec"]["ingress"][1] == {
        "ports": [{"port": "metrics", "protocol": "TCP"}]
    }

    peers = [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "gateway"}}}]
    restricted = render({"networkPolicy": {"from": peers}}).get("NetworkPolicy", "beluga-ai")
    assert restricted["spec"]["ingress"][0]["from"] == peers
    assert render({"networkPolicy": {"enabled": False}}).of_kind("NetworkPolicy") == []
