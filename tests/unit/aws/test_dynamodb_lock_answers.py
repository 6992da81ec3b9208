"""Answers of DynamoDB the lock repository must not misread (botocore Stubber, no network)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from chalicelib.aws.dynamodb_lock import DynamoDBLockRepository
from chalicelib.core.errors import ConfigurationError, LockStoreError
from chalicelib.core.model import ObjectRef
from chalicelib.core.ports import CounterIncrement, LeaseRequest, Release

LEASE = LeaseRequest("pk-1", ObjectRef("uploads", "k", etag="e"), "req-1", 1_000, 2_000, 3)


@pytest.fixture
def stubbed() -> Iterator[tuple[DynamoDBLockRepository, Stubber]]:
    client = boto3.client("dynamodb", region_name="us-east-1")
    with Stubber(client) as stubber:
        yield DynamoDBLockRepository(client, "locks"), stubber
        stubber.assert_no_pending_responses()


def test_a_failed_condition_without_the_item_is_an_error_not_a_duplicate(stubbed: Any) -> None:
    locks, stubber = stubbed
    stubber.add_client_error("update_item", service_error_code="ConditionalCheckFailedException")
    with pytest.raises(LockStoreError, match="no item was returned"):
        locks.acquire(LEASE)


def test_increments_without_a_counter_table_are_refused_before_any_request(
    stubbed: Any,
) -> None:
    locks, _ = stubbed
    release = Release("pk-1", 1, 1, 1, increments=(CounterIncrement("h", {"requests": 1}),))
    with pytest.raises(ConfigurationError, match="no counter table is set"):
        locks.complete(release)
