"""`beluga-secrets set --all-contexts` on a real pseudo-terminal, against two kube-emulators: the
command asks before changing every cluster, a refusal changes nothing, and after a yes the value
is typed once and lands in both clusters."""

import base64
import os
import subprocess

import pytest
import yaml

from conftest import binary
from test_terminal_prompt import drain, read_until


@pytest.fixture
def two_clusters(tmp_path):
    """Two kube-emulators named by the contexts `east` and `west` of one kubeconfig; yields
    (environment, kubectl for a context)."""
    env = {key: os.environ[key] for key in ("PATH", "LANG") if key in os.environ}
    env.update({"HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "config")})
    emulators, clusters, users, contexts = [], [], [], []
    try:
        for name in ("east", "west"):
            own = tmp_path / f"kubeconfig-{name}"
            emulator = subprocess.Popen(
                [os.path.join(os.environ["BELUGA_BIN_DIR"], "kube-emulator"), "--port", "0",
                 "--kubeconfig-out", str(own)],
                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
            emulators.append(emulator)
            assert emulator.stdout.readline().startswith(b"listening on")
            config = yaml.safe_load(own.read_text())
            clusters.append({"name": name, "cluster": config["clusters"][0]["cluster"]})
            users.append({"name": name, "user": config["users"][0]["user"]})
            contexts.append({"name": name, "context": {"cluster": name, "user": name, "namespace": "default"}})
        kubeconfig = tmp_path / "kubeconfig"
        kubeconfig.write_text(yaml.safe_dump({
            "apiVersion": "v1", "kind": "Config", "clusters": clusters, "users": users,
            "contexts": contexts, "current-context": "east"}))
        env["KUBECONFIG"] = str(kubeconfig)

        def kubectl(context, *args):
            return subprocess.run(["kubectl", "--context", context, *args], capture_output=True, env=env,
                                  timeout=60)

        yield env, kubectl
    finally:
        for emulator in emulators:
            emulator.terminate()
            emulator.wait(timeout=20)


def secret_value(kubectl, context, key):
    result = kubectl(context, "get", "secret", "beluga-ai-secrets", "-o", "jsonpath={.data." + key + "}")
    if result.returncode != 0 or not result.stdout:
        return None
    return base64.b64decode(result.stdout)


def run_on_terminal(env, args, answers):
    """Runs beluga-secrets on a pseudo-terminal, answering each (prompt, line) in turn."""
    import pty
    primary, secondary = pty.openpty()
    process = subprocess.Popen([binary(), *args], stdin=secondary, stdout=subprocess.PIPE, stderr=secondary,
                               env=env, start_new_session=True)
    shown = b""
    try:
        for prompt, line in answers:
            shown += read_until(primary, prompt, timeout=60)
            os.write(primary, line + b"\n")
        stdout, _ = process.communicate(timeout=120)
        shown += drain(primary)
    finally:
        os.close(primary)
        os.close(secondary)
    return process.returncode, stdout, shown


def test_all_contexts_asks_first_and_a_no_changes_nothing(two_clusters):
    env, kubectl = two_clusters
    status, stdout, shown = run_on_terminal(
        env, ["set", "openai-api-key", "--direct", "--all-contexts"],
        [(b"set on all 2 contexts of the kubeconfig (east, west)? [y/N] ", b"n")])
    assert status == 1, shown
    assert b"error: not confirmed: nothing was changed" in shown
    assert b"Value for" not in shown
    assert secret_value(kubectl, "east", "openai-api-key") is None
    assert secret_value(kubectl, "west", "openai-api-key") is None


def test_after_a_yes_the_value_is_typed_once_for_every_cluster(two_clusters):
    env, kubectl = two_clusters
    value = b"sk-MARKER-everywhere-7f3a"
    status, stdout, shown = run_on_terminal(
        env, ["set", "openai-api-key", "--direct", "--all-contexts", "--no-confirm"],
        [(b"? [y/N] ", b"y"), (b"Value for openai-api-key: ", value)])
    assert status == 0, shown + stdout
    assert shown.count(b"Value for") == 1
    assert value not in shown and value not in stdout
    lines = stdout.decode().splitlines()
    assert lines[0].split() == ["CONTEXT", "OUTCOME", "VERSION", "FINGERPRINT", "MESSAGE"]
    assert [line.split()[:2] for line in lines[1:3]] == [["east", "written"], ["west", "written"]]
    assert secret_value(kubectl, "east", "openai-api-key") == value
    assert secret_value(kubectl, "west", "openai-api-key") == value
