"""The values people expect from a well-kept chart (the `helm create` scaffold, Bitnami's
conventions), the `helm test` hook, and the chart without its agent.

Each test renders the value and checks where it lands; the errors for values that would break the
release are in test_chart_values_errors.py.
"""

from __future__ import annotations

import hashlib

from helmchart import AGENT_IMAGE, PROMETHEUS_OPERATOR_API, SIDECAR, containers, render
from chartfixtures import all_on, sealed_markers  # noqa: F401 (fixtures)

SERVER_SELECTOR = {"app.kubernetes.io/name": "beluga-ai", "app.kubernetes.io/instance": "beluga-ai"}
AGENT_SELECTOR = {"app.kubernetes.io/name": "beluga-ai-agent", "app.kubernetes.io/instance": "beluga-ai"}
NO_AGENT = {"agent": {"enabled": False}}


def pod(rendered, deployment: str) -> dict:
    return rendered.get("Deployment", deployment)["spec"]["template"]


# --- server pods ------------------------------------------------------------------------------


def test_pod_labels_add_to_the_selector_labels(all_on):
    rendered = render(all_on)
    for name, selector, extra in (("beluga-ai", SERVER_SELECTOR, all_on["podLabels"]),
                                  ("beluga-ai-agent", AGENT_SELECTOR, all_on["agent"]["podLabels"])):
        deployment = rendered.get("Deployment", name)
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert labels.items() >= {**selector, **extra}.items(), name
        # The selector stays the chart's: extra labels never change which pods the release owns.
        assert deployment["spec"]["selector"]["matchLabels"] == selector
    # In sidecar mode the server's pods are the agent's too, and carry podLabels.
    sidecar = render({**all_on, "agent": {**all_on["agent"], "mode": "sidecar"}})
    assert pod(sidecar, "beluga-ai")["metadata"]["labels"]["example.com/cost-center"] == "ai"


def test_extra_env_follows_the_api_keys(all_on):
    server = containers(render(all_on).get("Deployment", "beluga-ai"))["beluga-ai"]
    assert [e["name"] for e in server["env"]] == ["OPENAI_API_KEY", "ANTHROPIC_API_KEY", "LOG_LEVEL",
                                                  "DATABASE_PASSWORD"]
    assert server["env"][2:] == all_on["extraEnv"]
    # Without apiKeys the extra variables still render.
    alone = containers(render({"apiKeys": [], "extraEnv": [{"name": "A", "value": "b"}]}).get(
        "Deployment", "beluga-ai"))["beluga-ai"]
    assert alone["env"] == [{"name": "A", "value": "b"}]
    assert "env" not in containers(render({"apiKeys": []}).get("Deployment", "beluga-ai"))["beluga-ai"]


def test_extra_volumes_and_mounts(all_on):
    deployment = render(all_on).get("Deployment", "beluga-ai")
    volumes = deployment["spec"]["template"]["spec"]["volumes"]
    assert [v["name"] for v in volumes] == ["tmp", "prompts"]
    assert volumes[1] == all_on["extraVolumes"][0]
    mounts = containers(deployment)["beluga-ai"]["volumeMounts"]
    assert mounts == [{"name": "tmp", "mountPath": "/tmp"}] + all_on["extraVolumeMounts"]


