"""Signed rotations, implemented by others: PyNaCl (`nacl.signing`) signs format 2 envelopes and a
rollback statement exactly as docs/envelope.md and docs/formats.md describe them, kubectl stores
them, and the real agent, run with `--signatures required`, applies what a listed key signed and
refuses the rest. The signer is listed with the real `beluga-secrets signer add`.
"""

import base64
import hashlib
import json
import os
import secrets
import signal
import subprocess
import time

import nacl.encoding
import nacl.hash
import pytest
from nacl.public import PublicKey, SealedBox
from nacl.signing import SigningKey

from conftest import binary

NAMESPACE, SECRET, KEY = "default", "beluga-ai-secrets", "openai-api-key"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def short_id(key: bytes) -> str:
    return nacl.hash.blake2b(key, digest_size=32, encoder=nacl.encoding.RawEncoder)[:8].hex()


def signed_envelope(sealing_key: bytes, signer: SigningKey, value: bytes, version: int,
                    sealed_at: str = "2026-01-01T00:00:00Z") -> str:
    """Format 2, following docs/envelope.md line by line."""
    signer_id = short_id(bytes(signer.verify_key))
    payload = {
        "namespace": NAMESPACE, "secret": SECRET, "key": KEY,
        "value": base64.b64encode(value).decode(),
        "sealedBy": "pynacl@test", "sealedAt": sealed_at,
        "version": version, "signer": signer_id,
    }
    sealed = SealedBox(PublicKey(sealing_key)).encrypt(json.dumps(payload).encode())
    signed_text = "bs2.%s.%s.%s" % (short_id(sealing_key), signer_id, b64url(sealed))
    return signed_text + "." + b64url(signer.sign(signed_text.encode()).signature)


def rollback_statement(signer: SigningKey, envelope: str, frm: int, to: int, version: int) -> dict:
    """The `rollback` member of a sealed-versions entry, following docs/formats.md."""
    statement = {
        "from": frm, "to": to, "version": version,
        "envelopeHash": hashlib.sha256(envelope.encode()).hexdigest(),
        "signer": short_id(bytes(signer.verify_key)), "signedAt": "2026-03-01T00:00:00Z",
    }
    text = "\n".join([
        "beluga-secrets/rollback/v1", NAMESPACE, SECRET, KEY, str(frm), str(to), str(version),
        statement["envelopeHash"], statement["signer"], statement["signedAt"],
    ])
    statement["signature"] = base64.b64encode(signer.sign(text.encode()).signature).decode()
    return statement


