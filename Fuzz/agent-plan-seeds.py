#!/usr/bin/env python3
"""Makes the seed corpus of the `agent-plan` fuzz target (Fuzz/Corpus/agent-plan) from a real run:
the kube-emulator, the real agent, and the real CLI setting, rotating, rolling back and deleting
keys, signed and unsigned, under the `optional` and `required` policies, with a maximum age. After each step the
objects the target reads are captured with kubectl (sealed store, signers, public keys, status,
Secret) and written as one input: the five JSON documents separated by a line `---`.

The agent's keys are the fixed test keys of Fuzz/Sources/FuzzAgentPlan/main.swift (stored in its
sealing-key Secret before it starts), so that the envelopes captured open in the fuzz target.

    make build && .venv/bin/python Fuzz/agent-plan-seeds.py [BIN_DIR]   # default .build/debug
"""

import base64
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nacl.encoding
import nacl.hash
from nacl.public import PrivateKey
from nacl.signing import SigningKey

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "Fuzz" / "Corpus" / "agent-plan"
BIN = Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / ".build" / "debug")
# The fuzz target's fixed test keys: the identity's Ed25519 seed and the X25519 sealing key.
IDENTITY = SigningKey(bytes(range(1, 33)))
SEALING = PrivateKey(bytes(range(33, 65)))
OBJECTS = [  # in the order of the input's documents
    ("configmap", "beluga-ai-secrets-sealed"),
    ("configmap", "beluga-secrets-signers"),
    ("configmap", "beluga-secrets-public-key"),
    ("configmap", "beluga-ai-secrets-status"),
    ("secret", "beluga-ai-secrets"),
]


