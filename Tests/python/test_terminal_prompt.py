"""The no-echo prompt, driven through a real pseudo-terminal."""

import os
import pty
import select
import signal
import subprocess
import termios
import time

from conftest import binary, run


def read_until(fd, marker: bytes, timeout=10.0) -> bytes:
    """Reads the terminal until `marker` appears (or fails after `timeout` seconds)."""
    seen = b""
    deadline = time.monotonic() + timeout
    while marker not in seen:
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"{marker!r} not seen on the terminal; got {seen!r}"
        ready, _, _ = select.select([fd], [], [], remaining)
        if ready:
            seen += os.read(fd, 4096)
    return seen


def drain(fd) -> bytes:
    seen = b""
    while select.select([fd], [], [], 0.2)[0]:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    return seen


def spawn_on_terminal(args):
    primary, secondary = pty.openpty()
    env = {key: os.environ[key] for key in ("PATH", "HOME", "LANG") if key in os.environ}
    process = subprocess.Popen(
        [binary(), *args], stdin=secondary, stdout=subprocess.PIPE, stderr=secondary, env=env,
        start_new_session=True,
    )
    return process, primary, secondary


def echo_is_on(fd) -> bool:
    return bool(termios.tcgetattr(fd)[3] & termios.ECHO)


def test_prompt_does_not_echo_and_restores_the_terminal(keys):
    folder, _ = keys
    value = b"sk-MARKER-typed-9f3a1c"
    process, primary, secondary = spawn_on_terminal(
        ["seal", "openai-api-key", "--public-key", str(folder / "sealing.pub"), "-n", "prod"]
    )
    try:
        shown = read_until(primary, b"Value for openai-api-key: ")
        assert not echo_is_on(secondary), "echo is off while the prompt waits"
        os.write(primary, value + b"\n")
        envelope, _ = process.communicate(timeout=20)
        shown += drain(primary)
        assert process.returncode == 0
        assert value not in shown, "the typed value was echoed"
        assert echo_is_on(secondary), "echo is back on after the prompt"
    finally:
        os.close(primary)
        os.close(secondary)

    opened = run(
        ["unseal", "--private-key", str(folder / "sealing.key"), "-n", "prod", "openai-api-key"],
        stdin=envelope,
    )
    assert opened.stdout == value, "the line typed, without its newline"


def test_interrupted_prompt_restores_echo(keys):
    folder, _ = keys
    process, primary, secondary = spawn_on_terminal(
        ["seal", "openai-api-key", "--public-key", str(folder / "sealing.pub"), "-n", "prod"]
    )
    try:
        read_until(primary, b"Value for openai-api-key: ")
        assert not echo_is_on(secondary)
        process.send_signal(signal.SIGINT)
        process.wait(timeout=20)
        assert process.returncode == -signal.SIGINT
        assert echo_is_on(secondary), "echo restored after an interrupt"
    finally:
        process.kill()
        os.close(primary)
        os.close(secondary)
