"""The release binary, built once per test session with the Dockerfile's own `swift build`
command (read from the Dockerfile, not copied) into a separate scratch path.

A fixture module, imported by the tests that need the binary (`from release import
release_binary`): every importer shares the one build.
"""

from __future__ import annotations

import subprocess
import time
from functools import cache
from pathlib import Path

import pytest

from dockerfile import REPO_ROOT, parse, swift_build_command

SCRATCH = REPO_ROOT / ".build-release"
# A first release build on 2 cores takes minutes; bounded so that a hang cannot eat CI.
BUILD_TIMEOUT_SECONDS = 40 * 60


@cache
def build_release_binary() -> Path:
    build = parse()[0]
    command = swift_build_command(build) + ["--scratch-path", str(SCRATCH)]
    started = time.monotonic()
    result = subprocess.run(
        command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=BUILD_TIMEOUT_SECONDS
    )
    assert result.returncode == 0, f"{' '.join(command)} failed:\n{result.stdout[-4000:]}{result.stderr[-4000:]}"
    print(f"\nrelease build ({' '.join(command)}): {time.monotonic() - started:.0f} s")
    bin_path = subprocess.run(
        command + ["--show-bin-path"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    binary = Path(bin_path) / "beluga-secrets"
    assert binary.is_file()
    return binary


@pytest.fixture(scope="session")
def release_binary() -> Path:
    return build_release_binary()
