"""The command behaves like the AWS CLI: options on every command, and a cause an operator can
fix (no region, no credentials, access denied, a missing table) is one line and exit 1."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import boto3
from click.testing import CliRunner

from s3once.cli import main
from tests.cli.conftest import Stage
from tests.conftest import PROJECT_DIR, run_s3once, unique_name
from tests.faults import Fault, FaultRule, dynamodb_operation, fault_proxy

ACCESS_DENIED = Fault(
    400,
    b'{"__type":"com.amazon.coral.service#AccessDeniedException","message":"User: arn:aws:sts::1:'
    b'assumed-role/ops is not authorized to perform: dynamodb:DescribeTable"}',
)
NOWHERE = {
    "HOME": "/nonexistent",
    "AWS_CONFIG_FILE": "/nonexistent/config",
    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/credentials",
    "AWS_EC2_METADATA_DISABLED": "true",
}


def bare_environment(project: Path, *args: str, drop: tuple[str, ...]) -> tuple[int, str]:
    """The command without some AWS variables and with no AWS config files to fall back on."""
    env = {
        k: v for k, v in os.environ.items() if k not in drop and not k.startswith("AWS_ENDPOINT")
    }
    env.update(NOWHERE, PYTHONPATH=str(PROJECT_DIR))
    result = subprocess.run(
        [sys.executable, "-m", "s3once", *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return result.returncode, result.stderr


def assert_one_line(stderr: str, expected: str) -> None:
    assert stderr.strip().splitlines() == [f"Error: {expected}"], stderr


def test_a_missing_region_is_one_line(project: Path) -> None:
    code, stderr = bare_environment(project, "status", drop=("AWS_DEFAULT_REGION", "AWS_REGION"))
    assert code == 1
    assert_one_line(
        stderr,
        "no AWS region: pass --region, set AWS_DEFAULT_REGION or set a region in the profile",
    )


def test_missing_credentials_are_one_line(project: Path, moto_url: str) -> None:
    code, stderr = bare_environment(
        project,
        "status",
        "--endpoint-url",
        moto_url,
        drop=("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"),
    )
    assert code == 1
    assert "Error: no AWS credentials found" in stderr and "Traceback" not in stderr
    assert len(stderr.strip().splitlines()) == 1


def test_an_unknown_profile_is_one_line(project: Path) -> None:
    code, stderr = bare_environment(project, "status", "--profile", "ops", drop=())
    assert code == 1
    assert_one_line(stderr, "AWS profile 'ops' is not in the AWS config files")


def test_a_missing_table_is_named_with_the_endpoint_and_the_fix(
    project: Path, dynamodb_url: str
) -> None:
    table = unique_name("absent")
    for command in (["status"], ["show", "s3://b/k"]):
        result = run_s3once(
            *command, "--endpoint-url", dynamodb_url, cwd=project, LOCK_TABLE_NAME=table
        )
        assert result.returncode == 1
        fix = "create it with `s3once create-tables`"
        assert_one_line(result.stderr, f"table {table} does not exist at {dynamodb_url}: {fix}")


def test_access_denied_names_the_operation_and_aws_message(
    project: Path, dynamodb_local_url: str
) -> None:
    with fault_proxy(dynamodb_local_url) as proxy:
        proxy.rules.append(FaultRule(dynamodb_operation("DescribeTable"), ACCESS_DENIED))
        result = run_s3once("status", "--endpoint-url", proxy.url, cwd=project)
    assert result.returncode == 1
    assert_one_line(
        result.stderr,
        "access denied on DescribeTable: User: arn:aws:sts::1:assumed-role/ops is not authorized"
        " to perform: dynamodb:DescribeTable",
    )


def test_an_unreachable_endpoint_is_one_line(project: Path) -> None:
    result = run_s3once("status", "--endpoint-url", "http://127.0.0.1:9", cwd=project)
    assert result.returncode == 1
    assert_one_line(result.stderr, "cannot reach http://127.0.0.1:9/")


def test_create_tables_says_where_it_writes_and_accepts_options_before_or_after(
    project: Path, moto_url: str
) -> None:
    table = unique_name("locks")
    before = run_s3once(
        "--endpoint-url", moto_url, "create-tables", cwd=project, LOCK_TABLE_NAME=table
    )
    after = run_s3once(
        "create-tables", "--endpoint-url", moto_url, cwd=project, LOCK_TABLE_NAME=table
    )
    assert before.returncode == after.returncode == 0, before.stderr + after.stderr
    where = f"stage dev: creating tables in endpoint {moto_url} (region us-east-1)"
    assert before.stdout.splitlines()[0] == after.stdout.splitlines()[0] == where
    assert f"{table}: created" in before.stdout and f"{table}: exists" in after.stdout
    indexes = boto3.client("dynamodb", endpoint_url=moto_url).describe_table(TableName=table)
    names = {index["IndexName"] for index in indexes["Table"]["GlobalSecondaryIndexes"]}
    assert names == {"open-work", "by-object"}


def test_create_tables_adds_the_indexes_to_a_table_created_before_them(
    project: Path, index_server: str
) -> None:
    dynamodb_url = index_server
    stage = Stage(project, dynamodb_url, dynamodb_url, unique_name("locks"), "unused")
    stage.dynamodb.create_table(
        TableName=stage.table,
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    result = run_s3once(
        "create-tables", "--endpoint-url", dynamodb_url, cwd=project, LOCK_TABLE_NAME=stage.table
    )
    assert result.returncode == 0, result.stderr
    assert f"{stage.table}: exists" in result.stdout
    table = stage.dynamodb.describe_table(TableName=stage.table)["Table"]
    assert {index["IndexName"] for index in table["GlobalSecondaryIndexes"]} == {
        "open-work",
        "by-object",
    }


def test_version_and_processor_choices(project: Path) -> None:
    version = run_s3once("--version", cwd=project)
    assert version.returncode == 0 and version.stdout.startswith("s3once ")
    for command in ("run", "reprocess", "backfill"):
        helped = run_s3once(command, "--help", cwd=project)
        assert "--processor [content-type|access-log" in helped.stdout, helped.stdout
    wrong = run_s3once("backfill", "s3://b/", "--processor", "thumbnails", cwd=project)
    assert wrong.returncode == 2
    assert "'thumbnails' is not one of: content-type, access-log" in wrong.stderr


def test_the_command_never_changes_its_own_environment(project: Path, moto_url: str) -> None:
    before = dict(os.environ)
    runner = CliRunner()
    result = runner.invoke(
        main,
        [
            "--project-dir",
            str(project),
            "status",
            "--endpoint-url",
            moto_url,
            "--region",
            "eu-west-1",
        ],
    )
    assert result.exit_code == 1  # the dev table does not exist there
    assert "does not exist" in result.output
    assert dict(os.environ) == before
