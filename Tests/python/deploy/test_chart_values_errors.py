"""Wrong values fail at install time with a message that names the value and says what is wrong.

Messages never repeat a value that may be a key.
"""

from __future__ import annotations

import helm_python
import pytest

from helmchart import SIDECAR, render, set_values
from chartfixtures import sealed_markers  # noqa: F401 (fixtures)


def failure(values, **options) -> str:
    with pytest.raises((helm_python.HelmValuesError, helm_python.HelmRenderError)) as raised:
        render(values, **options)
    return str(raised.value)


def reason(message: str) -> str:
    """The template's own message: what follows Helm's `execution error at (…): ` prefix."""
    assert "execution error at (" in message, message
    text = message.split("): ", 1)[1]
    assert "\n" not in text.strip(), text
    return text.strip()


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


def test_every_container_keeps_requests_and_a_memory_limit():
    message = failure({"resources": {"limits": None}})
    assert "at '/resources'" in message and "limits" in message
    message = failure({"agent": {"resources": {"requests": {"memory": None}}}})
    assert "/agent/resources/requests" in message and "memory" in message
    message = failure(set_values("resources.limits.memory=null"))
    assert "/resources/limits" in message and "memory" in message


def test_a_cpu_limit_is_optional():
    # Many teams run without CPU limits (throttling); Kubernetes and Pod Security allow it.
    for values in (set_values("resources.limits.cpu=null"), set_values("agent.resources.limits.cpu=null")):
        rendered = render(values)
        for deployment in rendered.of_kind("Deployment"):
            for container in deployment["spec"]["template"]["spec"]["containers"]:
                assert "memory" in container["resources"]["limits"]
    server = render(set_values("resources.limits.cpu=null")).get("Deployment", "beluga-ai")
    assert server["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"] == {"memory": "512Mi"}


def test_a_cpu_target_above_100_percent_is_allowed():
    # averageUtilization is a share of the requests; Kubernetes takes values above 100.
    hpa = render(set_values("autoscaling.enabled=true", "autoscaling.targetCPUUtilizationPercentage=150")).get(
        "HorizontalPodAutoscaler", "beluga-ai")
    assert hpa["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"] == 150
    message = failure(set_values("autoscaling.targetCPUUtilizationPercentage=0"))
    assert "/autoscaling/targetCPUUtilizationPercentage" in message


# --- the agent's image ------------------------------------------------------------------------


def test_the_agent_image_must_be_named():
    # No public registry serves it: the defaults alone stop with what to do, instead of pods that
    # never pull their image.
    text = reason(failure(None, agent_image=False))
    assert text.startswith("agent.image.repository is empty")
    assert "Dockerfile" in text and "push" in text and "agent.image.repository=" in text
    assert "agent.enabled=false" in text
    assert reason(failure({"agent": {"image": {"repository": ""}}}, agent_image=False)) == text
    assert reason(failure(SIDECAR, agent_image=False)) == text
    # Without the agent no image is needed.
    render({"agent": {"enabled": False}}, agent_image=False)


# --- the chart's other one-line refusals ------------------------------------------------------


def test_sealed_secrets_need_the_agent(sealed_markers):
    values = {"agent": {"enabled": False}, "sealedSecrets": {m.key: m.envelope for m in sealed_markers}}
    text = reason(failure(values))
    assert text.startswith("sealedSecrets is set but agent.enabled is false")
    assert "beluga-secrets set KEY --direct" in text
    assert all(m.envelope not in text for m in sealed_markers)


def test_an_existing_service_account_must_be_named():
    text = reason(failure(set_values("agent.serviceAccount.create=false")))
    assert text.startswith("agent.serviceAccount.create is false but agent.serviceAccount.name is empty")
    assert "default" in text
    # Named, it is used; without the agent nothing is asked.
    render(set_values("agent.serviceAccount.create=false", "agent.serviceAccount.name=platform-agent"))
    render(set_values("agent.serviceAccount.create=false", "agent.enabled=false"))


