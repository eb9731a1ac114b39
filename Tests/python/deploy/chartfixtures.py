"""Fixtures of the chart tests, imported by the test modules that use them.

Not a conftest.py: Tests/python/conftest.py is imported by name (`from conftest import …`) by
other tests, and a second conftest module here would shadow it.
"""

from __future__ import annotations

from typing import Any

import pytest

from envelopes import Marker, markers

NAMESPACE = "ai"


@pytest.fixture(scope="session")
def sealed_markers() -> list[Marker]:
    return markers(NAMESPACE, "beluga-ai-secrets", ["openai-api-key", "anthropic-api-key"])


@pytest.fixture(scope="session")
def all_on(sealed_markers: list[Marker]) -> dict[str, Any]:
    """Every optional feature of the chart switched on."""
    return {
        "autoscaling": {"enabled": True},
        "serviceMonitor": {"enabled": True, "labels": {"release": "prometheus"},
                           "relabelings": [{"action": "replace", "sourceLabels": ["__meta_kubernetes_pod_node_name"],
                                            "targetLabel": "node"}]},
        "imagePullSecrets": [{"name": "registry-credentials"}],
        "sealedSecrets": {m.key: m.envelope for m in sealed_markers},
        "podAnnotations": {"example.com/team": "ai"},
        "nodeSelector": {"kubernetes.io/os": "linux"},
        "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "ai", "effect": "NoSchedule"}],
        "podLabels": {"example.com/cost-center": "ai"},
        "extraEnv": [
            {"name": "LOG_LEVEL", "value": "debug"},
            {"name": "DATABASE_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "database", "key": "password"}}},
        ],
        "extraVolumes": [{"name": "prompts", "configMap": {"name": "prompts"}}],
        "extraVolumeMounts": [{"name": "prompts", "mountPath": "/etc/beluga/prompts", "readOnly": True}],
        "topologySpreadConstraints": [
            {"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "ScheduleAnyway"}
        ],
        "priorityClassName": "beluga-ai-high",
        "service": {"type": "LoadBalancer", "nodePort": 30080,
                    "annotations": {"service.beta.kubernetes.io/aws-load-balancer-internal": "true"}},
        "ingress": {
            "enabled": True,
            "className": "nginx",
            "annotations": {"nginx.ingress.kubernetes.io/proxy-read-timeout": "300"},
            "hosts": [{"host": "beluga-ai.example.com"}],
            "tls": [{"secretName": "beluga-ai-tls", "hosts": ["beluga-ai.example.com"]}],
        },
        "agent": {
            "image": {"digest": "sha256:" + "ab" * 32},
            "serviceMonitor": {"enabled": True, "labels": {"release": "prometheus"},
                               "metricRelabelings": [{"action": "drop", "regex": "go_.*",
                                                      "sourceLabels": ["__name__"]}]},
            "serviceAccount": {"annotations": {"example.com/role": "beluga-secrets"}},
            "podAnnotations": {"example.com/team": "ai"},
            "podLabels": {"example.com/cost-center": "ai"},
            "signatures": "required",
            "extraArgs": ["--resync-period=2m"],
            "extraEnv": [{"name": "HTTPS_PROXY", "value": "http://proxy.example.com:3128"}],
            "topologySpreadConstraints": [
                {"maxSkew": 1, "topologyKey": "kubernetes.io/hostname", "whenUnsatisfiable": "DoNotSchedule"}
            ],
            "priorityClassName": "beluga-secrets-critical",
            "prometheusRule": {"enabled": True, "labels": {"release": "prometheus"}, "keyMaxAgeSeconds": 7776000,
                               "kubeStateMetrics": True},
            "grafanaDashboard": {"enabled": True, "annotations": {"grafana_folder": "Beluga"}},
        },
    }


@pytest.fixture
def emulator(tmp_path):
    """A `kube-emulator` of the test's own, stopped when the test ends."""
    from cluster import Emulator

    running = Emulator(tmp_path)
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def helm(emulator, request):
    """Helm 4's SDK (helm_python.Config) on the emulator, in the test module's NAMESPACE."""
    import helm_python

    config = helm_python.Config(kubeconfig_path=str(emulator.kubeconfig), namespace=request.module.NAMESPACE)
    try:
        yield config
    finally:
        config.close()
