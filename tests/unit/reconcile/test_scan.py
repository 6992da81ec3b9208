"""Rows in, the uploads with no COMPLETED record out, 100 lookups to a request."""

from __future__ import annotations

import io

from chalicelib.core.model import IdempotencyScope, LockStatus, ObjectRef
from chalicelib.reconcile.checkpoint import Checkpoint
from chalicelib.reconcile.rows import Columns, csv_rows
from chalicelib.reconcile.scan import RecordState, Tally, reconcile_rows
from tests.inventory_data import SCHEMA, Row, data_file, fake_etag
from tests.unit.reconcile.fakes import FakeLookup, key_of

COLUMNS = Columns.from_schema(
    [name.strip() for name in SCHEMA.split(",")], IdempotencyScope.CONTENT, "manifest"
)
NOW_MS = 1_000_000


def rows(n: int, deleted_every: int = 0) -> list[Row]:
    return [
        Row(
            "uploads",
            f"k{i:04}",
            fake_etag(f"k{i}"),
            is_delete_marker=bool(deleted_every) and i % deleted_every == 0,
        )
        for i in range(n)
    ]


def scan(
    written: list[Row], lookup: FakeLookup, start: Checkpoint | None = None
) -> tuple[list[ObjectRef], Tally, list[Checkpoint]]:
    tally = Tally()
    stream = csv_rows(io.BytesIO(data_file(written)))
    batches = list(
        reconcile_rows(
            stream, COLUMNS, start or Checkpoint("m"), "file", lookup, key_of, NOW_MS, tally
        )
    )
    return [obj for batch in batches for obj in batch.missing], tally, [b.end for b in batches]


def ref(row: Row) -> ObjectRef:
    return ObjectRef(row.bucket, row.key, row.etag, None, size=row.size)


def test_only_objects_without_a_completed_record_or_a_live_lease_are_missing() -> None:
    written = rows(250)
    lookup = FakeLookup()
    for row in written[:200]:
        lookup.complete(ref(row))
    lookup.states_by_pk[key_of(ref(written[200]))] = RecordState(LockStatus.FAILED, 0)
    lookup.states_by_pk[key_of(ref(written[201]))] = RecordState(LockStatus.IN_PROGRESS, NOW_MS - 1)
    lookup.states_by_pk[key_of(ref(written[202]))] = RecordState(LockStatus.IN_PROGRESS, NOW_MS + 1)

    missing, tally, ends = scan(written, lookup)

    assert [obj.key for obj in missing] == [row.key for row in written[200:] if row.key != "k0202"]
    assert (tally.rows, tally.completed, tally.held, tally.missing) == (250, 200, 1, 49)
    assert lookup.asked == [100, 100, 50] and tally.lookups == 3
    assert [end.row for end in ends] == [100, 200, 250]


def test_skipped_rows_do_not_take_a_place_in_a_lookup() -> None:
    lookup = FakeLookup()

    _, tally, ends = scan(rows(300, deleted_every=3), lookup)

    assert lookup.asked == [100, 100]  # 200 objects among 300 rows: two full requests
    assert (tally.rows, tally.skipped, tally.missing) == (300, 100, 200)
    assert ends[-1].row == 300


def test_a_scan_resumes_after_the_rows_its_checkpoint_settled() -> None:
    written = rows(150)

    missing, tally, ends = scan(written, FakeLookup(), Checkpoint("m", 0, 120))

    assert [obj.key for obj in missing] == [row.key for row in written[120:]]
    assert tally.rows == 30 and ends == [Checkpoint("m", 0, 150)]
