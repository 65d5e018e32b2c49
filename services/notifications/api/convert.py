"""Proto <-> domain for notifications and templates: the API's messages and enums, in one place."""

from __future__ import annotations

import uuid

from athenaeum.notifications.v1 import notifications_pb2 as pb
from services.notifications.app.following import FollowAuthor, ListFollowedAuthors, UnfollowAuthor
from services.notifications.app.ports import NotificationFilter
from services.notifications.app.querying import Viewer
from services.notifications.app.sending import RetryNotification, SendMessage
from services.notifications.domain.follows import FOLLOWED_AUTHOR, FollowedAuthor
from services.notifications.domain.kinds import Channel, parse_kind, withheld
from services.notifications.domain.notifications import NOTIFICATION, Notification, Status
from services.notifications.domain.recipients import USER
from services.notifications.domain.templates import PARTS, Template, parse_template_name
from services.support.runtime.auth import current_identity
from services.support.runtime.errors import InvalidArgument, PermissionDenied
from services.support.runtime.idempotency import parse_request_id
from services.support.runtime.wire import enum_member, timestamp, to_datetime

CHANNELS = {Channel.EMAIL: pb.NOTIFICATION_CHANNEL_EMAIL, Channel.SMS: pb.NOTIFICATION_CHANNEL_SMS}
STATUSES = {
    Status.QUEUED: pb.NOTIFICATION_STATUS_QUEUED,
    Status.SENT: pb.NOTIFICATION_STATUS_SENT,
    Status.FAILED: pb.NOTIFICATION_STATUS_FAILED,
    Status.SUPPRESSED: pb.NOTIFICATION_STATUS_SUPPRESSED,
}
CHANNEL_OF = {value: key for key, value in CHANNELS.items()}
STATUS_OF = {value: key for key, value in STATUSES.items()}


def notification_to_proto(n: Notification) -> pb.Notification:
    """The notification as the API and its events show it: a secret (a reset token) withheld."""
    params, (subject, body) = withheld(n.kind, n.params, n.content.subject, n.content.text)
    return pb.Notification(
        name=n.name,
        channel=CHANNELS[n.channel],
        recipient=n.recipient,
        address=n.address,
        template=f"notificationTemplates/{n.content.template}" if n.content.template else "",
        params=params,
        subject=subject,
        body=body,
        status=STATUSES[n.status],
        attempts=n.attempts,
        last_error=n.last_error,
        source_event_id=str(n.source_event_id) if n.source_event_id else "",
        create_time=timestamp(n.created_at),
        send_time=timestamp(n.sent_at),
        update_time=timestamp(n.updated_at),
        kind=n.kind.value,
        template_version=n.content.template_version,
        locale=n.content.locale,
        provider_message_id=n.provider_message_id,
        suppress_reason=n.suppress_reason,
        next_attempt_time=timestamp(n.next_attempt_at) if n.status == Status.QUEUED else None,
        event_time=timestamp(n.event_at),
        sent_by=n.sent_by,
        retried_by=n.retried_by,
    )


def template_to_proto(t: Template, *, used: frozenset[str]) -> pb.NotificationTemplate:
    return pb.NotificationTemplate(
        name=t.name,
        channel=CHANNELS[t.channel],
        subject_template=t.subject,
        body_template=t.body,
        params=sorted(used),
        update_time=timestamp(t.updated_at),
        etag=t.etag,
        kind=t.kind.value,
        locale=t.locale,
        html_body_template=t.html,
        version=t.version,
        available_params=sorted(t.available),
        updated_by=t.updated_by,
    )


def viewer() -> Viewer:
    identity = current_identity()
    if identity is None:
        raise PermissionDenied("this method acts for a signed-in user", reason="END_USER_REQUIRED")
    return Viewer(identity.subject, identity.is_staff)


def user_id(name: str, *, field: str) -> uuid.UUID:
    """The id a user name points at, "users/me" being the caller."""
    identity = current_identity()
    return USER.parse_id(identity.resolve(name) if identity else name, field=field)


def notification_filter(request: pb.ListNotificationsRequest) -> NotificationFilter:
    return NotificationFilter(
        recipient_id=user_id(request.parent, field="parent") if request.parent else None,
        status=enum_member(request.status, STATUS_OF, field="status", enum=pb.NotificationStatus.DESCRIPTOR),
        channel=enum_member(request.channel, CHANNEL_OF, field="channel", enum=pb.NotificationChannel.DESCRIPTOR),
        kind=parse_kind(request.kind) if request.kind else None,
        created_from=to_datetime(request.start_time) if request.HasField("start_time") else None,
        created_before=to_datetime(request.end_time) if request.HasField("end_time") else None,
    )


def send_message(request: pb.SendNotificationRequest) -> SendMessage:
    if not request.recipient:
        raise InvalidArgument.field("recipient", "is required")
    return SendMessage(
        recipient_id=user_id(request.recipient, field="recipient"),
        channel=CHANNEL_OF.get(request.channel),
        template=parse_template_name(request.template, field="template") if request.template else None,
        params=dict(request.params),
        subject=request.subject,
        body=request.body,
        request_id=parse_request_id(request.request_id),
        sender=caller(),
    )


def retry_notification(request: pb.RetryNotificationRequest) -> RetryNotification:
    return RetryNotification(NOTIFICATION.parse_id(request.name), parse_request_id(request.request_id), by=caller())


def caller() -> str:
    """ "users/{user}" of the signed-in user making the call; "" for none (a peer service's own call)."""
    identity = current_identity()
    return identity.subject if identity else ""


def template_changes(request: pb.UpdateNotificationTemplateRequest) -> dict[str, str]:
    """The masked parts (without a mask, every part the client set; "*", every part: AIP-134)."""
    given = request.notification_template
    paths = list(request.update_mask.paths) or [part for part in PARTS if getattr(given, part)]
    if paths == ["*"]:
        paths = list(PARTS)
    unknown = sorted(set(paths) - set(PARTS))
    if unknown:
        raise InvalidArgument.field("update_mask", f"not writable: {', '.join(p[:40] for p in unknown)}")
    return {path: getattr(given, path) for path in paths}


def followed_author_to_proto(follow: FollowedAuthor) -> pb.FollowedAuthor:
    return pb.FollowedAuthor(name=follow.name, author=follow.author, create_time=timestamp(follow.created_at))


def follow_author(request: pb.FollowAuthorRequest) -> FollowAuthor:
    return FollowAuthor(
        user_id=user_id(request.parent, field="parent"),
        author=request.followed_author.author,
        viewer=viewer(),
        request_id=parse_request_id(request.request_id),
    )


def list_followed_authors(request: pb.ListFollowedAuthorsRequest) -> ListFollowedAuthors:
    return ListFollowedAuthors(
        user_id=user_id(request.parent, field="parent"),
        viewer=viewer(),
        page_size=request.page_size,
        page_token=request.page_token,
    )


def unfollow_author(request: pb.UnfollowAuthorRequest) -> UnfollowAuthor:
    identity = current_identity()
    name = request.name
    if identity is not None and name.startswith("users/me/"):  # the caller's own, as "users/me" is elsewhere
        name = identity.subject + name.removeprefix("users/me")
    user, follow = FOLLOWED_AUTHOR.parse(name)
    return UnfollowAuthor(user_id=user, follow_id=follow, viewer=viewer())