def eventually(condition, what, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting until {what}")


@pytest.fixture
def cluster(tmp_path):
    """A kube-emulator with the chart's Deployment and settings, and an agent requiring signatures."""
    kubeconfig = tmp_path / "kubeconfig"
    env = {key: os.environ[key] for key in ("PATH", "LANG") if key in os.environ}
    env.update({"HOME": str(tmp_path), "KUBECONFIG": str(kubeconfig), "XDG_CONFIG_HOME": str(tmp_path / "config")})
    emulator = subprocess.Popen(
        [os.path.join(os.environ["BELUGA_BIN_DIR"], "kube-emulator"), "--port", "0",
         "--kubeconfig-out", str(kubeconfig), "--rollout-delay", "20ms"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    agent = None
    try:
        assert emulator.stdout.readline().startswith(b"listening on")
        eventually(kubeconfig.exists, "the kubeconfig is written")

        def kubectl(*args, stdin=None, check=True):
            result = subprocess.run(["kubectl", *args], input=stdin, capture_output=True, env=env, timeout=60)
            if not check and result.returncode != 0:
                return None
            assert result.returncode == 0, result.stderr.decode()
            return result.stdout.decode()

        def cli(*args):
            return subprocess.run([binary(), *args, "--kubeconfig", str(kubeconfig)], capture_output=True,
                                  env=env, timeout=60)

        kubectl("apply", "-f", "-", stdin=b"""
apiVersion: v1
kind: ConfigMap
metadata: {name: beluga-ai-config, namespace: default}
data: {llmProvider: openai}
---
# The sealed store, empty, as the chart renders it (the agent never creates it).
apiVersion: v1
kind: ConfigMap
metadata: {name: beluga-ai-secrets-sealed, namespace: default}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: beluga-ai
  namespace: default
  annotations: {beluga-ai.io/reload: "beluga-ai-secrets,beluga-ai-config"}
spec:
  replicas: 1
  selector: {matchLabels: {app: beluga-ai}}
  template:
    metadata: {labels: {app: beluga-ai}}
    spec: {containers: [{name: server, image: "beluga-ai:1.0.0"}]}
""")
        audit = open(tmp_path / "audit.log", "wb")
        agent = subprocess.Popen(
            [binary(), "agent", "--kubeconfig", str(kubeconfig), "--health-addr", "127.0.0.1:0",
             "--identity", "agent-py", "--debounce", "100ms", "--signatures", "required"],
            stdout=audit, stderr=subprocess.DEVNULL, env=env)
        yield kubectl, cli, tmp_path / "audit.log", agent
    finally:
        if agent is not None and agent.poll() is None:
            agent.send_signal(signal.SIGTERM)
            agent.wait(timeout=20)
        emulator.send_signal(signal.SIGTERM)
        emulator.wait(timeout=20)


def test_envelopes_signed_with_pynacl_are_verified_by_the_agent(cluster):
    kubectl, cli, audit_log, agent = cluster

    def published():
        text = kubectl("get", "configmap", "beluga-secrets-public-key", "-o", "json", check=False)
        data = json.loads(text).get("data", {}) if text else {}
        return data.get("sealing.pub")
    sealing_key = base64.b64decode(eventually(published, "the agent publishes its keys"))

    listed, unlisted = SigningKey.generate(), SigningKey.generate()
    added = cli("signer", "add", "pynacl", base64.b64encode(bytes(listed.verify_key)).decode())
    assert added.returncode == 0, added.stderr.decode()

    def store(envelope: str, entry: dict | None = None):
        patch = {"data": {KEY: envelope}}
        if entry is not None:
            patch["metadata"] = {"annotations": {"beluga-ai.io/sealed-versions": json.dumps({KEY: entry})}}
        kubectl("patch", "configmap", "beluga-ai-secrets-sealed", "--type", "merge", "-p", json.dumps(patch))

    def secret_value():
        text = kubectl("get", "secret", "beluga-ai-secrets", "-o", "json", check=False)
        data = json.loads(text).get("data", {}) if text else {}
        return base64.b64decode(data[KEY]) if KEY in data else None

    def status():
        text = kubectl("get", "configmap", "beluga-ai-secrets-status", "-o", "json", check=False)
        status_object = json.loads(text) if text else {}
        return json.loads(status_object.get("data", {}).get("sync-status", "{}")).get(KEY, {})

    def records():
        return [json.loads(line) for line in audit_log.read_text().splitlines() if line.strip()]

    # Signed by the listed key: applied, and the audit record names the signer.
    first, second = (f"sk-py-{n}-{secrets.token_hex(8)}".encode() for n in (1, 2))
    one = signed_envelope(sealing_key, listed, first, version=1)
    store(one)
    eventually(lambda: secret_value() == first, "the PyNaCl-signed value is applied")
    created = eventually(lambda: [r for r in records() if r["event"] == "secret.created"], "the change is recorded")
    assert created[0]["signer"] == "pynacl"
    assert created[0]["signerKeyId"] == short_id(bytes(listed.verify_key))
    assert created[0]["sealedBy"] == "pynacl@test"

    two = signed_envelope(sealing_key, listed, second, version=2)
    store(two)
    eventually(lambda: secret_value() == second, "version 2 is applied")

    # A valid seal signed by a key nobody listed: refused, the value stays.
    forged = signed_envelope(sealing_key, unlisted, b"sk-forged", version=3)
    store(forged, {"version": 3, "fingerprint": "", "sealedBy": "x", "sealedAt": "t", "history": []})
    refused = eventually(lambda: status() if status().get("state") == "rejected" else None, "the forgery is refused")
    assert "which is not an allowed signer" in refused["reason"]
    assert secret_value() == second

    # Version 1 stored again: a replay, refused.
    store(one, {"version": 4, "fingerprint": "", "sealedBy": "x", "sealedAt": "t", "history": []})
    replay = eventually(lambda: status() if status().get("version") == 4 else None, "the replay is judged")
    assert replay["state"] == "rejected" and "version 1 is not higher than version 2" in replay["reason"]
    assert secret_value() == second

    # The same old envelope with a rollback statement signed by the listed key: applied.
    entry = {"version": 5, "fingerprint": "", "sealedBy": "pynacl@test", "sealedAt": "t", "rollbackOf": 1,
             "rollback": rollback_statement(listed, one, frm=4, to=1, version=5), "history": []}
    store(one, entry)
    eventually(lambda: secret_value() == first, "the signed rollback is applied")
    rollback = eventually(
        lambda: [r for r in records() if r["event"] == "secret.rotated" and r["version"] == 5], "it is recorded")
    assert rollback[0]["signer"] == "pynacl"
    assert rollback[0]["reason"].startswith("rollback from version 4 to the envelope of version 1, signed by pynacl")
    secret = json.loads(kubectl("get", "secret", "beluga-ai-secrets", "-o", "json"))
    applied = json.loads(secret["metadata"]["annotations"]["beluga-ai.io/applied-versions"])
    assert applied[KEY]["version"] == 5

    agent.send_signal(signal.SIGTERM)
    assert agent.wait(timeout=20) == 0
    # The audit command shows who rotated what, once it checked the records with the agent's key.
    identity_file = audit_log.parent / "identity.pub"
    identity_file.write_text(json.loads(kubectl("get", "configmap", "beluga-secrets-public-key", "-o", "json"))
                             ["data"]["identity.pub"])
    result = subprocess.run([binary(), "audit", "--file", str(audit_log), "-o", "json", "--identity-key",
                             str(identity_file)], capture_output=True, timeout=60)
    assert result.returncode == 0, result.stderr.decode()
    changes = json.loads(result.stdout)["changes"]
    assert [(c["version"], c["signer"], c["signature"]) for c in changes] == [
        (0, "pynacl", "verified"), (0, "pynacl", "verified"), (5, "pynacl", "verified")]
    rejected = [r for r in records() if r["event"] == "secret.rejected"]
    assert len(rejected) == 2
    log = audit_log.read_text()
    for value in (first, second, b"sk-forged"):
        assert value.decode() not in log
