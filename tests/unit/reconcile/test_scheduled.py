"""The scheduled reconciliation on fakes: bounded runs that finish a report across several,
nothing done twice, a report refused once, and one log line and one metrics line per run."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence

import pytest

from chalicelib.core.errors import IncompleteBatchError
from chalicelib.core.keys import checkpoint_key, idempotency_key
from chalicelib.core.model import IdempotencyScope, ObjectRef, ParsedEvent
from chalicelib.core.service import BatchSummary, Invocation
from chalicelib.reconcile.errors import ChecksumMismatchError
from chalicelib.reconcile.scan import LookupAnswer
from chalicelib.reconcile.scheduled import ScheduledReconciler
from chalicelib.reconcile.settings import ReconcileSettings
from tests.inventory_data import Row, fake_etag
from tests.unit.reconcile.fakes import (
    CompletingPipeline,
    FakeCheckpoints,
    FakeClock,
    FakeLookup,
    FakeReports,
    key_of,
    reports_of,
)

SETTINGS = ReconcileSettings("dest", "inventory/uploads/all/", max_rows_per_run=100)


def files(count: int, rows_each: int) -> list[list[Row]]:
    return [
        [Row("uploads", f"f{f}/k{i:03}", fake_etag(f"{f}/{i}")) for i in range(rows_each)]
        for f in range(count)
    ]


def reconciler(
    reports: FakeReports,
    lookup: FakeLookup,
    checkpoints: FakeCheckpoints,
    pipeline: CompletingPipeline,
    clock: FakeClock | None = None,
    settings: ReconcileSettings = SETTINGS,
) -> ScheduledReconciler:
    return ScheduledReconciler(
        settings,
        bucket="uploads",
        scope=IdempotencyScope.CONTENT,
        processor="content-type",
        reports=reports,
        lookup=lookup,
        checkpoints=checkpoints,
        handle=pipeline.handle,
        key_of=key_of,
        clock=clock or FakeClock(),
        logger=logging.getLogger("s3once.test"),
    )


def test_a_small_bound_finishes_the_report_over_several_runs_and_then_does_nothing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    written = files(3, 120)  # 360 rows, 100 a run
    lookup = FakeLookup()
    never_delivered = {row.key for rows in written for row in rows[::40]}  # 9 of them
    for rows in written:
        for row in rows:
            if row.key not in never_delivered:
                lookup.complete(ObjectRef(row.bucket, row.key, row.etag, size=row.size))
    pipeline = CompletingPipeline(lookup)
    checkpoints = FakeCheckpoints()
    run = reconciler(reports_of(written), lookup, checkpoints, pipeline)

    summaries = [run.run(Invocation("r")) for _ in range(6)]

    assert sorted(obj.key for obj in pipeline.handled) == sorted(never_delivered)
    assert [s.get("done") for s in summaries] == [False, False, False, True, None, None]
    # A run stops at the first lookup batch that reaches the bound (a batch ends with a file).
    assert [s["rows_read"] for s in summaries] == [100, 120, 120, 20, 0, 0]
    assert sum(int(str(s["missing"])) for s in summaries) == 9
    assert summaries[0]["stopped_by"] == "max_rows_per_run"
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    metrics = [line for line in lines if "_aws" in line]
    assert [m["reconciled_missing"] for m in metrics] == [int(str(s["missing"])) for s in summaries]
    assert {m["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Name"] for m in metrics} == {
        "reconciled_missing"
    }


def test_a_run_stops_when_the_invocation_has_little_time_left() -> None:
    written = files(1, 2000)
    lookup = FakeLookup()
    pipeline = CompletingPipeline(lookup)
    settings = SETTINGS._replace(max_rows_per_run=10_000)
    clock = FakeClock(step_ms=2_000)  # every reading of the clock: two seconds later
    run = reconciler(reports_of(written), lookup, FakeCheckpoints(), pipeline, clock, settings)

    summary = run.run(Invocation("r", remaining_ms=30_000))

    assert summary["stopped_by"] == "remaining_time" and summary["done"] is False
    assert 0 < int(str(summary["rows_read"])) < 2000


def test_a_new_report_starts_over_and_a_refused_one_is_not_read_again() -> None:
    lookup = FakeLookup()
    checkpoints = FakeCheckpoints()
    reports = reports_of(files(1, 10), source="another-bucket")
    run = reconciler(reports, lookup, checkpoints, CompletingPipeline(lookup))

    refused = run.run(Invocation("r"))
    again = run.run(Invocation("r"))

    assert "not of the stage's bucket 'uploads'" in str(refused["error"])
    assert again["rows_read"] == 0 and "error" not in again
    reports.manifest_key = "inventory/uploads/all/2026-12-02T00-00Z/manifest.json"
    reports.manifest_value = reports_of(files(1, 10)).manifest_value
    reports.bodies = reports_of(files(1, 10)).bodies
    assert run.run(Invocation("r"))["rows_read"] == 10


def test_a_data_file_that_fails_its_checksum_refuses_the_report_naming_the_file() -> None:
    lookup = FakeLookup()
    reports = reports_of(files(1, 10))

    def corrupt(bucket: str, data: object) -> object:
        raise ChecksumMismatchError("checksum mismatch: s3://dest/data/0.csv.gz has MD5 ...")

    reports.rows = corrupt  # type: ignore[method-assign,assignment]
    summary = reconciler(reports, lookup, FakeCheckpoints(), CompletingPipeline(lookup)).run(
        Invocation("r")
    )

    assert str(summary["error"]).startswith("checksum mismatch: s3://dest/data/0.csv.gz")


def test_no_report_yet_is_a_quiet_run() -> None:
    lookup = FakeLookup()
    reports = reports_of(files(1, 1))
    reports.manifest_key = None

    summary = reconciler(reports, lookup, FakeCheckpoints(), CompletingPipeline(lookup)).run(
        Invocation("r")
    )

    assert summary["location"] == SETTINGS.location and "manifest" not in summary
    assert summary["rows_read"] == 0 and "done" not in summary and "error" not in summary


@pytest.mark.parametrize("name", ["reconcile s3://d/p/", "%sha256=x", "a#b", "content-type"])
def test_a_checkpoint_key_never_equals_an_idempotency_key(name: str) -> None:
    obj = ObjectRef(name, name, etag="e", version_id="v")
    pks = {idempotency_key(obj, scope, name) for scope in IdempotencyScope}

    assert checkpoint_key(name) not in pks
    assert checkpoint_key(name).startswith("%checkpoint=")
    assert not any(pk.startswith("%c") for pk in pks)


class ThrottledLookup(FakeLookup):
    """The lock table throttles every lookup after the first `allowed`."""

    def __init__(self, allowed: int) -> None:
        super().__init__()
        self.allowed = allowed

    def states(self, pks: Sequence[str]) -> LookupAnswer:
        if len(self.asked) >= self.allowed:
            raise RuntimeError("ProvisionedThroughputExceededException")  # as botocore's would
        return super().states(pks)


def test_a_throttled_lookup_fails_the_run_and_the_retry_redoes_the_rows_not_settled() -> None:
    written = files(1, 250)  # three lookups of 100, 100, 50
    checkpoints = FakeCheckpoints()
    pipeline = CompletingPipeline(FakeLookup())
    settings = SETTINGS._replace(max_rows_per_run=10_000)
    throttled = reconciler(
        reports_of(written), ThrottledLookup(allowed=1), checkpoints, pipeline, settings=settings
    )

    with pytest.raises(RuntimeError):
        throttled.run(Invocation("r"))

    # Nothing past what was looked up is settled: the next run reads every row again.
    healthy = reconciler(
        reports_of(written), pipeline.lookup, checkpoints, pipeline, settings=settings
    )
    summary = healthy.run(Invocation("r2"))
    assert summary["done"] is True
    assert sorted(obj.key for obj in pipeline.handled) == sorted(r.key for r in written[0])


class FailingPipeline(CompletingPipeline):
    """Every object is recorded FAILED (the processor raised), as the real pipeline answers."""

    def handle(self, event: ParsedEvent, invocation: Invocation) -> BatchSummary:
        self.handled.extend(event.objects)
        records = [{"key": obj.key, "outcome": "failed"} for obj in event.objects]
        raise IncompleteBatchError((), tuple(o.key for o in event.objects), records)


def test_uploads_that_fail_again_are_counted_and_the_run_goes_on(
    capsys: pytest.CaptureFixture[str],
) -> None:
    written = files(2, 30)
    pipeline = FailingPipeline(FakeLookup())
    run = reconciler(reports_of(written), pipeline.lookup, FakeCheckpoints(), pipeline)

    summary = run.run(Invocation("r"))

    assert summary["done"] is True and len(pipeline.handled) == 60
    assert summary["missing"] == 60
    assert summary["outcomes"] == {"failed": 60}
    [metrics] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert metrics["reconciled_missing"] == 60
