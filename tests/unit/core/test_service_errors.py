"""What the pipeline tells when answers are lost or anything raises after an acquisition.

Issue 7's findings, on in-memory fakes: a lost answer must not read as a lost lease or a busy
object (1, 2), no error after the acquisition may leave a lease behind (3), and effects that can
never commit fail permanently before anything is committed (4).
"""

from __future__ import annotations

import pytest

from chalicelib.core.errors import CommitTooLargeError, IncompleteBatchError, InvalidEventError
from chalicelib.core.keys import idempotency_key
from chalicelib.core.model import IdempotencyScope, LockStatus, ObjectRef, ParsedEvent
from chalicelib.core.ports import CounterIncrement, Release, Settled
from chalicelib.core.service import Invocation
from tests.fakes import FakeProcessor, InMemoryLockRepository, LostAnswers, StoredLock
from tests.unit.core.test_service import OBJ, OTHER, World, handle, outcomes


def stored(world: World, obj: ObjectRef = OBJ) -> StoredLock:
    return world.locks.items[idempotency_key(obj, IdempotencyScope.CONTENT, "fake")]


def failing(obj: ObjectRef) -> None:
    if obj == OBJ:
        raise ConnectionError("downstream is down")


def test_a_lost_answer_to_the_failed_write_still_fails_the_invocation() -> None:
    """Finding 1: the resent FAILED write found its own write and read it as a lost lease."""
    world = World(locks=LostAnswers("fail"))
    result = handle(world.pipeline(FakeProcessor(behaviour=failing)), OBJ)
    assert isinstance(result, IncompleteBatchError)
    assert outcomes(result) == [("photo.jpg", "failed", 1)]
    assert stored(world).last_error == "ConnectionError: downstream is down"


def test_a_lost_answer_to_the_completion_reports_the_object_processed() -> None:
    """Finding 1: a completion whose answer was lost read as `lease_lost`."""
    world = World(locks=LostAnswers("complete"))
    assert outcomes(handle(world.pipeline(FakeProcessor()), OBJ)) == [("photo.jpg", "processed", 1)]
    assert stored(world).record.status is LockStatus.COMPLETED


def test_a_lost_answer_to_the_acquisition_is_read_as_our_own_lease() -> None:
    """Finding 2: the resent acquisition found our IN_PROGRESS record and answered `busy`."""
    world = World(locks=LostAnswers("acquire"))
    processor = FakeProcessor()
    assert outcomes(handle(world.pipeline(processor), OBJ)) == [("photo.jpg", "processed", 1)]
    assert processor.processed == [OBJ]


def test_a_resent_acquisition_of_a_failed_record_keeps_its_history() -> None:
    world = World(locks=LostAnswers())
    handle(world.pipeline(FakeProcessor(behaviour=failing)), OBJ)
    world.locks.lose.add("acquire")  # type: ignore[attr-defined]
    retry = handle(world.pipeline(FakeProcessor()), OBJ, request_id="req-2")
    assert outcomes(retry) == [("photo.jpg", "processed", 2)]


class CompletionRaises(InMemoryLockRepository):
    """The completion raises (throttled past botocore's retries, a bug, ...); `applied` says
    whether it was stored before raising (its answer lost and the resend throttled)."""

    def __init__(self, applied: bool = False, fail_raises: bool = False) -> None:
        super().__init__()
        self.applied = applied
        self.fail_raises = fail_raises

    def complete(self, release: Release) -> Settled:
        if self.applied:
            super().complete(release)
        raise TimeoutError("completion throttled past retries")

    def fail(self, release: Release) -> Settled:
        if self.fail_raises:
            raise TimeoutError("the store is down")
        return super().fail(release)


def test_a_completion_that_raises_marks_the_record_failed_and_the_others_go_on() -> None:
    """Finding 3: the completion was outside the try; the record stayed IN_PROGRESS."""
    world = World(locks=CompletionRaises())
    result = handle(world.pipeline(FakeProcessor()), OBJ, OTHER)
    assert isinstance(result, IncompleteBatchError)
    assert isinstance(result.__cause__, TimeoutError)
    assert outcomes(result) == [("photo.jpg", "failed", 1), ("other.jpg", "failed", 1)]
    assert stored(world).record.status is LockStatus.FAILED
    assert stored(world).last_error == "TimeoutError: completion throttled past retries"


def test_a_completion_stored_before_its_error_reads_as_processed() -> None:
    world = World(locks=CompletionRaises(applied=True))
    assert outcomes(handle(world.pipeline(FakeProcessor()), OBJ)) == [("photo.jpg", "processed", 1)]
    assert stored(world).record.status is LockStatus.COMPLETED


def test_when_the_failure_cannot_be_recorded_the_invocation_fails_and_the_lease_runs_out() -> None:
    world = World(locks=CompletionRaises(fail_raises=True))
    result = handle(world.pipeline(FakeProcessor()), OBJ)
    assert isinstance(result, IncompleteBatchError)
    assert outcomes(result) == [("photo.jpg", "failed", 1)]
    assert stored(world).record.status is LockStatus.IN_PROGRESS
    [line] = world.logs.lines
    assert line["release_error"] == "TimeoutError: the store is down"
    assert line["error"] == "TimeoutError: completion throttled past retries"


