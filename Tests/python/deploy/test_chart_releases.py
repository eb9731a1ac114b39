"""Several releases in one namespace, with Helm 4's SDK against `kube-emulator`: `beluga-ai` and
`beluga-ai-canary` side by side, each with its own agent, sealing keys, public keys, signers and
Lease (named after the release), and an upgrade of a release installed with the fixed names of
before (beluga-secrets-sealing-key, …) that keeps them, and so its keys.

As in test_chart_helm_release.py, each agent runs on this machine as its release's ServiceAccount
with the arguments of its container in Helm's release manifest, and `beluga-secrets set
--release R` stores keys through it; both releases share one workstation configuration folder, so
the two agents' identities are pinned side by side in one known-agents.json.
"""

from __future__ import annotations

import json
import secrets
import subprocess
from pathlib import Path

import pytest

from cluster import (
    AGENT_COMPONENT, AGENT_CONTAINER, AgentProcess, Emulator, base_env, bin_path, calls, content_hash,
    deployment_hash, eventually, free_port, pod_names, prepare_first_install, refused, requests_by, secret_data,
    set_key,
)
from helmchart import CHART_DIR, containers, render, rule_set, with_agent_image
from test_chart_helm_release import release_manifest
from chartfixtures import emulator, helm  # noqa: F401 (pytest fixtures)

NAMESPACE = "beluga"
MAIN = "beluga-ai"
CANARY = "beluga-ai-canary"
LEGACY = {"sealing": "beluga-secrets-sealing-key", "public": "beluga-secrets-public-key",
          "signers": "beluga-secrets-signers", "lease": "beluga-secrets-agent"}


def derived(release: str) -> dict[str, str]:
    return {"sealing": f"{release}-sealing-key", "public": f"{release}-public-key",
            "signers": f"{release}-signers", "lease": f"{release}-agent"}


def chart_values(**agent) -> dict:
    """The agent image, and a free health port: the agents run on this machine."""
    return with_agent_image({"agent": {"healthPort": free_port(), **agent}})


def start_agent(emulator: Emulator, installed: dict, release: str, folder: Path,
                drop_flags: tuple[str, ...] = ()) -> AgentProcess:
    """The release's agent as its pod runs it (its first pod's name as identity); `drop_flags`
    leaves out arguments, as an older chart did not pass them."""
    folder.mkdir(parents=True, exist_ok=True)
    container = dict(containers(release_manifest(installed).get("Deployment", f"{release}-agent"))[AGENT_CONTAINER])
    container["args"] = [a for a in container["args"] if a.split("=", 1)[0] not in drop_flags]
    pod = pod_names(emulator, NAMESPACE, f"{AGENT_COMPONENT},app.kubernetes.io/instance={release}")[0]
    kubeconfig = emulator.service_account_kubeconfig(NAMESPACE, f"{release}-agent")
    return AgentProcess.start(container, kubeconfig, pod, folder)


