"""How a service learns who calls it and proves who it is, both through the
auth service: the JWKS that verifies callers' tokens, and the service token
its own outbound calls carry."""

from __future__ import annotations

from typing import Any

import grpc
from google.protobuf.json_format import MessageToDict
from shopmesh.auth.v1 import auth_service_pb2, auth_service_pb2_grpc

from shopmesh_kit.auth import JwksCache, JwksFetcher, TokenVerifier
from shopmesh_kit.clients import ServiceToken, TokenFetcher, create_channel

# Reads of the auth service that may be retried.
AUTH_IDEMPOTENT = [("shopmesh.auth.v1.AuthService", "GetJwks")]


def auth_channel(target: str) -> grpc.aio.Channel:
    """The channel a service keeps to the auth service (JWKS, service tokens)."""
    return create_channel(target, idempotent=AUTH_IDEMPOTENT)


def jwks_fetcher(channel: grpc.aio.Channel, timeout: float = 5.0) -> JwksFetcher:
    """Fetch the JWKS with AuthService.GetJwks (the same document the edge
    serves at /.well-known/jwks.json)."""
    stub = auth_service_pb2_grpc.AuthServiceStub(channel)

    async def fetch() -> dict[str, Any]:
        reply = await stub.GetJwks(auth_service_pb2.GetJwksRequest(), timeout=timeout)
        return MessageToDict(reply, preserving_proto_field_name=True)

    return fetch


def auth_verifier(channel: grpc.aio.Channel, *, issuer: str, audience: str) -> TokenVerifier:
    """The verifier every service but auth uses: JWKS from the auth service,
    cached, refreshed on an unknown `kid`."""
    return TokenVerifier(JwksCache(jwks_fetcher(channel)), issuer=issuer, audience=audience)


def service_token(
    channel: grpc.aio.Channel, service: str, secret: str, timeout: float = 5.0
) -> ServiceToken:
    """A service token for `service`, obtained with its secret through
    AuthInternalService.IssueServiceToken and renewed before it expires."""
    stub = auth_service_pb2_grpc.AuthInternalServiceStub(channel)

    async def fetch() -> tuple[str, float]:
        reply = await stub.IssueServiceToken(
            auth_service_pb2.IssueServiceTokenRequest(service=service, secret=secret),
            timeout=timeout,
        )
        return reply.access_token, float(reply.expires_in)

    fetcher: TokenFetcher = fetch
    return ServiceToken(fetcher)
