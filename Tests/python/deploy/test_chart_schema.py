"""Every rendered object passes strict schema validation against Kubernetes' own OpenAPI schemas,
for the oldest version the validator knows (1.25) and the newest.

PyPI `kubernetes-validate` carries the JSON schemas of each Kubernetes release and validates
offline; `strict` refuses fields the schema does not know (a typo, or a field of a newer release).
The ServiceMonitors are the Prometheus Operator's custom resources, which it has no schema for.
"""

from __future__ import annotations

import kubernetes_validate
import pytest

from helmchart import PROMETHEUS_OPERATOR_API, PROMETHEUS_RULE_API, SIDECAR, render
from chartfixtures import all_on, sealed_markers  # noqa: F401 (fixtures)

OLDEST = "1.25.0"
NEWEST = kubernetes_validate.latest_version() + ".0"
CUSTOM_RESOURCES = {("monitoring.coreos.com/v1", "ServiceMonitor"), ("monitoring.coreos.com/v1", "PrometheusRule")}


def configurations(all_on) -> dict[str, dict]:
    sidecar_all_on = {**all_on, "agent": {**all_on["agent"], "mode": "sidecar"}}
    return {
        "defaults": {},
        "all-on": all_on,
        "sidecar": SIDECAR,
        "sidecar-all-on": sidecar_all_on,
        "no-agent": {"agent": {"enabled": False}, "service": {"type": "NodePort", "nodePort": 30080}},
        "single-agent": {"agent": {"replicaCount": 1, "leaderElection": {"enabled": False}},
                         "resources": {"limits": {"cpu": None}}},
        "operator-rbac": {"agent": {"rbac": {"create": False},
                                    "serviceAccount": {"create": False, "name": "platform-agent"}}},
    }


def test_the_validator_knows_a_recent_kubernetes():
    assert tuple(int(p) for p in NEWEST.split(".")[:2]) >= (1, 37)


@pytest.mark.parametrize("version", [OLDEST, NEWEST])
def test_every_rendered_object_is_valid_kubernetes(all_on, version):
    checked = set()
    for label, values in configurations(all_on).items():
        rendered = render(values, api_versions=[PROMETHEUS_OPERATOR_API, PROMETHEUS_RULE_API])
        for obj in rendered.objects:
            if (obj["apiVersion"], obj["kind"]) in CUSTOM_RESOURCES:
                continue
            where = f"{label}: {obj['kind']}/{obj['metadata']['name']} on Kubernetes {version}"
            try:
                kubernetes_validate.validate(obj, version, strict=True)
            except kubernetes_validate.ValidationError as error:
                raise AssertionError(f"{where}: {error.message} at {list(error.path)}") from None
            checked.add(obj["kind"])
    assert checked >= {"Deployment", "Service", "ConfigMap", "Role", "RoleBinding", "ServiceAccount", "Lease",
                       "NetworkPolicy", "PodDisruptionBudget", "HorizontalPodAutoscaler", "Ingress", "Pod"}


def test_strict_validation_is_not_blind():
    deployment = render().get("Deployment", "beluga-ai")
    deployment["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] = 3
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, NEWEST, strict=True)
    deployment = render().get("Deployment", "beluga-ai")
    deployment["spec"]["template"]["spec"]["priorityClass"] = "misspelt"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, NEWEST, strict=True)
