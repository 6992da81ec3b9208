"""S3 Batch Operations "Invoke AWS Lambda function" tasks, schema 1.0 and 2.0, each answered.

A job invokes the function synchronously with `tasks` (one per invocation today) and expects
one result per task: `Succeeded`, `TemporaryFailure` (redriven before the job completes:
busy, throttled, failed but retryable) or `PermanentFailure` (reported as failed). The
`resultString` starts with the outcome (`processed`, `skipped`, `busy: ...`), so a completion
report can be summarised by its first word.

A task names bucket, key (URL-encoded, as in the manifest) and, when the manifest has one, a
version; it carries no eTag. The object's identity is therefore read with one HeadObject
(pinned to the version when there is one), so the task maps to the same record as the upload's
notification. Without a version in the manifest the object may have changed since the
manifest was written: the task then processes the object as it is now, which is the upload a
re-drive means; an upload already processed through any route is skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import unquote

from chalicelib.core.errors import InvalidEventError, S3OnceError
from chalicelib.core.model import ObjectRef, Outcome, ParsedEvent
from chalicelib.routes import fields as event_fields
from chalicelib.routes.delivery import Delivery, Fate, ServiceErrors

SCHEMA_VERSIONS = ("1.0", "2.0")
SUCCEEDED = "Succeeded"
TEMPORARY_FAILURE = "TemporaryFailure"
PERMANENT_FAILURE = "PermanentFailure"
MAX_RESULT_STRING = 1024
_DONE = {
    Outcome.PROCESSED.value: SUCCEEDED,
    Outcome.TAKEN_OVER.value: SUCCEEDED,
    Outcome.SKIPPED.value: SUCCEEDED,
    Outcome.FAILED_PERMANENTLY.value: PERMANENT_FAILURE,
    # Another worker took over before we finished: ask again, and learn how it ended.
    Outcome.LEASE_LOST.value: TEMPORARY_FAILURE,
}


class ObjectLocator(Protocol):
    def locate(self, bucket: str, key: str, version_id: str | None) -> ObjectRef:
        """The object as it is now (that version, when given): eTag, version, size.
        ObjectNotFoundError when it does not exist."""
        ...


@dataclass(frozen=True)
class BatchTask:
    task_id: str
    bucket: str = ""
    key: str = ""
    version_id: str | None = None
    invalid: str = ""  # why the task cannot be read; it fails permanently


@dataclass(frozen=True)
class BatchInvocation:
    schema_version: str
    invocation_id: str
    job_id: str
    tasks: list[BatchTask]


@dataclass(frozen=True)
class TaskResult:
    task_id: str
    result_code: str
    result_string: str

    def to_dict(self) -> dict[str, str]:
        return {
            "taskId": self.task_id,
            "resultCode": self.result_code,
            "resultString": self.result_string[:MAX_RESULT_STRING],
        }


def read_invocation(event: object) -> BatchInvocation:
    """The job's invocation. A task that cannot be answered (no taskId) or an unknown schema
    raises InvalidEventError; a task with a bad bucket or key is kept with its error."""
    if not isinstance(event, Mapping):
        raise InvalidEventError("a Batch Operations invocation is a JSON object")
    schema = event.get("invocationSchemaVersion")
    if schema not in SCHEMA_VERSIONS:
        raise InvalidEventError(
            f"invocationSchemaVersion is {event_fields.shown(schema)},"
            f" expected one of {', '.join(SCHEMA_VERSIONS)}"
        )
    invocation_id = _required(event, "invocationId", "")
    job = event.get("job")
    job_id = job.get("id") if isinstance(job, Mapping) else None
    tasks = event.get("tasks")
    if not isinstance(tasks, list):
        raise InvalidEventError("tasks is missing or not a list")
    return BatchInvocation(
        schema_version=str(schema),
        invocation_id=invocation_id,
        job_id=job_id if isinstance(job_id, str) else "",
        tasks=[_read_task(task, f"tasks[{i}]", str(schema)) for i, task in enumerate(tasks)],
    )


def _read_task(task: object, where: str, schema: str) -> BatchTask:
    if not isinstance(task, Mapping):
        raise InvalidEventError(f"{where} is not a JSON object")
    task_id = _required(task, "taskId", where + ".")
    try:
        if schema == "1.0":
            # arn:aws:s3:::bucket (bucket names hold no colon)
            arn = _required(task, "s3BucketArn", where + ".")
            bucket = event_fields.bucket_name(arn.rsplit(":", 1)[-1], where + ".s3BucketArn")
        else:
            bucket = event_fields.bucket_name(task.get("s3Bucket"), where + ".s3Bucket")
        # Percent-encoded as in the manifest; AWS's own example decodes with unquote, so a
        # `+` is a plus here (unlike in a notification, where it is a space).
        raw_key = _required(task, "s3Key", where + ".")
        key = event_fields.object_key(_percent_decoded(raw_key, where), where, url_encoded=False)
        version = event_fields.version_id(task.get("s3VersionId"), where)
    except InvalidEventError as exc:
        return BatchTask(task_id, invalid=str(exc))
    return BatchTask(task_id, bucket, key, version)


def _percent_decoded(raw: str, where: str) -> str:
    try:
        return unquote(raw, errors="strict")
    except UnicodeDecodeError:
        raise InvalidEventError(f"{where}.s3Key does not URL-decode to UTF-8") from None


def _required(parent: Mapping[str, Any], name: str, where: str) -> str:
    value = parent.get(name)
    if not isinstance(value, str) or not value:
        raise InvalidEventError(f"{where}{name} is missing or not a non-empty string")
    return value


def answer_task(
    task: BatchTask,
    locator: ObjectLocator,
    deliver: Callable[[ParsedEvent], Delivery],
    errors: ServiceErrors,
) -> TaskResult:
    """Find the object's current identity, run it through the pipeline, and judge the result."""
    if task.invalid:
        return TaskResult(task.task_id, PERMANENT_FAILURE, "invalid: " + task.invalid)
    try:
        obj = locator.locate(task.bucket, task.key, task.version_id)
    except S3OnceError as exc:
        return TaskResult(task.task_id, PERMANENT_FAILURE, f"{type(exc).__name__}: {exc}")
    except errors.types as exc:
        code = TEMPORARY_FAILURE if errors.is_transient(exc) else PERMANENT_FAILURE
        return TaskResult(task.task_id, code, "head_object: " + errors.describe(exc))
    return _judge(task.task_id, deliver(ParsedEvent(objects=[obj])))


def _judge(task_id: str, delivery: Delivery) -> TaskResult:
    outcome = str(delivery.records[0].get("outcome")) if delivery.records else ""
    if delivery.fate is Fate.RETRY:
        # busy or failed (the pipeline's outcome), else a passing fault of AWS
        return TaskResult(task_id, TEMPORARY_FAILURE, f"{outcome or 'retry'}: {delivery.detail}")
    if delivery.fate is Fate.REJECTED:
        return TaskResult(task_id, PERMANENT_FAILURE, "rejected: " + delivery.detail)
    return TaskResult(task_id, _DONE.get(outcome, PERMANENT_FAILURE), outcome)


def response(invocation: BatchInvocation, results: list[TaskResult]) -> dict[str, Any]:
    """The documented response: the schema and invocation echoed, one result per task."""
    return {
        "invocationSchemaVersion": invocation.schema_version,
        # Every task is answered; one left out would be a defect, not a reason to retry.
        "treatMissingKeysAs": PERMANENT_FAILURE,
        "invocationId": invocation.invocation_id,
        "results": [result.to_dict() for result in results],
    }