def cli(emulator: Emulator, folder: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(base_env(folder), KUBECONFIG=str(emulator.kubeconfig))
    return subprocess.run([bin_path("beluga-secrets"), *args, "-n", NAMESPACE], capture_output=True, env=env,
                          timeout=90, check=False)


def store(emulator: Emulator, folder: Path, release: str, key: str) -> str:
    value = f"sk-{release}-{key}-{secrets.token_hex(12)}"
    result = set_key(emulator, NAMESPACE, key, value, folder, release=release)
    assert result.returncode == 0, result.stderr.decode()
    assert value not in (result.stdout + result.stderr).decode()
    return value


def template(emulator: Emulator, release: str) -> dict:
    return emulator.get("deployment", release, NAMESPACE)["spec"]["template"]


def hash_is_current(emulator: Emulator, release: str) -> bool:
    return deployment_hash(emulator, NAMESPACE, release) == content_hash(
        emulator, NAMESPACE, f"{release}-secrets", f"{release}-config")


def public_keys(emulator: Emulator, name: str) -> dict:
    return emulator.get("configmap", name, NAMESPACE)["data"]


def test_the_agents_objects_are_named_after_the_release():
    for release in (MAIN, CANARY):
        rendered = render(name=release)
        names = derived(release)
        assert rendered.has("ConfigMap", names["public"]) and rendered.has("ConfigMap", names["signers"])
        assert rendered.has("Lease", names["lease"])
        args = containers(rendered.get("Deployment", f"{release}-agent"))[AGENT_CONTAINER]["args"]
        assert {f"--sealing-key-secret={names['sealing']}", f"--public-key-config-map={names['public']}",
                f"--signers-config-map={names['signers']}", f"--lease={names['lease']}"} <= set(args)
        named = {name for (_, _, _, name) in rule_set(rendered.get("Role", f"{release}-agent")) if name}
        assert {names["sealing"], names["public"], names["signers"], names["lease"]} <= named
        assert not named & set(LEGACY.values()), named
    # Where `lookup` sees nothing (GitOps, `helm template`), a release installed with the fixed names
    # says so in its values.
    legacy = render({"agent": {"legacyObjectNames": True}})
    assert legacy.has("ConfigMap", LEGACY["public"]) and legacy.has("Lease", LEGACY["lease"])
    args = containers(legacy.get("Deployment", "beluga-ai-agent"))[AGENT_CONTAINER]["args"]
    assert f"--sealing-key-secret={LEGACY['sealing']}" in args
    with pytest.raises(Exception, match="the chart sets itself"):
        render({"agent": {"extraArgs": ["--lease=other"]}})


def test_two_releases_in_one_namespace_rotate_independently_and_restart_only_their_own(emulator, helm, tmp_path):
    prepare_first_install(emulator, NAMESPACE, tmp_path, MAIN)
    prepare_first_install(emulator, NAMESPACE, tmp_path, CANARY, create_namespace=False)
    installed = {}
    for release in (MAIN, CANARY):
        installed[release] = helm.install(str(CHART_DIR), release, chart_values(), create_namespace=True,
                                          wait="watcher", timeout=60)
        assert installed[release]["status"] == "deployed"
    agents = {release: start_agent(emulator, installed[release], release, tmp_path / release)
              for release in (MAIN, CANARY)}
    try:
        # Each agent made its own keys under its own names; nothing under the fixed names.
        main_keys, canary_keys = public_keys(emulator, derived(MAIN)["public"]), public_keys(
            emulator, derived(CANARY)["public"])
        assert main_keys["identity.pub"] != canary_keys["identity.pub"]
        for name in LEGACY.values():
            assert emulator.get("configmap", name, NAMESPACE) is None and emulator.get("secret", name, NAMESPACE) is None
        for release in (MAIN, CANARY):
            assert emulator.get("secret", derived(release)["sealing"], NAMESPACE) is not None
            lease = emulator.get("lease", derived(release)["lease"], NAMESPACE)
            assert lease["spec"]["holderIdentity"] == agents[release].identity

        # A key set through each release reaches its Secret only, and rolls its Deployment only.
        expected = {MAIN: secret_data(emulator, NAMESPACE, f"{MAIN}-secrets"),
                    CANARY: secret_data(emulator, NAMESPACE, f"{CANARY}-secrets")}
        for changed, other in ((MAIN, CANARY), (CANARY, MAIN)):
            rollouts = {r: emulator.rollouts(NAMESPACE, r) for r in (MAIN, CANARY)}
            other_template = template(emulator, other)
            value = store(emulator, tmp_path, changed, "anthropic-api-key")
            expected[changed]["anthropic-api-key"] = value.encode()
            eventually(lambda: hash_is_current(emulator, changed), f"{changed}'s agent rolls {changed}")
            assert emulator.rollouts(NAMESPACE, changed) == rollouts[changed] + 1
            assert emulator.rollouts(NAMESPACE, other) == rollouts[other]
            assert template(emulator, other) == other_template
            for release in (MAIN, CANARY):
                assert secret_data(emulator, NAMESPACE, f"{release}-secrets") == expected[release]

        # Both identities are pinned in the one configuration folder, one per public-key ConfigMap.
        pins = json.loads((tmp_path / "config" / "beluga-secrets" / "known-agents.json").read_text())["agents"]
        assert sorted((p["namespace"], p["configMap"], p["identity"]) for p in pins) == sorted([
            (NAMESPACE, derived(MAIN)["public"], main_keys["identity.pub"]),
            (NAMESPACE, derived(CANARY)["public"], canary_keys["identity.pub"])])

        # Rotating the canary's sealing key leaves the main release's keys alone.
        rotated = cli(emulator, tmp_path, "keys", "rotate", "--release", CANARY)
        assert rotated.returncode == 0, rotated.stderr.decode()
        assert public_keys(emulator, derived(CANARY)["public"])["current"] != canary_keys["current"]
        assert public_keys(emulator, derived(MAIN)["public"]) == main_keys
        status = cli(emulator, tmp_path, "status", "--release", CANARY, "-o", "json")
        assert status.returncode == 0, status.stderr.decode()
        agent = json.loads(status.stdout)["agent"]
        assert (agent["lease"], agent["holder"]) == (derived(CANARY)["lease"], agents[CANARY].identity)
    finally:
        for agent in agents.values():
            agent.stop()
    # Each agent touched its own release's objects only, and was refused nothing.
    for release, other in ((MAIN, CANARY), (CANARY, MAIN)):
        rows = requests_by(emulator, f"system:serviceaccount:{NAMESPACE}:{release}-agent")
        assert refused(rows) == []
        touched = {name for (_, _, _, name) in calls(rows, NAMESPACE) if name}
        assert touched and all(name.startswith(release) for name in touched), touched
        if release == MAIN:
            assert not any(name.startswith(CANARY) for name in touched), touched
        assert not touched & set(LEGACY.values()), touched
    for agent in agents.values():
        assert "sealing-key.created" in [r["event"] for r in agent.records()]


def test_an_upgrade_of_a_release_with_the_old_names_keeps_its_keys(emulator, helm, tmp_path):
    # Revision 1 as the previous chart installed it: the fixed names, and an agent without the name
    # flags (their defaults are the fixed names).
    prepare_first_install(emulator, NAMESPACE, tmp_path, MAIN)
    values = chart_values()
    first = helm.install(str(CHART_DIR), MAIN, {**values, "agent": {**values["agent"], "legacyObjectNames": True}},
                         create_namespace=True, wait="watcher", timeout=60)
    name_flags = ("--sealing-key-secret", "--public-key-config-map", "--signers-config-map", "--lease")
    agent = start_agent(emulator, first, MAIN, tmp_path / "old", drop_flags=name_flags)
    try:
        kept_value = store(emulator, tmp_path, MAIN, "anthropic-api-key")
    finally:
        agent.stop()
    sealing = emulator.get("secret", LEGACY["sealing"], NAMESPACE)["data"]
    published = public_keys(emulator, LEGACY["public"])

    # The upgrade does not say legacyObjectNames: `lookup` finds the release's old public-key
    # ConfigMap and keeps the names; the new agent finds its keys and every envelope.
    upgraded = helm.upgrade(str(CHART_DIR), MAIN, values, wait="watcher", timeout=60)
    manifest = release_manifest(upgraded)
    assert manifest.has("ConfigMap", LEGACY["public"]) and manifest.has("Lease", LEGACY["lease"])
    assert not manifest.has("ConfigMap", derived(MAIN)["public"])
    agent = start_agent(emulator, upgraded, MAIN, tmp_path / "new")
    try:
        value = store(emulator, tmp_path, MAIN, "mistral-api-key")
        secret = secret_data(emulator, NAMESPACE, f"{MAIN}-secrets")
        assert secret["anthropic-api-key"] == kept_value.encode() and secret["mistral-api-key"] == value.encode()
        assert emulator.get("secret", LEGACY["sealing"], NAMESPACE)["data"] == sealing
        assert public_keys(emulator, LEGACY["public"])["identity.pub"] == published["identity.pub"]
        assert public_keys(emulator, LEGACY["public"])["current"] == published["current"]
        assert emulator.get("secret", derived(MAIN)["sealing"], NAMESPACE) is None
    finally:
        agent.stop()
    assert "sealing-key.created" not in [r["event"] for r in agent.records()]

    # Uninstall and reinstall: the kept signers ConfigMap still names the release, so the
    # reinstall keeps the fixed names too, and the sealing keys with them.
    helm.uninstall(MAIN, wait="watcher", timeout=60)
    again = helm.install(str(CHART_DIR), MAIN, values, wait="watcher", timeout=60)
    assert release_manifest(again).has("ConfigMap", LEGACY["public"])
    agent = start_agent(emulator, again, MAIN, tmp_path / "again")
    try:
        assert emulator.get("secret", derived(MAIN)["sealing"], NAMESPACE) is None
        assert public_keys(emulator, LEGACY["public"])["identity.pub"] == published["identity.pub"]
    finally:
        agent.stop()
    assert "sealing-key.created" not in [r["event"] for r in agent.records()]
