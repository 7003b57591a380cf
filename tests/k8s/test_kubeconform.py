"""kubeconform in strict mode (unknown fields and duplicate keys fail)
against the Kubernetes 1.37 schemas and the pinned projects' CRD schemas:
every environment's rendered chart and the mesh policies in istio/."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.k8s.conftest import BIN, ROOT, VALUES, documents, enabled

pytestmark = enabled


def kubeconform(locations: list[str], *paths: Path) -> dict[str, Any]:
    """Run kubeconform; return its JSON report (problems and a summary)."""
    args = [
        str(BIN / "kubeconform"),
        "-strict",
        "-summary",
        "-output",
        "json",
        "-kubernetes-version",
        "1.37.0",
    ]
    for location in locations:
        args += ["-schema-location", location]
    result = subprocess.run([*args, *map(str, paths)], capture_output=True, text=True, timeout=300)
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def assert_all_valid(report: dict[str, Any], count: int) -> None:
    assert report["resources"] == [], json.dumps(report["resources"], indent=1)
    assert report["summary"] == {"valid": count, "invalid": 0, "errors": 0, "skipped": 0}


@pytest.mark.parametrize("env", VALUES)
def test_rendered_chart_is_valid(
    env: str, rendered: dict[str, Path], schema_locations: list[str]
) -> None:
    count = len(documents(rendered[env].read_text()))
    assert_all_valid(kubeconform(schema_locations, rendered[env]), count)


def test_mesh_policies_are_valid(schema_locations: list[str]) -> None:
    files = sorted(set((ROOT / "istio").glob("*.yaml")) - {ROOT / "istio" / "kustomization.yaml"})
    count = sum(len(documents(path.read_text())) for path in files)
    assert_all_valid(kubeconform(schema_locations, *files), count)


def test_an_unknown_field_is_caught(tmp_path: Path, schema_locations: list[str]) -> None:
    """The check can fail: a misspelt field in a CRD-backed resource."""
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "apiVersion: networking.istio.io/v1\nkind: DestinationRule\n"
        "metadata: {name: x, namespace: shopmesh}\n"
        "spec: {host: x, trafficPolicy: {tls: {mode: ISTIO_MUTUAL}, outlierDetecton: {}}}\n"
    )
    report = kubeconform(schema_locations, bad)
    assert report["summary"]["invalid"] == 1
    assert "outlierDetecton" in report["resources"][0]["msg"]
