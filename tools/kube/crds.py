"""The CustomResourceDefinitions that Shopmesh's manifests use, taken from the
projects' own Go module zips (the Go module proxy is reachable, their chart
and release downloads are not). Each module is pinned by version and by its
go.sum hash, so a changed zip fails loudly.

    python -m tools.kube.crds OUT_DIR    # write one YAML file per project
"""

from __future__ import annotations

import argparse
import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml


class Loader(yaml.CSafeLoader):
    """PyYAML reads a bare `=` as YAML 1.1's value key; CRDs (and Kubernetes)
    read it as the string "=" (e.g. in enums of comparison operators)."""


Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:value"]
    for first, resolvers in yaml.CSafeLoader.yaml_implicit_resolvers.items()
}


def load_all(text: str) -> list[Any]:
    return [doc for doc in yaml.load_all(text, Loader=Loader) if doc]


@dataclass(frozen=True)
class Source:
    project: str
    module: str  # module@version
    sum: str  # go.sum h1: hash of the module zip
    paths: tuple[str, ...]  # files or directories of CRD YAML inside the module


SOURCES = (
    Source(
        "istio",
        "istio.io/api@v1.30.8",  # the Istio release gitops/ installs
        "h1:/weRNO9YbJsKqFibiGCjXG1i+UwNhJb3vts6ChGR554=",
        ("kubernetes/customresourcedefinitions.gen.yaml",),
    ),
    Source(
        "cert-manager",
        "github.com/cert-manager/cert-manager@v1.21.2",
        "h1:UWgoYM+KLNtRlqmoWOKjKBOBUPVHeepQ6/ac3ERJW68=",
        ("deploy/crds",),
    ),
    # The newest Flagger module the proxy serves; gitops/ installs chart 1.44,
    # whose Canary API (flagger.app/v1beta1) is the same.
    Source(
        "flagger",
        "github.com/fluxcd/flagger@v1.36.1",
        "h1:X2PumtNwZz9YSGaOtZLFm2zAKLgHhFkbNv8beg7ifyc=",
        ("artifacts/flagger/crd.yaml",),
    ),
    Source(
        "prometheus-operator",
        "github.com/prometheus-operator/prometheus-operator@v0.85.0",
        "h1:M5xLCLEoaW2IJfnuCwFzzpL+jSVQu3KGT84Pye+fW8s=",
        ("example/prometheus-operator-crd",),
    ),
    Source(
        "gatekeeper",
        "github.com/open-policy-agent/gatekeeper/v3@v3.23.1",
        "h1:njHTm0SJ6ZEhhEgmQTpJKTGQbc99fSs4hGiEp1OIKck=",
        ("charts/gatekeeper/crds",),
    ),
    Source(
        "external-secrets",
        "github.com/external-secrets/external-secrets@v0.16.2",
        "h1:iNY+gIgSyL5higXTfnz+hdPCaiB/43UiHLqE7HBpj68=",
        ("config/crds/bases",),
    ),
    # Flux 2.7: source-controller 1.7, kustomize-controller 1.7, helm-controller 1.4
    # (the newest helm-controller the proxy serves).
    Source(
        "flux-source",
        "github.com/fluxcd/source-controller@v1.7.3",
        "h1:gFfeBiNUgF0kFFGap/rrMeJqz+0Tod0ARENJO8w/UA8=",
        ("config/crd/bases",),
    ),
    Source(
        "flux-kustomize",
        "github.com/fluxcd/kustomize-controller@v1.7.3",
        "h1:SzNnGn/4ObAPEHHleM5U7y/AKxKXph3Vj6ZhteeXw8M=",
        ("config/crd/bases",),
    ),
    Source(
        "flux-helm",
        "github.com/fluxcd/helm-controller@v1.4.3",
        "h1:449LcGJXLCylvrNCq8ycevwa5mxE1Mn9vxTwlsj/no8=",
        ("config/crd/bases",),
    ),
)


def download(module: str, want_sum: str) -> Path:
    """`go mod download` one module (verified against sum.golang.org by the go
    command) and check its hash against the pin."""
    out = subprocess.run(  # noqa: S603 - the go on PATH, as make's
        ["go", "mod", "download", "-json", module],  # noqa: S607
        capture_output=True,
        text=True,
        cwd=Path(__file__).parent,
    )
    info = json.loads(out.stdout)
    if "Dir" not in info:
        raise RuntimeError(f"go mod download {module}: {info.get('Error', out.stderr)}")
    if info["Sum"] != want_sum:
        raise RuntimeError(f"{module}: hash {info['Sum']} is not the pinned {want_sum}")
    return Path(info["Dir"])


def crd_documents(source: Source) -> list[dict[str, Any]]:
    root = download(source.module, source.sum)
    files: list[Path] = []
    for rel in source.paths:
        path = root / rel
        files += sorted(path.glob("*.yaml")) if path.is_dir() else [path]
    docs = []
    for file in files:
        docs += [
            doc
            for doc in load_all(file.read_text())
            if doc.get("kind") == "CustomResourceDefinition"
        ]
    if not docs:
        raise RuntimeError(f"{source.module}: no CRDs under {source.paths}")
    return docs


def write_all(out: Path) -> dict[str, list[dict[str, Any]]]:
    """Write <out>/<project>.yaml for every source; return the documents."""
    out.mkdir(parents=True, exist_ok=True)
    result = {}
    for source in SOURCES:
        docs = crd_documents(source)
        (out / f"{source.project}.yaml").write_text(
            yaml.dump_all(docs, Dumper=yaml.CSafeDumper, sort_keys=False)
        )
        result[source.project] = docs
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("out", type=Path, help="directory for <project>.yaml files")
    args = parser.parse_args()
    for project, docs in write_all(args.out).items():
        print(f"{project}: {len(docs)} CRDs")


if __name__ == "__main__":
    main()
