"""Server-side dry-run of every environment's rendered chart against a real
kube-apiserver with the CRDs installed, in a namespace that enforces (and
warns on) the restricted Pod Security standard. The API server's admission
judges each object; a warning fails the check too. Pod Security only
enforces on Pods, so a Pod built from each pod template is dry-run as well."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.k8s.conftest import (
    VALUES,
    assert_admitted,
    documents,
    dry_run,
    enabled,
    pods_from_templates,
    prepare,
)
from tools.kube.apiserver import ControlPlane

pytestmark = enabled

PRIVILEGED = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: privileged
spec:
  selector:
    matchLabels: {app: privileged}
  template:
    metadata:
      labels: {app: privileged}
    spec:
      containers:
        - name: main
          image: shopmesh/auth:0.1.0
          securityContext:
            privileged: true
"""


@pytest.mark.parametrize("env", VALUES)
def test_rendered_chart_is_admitted(
    env: str, rendered: dict[str, Path], cluster: ControlPlane
) -> None:
    docs = documents(rendered[env].read_text())
    prepare(cluster, docs)
    assert_admitted(cluster, docs)


@pytest.mark.parametrize("env", VALUES)
def test_pods_from_every_template_are_admitted(
    env: str, rendered: dict[str, Path], cluster: ControlPlane
) -> None:
    docs = documents(rendered[env].read_text())
    pods = pods_from_templates(docs)
    assert {pod["metadata"]["name"].split("-")[0] for pod in pods} == {"deployment", "job"}
    prepare(cluster, docs)
    assert_admitted(cluster, pods)


def test_a_privileged_workload_is_refused(cluster: ControlPlane) -> None:
    """The check can fail: Pod Security warns on the Deployment and refuses its Pod."""
    docs = documents(PRIVILEGED)
    prepare(cluster, docs)
    result = dry_run(cluster, PRIVILEGED)
    assert result.returncode != 0
    assert 'would violate PodSecurity "restricted:latest": privileged' in result.stderr

    result = dry_run(cluster, yaml.safe_dump_all(pods_from_templates(docs)))
    assert result.returncode != 0
    assert 'violates PodSecurity "restricted:latest": privileged' in result.stderr
