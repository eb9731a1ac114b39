"""The image's runtime stage, assembled from the Dockerfile and run as a cluster runs it.

No container engine runs here: runtime_root.py assembles the stage's root with debootstrap from
what the Dockerfile says (Debian release, packages, RUN commands, user) and runs the image's
ENTRYPOINT in it with `chroot --userspec=UID:GID` on a read-only root (how, and why that is
faithful, is said there). The release binary is the Dockerfile's own build (release.py),
stripped as the build stage strips it.

The agent then runs in-cluster as in a pod of the chart: KUBERNETES_SERVICE_HOST/_PORT name a
kube-emulator over TLS on 127.0.0.1; the token of the chart's ServiceAccount (issued by the
emulator, whose RBAC enforces the Role the chart applied), the CA and the namespace are mounted at
/var/run/secrets/kubernetes.io/serviceaccount; the rendered container's arguments follow the
ENTRYPOINT, with the chart's security context enforced. It must become ready and lead, apply a
key set from the workstation, roll the Deployment once and write the audit record on standard
output, as the Dockerfile's numeric non-root user, with no capability, writing only to /tmp.
The chart's `helm test` Pod, which runs `beluga-secrets doctor` in the same image, must pass
in it too.

So this fails, with the reason, when the runtime packages miss a library the binary loads, when
the user cannot run the binary, when the in-cluster configuration breaks, and when the stage
cannot be assembled (an unreachable mirror is a failure, never a skip).
"""

from __future__ import annotations

import base64
import os
import re
import secrets
import subprocess
import urllib.error
import urllib.request
from pathlib import Path, PurePosixPath

import pytest
import yaml

from belugaprocess import AgentProcess
from cluster import (
    AGENT_COMPONENT, Emulator, agent_container, deployment_hash, eventually, free_port, pod_names, refused,
    requests_by, secret_data, set_key,
)
from dockerfile import RuntimeStage, parse
from helmchart import pod_spec, render
from release import release_binary  # noqa: F401 (the shared fixture)
from runtime_root import Image, assembled_root, in_root, stripped_copy

NAMESPACE = "beluga"
RELEASE = "beluga-ai"
SERVICE_ACCOUNT = "beluga-ai-agent"
AGENT_USER = f"system:serviceaccount:{NAMESPACE}:{SERVICE_ACCOUNT}"
KEY = "openai-api-key"


@pytest.fixture(scope="module")
def stage() -> RuntimeStage:
    return RuntimeStage.read()


@pytest.fixture(scope="module")
def image(stage, release_binary, tmp_path_factory) -> Image:
    root = assembled_root(stage)
    binary = stripped_copy(release_binary, tmp_path_factory.mktemp("image")) if stage.stripped else release_binary
    return Image(stage, root, binary)


def test_paths_are_followed_inside_the_root_never_out_of_it(tmp_path):
    """Where the tests write and mount in the image: links resolved as in a chroot. Debian's
    /var/run is an absolute link to /run; followed on this machine, it would be this machine's."""
    root = tmp_path / "root"
    (root / "run").mkdir(parents=True)
    (root / "var").mkdir()
    (root / "var" / "run").symlink_to("/run")
    (root / "usr" / "lib").mkdir(parents=True)
    (root / "lib").symlink_to("usr/lib")
    (root / "usr" / "lib" / "up").symlink_to("../../../../..")
    assert in_root(root, "/var/run/secrets/kubernetes.io/serviceaccount") == PurePosixPath(
        "/run/secrets/kubernetes.io/serviceaccount")
    assert in_root(root, "/lib/x86_64-linux-gnu/libc.so.6") == PurePosixPath("/usr/lib/x86_64-linux-gnu/libc.so.6")
    assert in_root(root, "/lib/up/etc/passwd") == PurePosixPath("/etc/passwd")
    assert in_root(root, "/../../etc") == PurePosixPath("/etc")


