"""Rendering the beluga-ai chart with Helm's own library (PyPI helm-python-sdk) for the tests.

`helm_python.Chart.render()` exposes name, namespace, revision and install/upgrade flags, but
not the cluster's API versions. The native call underneath (`helm_render`) also reads
`api_versions` and `kube_version` from the same options object, the equivalent of
`helm template --api-versions … --kube-version …`; `render()` below passes them through it.
See Tests/python/NOTES.md.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import helm_python
import yaml
from helm_python import _native

REPO_ROOT = Path(__file__).resolve().parents[3]
CHART_DIR = REPO_ROOT / "deploy" / "helm" / "beluga-ai"
PROMETHEUS_OPERATOR_API = "monitoring.coreos.com/v1"
# `.Capabilities.APIVersions.Has` by kind, as the PrometheusRule template asks.
PROMETHEUS_RULE_API = "monitoring.coreos.com/v1/PrometheusRule"
SIDECAR: dict[str, Any] = {"agent": {"mode": "sidecar"}}
# No public registry serves the agent image, so the chart has no default for it; the tests render
# with this one unless they check that requirement (`agent_image=False`).
AGENT_IMAGE = "registry.example.com/beluga-secrets"


def with_agent_image(values: dict[str, Any] | None) -> dict[str, Any]:
    """`values` with agent.image.repository set to AGENT_IMAGE unless they set it themselves."""
    return _merge({"agent": {"image": {"repository": AGENT_IMAGE}}}, values or {})


@dataclass
class Rendered:
    """The objects of one render, with the NOTES.txt text kept apart."""

    objects: list[dict[str, Any]]
    notes: str
    sources: dict[str, str] = field(default_factory=dict)

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [o for o in self.objects if o["kind"] == kind]

    def get(self, kind: str, name: str) -> dict[str, Any]:
        found = [o for o in self.objects if o["kind"] == kind and o["metadata"]["name"] == name]
        assert len(found) == 1, f"expected one {kind} {name}, found {len(found)}: {self.names()}"
        return found[0]

    def has(self, kind: str, name: str) -> bool:
        return any(o["kind"] == kind and o["metadata"]["name"] == name for o in self.objects)

    def names(self) -> list[str]:
        return sorted(f"{o['kind']}/{o['metadata']['name']}" for o in self.objects)

    def text(self) -> str:
        """Everything rendered, as one string (manifests and notes)."""
        return "\n".join(self.sources.values())

    def tests(self) -> list[dict[str, Any]]:
        """The `helm test` hooks."""
        return [o for o in self.objects if is_test_hook(o)]

    def without_tests(self) -> Rendered:
        """What `helm template --skip-tests` prints: the release's objects without the test hooks."""
        return Rendered(objects=[o for o in self.objects if not is_test_hook(o)], notes=self.notes,
                        sources=self.sources)


def is_test_hook(obj: dict[str, Any]) -> bool:
    return (obj["metadata"].get("annotations") or {}).get("helm.sh/hook") == "test"


def load_chart() -> helm_python.Chart:
    return helm_python.Chart.load(os.fspath(CHART_DIR))


def render(
    values: dict[str, Any] | None = None,
    *,
    name: str = "beluga-ai",
    namespace: str = "ai",
    api_versions: list[str] | None = None,
    is_upgrade: bool = False,
    agent_image: bool = True,
) -> Rendered:
    """Render like `helm template NAME CHART -n NAMESPACE [--api-versions …]`; parse every object.

    With `agent_image` (the default) the values name the agent image (AGENT_IMAGE)."""
    if agent_image:
        values = with_agent_image(values)
    options: dict[str, Any] = {"name": name, "namespace": namespace}
    if is_upgrade:
        options.update(is_install=False, is_upgrade=True, revision=2)
    if api_versions:
        options["api_versions"] = api_versions
    with load_chart() as chart:
        raw = _native.call_string(
            "helm_render",
            chart._raw(),
            None if values is None else json.dumps(values),
            json.dumps(options),
        )
    sources: dict[str, str] = json.loads(raw)
    objects: list[dict[str, Any]] = []
    notes = ""
    for path, text in sorted(sources.items()):
        if path.endswith("NOTES.txt"):
            notes = text
            continue
        for document in yaml.safe_load_all(text):
            if document is None:
                continue
            assert isinstance(document, dict), f"{path} rendered a non-object document"
            assert {"apiVersion", "kind", "metadata"} <= document.keys(), f"{path}: {document}"
            objects.append(document)
    return Rendered(objects=objects, notes=notes, sources=sources)


def set_values(*assignments: str) -> dict[str, Any]:
    """Values from `--set a=b` strings, parsed by Helm's own `--set` parser."""
    values: dict[str, Any] = {}
    for assignment in assignments:
        parsed = helm_python.parse_set_string(assignment)
        values = _merge(values, parsed)
    return values


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def pod_spec(pod_owner: dict[str, Any]) -> dict[str, Any]:
    """The pod spec of a Pod, or of a Deployment's (or other owner's) pod template."""
    return pod_owner["spec"] if pod_owner["kind"] == "Pod" else pod_owner["spec"]["template"]["spec"]


def containers(pod_owner: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The containers of a Pod or of a Deployment's pod template, by name."""
    return {c["name"]: c for c in pod_spec(pod_owner)["containers"]}


def rule_set(role) -> set[tuple[str, str, str, str | None]]:
    """(apiGroup, resource, verb, resourceName or None) for every grant of a Role."""
    grants = set()
    for rule in role["rules"]:
        assert set(rule) <= {"apiGroups", "resources", "verbs", "resourceNames"}, rule
        names = rule.get("resourceNames") or [None]
        for group in rule["apiGroups"]:
            for resource in rule["resources"]:
                for verb in rule["verbs"]:
                    for name in names:
                        grants.add((group, resource, verb, name))
    return grants
