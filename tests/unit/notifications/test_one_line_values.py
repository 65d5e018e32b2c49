# ruff: noqa: RUF001  (Russian titles are not homoglyph attacks)
"""A display name or a title stored with a line break (before the users and catalog services refused one) is
shown as one line: a space in the letter's greeting and text, in its HTML part and in the SMS; a staff
message's body keeps its lines."""

from __future__ import annotations

import uuid

from services.notifications.app import sending
from services.notifications.domain.kinds import Channel, Kind
from services.support.runtime.text import one_line

from .conftest import RULES
from .fake_peers import FakeCatalog
from .fakes import recipient
from .test_intake import _take, hold_ready

NAME = "Bob\r\nBcc: victim@evil.org\r\nX-Injected: yes"
TITLE = "Война и мир\r\nSubject: injected\tчасть\x07 1"


async def test_a_name_and_a_title_stored_with_line_breaks_are_told_on_one_line(db, clock, renderer) -> None:
    bob = recipient(display_name=NAME)
    db.recipients[bob.user_id] = bob
    catalog = FakeCatalog({"books/b1": TITLE})
    email, sms = sorted((await _take(db, clock, renderer, catalog, hold_ready(bob))).queued, key=lambda n: n.channel)
    assert email.content.text.startswith("Dear Bob Bcc: victim@evil.org X-Injected: yes,\n\n")
    assert "“Война и мир Subject: injected часть 1”, which you reserved" in email.content.text
    assert "<br>" not in email.content.html and "Bob Bcc: victim@evil.org X-Injected: yes," in email.content.html
    assert "«Война и мир" not in sms.content.text and '"Война' not in sms.content.text  # English, UCS-2 title
    assert "“Война и мир Subject: injected часть 1”" in sms.content.text
    assert "\r" not in sms.content.text and "\n" not in sms.content.text
    assert email.params["display_name"] == "Bob Bcc: victim@evil.org X-Injected: yes"


def test_a_staff_message_keeps_its_lines_but_not_the_name_its_greeting_shows() -> None:
    params = sending._params(
        sending.SendMessage(recipient_id=uuid.uuid4(), channel=Channel.EMAIL, subject="Closed", body="Line 1\nLine 2"),
        Kind.MESSAGE,
        Channel.EMAIL,
        display_name=NAME,
        library=RULES.library_name,
    )
    assert params["body"] == "Line 1\nLine 2" and params["display_name"] == "Bob Bcc: victim@evil.org X-Injected: yes"


def test_one_line_makes_each_run_of_control_characters_one_space() -> None:
    assert one_line(" a \r\n\t b\x07c\u2028d ") == "a b c d"
