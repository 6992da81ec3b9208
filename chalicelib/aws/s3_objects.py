"""Reads uploaded objects from S3, pinned to the exact upload an event names."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, BinaryIO, cast

from botocore.exceptions import ClientError

from chalicelib.core.errors import ObjectChangedError, ObjectNotFoundError
from chalicelib.core.model import ObjectRef
from chalicelib.core.ports import ObjectMetadata

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client

_NOT_FOUND = {"404", "NoSuchKey", "NoSuchVersion", "NotFound"}
_CHANGED = {"412", "PreconditionFailed"}


class S3ObjectStore:
    def __init__(self, client: S3Client) -> None:
        self._client = client

    def head(self, obj: ObjectRef) -> ObjectMetadata:
        try:
            response = self._client.head_object(**_pinned(obj))
        except ClientError as exc:
            raise _translate(exc, obj) from exc
        return ObjectMetadata(
            content_type=response.get("ContentType", "binary/octet-stream"),
            size=int(response.get("ContentLength", 0)),
            etag=response.get("ETag", "").strip('"'),
        )

    def open(self, obj: ObjectRef) -> BinaryIO:
        try:
            response = self._client.get_object(**_pinned(obj))
        except ClientError as exc:
            raise _translate(exc, obj) from exc
        return cast(BinaryIO, response["Body"])

    def put_if_absent(self, bucket: str, key: str, body: bytes, content_type: str) -> bool:
        """`If-None-Match: *`: S3 answers 412 when the key exists, and keeps what is there."""
        try:
            self._client.put_object(
                Bucket=bucket, Key=key, Body=body, ContentType=content_type, IfNoneMatch="*"
            )
        except ClientError as exc:
            if str(exc.response.get("Error", {}).get("Code", "")) in _CHANGED:
                return False
            raise  # 409 ConditionalRequestConflict (a concurrent write) included: retried
        return True


def _pinned(obj: ObjectRef) -> dict[str, Any]:
    """Request parameters naming exactly this upload: its version, else its ETag."""
    params: dict[str, Any] = {"Bucket": obj.bucket, "Key": obj.key}
    if obj.version_id:
        params["VersionId"] = obj.version_id
    elif obj.etag:
        params["IfMatch"] = f'"{obj.etag}"'
    return params


def _translate(exc: ClientError, obj: ObjectRef) -> Exception:
    error = exc.response.get("Error", {})
    code = str(error.get("Code", ""))
    if code in _NOT_FOUND:
        return ObjectNotFoundError(f"s3://{obj.bucket}/{obj.key} no longer exists")
    if code in _CHANGED:
        return ObjectChangedError(
            f"s3://{obj.bucket}/{obj.key} was overwritten after this event (eTag {obj.etag})"
        )
    return exc
