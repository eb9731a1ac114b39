"""The agent's formats, checked with independent tools: PyNaCl seals the envelopes, kubectl
stores them, and Python alone verifies what the agent published and printed — the signed key
list, the audit chain (SHA-256 links, Ed25519 signatures over the canonical JSON) and the
content hash of docs/formats.md.
"""

import base64
import hashlib
import json
import os
import secrets
import signal
import struct
import subprocess
import time

import nacl.encoding
import nacl.hash
import pytest
from nacl.public import PublicKey, SealedBox
from nacl.signing import VerifyKey

from conftest import binary


def b64url_nopad(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def key_id(public_key: bytes) -> str:
    return nacl.hash.blake2b(public_key, digest_size=32, encoder=nacl.encoding.RawEncoder)[:8].hex()


def eventually(condition, what, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting until {what}")


@pytest.fixture
def cluster(tmp_path):
    """A kube-emulator with the chart's Deployment and settings, and a running agent."""
    kubeconfig = tmp_path / "kubeconfig"
    env = {key: os.environ[key] for key in ("PATH", "LANG") if key in os.environ}
    env.update({"HOME": str(tmp_path), "KUBECONFIG": str(kubeconfig)})
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
             "--identity", "agent-py", "--debounce", "100ms"],
            stdout=audit, stderr=subprocess.DEVNULL, env=env)
        yield kubectl, tmp_path / "audit.log", agent
    finally:
        if agent is not None and agent.poll() is None:
            agent.send_signal(signal.SIGTERM)
            agent.wait(timeout=20)
        emulator.send_signal(signal.SIGTERM)
        emulator.wait(timeout=20)


def test_what_the_agent_publishes_and_prints_verifies_independently(cluster):
    kubectl, audit_log, agent = cluster
    def published_keys():
        text = kubectl("get", "configmap", "beluga-secrets-public-key", "-o", "json", check=False)
        data = json.loads(text).get("data", {}) if text else {}
        return data if "keys.json" in data else None
    published = eventually(published_keys, "the agent publishes its keys")
    identity = VerifyKey(base64.b64decode(published["identity.pub"]))
    sealing_public = base64.b64decode(published["sealing.pub"])
    assert published["current"] == key_id(sealing_public)
    for entry in json.loads(published["keys.json"]):
        text = f"beluga-secrets/sealing-key/v1\n{entry['kid']}\n{entry['publicKey']}\n{entry['createdAt']}"
        identity.verify(text.encode(), base64.b64decode(entry["signature"]))
    # Which key is current, signed by the identity as docs/formats.md spells it.
    statement = json.loads(published["current.json"])
    assert sorted(statement) == ["counter", "kid", "namespace", "publicKey", "signature", "signedAt"]
    assert statement["kid"] == published["current"] and statement["publicKey"] == published["sealing.pub"]
    assert statement["namespace"] == "default" and statement["counter"] == 1
    text = "\n".join(["beluga-secrets/current-sealing-key/v1", statement["namespace"], str(statement["counter"]),
                      statement["kid"], statement["publicKey"], statement["signedAt"]])
    identity.verify(text.encode(), base64.b64decode(statement["signature"]))
    assert published["current.json"] == json.dumps(statement, sort_keys=True, separators=(",", ":"))

    # An envelope made by PyNaCl, stored with kubectl as a GitOps pipeline would.
    value = f"sk-py-{secrets.token_hex(12)}".encode()
    payload = {"namespace": "default", "secret": "beluga-ai-secrets", "key": "openai-api-key",
               "value": base64.b64encode(value).decode(), "sealedBy": "pynacl@test",
               "sealedAt": "2026-01-01T00:00:00Z"}
    sealed = SealedBox(PublicKey(sealing_public)).encrypt(json.dumps(payload).encode())
    envelope = f"bs1.{key_id(sealing_public)}.{b64url_nopad(sealed)}"
    kubectl("patch", "configmap", "beluga-ai-secrets-sealed", "--type", "merge",
            "-p", json.dumps({"data": {"openai-api-key": envelope}}))

    def applied():
        text = kubectl("get", "secret", "beluga-ai-secrets", "-o", "json", check=False)
        data = json.loads(text).get("data", {}) if text else {}
        return base64.b64decode(data.get("openai-api-key", "")) == value
    eventually(applied, "the Secret holds the PyNaCl-sealed value")

    # The content hash of docs/formats.md, computed here, is what the Deployment carries.
    def lp(data):
        data = data.encode() if isinstance(data, str) else data
        return struct.pack(">Q", len(data)) + data

    def content_hash():
        secret = json.loads(kubectl("get", "secret", "beluga-ai-secrets", "-o", "json"))
        config = json.loads(kubectl("get", "configmap", "beluga-ai-config", "-o", "json"))
        digest = hashlib.sha256()
        objects = [("ConfigMap", "beluga-ai-config", {k: v.encode() for k, v in config.get("data", {}).items()}),
                   ("Secret", "beluga-ai-secrets",
                    {k: base64.b64decode(v) for k, v in secret.get("data", {}).items()})]
        for kind, name, content in objects:
            digest.update(lp(kind) + lp(name) + lp(str(len(content))))
            for key in sorted(content, key=lambda k: k.encode()):
                digest.update(lp(key) + lp(content[key]))
        return digest.hexdigest()

    def deployment_hash():
        deployment = json.loads(kubectl("get", "deployment", "beluga-ai", "-o", "json"))
        return deployment["spec"]["template"]["metadata"].get("annotations", {}).get("beluga-ai.io/content-hash")
    eventually(lambda: deployment_hash() == content_hash(), "the Deployment carries the content hash")

    agent.send_signal(signal.SIGTERM)
    assert agent.wait(timeout=20) == 0

    # The audit chain: every line links to the one before and is signed by the identity key.
    lines = [line for line in audit_log.read_text().splitlines() if line]
    records = [json.loads(line) for line in lines]
    assert [r["seq"] for r in records] == list(range(1, len(records) + 1))
    previous = ""
    for line, record in zip(lines, records):
        assert record["prev"] == previous
        unsigned = {k: v for k, v in record.items() if k != "sig"}
        canonical = json.dumps(unsigned, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        identity.verify(canonical.encode(), base64.b64decode(record["sig"]))
        assert json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False) == line
        previous = hashlib.sha256(line.encode()).hexdigest()
    created = [r for r in records if r["event"] == "secret.created"]
    assert [r["key"] for r in created] == ["openai-api-key"]
    assert created[0]["sealedBy"] == "pynacl@test"
    assert value.decode() not in audit_log.read_text()

    # The head in the agent's status object names the last line.
    status = json.loads(kubectl("get", "configmap", "beluga-ai-secrets-status", "-o", "json"))
    head = json.loads(status["data"]["audit-head"])
    assert head["seq"] == records[-1]["seq"]
    assert head["hash"] == hashlib.sha256(lines[-1].encode()).hexdigest()
