"""`s3once --local`: every operator's command works on what `make run` left in `.s3once/`,
with no AWS account and no server started by hand, as the README's quick start shows."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3

from s3once.local.state import restore_buckets, save_buckets
from tests.conftest import run_s3once as s3once
from tests.conftest import unique_name

BUCKET = "s3-once-uploads-dev"  # the dev stage's, as .chalice/config.json names it


def local_json(project: Path, *args: str) -> Any:
    result = s3once("--local", *args, "--json", cwd=project)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_the_operators_commands_work_on_the_state_make_run_left(project: Path) -> None:
    assert s3once("run", cwd=project).returncode == 0
    uploads = len([p for p in (project / "samples" / "uploads").rglob("*") if p.is_file()])

    [record] = local_json(project, "show", f"s3://{BUCKET}/hello.txt")
    assert (record["status"], record["attempts"]) == ("COMPLETED", 1)

    # The objects were kept too: a backfill lists them and finds every one finished.
    backfill = local_json(project, "backfill", "--dry-run", f"s3://{BUCKET}/")
    assert backfill["listed"] == uploads
    assert backfill["completed"] == uploads

    # A reprocess changes the kept state, and the next command sees the change.
    url = f"s3://{BUCKET}/hello.txt"
    reprocessed = s3once("--local", "reprocess", "--invoke", url, cwd=project)
    assert reprocessed.returncode == 0, reprocessed.stderr
    assert "-> processed" in reprocessed.stdout
    [record] = local_json(project, "show", f"s3://{BUCKET}/hello.txt")
    assert (record["status"], record["attempts"]) == ("COMPLETED", 2)

    status = s3once("--local", "status", cwd=project)
    assert status.returncode == 0, status.stderr
    assert "s3-once-locks-dev" in status.stdout


def test_report_reads_the_access_log_totals_a_local_run_kept(project: Path) -> None:
    assert s3once("--stage", "logs", "run", cwd=project).returncode == 0

    hours = local_json(project, "--stage", "logs", "report")

    assert isinstance(hours, dict) and hours
    assert sum(totals["requests"] for totals in hours.values()) > 0


def test_local_refuses_an_endpoint_of_its_own(project: Path) -> None:
    result = s3once("--local", "--endpoint-url", "http://127.0.0.1:1", "status", cwd=project)

    assert result.returncode == 2
    assert "--local works on the embedded server" in result.stderr


def test_the_kept_objects_are_downloaded_again_only_when_they_changed(
    tmp_path: Path, moto_url: str
) -> None:
    s3 = boto3.client("s3", endpoint_url=moto_url)
    bucket = unique_name("kept")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="a.txt", Body=b"a", ContentType="text/plain")
    s3.put_object(Bucket=bucket, Key="b.txt", Body=b"b")
    reads: list[str] = []
    s3.meta.events.register(
        "before-send.s3.GetObject", lambda request, **_: reads.append(request.url)
    )

    save_buckets(s3, [bucket], tmp_path)
    assert len(reads) == 2
    s3.put_object(Bucket=bucket, Key="b.txt", Body=b"b, changed")
    save_buckets(s3, [bucket], tmp_path)
    assert len(reads) == 3 and reads[-1].endswith("/b.txt")

    s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "a.txt"}, {"Key": "b.txt"}]})
    assert restore_buckets(s3, tmp_path) == 2
    assert s3.get_object(Bucket=bucket, Key="b.txt")["Body"].read() == b"b, changed"
    assert s3.head_object(Bucket=bucket, Key="a.txt")["ContentType"] == "text/plain"
