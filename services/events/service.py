"""Events servicers: proto -> command -> handler -> proto."""

from athenaeum.events.v1 import events_pb2_grpc


class EventsServicer(events_pb2_grpc.EventsServiceServicer):
    """EventsService: every RPC answers UNIMPLEMENTED until its use cases land (see the proto for the API)."""
