"""How the fenced commit reads a cancelled transaction (botocore Stubber, no network)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import ANY, Stubber

from chalicelib.dynamodb_counters import FencedCounterCommit
from chalicelib.ports import CounterIncrement, Release

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

    assert commit.commit(RELEASE) is False


def test_a_conflict_with_a_concurrent_commit_is_sent_again(stubbed: Any) -> None:
    commit, stubber, sleeps = stubbed
    cancelled(stubber, "None", "TransactionConflict")
    stubber.add_response(
        "transact_write_items", {}, {"TransactItems": ANY, "ClientRequestToken": ANY}
    )

    assert commit.commit(RELEASE) is True
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

    assert commit.commit(RELEASE) is False


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
