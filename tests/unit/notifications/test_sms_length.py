"""An SMS is at most what a provider takes in one message (1,600 characters), whoever wrote its template."""

from __future__ import annotations

from dataclasses import replace

import pytest

from services.notifications.app import templating
from services.notifications.domain.kinds import Channel, Kind
from services.notifications.domain.sms_text import segments
from services.notifications.domain.templates import MAX_SMS_LENGTH
from services.support.runtime.errors import InvalidArgument

from .conftest import RULES
from .fake_peers import FakeCatalog
from .fakes import recipient
from .test_intake import _take, hold_ready

LONG = "{{ book_title }} " * 200  # 4,200 characters with a title of 20


async def test_an_sms_template_longer_than_an_sms_is_refused(db, clock, renderer) -> None:
    edit = templating.UpdateTemplate(Kind.HOLD_READY, Channel.SMS, "en", {"body_template": "x" * 1_601})
    with pytest.raises(InvalidArgument) as error:
        await templating.update_template(edit, uow=db.unit_of_work(), clock=clock, renderer=renderer)
    assert [v.field for v in error.value.violations] == ["notification_template.body_template"]
    assert db.templates["hold_ready_sms_en"].version == 1


async def _sms(db, clock, renderer, catalog, title: str):
    ada = recipient()
    db.recipients[ada.user_id] = ada
    queued = (await _take(db, clock, renderer, FakeCatalog({"books/b1": title}), hold_ready(ada))).queued
    (sms,) = [n for n in queued if n.channel == Channel.SMS]
    return sms


async def test_a_stored_template_that_renders_too_long_an_sms_gives_way_to_the_built_in_one(
    db, clock, renderer, catalog
) -> None:
    stored = db.templates["hold_ready_sms_en"]
    db.templates["hold_ready_sms_en"] = replace(stored, body=LONG, version=2)  # stored before the rule
    sms = await _sms(db, clock, renderer, catalog, "A Tale of Two Cities")
    assert sms.content.template_version == 1 and len(sms.content.text) <= MAX_SMS_LENGTH
    assert "A Tale of Two Cities" in sms.content.text


async def test_an_sms_too_long_by_its_values_has_them_shortened_to_fit_its_segments(
    db, clock, renderer, catalog
) -> None:
    sms = await _sms(db, clock, renderer, catalog, "Tale " * 400)
    assert segments(sms.content.text) == RULES.sms.max_segments == 2
    assert sms.content.text.startswith('Test Library: "Tale Tale') and '..." is ready for pickup' in sms.content.text
