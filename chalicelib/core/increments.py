"""Counter increments judged whole before the first of them is committed.

A commit of several steps that fails in a later step leaves the earlier ones applied, and a
takeover replays the same stored plan: what can never commit must be refused before step one,
as a permanent failure (CommitTooLargeError), never found out halfway.
"""

from __future__ import annotations

from collections.abc import Iterable

from chalicelib.core.errors import CommitTooLargeError
from chalicelib.core.ports import CounterIncrement

# DynamoDB numbers hold 38 significant digits.
MAX_COUNTER_VALUE = 10**38 - 1
# Counter items per completion: one transaction per 99 of them, each a few tens of ms.
MAX_COUNTER_ITEMS = 10_000
# A key is the partition key of a counter item (DynamoDB allows 2,048 bytes).
MAX_KEY_BYTES = 1024
MAX_NAME_BYTES = 255
# The counters table's partition key: ADD cannot touch it.
RESERVED_NAMES = frozenset({"pk"})


def checked_increments(
    increments: Iterable[CounterIncrement], max_items: int = MAX_COUNTER_ITEMS
) -> tuple[CounterIncrement, ...]:
    """The increments merged per key and sorted by key; CommitTooLargeError names the first
    that could never be committed."""
    merged: dict[str, dict[str, int]] = {}
    for increment in increments:
        key = increment.key
        if (
            not isinstance(key, str)
            or not key
            or len(key.encode("utf-8", "replace")) > MAX_KEY_BYTES
        ):
            raise CommitTooLargeError(f"counter key {str(key)[:80]!r} is empty or too long")
        deltas = merged.setdefault(key, {})
        for name, value in increment.deltas.items():
            if (
                not isinstance(name, str)
                or not name
                or name in RESERVED_NAMES
                or len(name.encode("utf-8", "replace")) > MAX_NAME_BYTES
            ):
                raise CommitTooLargeError(f"counter name {str(name)[:80]!r} of {key!r} is invalid")
            if isinstance(value, bool) or not isinstance(value, int):
                raise CommitTooLargeError(f"counter {key!r}.{name} is not a whole number")
            deltas[name] = deltas.get(name, 0) + value
            if abs(deltas[name]) > MAX_COUNTER_VALUE:
                raise CommitTooLargeError(
                    f"counter {key!r}.{name} adds a number of {len(str(abs(deltas[name])))}"
                    " digits; DynamoDB numbers hold 38"
                )
    if len(merged) > max_items:
        raise CommitTooLargeError(
            f"{len(merged)} counter items to commit, more than the {max_items} one completion"
            " may carry"
        )
    return tuple(CounterIncrement(key, merged[key]) for key in sorted(merged))
