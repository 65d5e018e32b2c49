"""The wording of one kind of notification on one channel in one language, and what makes an edit of it
acceptable. Whether Jinja2 compiles it is asked of the renderer (a port); the rules of what a template may
use are here. Pure."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime

from services.notifications.domain.kinds import KINDS, Channel, Kind
from services.notifications.domain.wording import LOCALES
from services.support.runtime.errors import FieldViolation, InvalidArgument, NotFound
from services.support.runtime.events import DomainEvent
from services.support.runtime.versioning import Versioned

COLLECTION = "notificationTemplates"
_ID = re.compile(r"^([a-z_]+)_(email|sms)_([a-z]{2})$")
MAX_SUBJECT_TEMPLATE = 1_000
MAX_BODY_TEMPLATE = 50_000
MAX_SMS_LENGTH = 1_600
"""What SMS providers accept in one message (split into parts on the way): an SMS template's text too."""
PARTS = ("subject_template", "body_template", "html_body_template")


def template_id(kind: Kind, channel: Channel, locale: str) -> str:
    return f"{kind.value}_{channel.value}_{locale}"


def parse_template_name(name: str, *, field: str = "name") -> tuple[Kind, Channel, str]:
    """notificationTemplates/hold_ready_email_en -> (HOLD_READY, EMAIL, "en")."""
    prefix, _, raw = name.partition("/")
    match = _ID.match(raw) if prefix == COLLECTION else None
    if match is not None and match.group(1) in Kind._value2member_map_ and match.group(3) in LOCALES:
        return Kind(match.group(1)), Channel(match.group(2)), match.group(3)
    raise InvalidArgument.field(field, f"must look like {COLLECTION}/<kind>_<email|sms>_<{'|'.join(LOCALES)}>")


@dataclass(frozen=True, slots=True)
class TemplateProblem:
    """Where a template is wrong: which part, which line (1-based; 0 when it is not about a line), what."""

    part: str
    line: int
    message: str

    def violation(self, prefix: str) -> FieldViolation:
        where = f"line {self.line}: " if self.line else ""
        return FieldViolation(f"{prefix}{self.part}", f"{where}{self.message}")


@dataclass(frozen=True, slots=True)
class Template(Versioned):
    kind: Kind
    channel: Channel
    locale: str
    subject: str
    body: str
    html: str
    version: int
    updated_at: datetime
    updated_by: str = ""
    """"users/{user}": who made this version ("" for a built-in one)."""
    events: list[DomainEvent] = field(default_factory=list, compare=False, repr=False)

    @property
    def id(self) -> str:
        return template_id(self.kind, self.channel, self.locale)

    @property
    def name(self) -> str:
        return f"{COLLECTION}/{self.id}"

    @property
    def available(self) -> frozenset[str]:
        return KINDS[self.kind].variables

    def parts(self) -> dict[str, str]:
        return {"subject_template": self.subject, "body_template": self.body, "html_body_template": self.html}

    def edited(self, changes: dict[str, str], *, now: datetime, by: str = "") -> Template:
        """A new version with the changed parts, made `by` someone; sizes and channel rules checked (compiling
        is the renderer's)."""
        unknown = set(changes) - set(PARTS)
        if unknown:
            raise InvalidArgument.field("update_mask", f"not writable: {', '.join(sorted(unknown))}")
        updated = replace(
            self,
            subject=changes.get("subject_template", self.subject),
            body=changes.get("body_template", self.body),
            html=changes.get("html_body_template", self.html),
            version=self.version + 1,
            updated_at=now,
            updated_by=by,
            events=[],
        )
        if violations := updated.violations():
            raise InvalidArgument(violations)
        # The event holds a copy without events: the version it announces, and no cycle to collect.
        return replace(updated, events=[TemplateUpdated(occurred_at=now, template=updated)])

    def violations(self, prefix: str = "notification_template.") -> list[FieldViolation]:
        found: list[FieldViolation] = []
        if not self.body.strip():
            found.append(FieldViolation(f"{prefix}body_template", "must not be empty"))
        if len(self.subject) > MAX_SUBJECT_TEMPLATE:
            found.append(
                FieldViolation(f"{prefix}subject_template", f"must be at most {MAX_SUBJECT_TEMPLATE} characters")
            )
        for part, text in (("body_template", self.body), ("html_body_template", self.html)):
            if len(text) > MAX_BODY_TEMPLATE:
                found.append(FieldViolation(f"{prefix}{part}", f"must be at most {MAX_BODY_TEMPLATE} characters"))
        if self.channel == Channel.EMAIL and not self.subject.strip():
            found.append(FieldViolation(f"{prefix}subject_template", "an email needs a subject"))
        if self.channel == Channel.SMS and len(self.body) > MAX_SMS_LENGTH:
            found.append(FieldViolation(f"{prefix}body_template", f"an SMS is at most {MAX_SMS_LENGTH} characters"))
        if self.channel == Channel.SMS and (self.subject or self.html):
            part = "subject_template" if self.subject else "html_body_template"
            found.append(FieldViolation(f"{prefix}{part}", "an SMS has only a body"))
        return found


def refuse(problems: list[TemplateProblem], *, prefix: str = "notification_template.") -> None:
    """Raise one InvalidArgument naming every problem the renderer found (part and line)."""
    if problems:
        raise InvalidArgument([problem.violation(prefix) for problem in problems])


class TemplateNotFound(NotFound):
    def __init__(self, name: str) -> None:
        super().__init__(name, f"{name} not found")


@dataclass(frozen=True, kw_only=True, slots=True)
class TemplateUpdated(DomainEvent):
    """A new version of a template's wording is in use (for the audit trail: what changed, and who did it)."""

    template: Template
