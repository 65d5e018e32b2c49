"""Staff at work: a one-off message to a patron (SendNotification), another go at a failed one (Retry)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field

from services.notifications.app import projection
from services.notifications.app.delivering import current_routes
from services.notifications.app.notifying import Rules
from services.notifications.app.ports import Accounts, NotificationsUnitOfWork, RenderFailed, TemplateRenderer
from services.notifications.app.words import word
from services.notifications.domain.kinds import COMMON_PARAMS, KINDS, Channel, Kind
from services.notifications.domain.notifications import NOTIFICATION, Content, Notification
from services.notifications.domain.recipients import AccountStatus, Recipient, address_for
from services.notifications.domain.templates import MAX_SMS_LENGTH, TemplateNotFound, template_id
from services.notifications.domain.wording import locale_of, on_one_line, zone_of
from services.support.runtime.clock import Clock
from services.support.runtime.errors import (
    DependencyUnavailable,
    FailedPrecondition,
    FieldViolation,
    InvalidArgument,
    collect_violations,
)

STAFF_KINDS = tuple(kind.value for kind, spec in KINDS.items() if spec.by_staff)
MAX_SUBJECT_LENGTH = 200
MAX_EMAIL_BODY_LENGTH = 10_000


@dataclass(frozen=True, slots=True)
class SendMessage:
    recipient_id: uuid.UUID
    channel: Channel | None
    template: tuple[Kind, Channel, str] | None = None
    """(kind, channel, locale) of the template named, if any."""
    params: Mapping[str, str] = field(default_factory=dict)
    subject: str = ""
    body: str = ""
    request_id: uuid.UUID | None = None
    sender: str = ""
    """"users/{user}": the staff member sending it (the audit trail names them)."""


@dataclass(frozen=True, slots=True)
class RetryNotification:
    notification_id: uuid.UUID
    request_id: uuid.UUID | None = None
    by: str = ""
    """"users/{user}": the staff member retrying it (the audit trail names them)."""


def _check(cmd: SendMessage) -> Channel:
    """The channel, or one InvalidArgument naming every bad field."""
    if cmd.channel is None:
        raise InvalidArgument.field("channel", "is required (EMAIL or SMS)")
    body = cmd.body.strip()
    too_long = MAX_SMS_LENGTH if cmd.channel == Channel.SMS else MAX_EMAIL_BODY_LENGTH
    collect_violations(
        FieldViolation("template", f"is a template for {cmd.template[1]}, not {cmd.channel}")
        if cmd.template and cmd.template[1] != cmd.channel else None,
        FieldViolation("template", f"is a {cmd.template[0]} template, which only the system sends (staff send "
                       f"{', '.join(STAFF_KINDS)} templates, or a subject and body)")
        if cmd.template and not KINDS[cmd.template[0]].by_staff else None,
        FieldViolation("body", "is required (or name a template)") if not cmd.template and not body else None,
        FieldViolation("body", f"must be at most {too_long} characters for {cmd.channel}")
        if len(cmd.body) > too_long else None,
        FieldViolation("subject", "is required for an email") if not cmd.template and cmd.channel == Channel.EMAIL
        and not cmd.subject.strip() else None,
        FieldViolation("subject", f"must be at most {MAX_SUBJECT_LENGTH} characters")
        if len(cmd.subject) > MAX_SUBJECT_LENGTH else None,
        FieldViolation("subject", "an SMS has no subject") if cmd.channel == Channel.SMS and cmd.subject else None,
    )  # fmt: skip
    return cmd.channel


async def send_message(
    cmd: SendMessage,
    *,
    uow: NotificationsUnitOfWork,
    clock: Clock,
    renderer: TemplateRenderer,
    rules: Rules,
    accounts: Accounts | None = None,
) -> Notification:
    """Queue one message to a patron now; a repeated request_id returns the first one."""
    channel = _check(cmd)
    async with uow:
        if previous := await uow.requests.recall(cmd.request_id, "SendNotification"):
            return await uow.notifications.get(NOTIFICATION.parse_id(previous))
        recipient = await projection.account_of(cmd.recipient_id, uow=uow, accounts=accounts)
        kind = cmd.template[0] if cmd.template else Kind.MESSAGE
        recipient, address = await _confirmed_route(recipient, kind, channel, uow=uow, accounts=accounts)
        locale = cmd.template[2] if cmd.template else locale_of(recipient.locale, rules.default_locale)
        params = _params(cmd, kind, channel, display_name=recipient.display_name, library=rules.library_name)
        content = await _content(cmd, kind, channel, locale, params, uow=uow, renderer=renderer)
        now = clock.now()
        zone = zone_of(recipient.time_zone, rules.library_time_zone)
        notification = Notification.queue(
            recipient_id=recipient.user_id, channel=channel, address=address, kind=kind, content=content,
            params=params, now=now, not_before=now if channel == Channel.EMAIL else rules.sms.not_before(now, zone),
            policy=rules.retry, time_zone=zone.key, sent_by=cmd.sender,
        )  # fmt: skip
        await uow.notifications.add_many([notification])
        await uow.requests.remember(cmd.request_id, "SendNotification", notification.name)
        await uow.commit()
    return notification


def _refusal(recipient: Recipient, kind: Kind, channel: Channel) -> tuple[str, FailedPrecondition | None]:
    """The address to send to, or why the account as given refuses it. The refusal is not `lasting` (not kept
    for the request_id): the reader may opt in or give an address the next moment."""
    if recipient.status == AccountStatus.DEACTIVATED:
        return "", FailedPrecondition("the account is closed", reason="ACCOUNT_CLOSED")
    if not recipient.wants(kind, channel, by_system=False):
        why = f"the user does not accept {kind} by {channel}"
        return "", FailedPrecondition(why, reason="CHANNEL_OPTED_OUT", lasting=False)
    address, problem = address_for(recipient, channel)
    if problem:
        reason = "NO_ADDRESS" if problem.startswith("no ") else "INVALID_ADDRESS"
        return "", FailedPrecondition(f"cannot send by {channel}: {problem}", reason=reason, lasting=False)
    return address, None


async def _confirmed_route(
    recipient: Recipient, kind: Kind, channel: Channel, *, uow: NotificationsUnitOfWork, accounts: Accounts | None
) -> tuple[Recipient, str]:
    """(the account, the address) to send to. A refusal by the projection is confirmed with the users service
    first (as loans does): the projection may not have read yet the change the reader just made (an opt-in, a
    new phone), which the users service has confirmed already. The account it answers is kept with the message."""
    address, refusal = _refusal(recipient, kind, channel)
    if refusal is None:
        return recipient, address
    if accounts is None:
        raise refusal
    try:
        learned = await projection.learn([recipient.user_id], accounts=accounts, uow=uow)
    except DependencyUnavailable:
        refusal.lasting = False  # not confirmed: a retry may find it otherwise
        raise refusal from None
    recipient = learned.recipients.get(recipient.user_id, recipient)
    address, refusal = _refusal(recipient, kind, channel)
    if refusal is not None:
        raise refusal
    return recipient, address


def _params(cmd: SendMessage, kind: Kind, channel: Channel, *, display_name: str, library: str) -> dict[str, str]:
    """The template's values: staff give the message's own (its subject and body, as long as a literal one may
    be), the system the rest (the account's name, the library's: a message cannot sign as anyone else)."""
    offered = KINDS[kind].variables
    given = dict(cmd.params) if cmd.template else {"subject": cmd.subject.strip(), "body": cmd.body.strip()}
    unknown = sorted(set(given) - offered)
    if unknown:
        raise InvalidArgument.field(f"params[{unknown[0][:40]!r}]", f"is not offered by {kind} templates")
    longest = {
        "subject": MAX_SUBJECT_LENGTH,
        "body": MAX_SMS_LENGTH if channel == Channel.SMS else MAX_EMAIL_BODY_LENGTH,
    }
    collect_violations(*(
        FieldViolation(f"params[{name!r}]", "is the system's to give (the account's or the library's name)")
        if name in COMMON_PARAMS else
        FieldViolation(f"params[{name!r}]", f"must be at most {longest.get(name, MAX_EMAIL_BODY_LENGTH)} characters")
        if len(value) > longest.get(name, MAX_EMAIL_BODY_LENGTH) else None
        for name, value in sorted(given.items())
    ))  # fmt: skip
    system = {"display_name": display_name, "library_name": library}
    return on_one_line({name: "" for name in offered} | given | system)  # a name or title is one line


async def _content(
    cmd: SendMessage,
    kind: Kind,
    channel: Channel,
    locale: str,
    params: dict[str, str],
    *,
    uow: NotificationsUnitOfWork,
    renderer: TemplateRenderer,
) -> Content:
    templates = await uow.templates.current()
    if cmd.template:
        template = templates.get(template_id(kind, channel, locale))
        if template is None:
            raise TemplateNotFound(f"notificationTemplates/{template_id(kind, channel, locale)}")
        missing = sorted(renderer.variables(template) - set(cmd.params) - set(COMMON_PARAMS))
        if missing:
            raise InvalidArgument.field(f"params[{missing[0]!r}]", "is used by the template but not given")
    try:
        content = word(
            kind, channel, locale, params, templates=templates, store=uow.templates, renderer=renderer, fit=False
        )
    except RenderFailed as error:
        raise InvalidArgument.field("params", str(error)[:200]) from None
    if channel == Channel.SMS and len(content.text) > MAX_SMS_LENGTH:
        raise InvalidArgument.field("body", f"the SMS would be longer than {MAX_SMS_LENGTH} characters")
    return content


async def retry_notification(
    cmd: RetryNotification, *, uow: NotificationsUnitOfWork, clock: Clock, rules: Rules
) -> Notification:
    """Queue a FAILED notification again with a fresh set of tries, to the recipient as they are now (their
    current address; SUPPRESSED if they closed the account or opted out since)."""
    async with uow:
        if previous := await uow.requests.recall(cmd.request_id, "RetryNotification"):
            return await uow.notifications.get(NOTIFICATION.parse_id(previous))
        notification = await uow.notifications.get(cmd.notification_id)
        now = clock.now()
        route = (await current_routes([notification], uow=uow)).get(notification.id)
        notification.retry(now=now, policy=rules.retry, route=route, by=cmd.by)
        await uow.notifications.save(notification)
        await uow.requests.remember(cmd.request_id, "RetryNotification", notification.name)
        await uow.commit()
    return notification
