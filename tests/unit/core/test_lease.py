"""Short leases renewed while the processor works (issue 7, finding 3), on in-memory fakes."""

from __future__ import annotations

import logging
import time

import pytest

from chalicelib.core.errors import LeaseLostError
from chalicelib.core.keys import idempotency_key
from chalicelib.core.lease import LeaseKeeper, LeasePolicy
from chalicelib.core.model import IdempotencyScope, LockStatus, ObjectRef
from chalicelib.core.ports import Acquired, LeaseRequest, Release, Settled, WorkContext
from tests.fakes import FakeClock, FakeProcessor, InMemoryLockRepository
from tests.unit.core.test_service import OBJ, World, handle, outcomes

PK = "pk-1"


def held(locks: InMemoryLockRepository, clock: FakeClock, lease_ms: int = 30_000) -> int:
    now = clock.now_ms()
    acquired = locks.acquire(
        LeaseRequest(PK, ObjectRef("b", "k"), "req-1", now, now + lease_ms, now // 1000)
    )
    assert isinstance(acquired, Acquired)
    return acquired.fence


def keeper(
    locks: InMemoryLockRepository, clock: FakeClock, seconds: int = 30, deadline: int | None = None
) -> LeaseKeeper:
    fence = held(locks, clock, seconds * 1000)
    return LeaseKeeper(
        locks, PK, fence, "req-1", clock, LeasePolicy(seconds), deadline, logging.getLogger("t")
    )


def test_a_renewal_moves_the_end_of_the_lease_one_lease_ahead() -> None:
    locks, clock = InMemoryLockRepository(), FakeClock()
    lease = keeper(locks, clock)
    clock.advance(10_000)
    assert lease.renew()
    assert locks.items[PK].record.lease_expires_at_ms == clock.now + 30_000
    assert not lease.lost


def test_a_renewal_never_reaches_beyond_the_invocation() -> None:
    locks, clock = InMemoryLockRepository(), FakeClock()
    lease = keeper(locks, clock, deadline=clock.now + 12_000)
    clock.advance(10_000)
    assert lease.renew()
    assert locks.items[PK].record.lease_expires_at_ms == clock.now + 2_000
    clock.advance(2_000)
    assert not lease.renew()  # the invocation is over: nothing more to renew
    assert not lease.lost


def test_a_renewal_that_finds_the_fence_moved_stops_the_worker() -> None:
    locks, clock = InMemoryLockRepository(), FakeClock()
    lease = keeper(locks, clock)
    clock.advance(31_000)
    held(locks, clock)  # another worker takes the expired lease over
    assert not lease.renew()
    assert lease.lost
    try:
        lease.check()
    except LeaseLostError as exc:
        assert "taken over" in str(exc)
    else:
        raise AssertionError("check() did not raise")


def test_the_background_thread_renews_while_work_runs_and_stops_with_it() -> None:
    locks, clock = InMemoryLockRepository(), FakeClock()
    lease = keeper(locks, clock, seconds=1)  # renewed every 1/3 s
    with lease:
        clock.advance(500)
        time.sleep(0.8)
    renewals = lease.renewals
    assert renewals >= 1
    assert locks.items[PK].record.lease_expires_at_ms == clock.now + 1_000
    time.sleep(0.5)
    assert lease.renewals == renewals  # stopped with the work


def test_work_that_ends_first_is_not_renewed() -> None:
    locks, clock = InMemoryLockRepository(), FakeClock()
    with keeper(locks, clock) as lease:
        pass
    assert lease.renewals == 0


def test_a_worker_that_lost_its_lease_stops_and_commits_nothing() -> None:
    world = World()
    pk = idempotency_key(OBJ, IdempotencyScope.CONTENT, "fake")
    processor = FakeProcessor()

    def frozen_past_its_lease(obj: ObjectRef) -> None:
        world.clock.advance(61_000)
        assert outcomes(handle(world.pipeline(FakeProcessor()), OBJ, request_id="req-2")) == [
            ("photo.jpg", "taken_over", 2)
        ]
        work: WorkContext = processor.contexts[0]
        assert isinstance(work, LeaseKeeper)
        work.renew()  # the renewal that comes due finds the fence moved
        work.check()

    processor.behaviour = frozen_past_its_lease
    assert outcomes(handle(world.pipeline(processor), OBJ)) == [("photo.jpg", "lease_lost", 1)]
    assert processor.processed == []
    stored = world.locks.items[pk]
    assert (stored.record.status, stored.record.attempts) == (LockStatus.COMPLETED, 2)
    assert world.logs.lines[-1]["outcome"] == "lease_lost"


class CountedCompletions(InMemoryLockRepository):
    def __init__(self) -> None:
        super().__init__()
        self.completions: list[int] = []

    def complete(self, release: Release) -> Settled:
        self.completions.append(release.fence)
        return super().complete(release)


def test_a_worker_that_ignores_a_lost_lease_has_nothing_committed() -> None:
    world = World(locks=CountedCompletions())
    processor = FakeProcessor()

    def frozen_past_its_lease(obj: ObjectRef) -> None:
        world.clock.advance(61_000)
        handle(world.pipeline(FakeProcessor()), OBJ, request_id="req-2")
        work = processor.contexts[0]
        assert isinstance(work, LeaseKeeper)
        work.renew()

    processor.behaviour = frozen_past_its_lease
    assert outcomes(handle(world.pipeline(processor), OBJ)) == [("photo.jpg", "lease_lost", 1)]
    assert world.locks.completions == [2]  # type: ignore[attr-defined]  # the new holder's only


class FlakyRenewals(InMemoryLockRepository):
    """The first renewal raises (throttled past botocore's retries); later ones go through."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def renew(self, pk: str, fence: int, lease_expires_at_ms: int) -> bool:
        self.calls += 1
        if self.calls == 1:
            raise TimeoutError("throttled")
        return super().renew(pk, fence, lease_expires_at_ms)


def test_a_renewal_that_raises_is_logged_and_tried_again(
    caplog: pytest.LogCaptureFixture,
) -> None:
    locks, clock = FlakyRenewals(), FakeClock()
    lease = keeper(locks, clock, seconds=1)
    with caplog.at_level(logging.WARNING, logger="t"), lease:
        time.sleep(0.9)
    assert locks.calls >= 2
    assert lease.renewals == locks.calls - 1
    assert not lease.lost
    assert any(record.getMessage() == "lease renewal failed" for record in caplog.records)
