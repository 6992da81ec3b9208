"""Events of the other routes, built the way AWS sends them, for uploads the tests make.

Shapes follow the real payloads in tests/fixtures/events/: an SQS batch wrapping notifications
in message bodies, EventBridge "Object Created" (key not URL-encoded, `etag`, `version-id`),
and S3 Batch Operations invocations of schema 1.0 (bucket ARN) and 2.0 (bucket name), whose
keys are percent-encoded and which carry no eTag.
"""

from __future__ import annotations

import json
import uuid
from typing import Any
from urllib.parse import quote

from s3once.s3_events import FIXED_EVENT_TIME, Upload, created_event, next_sequencer
from tests.conftest import FIXTURES_DIR

# EventBridge writes its `time` to the second: the upload's eventTime without milliseconds.
EVENT_TIME = FIXED_EVENT_TIME[:19] + "Z"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES_DIR / name).read_text(encoding="utf-8"))


def sqs_message(body: object, message_id: str | None = None) -> dict[str, Any]:
    return {
        "messageId": message_id or str(uuid.uuid4()),
        "receiptHandle": "AQEB" + uuid.uuid4().hex,
        "body": body if isinstance(body, str) else json.dumps(body),
        "attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": "1767225600000",
            "SenderId": "AIDAJHIPRHEMV73VRJEBU",
            "ApproximateFirstReceiveTimestamp": "1767225600000",
        },
        "messageAttributes": {},
        "md5OfBody": "0" * 32,
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:s3-once-events-dev",
        "awsRegion": "us-east-1",
    }


def sqs_batch(*messages: dict[str, Any]) -> dict[str, Any]:
    return {"Records": list(messages)}


def queued(*uploads: Upload) -> dict[str, Any]:
    """One SQS message per upload, each holding the upload's S3 notification."""
    return sqs_batch(*(sqs_message(created_event(upload)) for upload in uploads))


def eventbridge_created(
    upload: Upload, reason: str = "PutObject", sequencer: str | None = None
) -> dict[str, Any]:
    """`sequencer`: the one S3 gave the upload's notification (the same upload has one)."""
    obj: dict[str, Any] = {
        "key": upload.key,
        "size": upload.size,
        "etag": upload.etag,
        "sequencer": sequencer or next_sequencer(),
    }
    if upload.version_id:
        obj["version-id"] = upload.version_id
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Object Created",
        "source": "aws.s3",
        "account": "123456789012",
        "time": upload.event_time[:19] + "Z",
        "region": "us-east-1",
        "resources": [f"arn:aws:s3:::{upload.bucket}"],
        "detail": {
            "version": "0",
            "bucket": {"name": upload.bucket},
            "object": obj,
            "request-id": "LOCAL",
            "requester": "123456789012",
            "source-ip-address": "127.0.0.1",
            "reason": reason,
        },
    }


def batch_task(
    bucket: str, key: str, version_id: str | None = None, schema: str = "1.0"
) -> dict[str, Any]:
    task: dict[str, Any] = {
        "taskId": uuid.uuid4().hex,
        "s3Key": quote(key, safe="/"),
        "s3VersionId": version_id,
    }
    if schema == "1.0":
        task["s3BucketArn"] = f"arn:aws:s3:::{bucket}"
    else:
        task["s3Bucket"] = bucket
    return task


def batch_invocation(*tasks: dict[str, Any], schema: str = "1.0") -> dict[str, Any]:
    job: dict[str, Any] = {"id": str(uuid.uuid4())}
    if schema == "2.0":
        job["userArguments"] = {}
    return {
        "invocationSchemaVersion": schema,
        "invocationId": uuid.uuid4().hex,
        "job": job,
        "tasks": list(tasks),
    }


def batch_of(upload: Upload, schema: str = "1.0", by_version: bool = False) -> dict[str, Any]:
    version = upload.version_id if by_version else None
    return batch_invocation(batch_task(upload.bucket, upload.key, version, schema), schema=schema)
