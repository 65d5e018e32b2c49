"""Every request passes one boundary check before any handler: control characters, sizes, timestamps."""

from __future__ import annotations

import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from athenaeum.catalog.v1 import catalog_pb2
from athenaeum.events.v1 import events_pb2
from athenaeum.users.v1 import users_pb2
from services.support.runtime.boundary import DEFAULT_MAX_ITEMS, DEFAULT_MAX_LENGTH, MAX_VIOLATIONS, check_request
from services.support.runtime.errors import InvalidArgument


def _fields(request: object) -> list[str]:
    with pytest.raises(InvalidArgument) as refused:
        check_request(request)  # type: ignore[arg-type]
    return [violation.field for violation in refused.value.violations]


def _book(**fields: object) -> catalog_pb2.CreateBookRequest:
    return catalog_pb2.CreateBookRequest(book=catalog_pb2.Book(**fields))


C1_AND_BIDI = ["\x80", "\x85next", "\x9b31mred", "\x9f", "\u202aa", "\u202eevil", "a\u2066b", "\u2069"]
"""C1 controls (U+009B: the 8-bit CSI some terminals honour) and bidi embeddings, overrides and isolates
(U+202E turns a display name around in mails and the audit log)."""
LEGITIMATE = (
    "Война и мир · الحرب والسلام\u200f · מלחמה ושלום\u200e · 戦争と平和 · Cafe\u0301 · 👨\u200d👩\u200d👧 · "
    "non\u00a0breaking · soft\u00adhyphen · line\u2028break · ÿ À ß ©"
)


@pytest.mark.parametrize("bad", ["\x00", "a\x00b", "\x1b[31m", "\x7f", "bell\x07", *C1_AND_BIDI])
def test_control_characters_are_refused_naming_the_field(bad: str) -> None:
    assert _fields(users_pb2.LoginRequest(email=bad, password="x")) == ["email"]


@pytest.mark.parametrize("bad", C1_AND_BIDI)
def test_c1_controls_and_bidi_overrides_are_refused_in_a_large_request_too(bad: str) -> None:
    """A request of 2 KiB or more is checked column by column first: the same characters are found."""
    assert _fields(_book(title="A", description="x" * 3000, authors=["ok", f"Gogol{bad}"])) == ["book.authors[1]"]


def test_legitimate_unicode_is_text_in_small_and_large_requests() -> None:
    check_request(_book(title=LEGITIMATE, authors=[LEGITIMATE]))
    check_request(_book(title=LEGITIMATE, description=LEGITIMATE * 20, authors=[LEGITIMATE] * 5))


def test_tabs_and_line_breaks_are_text() -> None:
    check_request(_book(title="A", description="line one\nline two\r\n\tindented"))


def test_strings_and_lists_are_capped_and_each_offender_is_named_with_its_path() -> None:
    too_long = "x" * (DEFAULT_MAX_LENGTH + 1)
    assert _fields(_book(title=too_long, authors=["ok", "bad\x00"])) == ["book.title", "book.authors[1]"]
    assert _fields(_book(title="A", authors=["a"] * (DEFAULT_MAX_ITEMS + 1))) == ["book.authors"]


def test_maps_are_capped_and_their_keys_and_values_checked() -> None:
    event = events_pb2.Event(type="web.search", attributes={"ok": "fine", "k\x00": "v", "q": "\x00"})
    assert sorted(_fields(events_pb2.RecordEventRequest(event=event))) == [
        "event.attributes key",
        "event.attributes['q']",
    ]


def test_an_impossible_timestamp_is_refused() -> None:
    event = events_pb2.Event(type="web.search", occur_time=Timestamp(seconds=253_402_300_800))
    assert _fields(events_pb2.RecordEventRequest(event=event)) == ["event.occur_time"]
    check_request(events_pb2.RecordEventRequest(event=events_pb2.Event(occur_time=Timestamp(seconds=0))))


@pytest.mark.parametrize(
    ("seconds", "nanos", "stored"),
    [
        (-62_135_596_800, 0, False),  # 0001-01-01T00:00:00Z: Python's datetime.min, Postgres's -infinity
        (-62_135_596_800, 999, False),  # the same microsecond
        (-62_135_596_800, 1000, True),
        (253_402_300_799, 999_998_999, True),
        (253_402_300_799, 999_999_000, False),  # 9999-12-31T23:59:59.999999Z: datetime.max, infinity
        (253_402_300_799, 999_999_999, False),  # the largest Timestamp
    ],
)
def test_the_calendars_first_and_last_microsecond_are_refused(seconds: int, nanos: int, stored: bool) -> None:
    """asyncpg writes them as Postgres's infinities and reads them back naive: a membership set to expire at
    the last one failed every later read of that account (INTERNAL)."""
    request = events_pb2.RecordEventRequest(event=events_pb2.Event(occur_time=Timestamp(seconds=seconds, nanos=nanos)))
    if stored:
        check_request(request)
    else:
        with pytest.raises(InvalidArgument, match=r"event\.occur_time"):
            check_request(request)


def test_a_flood_of_bad_fields_is_reported_in_part_and_never_echoed() -> None:
    bad = "secret\x00" * 3
    with pytest.raises(InvalidArgument) as refused:
        check_request(_book(title="A", authors=[bad] * 50, subjects=[bad] * 50))
    assert len(refused.value.violations) == MAX_VIOLATIONS
    assert "secret" not in str(refused.value)


def test_a_clean_request_passes() -> None:
    check_request(_book(title="Мастер и Маргарита", authors=["Михаил Булгаков"], language="ru"))
