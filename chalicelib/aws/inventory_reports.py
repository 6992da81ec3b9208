"""S3 Inventory reports as S3 holds them: the newest report under a location, its manifest
(checked against `manifest.checksum`), and each data file's rows once its MD5 is verified.

A data file is spooled to a temporary file while its MD5 is computed, and read only once it
matches: no row of a damaged file is ever acted upon.
"""

from __future__ import annotations

import contextlib
import hashlib
import tempfile
from collections.abc import Iterator
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from chalicelib.reconcile.manifest import (
    CHECKSUM_NAME,
    MANIFEST_NAME,
    DataFile,
    InventoryManifest,
    newest_report,
    parse_manifest,
    verify_manifest_checksum,
    verify_md5,
)
from chalicelib.reconcile.rows import csv_rows

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client

_NOT_FOUND = {"404", "NoSuchKey", "NotFound"}
_CHUNK_BYTES = 1 << 20


class S3InventoryReports:
    def __init__(self, client: S3Client) -> None:
        self._client = client

    def newest_manifest(self, bucket: str, prefix: str) -> str | None:
        """The key of the newest report's manifest under `prefix` (one `<config-id>/`
        folder: a few entries a day, listed with a delimiter), None before the first report.
        A report whose manifest is not written yet is passed over for the one before."""
        folders: list[str] = []
        paginator = self._client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=bucket, Prefix=prefix, Delimiter="/"):
            for common in page.get("CommonPrefixes", []):
                folders.append(common.get("Prefix", "")[len(prefix) :].rstrip("/"))
        while (newest := newest_report(folders)) is not None:
            key = f"{prefix}{newest}/{MANIFEST_NAME}"
            if self._exists(bucket, key):
                return key
            folders.remove(newest)
        return None

    def manifest(self, bucket: str, key: str) -> InventoryManifest:
        where = f"s3://{bucket}/{key}"
        body = self._client.get_object(Bucket=bucket, Key=key)["Body"].read()
        checksum_key = key.removesuffix(MANIFEST_NAME) + CHECKSUM_NAME
        checksum = None
        if key.endswith(MANIFEST_NAME):
            try:
                checksum = self._client.get_object(Bucket=bucket, Key=checksum_key)["Body"].read()
            except ClientError as exc:
                if str(exc.response.get("Error", {}).get("Code", "")) not in _NOT_FOUND:
                    raise
        verify_manifest_checksum(body, checksum, where)
        return parse_manifest(body, where)

    @contextlib.contextmanager
    def rows(self, bucket: str, data_file: DataFile) -> Iterator[Iterator[list[str]]]:
        """The rows of `data_file`, read from a verified local copy."""
        with tempfile.TemporaryFile() as spool:
            digest = hashlib.md5(usedforsecurity=False)
            body = self._client.get_object(Bucket=bucket, Key=data_file.key)["Body"]
            while chunk := body.read(_CHUNK_BYTES):
                digest.update(chunk)
                spool.write(chunk)
            verify_md5(digest.hexdigest(), data_file.md5, f"s3://{bucket}/{data_file.key}")
            spool.seek(0)
            yield csv_rows(spool)

    def _exists(self, bucket: str, key: str) -> bool:
        try:
            self._client.head_object(Bucket=bucket, Key=key)
        except ClientError as exc:
            if str(exc.response.get("Error", {}).get("Code", "")) in _NOT_FOUND:
                return False
            raise
        return True
