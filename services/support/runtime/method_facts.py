"""What the mutation interceptor (`runtime.mutations`) reads from a method's proto: whether its calls are
mutations, the type of its answer, and what makes two of its calls the same request (the fingerprint a
request_id is claimed with)."""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass

from google.api import field_behavior_pb2
from google.protobuf import descriptor_pool, message_factory
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message


@dataclass(frozen=True, slots=True)
class MethodFacts:
    operation: str
    """The method's short name ("PayFine"), as use cases name their requests."""
    response_type: type[Message] | None
    mutation: bool
    """Its request has a `request_id` field."""
    keeps_answers: bool
    """False for public methods (registration): their answers hold fresh credentials, so they are not
    stored; a retry runs the use case again, which recalls what the first call made."""


@functools.cache
def method_facts(path: str, public: bool) -> MethodFacts:
    name = path.lstrip("/").replace("/", ".")
    operation = name.rpartition(".")[2]
    try:
        method = descriptor_pool.Default().FindMethodByName(name)
    except KeyError:
        return MethodFacts(operation, None, mutation=False, keeps_answers=False)
    mutation = "request_id" in method.input_type.fields_by_name
    response = message_factory.GetMessageClass(method.output_type)
    return MethodFacts(operation, response, mutation=mutation, keeps_answers=not public)


def fingerprint(operation: str, request: Message, caller: str) -> bytes:
    """What makes two calls the same request: the method, who asks, and the body without its request_id
    and without INPUT_ONLY fields (passwords: no hash of a secret is stored)."""
    body = type(request)()
    body.CopyFrom(request)
    body.ClearField("request_id")
    _clear_input_only(body)
    digest = hashlib.sha256(operation.encode())
    digest.update(b"\0" + caller.encode() + b"\0")
    digest.update(body.SerializeToString(deterministic=True))
    return digest.digest()


@functools.cache
def _input_only_fields(descriptor: Descriptor) -> tuple[str, ...]:
    return tuple(
        field.name
        for field in descriptor.fields
        if field_behavior_pb2.INPUT_ONLY in field.GetOptions().Extensions[field_behavior_pb2.field_behavior]
    )


def _clear_input_only(message: Message) -> None:
    for name in _input_only_fields(message.DESCRIPTOR):
        message.ClearField(name)
    for field, value in message.ListFields():
        if field.type == FieldDescriptor.TYPE_MESSAGE and not field.is_repeated:
            _clear_input_only(value)
