"""The Gatekeeper policy of the Flux tree, judged by Gatekeeper's own engine
(gator): every workload each environment renders into the shopmesh
namespace passes it, and a container that may write its root filesystem or
run as root does not."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.k8s.conftest import BIN, NAMESPACE, ROOT, VALUES, documents, enabled

pytestmark = enabled

POLICY = [
    ROOT / "gitops/infrastructure/configs/base/constraint-templates.yaml",
    ROOT / "gitops/infrastructure/policies/shopmesh-nonroot-readonly.yaml",
]
NAMESPACE_DOC = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}}


def gator(tmp_path: Path, docs: list[dict[str, Any]]) -> subprocess.CompletedProcess[str]:
    """gator test of `docs`, placed in the shopmesh namespace as Helm would."""
    for doc in docs:
        doc["metadata"].setdefault("namespace", NAMESPACE)
    objects = tmp_path / "objects.yaml"
    objects.write_text(yaml.safe_dump_all([NAMESPACE_DOC, *docs]))
    args = [str(BIN / "gator"), "test"]
    for path in [*POLICY, objects]:
        args += ["--filename", str(path)]
    return subprocess.run(args, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("env", VALUES)
def test_every_workload_passes(env: str, rendered: dict[str, Path], tmp_path: Path) -> None:
    docs = documents(rendered[env].read_text())
    workloads = [doc for doc in docs if doc["kind"] in {"Deployment", "Job"}]
    assert workloads
    result = gator(tmp_path, workloads)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_writable_root_run_as_root_is_refused(tmp_path: Path) -> None:
    """The check can fail: a container without either setting, in a Deployment and a Pod."""
    container = {"name": "main", "image": "shopmesh/auth:0.1.0"}
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "loose"},
        "spec": {
            "selector": {"matchLabels": {"app": "loose"}},
            "template": {
                "metadata": {"labels": {"app": "loose"}},
                "spec": {"containers": [container]},
            },
        },
    }
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "loose"},
        "spec": {"containers": [container]},
    }
    result = gator(tmp_path, [deployment, pod])
    assert result.returncode != 0
    out = result.stdout + result.stderr
    for kind in ("Deployment", "Pod"):
        assert f"{kind} loose: container <main> must set securityContext.runAsNonRoot" in out, out
        assert (
            f"{kind} loose: container <main> must set securityContext.readOnlyRootFilesystem" in out
        ), out
