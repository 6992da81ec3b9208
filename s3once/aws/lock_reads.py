"""The tool's reads and its one write on the lock table: the records of one object, batched
lookups for a backfill, and `reprocess`'s conditional write.

Only ConditionalCheckFailedException means "the record is not in a state we may change";
everything else propagates.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from s3once.aws.session import error_code
from s3once.aws.tables import OBJECT_INDEX
from s3once.records import SUMMARY_ATTRIBUTES, RecordView, object_prefixes

BATCH_GET_LIMIT = 100  # keys per BatchGetItem request (DynamoDB's limit)


def _names(attributes: Iterable[str]) -> tuple[str, dict[str, str]]:
    names = {f"#a{i}": name for i, name in enumerate(attributes)}
    return ", ".join(names), names


def records_of_object(
    client: Any,
    table: str,
    bucket: str,
    key: str,
    processors: list[str],
    scopes: list[str],
    has_object_index: bool,
) -> list[RecordView]:
    """Every record of `bucket/key`: a Query on the by-object index and a BatchGetItem of what
    it finds, or without the index a Scan filtered on each processor and scope's `pk` prefix
    (reads the whole table)."""
    if has_object_index:
        pks = [
            item["pk"]["S"]
            for page in client.get_paginator("query").paginate(
                TableName=table,
                IndexName=OBJECT_INDEX,
                KeyConditionExpression="#k = :key AND #b = :bucket",
                ExpressionAttributeNames={"#k": "key", "#b": "bucket"},
                ExpressionAttributeValues={":key": {"S": key}, ":bucket": {"S": bucket}},
            )
            for item in page["Items"]
        ]
        return list(batch_get(client, table, pks, projection=None).values())
    prefixes = object_prefixes(processors, scopes, bucket, key)
    filters = " OR ".join(f"begins_with(#pk, :p{i})" for i in range(len(prefixes)))
    # Keys too long for a readable pk are stored under a digest: match those by attribute.
    filters += " OR (#k = :key AND #b = :bucket)"
    values: dict[str, Any] = {f":p{i}": {"S": prefix} for i, prefix in enumerate(prefixes)}
    values.update({":key": {"S": key}, ":bucket": {"S": bucket}})
    records: list[RecordView] = []
    for page in client.get_paginator("scan").paginate(
        TableName=table,
        FilterExpression=filters,
        ExpressionAttributeNames={"#pk": "pk", "#k": "key", "#b": "bucket"},
        ExpressionAttributeValues=values,
    ):
        records.extend(RecordView.from_item(item) for item in page["Items"])
    return records


def batch_get(
    client: Any,
    table: str,
    pks: list[str],
    projection: tuple[str, ...] | None = SUMMARY_ATTRIBUTES,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, RecordView]:
    """The records of `pks` that exist, by pk: the application's batched reader
    (`chalicelib/aws/lock_lookup.py`: BatchGetItem, 100 keys a request, eventually consistent,
    unprocessed keys asked again with jittered exponential backoff)."""
    from chalicelib.aws.lock_lookup import batch_get_items

    items, _ = batch_get_items(client, table, pks, projection, sleep)
    return {pk: RecordView.from_item(item) for pk, item in items.items()}


@dataclass(frozen=True)
class ReprocessAnswer:
    """What `reprocess` did: `changed` when it wrote; otherwise `record` says why not."""

    changed: bool
    record: RecordView | None
    reason: str


def make_processable(client: Any, table: str, pk: str, now_ms: int) -> ReprocessAnswer:
    """Turn a COMPLETED record into FAILED, which the next delivery acquires (keeping
    `attempts`, the fence, so no older worker can complete it). A FAILED record, an expired
    lease or no record at all is already processable; a live lease is never touched: the
    write is conditional on the status read, and a record acquired meanwhile refuses it."""
    response = client.get_item(TableName=table, Key={"pk": {"S": pk}}, ConsistentRead=True)
    if "Item" not in response:
        return ReprocessAnswer(False, None, "no record: the next delivery processes it")
    record = RecordView.from_item(response["Item"])
    if record.status == "FAILED":
        return ReprocessAnswer(False, record, "FAILED: the next delivery processes it again")
    if record.status == "IN_PROGRESS" and not record.lease_live(now_ms):
        return ReprocessAnswer(False, record, "lease expired: the next delivery takes it over")
    if record.status == "IN_PROGRESS":
        return ReprocessAnswer(False, record, "held")
    try:
        client.update_item(
            TableName=table,
            Key={"pk": {"S": pk}},
            UpdateExpression="SET #status = :failed, #error = :why, #updated = :now",
            ConditionExpression="#status = :completed AND #attempts = :attempts",
            ExpressionAttributeNames={
                "#status": "status",
                "#error": "last_error",
                "#updated": "updated_at",
                "#attempts": "attempts",
            },
            ExpressionAttributeValues={
                ":failed": {"S": "FAILED"},
                ":completed": {"S": "COMPLETED"},
                ":attempts": {"N": str(record.attempts)},
                ":why": {"S": "reprocess requested with s3once (was COMPLETED)"},
                ":now": {"N": str(now_ms)},
            },
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except ClientError as exc:
        if error_code(exc) != "ConditionalCheckFailedException":
            raise
        item: Any = exc.response.get("Item")
        current = RecordView.from_item(item) if item else None
        return ReprocessAnswer(False, current, "changed meanwhile")
    return ReprocessAnswer(True, record, "COMPLETED -> FAILED: the next delivery processes it")
