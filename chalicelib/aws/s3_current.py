"""What an object is now: one HeadObject, for routes whose events carry no eTag (Batch
Operations). The answer is an `ObjectRef` like the one the upload's notification gives."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from chalicelib.core.errors import ObjectNotFoundError
from chalicelib.core.model import ObjectRef
from chalicelib.routes import fields as event_fields

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client

_NOT_FOUND = {"404", "NoSuchKey", "NoSuchVersion", "NotFound"}


class S3CurrentObjects:
    def __init__(self, client: S3Client) -> None:
        self._client = client

    def locate(self, bucket: str, key: str, version_id: str | None) -> ObjectRef:
        params: dict[str, Any] = {"Bucket": bucket, "Key": key}
        if version_id:
            params["VersionId"] = version_id
        try:
            response = self._client.head_object(**params)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in _NOT_FOUND:
                raise ObjectNotFoundError(f"s3://{bucket}/{key} does not exist") from exc
            raise
        modified = response.get("LastModified")
        # The same normalisation as an event's fields: unquoted eTag, "null" version is none.
        return event_fields.object_ref(
            bucket,
            key,
            response,
            event_fields.HEAD_OBJECT_FIELDS,
            f"HeadObject s3://{bucket}/{key}",
            event_time_ms=int(modified.timestamp() * 1000) if modified is not None else None,
        )
