import datetime

from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.api import resource_pb2 as _resource_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.type import money_pb2 as _money_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Order(_message.Message):
    __slots__ = ("name", "lines", "state", "total", "reject_reason", "create_time", "update_time", "etag")
    class State(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        STATE_UNSPECIFIED: _ClassVar[Order.State]
        PENDING: _ClassVar[Order.State]
        CONFIRMED: _ClassVar[Order.State]
        CANCELLED: _ClassVar[Order.State]
        REJECTED: _ClassVar[Order.State]
    STATE_UNSPECIFIED: Order.State
    PENDING: Order.State
    CONFIRMED: Order.State
    CANCELLED: Order.State
    REJECTED: Order.State
    NAME_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    REJECT_REASON_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    name: str
    lines: _containers.RepeatedCompositeFieldContainer[OrderLine]
    state: Order.State
    total: _money_pb2.Money
    reject_reason: str
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    etag: str
    def __init__(self, name: _Optional[str] = ..., lines: _Optional[_Iterable[_Union[OrderLine, _Mapping]]] = ..., state: _Optional[_Union[Order.State, str]] = ..., total: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., reject_reason: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., etag: _Optional[str] = ...) -> None: ...

class OrderLine(_message.Message):
    __slots__ = ("product", "quantity", "display_name", "unit_price", "line_total")
    PRODUCT_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    UNIT_PRICE_FIELD_NUMBER: _ClassVar[int]
    LINE_TOTAL_FIELD_NUMBER: _ClassVar[int]
    product: str
    quantity: int
    display_name: str
    unit_price: _money_pb2.Money
    line_total: _money_pb2.Money
    def __init__(self, product: _Optional[str] = ..., quantity: _Optional[int] = ..., display_name: _Optional[str] = ..., unit_price: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., line_total: _Optional[_Union[_money_pb2.Money, _Mapping]] = ...) -> None: ...
