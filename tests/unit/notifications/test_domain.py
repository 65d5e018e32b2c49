"""The pure rules: who wants what on which channel, quiet hours, backoff, a notification's life, wording."""

from __future__ import annotations

import random
from datetime import UTC, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from services.notifications.domain.delivery import Failed, RetryPolicy, Sent, SmsPolicy
from services.notifications.domain.kinds import Channel, Kind
from services.notifications.domain.notifications import Content, Notification, NotificationFailed, Status
from services.notifications.domain.recipients import AccountStatus, ChannelChoice, routes
from services.notifications.domain.wording import format_moment, locale_of, zone_of
from services.notifications.settings import NotificationsSettings
from services.support.runtime.errors import FailedPrecondition

from .conftest import NOON
from .fakes import recipient

POLICY = RetryPolicy(max_attempts=3)


def _channels(found: list) -> dict[Channel, str]:
    return {route.channel: route.suppress_reason for route in found}


def test_a_patron_gets_each_kind_on_the_channels_they_switched_on() -> None:
    assert _channels(routes(recipient(), Kind.HOLD_READY)) == {Channel.EMAIL: "", Channel.SMS: ""}
    assert _channels(routes(recipient(sms_opt_in=False), Kind.HOLD_READY)) == {Channel.EMAIL: ""}


def test_a_choice_for_one_kind_overrides_only_that_kind() -> None:
    ada = recipient(kinds={"hold_ready": ChannelChoice(email=True, sms=False)})
    assert _channels(routes(ada, Kind.HOLD_READY)) == {Channel.EMAIL: ""}
    assert _channels(routes(ada, Kind.OVERDUE)) == {Channel.EMAIL: "", Channel.SMS: ""}


def test_receipts_go_only_to_those_who_asked_for_them() -> None:
    assert routes(recipient(), Kind.LOAN_ISSUED) == []
    wants = recipient(kinds={"loan_issued": ChannelChoice(email=True, sms=False)})
    assert _channels(routes(wants, Kind.LOAN_ISSUED)) == {Channel.EMAIL: ""}


def test_security_notices_always_go_by_email() -> None:
    quiet = recipient(email_opt_in=False, sms_opt_in=False)
    assert _channels(routes(quiet, Kind.PASSWORD_CHANGED)) == {Channel.EMAIL: ""}


def test_a_wanted_channel_without_an_address_is_kept_as_suppressed_with_the_reason() -> None:
    assert _channels(routes(recipient(phone=""), Kind.OVERDUE))[Channel.SMS] == "no phone number"
    assert "E.164" in _channels(routes(recipient(phone="8-800"), Kind.OVERDUE))[Channel.SMS]
    closed = _channels(routes(recipient(status=AccountStatus.DEACTIVATED), Kind.OVERDUE))
    assert set(closed.values()) == {"the account is closed"}


@pytest.mark.parametrize(
    ("local", "expected_local"),
    [("12:00", "12:00"), ("23:30", "08:00+1"), ("03:00", "08:00"), ("22:00", "08:00+1"), ("08:00", "08:00")],
)
def test_an_sms_in_quiet_hours_waits_until_they_end_in_the_recipients_zone(local: str, expected_local: str) -> None:
    zone = ZoneInfo("Europe/Moscow")
    now = datetime.combine(NOON.date(), time.fromisoformat(local), tzinfo=zone)
    day, _, plus = expected_local.partition("+")
    expected = datetime.combine(NOON.date() + timedelta(days=int(plus or 0)), time.fromisoformat(day), tzinfo=zone)
    assert SmsPolicy().not_before(now.astimezone(UTC), zone) == expected


def test_no_quiet_hours_means_now() -> None:
    assert SmsPolicy(quiet_start=None, quiet_end=None).not_before(NOON, ZoneInfo("UTC")) == NOON


def test_backoff_grows_with_jitter_and_stops_at_the_cap() -> None:
    policy = RetryPolicy(base=timedelta(seconds=2), cap=timedelta(seconds=30))
    rng = random.Random(7)
    delays = [policy.delay(attempt, rng=rng) for attempt in (1, 2, 3, 10)]
    assert timedelta(seconds=1) <= delays[0] <= timedelta(seconds=2)
    assert timedelta(seconds=2) <= delays[1] <= timedelta(seconds=4)
    assert timedelta(seconds=4) <= delays[2] <= timedelta(seconds=8)
    assert delays[3] <= timedelta(seconds=30)