@pytest.mark.parametrize(
    "increments",
    [
        (CounterIncrement("2026-03-01T00", {"bytes": 10**38}),),
        tuple(CounterIncrement(f"h{i:05d}", {"requests": 1}) for i in range(10_001)),
        (CounterIncrement("2026-03-01T00", {"bytes": True}),),
    ],
    ids=["39 digits", "too many items", "not a number"],
)
def test_effects_that_can_never_commit_fail_permanently_before_any_is_committed(
    increments: tuple[CounterIncrement, ...],
) -> None:
    """Finding 4 (generic half): refused whole, before the first step, for good."""
    world = World(locks=InMemoryLockRepository(per_step=99))
    processor = FakeProcessor(increments=(CounterIncrement("a", {"requests": 1}), *increments))
    assert outcomes(handle(world.pipeline(processor), OBJ)) == [
        ("photo.jpg", "failed_permanently", 1)
    ]
    assert world.locks.counters == {}
    assert stored(world).record.status is LockStatus.FAILED
    assert (stored(world).last_error or "").startswith(CommitTooLargeError.__name__)
    assert stored(world).plan is None


def test_a_stored_plan_that_can_never_commit_fails_permanently_on_resume() -> None:
    world = World(locks=InMemoryLockRepository(per_step=1))
    processor = FakeProcessor(
        increments=(CounterIncrement("a", {"n": 1}), CounterIncrement("b", {"n": 1}))
    )

    def crash_before_second(step: int) -> None:
        if step == 2:
            raise SystemExit("killed between two steps")

    world.locks.before_step = crash_before_second
    with pytest.raises(SystemExit):
        handle(world.pipeline(processor), OBJ)
    world.locks.before_step = lambda _step: None
    increments, result = stored(world).plan or ((), None)
    stored(world).plan = ((*increments, CounterIncrement("c", {"n": 10**40})), result)
    world.clock.advance(61_000)
    assert outcomes(handle(world.pipeline(FakeProcessor()), OBJ)) == [
        ("photo.jpg", "failed_permanently", 2)
    ]
    assert world.locks.counters == {"a": {"n": 1}}


def test_a_takeover_resumes_a_commit_cut_short_and_counts_each_key_once() -> None:
    world = World(locks=InMemoryLockRepository(per_step=1))
    keys = ("a", "b", "c")
    processor = FakeProcessor(increments=tuple(CounterIncrement(k, {"n": 1}) for k in keys))

    def crash_before_third(step: int) -> None:
        if step == 3:
            raise SystemExit("killed between two steps")

    world.locks.before_step = crash_before_third
    with pytest.raises(SystemExit):
        handle(world.pipeline(processor), OBJ)
    world.locks.before_step = lambda _step: None
    world.clock.advance(61_000)
    retry = FakeProcessor()
    assert outcomes(handle(world.pipeline(retry), OBJ)) == [("photo.jpg", "taken_over", 2)]
    assert retry.processed == []
    assert world.locks.counters == {key: {"n": 1} for key in keys}


def test_invalid_records_are_logged_and_fail_the_invocation_after_the_valid_ones() -> None:
    world = World()
    event = ParsedEvent(objects=[OBJ], invalid=["Records[1].s3.object.size is not a number"])
    with pytest.raises(InvalidEventError, match=r"Records\[1\]\.s3\.object\.size"):
        world.pipeline(FakeProcessor()).handle(event, Invocation("req-1", 600_000))
    assert world.status(OBJ) is LockStatus.COMPLETED
    assert [(line["outcome"], line.get("error")) for line in world.logs.lines] == [
        ("processed", None),
        ("invalid", "Records[1].s3.object.size is not a number"),
    ]


def test_failed_and_invalid_records_together_fail_the_invocation_naming_both() -> None:
    world = World()
    event = ParsedEvent(objects=[OBJ, OTHER], invalid=["Records[2].s3.object.key is missing"])
    with pytest.raises(IncompleteBatchError) as raised:
        world.pipeline(FakeProcessor(behaviour=failing)).handle(event, Invocation("r", 600_000))
    message = str(raised.value)
    assert "1 failed (s3://uploads/photo.jpg)" in message
    assert "1 invalid (Records[2].s3.object.key is missing)" in message
    assert raised.value.invalid == ("Records[2].s3.object.key is missing",)
    assert outcomes(raised.value) == [("photo.jpg", "failed", 1), ("other.jpg", "processed", 1)]


def test_a_record_without_the_etag_its_scope_needs_does_not_stop_the_others() -> None:
    world = World()
    processor = FakeProcessor()
    no_etag = ObjectRef("uploads", "no-etag.jpg")
    with pytest.raises(
        InvalidEventError, match=r"s3\.object\.eTag is missing for 'uploads'/'no-etag\.jpg'"
    ):
        handle(world.pipeline(processor), no_etag, OTHER)
    assert processor.processed == [OTHER]
