"""The check that a run touched nothing outside its namespace reports what it must (it runs on
the emulator's request accounting at the end of every run, where a miss would go unseen)."""

from __future__ import annotations

from collections import Counter

from targets import outside_requests


def guard(rows: dict[tuple[str, str, str, str, str, str], int]) -> list[str]:
    return outside_requests(Counter(rows), "beluga-e2e-0123abcd", "beluga-e2e-0123abcd-unset")


def test_requests_inside_the_namespace_discovery_and_its_own_lifecycle_pass() -> None:
    assert guard({
        ("create", "", "namespaces", "", "", "admin"): 1,
        ("get", "", "namespaces", "beluga-e2e-0123abcd", "beluga-e2e-0123abcd", "admin"): 2,
        ("delete", "", "namespaces", "", "beluga-e2e-0123abcd", "admin"): 1,
        ("get", "", "/apis", "", "", "admin"): 3,
        ("patch", "apps", "deployments", "beluga-e2e-0123abcd", "beluga-ai", "agent"): 4,
    }) == []


def test_anything_else_is_reported() -> None:
    assert sorted(guard({
        ("get", "", "secrets", "default", "beluga-ai-secrets", "admin"): 1,
        ("list", "", "namespaces", "", "", "admin"): 1,
        ("delete", "", "namespaces", "", "default", "admin"): 1,
        ("update", "", "configmaps", "beluga-e2e-0123abcd-unset", "beluga-ai-config", "admin"): 1,
        ("get", "", "namespaces", "", "kube-system", "admin"): 1,
        ("list", "apps", "deployments", "", "", "agent"): 2,
    })) == [
        "delete namespaces default in (cluster scope) by admin: 1",
        "get namespaces kube-system in (cluster scope) by admin: 1",
        "get secrets beluga-ai-secrets in default by admin: 1",
        "list apps/deployments in (cluster scope) by agent: 2",
        "list namespaces in (cluster scope) by admin: 1",
        "update configmaps beluga-ai-config in beluga-e2e-0123abcd-unset, the default namespace of the "
        "kubeconfig: a command without -n by admin: 1",
    ]
