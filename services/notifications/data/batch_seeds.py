# ruff: noqa: E501  (template lines read best unbroken)
"""The wording of a message naming several notices of one kind (domain/batches.py): built in, in English and
Russian, for each batched kind. Staff edit the wording of a single notice; a batch's is not stored (its lines
come from `book_list`, one per book, made in domain/batches.py)."""

from __future__ import annotations

from services.notifications.data.template_seeds import _HTML, SEEDED_AT
from services.notifications.data.template_words import BRANCH, GREETING, SIGN_OFF
from services.notifications.domain.kinds import KINDS, Channel, Kind
from services.notifications.domain.templates import Template, template_id

# kind -> locale -> (subject, opening line, closing line ("" for none), SMS)
_WORDS: dict[Kind, dict[str, tuple[str, str, str, str]]] = {
    Kind.LOAN_ISSUED: {
        "en": ("You borrowed {{ book_count_words }}", "You borrowed {{ book_count_words }}" + BRANCH["en"] + ":",
               "Each is due back by the date beside it.",
               "{{ library_name }}: you borrowed {{ book_count_words }}{% if due_date %}, due {{ due_date }}{% endif %}: {{ book_titles }}."),
        "ru": ("Выдача: {{ book_count_words }}", "Вы взяли книги" + BRANCH["ru"] + " ({{ book_count_words }}):",
               "Каждую нужно вернуть до указанной рядом даты.",
               "{{ library_name }}: выдача ({{ book_count_words }}){% if due_date %}, срок возврата {{ due_date }}{% endif %}: {{ book_titles }}."),
    },
    Kind.LOAN_RENEWED: {
        "en": ("{{ book_count_words }} renewed", "These {{ book_count_words }} were renewed:", "",
               "{{ library_name }}: {{ book_count_words }} renewed{% if due_date %}, now due {{ due_date }}{% endif %}: {{ book_titles }}."),
        "ru": ("Продление: {{ book_count_words }}", "Продлён срок возврата ({{ book_count_words }}):", "",
               "{{ library_name }}: продление ({{ book_count_words }}){% if due_date %} до {{ due_date }}{% endif %}: {{ book_titles }}."),
    },
    Kind.DUE_SOON: {
        "en": ("{{ book_count_words }} due soon", "A reminder: these {{ book_count_words }} are due back soon:",
               "Return them" + BRANCH["en"] + ", or renew online those that may be renewed.",
               "{{ library_name }}: {{ book_count_words }} due {% if due_date %}{{ due_date }}{% else %}soon{% endif %}: {{ book_titles }}."),
        "ru": ("Скоро срок возврата: {{ book_count_words }}", "Напоминаем: скоро нужно вернуть книги ({{ book_count_words }}):",
               "Верните их" + BRANCH["ru"] + " или продлите онлайн те, что можно продлить.",
               "{{ library_name }}: скоро срок возврата ({{ book_count_words }}){% if due_date %}, до {{ due_date }}{% endif %}: {{ book_titles }}."),
    },
    Kind.OVERDUE: {
        "en": ("Overdue: {{ book_count_words }}", "These {{ book_count_words }} are overdue:",
               "Please return them" + BRANCH["en"] + " as soon as you can; fines may apply.",
               "{{ library_name }}: {{ book_count_words }} overdue: {{ book_titles }}. Please return them."),
        "ru": ("Просрочен возврат: {{ book_count_words }}", "Просрочен возврат ({{ book_count_words }}):",
               "Пожалуйста, верните их" + BRANCH["ru"] + " как можно скорее; может начисляться штраф.",
               "{{ library_name }}: просрочен возврат ({{ book_count_words }}): {{ book_titles }}. Верните книги."),
    },
}  # fmt: skip


def _email(kind: Kind, locale: str) -> Template:
    subject, opening, closing, _ = _WORDS[kind][locale]
    paragraphs = [opening, "{{ book_list }}", *([closing] if closing else [])]
    text = "\n\n".join([GREETING[locale], *paragraphs, SIGN_OFF[locale]])
    html = _HTML.format(
        locale=locale,
        greeting=GREETING[locale],
        paragraphs="\n".join(f"<p>{paragraph}</p>" for paragraph in paragraphs),  # book_list's lines become <br>
        sign_off=SIGN_OFF[locale],
    )
    return Template(kind, Channel.EMAIL, locale, subject, text, html, version=1, updated_at=SEEDED_AT)


def _sms(kind: Kind, locale: str) -> Template:
    return Template(kind, Channel.SMS, locale, "", _WORDS[kind][locale][3], "", version=1, updated_at=SEEDED_AT)


BATCH_TEMPLATES: dict[str, Template] = {
    template_id(kind, channel, locale): (_email if channel == Channel.EMAIL else _sms)(kind, locale)
    for kind in Kind
    if KINDS[kind].batched
    for locale in ("en", "ru")
    for channel in KINDS[kind].channels
}
