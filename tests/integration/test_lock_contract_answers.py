"""The lock contract where exactly-once is most at stake, held by the fake, DynamoDB Local and
moto alike: lost answers, renewals, and the effects committed with the completion.

A write applied whose answer never arrives is sent again (by botocore on DynamoDB, injected
below it; by the fake's `LostAnswers`), and the resend must read as the caller's own write.
Increments are committed exactly once, only under the fence, and refused whole when they
could never commit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from boto3.dynamodb.types import TypeDeserializer

from chalicelib.aws.dynamodb_counters import FencedCounterCommit
from chalicelib.aws.dynamodb_lock import DynamoDBLockRepository
from chalicelib.core.errors import CommitTooLargeError
from chalicelib.core.model import LockStatus
from chalicelib.core.ports import Acquired, CounterIncrement, Refused, Settled
from s3once.aws.tables import create_aggregates_table, create_lock_table
from tests.conftest import DYNAMODB_SERVERS, unique_name
from tests.fakes import LostAnswers
from tests.faults import LOST, PASS, THROTTLED_HERE, SendFaults, faults_below_botocore
from tests.integration.conftest import dynamodb_client
from tests.integration.test_lock_contract import LEASE, NOW, lease, release


@dataclass
class Store:
    """One lock store under test: its repository, a way to lose the answers of its next
    writes, and the counters its completions committed."""

    locks: Any
    lose: Callable[..., None]  # lose(operation, *faults): faults for the next sends
    counters: Callable[[], dict[str, dict[str, int]]]
    faults_left: Callable[[], int]


_OPERATIONS = {"acquire": "UpdateItem", "complete": "UpdateItem", "fail": "UpdateItem"}


@pytest.fixture(params=("memory", *DYNAMODB_SERVERS))
def store(request: pytest.FixtureRequest) -> Iterator[Store]:
    if request.param == "memory":
        fake = LostAnswers(per_step=2)

        def lose_in_memory(operation: str, *faults: str) -> None:
            if LOST in faults:
                fake.lose.add(operation)

        yield Store(fake, lose_in_memory, lambda: fake.counters, lambda: len(fake.lose))
        return
    fixture = "dynamodb_local_url" if request.param == "dynamodb-local" else "moto_url"
    client = dynamodb_client(request.getfixturevalue(fixture))
    locks_table, counters_table = unique_name("locks"), unique_name("aggregates")
    create_lock_table(client, locks_table)
    create_aggregates_table(client, counters_table)
    commit = FencedCounterCommit(client, locks_table, counters_table, max_actions=3)

    injected: list[SendFaults] = []

    def lose(operation: str, *faults: str) -> None:
        name = "TransactWriteItems" if operation == "commit" else _OPERATIONS[operation]
        injected.append(faults_below_botocore(client, name, *faults))

    def counters() -> dict[str, dict[str, int]]:
        items = client.scan(TableName=counters_table, ConsistentRead=True)["Items"]
        return {
            item["pk"]["S"]: {
                name: int(TypeDeserializer().deserialize(value))
                for name, value in item.items()
                if name != "pk"
            }
            for item in items
        }

    yield Store(
        DynamoDBLockRepository(client, locks_table, commit),
        lose,
        counters,
        lambda: sum(len(plan.pending) for plan in injected),
    )


@pytest.mark.parametrize(
    "faults",
    [(LOST,), (LOST, LOST), (LOST, THROTTLED_HERE)],
    ids=["lost", "lost twice", "lost+throttled"],
)
def test_an_acquisition_whose_answer_was_lost_is_still_ours(
    store: Store, faults: tuple[str, ...]
) -> None:
    store.lose("acquire", *faults)
    assert store.locks.acquire(lease()) == Acquired(fence=1, previous_status=None)
    assert store.faults_left() == 0
    assert isinstance(store.locks.acquire(lease(owner="req-2")), Refused)


def test_a_lost_answer_to_the_acquisition_of_a_failed_record_keeps_its_history(
    store: Store,
) -> None:
    store.locks.acquire(lease())
    assert store.locks.fail(release(1, error="boom")) is Settled.FAILED
    store.lose("acquire", LOST)
    assert store.locks.acquire(lease(owner="req-2")) == Acquired(
        fence=2, previous_status=LockStatus.FAILED
    )


def test_the_same_owner_acquiring_again_is_not_the_same_acquisition(store: Store) -> None:
    """A Lambda retry runs under the same request id: only the acquisition's token counts."""
    store.locks.acquire(lease())
    refused = store.locks.acquire(lease())
    assert isinstance(refused, Refused)


