"""Build S3 event notifications the way S3 sends them (URL-encoded keys, eTag, sequencer)."""

from __future__ import annotations

import datetime
import itertools
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus

_sequencer = itertools.count(0x0064A0000000000000)
# The eventTime of an upload described by hand, not made through `put_upload`.
FIXED_EVENT_TIME = "2026-01-01T00:00:00.000Z"


@dataclass(frozen=True)
class Upload:
    bucket: str
    key: str
    etag: str
    size: int
    version_id: str | None = None
    event_time: str = FIXED_EVENT_TIME  # as S3 writes it; `put_upload` sets the real one


def _now() -> str:
    """The current time as S3 writes an eventTime: `2026-01-01T00:00:00.000Z`."""
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds")[:-6] + "Z"


def next_sequencer() -> str:
    """Sequencers grow with each event for one key, as hex strings of equal length."""
    return f"{next(_sequencer):018X}"


def created_record(upload: Upload, region: str = "us-east-1") -> dict[str, Any]:
    obj: dict[str, Any] = {
        "key": quote_plus(upload.key, safe="/"),
        "size": upload.size,
        "eTag": upload.etag,
        "sequencer": next_sequencer(),
    }
    if upload.version_id:
        obj["versionId"] = upload.version_id
    return {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": region,
        "eventTime": upload.event_time,
        "eventName": "ObjectCreated:Put",
        "userIdentity": {"principalId": "AWS:LOCALUSER"},
        "requestParameters": {"sourceIPAddress": "127.0.0.1"},
        "responseElements": {"x-amz-request-id": "LOCAL", "x-amz-id-2": "LOCAL"},
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "s3-once",
            "bucket": {
                "name": upload.bucket,
                "ownerIdentity": {"principalId": "LOCALOWNER"},
                "arn": f"arn:aws:s3:::{upload.bucket}",
            },
            "object": obj,
        },
    }


def created_event(*uploads: Upload) -> dict[str, Any]:
    return {"Records": [created_record(upload) for upload in uploads]}


def put_upload(s3: Any, bucket: str, key: str, body: bytes, content_type: str) -> Upload:
    """Upload `body` and describe the upload as its event will (eventTime: when it was made)."""
    response = s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type)
    return Upload(
        event_time=_now(),
        bucket=bucket,
        key=key,
        etag=str(response["ETag"]).strip('"'),
        size=len(body),
        version_id=response.get("VersionId"),
    )
