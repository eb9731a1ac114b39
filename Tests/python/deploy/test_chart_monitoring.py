"""The chart's alerts (PrometheusRule) and Grafana dashboard: off by default, created only where
they can work, and built only from metrics the agent really exports.

The metric names come from two independent places: the agent's metric registry in the code
(every `Counter`/`Gauge`/`Recorder`/`Timer`/`Meter` label in the product's sources, with its
dimensions), and the `/metrics` page of an agent running against the emulator with the chart's
objects, after a key was applied and an envelope rejected. The scrape must hold nothing the
registry does not, so a metric renamed in the code cannot leave the rules behind unnoticed.
"""

from __future__ import annotations

import json
import re
import secrets
from pathlib import Path

import pytest

from cluster import eventually, set_key
from helmchart import PROMETHEUS_OPERATOR_API, PROMETHEUS_RULE_API, REPO_ROOT, render
from test_chart_on_cluster import (
    AGENT_COMPONENT, NAMESPACE, apply_chart, render_for_local_agent, start_agent_as_service_account,
)
from chartfixtures import emulator  # noqa: F401 (pytest fixtures)

MONITORING = [PROMETHEUS_OPERATOR_API, PROMETHEUS_RULE_API]
ON = {"agent": {"prometheusRule": {"enabled": True, "keyMaxAgeSeconds": 7776000, "kubeStateMetrics": True},
                "grafanaDashboard": {"enabled": True}, "serviceMonitor": {"enabled": True}}}
# Series that do not come from the agent, and where they come from.
EXTERNAL = {
    "up": {"job", "namespace", "instance", "pod", "service", "endpoint"},  # Prometheus, per target
    "kube_deployment_status_condition": {"namespace", "deployment", "condition", "status", "reason"},  # kube-state-metrics
}
# Labels Prometheus (through a ServiceMonitor) adds to every series it scrapes.
TARGET_LABELS = {"job", "namespace", "instance", "pod", "service", "endpoint", "container"}
PROMQL_WORDS = {
    "sum", "max", "min", "avg", "count", "by", "without", "on", "ignoring", "group_left", "group_right", "and",
    "or", "unless", "rate", "irate", "increase", "absent", "time", "bool", "offset", "topk", "bottomk",
    "label_values",
}


def registry() -> dict[str, set[str]]:
    """Every metric the product's code can record, with its dimension names: the calls of
    swift-metrics' constructors with a literal label, in every product module."""
    metrics: dict[str, set[str]] = {}
    constructor = re.compile(
        r'\b(?:Counter|FloatingPointCounter|Gauge|Recorder|Timer|Meter)\(\s*label:\s*"([^"]+)"'
        r'(?:\s*,\s*dimensions:\s*\[([^\]]*)\])?', re.S)
    for source in (REPO_ROOT / "Sources").rglob("*.swift"):
        if "KubeEmulator" in source.parts or "kube-emulator" in source.parts:
            continue
        for name, dimensions in constructor.findall(source.read_text()):
            metrics.setdefault(name, set()).update(re.findall(r'\(\s*"([^"]+)"', dimensions or ""))
    return metrics


def dashboard_of(rendered) -> tuple[dict, dict]:
    """The dashboard ConfigMap of a render and the dashboard it holds (its only data key)."""
    [config_map] = [c for c in rendered.of_kind("ConfigMap") if c["metadata"]["name"].endswith("-dashboard")]
    [(_, text)] = config_map["data"].items()
    return config_map, json.loads(text)


def metric_names(expr: str) -> dict[str, set[str]]:
    """The metric names a PromQL expression selects, each with the label names its matchers use."""
    found: dict[str, set[str]] = {}
    # A dashboard variable's `label_values(SELECTOR, LABEL)`: LABEL is a label, not a metric.
    expr = re.sub(r'^label_values\((.*),\s*[A-Za-z_][A-Za-z0-9_]*\s*\)$', r'\1', expr.strip())
    # Each selector's matchers, before the strings are blanked out (a matcher's value may hold braces).
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    for name, matchers in re.findall(r'([A-Za-z_:][A-Za-z0-9_:]*)\s*\{([^}]*)\}', text):
        if name not in PROMQL_WORDS:
            found.setdefault(name, set()).update(re.findall(r'([A-Za-z_][A-Za-z0-9_]*)\s*(?:=~|!~|!=|=)', matchers))
    text = re.sub(r'\{[^}]*\}', ' ', text)
    text = re.sub(r'\[[^\]]*\]', ' ', text)
    text = re.sub(r'\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)', ' ', text)
    for match in re.finditer(r'[A-Za-z_:][A-Za-z0-9_:]*', text):
        word = match.group(0)
        if word in PROMQL_WORDS or text[match.end():].lstrip().startswith("("):
            assert word in PROMQL_WORDS, f"unknown PromQL function {word} in {expr}"
            continue
        if match.start() and (text[match.start() - 1].isdigit() or text[match.start() - 1] == "$"):
            continue  # a number's exponent or unit, or a dashboard variable
        found.setdefault(word, set())
    return found


