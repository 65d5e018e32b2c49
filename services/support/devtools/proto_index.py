"""Every message, enum and service of a descriptor set, by full name, with the proto comments (the API's
documentation) kept beside them: what the OpenAPI document and the Python client are generated from."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from google.protobuf import descriptor_pb2

FieldProto = descriptor_pb2.FieldDescriptorProto

# Paths inside FileDescriptorProto / DescriptorProto / EnumDescriptorProto / ServiceDescriptorProto,
# as SourceCodeInfo numbers them (the field numbers of those messages).
FILE_MESSAGE, FILE_ENUM, FILE_SERVICE = 4, 5, 6
MESSAGE_FIELD, MESSAGE_NESTED, MESSAGE_ENUM = 2, 3, 4
ENUM_VALUE = 2
SERVICE_METHOD = 2


def clean_comment(text: str) -> str:
    """A proto comment as Markdown: the one leading space of each line gone, blank edges trimmed."""
    lines = [line[1:] if line.startswith(" ") else line for line in text.splitlines()]
    return "\n".join(line.rstrip() for line in lines).strip()


@dataclass
class ProtoIndex:
    """Every message, enum and service of a descriptor set, by full name, with its comments."""

    files: list[descriptor_pb2.FileDescriptorProto]
    messages: dict[str, descriptor_pb2.DescriptorProto] = field(default_factory=dict)
    enums: dict[str, descriptor_pb2.EnumDescriptorProto] = field(default_factory=dict)
    comments: dict[str, str] = field(default_factory=dict)
    """Comment of a message, enum, service, method ("pkg.Svc.Method"), field ("pkg.Msg.field") or
    enum value ("pkg.Enum.VALUE")."""

    @classmethod
    def of(cls, descriptor_set: descriptor_pb2.FileDescriptorSet) -> ProtoIndex:
        index = cls(files=list(descriptor_set.file))
        for file in index.files:
            located = {tuple(loc.path): loc for loc in file.source_code_info.location}

            def comment(path: tuple[int, ...], located: dict = located) -> str:
                loc = located.get(path)
                return clean_comment(loc.leading_comments or loc.trailing_comments) if loc else ""

            for name, message, path in _walk_messages(file.package, file.message_type, (FILE_MESSAGE,)):
                index.messages[name] = message
                index.comments[name] = comment(path)
                for i, fld in enumerate(message.field):
                    index.comments[f"{name}.{fld.name}"] = comment((*path, MESSAGE_FIELD, i))
                for i, enum in enumerate(message.enum_type):
                    index._add_enum(f"{name}.{enum.name}", enum, (*path, MESSAGE_ENUM, i), comment)
            for i, enum in enumerate(file.enum_type):
                index._add_enum(f"{file.package}.{enum.name}", enum, (FILE_ENUM, i), comment)
            for s, service in enumerate(file.service):
                service_name = f"{file.package}.{service.name}"
                index.comments[service_name] = comment((FILE_SERVICE, s))
                for m, method in enumerate(service.method):
                    index.comments[f"{service_name}.{method.name}"] = comment((FILE_SERVICE, s, SERVICE_METHOD, m))
        return index

    def _add_enum(self, name: str, enum: descriptor_pb2.EnumDescriptorProto, path: tuple[int, ...], comment) -> None:
        self.enums[name] = enum
        self.comments[name] = comment(path)
        for i, value in enumerate(enum.value):
            self.comments[f"{name}.{value.name}"] = comment((*path, ENUM_VALUE, i))

    def message(self, type_name: str) -> descriptor_pb2.DescriptorProto:
        return self.messages[type_name.lstrip(".")]


def _walk_messages(
    prefix: str, messages: Any, path: tuple[int, ...]
) -> Iterator[tuple[str, descriptor_pb2.DescriptorProto, tuple[int, ...]]]:
    for i, message in enumerate(messages):
        name, here = f"{prefix}.{message.name}", (*path, i)
        yield name, message, here
        yield from _walk_messages(name, message.nested_type, (*here, MESSAGE_NESTED))


def is_map(index: ProtoIndex, fld: FieldProto) -> bool:
    if fld.type != FieldProto.TYPE_MESSAGE or fld.label != FieldProto.LABEL_REPEATED:
        return False
    return index.message(fld.type_name).options.map_entry
