"""The access-log feature end to end: the Chalice handler, the tables, and `s3once report`."""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from s3once.aws.tables import create_aggregates_table
from s3once.commands.report import read_totals
from s3once.s3_events import created_event, put_upload
from tests.access_log_data import SAMPLES_START, log_bytes, requests, truth
from tests.conftest import PROJECT_DIR, unique_name
from tests.conftest import run_s3once as s3once
from tests.e2e.conftest import AppUnderTest


def test_the_handler_counts_each_log_once_and_reports_it(
    make_app: Callable[..., AppUnderTest], dynamodb_local_url: str, moto_url: str, tmp_path: Path
) -> None:
    aggregates = unique_name("aggregates")
    app = make_app(PROCESSOR="access-log", AGGREGATES_TABLE_NAME=aggregates)
    create_aggregates_table(app.dynamodb, aggregates)
    combined, s3_items = requests(200, hours=5, seed=21), requests(100, hours=5, seed=22)
    uploads = [
        put_upload(
            app.s3, app.bucket, "web/access.log", log_bytes(combined, "combined"), "text/plain"
        ),
        put_upload(
            app.s3, app.bucket, "s3/log", gzip.compress(log_bytes(s3_items, "s3")), "text/plain"
        ),
        put_upload(app.s3, app.bucket, "bin/blob", os.urandom(4096), "application/octet-stream"),
    ]

    first = app.invoke(created_event(*uploads))
    second = app.invoke(created_event(*uploads))
    expected = truth(combined + s3_items)
    endpoints = {"AWS_ENDPOINT_URL": moto_url, "AWS_ENDPOINT_URL_DYNAMODB": dynamodb_local_url}
    report = s3once(
        "report", "--json", cwd=PROJECT_DIR, AGGREGATES_TABLE_NAME=aggregates, **endpoints
    )
    png = tmp_path / "chart.png"
    text = s3once(
        "report", "--png", str(png), cwd=PROJECT_DIR, AGGREGATES_TABLE_NAME=aggregates, **endpoints
    )

    assert [r["outcome"] for r in first["records"]] == [
        "processed",
        "processed",
        "failed_permanently",
    ]
    # A FAILED record may be tried again (the core's rule); the binary object fails again.
    assert [r["outcome"] for r in second["records"]] == [
        "skipped",
        "skipped",
        "failed_permanently",
    ]
    hours = read_totals(app.dynamodb, aggregates)
    assert {hour: totals.to_json() for hour, totals in hours.items()} == expected
    assert report.returncode == 0, report.stderr
    assert json.loads(report.stdout) == expected
    assert text.returncode == 0, text.stderr
    assert text.stdout.splitlines()[-2].split()[:2] == ["total", str(len(combined) + len(s3_items))]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
def test_make_run_then_report_shows_the_samples_totals_unchanged_by_a_second_run(
    project: Path,
) -> None:
    # samples/access-logs was generated from these requests (tests/access_log_data.py); the
    # run also uploads a changed copy of the first file (apache/access.log), a new object
    # whose requests count once more.
    apache, nginx, s3 = (
        requests(40, 3, seed=1, start=SAMPLES_START),
        requests(30, 4, seed=2, start=SAMPLES_START),
        requests(30, 3, seed=3, start=SAMPLES_START),
    )
    expected = truth(apache + nginx + s3 + apache)

    first = s3once("run", "--processor", "access-log", cwd=project)
    after_first = s3once("--local", "report", "--json", cwd=project)
    second = s3once("run", "--processor", "access-log", cwd=project)
    after_second = s3once("--local", "report", "--json", cwd=project)

    assert first.returncode == 0, first.stderr
    assert json.loads(after_first.stdout) == expected
    assert second.returncode == 0, second.stderr
    assert " processed " not in second.stdout
    assert json.loads(after_second.stdout) == expected
