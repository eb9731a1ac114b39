"""Shared helpers for the interoperability tests: the built binary and its key files."""

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest

# The process fixtures shared with Tests/e2e and bench/ (Tests/support/belugaprocess.py).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "support"))


def binary() -> str:
    return os.path.join(os.environ["BELUGA_BIN_DIR"], "beluga-secrets")


def run(args, stdin: bytes = b"", env=None, timeout=30) -> subprocess.CompletedProcess:
    """Runs beluga-secrets with a minimal environment (plus `env`), feeding `stdin`."""
    base = {key: os.environ[key] for key in ("PATH", "HOME", "LANG") if key in os.environ}
    # No signing key unless a test provides one: the user's own must not change what seal prints.
    base["XDG_CONFIG_HOME"] = os.path.join(os.environ.get("TMPDIR", "/tmp"), "beluga-tests-no-config")
    base.update(env or {})
    return subprocess.run(
        [binary(), *args], input=stdin, capture_output=True, env=base, timeout=timeout, check=False
    )


def read_key(path) -> bytes:
    """The raw 32 bytes of a key file (base64 line)."""
    with open(path, "rb") as handle:
        return base64.b64decode(handle.read().strip(), validate=True)


@pytest.fixture
def keys(tmp_path):
    """A key pair made by `beluga-secrets keygen`: (folder, key id)."""
    folder = tmp_path / "keys"
    result = run(["keygen", "--out", str(folder)])
    assert result.returncode == 0, result.stderr
    return folder, result.stdout.decode().strip()