def _queued(policy: RetryPolicy = POLICY) -> Notification:
    content = Content("s", "t", "", "hold_ready_email_en", 1, "en")
    return Notification.queue(
        recipient_id=recipient().user_id, channel=Channel.EMAIL, address="a@b.org", kind=Kind.HOLD_READY,
        content=content, params={}, now=NOON, not_before=NOON, policy=policy,
    )  # fmt: skip


def test_a_temporary_refusal_is_tried_again_later_and_the_last_try_fails_for_good() -> None:
    n = _queued()
    for _ in range(POLICY.max_attempts - 1):
        n.record(Failed("451 busy", transient=True), now=NOON, policy=POLICY, not_before=NOON)
        assert n.status == Status.QUEUED and n.next_attempt_at > NOON and n.last_error.startswith("temporary")
    n.record(Failed("451 busy", transient=True), now=NOON, policy=POLICY, not_before=NOON)
    assert n.status == Status.FAILED and "last try" in n.last_error
    assert [type(e) for e in n.events] == [NotificationFailed]


def test_with_the_default_settings_a_temporary_refusal_is_tried_again_for_about_a_day() -> None:
    policy = NotificationsSettings().rules().retry  # greylisting says "451 try later" for minutes, a full box hours
    n, now, tries = _queued(policy), NOON, []
    while n.status == Status.QUEUED:
        now = n.next_attempt_at
        tries.append(now)
        n.record(Failed("451 4.3.0 try again later", transient=True), now=now, policy=policy, not_before=now)
    waits = [later - earlier for earlier, later in pairwise(tries)]
    assert timedelta(hours=12) <= tries[-1] - NOON <= timedelta(hours=25) and n.status == Status.FAILED
    assert max(waits) <= timedelta(hours=1) and sum(t - NOON < timedelta(minutes=15) for t in tries) >= 8
    assert policy.span >= timedelta(hours=24)


def test_a_permanent_refusal_fails_at_once_and_a_retry_gives_a_new_set_of_tries() -> None:
    n = _queued()
    n.record(Failed("550 no such mailbox", transient=False), now=NOON, policy=POLICY, not_before=NOON)
    assert n.status == Status.FAILED and n.last_error == "permanent: 550 no such mailbox"
    n.retry(now=NOON, policy=POLICY)
    assert n.status == Status.QUEUED and n.max_attempts == 1 + POLICY.max_attempts
    n.record(Sent("<id@x>"), now=NOON, policy=POLICY, not_before=NOON)
    assert n.status == Status.SENT and n.provider_message_id == "<id@x>" and n.sent_at == NOON


def test_only_a_failed_notification_can_be_retried() -> None:
    with pytest.raises(FailedPrecondition) as error:
        _queued().retry(now=NOON, policy=POLICY)
    assert error.value.reason == "NOT_FAILED"


def test_moments_are_written_in_the_recipients_language_and_zone() -> None:
    moment = datetime(2026, 3, 14, 15, 0, tzinfo=UTC)
    assert format_moment(moment, locale="en", zone=ZoneInfo("UTC")) == "Saturday, 14 March 2026, 15:00 UTC"
    # «до субботы», «в субботу»: no case of the weekday fits every sentence, so it follows the date abbreviated
    assert format_moment(moment, locale="ru", zone=ZoneInfo("Europe/Moscow")) == "14 марта 2026 (сб), 18:00 MSK"  # noqa: RUF001


def test_an_unknown_language_or_zone_falls_back() -> None:
    assert (locale_of("ru-RU", "en"), locale_of("fr", "en"), locale_of("", "ru")) == ("ru", "en", "ru")
    assert zone_of("Mars/Olympus", "Europe/Moscow") == ZoneInfo("Europe/Moscow")
    assert zone_of("", "") == ZoneInfo("UTC")
    assert zone_of("Europe", "Atlantis" * 40) == ZoneInfo("UTC")  # a folder of the zone database, a name too long
