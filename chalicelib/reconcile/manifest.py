"""An S3 Inventory report's `manifest.json`, read and checked as AWS documents it.

A report is published under `<destination-prefix>/<source-bucket>/<config-id>/` in a folder
named for when its scan began (`YYYY-MM-DDTHH-MMZ/`), holding `manifest.json` and
`manifest.checksum` (the MD5 of `manifest.json`); the manifest names the data files, each with
its MD5, in the destination bucket, and their columns (`fileSchema`).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from chalicelib.reconcile.errors import (
    ChecksumMismatchError,
    CorruptInventoryError,
    ForeignInventoryError,
    UnsupportedInventoryFormatError,
)

MANIFEST_NAME = "manifest.json"
CHECKSUM_NAME = "manifest.checksum"
READABLE_FORMAT = "CSV"  # gzip-compressed CSV; ORC and Parquet would need a columnar reader
REQUIRED_FIELDS = ("sourceBucket", "destinationBucket", "fileFormat", "fileSchema", "files")
REPORT_FOLDER = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}-\d{2}Z")
_MD5 = re.compile(r"[0-9a-f]{32}")
_BUCKET_ARN = "arn:aws:s3:::"


@dataclass(frozen=True)
class DataFile:
    key: str  # in the destination bucket
    size: int
    md5: str  # hex, of the file as stored (compressed)


@dataclass(frozen=True)
class InventoryManifest:
    source_bucket: str
    destination_bucket: str  # a bucket name (the manifest gives its ARN)
    file_format: str
    columns: tuple[str, ...]
    files: tuple[DataFile, ...]
    creation_ms: int | None


def parse_manifest(body: bytes, where: str) -> InventoryManifest:
    """The manifest in `body`; CorruptInventoryError names `where` and what is wrong."""
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CorruptInventoryError(f"{where} is not JSON: {exc}") from None
    if not isinstance(document, dict):
        raise CorruptInventoryError(f"{where} is not a JSON object")
    missing = [name for name in REQUIRED_FIELDS if name not in document]
    if missing:
        raise CorruptInventoryError(f"{where} has no {', '.join(missing)}")
    files = document["files"]
    if not isinstance(files, list):
        raise CorruptInventoryError(f"{where}: files is not a list")
    schema = document["fileSchema"]
    if not isinstance(schema, str) or not schema.strip():
        raise CorruptInventoryError(f"{where}: fileSchema is not a list of column names")
    return InventoryManifest(
        source_bucket=_text(document, "sourceBucket", where),
        destination_bucket=_text(document, "destinationBucket", where).removeprefix(_BUCKET_ARN),
        file_format=_text(document, "fileFormat", where),
        columns=tuple(column.strip() for column in schema.split(",")),
        files=tuple(_data_file(entry, f"{where}: files[{n}]") for n, entry in enumerate(files)),
        creation_ms=_creation_ms(document.get("creationTimestamp")),
    )


def _text(document: Mapping[str, Any], name: str, where: str) -> str:
    value = document[name]
    if not isinstance(value, str) or not value:
        raise CorruptInventoryError(f"{where}: {name} is not a non-empty string")
    return value


def _data_file(entry: object, where: str) -> DataFile:
    if not isinstance(entry, dict):
        raise CorruptInventoryError(f"{where} is not an object")
    key, size, md5 = entry.get("key"), entry.get("size"), entry.get("MD5checksum")
    if not isinstance(key, str) or not key:
        raise CorruptInventoryError(f"{where} has no key")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise CorruptInventoryError(f"{where} ({key}) has no size")
    if not isinstance(md5, str) or not _MD5.fullmatch(md5.lower()):
        raise CorruptInventoryError(f"{where} ({key}) has no MD5checksum")
    return DataFile(key, size, md5.lower())


def _creation_ms(value: object) -> int | None:
    """`creationTimestamp`: epoch milliseconds, written as a string of digits."""
    text = str(value) if isinstance(value, (str, int)) else ""
    return int(text) if text.isdigit() else None


def md5_hex(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def verify_md5(actual: str, expected: str, what: str) -> None:
    if actual.lower() != expected.strip().lower():
        raise ChecksumMismatchError(
            f"checksum mismatch: {what} has MD5 {actual}, the report states {expected.strip()}"
        )


def verify_manifest_checksum(body: bytes, checksum: bytes | None, where: str) -> None:
    """`manifest.checksum` beside the manifest holds the MD5 of its bytes (when present)."""
    if checksum is None:
        return
    stated = checksum.decode("ascii", "replace").split()
    verify_md5(md5_hex(body), stated[0] if stated else "(empty)", where)


def check_reconcilable(manifest: InventoryManifest, bucket: str, where: str) -> None:
    """A CSV report of `bucket`, the stage's: anything else is refused in one line."""
    if manifest.source_bucket != bucket:
        raise ForeignInventoryError(
            f"{where} is an inventory of bucket {manifest.source_bucket!r},"
            f" not of the stage's bucket {bucket!r}"
        )
    if manifest.file_format.upper() != READABLE_FORMAT:
        raise UnsupportedInventoryFormatError(
            f"{where} is in format {manifest.file_format}: only CSV inventory reports are read"
            " (configure the inventory with the CSV output format)"
        )


def newest_report(folders: Iterable[str]) -> str | None:
    """The newest report folder among `folders` (names like `2026-01-31T01-00Z`; `data`,
    `hive` and anything else are not reports). The names sort as the times they spell."""
    reports = [name for name in folders if REPORT_FOLDER.fullmatch(name)]
    return max(reports) if reports else None
