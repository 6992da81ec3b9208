"""The manifest as AWS documents it: read, checked, and refused in one line naming why."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from chalicelib.reconcile.errors import (
    ChecksumMismatchError,
    CorruptInventoryError,
    ForeignInventoryError,
    UnsupportedInventoryFormatError,
)
from chalicelib.reconcile.manifest import (
    check_reconcilable,
    newest_report,
    parse_manifest,
    verify_manifest_checksum,
)
from tests.inventory_data import SCHEMA

WHERE = "s3://dest/inventory/uploads/all/2026-12-01T00-00Z/manifest.json"


def manifest(**changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "sourceBucket": "uploads",
        "destinationBucket": "arn:aws:s3:::dest",
        "version": "2016-11-30",
        "creationTimestamp": "1764547200000",
        "fileFormat": "CSV",
        "fileSchema": SCHEMA,
        "files": [{"key": "inventory/a.csv.gz", "size": 12, "MD5checksum": "0" * 32}],
    }
    document.update(changes)
    return {name: value for name, value in document.items() if value is not None}


def test_a_documented_manifest_gives_its_buckets_columns_and_files() -> None:
    read = parse_manifest(json.dumps(manifest()).encode(), WHERE)

    assert (read.source_bucket, read.destination_bucket, read.file_format) == (
        "uploads",
        "dest",
        "CSV",
    )
    assert read.columns[:3] == ("Bucket", "Key", "VersionId") and read.columns[-1] == "ETag"
    assert [(f.key, f.size, f.md5) for f in read.files] == [("inventory/a.csv.gz", 12, "0" * 32)]
    assert read.creation_ms == 1764547200000


def test_a_manifest_that_is_not_json_is_refused_naming_it() -> None:
    with pytest.raises(CorruptInventoryError, match=f"^{WHERE} is not JSON"):
        parse_manifest(b'{"sourceBucket": "uploads", ', WHERE)


@pytest.mark.parametrize("missing", ["sourceBucket", "fileSchema", "files", "fileFormat"])
def test_a_manifest_without_a_documented_field_is_refused_naming_the_field(missing: str) -> None:
    with pytest.raises(CorruptInventoryError, match=f"has no {missing}$"):
        parse_manifest(json.dumps(manifest(**{missing: None})).encode(), WHERE)


def test_a_file_entry_without_its_md5_is_refused_naming_the_file() -> None:
    files = [{"key": "inventory/a.csv.gz", "size": 12}]
    with pytest.raises(
        CorruptInventoryError, match=r"files\[0\] \(inventory/a.csv.gz\) has no MD5"
    ):
        parse_manifest(json.dumps(manifest(files=files)).encode(), WHERE)


def test_the_manifest_checksum_file_is_verified_when_present() -> None:
    body = json.dumps(manifest()).encode()
    verify_manifest_checksum(body, hashlib.md5(body).hexdigest().encode() + b"\n", WHERE)
    verify_manifest_checksum(body, None, WHERE)  # no checksum file: nothing to compare

    with pytest.raises(ChecksumMismatchError, match=f"^checksum mismatch: {WHERE} has MD5"):
        verify_manifest_checksum(body + b" ", hashlib.md5(body).hexdigest().encode(), WHERE)


def test_an_inventory_of_another_bucket_is_refused_naming_both() -> None:
    read = parse_manifest(json.dumps(manifest(sourceBucket="elsewhere")).encode(), WHERE)

    with pytest.raises(ForeignInventoryError) as refused:
        check_reconcilable(read, "uploads", WHERE)
    assert str(refused.value) == (
        f"{WHERE} is an inventory of bucket 'elsewhere', not of the stage's bucket 'uploads'"
    )


@pytest.mark.parametrize("file_format", ["Parquet", "ORC"])
def test_a_columnar_report_is_refused_naming_its_format(file_format: str) -> None:
    read = parse_manifest(json.dumps(manifest(fileFormat=file_format)).encode(), WHERE)

    with pytest.raises(UnsupportedInventoryFormatError, match=f"is in format {file_format}:"):
        check_reconcilable(read, "uploads", WHERE)


def test_the_newest_report_is_the_latest_time_folder_and_nothing_else_counts() -> None:
    folders = ["2026-11-30T00-00Z", "data", "hive", "2026-12-01T00-00Z", "2026-11-29T23-59Z"]

    assert newest_report(folders) == "2026-12-01T00-00Z"
    assert newest_report(["data", "hive"]) is None
