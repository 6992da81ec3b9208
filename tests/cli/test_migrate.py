"""A lock table of an earlier version (the `by-status` index) to the current layout with one
command, `s3once create-tables --migrate`, on DynamoDB Local."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from s3once.aws.listing import upload_pk
from tests.cli.conftest import PROCESSOR, Stage
from tests.conftest import unique_name

# The table `s3once create-tables` made before the open-work index: by-status and by-object.
EARLIER_INDEXES: list[Any] = [
    {
        "IndexName": "by-status",
        "KeySchema": [
            {"AttributeName": "status", "KeyType": "HASH"},
            {"AttributeName": "updated_at", "KeyType": "RANGE"},
        ],
        "Projection": {
            "ProjectionType": "INCLUDE",
            "NonKeyAttributes": ["bucket", "key", "attempts", "owner", "lease_expires_at"],
        },
    },
    {
        "IndexName": "by-object",
        "KeySchema": [
            {"AttributeName": "key", "KeyType": "HASH"},
            {"AttributeName": "bucket", "KeyType": "RANGE"},
        ],
        "Projection": {"ProjectionType": "KEYS_ONLY"},
    },
]


EARLIER_ATTRIBUTES = [
    ("pk", "S"),
    ("status", "S"),
    ("updated_at", "N"),
    ("key", "S"),
    ("bucket", "S"),
]


def earlier_stage(project: Path, dynamodb_url: str, moto_url: str) -> Stage:
    stage = Stage(project, dynamodb_url, moto_url, unique_name("locks"), unique_name("uploads"))
    stage.s3.create_bucket(Bucket=stage.bucket)
    stage.dynamodb.create_table(
        TableName=stage.table,
        AttributeDefinitions=[
            {"AttributeName": name, "AttributeType": kind} for name, kind in EARLIER_ATTRIBUTES
        ],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
        GlobalSecondaryIndexes=EARLIER_INDEXES,
    )
    return stage


def earlier_record(stage: Stage, key: str, status: str, lease_ms: int = 0) -> str:
    """A record as the earlier code wrote it: no open-work key."""
    upload = stage.upload(key)
    pk = upload_pk(upload, "content", PROCESSOR)
    stage.dynamodb.put_item(
        TableName=stage.table,
        Item={
            "pk": {"S": pk},
            "status": {"S": status},
            "bucket": {"S": stage.bucket},
            "key": {"S": key},
            "attempts": {"N": "1"},
            "owner": {"S": "earlier"},
            "lease_expires_at": {"N": str(lease_ms)},
            "updated_at": {"N": "1700000000000"},
        },
    )
    return pk


def index_names(stage: Stage) -> set[str]:
    table = stage.dynamodb.describe_table(TableName=stage.table)["Table"]
    return {index["IndexName"] for index in table.get("GlobalSecondaryIndexes", [])}


def test_migrate_replaces_by_status_and_keys_the_open_records_of_the_earlier_code(
    project: Path, own_dynamodb_local: str, moto_url: str
) -> None:
    stage = earlier_stage(project, own_dynamodb_local, moto_url)
    failed = earlier_record(stage, "a.txt", "FAILED")
    stuck = earlier_record(stage, "b.txt", "IN_PROGRESS", lease_ms=1)
    earlier_record(stage, "c.txt", "COMPLETED")

    before = stage.s3once("status")
    assert before.returncode == 1
    assert "has no open-work index" in before.stderr
    assert "s3once create-tables --migrate" in before.stderr
    noted = stage.s3once("create-tables")
    assert "create-tables --migrate` deletes it" in noted.stdout, noted.stdout

    migrated = stage.s3once("create-tables", "--migrate")

    assert migrated.returncode == 0, migrated.stderr
    assert index_names(stage) == {"open-work", "by-object"}
    assert "indexes deleted ['by-status']" in migrated.stdout, migrated.stdout
    report = stage.json("status")
    assert {row["pk"] for row in report["attention"]} == {failed, stuck}
    assert report["counts"][PROCESSOR]["FAILED"] == 1
    assert report["counts"][PROCESSOR]["IN_PROGRESS"] == 1
    items = stage.items()
    assert "open_shard" not in items[upload_pk_of(stage, "c.txt")]

    again = stage.s3once("create-tables", "--migrate")
    assert again.returncode == 0, again.stderr
    assert "0 open records keyed" in again.stdout and "deleted none" in again.stdout


def upload_pk_of(stage: Stage, key: str) -> str:
    [pk] = [pk for pk, item in stage.items().items() if item["key"]["S"] == key]
    return pk
