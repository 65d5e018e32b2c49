"""The one message a batch of notices goes out as (domain/batches.py): worded from the built-in batch
templates in the notices' language, sent once under the batch's id (its Message-ID, its SMS idempotency
key); each notice's row records the outcome."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import partial

from services.notifications.app.ports import TemplateRenderer
from services.notifications.app.words import word
from services.notifications.domain.batches import batch_id, batch_params, per_loan, sms_titles
from services.notifications.domain.notifications import Notification
from services.notifications.domain.templates import Template
from services.notifications.domain.wording import FALLBACK_LOCALE


@dataclass(frozen=True, slots=True)
class BatchWriter:
    templates: Mapping[str, Template]
    """The batch wording by template id (data/batch_seeds.py)."""
    renderer: TemplateRenderer
    max_segments: int = 2
    """Of an SMS (settings.sms_max_segments): the titles are shortened to fit."""

    def builtin(self, template_id: str) -> Template | None:
        return self.templates.get(template_id)

    def message(self, members: Sequence[Notification]) -> Notification:
        """What is sent for the members: the only one as it is; several as the first one's notification with
        the batch's id, values and words (raises RenderFailed when no batch wording renders). Notices of one
        loan only (renewed twice) are the latest one's message under the batch's id: "1 book renewed" says less."""
        first, loans = members[0], per_loan(members)
        if len(members) == 1:
            return first
        if len(loans) == 1:
            return replace(members[-1], id=batch_id(members), events=[])
        locale = first.content.locale or FALLBACK_LOCALE
        params = batch_params(members, locale)
        content = word(
            first.kind,
            first.channel,
            locale,
            params,
            templates=self.templates,
            store=self,
            renderer=self.renderer,
            max_segments=self.max_segments,
            shorter={"book_titles": partial(sms_titles(members).within, locale)},  # whole titles, the count kept
        )
        return replace(first, id=batch_id(members), content=content, params=params, events=[])
