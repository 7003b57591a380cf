"""The committed Istio policy in istio/ matches the services' RPCs and access
tables: every RPC of every generated service descriptor is allowed in exactly
its service's policy, to exactly the right callers, and nothing else is."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import pytest
from google.protobuf.descriptor import FileDescriptor

from tools.mesh import generate

ROOT = Path(__file__).resolve().parents[2]
ISTIO = ROOT / "istio"
NS = "cluster.local/ns/shopmesh/sa/"
EDGE = {NS + "shopmesh-gateway", "cluster.local/ns/istio-system/sa/istio-ingressgateway"}
WORKLOADS = {NS + f"shopmesh-{svc}" for svc in generate.SERVICES}
# The internal callers the access tables name, written out by hand.
INTERNAL = {
    "/shopmesh.product.v1.ProductInternalService/ReserveStock": {NS + "shopmesh-order"},
    "/shopmesh.product.v1.ProductInternalService/GetReservation": {NS + "shopmesh-order"},
    "/shopmesh.product.v1.ProductInternalService/CommitReservation": {NS + "shopmesh-order"},
    "/shopmesh.product.v1.ProductInternalService/ReleaseReservation": {NS + "shopmesh-order"},
    "/shopmesh.user.v1.UserInternalService/CreateUser": {NS + "shopmesh-auth"},
    "/shopmesh.auth.v1.AuthInternalService/IssueServiceToken": {NS + "shopmesh-order"},
}
JWKS = "/shopmesh.auth.v1.AuthService/GetJwks"
JWKS_READERS = {NS + "shopmesh-user", NS + "shopmesh-product", NS + "shopmesh-order"}


def descriptor(svc: str) -> FileDescriptor:
    module = importlib.import_module(f"shopmesh.{svc}.v1.{svc}_service_pb2")
    file: FileDescriptor = module.DESCRIPTOR
    return file


def rpcs(svc: str) -> set[str]:
    """Every RPC of `svc` from its generated descriptor, not from access.py."""
    return {
        f"/{service.full_name}/{method.name}"
        for service in descriptor(svc).services_by_name.values()
        for method in service.methods
    }


def load(name: str) -> Any:
    yaml = importlib.import_module("yaml")
    return yaml.safe_load((ISTIO / name).read_text(encoding="utf-8"))


def allowed(svc: str) -> dict[str, set[str]]:
    """{path: principals} of the committed ALLOW policy of `svc`; a path in
    two rules would be a bug, so it fails here."""
    policy = load(f"authorization-{svc}.yaml")
    assert policy["apiVersion"] == "security.istio.io/v1"
    assert policy["kind"] == "AuthorizationPolicy"
    assert policy["metadata"]["namespace"] == "shopmesh"
    spec = policy["spec"]
    assert spec["action"] == "ALLOW"
    assert spec["selector"] == {"matchLabels": {"app.kubernetes.io/component": svc}}
    result: dict[str, set[str]] = {}
    for rule in spec["rules"]:
        assert set(rule) == {"from", "to"}  # never a rule without a caller or a path
        (source,) = rule["from"]
        principals = set(source["source"]["principals"])
        assert set(source["source"]) == {"principals"}
        (to,) = rule["to"]
        assert to["operation"]["methods"] == ["POST"]
        for path in to["operation"]["paths"]:
            assert path not in result, f"{path} in two rules"
            result[path] = principals
    return result


@pytest.mark.parametrize("svc", generate.SERVICES)
def test_service_policy_lists_exactly_the_rpcs_of_the_service(svc: str) -> None:
    assert set(allowed(svc)) == rpcs(svc)


def test_every_rpc_of_every_proto_service_is_in_a_service_policy() -> None:
    protos = {
        p.parent.parent.name for p in (ROOT / "proto" / "shopmesh").glob("*/v1/*_service.proto")
    }
    assert protos == set(generate.SERVICES)
    every = set().union(*(allowed(svc) for svc in generate.SERVICES))
    assert every == set().union(*(rpcs(svc) for svc in generate.SERVICES))


@pytest.mark.parametrize("svc", generate.SERVICES)
def test_internal_paths_list_only_the_allowed_workloads(svc: str) -> None:
    for path, principals in allowed(svc).items():
        if "InternalService/" in path:
            assert principals == INTERNAL[path], path
            assert not principals & EDGE


@pytest.mark.parametrize("svc", generate.SERVICES)
def test_public_and_end_user_paths_are_called_from_the_edge_only(svc: str) -> None:
    internal_sets = [frozenset(p) for p in INTERNAL.values()]
    for path, principals in allowed(svc).items():
        if "InternalService/" in path:
            continue
        if path == JWKS:  # the services fetch the JWKS themselves
            assert principals == EDGE | JWKS_READERS
        else:
            assert principals == EDGE, path
        assert frozenset(principals) not in internal_sets


def test_policies_name_only_known_principals() -> None:
    for svc in generate.SERVICES:
        for principals in allowed(svc).values():
            assert principals <= EDGE | WORKLOADS


def test_ingress_requires_a_token_on_every_non_public_path() -> None:
    policy = load("authorization-ingress-require-jwt.yaml")
    spec = policy["spec"]
    assert policy["metadata"]["namespace"] == "istio-system"
    assert spec["action"] == "DENY"
    assert spec["selector"] == {"matchLabels": {"istio": "ingressgateway"}}
    (rule,) = spec["rules"]
    assert rule["from"] == [{"source": {"notRequestPrincipals": ["*"]}}]
    (to,) = rule["to"]
    public = {
        "/shopmesh.auth.v1.AuthService/RegisterAccount",
        "/shopmesh.auth.v1.AuthService/Login",
        "/shopmesh.auth.v1.AuthService/RefreshToken",
        "/shopmesh.auth.v1.AuthService/RevokeToken",
        "/shopmesh.auth.v1.AuthService/GetJwks",
        "/shopmesh.product.v1.ProductService/GetProduct",
        "/shopmesh.product.v1.ProductService/ListProducts",
    }
    every = set().union(*(rpcs(svc) for svc in generate.SERVICES))
    assert set(to["operation"]["paths"]) == every - public


def test_request_authentication_trusts_the_auth_service_keys() -> None:
    ra = load("request-authentication.yaml")
    assert (ra["apiVersion"], ra["kind"]) == ("security.istio.io/v1", "RequestAuthentication")
    (jwt,) = ra["spec"]["jwtRules"]
    assert jwt == {
        "issuer": "shopmesh-auth",
        "audiences": ["shopmesh"],
        "jwksUri": "http://shopmesh-gateway.shopmesh.svc.cluster.local:8080/.well-known/jwks.json",
        "forwardOriginalToken": True,  # the services verify the token again
    }


def test_mtls_is_strict_mesh_wide_and_the_namespace_denies_by_default() -> None:
    peer = load("peer-authentication-strict.yaml")
    assert peer["metadata"] == {
        "name": "default",
        "namespace": "istio-system",
        "labels": {"app.kubernetes.io/part-of": "shopmesh"},
    }
    assert peer["spec"] == {"mtls": {"mode": "STRICT"}}
    deny = load("authorization-default-deny.yaml")
    assert deny["metadata"]["namespace"] == "shopmesh"
    assert deny["spec"] == {}


def test_only_the_ingress_reaches_the_rest_gateway() -> None:
    spec = load("authorization-gateway.yaml")["spec"]
    assert spec["rules"] == [
        {
            "from": [
                {
                    "source": {
                        "principals": ["cluster.local/ns/istio-system/sa/istio-ingressgateway"]
                    }
                }
            ]
        }
    ]


def test_every_generated_file_starts_with_its_intent() -> None:
    for path in sorted(ISTIO.glob("*.yaml")):
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first.startswith("# "), path.name
        assert "Generated" not in first, path.name


def test_committed_files_are_current() -> None:
    assert generate.main(["--check"]) == 0


def test_check_fails_on_a_stale_file(tmp_path: Path) -> None:
    assert generate.main(["--out", str(tmp_path)]) == 0
    assert generate.main(["--out", str(tmp_path), "--check"]) == 0
    (tmp_path / "authorization-product.yaml").write_text("# edited\n", encoding="utf-8")
    (tmp_path / "authorization-gone.yaml").write_text(generate.HEADER + "\n", encoding="utf-8")
    (tmp_path / "hand-written.yaml").write_text("# not ours\n", encoding="utf-8")
    assert generate.main(["--out", str(tmp_path), "--check"]) == 1
    assert generate.main(["--out", str(tmp_path)]) == 0
    assert not (tmp_path / "authorization-gone.yaml").exists()
    assert (tmp_path / "hand-written.yaml").exists()
    assert generate.main(["--out", str(tmp_path), "--check"]) == 0


def test_names_are_parameters(tmp_path: Path) -> None:
    argv = ["--out", str(tmp_path), "--namespace", "shop", "--ingress-service-account", "ing"]
    assert generate.main(argv) == 0
    text = (tmp_path / "authorization-user.yaml").read_text(encoding="utf-8")
    assert "cluster.local/ns/shop/sa/shopmesh-auth" in text
    assert "cluster.local/ns/istio-system/sa/ing" in text
    assert "/ns/shopmesh/" not in text


def test_generation_is_deterministic() -> None:
    assert generate.generate(generate.Settings()) == generate.generate(generate.Settings())
