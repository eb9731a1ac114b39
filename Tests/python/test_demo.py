"""`make run`'s demonstration (scripts/demo.sh) tells the story it claims, and never a value."""

import os
import re
import subprocess

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_the_demonstration_sets_rotates_restarts_and_verifies_the_audit_trail(tmp_path):
    env = {key: os.environ[key] for key in ("PATH", "LANG") if key in os.environ}
    env["TMPDIR"] = str(tmp_path)
    result = subprocess.run(
        [os.path.join(REPO, "scripts", "demo.sh"), os.environ["BELUGA_BIN_DIR"]],
        capture_output=True,
        env=env,
        timeout=180,
        check=False,
        text=True,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output

    # Set, then rotate: the Secret holds what was sealed each time, one rollout per change.
    assert "equal: the Secret holds exactly the value that was sealed" in output
    assert "the Secret now holds version 2" in output
    assert output.count("successfully rolled out") == 2
    hashes = re.findall(r"content hash: (\w+)… → (\w+)…", output)
    assert len(hashes) == 2 and hashes[0][1] == hashes[1][0] and len({*hashes[0], *hashes[1]}) == 3

    # The tampered envelope is refused and the audit trail verifies, with the signer named.
    assert "EnvelopeRejected" in output and "the previous value stays" in output
    assert re.search(r"secret\.created\s+v1\s+fp1:\w+\s+alice\s+yes", output)
    assert re.search(r"secret\.rotated\s+v2\s+fp1:\w+\s+alice\s+yes", output)
    assert re.search(r"verified: \d+ records .*signatures valid, chain unbroken", output)

    # The demo's values are random "sk-demo-…" strings: none may be printed.
    assert "sk-demo-" not in output
    # It cleans up after itself.
    assert not [name for name in os.listdir(tmp_path) if name.startswith("beluga-demo.")]