def grouping_labels(expr: str) -> set[str]:
    """Label names of `by (…)` clauses."""
    return {label.strip() for clause in re.findall(r'\bby\s*\(([^)]*)\)', expr) for label in clause.split(",")
            if label.strip()}


def rules_and_queries(values: dict) -> tuple[list[dict], list[str]]:
    rendered = render(values, api_versions=MONITORING)
    rules = [rule for group in rendered.get("PrometheusRule", "beluga-ai-agent")["spec"]["groups"]
             for rule in group["rules"]]
    _, dashboard = dashboard_of(rendered)
    queries = [target["expr"] for panel in dashboard["panels"] for target in panel.get("targets", [])]
    queries += [variable["query"]["query"] for variable in dashboard["templating"]["list"]
                if isinstance(variable.get("query"), dict)]
    return rules, queries


def check_against(exported: dict[str, set[str]], expressions: list[str]) -> set[str]:
    """Asserts every metric of `expressions` is exported (or a known external series) with the
    labels used on it; returns the agent metrics used."""
    used = set()
    for expr in expressions:
        for name, labels in metric_names(expr).items():
            if name in EXTERNAL:
                assert labels <= EXTERNAL[name], (expr, labels - EXTERNAL[name])
                continue
            assert name in exported, f"{name} (in {expr}) is not a metric the agent exports: {sorted(exported)}"
            allowed = exported[name] | TARGET_LABELS
            assert labels <= allowed, f"{expr}: labels {labels - allowed} are not on {name}"
            used.add(name)
        available = set(TARGET_LABELS)
        for name in metric_names(expr):
            available |= exported.get(name, set()) | EXTERNAL.get(name, set())
        assert grouping_labels(expr) <= available, f"{expr}: grouped by {grouping_labels(expr) - available}"
    return used


def test_the_extraction_of_metric_names_is_not_blind():
    assert metric_names('sum by (key) (increase(foo_total{job="a", key=~"x{1}"}[5m])) > 1e3') == {"foo_total": {"job", "key"}}
    assert metric_names("time() - max(bar_seconds)") == {"bar_seconds": set()}
    assert metric_names('label_values(baz{namespace="$namespace"}, job)') == {"baz": {"namespace"}}
    with pytest.raises(AssertionError):
        check_against({"foo_total": {"key"}}, ['rate(foo_total{nope="1"}[1m])'])
    with pytest.raises(AssertionError):
        check_against({"foo_total": {"key"}}, ["rate(bar_total[1m])"])


def test_the_registry_holds_the_agents_metrics():
    metrics = registry()
    assert len(metrics) >= 10, metrics
    assert all(name.startswith("beluga_secrets_") for name in metrics), sorted(metrics)
    assert metrics["beluga_secrets_reconciles_total"] == {"result"}
    assert metrics["beluga_secrets_rejections_total"] == {"namespace", "key"}


def test_monitoring_is_off_by_default_and_needs_the_prometheus_rule_api():
    default = render(api_versions=MONITORING)
    assert not default.of_kind("PrometheusRule")
    assert not default.has("ConfigMap", "beluga-ai-agent-dashboard")
    without_api = render(ON, api_versions=[PROMETHEUS_OPERATOR_API])  # the group, but not the kind
    assert not without_api.of_kind("PrometheusRule")
    assert "no alerts were created for the agent" in without_api.notes
    assert without_api.has("ConfigMap", "beluga-ai-agent-dashboard")  # a ConfigMap needs no CRD
    assert not render({"agent": {"enabled": False, "prometheusRule": {"enabled": True},
                                 "grafanaDashboard": {"enabled": True}}}, api_versions=MONITORING).of_kind("PrometheusRule")


