"""The item type RPCs of CatalogService (a part of its servicer): proto -> command -> use case -> proto."""

from __future__ import annotations

from collections.abc import Callable

import grpc
from google.protobuf import empty_pb2

from athenaeum.catalog.v1 import catalog_pb2
from services.catalog.api.convert import item_type_to_proto, item_types_to_proto
from services.catalog.app import item_types
from services.catalog.app.ports import CatalogUnitOfWork
from services.catalog.domain.item_types import parse_item_type_name
from services.support.runtime.clock import Clock
from services.support.runtime.idempotency import parse_request_id

Context = grpc.aio.ServicerContext
ItemTypeMessage = catalog_pb2.ItemType


class ItemTypeRpcs:
    """Mixed into CatalogServicer, which sets these."""

    _uow: Callable[[], CatalogUnitOfWork]
    _reads: Callable[[], CatalogUnitOfWork]
    _clock: Clock

    async def CreateItemType(
        self, request: catalog_pb2.CreateItemTypeRequest, context: Context
    ) -> catalog_pb2.ItemType:
        """Adds an item type."""
        kind = request.item_type
        command = item_types.CreateItemType(
            kind.code, kind.description, kind.not_for_loan, parse_request_id(request.request_id)
        )
        return item_type_to_proto(await item_types.create_item_type(command, uow=self._uow(), clock=self._clock))

    async def GetItemType(self, request: catalog_pb2.GetItemTypeRequest, context: Context) -> ItemTypeMessage:
        """Returns one item type."""
        code = parse_item_type_name(request.name)
        return item_type_to_proto(await item_types.get_item_type(code, uow=self._reads()))

    async def ListItemTypes(
        self, request: catalog_pb2.ListItemTypesRequest, context: Context
    ) -> catalog_pb2.ListItemTypesResponse:
        """Lists the item types by code."""
        query = item_types.ListItemTypes(request.page_size, request.page_token)
        return item_types_to_proto(await item_types.list_item_types(query, uow=self._reads()))

    async def UpdateItemType(
        self, request: catalog_pb2.UpdateItemTypeRequest, context: Context
    ) -> catalog_pb2.ItemType:
        """Changes the fields named in the mask."""
        kind = request.item_type
        command = item_types.UpdateItemType(
            code=parse_item_type_name(kind.name, field="item_type.name"),
            description=kind.description,
            not_for_loan=kind.not_for_loan,
            mask=tuple(request.update_mask.paths),
            etag=kind.etag,
            request_id=parse_request_id(request.request_id),
        )
        return item_type_to_proto(await item_types.update_item_type(command, uow=self._uow(), clock=self._clock))

    async def DeleteItemType(self, request: catalog_pb2.DeleteItemTypeRequest, context: Context) -> empty_pb2.Empty:
        """Removes an item type no copy has."""
        command = item_types.DeleteItemType(
            parse_item_type_name(request.name), request.etag, parse_request_id(request.request_id)
        )
        await item_types.delete_item_type(command, uow=self._uow(), clock=self._clock)
        return empty_pb2.Empty()

    async def RenameItemType(
        self, request: catalog_pb2.RenameItemTypeRequest, context: Context
    ) -> catalog_pb2.ItemType:
        """Gives an item type a new code, and its copies with it."""
        command = item_types.RenameItemType(
            parse_item_type_name(request.name), request.new_code, request.etag, parse_request_id(request.request_id)
        )
        return item_type_to_proto(await item_types.rename_item_type(command, uow=self._uow(), clock=self._clock))
