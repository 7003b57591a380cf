"""Request validation derived from the contract: every field marked
`(google.api.field_behavior) = REQUIRED` must be set.

Nested messages are checked too, except the resource of an update request
(one with an `update_mask`), where only the masked fields matter and the
service validates them. Services add their own rules (ranges, formats) by
raising `InvalidArgument`; this module only reads the descriptors.
"""

from __future__ import annotations

from functools import cache

from google.api import field_behavior_pb2
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from shopmesh_kit.errors import InvalidArgument

_REQUIRED = field_behavior_pb2.REQUIRED


@cache
def _required_fields(descriptor: Descriptor) -> tuple[FieldDescriptor, ...]:
    required = []
    for fd in descriptor.fields:
        behaviors = fd.GetOptions().Extensions[field_behavior_pb2.field_behavior]
        if _REQUIRED in behaviors:
            required.append(fd)
    return tuple(required)


def _is_set(message: Message, fd: FieldDescriptor) -> bool:
    if fd.is_repeated:
        return len(getattr(message, fd.name)) > 0
    if fd.type == FieldDescriptor.TYPE_MESSAGE:
        return message.HasField(fd.name)
    return bool(getattr(message, fd.name))


def missing_required_fields(message: Message, prefix: str = "") -> list[str]:
    """Paths of the REQUIRED fields that are not set, like `order.lines[0].quantity`."""
    descriptor = message.DESCRIPTOR
    missing = [prefix + fd.name for fd in _required_fields(descriptor) if not _is_set(message, fd)]
    if "update_mask" in descriptor.fields_by_name:
        return missing
    for fd in descriptor.fields:
        if fd.type != FieldDescriptor.TYPE_MESSAGE or fd.message_type is None:
            continue
        if fd.message_type.GetOptions().map_entry:
            continue
        value = getattr(message, fd.name)
        if fd.is_repeated:
            for i, item in enumerate(value):
                missing += missing_required_fields(item, f"{prefix}{fd.name}[{i}].")
        elif message.HasField(fd.name):
            missing += missing_required_fields(value, f"{prefix}{fd.name}.")
    return missing


def validate_required(message: Message) -> None:
    """Raise InvalidArgument listing every missing REQUIRED field."""
    missing = missing_required_fields(message)
    if missing:
        raise InvalidArgument(
            f"missing required field(s): {', '.join(missing)}",
            violations=[(path, "is required") for path in missing],
        )
