"""What exactly-once costs per object: the fenced lease against the original recipe.

Both run on DynamoDB Local (in memory, loopback), N objects each: a first delivery, then a
duplicate. Requests are counted on the wire; times are wall-clock medians per object.
"""

from __future__ import annotations

import contextlib
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

import boto3

from chalicelib.dynamodb_lock import DynamoDBLockRepository
from chalicelib.model import ObjectRef
from chalicelib.ports import Acquired, LeaseRequest, Release
from s3once.local_servers import OFFLINE_CREDENTIALS, dynamodb_local
from s3once.tables import create_lock_table

OBJECTS = 300


class Counter:
    def __init__(self, client: Any) -> None:
        self.requests = 0
        client.meta.events.register("before-send.dynamodb", self._count)

    def _count(self, **_: Any) -> None:
        self.requests += 1


def recipe(client: Any, table: str) -> Callable[[int], None]:
    """The blog recipe: one put_item "if not exists", nothing on completion."""

    def deliver(index: int) -> None:
        with contextlib.suppress(client.exceptions.ConditionalCheckFailedException):
            client.put_item(
                TableName=table,
                Item={"pk": {"S": f"uploads/object-{index}"}, "status": {"S": "COMPLETE"}},
                ConditionExpression="attribute_not_exists(pk)",
            )

    return deliver


def fenced(client: Any, table: str) -> Callable[[int], None]:
    """s3-once: conditional acquire, then completion conditional on the fence."""
    locks = DynamoDBLockRepository(client, table)

    def deliver(index: int) -> None:
        now = time.time_ns() // 1_000_000
        obj = ObjectRef("uploads", f"object-{index}", etag="0" * 32, sequencer="0A", size=1)
        pk = f"content#uploads#object-{index}#e={'0' * 32}"
        expires_at = now // 1000 + 86_400
        acquired = locks.acquire(LeaseRequest(pk, obj, "bench", now, now + 70_000, expires_at))
        if isinstance(acquired, Acquired):
            locks.complete(Release(pk, acquired.fence, now, expires_at, result={"size": 1}))

    return deliver


def measure(
    url: str, name: str, design: Callable[[Any, str], Callable[[int], None]]
) -> dict[str, object]:
    client = boto3.client("dynamodb", endpoint_url=url)
    table = f"bench-{design.__name__}"
    create_lock_table(client, table)
    deliver = design(client, table)
    counter = Counter(client)
    row: dict[str, object] = {"design": name}
    for phase in ("fresh", "duplicate"):
        counter.requests = 0
        timings = []
        for index in range(OBJECTS):
            started = time.perf_counter()
            deliver(index)
            timings.append((time.perf_counter() - started) * 1000)
        row[f"{phase}: requests/object"] = round(counter.requests / OBJECTS, 2)
        row[f"{phase}: ms/object (median)"] = round(statistics.median(timings), 2)
    return row


def main() -> list[dict[str, object]]:
    for name, value in OFFLINE_CREDENTIALS.items():
        os.environ.setdefault(name, value)
    with dynamodb_local() as url:
        return [
            measure(url, "blog recipe (put_item if not exists)", recipe),
            measure(url, "s3-once (fenced lease)", fenced),
        ]
