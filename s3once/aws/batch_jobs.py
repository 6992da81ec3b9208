"""Re-driving beyond one machine with S3 Batch Operations: a CSV manifest of the unfinished
objects, a LambdaInvoke job that hands each one to the function's Batch Operations route,
and a summary of the job's completion report."""

from __future__ import annotations

import collections
import csv
import io
import json
import tempfile
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import IO, Any
from urllib.parse import quote

from s3once.s3_events import Upload

MANIFEST_FORMAT = "S3BatchOperations_CSV_20180820"
REPORT_FORMAT = "Report_CSV_20180820"
INVOCATION_SCHEMA = "2.0"
REPORT_COLUMNS = (
    "Bucket",
    "Key",
    "VersionId",
    "TaskStatus",
    "ErrorCode",
    "HTTPStatusCode",
    "ResultMessage",
)


def manifest_csv(uploads: Iterable[Upload], with_versions: bool) -> str:
    """`bucket,key[,versionId]` per line, keys URL-encoded as Batch Operations requires (a
    comma, a space or a non-ASCII character in a key would otherwise break the CSV)."""
    lines = []
    for upload in uploads:
        fields = [upload.bucket, quote(upload.key, safe="/")]
        if with_versions:
            fields.append(upload.version_id or "")
        lines.append(",".join(fields) + "\n")
    return "".join(lines)


@dataclass(frozen=True)
class JobRequest:
    account_id: str
    function_arn: str
    role_arn: str
    manifest_bucket: str
    manifest_key: str
    report_bucket: str
    report_prefix: str
    with_versions: bool
    description: str
    priority: int = 10


def submit(
    s3: Any, s3control: Any, uploads: Iterable[Upload], request: JobRequest
) -> tuple[int, str | None]:
    """Write the manifest of `uploads` (spooled to a temporary file: a prefix may hold
    billions) and create the job; returns (objects in the manifest, job id). Nothing to do:
    (0, None), and neither is written."""
    count = 0
    with tempfile.TemporaryFile() as spool:
        for upload in uploads:
            spool.write(manifest_csv([upload], request.with_versions).encode("utf-8"))
            count += 1
        if not count:
            return 0, None
        spool.seek(0)
        etag = write_manifest(s3, request.manifest_bucket, request.manifest_key, spool)
    return count, create_job(s3control, request, etag)


def write_manifest(s3: Any, bucket: str, key: str, body: IO[bytes] | bytes) -> str:
    """Put the manifest; returns its ETag, which the job pins it to."""
    response = s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="text/csv")
    return str(response["ETag"]).strip('"')


def create_job(s3control: Any, request: JobRequest, manifest_etag: str) -> str:
    """Create the job (no confirmation step) with a completion report of every task."""
    fields = ["Bucket", "Key", *(["VersionId"] if request.with_versions else [])]
    response = s3control.create_job(
        AccountId=request.account_id,
        ConfirmationRequired=False,
        Operation={
            "LambdaInvoke": {
                "FunctionArn": request.function_arn,
                "InvocationSchemaVersion": INVOCATION_SCHEMA,
            }
        },
        Report={
            "Bucket": f"arn:aws:s3:::{request.report_bucket}",
            "Prefix": request.report_prefix,
            "Format": REPORT_FORMAT,
            "Enabled": True,
            "ReportScope": "AllTasks",
        },
        Manifest={
            "Spec": {"Format": MANIFEST_FORMAT, "Fields": fields},
            "Location": {
                "ObjectArn": f"arn:aws:s3:::{request.manifest_bucket}/{request.manifest_key}",
                "ETag": manifest_etag,
            },
        },
        Priority=request.priority,
        RoleArn=request.role_arn,
        ClientRequestToken=str(uuid.uuid4()),
        Description=request.description[:256],
    )
    return str(response["JobId"])


@dataclass
class JobSummary:
    job_id: str
    status: str
    total: int
    succeeded: int
    failed: int
    failure_reasons: list[str] = field(default_factory=list)
    task_status: collections.Counter[str] = field(default_factory=collections.Counter)
    results: collections.Counter[str] = field(default_factory=collections.Counter)
    failed_tasks: list[dict[str, str]] = field(default_factory=list)
    report: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "job_id": self.job_id,
            "status": self.status,
            "total": self.total,
            "succeeded": self.succeeded,
            "failed": self.failed,
            "failure_reasons": self.failure_reasons,
            "task_status": dict(self.task_status),
            "results": dict(self.results),
            "failed_tasks": self.failed_tasks,
            "report": self.report,
        }


def job_summary(s3control: Any, s3: Any, account_id: str, job_id: str) -> JobSummary:
    """DescribeJob's progress and, once the job has written it, its completion report: tasks
    per status, results per result string, and the tasks that did not succeed."""
    job = s3control.describe_job(AccountId=account_id, JobId=job_id)["Job"]
    progress = job.get("ProgressSummary", {})
    summary = JobSummary(
        job_id=job_id,
        status=str(job.get("Status", "?")),
        total=int(progress.get("TotalNumberOfTasks", 0)),
        succeeded=int(progress.get("NumberOfTasksSucceeded", 0)),
        failed=int(progress.get("NumberOfTasksFailed", 0)),
        failure_reasons=[
            f"{reason.get('FailureCode', '')}: {reason.get('FailureReason', '')}"
            for reason in job.get("FailureReasons", [])
        ],
    )
    report = job.get("Report", {})
    if not report.get("Enabled") or summary.status not in ("Complete", "Failed", "Cancelled"):
        return summary
    bucket = str(report["Bucket"]).removeprefix("arn:aws:s3:::")
    prefix = str(report.get("Prefix", "")).rstrip("/")
    manifest_key = "/".join(part for part in (prefix, f"job-{job_id}", "manifest.json") if part)
    manifest = json.loads(s3.get_object(Bucket=bucket, Key=manifest_key)["Body"].read())
    summary.report = f"s3://{bucket}/{manifest_key}"
    for result in manifest.get("Results", []):
        body = s3.get_object(Bucket=result["Bucket"], Key=result["Key"])["Body"].read()
        for row in csv.reader(io.StringIO(body.decode("utf-8"))):
            task = dict(zip(REPORT_COLUMNS, row, strict=False))
            summary.task_status[task.get("TaskStatus", "?")] += 1
            summary.results[task.get("ResultMessage", "")] += 1
            if task.get("TaskStatus") != "succeeded":
                summary.failed_tasks.append(task)
    return summary
