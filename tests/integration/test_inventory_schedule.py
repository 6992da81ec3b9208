"""The scheduled reconciliation as the composition root builds it, on DynamoDB Local and moto:
a small per-run bound finishes the newest report over several runs through its checkpoint item,
re-driving through the pipeline exactly the uploads that have no COMPLETED record."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from chalicelib.composition import reconciler_for
from chalicelib.core.keys import idempotency_key
from chalicelib.core.model import IdempotencyScope, ObjectRef
from chalicelib.core.service import Invocation
from s3once.aws.tables import create_lock_table
from tests.conftest import unique_name
from tests.inventory_data import Row, fake_etag, write_report

PROCESSOR = "content-type"


def completed_item(row: Row) -> dict[str, Any]:
    obj = ObjectRef(row.bucket, row.key, row.etag, size=row.size)
    return {
        "pk": {"S": idempotency_key(obj, IdempotencyScope.CONTENT, PROCESSOR)},
        "status": {"S": "COMPLETED"},
        "bucket": {"S": row.bucket},
        "key": {"S": row.key},
        "attempts": {"N": "1"},
    }


def test_a_small_bound_finishes_the_newest_report_over_several_runs_through_its_checkpoint(
    dynamodb_local_url: str,
    moto_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", dynamodb_local_url)
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", moto_url)
    dynamodb = boto3.client("dynamodb", endpoint_url=dynamodb_local_url)
    s3 = boto3.client("s3", endpoint_url=moto_url)
    table, bucket, reports = unique_name("locks"), unique_name("uploads"), unique_name("inv")
    create_lock_table(dynamodb, table)
    s3.create_bucket(Bucket=bucket)
    s3.create_bucket(Bucket=reports)
    missing = []
    for n in range(12):
        key = f"late/{n:02} é+#.txt"
        etag = s3.put_object(Bucket=bucket, Key=key, Body=key.encode())["ETag"].strip('"')
        missing.append(Row(bucket, key, etag, len(key.encode())))
    done = [Row(bucket, f"done/{n:03}.txt", fake_etag(str(n))) for n in range(238)]
    for start in range(0, len(done), 25):
        requests: Any = [
            {"PutRequest": {"Item": completed_item(r)}} for r in done[start : start + 25]
        ]
        dynamodb.batch_write_item(RequestItems={table: requests})
    rows = [row for pair in zip(done[:12], missing, strict=True) for row in pair] + done[12:]
    ghosts = [Row(bucket, f"ghost/{n}.txt", fake_etag(f"g{n}")) for n in range(5)]
    write_report(s3, reports, bucket, ghosts, stamp="2026-11-30T00-00Z")  # an older report
    report = write_report(s3, reports, bucket, rows, files=2)
    environ = {
        "APP_BUCKET_NAME": bucket,
        "LOCK_TABLE_NAME": table,
        "PROCESSOR": PROCESSOR,
        "INVENTORY_LOCATION": f"s3://{reports}/{report.location}",
        "INVENTORY_MAX_OBJECTS_PER_RUN": "100",
    }

    summaries = [
        reconciler_for(environ).run(Invocation(f"run-{n}", remaining_ms=60_000)) for n in range(4)
    ]

    # 125 rows a data file; a run stops at the first batch that reaches 100 rows
    assert [s["rows_read"] for s in summaries] == [100, 125, 25, 0]
    assert [s.get("done") for s in summaries] == [False, False, True, None]
    assert sum(int(str(s["missing"])) for s in summaries) == 12
    assert summaries[0]["manifest"] == report.url
    items = {item["key"]["S"]: item for item in _scan(dynamodb, table) if "key" in item}
    assert {row.key for row in missing} <= set(items)
    assert {items[row.key]["status"]["S"] for row in missing} == {"COMPLETED"}
    assert not any(key.startswith("ghost/") for key in items)
    (checkpoint,) = [item for item in _scan(dynamodb, table) if "checkpoint" in item]
    assert checkpoint["pk"]["S"].startswith("%checkpoint=")
    assert json.loads(checkpoint["checkpoint"]["S"])["done"] is True
    assert int(checkpoint["expires_at"]["N"]) > 0
    metrics = [
        json.loads(line)
        for line in capsys.readouterr().out.splitlines()
        if '"reconciled_missing"' in line and '"_aws"' in line
    ]
    assert [m["reconciled_missing"] for m in metrics] == [s["missing"] for s in summaries]
    assert [m["record_lookups"] for m in metrics] == [s["lookups"] for s in summaries]


def _scan(dynamodb: Any, table: str) -> list[dict[str, Any]]:
    return [
        item
        for page in dynamodb.get_paginator("scan").paginate(TableName=table, ConsistentRead=True)
        for item in page["Items"]
    ]
