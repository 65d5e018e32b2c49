"""The notice of a hold staff cancelled while its copy was set aside (finding B6): says why when staff said,
and that the copy no longer waits, in English and Russian, by email and SMS."""

from __future__ import annotations

import pytest

from services.notifications.data.rendering import JinjaRenderer
from services.notifications.data.template_seeds import BUILTIN
from services.notifications.data.trial_render import inspected_in_process
from services.notifications.domain.kinds import KINDS, Kind

RENDERER = JinjaRenderer(inspection=inspected_in_process)


@pytest.mark.parametrize(
    ("locale", "cancelled", "not_waiting"),
    [("en", "cancelled your hold", "no longer set aside"), ("ru", "отменила вашу бронь", "больше не отложен")],
)
@pytest.mark.parametrize("reason", ["copy damaged", ""])
def test_a_cancelled_hold_s_notice_says_why_and_that_the_copy_no_longer_waits(
    locale: str, cancelled: str, not_waiting: str, reason: str
) -> None:
    params = {name: "" for name in KINDS[Kind.HOLD_CANCELLED].variables}
    params |= {"book_title": "Two Branches", "branch": "MAIN", "reason": reason}
    email = RENDERER.render(BUILTIN[f"hold_cancelled_email_{locale}"], params)
    assert cancelled in email.text and not_waiting in email.text and "Two Branches" in email.subject
    assert ("copy damaged" in email.text) == bool(reason) and "MAIN" in email.text
    sms = RENDERER.render(BUILTIN[f"hold_cancelled_sms_{locale}"], params)
    assert "Two Branches" in sms.text and ("copy damaged" in sms.text) == bool(reason)