def test_topology_spread_constraints_select_their_own_pods():
    zone = {"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "ScheduleAnyway"}
    own = {**zone, "topologyKey": "kubernetes.io/hostname",
           "labelSelector": {"matchLabels": {"tier": "llm"}}, "matchLabelKeys": ["pod-template-hash"]}
    values = {"topologySpreadConstraints": [zone, own], "agent": {"topologySpreadConstraints": [zone]}}
    rendered = render(values)
    server = pod(rendered, "beluga-ai")["spec"]["topologySpreadConstraints"]
    assert server == [{**zone, "labelSelector": {"matchLabels": SERVER_SELECTOR}}, own]
    agent = pod(rendered, "beluga-ai-agent")["spec"]["topologySpreadConstraints"]
    assert agent == [{**zone, "labelSelector": {"matchLabels": AGENT_SELECTOR}}]
    assert "topologySpreadConstraints" not in pod(render(), "beluga-ai")["spec"]


def test_priority_class_names(all_on):
    rendered = render(all_on)
    assert pod(rendered, "beluga-ai")["spec"]["priorityClassName"] == "beluga-ai-high"
    assert pod(rendered, "beluga-ai-agent")["spec"]["priorityClassName"] == "beluga-secrets-critical"
    defaults = render()
    for name in ("beluga-ai", "beluga-ai-agent"):
        assert "priorityClassName" not in pod(defaults, name)["spec"]


# --- the agent --------------------------------------------------------------------------------


def test_agent_extra_args_and_env_come_after_the_charts(all_on):
    without = {**all_on, "agent": {k: v for k, v in all_on["agent"].items() if k not in ("extraArgs", "extraEnv")}}
    chart_args = containers(render(without).get("Deployment", "beluga-ai-agent"))["beluga-secrets-agent"]["args"]
    for values, deployment in ((all_on, "beluga-ai-agent"),
                               ({**all_on, "agent": {**all_on["agent"], "mode": "sidecar"}}, "beluga-ai")):
        agent = containers(render(values).get("Deployment", deployment))["beluga-secrets-agent"]
        assert agent["args"] == chart_args + ["--resync-period=2m"]
        assert agent["env"][1:] == all_on["agent"]["extraEnv"]
        assert agent["env"][0]["name"] == "POD_NAME"


# --- ServiceMonitors and Ingress --------------------------------------------------------------


def test_service_monitor_relabelings():
    relabel = [{"action": "labeldrop", "regex": "pod_template_hash"}]
    metric = [{"action": "drop", "sourceLabels": ["__name__"], "regex": "go_gc_.*"}]
    values = {"serviceMonitor": {"enabled": True, "relabelings": relabel, "metricRelabelings": metric},
              "agent": {"serviceMonitor": {"enabled": True, "relabelings": relabel, "metricRelabelings": metric}}}
    rendered = render(values, api_versions=[PROMETHEUS_OPERATOR_API])
    for name in ("beluga-ai", "beluga-ai-agent"):
        [endpoint] = rendered.get("ServiceMonitor", name)["spec"]["endpoints"]
        assert (endpoint["relabelings"], endpoint["metricRelabelings"]) == (relabel, metric), name


def test_ingress_is_off_by_default_and_routes_to_the_http_port(all_on):
    assert render().of_kind("Ingress") == []
    rendered = render(all_on)
    ingress = rendered.get("Ingress", "beluga-ai")
    assert ingress["apiVersion"] == "networking.k8s.io/v1"
    assert ingress["metadata"]["annotations"] == all_on["ingress"]["annotations"]
    assert ingress["spec"]["ingressClassName"] == "nginx"
    assert ingress["spec"]["tls"] == all_on["ingress"]["tls"]
    backend = {"service": {"name": "beluga-ai", "port": {"name": "http"}}}
    # A host without paths gets `/`.
    assert ingress["spec"]["rules"] == [
        {"host": "beluga-ai.example.com", "http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": backend}]}}
    ]
    service = rendered.get("Service", "beluga-ai")
    assert [p["name"] for p in service["spec"]["ports"]] == ["http"]

    paths = [{"path": "/v1", "pathType": "Exact"}, {"path": "/api"}]
    two = render({"ingress": {"enabled": True,
                              "hosts": [{"host": "a.example.com", "paths": paths}, {"host": "b.example.com"}]}})
    rules = two.get("Ingress", "beluga-ai")["spec"]["rules"]
    assert [(r["host"], [(p["path"], p["pathType"]) for p in r["http"]["paths"]]) for r in rules] == [
        ("a.example.com", [("/v1", "Exact"), ("/api", "Prefix")]),
        ("b.example.com", [("/", "Prefix")]),
    ]
    assert "ingressClassName" not in two.get("Ingress", "beluga-ai")["spec"]


# --- without the agent ------------------------------------------------------------------------


def test_without_the_agent_a_change_of_settings_rolls_the_pods():
    def checksum(values):
        annotations = pod(render(values), "beluga-ai")["metadata"].get("annotations") or {}
        return annotations.get("checksum/config")

    first = checksum(NO_AGENT)
    assert first and len(first) == 64
    # The hash of the ConfigMap's data, not of anything else in the release.
    data = render(NO_AGENT).get("ConfigMap", "beluga-ai-config")["data"]
    text = "".join(f'\n"{k}": "{v}"' for k, v in sorted(data.items()))
    assert first == hashlib.sha256(text.encode()).hexdigest()
    assert checksum({**NO_AGENT, "config": {"llmProvider": "anthropic"}}) not in (None, first)
    assert checksum({**NO_AGENT, "replicaCount": 5, "image": {"tag": "v2"}}) == first
    # Kept next to the operator's own pod annotations.
    annotations = pod(render({**NO_AGENT, "podAnnotations": {"example.com/team": "ai"}}), "beluga-ai")[
        "metadata"]["annotations"]
    assert annotations == {"example.com/team": "ai", "checksum/config": first}
    # With the agent, the agent rolls the pods (once per change, whoever made it): no checksum,
    # which would roll them a second time on the next upgrade.
    assert checksum({}) is None and checksum(SIDECAR) is None


def test_without_the_agent_no_agent_image_is_needed():
    rendered = render(NO_AGENT, agent_image=False)
    assert rendered.of_kind("Pod") == [] and not rendered.has("Deployment", "beluga-ai-agent")


# --- `helm test` ------------------------------------------------------------------------------


