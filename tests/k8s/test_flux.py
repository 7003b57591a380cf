"""The Flux tree in gitops/ renders the way Flux reconciles it: each
cluster's entry point, then every Flux Kustomization's path in turn. What it
renders is valid (kubeconform strict, CRD schemas), admitted by a real
kube-apiserver, and wired together: every dependsOn names an object of the
tree, and Shopmesh's HelmRelease renders the chart with its values files."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.k8s.conftest import (
    BIN,
    ROOT,
    assert_admitted,
    documents,
    enabled,
    helm_template,
    prepare,
    run,
)
from tests.k8s.test_kubeconform import assert_all_valid, kubeconform
from tools.kube import schemas
from tools.kube.apiserver import ControlPlane

pytestmark = enabled

CLUSTERS = ["staging", "production"]
FLUX_KUSTOMIZATION = "kustomize.toolkit.fluxcd.io/v1"
HELM_RELEASE = "helm.toolkit.fluxcd.io/v2"
INFRASTRUCTURE = {
    "istiod",
    "cert-manager",
    "flagger",
    "kube-prometheus-stack",
    "gatekeeper",
    "external-secrets",
}


def render(cluster: str) -> dict[Path, list[dict[str, Any]]]:
    """kustomize build of gitops/clusters/<cluster>, then of every path its
    Flux Kustomizations point at (relative to the repository root)."""
    trees: dict[Path, list[dict[str, Any]]] = {}
    queue = [ROOT / "gitops" / "clusters" / cluster]
    while queue:
        path = queue.pop(0).resolve()
        if path in trees:
            continue
        trees[path] = documents(run(BIN / "kubectl", "kustomize", path))
        for doc in trees[path]:
            if doc["apiVersion"] == FLUX_KUSTOMIZATION:
                queue.append(ROOT / doc["spec"]["path"])
    return trees


@pytest.fixture(scope="module", params=CLUSTERS)
def tree(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cluster's whole tree in one file."""
    docs = [doc for docs in render(request.param).values() for doc in docs]
    path = tmp_path_factory.mktemp("flux") / f"{request.param}.yaml"
    path.write_text(yaml.safe_dump_all(docs, sort_keys=False))
    return path


def by_kind(docs: list[dict[str, Any]], api_version: str) -> dict[str, dict[str, Any]]:
    """Objects of one API by namespace/name."""
    return {
        f"{doc['metadata'].get('namespace', '')}/{doc['metadata']['name']}": doc
        for doc in docs
        if doc["apiVersion"] == api_version
    }


def test_tree_is_wired(tree: Path) -> None:
    docs = documents(tree.read_text())
    kustomizations = by_kind(docs, FLUX_KUSTOMIZATION)
    releases = by_kind(docs, HELM_RELEASE)
    assert INFRASTRUCTURE | {"shopmesh"} <= {key.split("/")[1] for key in releases}
    for objects in (kustomizations, releases):
        for key, doc in objects.items():
            namespace = key.split("/")[0]
            for dep in doc["spec"].get("dependsOn", []):
                assert f"{dep.get('namespace', namespace)}/{dep['name']}" in objects, (
                    f"{key} depends on {dep}"
                )


def test_tree_is_valid(tree: Path, schema_locations: list[str], tmp_path: Path) -> None:
    docs = documents(tree.read_text())
    constraints = [constraint_crd(doc) for doc in docs if doc["kind"] == "ConstraintTemplate"]
    locations = [*schema_locations, schemas.build_crds(tmp_path, constraints)]
    assert_all_valid(kubeconform(locations, tree), len(docs))


def constraint_crd(template: dict[str, Any]) -> dict[str, Any]:
    """The CRD Gatekeeper generates for a ConstraintTemplate's constraints
    (its controller is not running here): kind and parameters from the
    template, match and enforcementAction as Gatekeeper defines them."""
    names = template["spec"]["crd"]["spec"]["names"]
    parameters = copy.deepcopy(
        template["spec"]["crd"]["spec"]
        .get("validation", {})
        .get("openAPIV3Schema", {"type": "object"})
    )
    schema = {
        "type": "object",
        "properties": {
            "spec": {
                "type": "object",
                "properties": {
                    "match": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                    "enforcementAction": {"type": "string"},
                    "parameters": parameters,
                },
            },
            "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
        },
    }
    plural = names["kind"].lower()
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.constraints.gatekeeper.sh"},
        "spec": {
            "group": "constraints.gatekeeper.sh",
            "scope": "Cluster",
            "names": {
                "kind": names["kind"],
                "plural": plural,
                "listKind": names["kind"] + "List",
                "singular": plural,
            },
            "versions": [
                {
                    "name": version,
                    "served": True,
                    "storage": version == "v1beta1",
                    "schema": {"openAPIV3Schema": schema},
                }
                for version in ("v1", "v1beta1", "v1alpha1")
            ],
        },
    }


def test_tree_is_admitted(tree: Path, cluster: ControlPlane) -> None:
    docs = documents(tree.read_text())
    for template in [doc for doc in docs if doc["kind"] == "ConstraintTemplate"]:
        cluster.kubectl("apply", "-f", "-", stdin=json.dumps(constraint_crd(template)))
    cluster.kubectl("wait", "--for", "condition=Established", "crd", "--all", "--timeout", "60s")
    prepare(cluster, docs)
    assert_admitted(cluster, docs)


def test_shopmesh_release_renders_and_is_admitted(
    tree: Path, cluster: ControlPlane, tmp_path: Path
) -> None:
    """What helm-controller would install: the chart from this repository
    with the release's valuesFiles, then its inline values on top."""
    docs = documents(tree.read_text())
    release = next(
        doc
        for doc in docs
        if doc["apiVersion"] == HELM_RELEASE and doc["metadata"]["name"] == "shopmesh"
    )
    chart = release["spec"]["chart"]["spec"]
    assert chart["sourceRef"]["kind"] == "GitRepository"
    assert (ROOT / chart["chart"]).resolve() == (ROOT / "helm" / "shopmesh").resolve()
    values = [ROOT / path for path in chart["valuesFiles"]]
    inline = tmp_path / "inline.yaml"
    inline.write_text(yaml.safe_dump(release["spec"].get("values", {})))
    manifests = documents(helm_template(*values, inline))
    prepare(cluster, manifests)
    assert_admitted(cluster, manifests)


def test_a_broken_path_fails(tmp_path: Path) -> None:
    """The check can fail: kustomize refuses a missing resource."""
    (tmp_path / "kustomization.yaml").write_text("resources: [missing.yaml]\n")
    with pytest.raises(AssertionError, match=r"missing\.yaml"):
        run(BIN / "kubectl", "kustomize", tmp_path)


def test_kubectl_is_the_pinned_one() -> None:
    version = json.loads(run(BIN / "kubectl", "version", "--client", "-o", "json"))
    pinned = run(
        "go", "-C", ROOT / "tools/kube", "list", "-m", "-f", "{{.Version}}", "k8s.io/kubernetes"
    )
    assert version["clientVersion"]["gitVersion"] == pinned.strip()
