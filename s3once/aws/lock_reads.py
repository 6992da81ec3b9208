"""The tool's reads and its one write on the lock table: the records of one object, batched
lookups for a backfill, and `reprocess`'s conditional write.

Only ConditionalCheckFailedException means "the record is not in a state we may change";
everything else propagates.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from s3once.aws.session import error_code
from s3once.records import RecordView, summary_attributes

BATCH_GET_LIMIT = 100  # keys per BatchGetItem request (DynamoDB's limit)


def _names(attributes: Iterable[str]) -> tuple[str, dict[str, str]]:
    names = {f"#a{i}": name for i, name in enumerate(attributes)}
    return ", ".join(names), names


def records_of_object(client: Any, table: str, bucket: str, key: str) -> list[RecordView]:
    """Every record of `bucket/key` (each processor, scope and identity): a Query on the
    by-object index, never a scan, and one BatchGetItem per 100 records it finds."""
    from chalicelib.aws import lock_table as t

    pks = [
        item[t.PK]["S"]
        for page in client.get_paginator("query").paginate(
            TableName=table,
            IndexName=t.OBJECT_INDEX,
            KeyConditionExpression="#k = :key AND #b = :bucket",
            ExpressionAttributeNames={"#k": t.KEY, "#b": t.BUCKET},
            ExpressionAttributeValues={":key": {"S": key}, ":bucket": {"S": bucket}},
        )
        for item in page["Items"]
    ]
    return list(batch_get(client, table, pks, projection=None).values())


def batch_get(
    client: Any,
    table: str,
    pks: list[str],
    projection: tuple[str, ...] | None = (),
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, RecordView]:
    """The records of `pks` that exist, by pk: the application's batched reader
    (`chalicelib/aws/lock_lookup.py`: BatchGetItem, 100 keys a request, eventually consistent,
    unprocessed keys asked again with jittered exponential backoff). `projection`: the
    attributes read, () for the summary's, None for the whole item."""
    from chalicelib.aws.lock_lookup import batch_get_items

    if projection == ():
        projection = summary_attributes()
    items, _ = batch_get_items(client, table, pks, projection, sleep)
    return {pk: RecordView.from_item(item) for pk, item in items.items()}


@dataclass(frozen=True)
class ReprocessAnswer:
    """What `reprocess` did: `changed` when it wrote; otherwise `record` says why not."""

    changed: bool
    record: RecordView | None
    reason: str


def make_processable(client: Any, table: str, pk: str, now_ms: int, shards: int) -> ReprocessAnswer:
    """Turn a COMPLETED record into FAILED, which the next delivery acquires (keeping
    `attempts`, the fence, so no older worker can complete it). A FAILED record, an expired
    lease or no record at all is already processable; a live lease is never touched: the
    write is conditional on the status read, and a record acquired meanwhile refuses it. The
    record enters the open-work index under one of `shards` shards."""
    from chalicelib.aws import lock_table as t

    response = client.get_item(TableName=table, Key={t.PK: {"S": pk}}, ConsistentRead=True)
    if "Item" not in response:
        return ReprocessAnswer(False, None, "no record: the next delivery processes it")
    record = RecordView.from_item(response["Item"])
    if record.status == t.FAILED:
        return ReprocessAnswer(False, record, "FAILED: the next delivery processes it again")
    if record.status == t.IN_PROGRESS and not record.lease_live(now_ms):
        return ReprocessAnswer(False, record, "lease expired: the next delivery takes it over")
    if record.status == t.IN_PROGRESS:
        return ReprocessAnswer(False, record, "held")
    why = "reprocess requested with s3once (was COMPLETED)"
    try:
        client.update_item(**t.reopen_request(table, pk, record.attempts, now_ms, why, shards))
    except ClientError as exc:
        if error_code(exc) != "ConditionalCheckFailedException":
            raise
        item: Any = exc.response.get("Item")
        current = RecordView.from_item(item) if item else None
        return ReprocessAnswer(False, current, "changed meanwhile")
    return ReprocessAnswer(True, record, "COMPLETED -> FAILED: the next delivery processes it")


def parallel_scan(
    client: Any, segments: int, on_page: Callable[[Mapping[str, Any]], None], **request: Any
) -> None:
    """Scan with `request` in `segments` parallel segments, each page handed to `on_page` (from
    several threads at once: it guards what it shares)."""

    def segment(number: int) -> None:
        paginator = client.get_paginator("scan")
        for page in paginator.paginate(Segment=number, TotalSegments=segments, **request):
            on_page(page)

    with ThreadPoolExecutor(max_workers=segments) as pool:
        list(pool.map(segment, range(segments)))
