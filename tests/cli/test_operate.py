"""`s3once status`, `show` and `reprocess` through the real command, on DynamoDB Local and moto."""

from __future__ import annotations

import time

from s3once.aws.listing import upload_pk
from tests.cli.conftest import PROCESSOR, Stage
from tests.cli.lambda_recorder import lambda_recorder

HOUR_MS = 3_600_000


def now_ms() -> int:
    return int(time.time() * 1000)


def seed(stage: Stage) -> dict[str, str]:
    """Three processed objects, two FAILED, one held under a live lease, one stuck past it."""
    for name in ("a.txt", "b.txt", "c.txt"):
        stage.upload(f"done/{name}")
    processed = stage.s3once("backfill", f"s3://{stage.bucket}/done/")
    assert processed.returncode == 0, processed.stderr
    now = now_ms()
    return {
        "old failure": stage.put_record(
            stage.upload("f/old.txt"),
            "FAILED",
            2,
            error="ValueError: old",
            updated_ms=now - HOUR_MS,
        ),
        "new failure": stage.put_record(
            stage.upload("f/new.txt"), "FAILED", 1, error="ValueError: new", updated_ms=now - 60_000
        ),
        "live": stage.put_record(
            stage.upload("p/live.txt"), "IN_PROGRESS", 1, lease_ms=now + HOUR_MS
        ),
        "stuck": stage.put_record(
            stage.upload("p/stuck.txt"),
            "IN_PROGRESS",
            3,
            lease_ms=now - 5000,
            updated_ms=now - 2 * HOUR_MS,
        ),
    }


def test_status_counts_per_processor_and_lists_failed_and_stuck_records_newest_first(
    stage: Stage,
) -> None:
    pks = seed(stage)

    report = stage.json("status", "--exact")

    assert report["source"] == "index open-work (32 shards per status) and a scan in 16 segments"
    assert report["counts"] == {
        PROCESSOR: {"COMPLETED": 3, "FAILED": 2, "IN_PROGRESS": 2, "IN_PROGRESS past lease": 1}
    }
    attention = report["attention"]
    assert [row["pk"] for row in attention] == [
        pks["new failure"],
        pks["old failure"],
        pks["stuck"],
    ]
    assert [row["last_error"] for row in attention[:2]] == ["ValueError: new", "ValueError: old"]
    assert attention[2]["attempts"] == 3 and attention[2]["lease_live"] is False
    assert attention[0]["age_s"] >= 60

    text = stage.s3once("status")
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    [total] = [line.split() for line in lines if line.startswith("all ")]
    assert total[-3:] == ["2", "2", "1"]
    failed_rows = [line for line in lines if line.startswith(PROCESSOR + "  FAILED")]
    assert ["ValueError: new" in failed_rows[0], "ValueError: old" in failed_rows[1]] == [
        True,
        True,
    ]
    assert any(
        "IN_PROGRESS" in line and "lease ended" in line and "p/stuck.txt" in line for line in lines
    )


def test_status_without_exact_reads_only_unfinished_index_entries(stage: Stage) -> None:
    seed(stage)
    report = stage.json("status")
    # DescribeTable, then one query per shard of each open status: 2 x 32, all one page.
    assert report["requests"] == 1 + 2 * 32
    assert report["completed_exact"] is False
    assert report["counts"][PROCESSOR]["COMPLETED"] == 0  # not read
    assert report["counts"][PROCESSOR]["FAILED"] == 2
    assert report["completed_estimate"] == max(0, report["item_count"] - 4)


