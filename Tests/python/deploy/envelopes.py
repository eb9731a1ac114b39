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


def seal(public_key: bytes, namespace: str, secret: str, key: str, value: str) -> str:
    payload = json.dumps(
        {
            "namespace": namespace,
            "secret": secret,
            "key": key,
            "value": base64.b64encode(value.encode()).decode(),
            "sealedBy": "chart-tests",
            "sealedAt": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        },
        separators=(",", ":"),
    ).encode()
    ciphertext = SealedBox(PublicKey(public_key)).encrypt(payload)
    body = base64.urlsafe_b64encode(ciphertext).decode().rstrip("=")
    return f"bs1.{key_id(public_key)}.{body}"


def markers(namespace: str, secret: str, keys: list[str]) -> list[Marker]:
    """One sealed marker per key, to a fresh key pair."""
    private = PrivateKey.generate()
    public = bytes(private.public_key)
    made = []
    for key in keys:
        plaintext = f"sk-MARKER-{key}-{secrets.token_hex(16)}"
        made.append(Marker(key, plaintext, seal(public, namespace, secret, key, plaintext)))
    return made
