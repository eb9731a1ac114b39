"""Real sealed envelopes (DESIGN.md, version 1) made with PyNaCl, an independent libsodium binding.

The chart tests render them as `sealedSecrets` and check that the plaintext inside never shows up
in anything Helm renders.
"""

from __future__ import annotations

import base64
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone

from nacl.encoding import RawEncoder
from nacl.hash import blake2b
from nacl.public import PrivateKey, PublicKey, SealedBox
from nacl.signing import SigningKey


@dataclass(frozen=True)
class Marker:
    """A plaintext shaped like an API key, unique to the test run, and its sealed envelope."""

    key: str
    plaintext: str
    envelope: str

    def forms(self) -> list[str]:
        """The ways the plaintext could leak: as is, and base64 (as Secret data would hold it)."""
        encoded = base64.b64encode(self.plaintext.encode()).decode()
        # Without its last block, base64 also matches when the value is embedded in more bytes.
        return [self.plaintext, encoded[:-4]]


def key_id(public_key: bytes) -> str:
    return blake2b(public_key, digest_size=32, encoder=RawEncoder)[:8].hex()


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _payload(namespace: str, secret: str, key: str, value: str, **extra) -> bytes:
    members = {
        "namespace": namespace,
        "secret": secret,
        "key": key,
        "value": base64.b64encode(value.encode()).decode(),
        "sealedBy": "chart-tests",
        "sealedAt": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        **extra,
    }
    return json.dumps(members, separators=(",", ":")).encode()


def seal(public_key: bytes, namespace: str, secret: str, key: str, value: str) -> str:
    """Format 1 (docs/envelope.md): bs1.<kid>.<sealed box>."""
    sealed = SealedBox(PublicKey(public_key)).encrypt(_payload(namespace, secret, key, value))
    return f"bs1.{key_id(public_key)}.{b64url(sealed)}"


def seal_signed(public_key: bytes, signer: SigningKey, namespace: str, secret: str, key: str, value: str) -> str:
    """Format 2 (docs/envelope.md): bs2.<kid>.<signer>.<sealed box>.<signature>."""
    signer_id = key_id(bytes(signer.verify_key))
    payload = _payload(namespace, secret, key, value, version=1, signer=signer_id)
    sealed = SealedBox(PublicKey(public_key)).encrypt(payload)
    signed_text = f"bs2.{key_id(public_key)}.{signer_id}.{b64url(sealed)}"
    return signed_text + "." + b64url(signer.sign(signed_text.encode()).signature)


def markers(namespace: str, secret: str, keys: list[str]) -> list[Marker]:
    """One sealed marker per key, to a fresh key pair."""
    private = PrivateKey.generate()
    public = bytes(private.public_key)
    made = []
    for key in keys:
        plaintext = f"sk-MARKER-{key}-{secrets.token_hex(16)}"
        made.append(Marker(key, plaintext, seal(public, namespace, secret, key, plaintext)))
    return made