def test_the_rules_alert_on_what_the_issue_names():
    rules, _ = rules_and_queries(ON)
    alerts = {rule["alert"]: rule for rule in rules}
    assert set(alerts) == {"BelugaSecretsAgentDown", "BelugaSecretsNoLeader", "BelugaSecretsEnvelopesRejected",
                           "BelugaSecretsReconcilesFailing", "BelugaSecretsRolloutFailed", "BelugaSecretsRolloutStuck",
                           "BelugaSecretsKeyOverdue", "BelugaSecretsInputRejected"}
    for rule in rules:
        assert 'job="beluga-ai-agent"' in rule["expr"] or rule["alert"] == "BelugaSecretsRolloutStuck", rule
        assert rule["labels"]["severity"] in ("critical", "warning")
        assert rule["annotations"]["summary"] and rule["annotations"]["description"]
    # Per key against the maximum age the agent exports; keys without one against the chart-wide value.
    overdue = alerts["BelugaSecretsKeyOverdue"]["expr"]
    assert "> max by (job, namespace, key) (beluga_secrets_key_max_age_seconds{" in overdue, overdue
    assert overdue.endswith("> 7776000"), overdue
    # The optional alerts are left out unless asked for, and the job can be named.
    plain, _ = rules_and_queries({"agent": {"prometheusRule": {"enabled": True, "job": "secrets-agent",
                                                               "labels": {"release": "prometheus"}},
                                            "grafanaDashboard": {"enabled": True}}})
    assert {rule["alert"] for rule in plain} == set(alerts) - {"BelugaSecretsRolloutStuck"}
    plain_overdue = next(rule["expr"] for rule in plain if rule["alert"] == "BelugaSecretsKeyOverdue")
    assert "unless" not in plain_overdue and "beluga_secrets_key_max_age_seconds" in plain_overdue, plain_overdue
    assert all('job="secrets-agent"' in rule["expr"] for rule in plain)
    rule_object = render({"agent": {"prometheusRule": {"enabled": True, "labels": {"release": "prometheus"}}}},
                         api_versions=MONITORING).get("PrometheusRule", "beluga-ai-agent")
    assert rule_object["metadata"]["labels"]["release"] == "prometheus"
    assert rule_object["metadata"]["namespace"] == "ai"


def test_the_dashboard_carries_the_sidecar_label_and_is_one_per_release():
    rendered = render({"agent": {"grafanaDashboard": {"enabled": True, "annotations": {"grafana_folder": "Beluga"}}}})
    config_map = rendered.get("ConfigMap", "beluga-ai-agent-dashboard")
    assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert config_map["metadata"]["annotations"] == {"grafana_folder": "Beluga"}
    dashboard = json.loads(config_map["data"]["beluga-secrets-agent-ai-beluga-ai.json"])
    assert dashboard["panels"] and all(panel.get("targets") for panel in dashboard["panels"])
    current = {v["name"]: v.get("current", {}).get("value") for v in dashboard["templating"]["list"]}
    assert current["namespace"] == "ai" and current["job"] == "beluga-ai-agent"
    other = json.loads(render({"agent": {"grafanaDashboard": {"enabled": True}}}, name="other")
                       .get("ConfigMap", "other-beluga-ai-agent-dashboard")["data"]["beluga-secrets-agent-ai-other.json"])
    assert other["uid"] != dashboard["uid"] and other["title"] != dashboard["title"]
    # Helm merges maps: the default label goes with `null`, as with any map value.
    custom = render({"agent": {"grafanaDashboard": {"enabled": True,
                                                    "labels": {"dashboards": "beluga", "grafana_dashboard": None},
                                                    "namespace": "monitoring"}}})
    moved, _ = dashboard_of(custom)
    assert moved["metadata"]["namespace"] == "monitoring"
    assert moved["metadata"]["labels"]["dashboards"] == "beluga" and "grafana_dashboard" not in moved["metadata"]["labels"]


def test_two_releases_of_one_name_in_two_namespaces_keep_two_dashboards_in_one_sidecar_namespace():
    # The sidecar watches one namespace and writes every ConfigMap's data keys as files into one
    # folder, and Grafana keys dashboards by uid: a release's ConfigMap name, file name and uid
    # must all differ from another release's, even with the same release name.
    dashboards = [dashboard_of(render({"agent": {"grafanaDashboard": {"enabled": True, "namespace": "monitoring"}}},
                                      namespace=namespace))
                  for namespace in ("team-a", "team-b")]
    (first_map, first), (second_map, second) = dashboards
    assert first_map["metadata"]["namespace"] == second_map["metadata"]["namespace"] == "monitoring"
    assert first_map["metadata"]["name"] != second_map["metadata"]["name"]
    assert set(first_map["data"]).isdisjoint(second_map["data"])
    assert first["uid"] != second["uid"] and first["title"] != second["title"]
    for config_map, dashboard in dashboards:
        assert re.fullmatch(r"[A-Za-z0-9_-]{1,40}", dashboard["uid"])  # Grafana's bound on a uid
        assert len(config_map["metadata"]["name"]) <= 63
    # A long release name and namespace stay inside Kubernetes' and Grafana's bounds, still apart.
    long_ones = [dashboard_of(render({"fullnameOverride": "x" * 63,
                                      "agent": {"grafanaDashboard": {"enabled": True, "namespace": "monitoring"}}},
                                     name="r" * 53, namespace=namespace))
                 for namespace in ("n" * 62 + "a", "n" * 62 + "b")]
    assert long_ones[0][0]["metadata"]["name"] != long_ones[1][0]["metadata"]["name"]
    assert long_ones[0][1]["uid"] != long_ones[1][1]["uid"]
    for config_map, dashboard in long_ones:
        assert len(config_map["metadata"]["name"]) <= 63 and len(dashboard["uid"]) <= 40
        assert all(re.fullmatch(r"[-._a-zA-Z0-9]{1,253}", key) for key in config_map["data"])


