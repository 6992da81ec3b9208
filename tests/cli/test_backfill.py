"""`s3once backfill` through the real command: only unfinished objects are delivered, a second
run redoes nothing finished, an interrupted run resumes, and the request counts stay bounded."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
import pytest

from s3once.aws.listing import upload_pk
from s3once.s3_events import Upload, put_upload
from tests.cli.conftest import PROCESSOR, Stage, make_stage
from tests.cli.lambda_recorder import lambda_recorder
from tests.conftest import PROJECT_DIR
from tests.faults import THROTTLED, FaultRule, dynamodb_operation, fault_proxy

HOUR_MS = 3_600_000


def statuses(stage: Stage) -> dict[str, tuple[str, str, str]]:
    """key -> (status, attempts, owner)."""
    return {
        item["key"]["S"]: (item["status"]["S"], item["attempts"]["N"], item["owner"]["S"])
        for item in stage.items().values()
    }


def test_backfill_delivers_only_what_is_unfinished_and_a_second_run_nothing(stage: Stage) -> None:
    keys = [f"in/{n:02}.txt" for n in range(6)] + ["in/a b+c.txt", "in/é #1 100%.txt"]
    uploads = {key: stage.upload(key, key.encode()) for key in keys}
    now = int(time.time() * 1000)
    for key in keys[:3]:
        stage.put_record(uploads[key], "COMPLETED", owner="earlier")
    stage.put_record(uploads[keys[3]], "FAILED", 1, error="ValueError: boom")
    stage.put_record(uploads[keys[4]], "IN_PROGRESS", 2, lease_ms=now - 1000)  # stuck
    stage.put_record(uploads[keys[5]], "IN_PROGRESS", 1, lease_ms=now + HOUR_MS, owner="live")

    first = stage.json(
        "backfill", f"s3://{stage.bucket}/in/", "--records-per-event", "2", "--concurrency", "2"
    )

    assert (first["listed"], first["completed"], first["held"], first["unfinished"]) == (8, 3, 1, 4)
    assert first["delivered"] == 4 and first["events"] == 2
    assert first["outcomes"] == {"processed": 3, "taken_over": 1}
    assert first["requests"]["dynamodb.BatchGetItem"] == 1
    assert first["requests"]["s3.ListObjectsV2"] == 1
    after = statuses(stage)
    assert {key: after[key] for key in keys[:3]} == {
        k: ("COMPLETED", "1", "earlier") for k in keys[:3]
    }
    assert after[keys[3]][:2] == ("COMPLETED", "2")
    assert after[keys[4]][:2] == ("COMPLETED", "3")
    assert after[keys[5]] == ("IN_PROGRESS", "1", "live")
    assert {after[key][:2] for key in keys[6:]} == {("COMPLETED", "1")}

    second = stage.json("backfill", f"s3://{stage.bucket}/in/")
    assert (second["completed"], second["held"], second["unfinished"], second["delivered"]) == (
        7,
        1,
        0,
        0,
    )
    assert statuses(stage) == after


def test_backfill_dry_run_counts_but_delivers_nothing(stage: Stage) -> None:
    stage.upload("dry/a.txt")
    stage.upload("dry/b.txt")
    summary = stage.json("backfill", f"s3://{stage.bucket}/dry/", "--dry-run")
    assert (summary["listed"], summary["unfinished"], summary["delivered"]) == (2, 2, 0)
    assert stage.items() == {}
    text = stage.s3once("backfill", f"s3://{stage.bucket}/dry/", "--dry-run")
    assert "(dry run)" in text.stdout and "2 unfinished" in text.stdout


def _upload_many(s3: Any, bucket: str, keys: list[str]) -> list[Upload]:
    with ThreadPoolExecutor(max_workers=16) as pool:
        return list(
            pool.map(lambda key: put_upload(s3, bucket, key, key.encode(), "text/plain"), keys)
        )


def _write_completed(dynamodb: Any, table: str, uploads: list[Upload]) -> None:
    for start in range(0, len(uploads), 25):
        requests = [
            {
                "PutRequest": {
                    "Item": {
                        "pk": {"S": upload_pk(upload, "content", PROCESSOR)},
                        "status": {"S": "COMPLETED"},
                        "bucket": {"S": upload.bucket},
                        "key": {"S": upload.key},
                        "attempts": {"N": "1"},
                        "updated_at": {"N": "1"},
                    }
                }
            }
            for upload in uploads[start : start + 25]
        ]
        dynamodb.batch_write_item(RequestItems={table: requests})


@pytest.mark.slow
def test_backfill_of_10000_objects_with_100_unfinished_costs_100_lookups_and_100_deliveries(
    project: Path, dynamodb_local_url: str, moto_url: str
) -> None:
    with fault_proxy(dynamodb_local_url) as proxy:
        lookups = FaultRule(dynamodb_operation("BatchGetItem"), THROTTLED, after=10**9)
        proxy.rules.append(lookups)  # never answers a fault: counts the requests that pass
        stage = make_stage(project, proxy.url, moto_url)
        keys = [f"logs/{n:05}.log" for n in range(10_000)]
        uploads = _upload_many(stage.s3, stage.bucket, keys)
        unfinished = {upload.key for upload in uploads[::100]}
        _write_completed(
            stage.dynamodb, stage.table, [u for u in uploads if u.key not in unfinished]
        )
        lookups.seen = 0
        with lambda_recorder() as recorder:
            summary = stage.json(
                "backfill",
                f"s3://{stage.bucket}/logs/",
                "--via",
                "lambda",
                AWS_ENDPOINT_URL_LAMBDA=recorder.url,
            )

    assert (summary["listed"], summary["completed"], summary["unfinished"]) == (10_000, 9_900, 100)
    assert lookups.seen <= 100  # counted on the wire
    assert summary["requests"]["dynamodb.BatchGetItem"] == lookups.seen  # and by botocore hooks
    assert len(recorder.records()) == summary["delivered"] == 100
    assert {record["s3"]["object"]["key"] for record in recorder.records()} == unfinished
    assert len(recorder.invocations) == summary["requests"]["lambda.Invoke"] == 10
    assert summary["requests"]["s3.ListObjectsV2"] == 10
    assert {call.invocation_type for call in recorder.invocations} == {"Event"}


def _popen_s3once(stage: Stage, *args: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT_URL")}
    env.update(PYTHONPATH=str(PROJECT_DIR), **stage.env())
    return subprocess.Popen(
        [sys.executable, "-m", "s3once", *args],
        cwd=stage.project,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow
def test_an_interrupted_backfill_resumes_without_redoing_anything_finished(
    project: Path, dynamodb_local_url: str, moto_url: str
) -> None:
    stage = make_stage(project, dynamodb_local_url, moto_url)
    keys = [f"big/{n:04}.txt" for n in range(300)]
    _upload_many(stage.s3, stage.bucket, keys)
    url = f"s3://{stage.bucket}/big/"
    running = _popen_s3once(
        stage, "backfill", url, "--concurrency", "1", "--records-per-event", "1", "--json"
    )
    deadline = time.monotonic() + 120
    while len(stage.items()) < 20 and time.monotonic() < deadline:
        time.sleep(0.05)
    running.send_signal(signal.SIGINT)
    stdout, stderr = running.communicate(timeout=120)

    assert running.returncode == 130, stderr
    interrupted = json.loads(stdout)
    assert interrupted["interrupted"] is True
    done = statuses(stage)
    assert 20 <= len(done) < 300
    assert {value[:2] for value in done.values()} == {("COMPLETED", "1")}  # none left held

    resumed = stage.json("backfill", url)

    assert resumed["completed"] == len(done)
    assert resumed["delivered"] == 300 - len(done)
    final = statuses(stage)
    assert len(final) == 300
    assert {value[:2] for value in final.values()} == {("COMPLETED", "1")}  # nothing twice
    assert {key: final[key] for key in done} == done


def test_backfill_lookups_ask_again_for_unprocessed_keys_with_backoff() -> None:
    from botocore.stub import Stubber

    from s3once.aws.lock_reads import batch_get

    client = boto3.client("dynamodb", region_name="us-east-1")
    keys = [{"pk": {"S": f"k{n}"}} for n in range(3)]
    item = {"pk": {"S": "k0"}, "status": {"S": "COMPLETED"}}
    sleeps: list[float] = []
    with Stubber(client) as stubber:
        stubber.add_response(
            "batch_get_item",
            {"Responses": {"t": [item]}, "UnprocessedKeys": {"t": {"Keys": keys[1:]}}},
        )
        stubber.add_response(
            "batch_get_item",
            {"Responses": {"t": [{"pk": {"S": "k2"}, "status": {"S": "FAILED"}}]}},
            {"RequestItems": {"t": {"Keys": keys[1:]}}},
        )
        found = batch_get(client, "t", ["k0", "k1", "k2"], projection=None, sleep=sleeps.append)
        stubber.assert_no_pending_responses()
    assert {pk: record.status for pk, record in found.items()} == {
        "k0": "COMPLETED",
        "k2": "FAILED",
    }
    assert len(sleeps) == 1


def test_backfill_under_version_scope_tells_versions_apart(stage: Stage) -> None:
    stage.s3.put_bucket_versioning(
        Bucket=stage.bucket, VersioningConfiguration={"Status": "Enabled"}
    )
    first = stage.upload("v/doc.txt", b"same")
    url = f"s3://{stage.bucket}/v/"
    done = stage.json("backfill", url, IDEMPOTENCY_SCOPE="version")
    assert (done["listed"], done["delivered"]) == (1, 1)
    second = stage.upload("v/doc.txt", b"same")  # same content, a new version
    assert first.etag == second.etag and first.version_id != second.version_id

    again = stage.json("backfill", url, IDEMPOTENCY_SCOPE="version")

    assert (again["listed"], again["unfinished"], again["delivered"]) == (1, 1, 1)
    assert again["requests"]["s3.ListObjectVersions"] == 1
    pks = set(stage.items())
    assert pks == {
        upload_pk(first, "version", PROCESSOR),
        upload_pk(second, "version", PROCESSOR),
    }
    assert all("#v=" in pk for pk in pks)
