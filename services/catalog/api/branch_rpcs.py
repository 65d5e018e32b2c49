"""The library's branches as CatalogService answers them (a part of its servicer): the list the services refuse
unknown codes by (ATHENAEUM_LIBRARY_BRANCHES), for a client to offer as choices instead of free text."""

from __future__ import annotations

import grpc

from athenaeum.catalog.v1 import catalog_pb2
from services.support.runtime.branches import LibraryBranches

Context = grpc.aio.ServicerContext


class BranchRpcs:
    """Mixed into CatalogServicer, which sets this."""

    _branches: LibraryBranches

    async def ListLibraryBranches(
        self, request: catalog_pb2.ListLibraryBranchesRequest, context: Context
    ) -> catalog_pb2.ListLibraryBranchesResponse:
        """The library's branch codes in its list's order and spelling; none (not listed) for free text."""
        codes = self._branches.codes
        return catalog_pb2.ListLibraryBranchesResponse(branches=codes, listed=bool(codes))
