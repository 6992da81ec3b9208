"""What both DynamoDB adapters share: the fence condition and the encoding of values."""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING

from boto3.dynamodb.types import TypeSerializer

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

# The caller still holds its lease: the record is IN_PROGRESS under the caller's fence.
# Expects #status, #attempts, :in_progress and :fence to be bound.
HELD_BY_ME = "#status = :in_progress AND #attempts = :fence"

_SERIALIZER = TypeSerializer()


def attribute_value(value: object) -> AttributeValueTypeDef:
    """`value` as a DynamoDB attribute; maps may hold floats, which DynamoDB takes as Decimals
    (a JSON round trip gives each the Decimal of its JSON text)."""
    if isinstance(value, Mapping):
        value = json.loads(json.dumps(value), parse_float=Decimal)
    serialized: AttributeValueTypeDef = _SERIALIZER.serialize(value)
    return serialized
