"""End-to-end scenarios on a cluster (docs/e2e.md): an operator's day with beluga-secrets, run in
order in one throwaway namespace with one agent, checked with kubectl and Python.

Each step checks what the product must have done to the cluster (the Secret's bytes, the
settings, the content hash the Deployment's pods roll on, one rollout per change and none
without), what it reports (status, the audit trail, Events), and what it must never do (print a
value, touch another namespace).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import struct

import nacl.encoding
import nacl.hash
from nacl.signing import VerifyKey

from conftest import CONFIG_MAP, DEPLOYMENT, SECRET, Story
from targets import eventually

OPENAI = "openai-api-key"
ANTHROPIC = "anthropic-api-key"
DIRECT = "search-api-key"
SIGNER = "e2e-operator"


def fingerprint(namespace: str, key: str, value: str) -> str:
    """docs/formats.md: keyed BLAKE2b-128, the key derived from namespace, Secret and key."""
    context = f"beluga-secrets/fingerprint/v1\0{namespace}\0{SECRET}\0{key}".encode()
    derived = nacl.hash.blake2b(context, digest_size=32, encoder=nacl.encoding.RawEncoder)
    return "fp1:" + nacl.hash.blake2b(value.encode(), digest_size=16, key=derived,
                                      encoder=nacl.encoding.RawEncoder).hex()


def content_hash(config: dict[str, str] | None, secret: dict[str, bytes] | None) -> str:
    """docs/formats.md: SHA-256 over the length-prefixed contents, ConfigMap before Secret."""
    def lp(data: str | bytes) -> bytes:
        data = data.encode() if isinstance(data, str) else data
        return struct.pack(">Q", len(data)) + data

    digest = hashlib.sha256()
    for kind, name, content in (("ConfigMap", CONFIG_MAP, config), ("Secret", SECRET, secret)):
        if content is None:
            digest.update(lp(kind) + lp(name) + lp("absent"))
            continue
        digest.update(lp(kind) + lp(name) + lp(str(len(content))))
        for key in sorted(content, key=lambda k: k.encode()):
            digest.update(lp(key) + lp(content[key]))
    return digest.hexdigest()


def expected_hash(story: Story) -> str:
    config = story.get("configmap", CONFIG_MAP)
    return content_hash(None if config is None else config.get("data") or {}, story.secret_data())


def assert_secret_holds(story: Story) -> None:
    """The Secret holds exactly the expected values (compared here, never printed)."""
    data = story.secret_data() or {}
    wrong = sorted(key for key in set(data) | set(story.values)
                   if data.get(key) != (story.values[key].encode() if key in story.values else None))
    assert not wrong, f"the Secret's keys {wrong} do not hold the values that were set"


def set_value(story: Story, verb: str, key: str, label: str, *extra: str, use_file: bool = True) -> str:
    """`beluga-secrets set|rotate KEY` with a new marker value from a 0600 file or standard input."""
    value = story.markers.make(label)
    if use_file:
        out = story.cli(verb, key, "--from-file", str(story.value_file(value)), "--sealed-by", "e2e", *extra)
    else:
        out = story.cli(verb, key, "--sealed-by", "e2e", *extra, stdin=value.encode())
    story.values[key] = value
    return out


def test_the_agent_publishes_its_key_and_records_the_content_hash(story: Story) -> None:
    before = story.deployment()
    assert before.content_hash is None
    story.start_agent()
    published = story.get("configmap", "beluga-ai-public-key")
    assert published is not None, "no public-key ConfigMap after the agent became ready"
    data = published["data"]
    assert {"current", "sealing.pub", "identity.pub", "keys.json"} <= set(data)
    assert [entry["kid"] for entry in json.loads(data["keys.json"])] == [data["current"]]
    lease = story.get("lease", "beluga-ai-agent")
    assert lease is not None and lease["spec"]["holderIdentity"] == story.identity
    # A Deployment without a content hash: the agent records the hash of what its running pods
    # have on the Deployment itself, and restarts nothing.
    story.expected_changes.append(("sealing-key.created", "", 0))
    recorded = eventually(lambda: story.deployment().recorded_hash, "the agent records the content hash")
    assert recorded == expected_hash(story)[:63]
    story.assert_no_rollout(before, "the agent's first start")


def test_set_writes_the_secret_and_restarts_once(story: Story) -> None:
    before = story.deployment()
    out = set_value(story, "set", OPENAI, "openai-1")
    assert f"{OPENAI}: version 1" in out
    story.expected_changes.append(("secret.created", OPENAI, 1))
    after = story.await_one_rollout(before, "set")
    assert_secret_holds(story)
    assert after.content_hash == expected_hash(story)


def test_rotate_from_standard_input_restarts_once_more(story: Story) -> None:
    before = story.deployment()
    old = story.secret_data()[OPENAI]
    set_value(story, "rotate", OPENAI, "openai-2", use_file=False)
    story.expected_changes.append(("secret.rotated", OPENAI, 2))
    after = story.await_one_rollout(before, "rotate")
    assert_secret_holds(story)
    assert story.secret_data()[OPENAI] != old
    assert after.content_hash == expected_hash(story)


def test_rotate_refuses_a_key_that_does_not_exist(story: Story) -> None:
    before = story.deployment()
    value = story.markers.make("typo")
    story.cli("rotate", "opneai-api-key", stdin=value.encode(), expect=2)
    assert "opneai-api-key" not in story.secret_data()
    story.assert_no_rollout(before, "a refused rotate")


def test_a_setting_updates_the_config_map_and_restarts_once(story: Story) -> None:
    before = story.deployment()
    out = story.cli("config", "set", "llmProvider", "anthropic")
    assert "set to anthropic (was openai)" in out
    config = story.get("configmap", CONFIG_MAP)
    assert config["data"] == {"llmProvider": "anthropic", "embeddingProvider": "openai"}
    story.expected_changes.append(("config.changed", "llmProvider", 0))
    after = story.await_one_rollout(before, "config set")
    assert after.content_hash == expected_hash(story)


def test_delete_removes_the_key_and_restarts_once(story: Story) -> None:
    before = story.deployment()
    set_value(story, "set", ANTHROPIC, "anthropic-1")
    story.expected_changes.append(("secret.created", ANTHROPIC, 1))
    middle = story.await_one_rollout(before, "set of a second key")
    assert_secret_holds(story)

    out = story.cli("delete", ANTHROPIC)
    # The deletion is a change like any other: a tombstone as the key's next version.
    assert f"{ANTHROPIC}: deletion recorded as version 2" in out
    del story.values[ANTHROPIC]
    story.expected_changes.append(("secret.deleted", ANTHROPIC, 2))
    after = story.await_one_rollout(middle, "delete")
    assert ANTHROPIC not in story.secret_data()
    assert_secret_holds(story)
    # Back to the contents before the second key: the same hash as then.
    assert after.content_hash == before.content_hash == expected_hash(story)
    sealed = story.get("configmap", f"{SECRET}-sealed")
    assert ANTHROPIC not in (sealed.get("data") or {})


def test_rollback_restores_the_previous_value_as_a_new_version(story: Story) -> None:
    before = story.deployment()
    first = story.markers.named["openai-1"]
    out = story.cli("rollback", OPENAI)
    assert f"{OPENAI}: version 3 restores version 1" in out
    story.values[OPENAI] = first
    # Unsigned, a rollback is the old envelope stored again: a rotation to version 3.
    story.expected_changes.append(("secret.rotated", OPENAI, 3))
    after = story.await_one_rollout(before, "rollback")
    assert_secret_holds(story)
    assert after.content_hash == expected_hash(story)


def test_a_change_made_while_the_agent_is_down_is_applied_when_it_returns(story: Story) -> None:
    assert story.stop_agent() == 0, "the agent did not exit 0 on SIGTERM"
    lease = story.get("lease", "beluga-ai-agent")
    assert not lease["spec"].get("holderIdentity"), "the agent kept the Lease after SIGTERM"

    before = story.deployment()
    set_value(story, "rotate", OPENAI, "openai-4")
    status = json.loads(story.cli("status", "-o", "json"))
    assert status["agent"]["live"] is False
    assert [entry.get("key") for entry in status["pending"]] == [OPENAI], status["pending"]
    assert story.secret_data()[OPENAI] != story.values[OPENAI].encode(), "applied with no agent running"
    story.assert_no_rollout(before, "a change with no agent running")

    story.start_agent()
    story.expected_changes.append(("secret.rotated", OPENAI, 4))
    after = story.await_one_rollout(before, "the agent's return")
    assert_secret_holds(story)
    assert after.content_hash == expected_hash(story)


def test_an_agent_that_crashed_comes_back_and_restarts_nothing(story: Story) -> None:
    before = story.deployment()
    story.crash_agent()
    lease = story.get("lease", "beluga-ai-agent")
    assert lease["spec"]["holderIdentity"] == story.identity, "a killed agent cannot have released its Lease"
    # The same identity (a pod that restarted in place) takes its own Lease back at once.
    story.start_agent()
    story.assert_no_rollout(before, "an agent restart")
    assert_secret_holds(story)


def test_direct_mode_writes_the_secret_and_patches_the_hash_itself(story: Story) -> None:
    before = story.deployment()
    out = set_value(story, "set", DIRECT, "direct-1", "--direct")
    assert f"{DIRECT}: version 1" in out and "written into Secret" in out
    # The CLI patched the hash; the running agent computes the same one and leaves it.
    after = story.await_one_rollout(before, "set --direct")
    story.expected_rollouts -= 1  # the CLI's patch, not the agent's: no audit record
    assert_secret_holds(story)
    assert after.content_hash == expected_hash(story)


def test_a_new_sealing_key_reseals_what_is_stored_and_restarts_nothing(story: Story) -> None:
    before = story.deployment()
    before_keys = story.get("configmap", "beluga-ai-public-key")["data"]
    old = before_keys["current"]
    story.cli("keys", "rotate", "--timeout", "60s")
    published = story.get("configmap", "beluga-ai-public-key")["data"]
    new = published["current"]
    assert new != old and {old, new} <= {entry["kid"] for entry in json.loads(published["keys.json"])}
    # The signed statement of the current key moved on with a higher counter.
    statement = json.loads(published["current.json"])
    assert statement["kid"] == new
    assert statement["counter"] == json.loads(before_keys["current.json"])["counter"] + 1

    def kid(envelope: str) -> str:
        return envelope.split(".")[1]

    eventually(lambda: kid(story.get("configmap", f"{SECRET}-sealed")["data"][OPENAI]) == new,
               "the agent re-seals the stored envelope to the new key")
    # Two records: the new key, then the re-sealing (the same versions, no change of value).
    story.expected_changes += [("sealing-key.rotated", "", 0)] * 2
    story.assert_no_rollout(before, "a new sealing key")
    assert_secret_holds(story)


def test_signed_rotations_and_a_signed_rollback_name_their_signer(story: Story) -> None:
    """With a signing key, `rotate` signs the envelope and `rollback` signs a statement; an
    allowed signer (`signer add`) is then named in the audit trail as who made each change."""
    story.cli("signer", "init", cluster=False)
    public = story.folder / "config" / "beluga-secrets" / "signer.pub"
    story.cli("signer", "add", SIGNER, f"@{public}")

    deployment = story.deployment()
    for version in (5, 6):
        set_value(story, "rotate", OPENAI, f"openai-{version}")
        story.expected_changes.append(("secret.rotated", OPENAI, version))
        deployment = story.await_one_rollout(deployment, f"signed rotate to version {version}")
        assert_secret_holds(story)

    out = story.cli("rollback", OPENAI)
    assert f"{OPENAI}: version 7 restores version 5" in out
    story.values[OPENAI] = story.markers.named["openai-5"]
    story.expected_changes.append(("secret.rotated", OPENAI, 7))
    story.await_one_rollout(deployment, "a signed rollback")
    assert_secret_holds(story)


def test_a_tampered_envelope_is_refused_and_the_value_stays(story: Story) -> None:
    """What a broken GitOps push or an attacker with write access to the sealed store causes:
    the agent refuses the envelope, keeps the value, restarts nothing and says so; sealing the
    value again ends it."""
    before = story.deployment()
    sealed = f"{SECRET}-sealed"
    good = story.get("configmap", sealed)["data"][OPENAI]
    # Six characters of the ciphertext changed (docs/envelope.md: bs1.<kid>.<ciphertext>, or
    # bs2.<kid>.<signer>.<ciphertext>.<signature>).
    parts = good.split(".")
    index = 2 if parts[0] == "bs1" else 3
    replacement = "AAAAAA" if parts[index][10:16] != "AAAAAA" else "BBBBBB"
    parts[index] = parts[index][:10] + replacement + parts[index][16:]
    tampered = ".".join(parts)
    story.kubectl("patch", "configmap", sealed, "--type", "merge", "-p",
                  json.dumps({"data": {OPENAI: tampered}}))
    eventually(lambda: any(r["event"] == "secret.rejected" for r in story.agent.records()),
               "the agent records the rejection")
    status = json.loads(story.cli("status", "-o", "json"))
    state = next(entry for entry in status["keys"] if entry["key"] == OPENAI)
    assert state["state"] == "rejected" and state["reason"], state
    warnings = [e for e in json.loads(story.kubectl("get", "events", "-o", "json").stdout)["items"]
                if e["reason"] == "EnvelopeRejected"]
    assert [(e["type"], e["involvedObject"]["name"]) for e in warnings] == [("Warning", SECRET)]
    story.expected_changes.append(("secret.rejected", OPENAI, 7))
    story.assert_no_rollout(before, "a refused envelope")
    assert_secret_holds(story)

    # What the refusal says to do: seal the value again.
    set_value(story, "rotate", OPENAI, "openai-8")
    story.expected_changes.append(("secret.rotated", OPENAI, 8))
    story.await_one_rollout(before, "a rotate after the refusal")
    assert_secret_holds(story)


def test_status_shows_the_leader_and_every_key(story: Story) -> None:
    status = json.loads(story.cli("status", "-o", "json"))
    assert status["agent"]["holder"] == story.identity and status["agent"]["live"] is True
    assert status["pending"] == []
    keys = {entry["key"]: entry for entry in status["keys"]}
    assert set(keys) == {OPENAI, DIRECT}
    assert (keys[OPENAI]["version"], keys[OPENAI]["state"], keys[OPENAI]["source"]) == (8, "applied", "sealed")
    assert (keys[DIRECT]["state"], keys[DIRECT]["source"]) == ("direct", "direct")
    for key in (OPENAI, DIRECT):
        assert keys[key]["fingerprint"] == fingerprint(story.ns, key, story.values[key])
    table = story.cli("status")
    assert f"leader {story.identity}" in table and "Pending:      none" in table


def test_the_audit_trail_shows_every_change_in_order_and_verifies(story: Story) -> None:
    log = story.folder / "agent.audit.log"
    out = story.cli("audit", "--file", str(log), "--verify")
    assert "signatures valid, chain unbroken" in out
    for key in (OPENAI, ANTHROPIC, "llmProvider"):
        assert f"key {key}" in out

    records = json.loads(story.cli("audit", "--file", str(log), "-o", "json"))["records"]
    changes = [(r["event"], r["key"], r["version"]) for r in records if r["event"] != "rollout.triggered"]
    timeline = "\n".join(f"{r['seq']} {r['event']} {r['key']} v{r['version']}: {r['reason']}" for r in records)
    assert changes == story.expected_changes, timeline
    assert sum(r["event"] == "rollout.triggered" for r in records) == story.expected_rollouts
    assert [r["seq"] for r in records] == list(range(1, len(records) + 1))

    # The same, verified here with PyNaCl: the chain of SHA-256 links and the Ed25519 signatures
    # by the identity the agent published, over the lines exactly as printed (a restarted agent
    # prints the audit head's last lines again: those repeats are skipped).
    identity = VerifyKey(base64.b64decode(story.get("configmap", "beluga-ai-public-key")["data"]["identity.pub"]))
    previous, seen = "", 0
    for line in log.read_text().splitlines():
        record = json.loads(line)
        if record["seq"] <= seen:
            continue
        assert record["seq"] == seen + 1 and record["prev"] == previous
        unsigned = {k: v for k, v in record.items() if k != "sig"}
        identity.verify(json.dumps(unsigned, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(),
                        base64.b64decode(record["sig"]))
        previous, seen = hashlib.sha256(line.encode()).hexdigest(), record["seq"]
    assert seen == len(records)

    # Fingerprints name the values that were set, as Python computes them.
    sealed = [r for r in records if r["event"] in ("secret.created", "secret.rotated")]
    named = story.markers.named
    assert [r["fingerprint"] for r in sealed] == [
        fingerprint(story.ns, OPENAI, named["openai-1"]), fingerprint(story.ns, OPENAI, named["openai-2"]),
        fingerprint(story.ns, ANTHROPIC, named["anthropic-1"]), fingerprint(story.ns, OPENAI, named["openai-1"]),
        fingerprint(story.ns, OPENAI, named["openai-4"]), fingerprint(story.ns, OPENAI, named["openai-5"]),
        fingerprint(story.ns, OPENAI, named["openai-6"]), fingerprint(story.ns, OPENAI, named["openai-5"]),
        fingerprint(story.ns, OPENAI, named["openai-8"])]

    # Who made each change: no one proven before the signer was allowed, then the signer, for the
    # signed rollback as its statement's signer; `changes` says the same.
    assert [(r["version"], r["signer"]) for r in sealed if r["key"] == OPENAI][-5:] == \
        [(4, ""), (5, SIGNER), (6, SIGNER), (7, SIGNER), (8, SIGNER)]
    assert sealed[-2]["reason"].startswith("rollback from version 6 to the envelope of version 5, signed by "
                                           f"{SIGNER}"), sealed[-2]["reason"]
    def states(*options: str) -> list:
        return [(c["key"], c["version"], c["signature"]) for c in
                json.loads(story.cli("audit", "--file", str(log), "-o", "json", *options))["changes"]][-5:]

    # Without the agent's identity key no record's own signature is checked: no change shows as
    # proven. With it, the signed ones do.
    assert states() == [(OPENAI, 4, "unsigned"), (OPENAI, 5, "unchecked"), (OPENAI, 6, "unchecked"),
                        (OPENAI, 7, "unchecked"), (OPENAI, 8, "unchecked")]
    identity_file = story.folder / "identity.pub"
    identity_file.write_text(story.get("configmap", "beluga-ai-public-key")["data"]["identity.pub"] + "\n")
    assert states("--identity-key", str(identity_file)) == [
        (OPENAI, 4, "unsigned"), (OPENAI, 5, "verified"), (OPENAI, 6, "verified"), (OPENAI, 7, "verified"),
        (OPENAI, 8, "verified")]


def test_events_tell_what_happened_to_the_secret(story: Story) -> None:
    events = json.loads(story.kubectl("get", "events", "-o", "json").stdout)["items"]
    on_secret = sorted({e["reason"] for e in events if e["involvedObject"].get("name") == SECRET})
    assert on_secret == ["EnvelopeRejected", "KeyCreated", "KeyDeleted", "KeyRotated"]
    rollouts = [e for e in events if e["reason"] == "RolloutTriggered"]
    assert sum(e.get("count", 1) for e in rollouts) == story.expected_rollouts
    # Named as `kubectl describe deployment` looks them up (kind, name, namespace, uid).
    uid = story.get("deployment", DEPLOYMENT)["metadata"]["uid"]
    assert {(o["kind"], o["apiVersion"], o["name"], o["uid"]) for o in (e["involvedObject"] for e in rollouts)} \
        == {("Deployment", "apps/v1", DEPLOYMENT, uid)}


def test_the_agent_needed_nothing_beyond_the_charts_role(story: Story) -> None:
    """The agent ran with the chart's ServiceAccount: the cluster's RBAC refused none of its calls."""
    metrics = story.agent.metrics()
    codes = re.findall(r'^beluga_secrets_api_requests_total\{code="([^"]+)"\} (\S+)', metrics, re.MULTILINE)
    assert codes and ("2xx" in dict(codes)), metrics
    assert [code for code, _ in codes if code in ("401", "403")] == [], codes
    rows = story.target.requests(user=f"system:serviceaccount:{story.ns}:{story.chart.service_account}")
    if rows is not None:  # a kube-emulator: every call of every run of the agent
        assert rows, "no request of the agent's ServiceAccount was seen"
        refused = [f"{r['verb']} {r['resource']} {r['name']}: {code}" for r in rows for code in r["codes"]
                   if code in ("401", "403")]
        assert refused == []


def test_no_value_appears_outside_the_secret(story: Story) -> None:
    assert story.agent is not None
    story.markers.capture("agent log (running)", story.agent.log.read_text())
    story.markers.capture("audit records", (story.folder / "agent.audit.log").read_text())
    for run in range(1, story.agent_runs + 1):
        story.markers.capture(f"agent log, run {run}", (story.folder / f"agent.{run}.log").read_text())
    # Every object in the namespace but the Secret: the sealed store, settings, public keys,
    # Deployment, ReplicaSets, Lease and Events hold no value.
    story.kubectl("get", "configmaps,deployments,replicasets,leases,events", "-o", "json")
    # …nor does any other Secret (the sealing keys; a cluster may add its own, e.g. OpenShift's).
    names = story.kubectl("get", "secrets", "-o", "name").stdout.decode().split()
    assert {f"secret/{SECRET}", "secret/beluga-ai-sealing-key"} <= set(names), names
    for name in sorted(set(names) - {f"secret/{SECRET}"}):
        story.markers.capture(f"kubectl get {name}",
                              story.target.kubectl("get", name, "-n", story.ns, "-o", "json").stdout)
    assert len(story.markers.values) >= 6
    assert story.markers.leaks() == []