@pytest.mark.parametrize(
    ("operation", "settled"), [("complete", Settled.COMPLETED), ("fail", Settled.FAILED)]
)
@pytest.mark.parametrize(
    "faults", [(LOST,), (LOST, THROTTLED_HERE)], ids=["lost", "lost+throttled"]
)
def test_a_release_whose_answer_was_lost_reads_as_ours(
    store: Store, operation: str, settled: Settled, faults: tuple[str, ...]
) -> None:
    store.locks.acquire(lease())
    store.lose(operation, *faults)
    ending = release(1, result={"n": 1}) if operation == "complete" else release(1, error="e")
    assert getattr(store.locks, operation)(ending) is settled
    assert store.faults_left() == 0


def test_a_failure_after_our_own_completion_reads_as_completed(store: Store) -> None:
    store.locks.acquire(lease())
    assert store.locks.complete(release(1)) is Settled.COMPLETED
    assert store.locks.fail(release(1, error="late")) is Settled.COMPLETED


def test_a_release_refused_by_another_fence_is_a_lost_lease(store: Store) -> None:
    store.locks.acquire(lease())
    store.locks.acquire(lease(owner="req-2", now=NOW + LEASE + 1))
    assert store.locks.complete(release(1)) is Settled.LEASE_LOST
    assert store.locks.fail(release(1, error="stale")) is Settled.LEASE_LOST


def test_a_renewal_holds_the_lease_until_another_fence_takes_it(store: Store) -> None:
    store.locks.acquire(lease())
    assert store.locks.renew("pk-1", 1, NOW + 3 * LEASE)
    refused = store.locks.acquire(lease(owner="req-2", now=NOW + 2 * LEASE))
    assert isinstance(refused, Refused)
    assert refused.record.lease_expires_at_ms == NOW + 3 * LEASE
    store.locks.acquire(lease(owner="req-2", now=NOW + 3 * LEASE + 1))
    assert not store.locks.renew("pk-1", 1, NOW + 5 * LEASE)
    assert store.locks.renew("pk-1", 2, NOW + 5 * LEASE)


def test_a_renewal_after_our_own_completion_is_not_a_lost_lease(store: Store) -> None:
    store.locks.acquire(lease())
    store.locks.complete(release(1))
    assert store.locks.renew("pk-1", 1, NOW + 3 * LEASE)
    assert not store.locks.renew("pk-1", 2, NOW + 3 * LEASE)


INCREMENTS = tuple(CounterIncrement(f"2026-03-01T0{h}", {"requests": h + 1}) for h in range(5))
TOTALS = {item.key: dict(item.deltas) for item in INCREMENTS}


def test_increments_are_committed_with_the_completion_exactly_once(store: Store) -> None:
    store.locks.acquire(lease())
    assert store.locks.complete(release(1, increments=INCREMENTS)) is Settled.COMPLETED
    assert store.locks.complete(release(1, increments=INCREMENTS)) is Settled.COMPLETED
    assert store.faults_left() == 0
    assert store.counters() == TOTALS
    assert isinstance(store.locks.acquire(lease(owner="req-2", now=NOW + 10 * LEASE)), Refused)


def test_a_stale_worker_commits_no_increment(store: Store) -> None:
    store.locks.acquire(lease())
    store.locks.acquire(lease(owner="req-2", now=NOW + LEASE + 1))
    assert store.locks.complete(release(1, increments=INCREMENTS)) is Settled.LEASE_LOST
    assert store.counters() == {}


def test_increments_that_can_never_commit_are_refused_before_any_is_committed(
    store: Store,
) -> None:
    store.locks.acquire(lease())
    too_big = (*INCREMENTS, CounterIncrement("2026-03-01T09", {"bytes": 10**38}))
    with pytest.raises(CommitTooLargeError, match="38"):
        store.locks.complete(release(1, increments=too_big))
    assert store.counters() == {}
    assert store.locks.fail(release(1, error="CommitTooLargeError")) is Settled.FAILED


@pytest.mark.parametrize("lost_step", [1, 2, 3])
def test_a_commit_step_whose_answer_was_lost_counts_once(store: Store, lost_step: int) -> None:
    """Five keys in steps of two: the answer of one step is lost and the step sent again."""
    store.locks.acquire(lease())
    if isinstance(store.locks, LostAnswers):
        store.lose("complete", LOST)
    else:
        store.lose("commit", *([PASS] * (lost_step - 1)), LOST)
    assert store.locks.complete(release(1, increments=INCREMENTS)) is Settled.COMPLETED
    assert store.faults_left() == 0
    assert store.counters() == TOTALS
