"""The pieces `make bench` runs against: a release `kube-emulator` over TLS with one bearer
token per client, an HTTPS client for the driver's own reads and watches, and the agent.

Every client of the cluster gets its own user (the emulator's policy file), so that the
emulator's request accounting tells who made which request: `cli` (beluga-secrets on the
workstation), `kubectl` (the manual path), `agent` and `agent-batch` (the two agents of the
sealed-path figures); this script's own checks and watches use the admin token (the only one
the emulator's `/_emulator/*` endpoints accept), under the name `driver` here. Tokens live in files of
mode 0600 in the run's private folder, never in argv or the environment of a child.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import socket
import ssl
import sys
import threading
import time
from dataclasses import dataclass
from http.client import HTTPSConnection
from pathlib import Path
from typing import Any, Callable
from urllib.parse import quote, urlencode

import yaml

# The process fixtures shared with the tests (Tests/support/belugaprocess.py).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "Tests" / "support"))

from belugaprocess import AgentProcess, base_env, free_port, private_file, start_emulator, stop_process  # noqa: E402
from belugaprocess import eventually as poll  # noqa: E402

USERS = ("cli", "kubectl", "agent", "agent-batch")


def eventually(condition: Callable[[], Any], what: str, timeout: float = 60.0, interval: float = 0.02) -> Any:
    """The shared poll, at a pace fine enough for the timings measured here."""
    return poll(condition, what, timeout=timeout, every=interval, error=TimeoutError)


class Emulator:
    """`kube-emulator --tls` with a policy file that gives each client its own admin token."""

    def __init__(self, binary: Path, folder: Path, name: str = "emulator"):
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.tokens = {user: secrets.token_hex(16) for user in USERS}
        policy = {"users": [{"name": user, "token": token, "admin": True} for user, token in self.tokens.items()]}
        policy_file = private_file(folder / f"{name}-policy.yaml", yaml.safe_dump(policy))
        self.admin_kubeconfig = folder / f"{name}-admin.kubeconfig"
        self.log = open(folder / f"{name}.log", "wb")
        try:
            self.process, self.url = start_emulator(
                str(binary), ["--tls", "--policy", str(policy_file), "--kubeconfig-out", str(self.admin_kubeconfig)],
                base_env(folder), stderr=self.log)
        except RuntimeError as error:
            raise RuntimeError(f"{error}{(folder / f'{name}.log').read_text()}") from None
        host, port = self.url.removeprefix("https://").rsplit(":", 1)
        self.host, self.port = host, int(port)
        eventually(self.admin_kubeconfig.exists, "the emulator writes its kubeconfig")
        config = yaml.safe_load(self.admin_kubeconfig.read_text())
        self.ca_data = base64.b64decode(config["clusters"][0]["cluster"]["certificate-authority-data"])
        self.ssl = ssl.create_default_context(cadata=self.ca_data.decode())
        self.tokens["driver"] = config["users"][0]["user"]["token"]
        self.name = name
        self._kubeconfigs: dict[tuple[str, str], Path] = {}

    def kubeconfig(self, user: str, namespace: str = "default") -> Path:
        """A kubeconfig (mode 0600) for `user`, with `namespace` as its context's namespace."""
        key = (user, namespace)
        if key not in self._kubeconfigs:
            config = yaml.safe_load(self.admin_kubeconfig.read_text())
            cluster = config["clusters"][0]["name"]
            config["users"] = [{"name": user, "user": {"token": self.tokens[user]}}]
            config["contexts"] = [{"name": user, "context": {"cluster": cluster, "user": user, "namespace": namespace}}]
            config["current-context"] = user
            path = self.folder / f"{self.name}-{user}-{namespace}.kubeconfig"
            self._kubeconfigs[key] = private_file(path, yaml.safe_dump(config))
        return self._kubeconfigs[key]

    # The driver's own requests (with the admin token).

    def _connection(self, timeout: float | None = 30) -> HTTPSConnection:
        return HTTPSConnection(self.host, self.port, context=self.ssl, timeout=timeout)

    def request(self, method: str, path: str, body: Any = None, content_type: str = "application/json") -> Any:
        connection = self._connection()
        try:
            headers = {"Authorization": f"Bearer {self.tokens['driver']}", "Accept": "application/json"}
            data = None
            if body is not None:
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                headers["Content-Type"] = content_type
            connection.request(method, path, body=data, headers=headers)
            answer = connection.getresponse()
            payload = answer.read()
            if answer.status == 404 and method == "GET":
                return None
            if answer.status >= 300:
                raise RuntimeError(f"{method} {path}: {answer.status} {payload[:300]!r}")
            return json.loads(payload) if payload else None
        finally:
            connection.close()

    def get(self, path: str) -> Any:
        return self.request("GET", path)

    def requests(self) -> list[dict[str, Any]]:
        """The emulator's request accounting (one row per verb, resource, object, user)."""
        return self.get("/_emulator/requests")

    def reset_requests(self) -> None:
        self.request("DELETE", "/_emulator/requests")

    def rollouts(self, namespace: str, deployment: str) -> int:
        return self.get(f"/_emulator/rollouts?namespace={namespace}&name={deployment}")["rollouts"]

    def watch(self, path: str, selector_name: str, sink: Callable[[float, dict[str, Any]], None]) -> "Watch":
        """Watches the object `selector_name` of the collection `path` on a thread; calls `sink`
        with the monotonic time each event arrived and the event."""
        return Watch(self, path, selector_name, sink)

    def stop(self) -> None:
        try:
            stop_process(self.process, timeout=20)
        except AssertionError:
            pass  # killed
        self.log.close()


