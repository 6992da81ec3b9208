"""Objects in S3 as the tool sees them: `s3://` addresses, listings and heads, and the `pk`
each upload has for a processor (computed by the app's own `chalicelib.core.keys`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import click
from botocore.exceptions import ClientError

from s3once.aws.session import OperatorError, error_code
from s3once.s3_events import Upload

# With versioning suspended every overwrite gets versionId "null", as the app's events parser.
NULL_VERSION = "null"


def parse_s3_url(url: str) -> tuple[str, str]:
    """`s3://bucket/key` -> (bucket, key); the key may be empty (a whole bucket) for prefixes."""
    if not url.startswith("s3://") or not url[5:].split("/", 1)[0]:
        raise click.BadParameter(f"{url!r} is not an s3://bucket/key address")
    bucket, _, key = url[5:].partition("/")
    return bucket, key


def list_uploads(s3: Any, bucket: str, prefix: str, by_version: bool) -> Iterator[Upload]:
    """Every current object under `prefix`: ListObjectsV2 (1,000 a request) or, when the scope
    tells uploads apart by versionId, ListObjectVersions keeping the latest versions."""
    if not by_version:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for entry in page.get("Contents", []):
                yield Upload(bucket, entry["Key"], entry["ETag"].strip('"'), int(entry["Size"]))
        return
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix):
        for entry in page.get("Versions", []):
            if entry.get("IsLatest"):
                version = entry.get("VersionId")
                yield Upload(
                    bucket,
                    entry["Key"],
                    entry["ETag"].strip('"'),
                    int(entry["Size"]),
                    None if version in (None, NULL_VERSION) else version,
                )


def head_upload(s3: Any, bucket: str, key: str) -> Upload:
    """The current upload of `bucket/key`, as its event would describe it."""
    try:
        head = s3.head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if error_code(exc) in ("404", "NoSuchKey", "NoSuchBucket", "NotFound"):
            raise OperatorError(f"s3://{bucket}/{key} does not exist") from None
        raise
    version = head.get("VersionId")
    return Upload(
        bucket,
        key,
        head["ETag"].strip('"'),
        int(head["ContentLength"]),
        None if version in (None, NULL_VERSION) else version,
    )


def upload_pk(upload: Upload, scope: str, processor: str) -> str:
    from chalicelib.core.keys import idempotency_key
    from chalicelib.core.model import IdempotencyScope, ObjectRef

    obj = ObjectRef(
        bucket=upload.bucket,
        key=upload.key,
        etag=upload.etag,
        version_id=upload.version_id,
        size=upload.size,
    )
    return idempotency_key(obj, IdempotencyScope(scope), processor)
