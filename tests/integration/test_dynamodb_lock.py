"""The DynamoDB lock repository's own promises: what it stores, costs and lets through."""

from __future__ import annotations

import json
import zlib
from decimal import Decimal
from typing import Any

import pytest
from boto3.dynamodb.types import TypeDeserializer
from botocore.awsrequest import AWSResponse, HTTPHeaders
from botocore.exceptions import ClientError

from chalicelib.aws.dynamodb_lock import DynamoDBLockRepository
from chalicelib.aws.lock_table import (
    DEFAULT_OPEN_SHARDS,
    OPEN_INDEX,
    open_shard,
    open_shard_values,
)
from chalicelib.core.model import ObjectRef
from chalicelib.core.ports import Acquired, LeaseRequest, Refused, Release, Settled
from tests.faults import LOST, THROTTLED_HERE, faults_below_botocore

NOW = 1_700_000_000_000
OBJ = ObjectRef("uploads", "dir/a b#1.txt", etag="e1", version_id="v1", sequencer="0A", size=5)


def lease(owner: str = "req-1", now: int = NOW, obj: ObjectRef = OBJ) -> LeaseRequest:
    return LeaseRequest("pk-1", obj, owner, now, now + 60_000, 1_800_000_000, token=f"t-{owner}")


def item(lock_table: tuple[Any, str]) -> dict[str, Any]:
    client, name = lock_table
    raw = client.get_item(TableName=name, Key={"pk": {"S": "pk-1"}}, ConsistentRead=True)["Item"]
    return {key: TypeDeserializer().deserialize(value) for key, value in raw.items()}


class Calls:
    """Counts the HTTP requests a client sends, per operation (retries included)."""

    def __init__(self, client: Any) -> None:
        self.operations: list[str] = []
        client.meta.events.register("before-send.dynamodb", self._record)

    def _record(self, request: Any, **_: Any) -> None:
        self.operations.append(request.headers["X-Amz-Target"].decode().split(".")[-1])


def test_an_acquisition_stores_the_documented_attributes(lock_table: tuple[Any, str]) -> None:
    DynamoDBLockRepository(*lock_table).acquire(lease())
    stored = item(lock_table)
    assert stored == {
        "pk": "pk-1",
        "status": "IN_PROGRESS",
        "attempts": 1,
        "owner": "req-1",
        "lease_expires_at": NOW + 60_000,
        "bucket": "uploads",
        "key": "dir/a b#1.txt",
        "etag": "e1",
        "version_id": "v1",
        "sequencer": "0A",
        "size": 5,
        "created_at": NOW,
        "updated_at": NOW,
        "expires_at": 1_800_000_000,
        "lease_token": "t-req-1",
        "acquired_from": "NEW",
        "open_shard": open_shard("pk-1", "IN_PROGRESS", DEFAULT_OPEN_SHARDS),
        "open_since": NOW,
    }


def test_a_record_is_in_the_open_work_index_until_completed_and_moves_when_it_fails(
    lock_table: tuple[Any, str],
) -> None:
    client, name = lock_table
    locks = DynamoDBLockRepository(client, name, open_shards=7)
    shard = zlib.crc32(b"pk-1") % 7

    def open_entries() -> list[tuple[str, int]]:
        found = []
        for value in open_shard_values(7):
            for entry in client.query(
                TableName=name,
                IndexName=OPEN_INDEX,
                KeyConditionExpression="open_shard = :v",
                ExpressionAttributeValues={":v": {"S": value}},
            )["Items"]:
                found.append((value, int(entry["open_since"]["N"])))
        return found

    locks.acquire(lease())
    assert open_entries() == [(f"IN_PROGRESS#{shard}", NOW)]
    locks.fail(Release("pk-1", 1, NOW + 5, 1_800_000_000, error="ValueError: bad"))
    assert open_entries() == [(f"FAILED#{shard}", NOW + 5)]
    locks.acquire(lease(owner="req-2", now=NOW + 9))
    assert open_entries() == [(f"IN_PROGRESS#{shard}", NOW + 9)]
    locks.complete(Release("pk-1", 2, NOW + 12, 1_800_000_100, result={}))
    assert open_entries() == []
    assert "open_shard" not in item(lock_table) and "open_since" not in item(lock_table)


def test_completion_stores_the_result_map_and_keeps_the_history(
    lock_table: tuple[Any, str],
) -> None:
    locks = DynamoDBLockRepository(*lock_table)
    locks.acquire(lease())
    locks.complete(Release("pk-1", 1, NOW + 5, 1_800_000_100, result={"size": 5, "ratio": 0.25}))
    stored = item(lock_table)
    assert stored["status"] == "COMPLETED"
    assert stored["result"] == {"size": 5, "ratio": Decimal("0.25")}
    assert (stored["attempts"], stored["created_at"], stored["updated_at"]) == (1, NOW, NOW + 5)
    assert stored["expires_at"] == 1_800_000_100


