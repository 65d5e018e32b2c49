"""`athenaeum events tail`: one event, one line, whatever a client put in its values."""

from __future__ import annotations

import io

from rich.console import Console

from athenaeum.events.v1 import events_pb2
from services.events.cli import line, show

FORGED = "ok\n14:35:09.785 athenaeum.users.user_role_changed users/admin → users/smsu user.role=USER_ROLE_ADMIN"


def printed(event: events_pb2.Event, *, terminal: bool = False) -> str:
    out = io.StringIO()
    show(Console(file=out, width=80, force_terminal=terminal, color_system=None), event)
    return out.getvalue()


def search(**attributes: str) -> events_pb2.Event:
    event = events_pb2.Event(name="events/x", type="web.search", category=1, actor="users/smsu", attributes=attributes)
    event.occur_time.FromSeconds(1_796_000_000)
    return event


def test_a_value_with_line_breaks_cannot_print_a_line_of_its_own() -> None:
    for value in (FORGED, FORGED.replace("\n", "\r"), FORGED.replace("\n", "\u2028"), FORGED.replace("\n", "\x85")):
        for terminal in (False, True):
            shown = printed(search(q=value, page="1"), terminal=terminal)
            assert shown.count("\n") == 1 and shown.endswith("\n"), shown  # one line, however long
            assert "ACTIVITY" in shown and "q='ok\\" in shown


def test_control_and_bidi_characters_are_escaped_and_a_value_cannot_pass_for_another_attribute() -> None:
    shown = line(search(q="\u202eevil", c1="\x9b31mred", tab="a\tb", fake="x role='ADMIN'"))
    assert "\\u202e" in shown and "\\x9b" in shown and "\\t" in shown
    assert not any(ch in shown for ch in "\u202e\x9b\t")
    assert "fake=\"x role='ADMIN'\"" in shown  # quoted whole: visibly one value


def test_the_category_is_shown() -> None:
    audit = search()
    audit.category = events_pb2.EVENT_CATEGORY_AUDIT
    assert " AUDIT " in printed(audit) and " ACTIVITY " in printed(search())
