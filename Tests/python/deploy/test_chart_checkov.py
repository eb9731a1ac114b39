"""checkov (well-known Kubernetes and Dockerfile security rules) on the rendered chart and the image.

Run offline (`--skip-download`), checkov reports no severities, so every failed check counts. The
only accepted ones are those in the chart README's "Security scan" table, each with its reason.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dockerfile import DOCKERFILE
from helmchart import CHART_DIR, PROMETHEUS_OPERATOR_API, render
from chartfixtures import all_on, sealed_markers  # noqa: F401 (fixtures)

DIGEST = "sha256:" + "0f" * 32
PINNED = {"image": {"tag": "v1.2.3", "digest": DIGEST}, "agent": {"image": {"digest": DIGEST}}}


def checkov() -> str:
    found = shutil.which("checkov") or str(Path(sys.executable).with_name("checkov"))
    assert Path(found).exists(), "checkov is missing: Tests/python/requirements.txt installs it"
    return found


def accepted() -> dict[tuple[str, str], str]:
    """(check, Deployment name) → the README's 'When' column, from the Security scan table."""
    text = (CHART_DIR / "README.md").read_text()
    section = text.split("## Security scan", 1)[1]
    table: dict[tuple[str, str], str] = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and re.fullmatch(r"CKV2?_K8S_\d+", cells[0]):
            for name in re.findall(r"`([^`]+)`", cells[1]):
                table[(cells[0], name.replace("<fullname>", "beluga-ai"))] = cells[2]
    assert table, "the README has no Security scan table"
    return table


def configurations(all_on) -> dict[str, dict]:
    def merged(*parts):
        out: dict = {}
        for part in parts:
            for key, value in part.items():
                out[key] = {**out.get(key, {}), **value} if isinstance(value, dict) else value
        return out

    return {
        "defaults": {},
        "pinned": PINNED,
        "pinned-all-on": merged(all_on, PINNED, {"agent": {**all_on["agent"], **PINNED["agent"]}}),
        "pinned-sidecar": merged(PINNED, {"agent": {"mode": "sidecar", "image": {"digest": DIGEST}}}),
    }


def scan(directory: Path, framework: str) -> dict:
    result = subprocess.run(
        [checkov(), "-d" if directory.is_dir() else "-f", str(directory), "--framework", framework,
         "-o", "json", "--quiet", "--skip-download", "--compact"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode in (0, 1), result.stderr[-4000:]
    report = json.loads(result.stdout) if result.stdout.strip() else {}
    if isinstance(report, list):
        [report] = [r for r in report if r.get("check_type") == framework]
    return report


@pytest.fixture(scope="module")
def kubernetes_findings(tmp_path_factory, all_on) -> dict[str, set[tuple[str, str]]]:
    """Configuration → {(check, Deployment name)} of failed checks, from one checkov run."""
    root = tmp_path_factory.mktemp("manifests")
    for label, values in configurations(all_on).items():
        folder = root / label
        folder.mkdir()
        rendered = render(values, api_versions=[PROMETHEUS_OPERATOR_API])
        for path, text in rendered.sources.items():
            if path.endswith(".yaml") and text.strip():
                (folder / path.replace("/", "_")).write_text(text)
    report = scan(root, "kubernetes")
    assert report["summary"]["parsing_errors"] == 0
    assert report["summary"]["passed"] > 100, report["summary"]
    findings: dict[str, set[tuple[str, str]]] = {label: set() for label in configurations(all_on)}
    for failed in report["results"]["failed_checks"]:
        label = Path(failed["file_path"]).parts[-2]
        name = failed["resource"].split(".")[2]
        findings[label].add((failed["check_id"], name))
    return findings


def test_defaults_have_only_the_accepted_findings(kubernetes_findings):
    table = accepted()
    unexplained = {f for f in kubernetes_findings["defaults"] if f not in table}
    assert unexplained == set(), f"findings not explained in the chart README: {sorted(unexplained)}"
    # The scan looks at the chart: the guide's unpinned default tag is reported.
    assert ("CKV_K8S_14", "beluga-ai") in kubernetes_findings["defaults"]


@pytest.mark.parametrize("label", ["pinned", "pinned-all-on", "pinned-sidecar"])
def test_pinned_images_leave_only_the_by_design_findings(kubernetes_findings, label):
    table = accepted()
    allowed = {f for f, when in table.items() if when == "always"}
    if label.endswith("sidecar"):
        allowed |= {f for f, when in table.items() if "sidecar" in when}
    unexplained = kubernetes_findings[label] - allowed
    assert unexplained == set(), f"{label}: findings not explained in the chart README: {sorted(unexplained)}"


def test_dockerfile_has_no_findings():
    report = scan(DOCKERFILE, "dockerfile")
    assert report["summary"]["passed"] > 0
    assert report["results"]["failed_checks"] == [], [f["check_id"] for f in report["results"]["failed_checks"]]
