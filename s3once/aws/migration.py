"""`s3once create-tables --migrate`: a lock table of an earlier version to the current layout.

Earlier versions indexed every record under its `status` (`by-status`, three partition-key
values: it throttles the table's writes beyond ~500 uploads/s). The migration, in order:
adds the open-work index (and by-object if missing), waiting until DynamoDB has filled it;
gives the records that are not COMPLETED but carry no open-work key (written by the earlier
code) their key, each by a write conditional on the status and fence it read, so a record the
function changed meanwhile is left to the function; then deletes `by-status`. Deploy the
current function first: records the earlier code writes after the migration would be missing
from `s3once status` until their next write.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from s3once.aws.lock_reads import parallel_scan
from s3once.aws.session import error_code

SEGMENTS = 4


@dataclass
class Migration:
    added: list[str]
    reopened: int  # open records given their open-work key
    deleted: list[str]


def open_records_into_index(client: Any, name: str, shards: int) -> int:
    """Give every record that is not COMPLETED and has no open-work key its key (one parallel
    segmented scan, one conditional write each); returns how many were written."""
    from chalicelib.aws import lock_table as t

    written = [0]
    lock = threading.Lock()

    def reopen_page(page: Mapping[str, Any]) -> None:
        for item in page["Items"]:
            if _reopen(client, name, item, shards):
                with lock:
                    written[0] += 1

    parallel_scan(
        client,
        SEGMENTS,
        reopen_page,
        TableName=name,
        FilterExpression="#s <> :completed AND attribute_not_exists(#o)",
        ProjectionExpression="#p, #s, #a, #u",
        ExpressionAttributeNames={
            "#p": t.PK,
            "#s": t.STATUS,
            "#a": t.ATTEMPTS,
            "#u": t.UPDATED_AT,
            "#o": t.OPEN_SHARD,
        },
        ExpressionAttributeValues={":completed": {"S": t.COMPLETED}},
    )
    return written[0]


def _reopen(client: Any, name: str, item: dict[str, Any], shards: int) -> bool:
    from chalicelib.aws import lock_table as t

    pk, status = item[t.PK]["S"], item[t.STATUS]["S"]
    try:
        client.update_item(
            TableName=name,
            Key={t.PK: {"S": pk}},
            UpdateExpression="SET #o = :shard, #since = :since",
            ConditionExpression="#s = :status AND #a = :attempts AND attribute_not_exists(#o)",
            ExpressionAttributeNames={
                "#o": t.OPEN_SHARD,
                "#since": t.OPEN_SINCE,
                "#s": t.STATUS,
                "#a": t.ATTEMPTS,
            },
            ExpressionAttributeValues={
                ":shard": {"S": t.open_shard(pk, status, shards)},
                ":since": item.get(t.UPDATED_AT, {"N": "0"}),
                ":status": {"S": status},
                ":attempts": item.get(t.ATTEMPTS, {"N": "0"}),
            },
        )
    except ClientError as exc:
        if error_code(exc) != "ConditionalCheckFailedException":
            raise
        return False  # changed meanwhile by the function, which keeps the key itself
    return True


def migrate(client: Any, name: str, shards: int) -> Migration:
    """Add the current indexes, key the open records, delete `by-status`."""
    from chalicelib.aws.lock_table import STATUS_INDEX
    from s3once.aws.tables import add_missing_indexes, wait_until_active

    wait_until_active(client, name)
    added = add_missing_indexes(client, name)
    wait_until_active(client, name)
    reopened = open_records_into_index(client, name, shards)
    table = client.describe_table(TableName=name)["Table"]
    deleted = []
    if any(index["IndexName"] == STATUS_INDEX for index in table.get("GlobalSecondaryIndexes", [])):
        client.update_table(
            TableName=name, GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": STATUS_INDEX}}]
        )
        wait_until_active(client, name)
        deleted.append(STATUS_INDEX)
    return Migration(added, reopened, deleted)