def test_in_sidecar_mode_the_server_and_agent_ports_differ():
    text = reason(failure(set_values("agent.mode=sidecar", "service.port=8081")))
    assert text.startswith("service.port and agent.healthPort are both 8081")
    text = reason(failure(set_values("agent.mode=sidecar", "agent.healthPort=8080")))
    assert text.startswith("service.port and agent.healthPort are both 8080")
    # In deployment mode they are different pods.
    render(set_values("service.port=8081"))


def test_a_node_port_needs_a_service_type_that_has_one():
    text = reason(failure(set_values("service.nodePort=30080")))
    assert text.startswith("service.nodePort is set but service.type is ClusterIP")
    assert "at '/service/nodePort'" in failure(set_values("service.type=NodePort", "service.nodePort=70000"))


def test_pod_labels_cannot_change_the_selector():
    for where, values in (("podLabels", {"podLabels": {"app.kubernetes.io/name": "x"}}),
                          ("agent.podLabels", {"agent": {"podLabels": {"app.kubernetes.io/instance": "x"}}})):
        text = reason(failure(values))
        assert text.startswith(f"{where} sets app.kubernetes.io/"), text


def test_extra_env_never_replaces_a_key_nor_holds_one(sealed_markers):
    text = reason(failure({"extraEnv": [{"name": "OPENAI_API_KEY", "value": "x"}]}))
    assert text.startswith("extraEnv sets OPENAI_API_KEY, which the chart already sets")
    text = reason(failure({"extraEnv": [{"name": "A", "value": "1"}, {"name": "A", "value": "2"}]}))
    assert text.startswith("extraEnv sets A")
    text = reason(failure({"agent": {"extraEnv": [{"name": "POD_NAME", "value": "x"}]}}))
    assert text.startswith("agent.extraEnv sets POD_NAME")
    plaintext = sealed_markers[0].plaintext
    for variable in ({"name": "MISTRAL_API_KEY", "value": plaintext}, {"name": "MODEL", "value": plaintext}):
        text = reason(failure({"extraEnv": [variable]}))
        assert text.startswith(f"extraEnv.{variable['name']} has a literal value and looks like a credential")
        assert plaintext not in text and plaintext[:12] not in text
    # A reference to another Secret is how credentials belong there.
    render({"extraEnv": [{"name": "DATABASE_PASSWORD",
                          "valueFrom": {"secretKeyRef": {"name": "database", "key": "password"}}}]})


def test_extra_volumes_keep_clear_of_the_charts():
    text = reason(failure({"extraVolumes": [{"name": "tmp", "emptyDir": {}}]}))
    assert text.startswith("extraVolumes has a volume named tmp")
    text = reason(failure({"agent": {"mode": "sidecar"}, "extraVolumes": [{"name": "agent-api-access"}]}))
    assert text.startswith("extraVolumes has a volume named agent-api-access")
    text = reason(failure({"extraVolumeMounts": [{"name": "scratch", "mountPath": "/tmp/"}]}))
    assert text.startswith("extraVolumeMounts mounts something at /tmp")


def test_agent_extra_args_cannot_override_the_charts_flags():
    for flag in ("--namespace=other", "--debounce=5s", "--deployment=other", "--identity=x", "--all-namespaces"):
        text = reason(failure({"agent": {"extraArgs": [flag]}}))
        assert text.startswith(f"agent.extraArgs sets {flag.split('=')[0]}, which the chart sets itself"), text
    text = reason(failure({"agent": {"extraArgs": ["--resync-period=1m", "1m"]}}))
    assert text.startswith("agent.extraArgs[1] is not a flag")


def test_an_ingress_needs_a_host():
    text = reason(failure(set_values("ingress.enabled=true")))
    assert text.startswith("ingress.enabled is true but ingress.hosts is empty")
    message = failure({"ingress": {"enabled": True, "hosts": [{"host": "a.example.com", "paths": [{"path": "v1"}]}]}})
    assert "/ingress/hosts/0/paths/0/path" in message


def test_bad_quantity():
    message = failure(set_values("resources.limits.memory=lots"))
    assert "/resources/limits/memory" in message