def host_output(image: Image, *args: str) -> str:
    """What the same binary prints on this machine, with the container's environment."""
    result = subprocess.run([str(image.binary), *args], capture_output=True, text=True, env=image.environment(),
                            timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_the_entrypoint_runs_version_and_help_in_the_image(image, stage, tmp_path):
    """`docker run IMAGE version` and `docker run IMAGE --help`: ENTRYPOINT + those arguments,
    as the image's user. The first thing to break when a library is missing or the user may not
    run the binary."""
    version = image.run(tmp_path, ["version"])
    assert version.returncode == 0, (
        f"`{' '.join(stage.entrypoint)} version` fails in the runtime stage (exit {version.returncode}): "
        f"{version.stderr.decode().strip()}")
    [arg] = [a for a in parse()[-1].all("ARG") if a.arguments.startswith("VERSION=")]
    assert version.stdout.decode() == f"beluga-secrets {arg.arguments.split('=', 1)[1]}\n", (
        "the binary's version differs from the image's version label (ARG VERSION)")

    help_text = image.run(tmp_path, ["--help"])
    assert help_text.returncode == 0, help_text.stderr.decode()
    # The same binary prints the same help here and in the image; `agent` (the CMD) is one of
    # its commands.
    assert help_text.stdout.decode() == host_output(image, "--help")
    assert re.search(rf"^\s+{stage.cmd[0]}\s", help_text.stdout.decode(), re.MULTILINE), help_text.stdout.decode()


def tmpfs_size(size_limit: str) -> str:
    """An emptyDir's sizeLimit (`16Mi`) as a tmpfs size (`16m`)."""
    match = re.fullmatch(r"(\d+)(Ki|Mi|Gi)", size_limit)
    assert match, f"sizeLimit {size_limit}: expected a number of Ki, Mi or Gi"
    return match.group(1) + match.group(2)[0].lower()


def service_account_folder(emulator: Emulator, folder: Path, stage: RuntimeStage, account: str) -> Path:
    """What the kubelet mounts for a pod: a token the emulator issued for the ServiceAccount
    (owned by the pod's user, mode 0600, as for a pod with runAsUser), the cluster's CA and the
    namespace."""
    accounts = folder / f"serviceaccount-{account}"
    accounts.mkdir(mode=0o755)
    token = emulator.kubectl("create", "token", account, "-n", NAMESPACE).stdout.strip()
    config = yaml.safe_load(emulator.kubeconfig.read_text())
    ca = base64.b64decode(config["clusters"][0]["cluster"]["certificate-authority-data"])
    for name, content, mode in (("token", token, 0o600), ("ca.crt", ca, 0o644),
                                ("namespace", NAMESPACE.encode(), 0o644)):
        path = accounts / name
        path.write_bytes(content)
        path.chmod(mode)
    os.chown(accounts / "token", stage.uid, stage.gid)
    return accounts


def proc_status(pid: int) -> dict[str, str]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    return fields


def mounts_seen_by(pid: int) -> dict[str, tuple[str, set[str]]]:
    """Mount point → (file system type, mount options), as the process sees its mounts."""
    seen = {}
    for line in Path(f"/proc/{pid}/mountinfo").read_text().splitlines():
        before, _, after = line.partition(" - ")
        fields = before.split()
        seen[fields[4]] = (after.split()[0], set(fields[5].split(",")))
    return seen


class ImageAgent(AgentProcess):
    """The agent in its container: its standard output (the audit records, as `kubectl logs`
    shows them) and its operational log in files; the last /readyz answer kept, so that a
    failure says why the agent is not ready."""

    readiness = "no answer"

    def ready(self) -> str | None:
        try:
            with urllib.request.urlopen(self.health_url + "/readyz", timeout=2) as answer:
                self.readiness = f"{answer.status} {answer.read().decode().strip()}"
                return self.readiness.removeprefix("200 ") if answer.status == 200 else None
        except urllib.error.HTTPError as answer:
            self.readiness = f"{answer.code} {answer.read().decode(errors='replace').strip()}"
            return None
        except (urllib.error.URLError, ConnectionError, OSError) as error:
            self.readiness = f"no answer ({error})"
            return None

    def wait(self, condition, what: str, timeout: float = 60) -> None:
        try:
            eventually(lambda: self.exited() or condition(), what, timeout=timeout)
        except AssertionError as failure:
            if self.process.poll() is not None:
                raise  # exited() said why
            tail = "\n".join(self.log.read_text(errors="replace").splitlines()[-20:])
            raise AssertionError(f"{failure}; /readyz: {self.readiness}; the agent's log ends:\n{tail}") from None


@pytest.fixture
def emulator(tmp_path):
    folder = tmp_path / "emulator"
    folder.mkdir()
    running = Emulator(folder)
    try:
        yield running
    finally:
        running.stop()


def test_the_agent_runs_in_cluster_in_the_image_as_the_chart_runs_it(image, stage, emulator, tmp_path):
    port = free_port()
    rendered = render({"agent": {"healthPort": port}}, name=RELEASE, namespace=NAMESPACE)
    emulator.kubectl("create", "namespace", NAMESPACE)
    emulator.apply(rendered, NAMESPACE)

    # What the chart asks of the agent's container, which the run below enforces.
    container = agent_container(rendered, f"{RELEASE}-agent")
    pod = pod_spec(rendered.get("Deployment", f"{RELEASE}-agent"))
    assert "command" not in container, "the chart overrides the image's ENTRYPOINT"
    assert container["args"][0] == stage.cmd[0], "the chart's arguments run another command than the CMD"
    assert (pod["securityContext"]["runAsUser"], pod["securityContext"]["runAsGroup"]) == (stage.uid, stage.gid)
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]
    [tmp_mount] = container["volumeMounts"]
    [tmp_volume] = [v for v in pod["volumes"] if v["name"] == tmp_mount["name"]]
    assert tmp_mount["mountPath"] == "/tmp", "the chart's only writable place is /tmp"
    assert [e["name"] for e in container["env"]] == ["POD_NAME"]

    pod_name = pod_names(emulator, NAMESPACE, AGENT_COMPONENT)[0]
    accounts = service_account_folder(emulator, tmp_path, stage, pod["serviceAccountName"])
    host, api_port = re.fullmatch(r"https://([\d.]+):(\d+)", emulator.url.rstrip("/")).groups()
    cluster = {"KUBERNETES_SERVICE_HOST": host, "KUBERNETES_SERVICE_PORT": api_port}
    env = {**cluster, "POD_NAME": pod_name, "HOSTNAME": pod_name}
    audit_log, log = tmp_path / "agent.stdout", tmp_path / "agent.stderr"
    # The process keeps its id through unshare, sh and chroot (each execs the next): it is the agent.
    argv = image.command(tmp_path, container["args"], accounts, tmpfs_size(tmp_volume["emptyDir"]["sizeLimit"]))
    agent = ImageAgent.launch(argv, image.environment(env), audit_log, log, port)
    process = agent.process
    value = f"sk-image-{secrets.token_hex(16)}"
    try:
        # Ready first as a standby, then as the leader once its first sync is done.
        agent.wait(lambda: (agent.ready() or "").startswith("leading; synced"),
                   "the agent in the image leads and has synced (in-cluster configuration, TLS, RBAC)")
        lease = emulator.get("lease", "beluga-ai-agent", NAMESPACE)
        assert lease["spec"]["holderIdentity"] == pod_name

        # What a cluster enforces, seen from outside the container.
        status = proc_status(process.pid)
        assert status["Name"] == "beluga-secrets" and os.readlink(f"/proc/{process.pid}/exe").endswith(
            str(stage.binary)), "the agent is not the image's binary"
        assert status["Uid"].split() == [str(stage.uid)] * 4, f"runs as {status['Uid']}, not the image's USER"
        assert status["Gid"].split() == [str(stage.gid)] * 4, f"runs as group {status['Gid']}"
        assert "0" not in status["Groups"].split(), f"in the root group: {status['Groups']}"
        for capabilities in ("CapInh", "CapPrm", "CapEff", "CapAmb"):
            assert int(status[capabilities], 16) == 0, f"{capabilities} {status[capabilities]}: holds a capability"
        mounts = mounts_seen_by(process.pid)
        assert "ro" in mounts["/"][1], f"the agent's root is writable: {mounts['/']}"
        assert mounts["/tmp"][0] == "tmpfs" and "rw" in mounts["/tmp"][1], mounts.get("/tmp")
        writable = sorted(point for point, (kind, options) in mounts.items()
                          if "rw" in options and kind not in ("proc", "devtmpfs") and not point.startswith("/dev"))
        assert writable == ["/tmp"], f"writable outside /tmp: {writable}"

        # A key set from the workstation: sealed by the CLI here, applied by the agent in the image.
        # (Its first start records the content hash in a label, no rollout; counted from there.)
        agent.wait(lambda: deployment_hash(emulator, NAMESPACE, RELEASE), "the agent records the content hash")
        rollouts_before = emulator.rollouts(NAMESPACE, RELEASE)
        stored = set_key(emulator, NAMESPACE, KEY, value, tmp_path)
        assert stored.returncode == 0, stored.stderr.decode()
        assert secret_data(emulator, NAMESPACE, f"{RELEASE}-secrets") == {KEY: value.encode()}
        agent.wait(lambda: emulator.rollouts(NAMESPACE, RELEASE) == rollouts_before + 1,
                   "the Deployment rolls once")
        def recorded() -> bool:
            events = [r["event"] for r in agent.records()]
            return "secret.created" in events and "rollout.triggered" in events[events.index("secret.created"):]
        agent.wait(recorded, "the key's audit records (created, then the rollout) are on the agent's standard output")
        assert (agent.ready() or "").startswith("leading; synced"), "the agent stopped leading"
        def rolled_out() -> bool:
            deployment = emulator.get("deployment", RELEASE, NAMESPACE) or {}
            wanted = deployment.get("spec", {}).get("replicas", 1)
            status = deployment.get("status", {})
            return (status.get("observedGeneration", 0) >= deployment["metadata"]["generation"]
                    and status.get("updatedReplicas") == status.get("readyReplicas") == status.get("replicas") == wanted)
        agent.wait(rolled_out, "the server's rollout completes")

        # `helm test`: the chart's test Pod runs the same image with its own command
        # (`beluga-secrets doctor`) as its own ServiceAccount.
        [check] = [o for o in rendered.of_kind("Pod")
                   if (o["metadata"].get("annotations") or {}).get("helm.sh/hook") == "test"]
        [check_container] = pod_spec(check)["containers"]
        check_accounts = service_account_folder(emulator, tmp_path, stage, pod_spec(check)["serviceAccountName"])
        check_env = {**cluster, "HOSTNAME": check["metadata"]["name"],
                     **{e["name"]: e["value"] for e in check_container.get("env", [])}}
        verdict = image.run(tmp_path, check_container.get("args", []), check_env, check_accounts,
                            entrypoint=check_container.get("command"))
        assert verdict.returncode == 0 and b"All 12 checks passed." in verdict.stdout, (
            f"the chart's helm test fails in the image (exit {verdict.returncode}): "
            f"{(verdict.stdout + verdict.stderr).decode().strip()}")
        assert refused(requests_by(emulator, AGENT_USER)) == [], "the agent needed more than the chart's Role"
    finally:
        exit_code = agent.stop()
    assert exit_code == 0, f"the agent exited {exit_code} on SIGTERM: {log.read_text()}"

    [created] = [r for r in agent.records() if r["event"] == "secret.created"]
    assert (created["namespace"], created["key"], created["secret"]) == (NAMESPACE, KEY, f"{RELEASE}-secrets")
    assert value not in audit_log.read_text() + log.read_text()
    assert requests_by(emulator, AGENT_USER), "the agent's requests are not counted as its ServiceAccount's"
