"""The lock table's layout, in one place: attribute names, status values, indexes, TTL, billing.

The adapter (`dynamodb_lock.py`, `dynamodb_counters.py`) writes records with these names, the
operator's tool (`s3once`) reads them and creates the table from `table_definition`, and the
deployment templates are compared with that definition by a test (`tests/deploy/`). Every key
and index key carries its cardinality argument: how many distinct values it takes, and so how
many writes a second land on one partition-key value at the target rate (docs/capacity.md).
"""

from __future__ import annotations

import zlib
from typing import Any

from chalicelib.core.model import LockStatus
from chalicelib.core.settings import DEFAULT_OPEN_SHARDS as DEFAULT_OPEN_SHARDS  # re-exported

# The table's only key. Cardinality: one value per (processor, scope, object identity), i.e.
# per upload processed; each value is written 2 times per fresh upload (acquire, complete),
# plus renewals while a worker holds it: a handful of writes a second at most, far under
# DynamoDB's 1,000 write units a second per partition-key value, at any total rate.
PK = "pk"
STATUS = "status"
ATTEMPTS = "attempts"  # the number of acquisitions, and the fencing token
OWNER = "owner"
LEASE_EXPIRES_AT = "lease_expires_at"
LEASE_TOKEN = "lease_token"
ACQUIRED_FROM = "acquired_from"
BUCKET = "bucket"
KEY = "key"
ETAG = "etag"
VERSION_ID = "version_id"
SEQUENCER = "sequencer"
SIZE = "size"
RESULT = "result"
LAST_ERROR = "last_error"
CREATED_AT = "created_at"
UPDATED_AT = "updated_at"
EXPIRES_AT = "expires_at"  # epoch seconds; DynamoDB's TTL deletes the record after it
COUNTERS_THROUGH = "counters_through"
COUNTERS_PLAN = "counters_plan"
# The open-work index's keys, present only while a record is not COMPLETED (see below).
OPEN_SHARD = "open_shard"  # "<status>#<n>", n = crc32(pk) mod the shard count
OPEN_SINCE = "open_since"  # epoch ms of the acquisition or failure that opened the entry

IN_PROGRESS = LockStatus.IN_PROGRESS.value
COMPLETED = LockStatus.COMPLETED.value
FAILED = LockStatus.FAILED.value
STATUSES = (COMPLETED, FAILED, IN_PROGRESS)
NEW_RECORD = "NEW"  # `acquired_from` of a record the acquisition created

TTL_ATTRIBUTE = EXPIRES_AT
BILLING_MODE = "PAY_PER_REQUEST"

# open-work: the records that are not COMPLETED, and only those (a sparse index: a record
# carries `open_shard` and `open_since` while IN_PROGRESS or FAILED; the completion removes
# them in its own conditional write). Cardinality of its key `open_shard`: 2 statuses x
# OPEN_INDEX_SHARDS values. An upload's entry is put by its acquisition and deleted by its
# completion (2 writes, under 1 KB each), a failure moves it (delete + put), a retry moves it
# back, a renewal rewrites it (the lease is projected): at 10,000 uploads/s, 20,000 writes a
# second spread over the IN_PROGRESS shards. With 32 shards one value takes ~625 a second
# (~750 with 20% of uploads failing once); the capacity model's mix of failures and takeovers
# peaks at 848 on the busiest shard, under DynamoDB's 1,000 per partition-key value
# (docs/capacity.md has the arithmetic, benchmarks/capacity_model.py the simulation). The
# sort key `open_since` changes only when the entry is put, never in between.
OPEN_INDEX = "open-work"
OPEN_INDEX_PROJECTION = (
    STATUS,
    BUCKET,
    KEY,
    ATTEMPTS,
    OWNER,
    LEASE_EXPIRES_AT,
    UPDATED_AT,
    LAST_ERROR,
)
OPEN_STATUSES = (FAILED, IN_PROGRESS)
# by-status, the index of earlier versions: one entry per record under its `status` (three
# values): every acquisition and completion moved an entry of the same value, which throttles
# beyond ~500 uploads/s. `s3once create-tables --migrate` replaces it by open-work.
STATUS_INDEX = "by-status"
# by-object: every record of one bucket/key (each processor, scope and identity).
# Cardinality of its key `key`: one value per object key name (across buckets); an entry is
# written once, when a record is created (its keys never change, nothing else is projected),
# so one value takes one write per new upload of that key name: under 1,000 a second unless a
# single key is overwritten more than 1,000 times a second, beyond S3's own 3,500 writes a
# second per prefix only for a workload of one hot key.
OBJECT_INDEX = "by-object"

