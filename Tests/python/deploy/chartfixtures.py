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
        "serviceMonitor": {"enabled": True, "labels": {"release": "prometheus"}},
        "imagePullSecrets": [{"name": "registry-credentials"}],
        "sealedSecrets": {m.key: m.envelope for m in sealed_markers},
        "podAnnotations": {"example.com/team": "ai"},
        "nodeSelector": {"kubernetes.io/os": "linux"},
        "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "ai", "effect": "NoSchedule"}],
        "agent": {
            "image": {"digest": "sha256:" + "ab" * 32},
            "serviceMonitor": {"enabled": True, "labels": {"release": "prometheus"}},
            "serviceAccount": {"annotations": {"example.com/role": "beluga-secrets"}},
            "podAnnotations": {"example.com/team": "ai"},
            "signatures": "required",
        },
    }

