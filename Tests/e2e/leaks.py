"""Marker values used as API keys, and the check that none of them shows up where it must not.

Every value the scenarios set is a fresh marker. Its value goes to the CLI in a 0600 file or on
standard input, never in argv or the environment; the scenarios read it back only from the
Secret, decoded in this process, and compare it without printing it. Everything else the
product printed, logged or stored is searched for each marker, raw and in base64.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass, field


@dataclass
class Markers:
    values: list[str] = field(default_factory=list)
    named: dict[str, str] = field(default_factory=dict)
    # (where, text) of everything captured: CLI output, agent logs, objects read back.
    captured: list[tuple[str, str]] = field(default_factory=list)

    def make(self, label: str) -> str:
        marker = f"sk-e2e-MARKER-{label}-{secrets.token_hex(12)}"
        self.values.append(marker)
        self.named[label] = marker
        return marker

    def capture(self, where: str, text: bytes | str) -> None:
        self.captured.append((where, text.decode(errors="replace") if isinstance(text, bytes) else text))

    def forms(self, marker: str) -> list[str]:
        """The marker, and its base64 without the last group (a prefix of any base64 encoding of
        it that starts at a 3-byte boundary)."""
        encoded = base64.b64encode(marker.encode()).decode()
        return [marker, encoded[:-4]]

    def leaks(self) -> list[str]:
        """Where a marker appears: `where` of each captured text that holds one (never the value)."""
        found = []
        for where, text in self.captured:
            for index, marker in enumerate(self.values):
                if any(form in text for form in self.forms(marker)):
                    found.append(f"marker #{index} in {where}")
        return found