def test_show_prints_every_record_of_one_object_across_uploads_and_processors(
    stage: Stage,
) -> None:
    key = "reports/100% done #1.json"
    first = stage.upload(key, b"one")
    assert stage.s3once("backfill", f"s3://{stage.bucket}/reports/").returncode == 0
    second = stage.upload(key, b"two")
    assert stage.s3once("backfill", f"s3://{stage.bucket}/reports/").returncode == 0
    other = upload_pk(second, "content", "access-log")
    stage.dynamodb.put_item(
        TableName=stage.table,
        Item={
            "pk": {"S": other},
            "status": {"S": "FAILED"},
            "bucket": {"S": stage.bucket},
            "key": {"S": key},
            "attempts": {"N": "1"},
            "updated_at": {"N": str(now_ms())},
            "last_error": {"S": "NotTextError: binary"},
        },
    )
    stage.upload("reports/100% done #10.json")  # a longer key with the same prefix: not shown

    records = stage.json("show", f"s3://{stage.bucket}/{key}")

    by_pk = {record["pk"]: record for record in records}
    assert set(by_pk) == {
        upload_pk(first, "content", PROCESSOR),
        upload_pk(second, "content", PROCESSOR),
        other,
    }
    assert by_pk[other]["processor"] == "access-log"
    assert by_pk[other]["last_error"] == "NotTextError: binary"
    ours = by_pk[upload_pk(second, "content", PROCESSOR)]
    assert (ours["status"], ours["identity"], ours["key"]) == ("COMPLETED", f"e={second.etag}", key)
    assert ours["result"] == {"content_type": "text/plain", "size": 3}

    text = stage.s3once("show", f"s3://{stage.bucket}/{key}")
    assert text.returncode == 0, text.stderr
    assert text.stdout.count("status ") == 3
    assert "s3://" in stage.s3once("show", f"s3://{stage.bucket}/missing.txt").stdout


def test_reprocess_makes_a_completed_record_processable_and_invoke_processes_it_again(
    stage: Stage,
) -> None:
    upload = stage.upload("again.txt")
    assert stage.s3once("backfill", f"s3://{stage.bucket}/again.txt").returncode == 0
    pk = upload_pk(upload, "content", PROCESSOR)

    made = stage.s3once("reprocess", f"s3://{stage.bucket}/again.txt")
    assert made.returncode == 0, made.stderr
    assert "COMPLETED -> FAILED" in made.stdout
    record = stage.items()[pk]
    assert (record["status"]["S"], record["attempts"]["N"]) == ("FAILED", "1")
    assert [row["pk"] for row in stage.json("status")["attention"]] == [pk]  # in open-work

    invoked = stage.json("reprocess", f"s3://{stage.bucket}/again.txt", "--invoke")
    assert invoked["changed"] is False  # FAILED already: nothing to write
    assert [r["outcome"] for r in invoked["delivered"]["records"]] == ["processed"]
    record = stage.items()[pk]
    assert (record["status"]["S"], record["attempts"]["N"]) == ("COMPLETED", "2")
    assert "open_shard" not in record and stage.json("status")["attention"] == []


def test_reprocess_refuses_a_live_lease_naming_its_holder_and_changes_nothing(stage: Stage) -> None:
    upload = stage.upload("busy.txt")
    lease = now_ms() + HOUR_MS
    pk = stage.put_record(upload, "IN_PROGRESS", 4, lease_ms=lease, owner="req-42")
    before = stage.items()[pk]

    refused = stage.s3once("reprocess", f"s3://{stage.bucket}/busy.txt", "--invoke")

    assert refused.returncode == 1
    assert "req-42 holds its lease until" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert stage.items()[pk] == before


def test_reprocess_invokes_the_deployed_function_asynchronously_with_an_s3_event(
    stage: Stage,
) -> None:
    upload = stage.upload("dir/a b+c é.txt", b"xyz")
    with lambda_recorder() as recorder:
        result = stage.s3once(
            "reprocess",
            f"s3://{stage.bucket}/dir/a b+c é.txt",
            "--invoke",
            "--via",
            "lambda",
            AWS_ENDPOINT_URL_LAMBDA=recorder.url,
        )
    assert result.returncode == 0, result.stderr
    assert "no record" in result.stdout
    [call] = recorder.invocations
    assert (call.function, call.invocation_type) == ("s3-once-dev-on_object_created", "Event")
    [record] = call.event["Records"]
    assert record["eventName"].startswith("ObjectCreated:")
    assert record["s3"]["object"]["key"] == "dir/a+b%2Bc+%C3%A9.txt"  # as S3 encodes it
    assert record["s3"]["object"]["eTag"] == upload.etag


def test_reprocess_of_a_missing_object_says_so_in_one_line(stage: Stage) -> None:
    result = stage.s3once("reprocess", f"s3://{stage.bucket}/nothing-here.txt")
    assert result.returncode == 1
    assert result.stderr.strip() == f"Error: s3://{stage.bucket}/nothing-here.txt does not exist"
