"""The `s3once` command as a user runs it: a process of its own, in a project directory."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest

from tests.conftest import run_s3once as s3once
from tests.conftest import unique_name


def outcome_rows(stdout: str) -> list[tuple[str, str]]:
    """(step, outcome) for each row of the outcome table."""
    rows = []
    for line in stdout.splitlines():
        for step in ("first delivery", "duplicate delivery (one event)", "changed content"):
            if line.startswith(step):
                rows.append((step, line.split()[-2]))
    return rows


@pytest.mark.slow
def test_run_processes_each_file_once_and_a_second_run_skips_everything(project: Path) -> None:
    files = len([p for p in (project / "samples" / "uploads").rglob("*") if p.is_file()])

    first = s3once("run", cwd=project)
    assert first.returncode == 0, first.stderr
    assert outcome_rows(first.stdout) == (
        [("first delivery", "processed")] * files
        + [("duplicate delivery (one event)", "skipped")] * files
        + [("changed content", "processed")]
    )
    assert "CONTENT TYPE: text/plain" in first.stdout

    second = s3once("run", cwd=project)
    assert second.returncode == 0, second.stderr
    assert {outcome for _, outcome in outcome_rows(second.stdout)} == {"skipped"}
    assert len(outcome_rows(second.stdout)) == 2 * files + 1


def test_run_refuses_an_unknown_stage_naming_the_known_ones(project: Path) -> None:
    result = s3once("--stage", "qa", "run", cwd=project)
    assert result.returncode == 2
    assert "stage 'qa' is not in .chalice/config.json" in result.stderr
    assert "dev" in result.stderr


def test_create_tables_creates_the_lock_table_with_ttl_once(project: Path, moto_url: str) -> None:
    table = unique_name("locks")
    env = {"AWS_ENDPOINT_URL": moto_url, "LOCK_TABLE_NAME": table}
    first = s3once("create-tables", cwd=project, **env)
    second = s3once("create-tables", cwd=project, **env)
    assert first.returncode == 0, first.stderr
    assert f"{table}: created" in first.stdout
    assert f"{table}: exists" in second.stdout
    assert first.stdout.startswith(f"stage dev: creating tables in endpoint {moto_url}")
    dynamodb = boto3.client("dynamodb", endpoint_url=moto_url)
    ttl = dynamodb.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
    assert (ttl["TimeToLiveStatus"], ttl["AttributeName"]) == ("ENABLED", "expires_at")
    key_schema = dynamodb.describe_table(TableName=table)["Table"]["KeySchema"]
    assert key_schema == [{"AttributeName": "pk", "KeyType": "HASH"}]


def test_run_refuses_bad_settings_before_starting_anything(project: Path) -> None:
    result = s3once("run", "--processor", "thumbnails", cwd=project)
    assert result.returncode == 2
    assert "'thumbnails' is not one of: content-type, access-log" in result.stderr
    assert not (project / ".s3once").exists()

    result = s3once("run", cwd=project, PROCESSOR="thumbnails")
    assert result.returncode == 1
    assert "PROCESSOR='thumbnails' is not one of: content-type, access-log" in result.stderr
    assert not (project / ".s3once").exists()
