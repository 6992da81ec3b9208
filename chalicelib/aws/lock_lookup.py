"""Many lock records at once: BatchGetItem, 100 keys a request, unprocessed keys asked again.

The one batched reader of the lock table, shared by the scheduled reconciliation and the
operator's `s3once backfill`. Eventually consistent reads (half the price): a record finished a
moment ago may look unfinished, and its redelivery is then skipped by the lock itself.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from chalicelib.core.errors import LockStoreError
from chalicelib.core.model import LockStatus
from chalicelib.reconcile.scan import LookupAnswer, RecordState

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

BATCH_GET_LIMIT = 100  # keys per BatchGetItem request (DynamoDB's limit)
MAX_UNPROCESSED_ROUNDS = 10
STATE_ATTRIBUTES = ("pk", "status", "lease_expires_at")


def batch_get_items(
    client: DynamoDBClient,
    table: str,
    pks: Sequence[str],
    projection: Sequence[str] | None,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[dict[str, Mapping[str, Any]], int]:
    """The items of `pks` that exist, by pk, and the number of requests made. Unprocessed keys
    are asked again with jittered exponential backoff; duplicates are asked once."""
    unique = list(dict.fromkeys(pks))
    found: dict[str, Mapping[str, Any]] = {}
    requests = 0
    for start in range(0, len(unique), BATCH_GET_LIMIT):
        request: dict[str, Any] = {
            "Keys": [{"pk": {"S": pk}} for pk in unique[start : start + BATCH_GET_LIMIT]]
        }
        if projection:
            names = {f"#a{n}": name for n, name in enumerate(projection)}
            request.update(ProjectionExpression=", ".join(names), ExpressionAttributeNames=names)
        pending: dict[str, Any] = {table: request}
        for round_ in range(MAX_UNPROCESSED_ROUNDS + 1):
            response = client.batch_get_item(RequestItems=pending)
            requests += 1
            for item in response["Responses"].get(table, []):
                found[str(item["pk"]["S"])] = item
            pending = dict(response.get("UnprocessedKeys") or {})
            if not pending:
                break
            if round_ == MAX_UNPROCESSED_ROUNDS:
                left = len(pending[table]["Keys"])
                raise LockStoreError(f"{left} keys still unprocessed after {round_} retries")
            sleep(random.uniform(0, min(5.0, 0.05 * 2**round_)))
    return found, requests


class DynamoDBRecordLookup:
    """The status and lease of each record (reconcile's `RecordLookup`)."""

    def __init__(
        self, client: DynamoDBClient, table: str, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self._client = client
        self._table = table
        self._sleep = sleep

    def states(self, pks: Sequence[str]) -> LookupAnswer:
        items, requests = batch_get_items(
            self._client, self._table, pks, STATE_ATTRIBUTES, self._sleep
        )
        return LookupAnswer({pk: _state(item) for pk, item in items.items()}, requests)


def _state(item: Mapping[str, Any]) -> RecordState:
    status = str(item.get("status", {}).get("S", ""))
    lease = item.get("lease_expires_at", {}).get("N", "0")
    return RecordState(
        LockStatus(status) if status in LockStatus._value2member_map_ else LockStatus.FAILED,
        int(lease),
    )
