"""How the fenced commit reads a cancelled transaction (botocore Stubber, no network)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import ANY, Stubber

from chalicelib.aws.dynamodb_counters import FencedCounterCommit
from chalicelib.core.ports import CounterIncrement, Release, Settled

RELEASE = Release(
    pk="p",
    fence=3,
    now_ms=1,
    expires_at=2,
    result={"lines": 1},
    increments=(CounterIncrement("2026-03-01T00", {"requests": 1, "status_200": 1}),),
)


@pytest.fixture
def stubbed() -> Iterator[tuple[Any, Stubber, list[float]]]:
    client = boto3.client("dynamodb", region_name="us-east-1")
    sleeps: list[float] = []
    with Stubber(client) as stubber:
        yield (
            FencedCounterCommit(client, "locks", "aggregates", sleep=sleeps.append),
            stubber,
            sleeps,
        )
        stubber.assert_no_pending_responses()


def cancelled(stubber: Stubber, *reasons: str) -> None:
    stubber.add_client_error(
        "transact_write_items",
        service_error_code="TransactionCanceledException",
        modeled_fields={"CancellationReasons": [{"Code": code} for code in reasons]},
    )


def test_a_failed_fence_condition_means_the_lease_was_lost(stubbed: Any) -> None:
    commit, stubber, _ = stubbed
    cancelled(stubber, "ConditionalCheckFailed", "None")

    assert commit.commit(RELEASE) is Settled.LEASE_LOST


def test_a_conflict_with_a_concurrent_commit_is_sent_again(stubbed: Any) -> None:
    commit, stubber, sleeps = stubbed
    cancelled(stubber, "None", "TransactionConflict")
    stubber.add_response(
        "transact_write_items", {}, {"TransactItems": ANY, "ClientRequestToken": ANY}
    )

    assert commit.commit(RELEASE) is Settled.COMPLETED
    assert len(sleeps) == 1


def test_any_other_cancellation_propagates(stubbed: Any) -> None:
    commit, stubber, _ = stubbed
    cancelled(stubber, "None", "ValidationError")

    with pytest.raises(ClientError):
        commit.commit(RELEASE)


def test_reasons_named_only_in_the_message_are_understood(stubbed: Any) -> None:
    commit, stubber, _ = stubbed
    stubber.add_client_error(
        "transact_write_items",
        service_error_code="TransactionCanceledException",
        service_message="Transaction cancelled, please refer cancellation reasons for specific"
        " reasons [ConditionalCheckFailed, None]",
    )

    assert commit.commit(RELEASE) is Settled.LEASE_LOST


def test_the_lock_action_comes_first_and_is_conditional_on_the_fence(stubbed: Any) -> None:
    commit, stubber, _ = stubbed
    seen: list[Any] = []
    stubber.add_response("transact_write_items", {}, None)
    commit._client.meta.events.register(
        "before-parameter-build.dynamodb.TransactWriteItems",
        lambda params, **_: seen.append(params),
    )

    commit.commit(RELEASE)

    lock, counter = seen[0]["TransactItems"]
    assert "#attempts = :fence" in lock["Update"]["ConditionExpression"]
    assert lock["Update"]["ExpressionAttributeValues"][":fence"] == {"N": "3"}
    assert counter["Update"]["UpdateExpression"].startswith("ADD ")


def test_a_plan_survives_its_encoding() -> None:
    from chalicelib.aws.dynamodb_counters import Plan
    from chalicelib.core.ports import CounterIncrement

    plan = Plan(
        (CounterIncrement("2026-03-01T00", {"requests": 3, "status_200": 3}),),
        {"accepted": 3, "format": "combined"},
    )
    assert Plan.decode(plan.encode()) == plan


def test_a_plan_too_large_for_a_lock_record_is_refused_by_name() -> None:
    import random

    from chalicelib.aws.dynamodb_counters import Plan
    from chalicelib.core.errors import CommitTooLargeError
    from chalicelib.core.ports import CounterIncrement

    noise = random.Random(0)
    increments = tuple(
        CounterIncrement(f"hour-{i:06d}", {f"c{j}": noise.getrandbits(60) for j in range(20)})
        for i in range(20_000)
    )
    with pytest.raises(CommitTooLargeError, match="20000 counter items"):
        Plan(increments, {}).encode()


def test_resuming_a_record_whose_fence_moved_on_is_a_lost_lease(stubbed: Any) -> None:
    commit, stubber, _ = stubbed
    stubber.add_response(
        "get_item", {"Item": {"status": {"S": "IN_PROGRESS"}, "attempts": {"N": "4"}}}
    )
    assert not commit.commit(RELEASE._replace(increments=(), resume=True))


def test_resuming_a_record_without_a_stored_plan_is_refused_by_name(stubbed: Any) -> None:
    from chalicelib.core.errors import LockStoreError

    commit, stubber, _ = stubbed
    stubber.add_response(
        "get_item", {"Item": {"status": {"S": "IN_PROGRESS"}, "attempts": {"N": "3"}}}
    )
    with pytest.raises(LockStoreError, match="no stored commit to resume"):
        commit.commit(RELEASE._replace(increments=(), resume=True))
