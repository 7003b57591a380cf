"""Fixtures for validating the Kubernetes delivery with real tools: the
rendered chart for every environment, the Flux tree, the CRDs of the
projects they use, kubeconform schemas and a real kube-apiserver.

These tests need binaries built by `make kube-tools`, so they only run with
SHOPMESH_K8S=1 (set by `make k8s-verify`, which builds them first)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tools.kube import crds, schemas
from tools.kube.apiserver import ControlPlane

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / ".bin"
CHART = ROOT / "helm" / "shopmesh"
HERE = Path(__file__).parent
NAMESPACE = "shopmesh"
RESTRICTED = {
    "pod-security.kubernetes.io/enforce": "restricted",
    "pod-security.kubernetes.io/warn": "restricted",
}
# Every environment's values file, plus one that turns on what no
# environment enables by default (a weighted canary, a Flagger canary).
VALUES = {path.stem.removeprefix("values-"): path for path in sorted(CHART.glob("values-*.yaml"))}
VALUES["canary"] = HERE / "values-canary.yaml"

enabled = pytest.mark.skipif(
    os.environ.get("SHOPMESH_K8S") != "1",
    reason="needs kube-apiserver, etcd and istioctl: run make k8s-verify",
)


def run(*args: str | Path) -> str:
    result = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, args))} failed:\n{result.stdout}{result.stderr}")
    return result.stdout


def documents(text: str) -> list[dict[str, Any]]:
    return crds.load_all(text)


def helm_template(*values: Path) -> str:
    args: list[str | Path] = [BIN / "helm", "template", "shopmesh", CHART, "--namespace", NAMESPACE]
    args += ["--kube-version", schemas.KUBERNETES_VERSION]
    for path in values:
        args += ["-f", path]
    return run(*args)


@pytest.fixture(scope="session")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """helm template of each environment, one file each."""
    out = tmp_path_factory.mktemp("rendered")
    files = {}
    for env, values in VALUES.items():
        files[env] = out / f"{env}.yaml"
        files[env].write_text(helm_template(values))
    return files


@pytest.fixture(scope="session")
def crd_documents(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[dict[str, Any]]]:
    return crds.write_all(tmp_path_factory.mktemp("crds"))


@pytest.fixture(scope="session")
def schema_locations(
    tmp_path_factory: pytest.TempPathFactory, crd_documents: dict[str, list[dict[str, Any]]]
) -> list[str]:
    all_crds = [crd for docs in crd_documents.values() for crd in docs]
    return schemas.build(tmp_path_factory.mktemp("schemas"), all_crds)


@pytest.fixture(scope="session")
def cluster(
    tmp_path_factory: pytest.TempPathFactory, crd_documents: dict[str, list[dict[str, Any]]]
) -> Iterator[ControlPlane]:
    """kube-apiserver and etcd with every project's CRDs established."""
    with ControlPlane(BIN, tmp_path_factory.mktemp("control-plane")) as plane:
        # Objects without a namespace land in Shopmesh's, as with `helm install -n`.
        plane.kubectl("config", "set-context", "--current", "--namespace", NAMESPACE)
        for project, docs in crd_documents.items():
            text = yaml.dump_all(docs, Dumper=yaml.CSafeDumper)
            plane.kubectl(
                "apply", "--server-side", "--field-manager", project, "-f", "-", stdin=text
            )
        plane.kubectl("wait", "--for", "condition=Established", "crd", "--all", "--timeout", "120s")
        yield plane


def ensure_namespace(cluster: ControlPlane, name: str) -> None:
    """Create (for real) a namespace that Pod Security judges as restricted."""
    namespace = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": name, "labels": RESTRICTED},
    }
    cluster.kubectl("apply", "-f", "-", stdin=yaml.safe_dump(namespace))


def prepare(cluster: ControlPlane, docs: list[dict[str, Any]]) -> None:
    """Really create what a dry-run of `docs` presupposes: their namespaces
    and their ServiceAccounts (admission looks pods' accounts up), including
    each namespace's `default`, which kube-controller-manager would create."""
    namespaces = {
        doc["metadata"].get("namespace", NAMESPACE) for doc in docs if doc["kind"] != "Namespace"
    }
    accounts = [doc for doc in docs if doc["kind"] == "ServiceAccount"]
    for name in sorted(namespaces):
        ensure_namespace(cluster, name)
        accounts.append(
            {
                "apiVersion": "v1",
                "kind": "ServiceAccount",
                "metadata": {"name": "default", "namespace": name},
            }
        )
    if accounts:
        cluster.kubectl("apply", "-f", "-", stdin=yaml.safe_dump_all(accounts))


def dry_run(cluster: ControlPlane, text: str) -> subprocess.CompletedProcess[str]:
    """Server-side dry-run; any warning (Pod Security, deprecation) fails it."""
    return cluster.kubectl(
        "--warnings-as-errors", "apply", "--dry-run=server", "-f", "-", stdin=text, check=False
    )


def assert_admitted(cluster: ControlPlane, objects: list[dict[str, Any]]) -> None:
    """Every object passes a server-side dry-run, without a warning."""
    result = dry_run(cluster, yaml.safe_dump_all(objects))
    assert result.returncode == 0, result.stderr
    # Every object went through the server (nothing silently skipped).
    assert result.stdout.count("(server dry run)") == len(objects), result.stdout


def pods_from_templates(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A Pod for each pod template (Deployments, Jobs, ...): Pod Security only
    enforces on Pods; on their controllers it merely warns."""
    pods = []
    for doc in docs:
        spec = doc.get("spec", {})
        template = spec.get("template") or spec.get("jobTemplate", {}).get("spec", {}).get(
            "template"
        )
        if not template or "containers" not in template.get("spec", {}):
            continue
        metadata = {"name": f"{doc['kind'].lower()}-{doc['metadata']['name']}"[:63]}
        metadata["namespace"] = doc["metadata"].get("namespace", NAMESPACE)
        metadata["labels"] = template.get("metadata", {}).get("labels", {})
        pods.append(
            {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": template["spec"]}
        )
    return pods
