"""The agent's Role: exactly the rules its calls need, named objects wherever Kubernetes allows.

The expected set below is what the agent calls (docs/agent.md); test_chart_on_cluster.py runs
the agent under the rendered Role and compares this Role with the calls the emulator counted.
"""

from __future__ import annotations

from helmchart import SIDECAR, render, rule_set


def expected(release_prefix: str = "beluga-ai", leader_election: bool = True):
    named = {
        ("", "secrets", f"{release_prefix}-secrets"): ["get", "list", "watch", "update"],
        ("", "secrets", f"{release_prefix}-sealing-key"): ["get", "update"],
        ("", "configmaps", f"{release_prefix}-secrets-sealed"): ["get", "list", "watch", "update"],
        ("", "configmaps", f"{release_prefix}-public-key"): ["get", "list", "watch", "update"],
        ("", "configmaps", f"{release_prefix}-secrets-status"): ["get", "update"],
        ("", "configmaps", f"{release_prefix}-config"): ["get", "list", "watch"],
        ("", "configmaps", f"{release_prefix}-signers"): ["get", "list", "watch"],
        ("apps", "deployments", release_prefix): ["get", "list", "watch", "patch"],
    }
    if leader_election:
        named[("coordination.k8s.io", "leases", f"{release_prefix}-agent")] = ["get", "update"]
    grants = {(group, resource, verb, name) for (group, resource, name), verbs in named.items() for verb in verbs}
    # Kubernetes cannot restrict create by name: the Secrets and the status ConfigMap the agent
    # creates, Events, and the Lease, which the agent creates again when it is missing.
    grants |= {("", "secrets", "create", None), ("", "configmaps", "create", None), ("", "events", "create", None),
               ("", "events", "patch", None)}
    if leader_election:
        grants.add(("coordination.k8s.io", "leases", "create", None))
    return grants


def test_role_grants_exactly_what_the_agent_needs():
    assert rule_set(render().get("Role", "beluga-ai-agent")) == expected()


def test_role_in_sidecar_mode_is_the_same():
    assert rule_set(render(SIDECAR).get("Role", "beluga-ai-agent")) == expected()


def test_role_follows_the_release_name():
    rendered = render(name="prod", namespace="team-a")
    role = rendered.get("Role", "prod-beluga-ai-agent")
    assert role["metadata"]["namespace"] == "team-a"
    assert rule_set(role) == expected("prod-beluga-ai")


def test_no_lease_rule_without_leader_election():
    values = {"agent": {"replicaCount": 1, "leaderElection": {"enabled": False}}}
    assert rule_set(render(values).get("Role", "beluga-ai-agent")) == expected(leader_election=False)


def test_only_create_and_event_patch_are_unnamed():
    unnamed = {g for g in rule_set(render().get("Role", "beluga-ai-agent")) if g[3] is None}
    assert unnamed == {("", "secrets", "create", None), ("", "configmaps", "create", None), ("", "events", "create", None),
                       ("", "events", "patch", None), ("coordination.k8s.io", "leases", "create", None)}


def test_nothing_cluster_wide_and_no_wildcards():
    rendered = render()
    assert rendered.of_kind("ClusterRole") == [] and rendered.of_kind("ClusterRoleBinding") == []
    for group, resource, verb, _ in rule_set(rendered.get("Role", "beluga-ai-agent")):
        assert "*" not in (group, resource, verb)
        assert verb not in ("delete", "deletecollection", "escalate", "bind", "impersonate")


def test_binding_gives_the_role_to_the_agent_only():
    rendered = render()
    binding = rendered.get("RoleBinding", "beluga-ai-agent")
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "beluga-ai-agent"}
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "beluga-ai-agent", "namespace": "ai"}]
    agent_pod = rendered.get("Deployment", "beluga-ai-agent")["spec"]["template"]["spec"]
    assert agent_pod["serviceAccountName"] == "beluga-ai-agent"
    assert "serviceAccountName" not in rendered.get("Deployment", "beluga-ai")["spec"]["template"]["spec"]


def test_rbac_and_service_account_can_be_brought_by_the_operator():
    values = {"agent": {"rbac": {"create": False}, "serviceAccount": {"create": False, "name": "platform-agent"}}}
    rendered = render(values)
    # Only the operators' Role, which is not the agent's.
    assert [r["metadata"]["name"] for r in rendered.of_kind("Role")] == ["beluga-ai-operator"]
    assert rendered.of_kind("RoleBinding") == []
    assert rendered.of_kind("ServiceAccount") == []
    pod = rendered.get("Deployment", "beluga-ai-agent")["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == "platform-agent"
    # `helm test` then runs as the agent's account, whose rights the operator granted.
    assert rendered.get("Pod", "beluga-ai-test")["spec"]["serviceAccountName"] == "platform-agent"


def operator_grants(release_prefix: str = "beluga-ai"):
    named = {
        ("", "configmaps", f"{release_prefix}-secrets-sealed"): ["get", "update"],
        ("", "configmaps", f"{release_prefix}-secrets-status"): ["get", "list", "watch"],
        ("", "configmaps", f"{release_prefix}-public-key"): ["get", "list", "watch"],
        ("apps", "deployments", release_prefix): ["get", "list", "watch"],
        ("coordination.k8s.io", "leases", f"{release_prefix}-agent"): ["get"],
    }
    return {(group, resource, verb, name) for (group, resource, name), verbs in named.items() for verb in verbs}


def test_operator_role_updates_the_sealed_store_and_reads_the_agents_status_only():
    rendered = render()
    role = rendered.get("Role", "beluga-ai-operator")
    assert rule_set(role) == operator_grants()
    # Nothing on Secrets, nothing that writes the agent's status, its keys or its Lease.
    for group, resource, verb, name in rule_set(role):
        assert resource != "secrets"
        assert verb in ("get", "list", "watch") or (resource, name) == ("configmaps", "beluga-ai-secrets-sealed")
    # A Role alone grants nothing: no binding unless subjects are given (the others are the
    # agent's and the `helm test` hook's).
    assert "beluga-ai-operator" not in [b["metadata"]["name"] for b in rendered.of_kind("RoleBinding")]


def test_operator_role_follows_the_release_and_binds_the_given_subjects():
    subjects = [{"kind": "Group", "name": "platform-operators", "apiGroup": "rbac.authorization.k8s.io"}]
    rendered = render({"rbac": {"operatorRole": {"subjects": subjects}}}, name="prod", namespace="team-a")
    assert rule_set(rendered.get("Role", "prod-beluga-ai-operator")) == operator_grants("prod-beluga-ai")
    binding = rendered.get("RoleBinding", "prod-beluga-ai-operator")
    assert binding["roleRef"]["name"] == "prod-beluga-ai-operator"
    assert binding["subjects"] == subjects


def test_operator_role_can_be_left_out():
    rendered = render({"rbac": {"operatorRole": {"create": False}}})
    assert "beluga-ai-operator" not in [r["metadata"]["name"] for r in rendered.of_kind("Role")]
    assert "beluga-ai-agent" in [r["metadata"]["name"] for r in rendered.of_kind("Role")]