class Watch:
    """A watch of one named object, resumed from the last resourceVersion when the server ends
    it. Events are handed over with the time they were read off the socket."""

    def __init__(self, emulator: Emulator, path: str, name: str, sink: Callable[[float, dict[str, Any]], None]):
        self.emulator, self.path, self.name, self.sink = emulator, path, name, sink
        self.stopped = threading.Event()
        self.connection: HTTPSConnection | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        resource_version = ""
        while not self.stopped.is_set():
            query = {"watch": "1", "fieldSelector": f"metadata.name={self.name}", "allowWatchBookmarks": "true"}
            if resource_version:
                query["resourceVersion"] = resource_version
            try:
                self.connection = self.emulator._connection(timeout=None)
                self.connection.request(
                    "GET", f"{self.path}?{urlencode(query, quote_via=quote)}",
                    headers={"Authorization": f"Bearer {self.emulator.tokens['driver']}"})
                answer = self.connection.getresponse()
                while not self.stopped.is_set():
                    line = answer.readline()
                    if not line:
                        break
                    arrived = time.monotonic()
                    event = json.loads(line)
                    resource_version = event.get("object", {}).get("metadata", {}).get(
                        "resourceVersion", resource_version)
                    if event.get("type") in ("ADDED", "MODIFIED", "DELETED"):
                        self.sink(arrived, event)
                    elif event.get("type") == "ERROR":
                        resource_version = ""
            except (OSError, ValueError):
                if self.stopped.is_set():
                    return
                time.sleep(0.05)

    def stop(self) -> None:
        self.stopped.set()
        if self.connection is not None and self.connection.sock is not None:
            try:
                self.connection.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


@dataclass
class Agent:
    """`beluga-secrets agent` as a local process with its own kubeconfig and health port."""

    binary: Path
    kubeconfig: Path
    folder: Path
    identity: str
    args: list[str]
    run: AgentProcess | None = None
    started_at: float = 0.0

    @property
    def process(self) -> Any:
        return self.run.process if self.run else None

    def start(self) -> None:
        port = free_port()
        self.started_at = time.monotonic()
        self.run = AgentProcess.launch(
            [str(self.binary), "agent", "--kubeconfig", str(self.kubeconfig), "--identity", self.identity,
             "--health-addr", f"127.0.0.1:{port}", *self.args],
            base_env(self.folder), self.folder / f"{self.identity}.audit.log",
            self.folder / f"{self.identity}.stderr.log", port, append=True)

    def ready(self) -> bool:
        """Whether /readyz answers 200 `leading; synced`."""
        if self.run is None:
            return False
        if self.run.process.poll() is not None:
            log = self.run.log.read_text()[-2000:]
            raise RuntimeError(f"the agent {self.identity} exited with {self.run.process.returncode}: {log}")
        return (self.run.ready() or "").startswith("leading; synced")

    def wait_ready(self, timeout: float = 120.0, interval: float = 0.005) -> float:
        """Waits for /readyz 200; returns the seconds since the process was started."""
        eventually(self.ready, f"the agent {self.identity} is ready", timeout=timeout, interval=interval)
        return time.monotonic() - self.started_at

    def rss_kib(self) -> int:
        """Resident set size now (VmRSS), in KiB."""
        return proc_status(self.process.pid)["VmRSS"]

    def peak_rss_kib(self) -> int:
        return proc_status(self.process.pid)["VmHWM"]

    def stop(self) -> None:
        if self.run is not None:
            try:
                self.run.stop(timeout=30)
            except AssertionError:
                pass  # killed after the grace period


def proc_status(pid: int) -> dict[str, int]:
    """The memory lines of /proc/PID/status, in KiB."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name.startswith("Vm") or name.startswith("Rss"):
            values[name] = int(rest.split()[0])
    return values


class Waiter:
    """Collects watch events and lets the driver wait for a condition on the latest state,
    returning the arrival time of the event that made it true."""

    def __init__(self) -> None:
        self.condition = threading.Condition()
        self.state: dict[str, tuple[float, dict[str, Any]]] = {}

    def sink(self, kind: str) -> Callable[[float, dict[str, Any]], None]:
        def receive(arrived: float, event: dict[str, Any]) -> None:
            with self.condition:
                self.state[kind] = (arrived, event["object"])
                self.condition.notify_all()
        return receive

    def wait(self, kind: str, predicate: Callable[[dict[str, Any]], bool], timeout: float = 30.0) -> float:
        deadline = time.monotonic() + timeout
        with self.condition:
            while True:
                current = self.state.get(kind)
                if current is not None and predicate(current[1]):
                    return current[0]
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"timed out waiting for the {kind} to change")
                self.condition.wait(remaining)


def rss_breakdown(pid: int) -> dict[str, int]:
    """Where a process's resident memory is, from /proc/PID/smaps, in KiB: the executable's own
    pages, shared libraries, the heap, and other anonymous memory (malloc arenas, thread stacks)."""
    parts = {"executable": 0, "shared libraries": 0, "heap": 0, "anonymous (arenas, stacks)": 0, "other": 0}
    executable = os.path.realpath(f"/proc/{pid}/exe")
    kind = "other"
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        fields = line.split()
        if fields and "-" in fields[0] and len(fields) >= 5 and not fields[0].endswith(":"):
            path = fields[5] if len(fields) > 5 else ""
            if path == executable:
                kind = "executable"
            elif ".so" in path:
                kind = "shared libraries"
            elif path == "[heap]":
                kind = "heap"
            elif path == "" or path.startswith("[stack"):
                kind = "anonymous (arenas, stacks)"
            else:
                kind = "other"
        elif fields and fields[0] == "Rss:":
            parts[kind] += int(fields[1])
    return parts
