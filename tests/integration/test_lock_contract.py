"""The lock repository contract, held by the fake and by DynamoDB Local and moto alike.

Lost answers and effects are the contract too: see test_lock_contract_answers.py.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

from chalicelib.core.model import LockStatus, ObjectRef
from chalicelib.core.ports import Acquired, LeaseRequest, Refused, Release, Settled

NOW = 1_700_000_000_000
LEASE = 60_000
# Far ahead: DynamoDB Local deletes items whose TTL has passed, as AWS does.
EXPIRES_AT = 4_000_000_000
OBJ = ObjectRef("uploads", "dir/a b#1.txt", etag="e1", sequencer="0A", size=5)


def lease(pk: str = "pk-1", owner: str = "req-1", now: int = NOW) -> LeaseRequest:
    return LeaseRequest(pk, OBJ, owner, now, now + LEASE, EXPIRES_AT)


def release(fence: int, pk: str = "pk-1", **kwargs: Any) -> Release:
    return Release(pk=pk, fence=fence, now_ms=NOW + 1, expires_at=EXPIRES_AT, **kwargs)


def test_the_first_acquisition_wins_with_fence_1(make_repository: Callable[[], Any]) -> None:
    assert make_repository().acquire(lease()) == Acquired(fence=1, previous_status=None)


def test_a_live_lease_refuses_a_second_acquisition(make_repository: Callable[[], Any]) -> None:
    locks = make_repository()
    locks.acquire(lease())
    refused = locks.acquire(lease(owner="req-2", now=NOW + LEASE - 1))
    assert isinstance(refused, Refused)
    assert (refused.record.status, refused.record.attempts, refused.record.owner) == (
        LockStatus.IN_PROGRESS,
        1,
        "req-1",
    )
    assert refused.record.lease_expires_at_ms == NOW + LEASE


def test_a_completed_record_refuses_every_later_acquisition(
    make_repository: Callable[[], Any],
) -> None:
    locks = make_repository()
    locks.acquire(lease())
    assert locks.complete(release(1, result={"size": 5, "ratio": 0.5}))
    refused = locks.acquire(lease(owner="req-2", now=NOW + 10 * LEASE))
    assert isinstance(refused, Refused)
    assert refused.record.status is LockStatus.COMPLETED


def test_an_expired_lease_is_taken_over_with_the_next_fence(
    make_repository: Callable[[], Any],
) -> None:
    locks = make_repository()
    locks.acquire(lease())
    taken = locks.acquire(lease(owner="req-2", now=NOW + LEASE + 1))
    assert taken == Acquired(fence=2, previous_status=LockStatus.IN_PROGRESS)
    assert taken.taken_over


def test_a_failed_record_is_acquired_again(make_repository: Callable[[], Any]) -> None:
    locks = make_repository()
    locks.acquire(lease())
    assert locks.fail(release(1, error="boom"))
    assert locks.acquire(lease(owner="req-2")) == Acquired(
        fence=2, previous_status=LockStatus.FAILED
    )


def test_a_stale_worker_cannot_complete_or_fail_after_a_takeover(
    make_repository: Callable[[], Any],
) -> None:
    locks = make_repository()
    locks.acquire(lease())
    locks.acquire(lease(owner="req-2", now=NOW + LEASE + 1))
    assert not locks.complete(release(1, result={"from": "stale"}))
    assert not locks.fail(release(1, error="stale"))
    assert locks.complete(release(2, result={"from": "owner"}))


def test_a_stale_worker_cannot_reopen_a_completed_record(
    make_repository: Callable[[], Any],
) -> None:
    locks = make_repository()
    locks.acquire(lease())
    assert locks.complete(release(1))
    assert locks.fail(release(1, error="late failure")) is Settled.COMPLETED
    assert locks.complete(release(1)) is Settled.COMPLETED
    refused = locks.acquire(lease(owner="req-2", now=NOW + 10 * LEASE))
    assert isinstance(refused, Refused)
    assert refused.record.status is LockStatus.COMPLETED


def test_a_lease_never_acquired_cannot_be_released(make_repository: Callable[[], Any]) -> None:
    assert not make_repository().complete(release(1, pk="never-acquired"))


@pytest.mark.dynamodb_local_only
@pytest.mark.slow
def test_racing_workers_have_exactly_one_winner_per_round(
    make_repository: Callable[[], Any],
) -> None:
    """32 threads race for one key, 50 rounds: fresh records, expired leases and FAILED records."""
    threads, rounds = 32, 50
    repositories = [make_repository() for _ in range(threads)]
    barrier = threading.Barrier(threads)
    winners: list[list[int]] = [[] for _ in range(rounds)]

    def prepare(round_no: int) -> None:
        pk = f"race-{round_no}"
        if round_no % 3 == 1:  # an IN_PROGRESS record whose holder crashed
            repositories[0].acquire(lease(pk=pk, owner="crashed", now=NOW - 2 * LEASE))
        elif round_no % 3 == 2:  # a FAILED record
            repositories[0].acquire(lease(pk=pk, owner="failed", now=NOW - 2 * LEASE))
            repositories[0].fail(release(1, pk=pk, error="boom"))

    def worker(index: int) -> None:
        for round_no in range(rounds):
            barrier.wait()
            outcome = repositories[index].acquire(lease(pk=f"race-{round_no}", owner=f"w{index}"))
            if isinstance(outcome, Acquired):
                winners[round_no].append(index)

    for round_no in range(rounds):
        prepare(round_no)
    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(timeout=120)
    assert [len(round_winners) for round_winners in winners] == [1] * rounds