_ATTRIBUTE_TYPES = {PK: "S", OPEN_SHARD: "S", OPEN_SINCE: "N", KEY: "S", BUCKET: "S"}


def open_shard(pk: str, status: str, shards: int) -> str:
    """The open-work partition key of record `pk` in `status`: the same shard for the same
    record under the same shard count (crc32 is stable across processes, unlike hash())."""
    return f"{status}#{zlib.crc32(pk.encode('utf-8')) % shards}"


def open_shard_values(shards: int) -> list[str]:
    """Every open-work partition-key value under `shards`: what `s3once status` queries."""
    return [f"{status}#{n}" for status in OPEN_STATUSES for n in range(shards)]


def index_definitions() -> dict[str, dict[str, Any]]:
    """The lock table's global secondary indexes, by name, as CreateTable takes them."""
    return {
        OPEN_INDEX: {
            "IndexName": OPEN_INDEX,
            "KeySchema": [
                {"AttributeName": OPEN_SHARD, "KeyType": "HASH"},
                {"AttributeName": OPEN_SINCE, "KeyType": "RANGE"},
            ],
            "Projection": {
                "ProjectionType": "INCLUDE",
                "NonKeyAttributes": list(OPEN_INDEX_PROJECTION),
            },
        },
        OBJECT_INDEX: {
            "IndexName": OBJECT_INDEX,
            "KeySchema": [
                {"AttributeName": KEY, "KeyType": "HASH"},
                {"AttributeName": BUCKET, "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "KEYS_ONLY"},
        },
    }


def attribute_definitions(indexes: list[dict[str, Any]]) -> list[dict[str, str]]:
    """The AttributeDefinitions of the table key and of `indexes`' keys, each named once."""
    names = [PK]
    for index in indexes:
        for key in index["KeySchema"]:
            if key["AttributeName"] not in names:
                names.append(key["AttributeName"])
    return [{"AttributeName": name, "AttributeType": _ATTRIBUTE_TYPES[name]} for name in names]


def table_definition(name: str, indexes: bool = True) -> dict[str, Any]:
    """The CreateTable arguments of a lock table called `name` (TTL is set apart, after it)."""
    wanted = list(index_definitions().values()) if indexes else []
    definition: dict[str, Any] = {
        "TableName": name,
        "AttributeDefinitions": attribute_definitions(wanted),
        "KeySchema": [{"AttributeName": PK, "KeyType": "HASH"}],
        "BillingMode": BILLING_MODE,
    }
    if wanted:
        definition["GlobalSecondaryIndexes"] = wanted
    return definition


def counter_table_definition(name: str) -> dict[str, Any]:
    """The CreateTable arguments of a processor's counter table (the access-log aggregates):
    the String `pk` only, on-demand. Cardinality of `pk`: one value per UTC hour and shard
    (`<hour>#<k>`, ACCESS_LOG_SHARDS values an hour), docs/capacity.md gives the writes each
    takes."""
    return {
        "TableName": name,
        "AttributeDefinitions": [{"AttributeName": PK, "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": PK, "KeyType": "HASH"}],
        "BillingMode": BILLING_MODE,
    }


def reopen_request(
    table: str, pk: str, attempts: int, now_ms: int, why: str, shards: int
) -> dict[str, Any]:
    """The UpdateItem arguments that turn a COMPLETED record FAILED (the operator's
    `reprocess`): conditional on the status and fence read, keeping the fence, so the next
    delivery acquires it and no older worker can complete it. It enters open-work."""
    return {
        "TableName": table,
        "Key": {PK: {"S": pk}},
        "UpdateExpression": (
            "SET #status = :failed, #error = :why, #updated = :now, #shard = :shard, #since = :now"
        ),
        "ConditionExpression": "#status = :completed AND #attempts = :attempts",
        "ExpressionAttributeNames": {
            "#status": STATUS,
            "#error": LAST_ERROR,
            "#updated": UPDATED_AT,
            "#attempts": ATTEMPTS,
            "#shard": OPEN_SHARD,
            "#since": OPEN_SINCE,
        },
        "ExpressionAttributeValues": {
            ":shard": {"S": open_shard(pk, FAILED, shards)},
            ":failed": {"S": FAILED},
            ":completed": {"S": COMPLETED},
            ":attempts": {"N": str(attempts)},
            ":why": {"S": why},
            ":now": {"N": str(now_ms)},
        },
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }
