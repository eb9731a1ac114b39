"""OpenSSL, libcurl's TLS library, frees its global state from an atexit handler unless told not
to. A transfer thread still ending when the process exits then races with that clean-up and can
corrupt the heap (openssl/openssl#6214). Watched under gdb: the first initialisation of OpenSSL
asks for no atexit handler (OPENSSL_INIT_NO_ATEXIT), and no clean-up runs when a command that
talked TLS exits."""

import os
import platform
import shutil
import signal
import subprocess

import pytest

from conftest import binary

OPENSSL_INIT_NO_ATEXIT = 0x80000


@pytest.fixture
def tls_emulator(tmp_path):
    """A kube-emulator over TLS; yields its kubeconfig."""
    kubeconfig = tmp_path / "kubeconfig"
    env = {key: os.environ[key] for key in ("PATH", "LANG") if key in os.environ}
    env["HOME"] = str(tmp_path)
    emulator = subprocess.Popen(
        [os.path.join(os.environ["BELUGA_BIN_DIR"], "kube-emulator"), "--port", "0", "--tls",
         "--kubeconfig-out", str(kubeconfig)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    try:
        assert emulator.stdout.readline().startswith(b"listening on https://")
        created = subprocess.run(
            ["kubectl", "--kubeconfig", str(kubeconfig), "create", "secret", "generic", "beluga-ai-secrets",
             "--from-literal=exit-test-key=v"], capture_output=True, env=env, timeout=60)
        assert created.returncode == 0, created.stderr
        yield kubeconfig, env
    finally:
        emulator.send_signal(signal.SIGTERM)
        emulator.wait(timeout=20)


def test_openssl_is_never_cleaned_up_at_exit(tls_emulator):
    kubeconfig, env = tls_emulator
    gdb = shutil.which("gdb")
    assert gdb, "gdb is missing: `make test` installs it (Debian package gdb)"
    first_argument = "$rdi" if platform.machine() == "x86_64" else "$x0"
    result = subprocess.run(
        [gdb, "-batch", "-nx",
         "-ex", "set breakpoint pending on",
         "-ex", "break OPENSSL_init_crypto",
         "-ex", "break OPENSSL_cleanup",
         "-ex", "run",
         "-ex", f'printf "first OpenSSL init options: %#lx\\n", {first_argument}',
         "-ex", "delete 1",
         "-ex", "continue",
         "--args", binary(), "list", "--kubeconfig", str(kubeconfig)],
        stdin=subprocess.DEVNULL, capture_output=True, env=env, timeout=180)
    output = result.stdout.decode(errors="replace") + result.stderr.decode(errors="replace")
    # The first call into OpenSSL is the one that turns the atexit handler off.
    assert f"first OpenSSL init options: {OPENSSL_INIT_NO_ATEXIT:#x}\n" in output, output
    # The command really talked TLS to the emulator (it listed the Secret's key) and exited
    # without OpenSSL's clean-up running.
    assert "exit-test-key" in output, output
    assert "exited normally" in output, output
    assert "in OPENSSL_cleanup" not in output, output
