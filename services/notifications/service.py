"""Notifications servicers: proto -> command -> handler -> proto."""

from athenaeum.notifications.v1 import notifications_pb2_grpc


class NotificationsServicer(notifications_pb2_grpc.NotificationsServiceServicer):
    """NotificationsService: every RPC answers UNIMPLEMENTED until its use cases land (see the proto for the API)."""
