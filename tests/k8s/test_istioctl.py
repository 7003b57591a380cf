"""istioctl analyze (offline, on files) finds nothing in the mesh policies
of istio/ together with each environment's rendered chart."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.k8s.conftest import BIN, NAMESPACE, ROOT, VALUES, enabled

pytestmark = enabled

# The namespace as the Flux tree creates it: sidecars injected.
INJECTED = {
    "apiVersion": "v1",
    "kind": "Namespace",
    "metadata": {"name": NAMESPACE, "labels": {"istio-injection": "enabled"}},
}


def analyze(directory: Path) -> str:
    """Analyze every file in `directory`; fail on any finding, even Info."""
    files = [str(path) for path in sorted(directory.glob("*.yaml"))]
    result = subprocess.run(
        [str(BIN / "istioctl"), "analyze", "--use-kube=false", "--failure-threshold", "Info",
         "--output-threshold", "Info", "--namespace", NAMESPACE, *files],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    # It reports on stderr when it finds nothing, on stdout otherwise.
    out = result.stdout + result.stderr
    if result.returncode != 0:
        raise AssertionError(out)
    return out


@pytest.mark.parametrize("env", VALUES)
def test_no_findings(env: str, rendered: dict[str, Path], tmp_path: Path) -> None:
    for policy in (ROOT / "istio").glob("*.yaml"):
        if policy.name != "kustomization.yaml":
            shutil.copy(policy, tmp_path)
    shutil.copy(rendered[env], tmp_path / "chart.yaml")
    (tmp_path / "namespace.yaml").write_text(yaml.safe_dump(INJECTED))
    out = analyze(tmp_path)
    assert "No validation issues found" in out
    assert all(f"- {path}" in out for path in tmp_path.glob("*.yaml")), out


def test_a_broken_route_is_found(tmp_path: Path) -> None:
    """The check can fail: a VirtualService routing to a subset no DestinationRule defines."""
    (tmp_path / "namespace.yaml").write_text(yaml.safe_dump(INJECTED))
    (tmp_path / "bad.yaml").write_text(
        """apiVersion: v1
kind: Service
metadata: {name: auth, namespace: shopmesh}
spec:
  selector: {app: auth}
  ports: [{name: grpc, port: 50051, appProtocol: grpc}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: auth, namespace: shopmesh}
spec:
  hosts: [auth]
  http:
    - route:
        - destination: {host: auth, subset: canary}
"""
    )
    with pytest.raises(AssertionError, match="IST0101"):
        analyze(tmp_path)
