"""`s3once backfill --inventory` through the real command: only the objects of the report with
no COMPLETED record are delivered, looked up 100 at a time, never listed; the run resumes from
its checkpoint; an unusable report fails with one line naming why."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from s3once.aws.listing import upload_pk
from s3once.s3_events import Upload
from tests.cli.conftest import PROCESSOR, Stage, make_stage
from tests.cli.lambda_recorder import lambda_recorder
from tests.conftest import unique_name
from tests.inventory_data import Report, Row, data_file, fake_etag, write_report


def reports_bucket(stage: Stage) -> str:
    name = unique_name("inventory")
    stage.s3.create_bucket(Bucket=name)
    return name


def write_completed(stage: Stage, rows: list[Row]) -> None:
    """COMPLETED records of `rows`, as the function leaves them, 25 to a request."""
    for start in range(0, len(rows), 25):
        requests = []
        for row in rows[start : start + 25]:
            upload = Upload(row.bucket, row.key, row.etag, row.size)
            item = {
                "pk": {"S": upload_pk(upload, "content", PROCESSOR)},
                "status": {"S": "COMPLETED"},
                "bucket": {"S": row.bucket},
                "key": {"S": row.key},
                "attempts": {"N": "1"},
                "updated_at": {"N": "1"},
            }
            requests.append({"PutRequest": {"Item": item}})
        stage.dynamodb.batch_write_item(RequestItems={stage.table: requests})


def never_delivered(stage: Stage, keys: list[str]) -> list[Row]:
    """Objects really uploaded whose notification never arrived: no record."""
    return [
        Row(stage.bucket, key, upload.etag, upload.size)
        for key in keys
        for upload in [stage.upload(key, key.encode())]
    ]


def error_lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("Error:")]


def checkpoint(stage: Stage) -> dict[str, Any]:
    path = stage.project / ".s3once" / f"inventory-dev-{PROCESSOR}.json"
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


@pytest.mark.slow
def test_an_inventory_of_10000_objects_with_37_never_delivered_delivers_exactly_those_37(
    project: Path, dynamodb_local_url: str, moto_url: str
) -> None:
    stage = make_stage(project, dynamodb_local_url, moto_url)
    missing = never_delivered(stage, [f"logs/missing-{n:02} é+#.log" for n in range(37)])
    delivered = [
        Row(stage.bucket, f"logs/{n:05}.log", fake_etag(str(n)), 100) for n in range(10_000 - 37)
    ]
    write_completed(stage, delivered)
    objects = delivered[:5000] + missing + delivered[5000:]
    rows: list[Row] = []
    for n, row in enumerate(objects):  # 10 rows that are no upload: 5 in each data file
        rows.append(row)
        if n % 1000 == 999:
            gone = f"logs/gone-{n}.log"
            rows.append(Row(stage.bucket, gone, "", version_id="v2", is_delete_marker=True))
    report = write_report(stage.s3, reports_bucket(stage), stage.bucket, rows, files=2)

    with lambda_recorder() as recorder:
        invoked = stage.json(
            "backfill", "--inventory", report.url, "--via", "lambda",
            AWS_ENDPOINT_URL_LAMBDA=recorder.url,
        )  # fmt: skip
    processed = stage.json("backfill", "--inventory", report.url, "--from-start")
    rerun = stage.json("backfill", "--inventory", report.url)
    reread = stage.json("backfill", "--inventory", report.url, "--from-start")

    print(
        f"\n10,010 inventory rows, 37 never delivered: {invoked['requests']}"
        f" ({len(recorder.invocations)} invocations);"
        f" processed locally: {processed['requests']} ({processed['events']} events);"
        f" rerun: {rerun['requests']}; reread from the start: {reread['requests']}"
    )
    assert {r["s3"]["object"]["key"] for r in recorder.records()} == {
        quote_key(row.key) for row in missing
    }
    assert (invoked["listed"], invoked["completed"], invoked["unfinished"]) == (10_000, 9_963, 37)
    assert invoked["inventory"]["rows_read"] == 10_010
    assert invoked["inventory"]["rows_skipped"] == 10
    assert invoked["requests"]["dynamodb.BatchGetItem"] == 100
    assert len(recorder.invocations) == invoked["requests"]["lambda.Invoke"] == 4
    assert not any("List" in name for name in invoked["requests"])
    assert processed["outcomes"] == {"processed": 37} and processed["delivered"] == 37
    assert {item["key"]["S"] for item in stage.items().values()} >= {r.key for r in missing}
    assert rerun["delivered"] == 0
    assert rerun["requests"] == {"s3.GetObject": 2}  # the manifest and its checksum only
    assert rerun["inventory"]["started_at"]["done"] is True
    assert (reread["completed"], reread["unfinished"], reread["delivered"]) == (10_000, 0, 0)
    assert reread["requests"]["dynamodb.BatchGetItem"] == 100


def quote_key(key: str) -> str:
    from urllib.parse import quote_plus

    return quote_plus(key, safe="/")


def test_a_data_file_failing_its_checksum_stops_the_run_and_the_next_resumes_after_the_first(
    stage: Stage,
) -> None:
    first = never_delivered(stage, ["a/1.txt", "a/2.txt"])
    second = never_delivered(stage, ["b/1.txt", "b/2.txt", "b/3.txt"])
    done = [Row(stage.bucket, f"c/{n}.txt", fake_etag(str(n))) for n in range(5)]
    write_completed(stage, done)
    rows = first + done[:3] + second + done[3:]
    report = write_report(stage.s3, reports_bucket(stage), stage.bucket, rows, files=2)
    good = stage.s3.get_object(Bucket=report.bucket, Key=report.data_keys[1])["Body"].read()
    stage.s3.put_object(Bucket=report.bucket, Key=report.data_keys[1], Body=data_file(rows[:1]))

    stopped = stage.s3once("backfill", "--inventory", report.url)

    assert stopped.returncode == 1
    assert error_lines(stopped) == [
        f"Error: checksum mismatch: s3://{report.bucket}/{report.data_keys[1]} has MD5"
        + error_lines(stopped)[0].split(" has MD5", 1)[1]
    ]
    assert "the report states" in stopped.stderr
    assert checkpoint(stage) == {"manifest": report.url, "file_index": 1, "row": 0, "done": False}
    assert {item["key"]["S"] for item in stage.items().values()} == {
        *(row.key for row in first + done)
    }
    stage.s3.put_object(Bucket=report.bucket, Key=report.data_keys[1], Body=good)

    resumed = stage.json("backfill", "--inventory", report.url)

    assert resumed["inventory"]["rows_read"] == 5  # the second file only
    assert resumed["outcomes"] == {"processed": 3}
    assert checkpoint(stage)["done"] is True


def test_a_dry_run_counts_what_it_would_deliver_and_writes_nothing(stage: Stage) -> None:
    missing = never_delivered(stage, ["d/1.txt", "d/2.txt"])
    report = write_report(stage.s3, reports_bucket(stage), stage.bucket, missing)

    summary = stage.json("backfill", "--inventory", report.url, "--dry-run")
    text = stage.s3once("backfill", "--inventory", report.url, "--dry-run")

    assert (summary["listed"], summary["unfinished"], summary["delivered"]) == (2, 2, 0)
    assert stage.items() == {}
    assert not (stage.project / ".s3once" / f"inventory-dev-{PROCESSOR}.json").exists()
    assert "(dry run)" in text.stdout and "inventory of 1 data files read to its end" in text.stdout


def _corrupt_json(stage: Stage, report: Report) -> str:
    stage.s3.put_object(Bucket=report.bucket, Key=report.manifest_key, Body=b'{"files": [')
    stage.s3.delete_object(
        Bucket=report.bucket, Key=report.manifest_key.replace(".json", ".checksum")
    )
    return f"Error: {report.url} is not JSON: "


def _checksum_mismatch(stage: Stage, report: Report) -> str:
    body = stage.s3.get_object(Bucket=report.bucket, Key=report.manifest_key)["Body"].read()
    stage.s3.put_object(Bucket=report.bucket, Key=report.manifest_key, Body=body + b"\n")
    return f"Error: checksum mismatch: {report.url} has MD5 "


def _missing_field(stage: Stage, report: Report) -> str:
    body = json.loads(
        stage.s3.get_object(Bucket=report.bucket, Key=report.manifest_key)["Body"].read()
    )
    del body["fileSchema"]
    stage.s3.put_object(Bucket=report.bucket, Key=report.manifest_key, Body=json.dumps(body))
    stage.s3.delete_object(
        Bucket=report.bucket, Key=report.manifest_key.replace(".json", ".checksum")
    )
    return f"Error: {report.url} has no fileSchema"


@pytest.mark.parametrize("spoil", [_corrupt_json, _checksum_mismatch, _missing_field])
def test_a_corrupt_manifest_fails_with_one_line_naming_the_cause(stage: Stage, spoil: Any) -> None:
    report = write_report(
        stage.s3, reports_bucket(stage), stage.bucket, never_delivered(stage, ["x"])
    )
    expected = spoil(stage, report)

    result = stage.s3once("backfill", "--inventory", report.url)

    assert result.returncode == 1
    assert len(error_lines(result)) == 1 and error_lines(result)[0].startswith(expected)
    assert stage.items() == {}


@pytest.mark.parametrize(
    ("source", "file_format", "expected"),
    [
        ("another-bucket", "CSV", "is an inventory of bucket 'another-bucket', not of the stage's"),
        (None, "Parquet", "is in format Parquet: only CSV inventory reports are read"),
    ],
)
def test_an_inventory_of_another_bucket_or_format_fails_with_one_line_naming_it(
    stage: Stage, source: str | None, file_format: str, expected: str
) -> None:
    rows = [Row(source or stage.bucket, "k", "e")]
    report = write_report(
        stage.s3, reports_bucket(stage), source or stage.bucket, rows, file_format=file_format
    )

    result = stage.s3once("backfill", "--inventory", report.url)

    assert result.returncode == 1
    assert error_lines(result) == [
        f"Error: {report.url} {expected}" + error_lines(result)[0].split(expected, 1)[1]
    ]
    assert stage.items() == {}


def test_a_prefix_and_an_inventory_together_are_refused(stage: Stage) -> None:
    result = stage.s3once("backfill", f"s3://{stage.bucket}/", "--inventory", "s3://b/m.json")

    assert result.returncode == 2 and "give either a prefix" in result.stderr


def test_under_version_scope_only_the_latest_version_is_looked_up_and_delivered(
    stage: Stage,
) -> None:
    stage.s3.put_bucket_versioning(
        Bucket=stage.bucket, VersioningConfiguration={"Status": "Enabled"}
    )
    first = stage.upload("v/doc.txt", b"same")
    second = stage.upload("v/doc.txt", b"same")  # same content, a new version
    rows = [
        Row(stage.bucket, "v/doc.txt", first.etag, 4, str(first.version_id), is_latest=False),
        Row(stage.bucket, "v/doc.txt", second.etag, 4, str(second.version_id)),
        Row(stage.bucket, "v/gone.txt", "", version_id="dm1", is_delete_marker=True),
    ]
    report = write_report(stage.s3, reports_bucket(stage), stage.bucket, rows)

    summary = stage.json("backfill", "--inventory", report.url, IDEMPOTENCY_SCOPE="version")

    assert (summary["listed"], summary["unfinished"], summary["delivered"]) == (1, 1, 1)
    assert summary["inventory"]["rows_skipped"] == 2
    assert set(stage.items()) == {upload_pk(second, "version", PROCESSOR)}


def test_a_dry_run_via_batch_operations_writes_no_manifest_and_creates_no_job(
    stage: Stage,
) -> None:
    missing = never_delivered(stage, ["j/1.txt"])
    report = write_report(stage.s3, reports_bucket(stage), stage.bucket, missing)

    summary = stage.json(
        "backfill", "--inventory", report.url, "--via", "batch-operations", "--dry-run"
    )

    assert (summary["unfinished"], summary["manifest"], summary["job_id"]) == (1, None, None)
    listed = stage.s3.list_objects_v2(Bucket=stage.bucket).get("Contents", [])
    assert [entry["Key"] for entry in listed] == ["j/1.txt"]
