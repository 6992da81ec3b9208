"""What both DynamoDB adapters share: the fence condition and the encoding of values."""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

# The caller still holds its lease: the record is IN_PROGRESS under the caller's fence.
# Expects #status, #attempts, :in_progress and :fence to be bound.
HELD_BY_ME = "#status = :in_progress AND #attempts = :fence"

_NUMBER_LIMIT = 10**38  # DynamoDB numbers hold 38 significant digits


def attribute_value(value: object) -> AttributeValueTypeDef:
    """`value` as a DynamoDB attribute; maps may hold floats, which DynamoDB takes as Decimals
    (a JSON round trip gives each the Decimal of its JSON text)."""
    if type(value) is str:  # an error message
        return {"S": value}
    if isinstance(value, Mapping):
        flat = _flat_map(value)
        if flat is not None:
            return flat
        value = json.loads(json.dumps(value), parse_float=Decimal)
    # Imported here: only values other than text and flat maps need it, and a cold start does not.
    from boto3.dynamodb.types import TypeSerializer

    serialized: AttributeValueTypeDef = TypeSerializer().serialize(value)
    return serialized


def _flat_map(value: Mapping[object, object]) -> AttributeValueTypeDef | None:
    """The common result, a map of strings and whole numbers, without the JSON round trip and
    the generic serializer (the same attribute value they give); None for anything else."""
    items: dict[str, AttributeValueTypeDef] = {}
    for key, item in value.items():
        if type(key) is not str:
            return None
        if type(item) is str:
            items[key] = {"S": item}
        elif type(item) is int and -_NUMBER_LIMIT < item < _NUMBER_LIMIT:
            items[key] = {"N": str(item)}
        else:
            return None
    return {"M": items}
