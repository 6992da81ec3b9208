"""attribute_value: the fast path for flat maps gives what the generic serializer gives."""

from __future__ import annotations

import json
from decimal import Decimal

from boto3.dynamodb.types import TypeSerializer
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.aws.dynamodb_values import attribute_value

SCALARS = st.one_of(
    st.text(),
    st.integers(min_value=-(10**37), max_value=10**37),
    st.booleans(),
    st.none(),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
)
MAPS = st.recursive(
    st.dictionaries(st.text(), SCALARS, max_size=6),
    lambda inner: st.dictionaries(
        st.text(), st.one_of(SCALARS, inner, st.lists(SCALARS)), max_size=4
    ),
    max_leaves=12,
)


def generic(value: object) -> object:
    return TypeSerializer().serialize(json.loads(json.dumps(value), parse_float=Decimal))


@given(MAPS)
def test_a_map_is_stored_as_the_generic_serializer_stores_it(value: dict[str, object]) -> None:
    assert attribute_value(value) == generic(value)


WHOLE = st.one_of(st.text(), st.integers(-(10**37), 10**37), st.booleans(), st.none())


@given(st.one_of(WHOLE, st.lists(WHOLE, max_size=4)))
def test_any_other_value_is_stored_as_the_generic_serializer_stores_it(value: object) -> None:
    assert attribute_value(value) == TypeSerializer().serialize(value)


def test_a_result_of_strings_and_whole_numbers_takes_the_fast_path() -> None:
    assert attribute_value({"content_type": "image/png", "size": 5}) == {
        "M": {"content_type": {"S": "image/png"}, "size": {"N": "5"}}
    }
