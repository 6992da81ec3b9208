"""`backfill --via batch-operations` and `status --job`: the manifest as S3 Batch Operations
reads it (written to moto's S3), the CreateJob request (moto has no S3 Batch Operations jobs,
so botocore's Stubber checks the request against the service model), and the completion
report summarised."""

from __future__ import annotations

import csv
import io
import json
from typing import Any
from urllib.parse import unquote

import boto3
import pytest
from botocore.stub import ANY, Stubber

from s3once.aws.batch_jobs import JobRequest, job_summary, submit
from s3once.s3_events import Upload, put_upload

ACCOUNT = "123456789012"
KEYS = ["plain.txt", "dir/a b+c,d.txt", "é/100% #1.json"]


@pytest.fixture
def s3(moto_url: str) -> Any:
    return boto3.client("s3", endpoint_url=moto_url)


def _request(bucket: str, with_versions: bool = False) -> JobRequest:
    return JobRequest(
        account_id=ACCOUNT,
        function_arn=f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:s3-once-prod-batch",
        role_arn=f"arn:aws:iam::{ACCOUNT}:role/s3once-batch",
        manifest_bucket=bucket,
        manifest_key="s3once/manifests/prod.csv",
        report_bucket=bucket,
        report_prefix="s3once/reports",
        with_versions=with_versions,
        description="s3once backfill",
    )


def test_submit_writes_a_url_encoded_csv_manifest_and_creates_a_lambda_invoke_job(
    s3: Any, s3_bucket: str
) -> None:
    uploads = [put_upload(s3, s3_bucket, key, b"x", "text/plain") for key in KEYS]
    s3control = boto3.client("s3control", region_name="us-east-1")
    request = _request(s3_bucket)
    with Stubber(s3control) as stubber:
        stubber.add_response(
            "create_job",
            {"JobId": "job-1"},
            {
                "AccountId": ACCOUNT,
                "ConfirmationRequired": False,
                "Operation": {
                    "LambdaInvoke": {
                        "FunctionArn": request.function_arn,
                        "InvocationSchemaVersion": "2.0",
                    }
                },
                "Report": {
                    "Bucket": f"arn:aws:s3:::{s3_bucket}",
                    "Prefix": "s3once/reports",
                    "Format": "Report_CSV_20180820",
                    "Enabled": True,
                    "ReportScope": "AllTasks",
                },
                "Manifest": {
                    "Spec": {
                        "Format": "S3BatchOperations_CSV_20180820",
                        "Fields": ["Bucket", "Key"],
                    },
                    "Location": {
                        "ObjectArn": f"arn:aws:s3:::{s3_bucket}/s3once/manifests/prod.csv",
                        "ETag": ANY,
                    },
                },
                "Priority": 10,
                "RoleArn": request.role_arn,
                "ClientRequestToken": ANY,
                "Description": "s3once backfill",
            },
        )
        count, job_id = submit(s3, s3control, iter(uploads), request)
        stubber.assert_no_pending_responses()

    assert (count, job_id) == (3, "job-1")
    manifest = s3.get_object(Bucket=s3_bucket, Key="s3once/manifests/prod.csv")
    rows = list(csv.reader(io.StringIO(manifest["Body"].read().decode())))
    assert [len(row) for row in rows] == [2, 2, 2]  # the comma in a key is encoded
    assert [(bucket, unquote(key)) for bucket, key in rows] == [(s3_bucket, k) for k in KEYS]
    assert rows[1][1] == "dir/a%20b%2Bc%2Cd.txt"


def test_submit_with_versions_adds_the_version_column_and_nothing_to_do_writes_nothing(
    s3: Any, s3_bucket: str
) -> None:
    s3control = boto3.client("s3control", region_name="us-east-1")
    with Stubber(s3control):  # any request would fail: none is expected
        assert submit(s3, s3control, iter([]), _request(s3_bucket)) == (0, None)
    assert s3.list_objects_v2(Bucket=s3_bucket).get("KeyCount", 0) == 0

    from s3once.aws.batch_jobs import manifest_csv

    line = manifest_csv([Upload(s3_bucket, "k 1", "e", 1, "v-3")], with_versions=True)
    assert line == f"{s3_bucket},k%201,v-3\n"


def test_status_job_summarises_the_completion_report(s3: Any, s3_bucket: str) -> None:
    job_id = "0b4c1e8f-job"
    prefix = f"s3once/reports/job-{job_id}"
    results = (
        f'{s3_bucket},a.txt,,succeeded,200,,"processed"\n'
        f'{s3_bucket},b.txt,,succeeded,200,,"skipped"\n'
        f'{s3_bucket},c.txt,,succeeded,200,,"processed"\n'
        f'{s3_bucket},d%20e.txt,,failed,500,PermanentFailure,"NotTextError: binary"\n'
    )
    s3.put_object(Bucket=s3_bucket, Key=f"{prefix}/results/r1.csv", Body=results.encode())
    s3.put_object(
        Bucket=s3_bucket,
        Key=f"{prefix}/manifest.json",
        Body=json.dumps(
            {
                "Format": "Report_CSV_20180820",
                "Results": [
                    {
                        "TaskExecutionStatus": "succeeded",
                        "Bucket": s3_bucket,
                        "Key": f"{prefix}/results/r1.csv",
                    }
                ],
            }
        ).encode(),
    )
    s3control = boto3.client("s3control", region_name="us-east-1")
    with Stubber(s3control) as stubber:
        stubber.add_response(
            "describe_job",
            {
                "Job": {
                    "JobId": job_id,
                    "Status": "Complete",
                    "ProgressSummary": {
                        "TotalNumberOfTasks": 4,
                        "NumberOfTasksSucceeded": 3,
                        "NumberOfTasksFailed": 1,
                    },
                    "Report": {
                        "Bucket": f"arn:aws:s3:::{s3_bucket}",
                        "Prefix": "s3once/reports",
                        "Format": "Report_CSV_20180820",
                        "Enabled": True,
                        "ReportScope": "AllTasks",
                    },
                }
            },
            {"AccountId": ACCOUNT, "JobId": job_id},
        )
        summary = job_summary(s3control, s3, ACCOUNT, job_id)

    assert (summary.status, summary.total, summary.succeeded, summary.failed) == (
        "Complete",
        4,
        3,
        1,
    )
    assert dict(summary.task_status) == {"succeeded": 3, "failed": 1}
    assert dict(summary.results) == {"processed": 2, "skipped": 1, "NotTextError: binary": 1}
    assert [task["Key"] for task in summary.failed_tasks] == ["d%20e.txt"]
    assert summary.report == f"s3://{s3_bucket}/{prefix}/manifest.json"


def test_backfill_via_batch_operations_needs_a_role_and_the_function(
    project: Any, moto_url: str, s3_bucket: str
) -> None:
    from tests.conftest import run_s3once

    refused = run_s3once(
        "backfill",
        f"s3://{s3_bucket}/",
        "--via",
        "batch-operations",
        cwd=project,
        AWS_ENDPOINT_URL=moto_url,
    )
    assert refused.returncode == 2
    assert "--via batch-operations needs --role-arn" in refused.stderr
