"""Wrong values fail at install time with a message that names the value and says what is wrong.

Messages never repeat a value that may be a key.
"""

from __future__ import annotations

import helm_python
import pytest

from helmchart import render, set_values
from chartfixtures import sealed_markers  # noqa: F401 (fixtures)


def failure(values) -> str:
    with pytest.raises((helm_python.HelmValuesError, helm_python.HelmRenderError)) as raised:
        render(values)
    return str(raised.value)


def test_wrong_service_type():
    message = failure(set_values("service.type=Ingress"))
    assert "at '/service/type'" in message
    assert "'ClusterIP', 'NodePort', 'LoadBalancer'" in message


def test_negative_replica_count():
    message = failure(set_values("replicaCount=-1"))
    assert "at '/replicaCount'" in message and "minimum" in message and "got -1" in message


def test_replica_count_of_the_wrong_type():
    message = failure({"replicaCount": "three"})
    assert "at '/replicaCount'" in message and "want integer" in message


@pytest.mark.parametrize("values", [{"image": {"repository": ""}}, {"image": {"repository": None}}])
def test_missing_image_repository(values):
    message = failure(values)
    assert "/image" in message and "repository" in message


def test_misspelled_value_is_not_ignored():
    message = failure(set_values("replicaCont=3"))
    assert "additional properties 'replicaCont' not allowed" in message


def test_unknown_agent_mode():
    message = failure(set_values("agent.mode=daemonset"))
    assert "at '/agent/mode'" in message and "'deployment', 'sidecar'" in message


def test_plaintext_looking_sealed_value_is_refused_without_showing_it(sealed_markers):
    plaintext = sealed_markers[0].plaintext
    message = failure({"sealedSecrets": {"openai-api-key": plaintext}})
    assert "sealedSecrets.openai-api-key is not a sealed envelope" in message
    assert "beluga-secrets seal openai-api-key -n ai" in message
    assert plaintext not in message
    assert plaintext[:12] not in message


@pytest.mark.parametrize(
    "envelope",
    [
        "bs1.notakeyid.abc",  # kid is not 16 hex digits
        "bs3.0123456789abcdef." + "A" * 80,  # unknown version
        "bs1.0123456789abcdef.short",  # far too short to hold a sealed payload
        "bs1.0123456789abcdef." + "A" * 80 + "=",  # padding: the format has none
        "bs2.0123456789abcdef." + "A" * 80,  # format 2 without signer and signature
        "bs2.0123456789abcdef.0123456789abcdef." + "A" * 80 + "." + "B" * 20,  # signature too short
    ],
)
def test_malformed_envelopes_are_refused(envelope):
    assert "is not a sealed envelope" in failure({"sealedSecrets": {"openai-api-key": envelope}})


def test_sealed_value_that_is_not_a_string():
    message = failure({"sealedSecrets": {"openai-api-key": 12345}})
    assert "at '/sealedSecrets/openai-api-key'" in message and "want string" in message


def test_sealed_key_name_must_be_a_secret_key():
    message = failure({"sealedSecrets": {"openai api key": "bs1.0123456789abcdef." + "A" * 80}})
    assert "sealedSecrets has the key \"openai api key\", which is not a valid Secret key" in message
    message = failure({"config": {"llm provider": "openai"}})
    assert "config has the key \"llm provider\", which is not a valid ConfigMap key" in message


def test_a_credential_in_config_is_refused(sealed_markers):
    message = failure({"config": {"openaiApiKey": "x"}})
    assert "config.openaiApiKey looks like a credential" in message
    plaintext = sealed_markers[0].plaintext
    message = failure({"config": {"model": plaintext}})
    assert "config.model holds what looks like an API key" in message
    assert plaintext not in message


def test_config_names_that_merely_mention_tokens_are_fine():
    render({"config": {"maxTokens": 4096, "tokenizer": "cl100k"}})


def test_two_agents_without_leader_election():
    message = failure({"agent": {"leaderElection": {"enabled": False}}})
    assert "agent.replicaCount is 2 but agent.leaderElection.enabled is false" in message
    message = failure({"agent": {"mode": "sidecar", "leaderElection": {"enabled": False}}})
    assert "agent.mode is sidecar with more than one server replica" in message


def test_duplicate_api_keys():
    message = failure({"apiKeys": [{"key": "a", "env": "A"}, {"key": "a", "env": "B"}]})
    assert 'apiKeys lists the key "a" twice' in message
    message = failure({"apiKeys": [{"key": "a", "env": "A"}, {"key": "b", "env": "A"}]})
    assert 'two keys the environment variable "A"' in message


def test_bad_environment_variable_name():
    message = failure({"apiKeys": [{"key": "a", "env": "1-BAD"}]})
    assert "/apiKeys/0/env" in message


def test_content_hash_is_the_agents():
    message = failure({"podAnnotations": {"beluga-ai.io/content-hash": "abc"}})
    assert "podAnnotations sets beluga-ai.io/content-hash" in message


def test_autoscaling_bounds():
    message = failure({"autoscaling": {"enabled": True, "minReplicas": 5, "maxReplicas": 3}})
    assert "autoscaling.minReplicas (5) is greater than autoscaling.maxReplicas (3)" in message


def test_every_container_keeps_requests_and_limits():
    message = failure({"resources": {"limits": None}})
    assert "at '/resources'" in message and "limits" in message
    message = failure({"agent": {"resources": {"requests": {"memory": None}}}})
    assert "/agent/resources/requests" in message and "memory" in message


def test_bad_quantity():
    message = failure(set_values("resources.limits.memory=lots"))
    assert "/resources/limits/memory" in message