def test_reacquiring_a_failed_record_clears_the_error_and_updates_the_object(
    lock_table: tuple[Any, str],
) -> None:
    locks = DynamoDBLockRepository(*lock_table)
    locks.acquire(lease())
    locks.fail(Release("pk-1", 1, NOW + 5, 1_800_000_000, error="ValueError: bad"))
    assert item(lock_table)["last_error"] == "ValueError: bad"
    locks.acquire(lease(owner="req-2", obj=ObjectRef("uploads", "dir/a b#1.txt", etag="e1")))
    stored = item(lock_table)
    assert "last_error" not in stored
    assert "version_id" not in stored
    assert (stored["status"], stored["attempts"], stored["owner"]) == ("IN_PROGRESS", 2, "req-2")
    assert (stored["lease_token"], stored["acquired_from"]) == ("t-req-2", "FAILED")


def test_a_fresh_object_costs_two_requests_and_a_duplicate_one(lock_table: tuple[Any, str]) -> None:
    client, name = lock_table
    calls = Calls(client)
    locks = DynamoDBLockRepository(client, name)
    assert isinstance(locks.acquire(lease()), Acquired)
    locks.complete(Release("pk-1", 1, NOW + 1, 1_800_000_000, result={}))
    assert calls.operations == ["UpdateItem", "UpdateItem"]

    calls.operations.clear()
    assert isinstance(locks.acquire(lease(owner="req-2")), Refused)
    assert calls.operations == ["UpdateItem"]


def throttle(client: Any, operation: str) -> list[str]:
    """Make every `operation` request answer as DynamoDB does when throttled; returns the log."""
    seen: list[str] = []

    def answer(request: Any, **_: Any) -> AWSResponse:
        seen.append(operation)
        body = json.dumps(
            {
                "__type": "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
                "message": "Rate of requests exceeds the allowed throughput.",
            }
        ).encode()
        headers = HTTPHeaders()
        headers["Content-Type"] = "application/x-amz-json-1.0"
        return AWSResponse(request.url, 400, headers, RawBody(body))

    client.meta.events.register(f"before-send.dynamodb.{operation}", answer)
    return seen


class RawBody:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Any:
        yield self._body

    def read(self, *_: Any) -> bytes:
        return self._body


@pytest.mark.parametrize("step", ["acquire", "complete", "fail"])
def test_throttling_propagates_after_retries_and_leaves_the_record_unchanged(
    lock_table: tuple[Any, str], step: str
) -> None:
    client, name = lock_table
    locks = DynamoDBLockRepository(client, name)
    if step != "acquire":
        locks.acquire(lease())
    before = item(lock_table) if step != "acquire" else None
    attempts = throttle(client, "UpdateItem")

    with pytest.raises(ClientError) as raised:
        if step == "acquire":
            locks.acquire(lease())
        elif step == "complete":
            locks.complete(Release("pk-1", 1, NOW + 1, 1_800_000_000, result={"x": 1}))
        else:
            locks.fail(Release("pk-1", 1, NOW + 1, 1_800_000_000, error="boom"))

    assert raised.value.response["Error"]["Code"] == "ProvisionedThroughputExceededException"
    assert len(attempts) == 4  # the first try and botocore's 3 standard retries
    if before is None:
        assert "Item" not in client.get_item(TableName=name, Key={"pk": {"S": "pk-1"}})
    else:
        assert item(lock_table) == before


@pytest.mark.parametrize("code", ["AccessDeniedException", "ResourceNotFoundException"])
def test_other_errors_are_not_read_as_already_done(lock_table: tuple[Any, str], code: str) -> None:
    client, name = lock_table
    locks = DynamoDBLockRepository(
        client, name if code == "AccessDeniedException" else "no-such-table"
    )
    if code == "AccessDeniedException":

        def deny(request: Any, **_: Any) -> AWSResponse:
            body = json.dumps(
                {"__type": f"com.amazon.coral.service#{code}", "message": "no"}
            ).encode()
            return AWSResponse(request.url, 400, HTTPHeaders(), RawBody(body))

        client.meta.events.register("before-send.dynamodb.UpdateItem", deny)
    with pytest.raises(ClientError) as raised:
        locks.acquire(lease())
    assert raised.value.response["Error"]["Code"] == code


def test_a_completion_applied_then_throttled_past_retries_reads_completed_when_failed(
    lock_table: tuple[Any, str],
) -> None:
    """Its answer lost, its resends throttled until botocore gives up: the error propagates,
    and the failure the pipeline then writes finds the completion stored under our fence."""
    client, name = lock_table
    locks = DynamoDBLockRepository(client, name)
    locks.acquire(lease())
    faults = faults_below_botocore(client, "UpdateItem", LOST, *[THROTTLED_HERE] * 3)
    with pytest.raises(ClientError, match="ProvisionedThroughputExceeded"):
        locks.complete(Release("pk-1", 1, NOW + 1, 1_800_000_000, result={"x": 1}))
    assert faults.seen == [LOST, THROTTLED_HERE, THROTTLED_HERE, THROTTLED_HERE]
    assert locks.fail(Release("pk-1", 1, NOW + 2, 1_800_000_000, error="boom")) is (
        Settled.COMPLETED
    )
    assert item(lock_table)["result"] == {"x": 1}


def test_a_renewal_writes_only_the_end_of_the_lease(lock_table: tuple[Any, str]) -> None:
    locks = DynamoDBLockRepository(*lock_table)
    locks.acquire(lease())
    before = item(lock_table)
    assert locks.renew("pk-1", 1, NOW + 90_000)
    assert item(lock_table) == {**before, "lease_expires_at": NOW + 90_000}
