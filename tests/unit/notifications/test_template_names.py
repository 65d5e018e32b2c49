"""A template prints its kind's variables and nothing else: Jinja2's globals and the names it gives every
template (`self`, `loop`, …) are refused at edit time, and a stored template that reads one is not sent."""

from __future__ import annotations

from dataclasses import replace

import pytest

from services.notifications.app import templating
from services.notifications.app.words import word
from services.notifications.data.template_seeds import BUILTIN
from services.notifications.domain.kinds import Channel, Kind
from services.support.runtime.errors import InvalidArgument

from .fake_notification_repositories import FakeTemplates


@pytest.mark.parametrize(
    ("body", "name"),
    [
        ("Hi {{ lipsum }}", "lipsum"),
        ("Hi {{ range }}", "range"),
        ("Hi\n{{ self }}", "self"),
        ("{{ dict }} {{ cycler }}", "cycler"),
        ("{% set x = joiner %}{{ x }}", "joiner"),
        ("{% for c in book_title %}{{ loop }}{% endfor %}", "loop"),
        ("{% macro m() %}{{ varargs }}{% endmacro %}{{ m() }}", "m"),
    ],
)
async def test_an_edit_that_reads_a_name_the_kind_does_not_offer_is_refused(db, clock, renderer, body, name) -> None:
    command = templating.UpdateTemplate(Kind.HOLD_READY, Channel.EMAIL, "en", {"body_template": body})
    with pytest.raises(InvalidArgument) as error:
        await templating.update_template(command, uow=db.unit_of_work(), clock=clock, renderer=renderer)
    assert any(f"uses {name!r}" in v.description for v in error.value.violations)
    assert db.templates["hold_ready_email_en"].version == 1


async def test_an_edit_may_name_its_own_variables_and_use_filters(db, clock, renderer) -> None:
    body = "{% set title = book_title | upper %}{% for c in branch %}{{ c }}{% endfor %} {{ title | e }}"
    command = templating.UpdateTemplate(Kind.HOLD_READY, Channel.EMAIL, "en", {"body_template": body})
    updated = await templating.update_template(command, uow=db.unit_of_work(), clock=clock, renderer=renderer)
    assert updated.version == 2


def test_a_stored_template_that_prints_a_jinja_object_gives_way_to_the_built_in_one(renderer) -> None:
    stored = replace(BUILTIN["message_email_en"], body="{{ body }} {{ self }} {{ lipsum }}", version=2)
    templates = {stored.id: stored}
    content = word(
        Kind.MESSAGE, Channel.EMAIL, "en", {"subject": "s", "body": "Hello", "display_name": "Ada",
                                            "library_name": "L"},
        templates=templates, store=FakeTemplates(templates), renderer=renderer,
    )  # fmt: skip
    assert content.template_version == 1 and "Hello" in content.text
    assert "TemplateReference" not in content.text and "function" not in content.text


@pytest.mark.parametrize("locale", ["en", "ru"])
def test_a_paragraph_shown_only_sometimes_leaves_no_gap_when_it_is_not(renderer, locale: str) -> None:
    """A return without a fine left three blank lines (and an empty <p>) where the fine's paragraph would be."""
    returned = BUILTIN[f"loan_returned_email_{locale}"]
    values = {"display_name": "Ada", "book_title": "Dead Souls", "barcode": "B1", "library_name": "L"}
    without_fine = renderer.render(returned, {**values, "fine_amount": "", "overdue_days": "0"})
    assert "\n\n\n" not in without_fine.text and "<p></p>" not in without_fine.html
    with_fine = renderer.render(returned, {**values, "fine_amount": "1.50", "overdue_days": "3"})
    assert "1.50" in with_fine.text.split("\n\n")[2]
    assert with_fine.html.count("<p>") == without_fine.html.count("<p>") + 1
