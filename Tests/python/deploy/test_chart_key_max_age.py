"""apiKeys[].maxAge: rendered into the sealed store's annotation beluga-ai.io/key-max-age in the
JSON the agent and the CLI read, only when some key has one; anything but a duration is refused
by the values schema, naming the value's path.
"""

from __future__ import annotations

import json

import helm_python
import pytest

from helmchart import render

KEYS = [
    {"key": "openai-api-key", "env": "OPENAI_API_KEY", "maxAge": "90d"},
    {"key": "anthropic-api-key", "env": "ANTHROPIC_API_KEY", "optional": True, "maxAge": "1d12h"},
    {"key": "mistral-api-key", "env": "MISTRAL_API_KEY", "optional": True},
]


def annotations() -> dict:
    return render({"apiKeys": KEYS}).get("ConfigMap", "beluga-ai-secrets-sealed")["metadata"]["annotations"]


def test_max_ages_are_rendered_as_the_annotation_the_agent_reads():
    text = annotations()["beluga-ai.io/key-max-age"]
    # Compact, members sorted: the text `beluga-secrets max-age` writes for the same ages.
    assert text == '{"anthropic-api-key":"1d12h","openai-api-key":"90d"}'
    assert json.loads(text) == {"openai-api-key": "90d", "anthropic-api-key": "1d12h"}


def test_without_a_max_age_the_annotation_is_left_to_the_cli():
    sealed = render().get("ConfigMap", "beluga-ai-secrets-sealed")
    assert "beluga-ai.io/key-max-age" not in sealed["metadata"].get("annotations", {})


@pytest.mark.parametrize("bad", ["90", "90 days", "forever", "1w", "-1d", "1.5d", 90, "", "9" * 40 + "d"])
def test_anything_but_a_duration_is_refused_by_the_schema(bad):
    values = {"apiKeys": [{"key": "openai-api-key", "env": "OPENAI_API_KEY", "maxAge": bad}]}
    with pytest.raises((helm_python.HelmValuesError, helm_python.HelmRenderError)) as raised:
        render(values)
    assert "/apiKeys/0/maxAge" in str(raised.value)