def test_the_test_hook_checks_the_release_with_the_agent_image():
    rendered = render()
    hooks = {o["kind"]: o for o in rendered.tests()}
    assert sorted(hooks) == ["NetworkPolicy", "Pod", "Role", "RoleBinding", "ServiceAccount"]
    for kind, hook in hooks.items():
        annotations = hook["metadata"]["annotations"]
        assert annotations["helm.sh/hook"] == "test"
        assert annotations["helm.sh/hook-delete-policy"] == "before-hook-creation,hook-succeeded"
        # The account and its rights exist before the Pod runs.
        assert int(annotations["helm.sh/hook-weight"]) < 0 or kind == "Pod", kind
    test = hooks["Pod"]
    assert int(test["metadata"]["annotations"]["helm.sh/hook-weight"]) == 0
    # Nothing needs to reach the check.
    policy = hooks["NetworkPolicy"]["spec"]
    assert policy["podSelector"]["matchLabels"].items() <= test["metadata"]["labels"].items()
    assert policy["policyTypes"] == ["Ingress"] and "ingress" not in policy
    spec = test["spec"]
    assert spec["restartPolicy"] == "Never"
    assert spec["serviceAccountName"] == "beluga-ai-test"
    [container] = spec["containers"]
    assert container["image"] == f"{AGENT_IMAGE}:0.1.0"
    # `beluga-secrets doctor`, whose exit status is the verdict; no pod log read.
    assert container["command"] == ["beluga-secrets"]
    assert container["args"] == ["doctor", "-n", "ai", "--release", "beluga-ai", "--agent-deployment",
                                 "beluga-ai-agent", "--log-lines", "0"]
    # Its labels match no selector of the release: no Service, PDB or NetworkPolicy counts it.
    labels = test["metadata"]["labels"]
    for selector in (SERVER_SELECTOR, AGENT_SELECTOR):
        assert not all(labels.get(k) == v for k, v in selector.items())


def test_the_test_account_reads_what_doctor_reads_and_no_secret():
    role = render().get("Role", "beluga-ai-test")
    assert role["rules"] == [
        {"apiGroups": [""], "resources": ["configmaps"],
         "resourceNames": ["beluga-ai-config", "beluga-ai-secrets-sealed", "beluga-ai-secrets-status",
                           "beluga-ai-public-key"],
         "verbs": ["get"]},
        {"apiGroups": ["apps"], "resources": ["deployments"], "resourceNames": ["beluga-ai", "beluga-ai-agent"],
         "verbs": ["get"]},
        {"apiGroups": [""], "resources": ["pods", "events"], "verbs": ["list"]},
        {"apiGroups": ["autoscaling"], "resources": ["horizontalpodautoscalers"], "verbs": ["list"]},
        {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "resourceNames": ["beluga-ai-agent"],
         "verbs": ["get"]},
    ]
    # Reads only: no Secret, no pod log, nothing written.
    for rule in role["rules"]:
        assert set(rule["verbs"]) <= {"get", "list"}, rule
        assert "secrets" not in rule["resources"] and "pods/log" not in rule["resources"], rule
    binding = render().get("RoleBinding", "beluga-ai-test")
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "beluga-ai-test", "namespace": "ai"}]
    assert render().get("ServiceAccount", "beluga-ai-test")["automountServiceAccountToken"] is False
    # A ServiceMonitor asked for: doctor checks the cluster serves them, and may list them.
    monitored = render({"serviceMonitor": {"enabled": True}})
    assert monitored.get("Role", "beluga-ai-test")["rules"][-1] == {
        "apiGroups": ["monitoring.coreos.com"], "resources": ["servicemonitors"], "verbs": ["list"]}
    assert "--service-monitor" in containers(monitored.get("Pod", "beluga-ai-test"))["release-test"]["args"]


def test_the_test_follows_the_release_and_the_agents_setup():
    renamed = render(name="prod", namespace="team-a")
    args = containers(renamed.get("Pod", "prod-beluga-ai-test"))["release-test"]["args"]
    assert args[:5] == ["doctor", "-n", "team-a", "--release", "prod"]
    assert args[args.index("--agent-deployment") + 1] == "prod-beluga-ai-agent"
    # Renamed objects are named to doctor.
    overridden = render({"fullnameOverride": "chat"})
    args = containers(overridden.get("Pod", "chat-test"))["release-test"]["args"]
    for flag, value in (("--secret", "chat-secrets"), ("--config-map", "chat-config"), ("--deployment", "chat"),
                        ("--agent-deployment", "chat-agent")):
        assert args[args.index(flag) + 1] == value, flag
    # In sidecar mode doctor finds the agent in the server's pods.
    sidecar = render(SIDECAR)
    assert "--agent-deployment" in containers(sidecar.get("Pod", "beluga-ai-test"))["release-test"]["args"]
    # Without leader election there is no Lease to check, nor to read.
    single = render({"agent": {"replicaCount": 1, "leaderElection": {"enabled": False}}})
    assert "--no-leader-election" in containers(single.get("Pod", "beluga-ai-test"))["release-test"]["args"]
    assert [r["resources"] for r in single.get("Role", "beluga-ai-test")["rules"]] == [
        ["configmaps"], ["deployments"], ["pods", "events"], ["horizontalpodautoscalers"]]
    # Switched off, or without the agent, there is no test.
    assert render({"tests": {"enabled": False}}).tests() == []
    assert render(NO_AGENT).tests() == []