def test_every_metric_of_the_rules_and_dashboard_is_in_the_agents_registry():
    rules, queries = rules_and_queries(ON)
    metrics = registry()
    used = check_against(metrics, [rule["expr"] for rule in rules] + queries)
    # The rules and the dashboard cover the agent's metrics, not a corner of them.
    assert used >= {"beluga_secrets_leader", "beluga_secrets_rejections_total", "beluga_secrets_reconciles_total",
                    "beluga_secrets_conflicts_persisted_total", "beluga_secrets_key_age_seconds"}
    assert not set(metrics) - used, f"exported but neither alerted on nor shown: {set(metrics) - used}"


def scraped_metrics(page: str) -> dict[str, set[str]]:
    """Metric names and label names of a Prometheus text page."""
    found: dict[str, set[str]] = {}
    for line in page.splitlines():
        if line.startswith("# TYPE "):
            found.setdefault(line.split()[2], set())
        elif line and not line.startswith("#"):
            match = re.match(r'([A-Za-z_:][A-Za-z0-9_:]*)(?:\{(.*)\})?\s', line)
            assert match, line
            found.setdefault(match.group(1), set()).update(re.findall(r'([A-Za-z_][A-Za-z0-9_]*)="', match.group(2) or ""))
    return found


def test_a_running_agent_exports_what_the_rules_use(emulator, tmp_path: Path):
    # A maximum age from the chart's values reaches the agent through the sealed store's annotation.
    rendered = render_for_local_agent({"apiKeys": [{"key": "openai-api-key", "env": "OPENAI_API_KEY",
                                                    "maxAge": "90d"}]})
    apply_chart(emulator, rendered)
    agent = start_agent_as_service_account(emulator, rendered, "beluga-ai-agent", AGENT_COMPONENT, tmp_path)
    try:
        stored = set_key(emulator, NAMESPACE, "openai-api-key", f"sk-monitor-{secrets.token_hex(8)}", tmp_path)
        assert stored.returncode == 0, stored.stderr.decode()
        # An envelope the agent must refuse: the rejection counter appears.
        emulator.kubectl("patch", "configmap", "beluga-ai-secrets-sealed", "-n", NAMESPACE, "--type", "merge",
                         "-p", json.dumps({"data": {"broken-key": "bs1.not-an-envelope"}}))
        eventually(lambda: "beluga_secrets_rejections_total{" in agent.metrics(), "the agent counts the rejection")
        eventually(lambda: "beluga_secrets_rollouts_total{" in agent.metrics(), "the agent counts the rollout")
        max_age = re.compile(r'^beluga_secrets_key_max_age_seconds\{[^}]*key="openai-api-key"[^}]*\} 7776000(\.0)?$',
                             re.MULTILINE)
        eventually(lambda: max_age.search(agent.metrics()) is not None, "the agent exports the key's maximum age")
        page = agent.metrics()
    finally:
        agent.stop()
    scraped = {name: labels for name, labels in scraped_metrics(page).items() if name.startswith("beluga_secrets_")}
    metrics = registry()
    # Everything the agent exports is in the registry, with the same dimensions.
    for name, labels in scraped.items():
        assert name in metrics, f"{name} is exported but not found in the code's registry"
        assert labels == metrics[name], (name, labels, metrics[name])
    rules, queries = rules_and_queries(ON)
    used = check_against(metrics, [rule["expr"] for rule in rules] + queries)
    # What this run provoked is exported under the names the rules and the dashboard use.
    assert used & set(scraped) >= {
        "beluga_secrets_leader", "beluga_secrets_reconciles_total", "beluga_secrets_rotations_total",
        "beluga_secrets_rejections_total", "beluga_secrets_rollouts_total", "beluga_secrets_api_requests_total",
        "beluga_secrets_last_sync_timestamp_seconds", "beluga_secrets_key_age_seconds",
        "beluga_secrets_key_max_age_seconds",
    }, sorted(scraped)
