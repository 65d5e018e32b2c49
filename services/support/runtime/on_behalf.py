"""Peer calls name the user they are made for (ON_BEHALF_HEADER), so the callee's audit events name that
user as their actor too: a librarian's issue is theirs in the loans' events and in the catalog's."""

from __future__ import annotations

from typing import Any

import grpc

from services.support.runtime.identity import ON_BEHALF_HEADER, acting_user


def _for_user(details: grpc.aio.ClientCallDetails) -> grpc.aio.ClientCallDetails:
    user = acting_user()
    if not user:
        return details
    kept = [(key, value) for key, value in details.metadata or () if key != ON_BEHALF_HEADER]
    return details._replace(metadata=grpc.aio.Metadata(*kept, (ON_BEHALF_HEADER, user)))  # type: ignore[attr-defined]


class OnBehalfInterceptor(grpc.aio.UnaryUnaryClientInterceptor, grpc.aio.UnaryStreamClientInterceptor):
    """Adds ON_BEHALF_HEADER to a peer call made while serving a user's RPC (their own, or one a peer made
    for them); nothing to a background job's."""

    async def intercept_unary_unary(self, continuation: Any, client_call_details: Any, request: Any) -> Any:
        return await continuation(_for_user(client_call_details), request)

    async def intercept_unary_stream(self, continuation: Any, client_call_details: Any, request: Any) -> Any:
        return await continuation(_for_user(client_call_details), request)
