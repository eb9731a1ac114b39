"""Envelope format 2 (signed), checked against PyNaCl's `nacl.signing`.

A v2 envelope is `bs2.<kid>.<signer id>.<ciphertext>.<signature>`; the signature is Ed25519
over the ASCII text before the last dot, and the sealed payload adds `version` and `signer`.
"""

import base64
import json
import secrets

import nacl.encoding
import nacl.hash
from nacl.public import PrivateKey, PublicKey, SealedBox
from nacl.signing import SigningKey, VerifyKey

from conftest import read_key, run


def b64url_nopad(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def short_id(public_key: bytes) -> str:
    return nacl.hash.blake2b(public_key, digest_size=32, encoder=nacl.encoding.RawEncoder)[:8].hex()


def write_public_key(path, key: bytes):
    path.write_text(base64.b64encode(key).decode() + "\n")


def pynacl_signed_envelope(sealing_public: bytes, signer: SigningKey, value: bytes, version=1,
                           claimed_signer: str | None = None, payload_signer: str | None = None,
                           namespace="prod") -> str:
    signer_id = short_id(bytes(signer.verify_key))
    payload = {
        "namespace": namespace, "secret": "beluga-ai-secrets", "key": "openai-api-key",
        "value": base64.b64encode(value).decode(),
        "sealedBy": "pynacl@test", "sealedAt": "2025-01-31T12:00:00Z",
        "version": version, "signer": payload_signer or signer_id,
    }
    sealed = SealedBox(PublicKey(sealing_public)).encrypt(json.dumps(payload).encode())
    signed_text = f"bs2.{short_id(sealing_public)}.{claimed_signer or signer_id}.{b64url_nopad(sealed)}"
    signature = signer.sign(signed_text.encode()).signature
    return f"{signed_text}.{b64url_nopad(signature)}"


def unseal(folder, envelope: str, *signer_files):
    args = ["unseal", "--private-key", str(folder / "sealing.key"), "-n", "prod", "openai-api-key"]
    for path in signer_files:
        args += ["--allowed-signer", str(path)]
    return run(args, stdin=envelope.encode() + b"\n")


def test_pynacl_signed_envelope_is_accepted_from_a_listed_signer(keys, tmp_path):
    folder, _ = keys
    signer = SigningKey.generate()
    write_public_key(tmp_path / "signer.pub", bytes(signer.verify_key))
    value = b"sk-MARKER-signed-" + secrets.token_hex(8).encode()
    envelope = pynacl_signed_envelope(read_key(folder / "sealing.pub"), signer, value, version=5)
    result = unseal(folder, envelope, tmp_path / "signer.pub")
    assert result.returncode == 0, result.stderr
    assert result.stdout == value


def test_seal_signs_in_a_way_pynacl_verifies(keys, tmp_path):
    folder, kid = keys
    config = tmp_path / "config"
    init = run(["signer", "init"], env={"XDG_CONFIG_HOME": str(config)})
    assert init.returncode == 0, init.stderr
    signer_public = read_key(config / "beluga-secrets" / "signer.pub")
    # The private key file holds the Ed25519 seed of that public key.
    assert bytes(SigningKey(read_key(config / "beluga-secrets" / "signer.key")).verify_key) == signer_public
    assert f"signer id:  {short_id(signer_public)}" in init.stdout.decode()

    value = "sk-MARKER-cli-signed-" + secrets.token_hex(8)
    result = run(
        ["seal", "openai-api-key", "--public-key", str(folder / "sealing.pub"), "-n", "prod", "--version", "12"],
        stdin=value.encode(), env={"XDG_CONFIG_HOME": str(config)},
    )
    assert result.returncode == 0, result.stderr
    envelope = result.stdout.decode().strip()
    prefix, envelope_kid, signer_id, body, signature = envelope.split(".")
    assert (prefix, envelope_kid, signer_id) == ("bs2", kid, short_id(signer_public))
    signed_text = envelope.rsplit(".", 1)[0]
    VerifyKey(signer_public).verify(signed_text.encode(), b64url_decode(signature))

    content = json.loads(SealedBox(PrivateKey(read_key(folder / "sealing.key"))).decrypt(b64url_decode(body)))
    assert set(content) == {"namespace", "secret", "key", "value", "sealedBy", "sealedAt", "version", "signer"}
    assert content["version"] == 12 and isinstance(content["version"], int)
    assert content["signer"] == signer_id
    assert base64.b64decode(content["value"]) == value.encode()


def test_forged_and_tampered_signatures_are_refused(keys, tmp_path):
    folder, _ = keys
    listed = SigningKey.generate()
    unlisted = SigningKey.generate()
    write_public_key(tmp_path / "listed.pub", bytes(listed.verify_key))
    sealing_public = read_key(folder / "sealing.pub")
    value = b"sk-MARKER-forged-" + secrets.token_hex(8).encode()

    def expect_refused(envelope, words):
        result = unseal(folder, envelope, tmp_path / "listed.pub")
        assert result.returncode == 6, result.stderr
        assert result.stdout == b""
        assert result.stderr.count(b"\n") == 1 and words in result.stderr, result.stderr
        assert value not in result.stderr

    # A valid seal signed by a key that is not listed.
    expect_refused(pynacl_signed_envelope(sealing_public, unlisted, value), b"not an allowed signer")
    # The unlisted key signs in the name of the listed one.
    listed_id = short_id(bytes(listed.verify_key))
    expect_refused(
        pynacl_signed_envelope(sealing_public, unlisted, value, claimed_signer=listed_id, payload_signer=listed_id),
        b"does not verify",
    )
    # A listed signer's envelope with one signature byte changed.
    good = pynacl_signed_envelope(sealing_public, listed, value)
    text, signature = good.rsplit(".", 1)
    raw = bytearray(b64url_decode(signature))
    raw[10] ^= 1
    expect_refused(f"{text}.{b64url_nopad(bytes(raw))}", b"does not verify")
    # A listed signer's signature over a ciphertext whose payload names someone else.
    expect_refused(
        pynacl_signed_envelope(sealing_public, listed, value, payload_signer=short_id(bytes(unlisted.verify_key))),
        b"payload names another signer",
    )
    # The signature stripped to pass as an unsigned format 1 envelope.
    _, kid, _, body, _ = good.split(".")
    stripped = run(
        ["unseal", "--private-key", str(folder / "sealing.key"), "-n", "prod", "openai-api-key"],
        stdin=f"bs1.{kid}.{body}".encode(),
    )
    assert stripped.returncode == 6 and b"malformed" in stripped.stderr
