"""NotificationsService: proto -> command -> use case -> proto. No rules, no SQL, no status codes here."""

from __future__ import annotations

from collections.abc import Callable

import grpc
from google.protobuf import empty_pb2

from athenaeum.notifications.v1 import notifications_pb2 as pb
from athenaeum.notifications.v1 import notifications_pb2_grpc
from services.notifications.api import convert
from services.notifications.app import following, querying, sending, templating
from services.notifications.app.notifying import Rules
from services.notifications.app.ports import Accounts, NotificationsUnitOfWork, TemplateRenderer
from services.notifications.domain.kinds import Channel
from services.notifications.domain.notifications import NOTIFICATION, Notification
from services.notifications.domain.templates import Template, parse_template_name
from services.support.runtime.clock import Clock


class NotificationsServicer(notifications_pb2_grpc.NotificationsServiceServicer):
    def __init__(
        self,
        *,
        uow: Callable[[], NotificationsUnitOfWork],
        clock: Clock,
        renderer: TemplateRenderer,
        rules: Rules,
        on_queued: Callable[[Channel], None] = lambda channel: None,
        accounts: Accounts | None = None,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._renderer = renderer
        self._rules = rules
        self._on_queued = on_queued
        self._accounts = accounts

    def _queued(self, notification: Notification) -> pb.Notification:
        self._on_queued(notification.channel)
        return convert.notification_to_proto(notification)

    def _template(self, template: Template) -> pb.NotificationTemplate:
        return convert.template_to_proto(template, used=self._renderer.variables(template))

    async def GetNotification(
        self, request: pb.GetNotificationRequest, context: grpc.aio.ServicerContext
    ) -> pb.Notification:
        """Returns one notification (a reader: their own)."""
        command = querying.GetNotification(NOTIFICATION.parse_id(request.name), convert.viewer())
        return convert.notification_to_proto(await querying.get_notification(command, uow=self._uow()))

    async def ListNotifications(
        self, request: pb.ListNotificationsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListNotificationsResponse:
        """Lists notifications newest first, filtered."""
        command = querying.ListNotifications(
            where=convert.notification_filter(request),
            viewer=convert.viewer(),
            page_size=request.page_size,
            page_token=request.page_token,
        )
        page = await querying.list_notifications(command, uow=self._uow())
        return pb.ListNotificationsResponse(
            notifications=[convert.notification_to_proto(n) for n in page.items],
            next_page_token=page.next_page_token,
            total_size=page.total_size,
        )

    async def SendNotification(
        self, request: pb.SendNotificationRequest, context: grpc.aio.ServicerContext
    ) -> pb.Notification:
        """Queues a one-off message to a patron."""
        notification = await sending.send_message(
            convert.send_message(request),
            uow=self._uow(),
            clock=self._clock,
            renderer=self._renderer,
            rules=self._rules,
            accounts=self._accounts,
        )
        return self._queued(notification)

    async def RetryNotification(
        self, request: pb.RetryNotificationRequest, context: grpc.aio.ServicerContext
    ) -> pb.Notification:
        """Queues a FAILED notification again."""
        notification = await sending.retry_notification(
            convert.retry_notification(request), uow=self._uow(), clock=self._clock, rules=self._rules
        )
        return self._queued(notification)

    async def GetNotificationTemplate(
        self, request: pb.GetNotificationTemplateRequest, context: grpc.aio.ServicerContext
    ) -> pb.NotificationTemplate:
        """Returns one template."""
        command = templating.GetTemplate(*parse_template_name(request.name))
        return self._template(await templating.get_template(command, uow=self._uow()))

    async def ListNotificationTemplates(
        self, request: pb.ListNotificationTemplatesRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListNotificationTemplatesResponse:
        """Lists templates by id."""
        command = templating.ListTemplates(page_size=request.page_size, page_token=request.page_token)
        page = await templating.list_templates(command, uow=self._uow())
        return pb.ListNotificationTemplatesResponse(
            notification_templates=[self._template(t) for t in page.items],
            next_page_token=page.next_page_token,
            total_size=page.total_size,
        )

    async def UpdateNotificationTemplate(
        self, request: pb.UpdateNotificationTemplateRequest, context: grpc.aio.ServicerContext
    ) -> pb.NotificationTemplate:
        """Changes a template's wording, if it compiles and uses only what its kind offers."""
        given = request.notification_template
        kind, channel, locale = parse_template_name(given.name, field="notification_template.name")
        changes = convert.template_changes(request)
        command = templating.UpdateTemplate(kind, channel, locale, changes, etag=given.etag, editor=convert.caller())
        template = await templating.update_template(
            command, uow=self._uow(), clock=self._clock, renderer=self._renderer
        )
        return self._template(template)

    async def FollowAuthor(
        self, request: pb.FollowAuthorRequest, context: grpc.aio.ServicerContext
    ) -> pb.FollowedAuthor:
        """Follows an author for a reader: their new books are announced to the reader."""
        follow = await following.follow_author(
            convert.follow_author(request), uow=self._uow(), clock=self._clock, accounts=self._accounts
        )
        return convert.followed_author_to_proto(follow)

    async def ListFollowedAuthors(
        self, request: pb.ListFollowedAuthorsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListFollowedAuthorsResponse:
        """Lists the authors a reader follows, most recent first."""
        page = await following.list_followed_authors(convert.list_followed_authors(request), uow=self._uow())
        return pb.ListFollowedAuthorsResponse(
            followed_authors=[convert.followed_author_to_proto(f) for f in page.items],
            next_page_token=page.next_page_token,
            total_size=page.total_size,
        )

    async def UnfollowAuthor(
        self, request: pb.UnfollowAuthorRequest, context: grpc.aio.ServicerContext
    ) -> empty_pb2.Empty:
        """Stops following an author."""
        await following.unfollow_author(convert.unfollow_author(request), uow=self._uow())
        return empty_pb2.Empty()
