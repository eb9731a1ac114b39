"""Fixtures shared by the chart's tests against `kube-emulator`."""

from __future__ import annotations

import pytest


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
