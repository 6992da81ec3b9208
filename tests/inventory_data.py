"""S3 Inventory reports made by the tests, laid out as AWS publishes them: gzip CSV data files
under `<prefix>/<source-bucket>/<config-id>/data/`, and in a folder named for the report's time
`manifest.json` (sourceBucket, destinationBucket as an ARN, fileFormat, fileSchema, files with
key, size and MD5checksum, creationTimestamp) beside `manifest.checksum`."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote_plus

SCHEMA = "Bucket, Key, VersionId, IsLatest, IsDeleteMarker, Size, LastModifiedDate, ETag"
STAMP = "2026-12-01T00-00Z"


@dataclass(frozen=True)
class Row:
    bucket: str
    key: str
    etag: str
    size: int = 5
    version_id: str = ""
    is_latest: bool = True
    is_delete_marker: bool = False

    def fields(self, schema: Sequence[str]) -> list[str]:
        values = {
            "Bucket": self.bucket,
            "Key": quote_plus(self.key, safe="/"),
            "VersionId": self.version_id,
            "IsLatest": "true" if self.is_latest else "false",
            "IsDeleteMarker": "true" if self.is_delete_marker else "false",
            "Size": "" if self.is_delete_marker else str(self.size),
            "LastModifiedDate": "2026-11-30T12:00:00.000Z",
            "ETag": "" if self.is_delete_marker else self.etag,
        }
        return [values[name] for name in schema]


def fake_etag(key: str) -> str:
    return hashlib.md5(key.encode(), usedforsecurity=False).hexdigest()


def data_file(rows: Sequence[Row], schema: str = SCHEMA) -> bytes:
    names = [name.strip() for name in schema.split(",")]
    text = io.StringIO()
    writer = csv.writer(text, quoting=csv.QUOTE_ALL, lineterminator="\n")
    for row in rows:
        writer.writerow(row.fields(names))
    return gzip.compress(text.getvalue().encode("utf-8"), mtime=0)


@dataclass
class Report:
    """A report written to S3: where its manifest is, and its data files' keys."""

    bucket: str
    location: str  # <prefix>/<source-bucket>/<config-id>/
    manifest_key: str
    data_keys: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/{self.manifest_key}"


def write_report(
    s3: Any,
    bucket: str,
    source_bucket: str,
    rows: Sequence[Row],
    files: int = 1,
    stamp: str = STAMP,
    schema: str = SCHEMA,
    file_format: str = "CSV",
    prefix: str = "inventory",
    checksum: bool = True,
) -> Report:
    """Write `rows` split over `files` data files, the manifest and its checksum."""
    location = f"{prefix}/{source_bucket}/all-objects/"
    report = Report(bucket, location, f"{location}{stamp}/manifest.json")
    entries = []
    per_file = -(-len(rows) // files) if rows else 0
    for n in range(files):
        body = data_file(rows[n * per_file : (n + 1) * per_file], schema)
        key = f"{location}data/{uuid.uuid4()}.csv.gz"
        s3.put_object(Bucket=bucket, Key=key, Body=body)
        report.data_keys.append(key)
        entries.append(
            {
                "key": key,
                "size": len(body),
                "MD5checksum": hashlib.md5(body, usedforsecurity=False).hexdigest(),
            }
        )
    manifest = {
        "sourceBucket": source_bucket,
        "destinationBucket": f"arn:aws:s3:::{bucket}",
        "version": "2016-11-30",
        "creationTimestamp": "1764547200000",
        "fileFormat": file_format,
        "fileSchema": schema,
        "files": entries,
    }
    body = json.dumps(manifest, indent=2).encode()
    s3.put_object(Bucket=bucket, Key=report.manifest_key, Body=body)
    if checksum:
        digest = hashlib.md5(body, usedforsecurity=False).hexdigest()
        s3.put_object(
            Bucket=bucket,
            Key=report.manifest_key.replace("manifest.json", "manifest.checksum"),
            Body=(digest + "\n").encode(),
        )
    return report
