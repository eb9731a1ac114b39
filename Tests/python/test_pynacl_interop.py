"""Envelope format 1 and fingerprints, checked against PyNaCl, an independent libsodium binding.

Both directions: what PyNaCl seals with the documented payload opens with `beluga-secrets
unseal`, and what `beluga-secrets seal` prints opens with PyNaCl and holds exactly the
documented members.
"""

import base64
import json
import secrets

import nacl.encoding
import nacl.hash
from nacl.public import PrivateKey, PublicKey, SealedBox

from conftest import read_key, run

MEMBERS = {"namespace", "secret", "key", "value", "sealedBy", "sealedAt"}


def b64url_nopad(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def key_id(public_key: bytes) -> str:
    digest = nacl.hash.blake2b(public_key, digest_size=32, encoder=nacl.encoding.RawEncoder)
    return digest[:8].hex()


def pynacl_envelope(public_key: bytes, payload: dict) -> str:
    """An envelope as any tool could make it from the README's description."""
    sealed = SealedBox(PublicKey(public_key)).encrypt(json.dumps(payload).encode())
    return f"bs1.{key_id(public_key)}.{b64url_nopad(sealed)}"


def payload(value: bytes, namespace="prod", secret="beluga-ai-secrets", key="openai-api-key") -> dict:
    return {
        "namespace": namespace,
        "secret": secret,
        "key": key,
        "value": base64.b64encode(value).decode(),
        "sealedBy": "pynacl@test",
        "sealedAt": "2025-01-31T12:00:00Z",
    }


def test_key_id_matches_the_definition(keys):
    folder, kid = keys
    public_key = read_key(folder / "sealing.pub")
    assert len(public_key) == 32
    assert kid == key_id(public_key)
    # The private key file holds the X25519 private key of that public key.
    assert bytes(PrivateKey(read_key(folder / "sealing.key")).public_key) == public_key


def test_pynacl_envelope_opens_with_unseal(keys):
    folder, _ = keys
    value = b"sk-MARKER-pynacl-" + secrets.token_hex(8).encode() + b"\x00\xff binary"
    envelope = pynacl_envelope(read_key(folder / "sealing.pub"), payload(value))
    result = run(
        ["unseal", "--private-key", str(folder / "sealing.key"), "-n", "prod", "openai-api-key"],
        stdin=envelope.encode() + b"\n",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == value
    assert result.stderr == b""


def test_pynacl_envelope_for_another_binding_is_refused(keys):
    folder, _ = keys
    value = b"sk-MARKER-moved-" + secrets.token_hex(8).encode()
    envelope = pynacl_envelope(read_key(folder / "sealing.pub"), payload(value, namespace="staging"))
    result = run(
        ["unseal", "--private-key", str(folder / "sealing.key"), "-n", "prod", "openai-api-key"],
        stdin=envelope.encode(),
    )
    assert result.returncode == 6
    assert result.stdout == b""
    assert result.stderr.count(b"\n") == 1 and b"namespace" in result.stderr
    assert value not in result.stderr


def test_pynacl_payload_with_an_extra_member_is_refused(keys):
    folder, _ = keys
    content = payload(b"sk-MARKER-extra")
    content["comment"] = "not part of format 1"
    envelope = pynacl_envelope(read_key(folder / "sealing.pub"), content)
    result = run(
        ["unseal", "--private-key", str(folder / "sealing.key"), "-n", "prod", "openai-api-key"],
        stdin=envelope.encode(),
    )
    assert result.returncode == 6
    assert b"malformed" in result.stderr and b"sk-MARKER" not in result.stderr


def test_seal_output_opens_with_pynacl(keys):
    folder, kid = keys
    value = "sk-MARKER-seal-" + secrets.token_hex(8)
    result = run(
        ["seal", "anthropic-api-key", "--public-key", str(folder / "sealing.pub"), "-n", "team-a",
         "--secret", "my-secrets", "--sealed-by", "alice@laptop"],
        stdin=value.encode() + b"\n",
    )
    assert result.returncode == 0, result.stderr
    assert value.encode() not in result.stdout + result.stderr
    envelope = result.stdout.decode()
    assert envelope.endswith("\n") and envelope.count("\n") == 1
    prefix, envelope_kid, body = envelope.strip().split(".")
    assert (prefix, envelope_kid) == ("bs1", kid)
    assert "=" not in body

    opened = SealedBox(PrivateKey(read_key(folder / "sealing.key"))).decrypt(b64url_decode(body))
    content = json.loads(opened)
    assert set(content) == MEMBERS
    assert all(isinstance(member, str) for member in content.values())
    assert content["namespace"] == "team-a"
    assert content["secret"] == "my-secrets"
    assert content["key"] == "anthropic-api-key"
    assert base64.b64decode(content["value"], validate=True) == value.encode()
    assert content["sealedBy"] == "alice@laptop"
    assert content["sealedAt"].endswith("Z") and len(content["sealedAt"]) == 20


def fingerprint(value: bytes, namespace: str, secret: str, key: str) -> str:
    context = f"beluga-secrets/fingerprint/v1\0{namespace}\0{secret}\0{key}".encode()
    hash_key = nacl.hash.blake2b(context, digest_size=32, encoder=nacl.encoding.RawEncoder)
    digest = nacl.hash.blake2b(value, digest_size=16, key=hash_key, encoder=nacl.encoding.HexEncoder)
    return "fp1:" + digest.decode()


def test_fingerprint_matches_pynacl():
    for value, namespace, secret, key in [
        (b"sk-MARKER-fp-" + secrets.token_hex(8).encode(), "prod", "beluga-ai-secrets", "openai-api-key"),
        (bytes(range(256)), "team-a", "other", "binary.key"),
    ]:
        result = run(["fingerprint", key, "-n", namespace, "--secret", secret], stdin=value)
        assert result.returncode == 0, result.stderr
        assert result.stdout.decode().strip() == fingerprint(value, namespace, secret, key)
        assert value not in result.stdout + result.stderr
