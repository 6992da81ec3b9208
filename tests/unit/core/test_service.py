"""The pipeline's outcomes, on in-memory fakes: every path a record can take."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest

from chalicelib.core.errors import IncompleteBatchError, ObjectNotFoundError
from chalicelib.core.keys import idempotency_key
from chalicelib.core.logs import JsonFormatter
from chalicelib.core.model import (
    IdempotencyScope,
    IgnoredRecord,
    LockStatus,
    ObjectRef,
    ParsedEvent,
)
from chalicelib.core.ports import Acquired, Acquisition, LeaseRequest, Processor, Release, Settled
from chalicelib.core.service import IdempotentPipeline, Invocation, LeasePolicy
from tests.fakes import FakeClock, FakeProcessor, InMemoryLockRepository

LEASE_S = 60
OBJ = ObjectRef("uploads", "photo.jpg", etag="e1")
OTHER = ObjectRef("uploads", "other.jpg", etag="e2")


class ListHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[dict[str, object]] = []
        self.setFormatter(JsonFormatter())

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))


@dataclass
class World:
    locks: InMemoryLockRepository = field(default_factory=InMemoryLockRepository)
    clock: FakeClock = field(default_factory=FakeClock)
    logs: ListHandler = field(default_factory=ListHandler)

    def pipeline(self, processor: Processor, lease_seconds: int = LEASE_S) -> IdempotentPipeline:
        logger = logging.getLogger(f"test.{id(self)}")
        logger.handlers = [self.logs]
        logger.propagate = False
        logger.setLevel(logging.INFO)
        return IdempotentPipeline(
            locks=self.locks,
            processor=processor,
            clock=self.clock,
            scope=IdempotencyScope.CONTENT,
            lease=LeasePolicy(lease_seconds),
            record_ttl_days=30,
            logger=logger,
        )

    def status(self, obj: ObjectRef) -> LockStatus:
        return self.locks.status(idempotency_key(obj, IdempotencyScope.CONTENT, "fake"))


def outcomes(summary_or_error: object) -> list[tuple[str, str, int]]:
    records: list[Mapping[str, Any]] = (
        summary_or_error.records
        if isinstance(summary_or_error, IncompleteBatchError)
        else summary_or_error.to_dict()["records"]  # type: ignore[attr-defined]
    )
    return [(r["key"], r["outcome"], r["attempts"]) for r in records]


def handle(pipeline: IdempotentPipeline, *objects: ObjectRef, request_id: str = "req-1") -> object:
    try:
        return pipeline.handle(ParsedEvent(objects=list(objects)), Invocation(request_id, 600_000))
    except IncompleteBatchError as exc:
        return exc


@pytest.fixture
def world() -> World:
    return World()


def test_a_fresh_object_is_processed_once_and_completed(world: World) -> None:
    processor = FakeProcessor()
    result = handle(world.pipeline(processor), OBJ)
    assert outcomes(result) == [("photo.jpg", "processed", 1)]
    assert processor.processed == [OBJ]
    assert world.status(OBJ) is LockStatus.COMPLETED


def test_a_duplicate_is_skipped_without_running_the_processor(world: World) -> None:
    processor = FakeProcessor()
    handle(world.pipeline(processor), OBJ)
    result = handle(world.pipeline(processor), OBJ, request_id="req-2")
    assert outcomes(result) == [("photo.jpg", "skipped", 1)]
    assert processor.processed == [OBJ]


def test_every_record_of_an_event_is_handled(world: World) -> None:
    processor = FakeProcessor()
    result = handle(world.pipeline(processor), OBJ, OTHER)
    assert outcomes(result) == [("photo.jpg", "processed", 1), ("other.jpg", "processed", 1)]


def test_a_record_held_by_a_live_lease_is_busy_and_the_event_is_retried(world: World) -> None:
    def deliver_again_meanwhile(obj: ObjectRef) -> None:
        if obj == OBJ:
            nested.append(handle(world.pipeline(FakeProcessor()), OBJ, OTHER, request_id="req-2"))

    nested: list[object] = []
    handle(world.pipeline(FakeProcessor(behaviour=deliver_again_meanwhile)), OBJ)
    [second] = nested
    assert isinstance(second, IncompleteBatchError)
    assert outcomes(second) == [("photo.jpg", "busy", 1), ("other.jpg", "processed", 1)]
    assert second.busy == ("s3://uploads/photo.jpg",)


def test_an_expired_lease_is_taken_over_and_completed(world: World) -> None:
    def crash(obj: ObjectRef) -> None:
        raise SystemExit("worker killed")  # not an Exception: nothing is released, as in a crash

    with pytest.raises(SystemExit):
        handle(world.pipeline(FakeProcessor(behaviour=crash)), OBJ)
    assert world.status(OBJ) is LockStatus.IN_PROGRESS

    world.clock.advance(LEASE_S * 1000 - 1)
    assert outcomes(handle(world.pipeline(FakeProcessor()), OBJ)) == [("photo.jpg", "busy", 1)]
    world.clock.advance(2)
    assert outcomes(handle(world.pipeline(FakeProcessor()), OBJ)) == [
        ("photo.jpg", "taken_over", 2)
    ]
    assert world.status(OBJ) is LockStatus.COMPLETED


def test_a_failure_is_recorded_raised_after_the_other_records_and_retried(world: World) -> None:
    def fail_on_obj(obj: ObjectRef) -> None:
        if obj == OBJ:
            raise ConnectionError("downstream is down")

    result = handle(world.pipeline(FakeProcessor(behaviour=fail_on_obj)), OBJ, OTHER)
    assert isinstance(result, IncompleteBatchError)
    assert isinstance(result.__cause__, ConnectionError)
    assert result.failed == ("s3://uploads/photo.jpg",)
    assert outcomes(result) == [("photo.jpg", "failed", 1), ("other.jpg", "processed", 1)]
    assert world.status(OBJ) is LockStatus.FAILED
    assert world.locks.items[idempotency_key(OBJ, IdempotencyScope.CONTENT, "fake")].last_error == (
        "ConnectionError: downstream is down"
    )

    retry = handle(world.pipeline(FakeProcessor()), OBJ, OTHER, request_id="req-2")
    assert outcomes(retry) == [("photo.jpg", "processed", 2), ("other.jpg", "skipped", 1)]


def test_a_permanent_failure_is_recorded_logged_as_error_and_not_retried(world: World) -> None:
    def gone(obj: ObjectRef) -> None:
        raise ObjectNotFoundError("s3://uploads/photo.jpg no longer exists")

    result = handle(world.pipeline(FakeProcessor(behaviour=gone)), OBJ)
    assert outcomes(result) == [("photo.jpg", "failed_permanently", 1)]
    assert world.status(OBJ) is LockStatus.FAILED
    [line] = world.logs.lines
    assert line["level"] == "ERROR"
    assert "no longer exists" in str(line["error"])


@pytest.mark.parametrize("first_worker_fails", [False, True])
def test_a_worker_that_lost_its_lease_changes_nothing(
    world: World, first_worker_fails: bool
) -> None:
    """A paused worker resumes after a takeover: its completion (or failure) is fenced off."""
    taken_over: list[object] = []

    def pause_beyond_lease(obj: ObjectRef) -> None:
        world.clock.advance(LEASE_S * 1000 + 1)
        taken_over.append(handle(world.pipeline(FakeProcessor()), OBJ, request_id="req-2"))
        if first_worker_fails:
            raise TimeoutError("resumed too late")

    stale = handle(world.pipeline(FakeProcessor(behaviour=pause_beyond_lease)), OBJ)
    assert outcomes(taken_over[0]) == [("photo.jpg", "taken_over", 2)]
    assert outcomes(stale) == [("photo.jpg", "lease_lost", 1)]
    stored = world.locks.items[idempotency_key(OBJ, IdempotencyScope.CONTENT, "fake")]
    assert (stored.record.status, stored.record.attempts, stored.record.owner) == (
        LockStatus.COMPLETED,
        2,
        "req-2",
    )
    assert stored.result == {"key": "photo.jpg"}


class InterruptedCommit(InMemoryLockRepository):
    """A record whose previous holder died halfway through committing its effects."""

    def __init__(self) -> None:
        super().__init__()
        self.resumed: list[int] = []

    def acquire(self, request: LeaseRequest) -> Acquisition:
        acquired = super().acquire(request)
        assert isinstance(acquired, Acquired)
        return acquired._replace(previous_status=LockStatus.IN_PROGRESS, resume_commit=True)

    def complete(self, release: Release) -> Settled:
        if release.resume:
            self.resumed.append(release.fence)
            self.items[release.pk].plan = ((), {"resumed": True})
        return super().complete(release)


def test_a_takeover_of_an_interrupted_commit_finishes_it_without_processing_again() -> None:
    world = World(locks=InterruptedCommit())
    processor = FakeProcessor()
    assert outcomes(handle(world.pipeline(processor), OBJ)) == [("photo.jpg", "taken_over", 1)]
    assert processor.processed == []
    assert world.locks.resumed == [1]  # type: ignore[attr-defined]


def test_ignored_records_are_reported_and_logged(world: World) -> None:
    summary = world.pipeline(FakeProcessor()).handle(
        ParsedEvent(ignored=[IgnoredRecord("uploads", "old.jpg", "ObjectRemoved:Delete")]),
        Invocation("req-1"),
    )
    assert summary.to_dict() == {
        "records": [{"bucket": "uploads", "key": "old.jpg", "outcome": "ignored", "attempts": 0}]
    }
    assert world.logs.lines[0]["event_name"] == "ObjectRemoved:Delete"


def test_one_canonical_log_line_per_record(world: World) -> None:
    handle(world.pipeline(FakeProcessor()), OBJ, OTHER)
    assert [line["outcome"] for line in world.logs.lines] == ["processed", "processed"]
    first = world.logs.lines[0]
    assert {"bucket", "key", "attempts", "fence", "duration_ms", "request_id", "pk"} <= set(first)
    assert (first["key"], first["attempts"], first["request_id"]) == ("photo.jpg", 1, "req-1")


def test_a_lease_lasts_its_length_whatever_the_remaining_time() -> None:
    policy = LeasePolicy(30)
    assert policy.expiry(1_000, deadline_ms=None) == 31_000
    assert policy.expiry(1_000, deadline_ms=900_000) == 31_000


def test_a_lease_never_outlasts_the_invocation() -> None:
    assert LeasePolicy(30).expiry(1_000, deadline_ms=5_000) == 5_000


def test_the_acquisition_takes_a_short_lease_even_with_minutes_left(world: World) -> None:
    handle_with = world.pipeline(FakeProcessor(behaviour=lambda _: None), lease_seconds=30)
    handle_with.handle(ParsedEvent(objects=[OBJ]), Invocation("req-1", remaining_ms=900_000))
    stored = world.locks.items[idempotency_key(OBJ, IdempotencyScope.CONTENT, "fake")]
    assert stored.record.lease_expires_at_ms == world.clock.now + 30_000
