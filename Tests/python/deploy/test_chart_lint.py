"""`helm lint` through Helm's own library: no error and no warning, in every configuration."""

from __future__ import annotations

import os

import helm_python
import pytest

from helmchart import CHART_DIR, SIDECAR, with_agent_image
from chartfixtures import all_on, sealed_markers  # noqa: F401 (fixtures)

INFO, WARNING, ERROR = 1, 2, 3


def findings(values=None, **options):
    report = helm_python.lint(os.fspath(CHART_DIR), values, namespace="ai", **options)
    assert report["total_charts_linted"] == 1
    return report


@pytest.mark.parametrize("strict", [False, True])
@pytest.mark.parametrize("values", [None, with_agent_image({})], ids=["defaults", "agent-image"])
def test_lints_clean_with_defaults(strict, values):
    # With the defaults alone the render stops at the missing agent image (test_chart_values_errors.py),
    # which Helm 4's lint reports as information only.
    report = findings(values, strict=strict)
    serious = [m for m in report["messages"] if m["severity"] >= WARNING]
    assert serious == [], serious
    assert report["errors"] == []


def test_lints_clean_with_every_option_and_in_sidecar_mode(all_on):
    for values in (all_on, SIDECAR, {"agent": {"enabled": False}}):
        report = findings(with_agent_image(values), strict=True)
        serious = [m for m in report["messages"] if m["severity"] >= WARNING]
        assert serious == [], (values, serious)


def test_lints_clean_on_the_oldest_supported_kubernetes():
    report = findings(with_agent_image({}), strict=True, kube_version="v1.23.0")
    assert [m for m in report["messages"] if m["severity"] >= WARNING] == []


def test_lint_reports_a_schema_violation_as_an_error():
    # Lint is not blind: the same call finds a wrong value.
    report = findings({"service": {"type": "Ingress"}})
    errors = [m["error"] for m in report["messages"] if m["severity"] == ERROR]
    assert any("/service/type" in e and "ClusterIP" in e for e in errors), errors

