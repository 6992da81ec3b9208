"""Effects that can never commit are refused whole, before the first step (issue 7, finding 4).

A number of 39 digits in the last step of a three-step commit used to let the first steps
commit, then fail with a ValidationException, and every takeover replayed the same stored plan.
"""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.aws.dynamodb_counters import FencedCounterCommit
from chalicelib.aws.dynamodb_lock import DynamoDBLockRepository
from chalicelib.core.errors import CommitTooLargeError, PermanentProcessingError
from chalicelib.core.model import ObjectRef
from chalicelib.core.ports import CounterIncrement, LeaseRequest, Release
from s3once.aws.tables import create_aggregates_table, create_lock_table
from tests.conftest import unique_name
from tests.integration.conftest import dynamodb_client

NOW = 1_700_000_000_000
EXPIRES_AT = 4_000_000_000


def repository(url: str) -> tuple[Any, DynamoDBLockRepository, str, str]:
    client = dynamodb_client(url)
    locks, aggregates = unique_name("locks"), unique_name("aggregates")
    create_lock_table(client, locks)
    create_aggregates_table(client, aggregates)
    commit = FencedCounterCommit(client, locks, aggregates, max_actions=3)
    return client, DynamoDBLockRepository(client, locks, commit), locks, aggregates


@pytest.mark.parametrize("value", [10**38, -(10**38)])
def test_a_number_beyond_38_digits_in_a_later_step_fails_before_any_step_commits(
    dynamodb_url: str, value: int
) -> None:
    client, locks, lock_table, aggregates = repository(dynamodb_url)
    locks.acquire(LeaseRequest("pk-1", ObjectRef("b", "k"), "req-1", NOW, NOW + 60_000, EXPIRES_AT))
    increments = tuple(CounterIncrement(f"2026-03-01T0{h}", {"bytes": 1}) for h in range(5))
    increments += (CounterIncrement("2026-03-01T09", {"bytes": value}),)

    with pytest.raises(CommitTooLargeError, match="38") as raised:
        locks.complete(Release("pk-1", 1, NOW + 1, EXPIRES_AT, increments=increments))

    assert isinstance(raised.value, PermanentProcessingError)
    assert client.scan(TableName=aggregates, ConsistentRead=True)["Items"] == []
    record = client.get_item(TableName=lock_table, Key={"pk": {"S": "pk-1"}}, ConsistentRead=True)
    assert "counters_through" not in record["Item"]


def test_a_commit_of_several_steps_leaves_the_open_work_index_only_with_its_last_step(
    dynamodb_url: str,
) -> None:
    client, locks, lock_table, _ = repository(dynamodb_url)
    locks.acquire(LeaseRequest("pk-1", ObjectRef("b", "k"), "req-1", NOW, NOW + 60_000, EXPIRES_AT))
    increments = tuple(CounterIncrement(f"2026-03-01T0{h}", {"bytes": 1}) for h in range(5))
    seen: list[bool] = []

    def before_each_step(**_: Any) -> None:
        record = client.get_item(TableName=lock_table, Key={"pk": {"S": "pk-1"}})["Item"]
        seen.append("open_shard" in record and "open_since" in record)

    client.meta.events.register("before-call.dynamodb.TransactWriteItems", before_each_step)
    locks.complete(Release("pk-1", 1, NOW + 1, EXPIRES_AT, increments=increments))

    assert seen == [True, True, True]  # 5 increments, 2 a step beside the lock record
    record = client.get_item(TableName=lock_table, Key={"pk": {"S": "pk-1"}}, ConsistentRead=True)
    assert record["Item"]["status"]["S"] == "COMPLETED"
    assert "open_shard" not in record["Item"] and "open_since" not in record["Item"]
