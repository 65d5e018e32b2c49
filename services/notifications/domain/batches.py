"""Notices of one reader gathered into one message (finding N5): the loan notices of one kind on one channel
made within the batch window (renewing twenty books at once, the overdue step of a class's loans) go out as
one letter, one SMS, listing the books, where each used to be a message of its own. Every notice keeps its
row (the API, the audit trail); the message names them all and each row records the same outcome. Pure."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime

from services.notifications.domain.kinds import KINDS, Channel, Kind
from services.notifications.domain.notifications import Notification
from services.notifications.domain.sms_text import shortened
from services.notifications.domain.wording import Titles

MAX_BATCH = 50
"""Books one message names at most: a reader with 200 overdue loans gets four letters, not one very long one."""
SMS_TITLES = 3
"""Titles an SMS names at most before "and 17 more" (the count leads it; fewer when they do not fit)."""
TITLE_IN_LIST = 40
"""Characters of each title `book_titles` names (an SMS's list): a long first title leaves room for others."""
_BATCH = uuid.UUID("6f0c1b52-3d5e-4f0a-9a43-0a6f5e2b7c11")
"""Namespace of a batch's id: the same notices make the same id, so a resend has the same Message-ID."""

Key = tuple[uuid.UUID, Kind, Channel, str, str]


def key(n: Notification) -> Key:
    """What notices share to go out as one message: reader, kind, channel, address and language."""
    return (n.recipient_id, n.kind, n.channel, n.address, n.content.locale)


def batches(notifications: Iterable[Notification], *, max_size: int = MAX_BATCH) -> list[list[Notification]]:
    """The notifications as messages: those of a batched kind sharing a `key` together (oldest first, at most
    `max_size` each), every other one alone. The order is fixed by the notices, so claiming the same notices
    again (after a crash) makes the same batches."""
    groups: dict[Key, list[Notification]] = defaultdict(list)
    alone: list[list[Notification]] = []
    for n in notifications:
        if KINDS[n.kind].batched:
            groups[key(n)].append(n)
        else:
            alone.append([n])
    together: list[list[Notification]] = []
    for members in groups.values():
        members.sort(key=_order)
        together.extend(members[start : start + max_size] for start in range(0, len(members), max_size))
    return together + alone


def _order(n: Notification) -> tuple[datetime, datetime, str]:
    """Oldest first: by when it was made, then by the event (the order the books were renewed in)."""
    return (n.created_at, n.event_at or n.created_at, str(n.id))


def batch_id(members: Sequence[Notification]) -> uuid.UUID:
    """The message's id: a notice's own when alone, else made from all of them (a different set of notices is
    a different message, so a receiving system never drops a letter naming a book the first one did not)."""
    if len(members) == 1:
        return members[0].id
    return uuid.uuid5(_BATCH, ",".join(sorted(str(n.id) for n in members)))


def books(count: int, locale: str) -> str:
    """ "1 book", "3 books"; «1 книга», «2 книги», «5 книг», «21 книга», «12 книг»."""
    if locale != "ru":
        return f"{count} book" if count == 1 else f"{count} books"
    last, last_two = count % 10, count % 100
    if last == 1 and last_two != 11:
        return f"{count} книга"
    if 2 <= last <= 4 and not 12 <= last_two <= 14:
        return f"{count} книги"
    return f"{count} книг"


_ITEMS: dict[str, dict[Kind, str]] = {
    "en": {
        Kind.LOAN_ISSUED: "“{book_title}” (barcode {barcode}), due {due_date}",
        Kind.LOAN_RENEWED: "“{book_title}”, now due {due_date} (was {previous_due_date})",
        Kind.DUE_SOON: "“{book_title}” (barcode {barcode}), due {due_date}",
        Kind.OVERDUE: "“{book_title}” (barcode {barcode}), due {due_date}, {overdue_days} day(s) late",
    },
    "ru": {
        Kind.LOAN_ISSUED: "«{book_title}» (штрихкод {barcode}), вернуть до {due_date}",
        Kind.LOAN_RENEWED: "«{book_title}», теперь до {due_date} (было {previous_due_date})",
        Kind.DUE_SOON: "«{book_title}» (штрихкод {barcode}), вернуть до {due_date}",
        Kind.OVERDUE: "«{book_title}» (штрихкод {barcode}), срок {due_date}, просрочка {overdue_days} дн.",
    },
}
"""One line of a letter's list of books, by language and kind, from the notice's own values."""


def item(n: Notification, locale: str) -> str:
    line = _ITEMS["ru" if locale == "ru" else "en"][n.kind]
    return "- " + line.format_map(defaultdict(str, n.params))


def _loan(n: Notification) -> str:
    """The loan a notice is about: its `about` where it has one (reminders), else its copy's barcode (a copy is
    on one loan at a time; issue and renewal notices name no loan), else the notice itself."""
    barcode = n.params.get("barcode", "")
    return n.about or (f"copy:{barcode}" if barcode else f"notice:{n.id}")


def per_loan(members: Sequence[Notification]) -> list[Notification]:
    """One notice per loan, in the order the loans first came: a loan told of twice in the window ("Renew all"
    pressed twice) is the latest notice, with its facts (the latest due date) and, for a renewal, the due date
    it had before the first ("was"), so the book is listed and counted once."""
    by_loan: dict[str, list[Notification]] = defaultdict(list)
    for n in members:
        by_loan[_loan(n)].append(n)
    return [_merged(notices) for notices in by_loan.values()]


def _merged(notices: list[Notification]) -> Notification:
    earliest, latest = notices[0], notices[-1]
    if len(notices) == 1 or "previous_due_date" not in earliest.params:
        return latest
    return replace(latest, params={**latest.params, "previous_due_date": earliest.params["previous_due_date"]})


def _short(title: str) -> str:
    return shortened(title, TITLE_IN_LIST) if len(title) > TITLE_IN_LIST else title


def sms_titles(members: Sequence[Notification]) -> Titles:
    """The titles an SMS names, each book once: `book_titles` is their words; an SMS over its segments names
    fewer (`Titles.within`)."""
    return Titles(tuple(_short(n.params.get("book_title", "")) for n in per_loan(members)), SMS_TITLES)


def batch_params(members: Sequence[Notification], locale: str) -> dict[str, str]:
    """The first notice's values, and the batch's: how many books (in words), their titles (the first few, for
    an SMS), a line for each (for a letter), and the due date only when all share it (else ""); each book
    once (`per_loan`)."""
    first, loans = members[0], per_loan(members)
    due = {n.params.get("due_date", "") for n in loans}
    return {
        **first.params,
        "book_count": str(len(loans)),
        "book_count_words": books(len(loans), locale),
        "book_titles": sms_titles(members).words(locale),
        "book_list": "\n".join(item(n, locale) for n in loans),
        "due_date": due.pop() if len(due) == 1 else "",
    }