def key_id(public: bytes) -> str:
    return nacl.hash.blake2b(public, digest_size=32, encoder=nacl.encoding.RawEncoder)[:8].hex()


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        kubeconfig = tmp / "kubeconfig"
        env = {key: os.environ[key] for key in ("PATH", "LANG") if key in os.environ}
        env.update({"HOME": str(tmp), "KUBECONFIG": str(kubeconfig), "XDG_CONFIG_HOME": str(tmp / "config")})
        emulator = subprocess.Popen(
            [str(BIN / "kube-emulator"), "--port", "0", "--kubeconfig-out", str(kubeconfig),
             "--rollout-delay", "20ms"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
        agent = None
        try:
            assert emulator.stdout.readline().startswith(b"listening on")
            wait(kubeconfig.exists, "the kubeconfig is written")

            def kubectl(*args, stdin=None, check=True):
                result = subprocess.run(["kubectl", *args], input=stdin, capture_output=True, env=env, timeout=60)
                if check and result.returncode != 0:
                    raise SystemExit(f"kubectl {' '.join(args)}: {result.stderr.decode()}")
                return result.stdout.decode() if result.returncode == 0 else None

            def cli(*args, value=None, check=True, local=False):
                cluster = [] if local else ["--kubeconfig", str(kubeconfig)]
                result = subprocess.run(
                    [str(BIN / "beluga-secrets"), *args, *cluster],
                    input=value, capture_output=True, env=env, timeout=120)
                if check and result.returncode != 0:
                    raise SystemExit(f"beluga-secrets {' '.join(args)}: {result.stderr.decode()}")
                return result

            def capture(name, replace=None):
                documents = []
                for kind, object_name in OBJECTS:
                    text = kubectl("get", kind, object_name, "-o", "json", check=False)
                    documents.append(json.loads(text) if text else None)
                if replace:
                    documents = replace(documents)
                body = "\n---\n".join(
                    json.dumps(document, separators=(",", ":"), sort_keys=True) if document else ""
                    for document in documents)
                (OUT / name).write_text(body)
                print(f"seed {name}: {len(body)} bytes")

            sealing_public = bytes(SEALING.public_key)
            kid = key_id(sealing_public)
            identity_secret = bytes(IDENTITY) + bytes(IDENTITY.verify_key)
            kubectl("apply", "-f", "-", stdin="\n".join(json.dumps(item) for item in [
                {"apiVersion": "v1", "kind": "ConfigMap",
                 "metadata": {"name": "beluga-ai-config", "namespace": "default"},
                 "data": {"llmProvider": "openai"}},
                {"apiVersion": "v1", "kind": "ConfigMap",
                 "metadata": {"name": "beluga-ai-secrets-sealed", "namespace": "default"}},
                {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                 "metadata": {"name": "beluga-secrets-sealing-key", "namespace": "default"},
                 "data": {"identity.key": base64.b64encode(identity_secret).decode(),
                          f"{kid}.key": base64.b64encode(bytes(SEALING)).decode()}},
                {"apiVersion": "apps/v1", "kind": "Deployment",
                 "metadata": {"name": "beluga-ai", "namespace": "default",
                              "annotations": {"beluga-ai.io/reload": "beluga-ai-secrets,beluga-ai-config"}},
                 "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "beluga-ai"}},
                          "template": {"metadata": {"labels": {"app": "beluga-ai"}},
                                       "spec": {"containers": [{"name": "server", "image": "beluga-ai:1.0.0"}]}}}},
            ]).encode())
            agent = subprocess.Popen(
                [str(BIN / "beluga-secrets"), "agent", "--kubeconfig", str(kubeconfig), "--health-addr",
                 "127.0.0.1:0", "--identity", "agent-seed", "--debounce", "100ms"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)

            def published():
                text = kubectl("get", "configmap", "beluga-secrets-public-key", "-o", "json", check=False)
                return text and json.loads(text).get("data", {}).get("sealing.pub")
            assert base64.b64decode(wait(published, "the agent publishes its keys")) == sealing_public

            wait_for = ("--wait", "--wait-for", "applied", "--timeout", "60s")
            wait_for_set = (*wait_for, "--sealed-by", "seed@fuzz")

            def key_state(key, state):
                def reached():
                    text = kubectl("get", "configmap", "beluga-ai-secrets-status", "-o", "json", check=False)
                    entries = json.loads(json.loads(text)["data"].get("sync-status", "{}")) if text else {}
                    return entries.get(key, {}).get("state") == state
                wait(reached, f"key {key} is {state}")
            cli("set", "openai-api-key", "--no-sign", *wait_for_set, value=b"sk-unsigned-seed-value-0001")
            capture("01-unsigned-applied")

            cli("signer", "init", local=True)
            public = cli("signer", "show", local=True).stdout.decode().split()
            cli("signer", "add", "alice", next(word for word in public if len(word) == 44))
            cli("set", "anthropic-api-key", *wait_for_set, value=b"sk-ant-signed-seed-value-0002")
            capture("02-signed-applied")
            cli("rotate", "openai-api-key", *wait_for_set, value=b"sk-signed-rotation-value-0003")
            capture("03-signed-rotation")
            # The same store before the agent's first pass (no Secret, no status: keys created),
            # and after a hand edit of the Secret (set back).
            capture("03a-first-pass", replace=lambda documents: documents[:3] + [None, None])

            def hand_edit(documents):
                documents[4]["data"]["openai-api-key"] = base64.b64encode(b"edited-by-hand-0006").decode()
                return documents
            capture("03b-hand-edited-secret", replace=hand_edit)
            cli("rollback", "openai-api-key", *wait_for)
            capture("04-signed-rollback")
            cli("max-age", "openai-api-key", "30d")
            capture("04a-max-age")
            cli("delete", "anthropic-api-key")
            key_state("anthropic-api-key", "deleted")
            capture("05-signed-deletion-tombstone")

            kubectl("annotate", "--overwrite", "configmap", "beluga-secrets-signers", "beluga-ai.io/signatures=required")
            cli("set", "mistral-api-key", "--no-sign", *wait_for_set, value=b"unsigned-under-required-0004", check=False)
            capture("06-required-unsigned-rejected")
            cli("set", "cohere-api-key", "--direct", "--sealed-by", "seed@fuzz", value=b"direct-value-seed-0005")
            capture("07-direct-key")

            # A key that left the sealed store without a deletion: kept in the Secret, orphaned.
            kubectl("patch", "configmap", "beluga-ai-secrets-sealed", "--type=json",
                    "-p", '[{"op":"remove","path":"/data/openai-api-key"}]')
            wait(lambda: "orphaned" in json.loads(kubectl(
                "get", "configmap", "beluga-ai-secrets-status", "-o", "json"))["data"], "the key is orphaned")
            capture("08-orphaned-key")
            cli("signer", "remove", "alice")
            capture("09-signer-removed")

            # The layout of agents before the status object: its parts as sealed-store annotations.
            def legacy(documents):
                store, status = documents[0], documents[3]
                annotations = store["metadata"].setdefault("annotations", {})
                for part in ("sync-status", "audit-head"):
                    annotations["beluga-ai.io/" + part] = status["data"][part]
                return [store, documents[1], documents[2], None, documents[4]]
            capture("10-legacy-status-annotations", replace=legacy)
        finally:
            if agent is not None and agent.poll() is None:
                agent.send_signal(signal.SIGTERM)
                agent.wait(timeout=20)
            emulator.send_signal(signal.SIGTERM)
            emulator.wait(timeout=20)


def wait(condition, what, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.05)
    raise SystemExit(f"timed out waiting until {what}")


if __name__ == "__main__":
    main()
