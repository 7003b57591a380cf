"""istioctl analyze (offline, on files) finds nothing in the mesh policies
of istio/ together with each environment's rendered chart."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from tests.k8s.conftest import BIN, NAMESPACE, ROOT, VALUES, enabled, run

pytestmark = enabled

# The namespace as the Flux tree creates it: sidecars injected.
INJECTED = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE, "labels": {"istio-injection": "enabled"}}}


def analyze(directory: Path) -> str:
    return run(
        BIN / "istioctl", "analyze", "--use-kube=false", "--recursive", "--failure-threshold", "Info",
        "--output-threshold", "Info", "--namespace", NAMESPACE, directory,
    )  # fmt: skip


@pytest.mark.parametrize("env", VALUES)
def test_no_findings(env: str, rendered: dict[str, Path], tmp_path: Path) -> None:
    shutil.copytree(ROOT / "istio", tmp_path / "istio")
    shutil.copy(rendered[env], tmp_path / "chart.yaml")
    (tmp_path / "namespace.yaml").write_text(yaml.safe_dump(INJECTED))
    assert "No validation issues found" in analyze(tmp_path)


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
