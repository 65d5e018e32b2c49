"""The catalog's CopyUpdated, as it comes off the wire, redescribes the hold its copy is set aside for."""

from __future__ import annotations

from dataclasses import replace

from athenaeum.catalog.v1 import catalog_pb2
from athenaeum.catalog.v1 import events_pb2 as catalog_events
from services.loans.app.holding import PlaceHold
from services.loans.data.copy_feed import follow_copy_change

from ..desk import Desk, reader
from ..fakes import FakeLoansDatabase


def _copy_updated(name: str, barcode: str, *, version: int, shelf: str) -> bytes:
    copy = catalog_pb2.Copy(name=name, barcode=barcode, branch="MAIN", shelf_location=shelf, etag=f'W/"{version}"')
    return catalog_events.CopyUpdated(event_id="e1", copy=copy).SerializeToString()


async def test_a_copy_updated_event_moves_the_held_copy_by_its_etag_version(db: FakeLoansDatabase, desk: Desk) -> None:
    book, (copy,) = desk.catalog.add_book("Dead Souls")
    desk.catalog.copies[copy] = replace(desk.catalog.copies[copy], branch="MAIN", shelf_location="Shelf A")
    await desk.place_hold(PlaceHold("users/p1", book, pickup_branch="EAST", actor=reader("users/p1")))
    barcode, version = desk.catalog.barcode(copy), desk.catalog.copies[copy].version
    assert await follow_copy_change(_copy_updated(copy, barcode, version=version + 1, shelf="Shelf Z"), uow=desk.uow())
    assert not await follow_copy_change(_copy_updated(copy, barcode, version=version, shelf="Shelf B"), uow=desk.uow())
    (hold,) = db.holds.values()
    assert (hold.shelf_location, hold.copy_version) == ("Shelf Z", version + 1)
    assert await follow_copy_change(b"\xff not a proto", uow=desk.uow()) == 0
