"""A template's cost is bounded where it is rendered, whatever values it meets: a template that branches on a
value cannot pass the trial with the cheap branch and take the costly one when it is sent."""

from __future__ import annotations

import time
import uuid
from dataclasses import replace

import pytest

from services.notifications.app import sending
from services.notifications.app.ports import RenderFailed
from services.notifications.data.rendering import JinjaRenderer
from services.notifications.domain.kinds import Channel, Kind
from services.notifications.domain.templates import Template

from .conftest import RULES
from .fakes import recipient

BRANCHES = "{% if body|first != 'x' %}{{ body * 300000 }}{% else %}{{ body }}{% endif %}"
LOOPS = "{% for p in body %}{% for q in body %}{% for r in body %}{% endfor %}{% endfor %}{% endfor %}{{ body }}"
JOINS = "{{ body|join(body)|join(body) }}"
REPLACES = "{{ body|replace('o', body)|replace('o', body) }}"
WIDENS = "{{ body|center(1000000000) }}"


def _message(db, body: str) -> Template:
    """The English email `message` template with this body, stored as an edit (the trial bypassed)."""
    stored = db.templates["message_email_en"]
    return replace(stored, body=f"Dear {{{{ display_name }}}},\n\n{body}\n\n— {{{{ library_name }}}}", version=2)


@pytest.mark.parametrize(
    ("body", "value"),
    [(BRANCHES, "Closed Monday"), (LOOPS, "o" * 100), (JOINS, "o" * 300), (REPLACES, "o" * 300),
     (WIDENS, "Closed")],
    ids=["repeats-a-value", "nested-loops", "joins-a-value", "replaces-in-a-value", "widens-a-value"],
)  # fmt: skip
def test_a_costly_render_fails_fast_and_small_whatever_the_values(db, renderer: JinjaRenderer, body, value) -> None:
    # The render's own CPU time, not the wall clock's: a loaded machine stretches the wall clock, not the cost.
    started = time.thread_time()
    with pytest.raises(RenderFailed):
        renderer.render(_message(db, body), {"display_name": "Ada", "library_name": "L", "subject": "s", "body": value})
    assert time.thread_time() - started < 1.0


async def test_a_message_whose_template_costs_too_much_goes_out_in_the_built_in_words(db, clock, renderer) -> None:
    ada = recipient(sms_opt_in=False)
    db.recipients[ada.user_id] = ada
    db.templates["message_email_en"] = _message(db, BRANCHES)
    command = sending.SendMessage(
        ada.user_id, Channel.EMAIL, template=(Kind.MESSAGE, Channel.EMAIL, "en"),
        params={"subject": "Closed", "body": "Closed Monday"}, request_id=uuid.uuid4(),
    )  # fmt: skip
    sent = await sending.send_message(command, uow=db.unit_of_work(), clock=clock, renderer=renderer, rules=RULES)
    assert sent.content.template_version == 1 and "Closed Monday" in sent.content.text
    assert len(sent.content.text) < 1_000


async def test_an_edit_that_branches_on_a_value_meets_its_costly_branch_in_the_trial(db, renderer) -> None:
    problems = await renderer.problems(_message(db, BRANCHES))
    assert [problem.part for problem in problems] == ["body_template"]


async def test_ordinary_templates_still_render_and_pass(db, renderer) -> None:
    everyday = (
        "{% for word in body.split() %}{{ word|capitalize }} {% endfor %}{{ '-' * 40 }} {{ '%-10s|' % display_name }}"
        "{{ '{:>20}'.format(library_name) }} {{ body|truncate(50)|center(60) }} {{ body|replace('a', 'b') }}"
    )
    assert await renderer.problems(_message(db, everyday)) == []
    values = {"display_name": "Ada", "library_name": "L", "subject": "s", "body": "closed on monday " * 100}
    assert "Closed On Monday" in renderer.render(_message(db, everyday), values).text
