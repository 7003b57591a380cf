"""gRPC servicers: parse, delegate to AuthService, map. No rules here."""

from __future__ import annotations

from google.protobuf.timestamp_pb2 import Timestamp
from shopmesh.auth.v1 import account_pb2, auth_service_pb2, auth_service_pb2_grpc
from shopmesh_kit.rpc import Context

from shopmesh_auth.domain.accounts import Account
from shopmesh_auth.service import AuthService, TokenPair

BEARER = "Bearer"


def account_to_proto(account: Account) -> account_pb2.Account:
    created = Timestamp()
    created.FromDatetime(account.create_time)
    return account_pb2.Account(
        name=f"accounts/{account.id}",
        email=account.email,
        roles=list(account.roles),
        create_time=created,
    )


def client_key(context: Context, trust_forwarded_for: bool) -> str:
    """The client address used for throttling: the first X-Forwarded-For hop
    when the edge in front of us is trusted to set it, else the peer."""
    if trust_forwarded_for:
        for key, value in context.invocation_metadata() or ():
            if key == "x-forwarded-for":
                return str(value).split(",")[0].strip()
    peer = context.peer() or ""
    return peer.rsplit(":", 1)[0]


class AuthServicer(auth_service_pb2_grpc.AuthServiceServicer):
    def __init__(self, service: AuthService, *, trust_forwarded_for: bool = False) -> None:
        self._service = service
        self._trust_forwarded_for = trust_forwarded_for

    async def RegisterAccount(
        self, request: auth_service_pb2.RegisterAccountRequest, context: Context
    ) -> account_pb2.Account:
        account = await self._service.register(
            request.email, request.password, request.display_name
        )
        return account_to_proto(account)

    async def Login(
        self, request: auth_service_pb2.LoginRequest, context: Context
    ) -> auth_service_pb2.LoginResponse:
        pair = await self._service.login(
            request.email, request.password, client_key(context, self._trust_forwarded_for)
        )
        return auth_service_pb2.LoginResponse(
            access_token=pair.access_token,
            refresh_token=pair.refresh_token,
            expires_in=pair.expires_in,
            token_type=BEARER,
            account=account_to_proto(pair.account),
        )

    async def RefreshToken(
        self, request: auth_service_pb2.RefreshTokenRequest, context: Context
    ) -> auth_service_pb2.RefreshTokenResponse:
        pair: TokenPair = await self._service.refresh(request.refresh_token)
        return auth_service_pb2.RefreshTokenResponse(
            access_token=pair.access_token,
            refresh_token=pair.refresh_token,
            expires_in=pair.expires_in,
            token_type=BEARER,
        )

    async def RevokeToken(
        self, request: auth_service_pb2.RevokeTokenRequest, context: Context
    ) -> auth_service_pb2.RevokeTokenResponse:
        await self._service.revoke(request.refresh_token)
        return auth_service_pb2.RevokeTokenResponse()

    async def GetJwks(
        self, request: auth_service_pb2.GetJwksRequest, context: Context
    ) -> auth_service_pb2.GetJwksResponse:
        keys = [account_pb2.JsonWebKey(**jwk) for jwk in self._service.jwks()]
        return auth_service_pb2.GetJwksResponse(keys=keys)


class AuthInternalServicer(auth_service_pb2_grpc.AuthInternalServiceServicer):
    def __init__(self, service: AuthService) -> None:
        self._service = service

    async def IssueServiceToken(
        self, request: auth_service_pb2.IssueServiceTokenRequest, context: Context
    ) -> auth_service_pb2.IssueServiceTokenResponse:
        token, expires_in = await self._service.issue_service_token(request.service, request.secret)
        return auth_service_pb2.IssueServiceTokenResponse(access_token=token, expires_in=expires_in)
