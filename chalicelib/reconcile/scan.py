"""Rows in, the uploads with no COMPLETED record out: the reconciliation both the operator's
`s3once backfill --inventory` and the scheduled function run.

Rows are read into objects, looked up 100 at a time by their `pk` (one BatchGetItem each, no
LIST), and an object is missing unless its record is COMPLETED or held under a live lease.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

from chalicelib.core.errors import InvalidEventError
from chalicelib.core.model import JsonValue, LockStatus, ObjectRef
from chalicelib.reconcile.checkpoint import Checkpoint
from chalicelib.reconcile.errors import CorruptInventoryError
from chalicelib.reconcile.rows import Columns, object_ref

LOOKUP_BATCH = 100  # keys per BatchGetItem request (DynamoDB's limit)


class RecordState(NamedTuple):
    status: LockStatus
    lease_expires_at_ms: int


class LookupAnswer(NamedTuple):
    states: Mapping[str, RecordState]  # the records that exist, by pk
    requests: int


class RecordLookup(Protocol):
    def states(self, pks: Sequence[str]) -> LookupAnswer: ...


@dataclass
class Tally:
    rows: int = 0  # rows read
    skipped: int = 0  # delete markers and versions not the latest
    lookups: int = 0  # BatchGetItem requests
    completed: int = 0  # COMPLETED already: left alone
    held: int = 0  # IN_PROGRESS under a live lease: left alone
    missing: int = 0  # no record, FAILED, or a lease run out: re-driven
    outcomes: dict[str, int] = field(default_factory=dict)  # of the re-driven, by outcome

    def count(self, outcome: str, n: int = 1) -> None:
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + n

    def to_json(self) -> dict[str, JsonValue]:
        return {
            "rows_read": self.rows,
            "rows_skipped": self.skipped,
            "lookups": self.lookups,
            "completed": self.completed,
            "held": self.held,
            "missing": self.missing,
            "outcomes": dict(sorted(self.outcomes.items())),
        }


@dataclass(frozen=True)
class Batch:
    start: Checkpoint  # before the batch's rows
    end: Checkpoint  # after them
    missing: list[ObjectRef]


def reconcile_rows(
    rows: Iterable[Sequence[str]],
    columns: Columns,
    start: Checkpoint,
    where: str,
    lookup: RecordLookup,
    key_of: Callable[[ObjectRef], str],
    now_ms: int,
    tally: Tally,
) -> Iterator[Batch]:
    """The batches of the data file `rows` (files[start.file_index]) after `start.row`."""
    iterator = iter(rows)
    row = 0
    for _ in itertools.islice(iterator, start.row):
        row += 1
    while True:
        first = row
        objects: list[tuple[ObjectRef, str]] = []
        for raw in iterator:
            row += 1
            tally.rows += 1
            obj = object_ref(raw, columns, f"{where} row {row}")
            if obj is None:
                tally.skipped += 1
            else:
                objects.append((obj, _pk(obj, key_of, f"{where} row {row}")))
            if len(objects) == LOOKUP_BATCH:
                break
        if row == first:
            return
        answer = lookup.states([pk for _, pk in objects]) if objects else LookupAnswer({}, 0)
        tally.lookups += answer.requests
        missing = []
        for obj, pk in objects:
            state = answer.states.get(pk)
            if state is not None and state.status is LockStatus.COMPLETED:
                tally.completed += 1
            elif state is not None and _live(state, now_ms):
                tally.held += 1
            else:
                tally.missing += 1
                missing.append(obj)
        yield Batch(start.at(start.file_index, first), start.at(start.file_index, row), missing)


def _pk(obj: ObjectRef, key_of: Callable[[ObjectRef], str], where: str) -> str:
    try:
        return key_of(obj)
    except InvalidEventError as exc:  # e.g. an empty ETag where the scope needs one
        raise CorruptInventoryError(f"{where}: {exc}") from None


def _live(state: RecordState, now_ms: int) -> bool:
    return state.status is LockStatus.IN_PROGRESS and state.lease_expires_at_ms >= now_ms
