"""JSON schemas for kubeconform, built offline:

- Kubernetes: the strict schemas bundled in the `kubernetes-validate` wheel,
  with their absolute `$ref`s (/api/_definitions.json) pointed at the local
  definitions file;
- custom resources: every version of every CRD from tools.kube.crds,
  converted the way openapi2jsonschema does in strict mode (objects without
  x-kubernetes-preserve-unknown-fields reject unknown keys).

kubeconform then reads them with `-schema-location` set to LOCATIONS.
"""

from __future__ import annotations

import copy
import importlib.util
import json
from pathlib import Path
from typing import Any

KUBERNETES_VERSION = "1.37.0"
# kubeconform expands these per resource; the first serves Kubernetes kinds
# (e.g. deployment-apps-v1.json), the second custom resources.
LOCATIONS = (
    "{dir}/kubernetes/{{{{ .ResourceKind }}}}{{{{ .KindSuffix }}}}.json",
    "{dir}/crds/{{{{ .Group }}}}/{{{{ .ResourceKind }}}}_{{{{ .ResourceAPIVersion }}}}.json",
)


def kubernetes_schemas(out: Path) -> None:
    spec = importlib.util.find_spec("kubernetes_validate")  # the wheel's data, not its code
    if spec is None or spec.origin is None:
        raise RuntimeError("kubernetes-validate is not installed: run make venv")
    bundled = Path(spec.origin).parent / "kubernetes-json-schema"
    source = bundled / f"v{KUBERNETES_VERSION}-local-strict"
    out.mkdir(parents=True, exist_ok=True)
    definitions = (out / "_definitions.json").as_uri()
    for path in source.glob("*.json"):
        text = path.read_text().replace('"/api/_definitions.json#', f'"{definitions}#')
        (out / path.name).write_text(text)


def strict(schema: dict[str, Any]) -> dict[str, Any]:
    """openapi2jsonschema's strict conversion of a CRD's OpenAPI v3 schema:
    objects reject unknown keys unless they preserve unknown fields."""
    result = dict(schema)
    if "properties" in result:
        result["properties"] = {name: strict(sub) for name, sub in result["properties"].items()}
        if "additionalProperties" not in result and not result.get(
            "x-kubernetes-preserve-unknown-fields"
        ):
            result["additionalProperties"] = False
    for key in ("items", "additionalProperties", "not"):
        if isinstance(result.get(key), dict):
            result[key] = strict(result[key])
    for key in ("allOf", "anyOf", "oneOf"):
        if key in result:
            result[key] = [strict(sub) for sub in result[key]]
    if result.get("x-kubernetes-int-or-string"):
        result.pop("type", None)
        result["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if result.pop("nullable", False) and isinstance(result.get("type"), str):
        result["type"] = [result["type"], "null"]
    return result


def crd_schemas(crds: list[dict[str, Any]], out: Path) -> None:
    for crd in crds:
        group = crd["spec"]["group"]
        kind = crd["spec"]["names"]["kind"].lower()
        (out / group).mkdir(parents=True, exist_ok=True)
        for version in crd["spec"]["versions"]:
            schema = copy.deepcopy(version.get("schema", {}).get("openAPIV3Schema", {}))
            schema.setdefault("properties", {})
            # apiVersion, kind and metadata are implied by every CRD.
            schema["properties"].setdefault("apiVersion", {"type": "string"})
            schema["properties"].setdefault("kind", {"type": "string"})
            schema["properties"]["metadata"] = {"type": "object"}
            path = out / group / f"{kind}_{version['name']}.json"
            path.write_text(json.dumps(strict(schema)))


def build_crds(out: Path, crds: list[dict[str, Any]]) -> str:
    """Write the CRDs' schemas under `out`; return their -schema-location."""
    crd_schemas(crds, out / "crds")
    return LOCATIONS[1].format(dir=out)


def build(out: Path, crds: list[dict[str, Any]]) -> list[str]:
    """Write all schemas under `out`; return kubeconform -schema-location values."""
    kubernetes_schemas(out / "kubernetes")
    return [LOCATIONS[0].format(dir=out), build_crds(out, crds)]
