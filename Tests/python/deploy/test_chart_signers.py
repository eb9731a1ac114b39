"""Signed rotations in the chart: `agent.signatures` reaches the agent's command line, the allowed
signers of `agent.signers` are rendered into ConfigMap beluga-ai-signers (the format of
docs/formats.md), wrong names and keys fail at install time, and the agent may only read it.
"""

from __future__ import annotations

import base64

import helm_python
import pytest
from nacl.signing import SigningKey, VerifyKey

from helmchart import SIDECAR, render, set_values
from test_chart_rbac import rule_set


def agent_args(rendered, sidecar: bool = False) -> list[str]:
    deployment = rendered.get("Deployment", "beluga-ai" if sidecar else "beluga-ai-agent")
    containers = {c["name"]: c for c in deployment["spec"]["template"]["spec"]["containers"]}
    return containers["beluga-secrets-agent"]["args"]


def public_key() -> str:
    return base64.b64encode(bytes(SigningKey.generate().verify_key)).decode()


@pytest.mark.parametrize("values", [{}, SIDECAR], ids=["deployment", "sidecar"])
@pytest.mark.parametrize("policy", ["optional", "required"])
def test_the_policy_reaches_the_agent(values, policy):
    rendered = render({**values, "agent": {**values.get("agent", {}), "signatures": policy}})
    args = agent_args(rendered, sidecar=bool(values))
    assert f"--signatures={policy}" in args
    assert [a for a in args if a.startswith("--signatures")] == [f"--signatures={policy}"]


def test_the_policy_with_set():
    assert "--signatures=required" in agent_args(render(set_values("agent.signatures=required")))


def test_an_unknown_policy_is_refused():
    with pytest.raises((helm_python.HelmValuesError, helm_python.HelmRenderError)) as raised:
        render(set_values("agent.signatures=sometimes"))
    message = str(raised.value)
    assert "at '/agent/signatures'" in message and "'optional', 'required'" in message


def test_the_signers_configmap_is_rendered_empty_by_default_and_kept():
    signers = render().get("ConfigMap", "beluga-ai-signers")
    assert "data" not in signers
    assert signers["metadata"]["namespace"] == "ai"
    assert signers["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    assert signers["metadata"]["labels"]["app.kubernetes.io/component"] == "secrets-agent"
    # Nothing the CLI or an administrator writes: removed signers, the namespace's policy.
    assert set(signers["metadata"]["annotations"]) == {"helm.sh/resource-policy"}


def test_signers_from_values_are_the_documented_format():
    keys = {"alice": public_key(), "ci.pipeline-1": public_key()}
    rendered = render({"agent": {"signers": keys}}, name="prod", namespace="team-a")
    signers = rendered.get("ConfigMap", "prod-beluga-ai-signers")
    assert signers["data"] == keys
    for text in signers["data"].values():
        # Each entry is the 32-byte Ed25519 public key in standard base64.
        assert len(bytes(VerifyKey(base64.b64decode(text, validate=True)))) == 32


def test_no_signers_configmap_without_the_agent():
    assert not render({"agent": {"enabled": False}}).has("ConfigMap", "beluga-ai-signers")


@pytest.mark.parametrize("name", ["alice@example.com", "-alice", "a" * 64, ""])  # '@': not a ConfigMap key
def test_wrong_signer_names_fail_at_install_time(name):
    with pytest.raises((helm_python.HelmValuesError, helm_python.HelmRenderError)) as raised:
        render({"agent": {"signers": {name: public_key()}}})
    # Helm's validator names the property (its path is reported as the parent's).
    assert f"invalid propertyName '{name}'" in str(raised.value)


@pytest.mark.parametrize(
    "key",
    [
        "not a key",
        base64.b64encode(b"\x01" * 31).decode(),
        base64.b64encode(b"\x01" * 33).decode(),
        base64.urlsafe_b64encode(b"\xfb" * 32).decode(),  # url-safe alphabet
        base64.b64encode(b"\x01" * 32).decode().rstrip("="),  # no padding
    ],
    ids=["text", "31-bytes", "33-bytes", "url-safe", "unpadded"],
)
def test_wrong_signer_keys_fail_at_install_time(key):
    with pytest.raises((helm_python.HelmValuesError, helm_python.HelmRenderError)) as raised:
        render({"agent": {"signers": {"alice": key}}})
    assert "at '/agent/signers/alice'" in str(raised.value)


def test_the_agent_may_only_read_the_signers():
    """Whoever may write the signers decides who may change keys: never the agent."""
    grants = rule_set(render({"agent": {"signers": {"alice": public_key()}}}).get("Role", "beluga-ai-agent"))
    on_signers = {verb for (group, resource, verb, name) in grants if name == "beluga-ai-signers"}
    assert on_signers == {"get", "list", "watch"}
    # The agent creates its status ConfigMap, and Kubernetes cannot limit create by name: it could
    # create a signers ConfigMap that is missing, but never change or delete one. Such an agent
    # gains nothing: it writes every value of the Secret anyway (docs/threat-model.md).
    assert ("", "configmaps", "create", None) in grants
    for verb in ("update", "patch", "delete"):
        assert ("", "configmaps", verb, None) not in grants
        assert ("", "configmaps", verb, "beluga-ai-signers") not in grants
