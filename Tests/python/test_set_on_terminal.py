"""`beluga-secrets set` on a real pseudo-terminal, against kube-emulator: the value is asked for
twice without echo, a mismatch changes nothing, and --wait shows its progress as one live line."""

import base64
import os
import pty
import subprocess

import pytest

from conftest import binary
from test_terminal_prompt import drain, echo_is_on, read_until


@pytest.fixture
def cluster(tmp_path):
    """A kube-emulator with the chart's Deployment; yields (environment, kubectl)."""
    kubeconfig = tmp_path / "kubeconfig"
    env = {key: os.environ[key] for key in ("PATH", "LANG") if key in os.environ}
    env.update({"HOME": str(tmp_path), "KUBECONFIG": str(kubeconfig),
                "XDG_CONFIG_HOME": str(tmp_path / "config")})
    emulator = subprocess.Popen(
        [os.path.join(os.environ["BELUGA_BIN_DIR"], "kube-emulator"), "--port", "0",
         "--kubeconfig-out", str(kubeconfig), "--rollout-delay", "400ms"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    try:
        assert emulator.stdout.readline().startswith(b"listening on")

        def kubectl(*args, stdin=None):
            result = subprocess.run(["kubectl", *args], input=stdin, capture_output=True, env=env, timeout=60)
            return result

        applied = kubectl("apply", "-f", "-", stdin=b"""
apiVersion: apps/v1
kind: Deployment
metadata:
  name: beluga-ai
  namespace: default
  annotations: {beluga-ai.io/reload: "beluga-ai-secrets,beluga-ai-config"}
spec:
  replicas: 2
  selector: {matchLabels: {app: beluga-ai}}
  template:
    metadata: {labels: {app: beluga-ai}}
    spec: {containers: [{name: server, image: "beluga-ai:1.0.0"}]}
""")
        assert applied.returncode == 0, applied.stderr
        yield env, kubectl
    finally:
        emulator.terminate()
        emulator.wait(timeout=20)


def spawn(env, args):
    primary, secondary = pty.openpty()
    process = subprocess.Popen([binary(), *args], stdin=secondary, stdout=subprocess.PIPE, stderr=secondary,
                               env=env, start_new_session=True)
    return process, primary, secondary


def secret_value(kubectl, key):
    result = kubectl("get", "secret", "beluga-ai-secrets", "-o", "jsonpath={.data." + key + "}")
    if result.returncode != 0 or not result.stdout:
        return None
    return base64.b64decode(result.stdout)


def test_the_value_is_asked_twice_without_echo_and_the_rollout_shows_as_one_live_line(cluster):
    env, kubectl = cluster
    value = b"sk-MARKER-terminal-41c9"
    process, primary, secondary = spawn(env, ["set", "openai-api-key", "--direct", "--wait"])
    try:
        shown = read_until(primary, b"Value for openai-api-key: ")
        assert not echo_is_on(secondary)
        os.write(primary, value + b"\n")
        shown += read_until(primary, b"Again, to confirm: ")
        assert not echo_is_on(secondary)
        os.write(primary, value + b"\n")
        stdout, _ = process.communicate(timeout=60)
        shown += drain(primary)
    finally:
        os.close(primary)
        os.close(secondary)
    assert process.returncode == 0, shown
    assert value not in shown and value not in stdout
    # The progress line is rewritten in place on the terminal, and cleared at the end.
    assert b"\r\x1b[KWaiting for deployment \"beluga-ai\" rollout to finish" in shown
    assert stdout.decode().endswith("deployment \"beluga-ai\" successfully rolled out\n")
    assert secret_value(kubectl, "openai-api-key") == value


def test_two_different_values_change_nothing(cluster):
    env, kubectl = cluster
    process, primary, secondary = spawn(env, ["set", "openai-api-key", "--direct"])
    try:
        read_until(primary, b"Value for openai-api-key: ")
        os.write(primary, b"sk-MARKER-one\n")
        read_until(primary, b"Again, to confirm: ")
        os.write(primary, b"sk-MARKER-two\n")
        process.communicate(timeout=60)
        shown = drain(primary)
    finally:
        os.close(primary)
        os.close(secondary)
    assert process.returncode == 1
    assert b"error: the two values typed differ" in shown
    assert b"sk-MARKER" not in shown
    assert secret_value(kubectl, "openai-api-key") is None


def test_no_confirm_asks_once(cluster):
    env, kubectl = cluster
    process, primary, secondary = spawn(env, ["set", "anthropic-api-key", "--direct", "--no-confirm"])
    try:
        read_until(primary, b"Value for anthropic-api-key: ")
        os.write(primary, b"sk-MARKER-once\n")
        process.communicate(timeout=60)
        shown = drain(primary)
    finally:
        os.close(primary)
        os.close(secondary)
    assert process.returncode == 0, shown
    assert b"Again" not in shown
    assert secret_value(kubectl, "anthropic-api-key") == b"sk-MARKER-once"
