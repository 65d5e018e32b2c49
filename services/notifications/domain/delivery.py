"""How delivery is retried and when an SMS may go out: backoff with jitter, the last try, quiet hours and the
per-recipient SMS limit. What a channel answered is one of three outcomes. Pure."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True, slots=True)
class Sent:
    """The mail server or the provider accepted the message, under this id."""

    provider_message_id: str


@dataclass(frozen=True, slots=True)
class Failed:
    """It refused this message: for now (`transient`: a 4xx reply, a 5xx or 429 from the provider) or for good.
    A transient one may say how long to wait at least (`retry_after`): the provider's Retry-After, or the wait
    after an attempt whose outcome is unknown (the message may have been delivered: no quick second copy)."""

    reason: str
    transient: bool
    retry_after: timedelta | None = None


Outcome = Sent | Failed

UNKNOWN_OUTCOME_WAIT = timedelta(minutes=5)
"""The least wait before a message whose outcome is unknown (sent, and no answer came) is sent again: it may
have been delivered, so never a quick second copy."""

MAX_REASON = 200
_EMAIL = re.compile(r"[^\s<>\"'(),;:@]+@[^\s<>\"'(),;:@]+")
_PHONE = re.compile(r"\+\d[\d\s().-]{5,}\d|\b\d{9,}\b")
"""An international number (+ and 7 or more digits, however grouped), or a long run of digits; SMTP reply codes
(550 5.1.1) and provider error codes (21211) are shorter and stay."""


def redacted(reason: str, address: str = "") -> str:
    """A channel's refusal as it may be kept (in the notification, and so in the audit trail, which keeps it for
    good): without the recipient's address nor any email address or phone number (a real mail server says
    "<reader@example.org>: Recipient address rejected", a provider "The 'To' number +1555… is not valid"), and
    short."""
    if address:
        reason = re.sub(re.escape(address), "[address]", reason, flags=re.IGNORECASE)
    reason = _PHONE.sub("[number]", _EMAIL.sub("[address]", reason))
    return reason if len(reason) <= MAX_REASON else reason[: MAX_REASON - 1] + "…"


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Tries per notification, and the wait before each next one: base * 2**(try-1), capped, with full
    jitter (a random share of it) so many failed messages do not come back at the same moment.

    A temporary refusal means "try later" (an SMTP 4xx: greylisting holds a first mail back for minutes, a
    full mailbox for hours; RFC 5321 §4.5.4.1 keeps trying for days), so the defaults keep trying for up to
    about a day: 2 s doubling to an hour, 35 tries (`span`: 24 h; the jitter makes it 12-24 h)."""

    max_attempts: int = 35
    base: timedelta = timedelta(seconds=2)
    cap: timedelta = timedelta(hours=1)

    def ceiling(self, attempts: int) -> timedelta:
        """The longest wait after `attempts` tries."""
        return min(self.cap, self.base * (1 << min(max(attempts - 1, 0), 30)))

    def delay(self, attempts: int, *, rng: random.Random | None = None) -> timedelta:
        share = (rng or random).uniform(0.5, 1.0)
        return self.ceiling(attempts) * share

    @property
    def span(self) -> timedelta:
        """The longest time from the first try to the last (each wait at its ceiling)."""
        return sum((self.ceiling(attempt) for attempt in range(1, self.max_attempts)), timedelta())


@dataclass(frozen=True, slots=True)
class SmsPolicy:
    """No more than `max_per_hour` routine SMS go out to one recipient nor to one phone number in an hour (many
    accounts may give the same unverified number): the rest wait for a later slot, they are not dropped. Urgent
    kinds (KindSpec.urgent: a hold ready, a security notice) are never held back by the limit. None go out
    between `quiet_start` and `quiet_end` in the recipient's time zone (they wait until the quiet hours end)."""

    max_per_hour: int = 5
    quiet_start: time | None = time(22, 0)
    quiet_end: time | None = time(8, 0)
    window: timedelta = timedelta(hours=1)
    """What the limit counts: SMS actually sent this long before now (one only queued for the morning is not)."""
    max_segments: int = 2
    """Segments (each billed) a notice's SMS may take: its long values (a title) are shortened to fit."""

    def not_before(self, now: datetime, zone: ZoneInfo) -> datetime:
        """`now`, or the end of the quiet hours if `now` falls in them (in the recipient's zone)."""
        if self.quiet_start is None or self.quiet_end is None or self.quiet_start == self.quiet_end:
            return now
        local = now.astimezone(zone)
        start, end = self.quiet_start, self.quiet_end
        clock = local.time()
        quiet = (start <= clock or clock < end) if start > end else (start <= clock < end)
        if not quiet:
            return now
        end_day = local.date() + timedelta(days=1) if start > end and clock >= start else local.date()
        return datetime.combine(end_day, end, tzinfo=zone).astimezone(now.tzinfo)

    def over_limit(self, sent_in_window: int) -> bool:
        return sent_in_window >= self.max_per_hour

    def next_slot(self, now: datetime) -> datetime:
        """When an SMS held back by the limit is tried again (the limit is checked again then)."""
        return now + self.window / self.max_per_hour
