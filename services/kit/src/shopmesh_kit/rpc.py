"""Type aliases for gRPC code (grpcio ships no type information)."""

from typing import Any, TypeAlias

# The context of a unary RPC on a grpc.aio server.
Context: TypeAlias = Any
