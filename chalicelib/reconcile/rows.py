"""The rows of an inventory's CSV data files, read into the core's `ObjectRef`.

Columns are found by the manifest's `fileSchema` (the CSV has no header). Keys are URL-encoded
in CSV reports. A delete marker or a version that is not the latest is no upload to process:
such rows are read (and counted) but give no object.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import IO
from urllib.parse import unquote_plus

from chalicelib.core.model import IdempotencyScope, ObjectRef
from chalicelib.reconcile.errors import CorruptInventoryError

NULL_VERSION = "null"  # versioning suspended or never enabled: no version to tell apart


@dataclass(frozen=True)
class Columns:
    """Where each field the reconciliation reads is in a row (None: not in the report)."""

    bucket: int
    key: int
    etag: int | None
    size: int | None
    version_id: int | None
    is_latest: int | None
    is_delete_marker: int | None

    @classmethod
    def from_schema(cls, names: Sequence[str], scope: IdempotencyScope, where: str) -> Columns:
        """The columns of `names`; the uploads' identity under `scope` must be among them."""
        index = {name: n for n, name in enumerate(names)}
        missing = [name for name in ("Bucket", "Key") if name not in index]
        if scope is not IdempotencyScope.OBJECT and "ETag" not in index:
            missing.append("ETag")  # the identity of an upload (a version's too, when unversioned)
        if missing:
            raise CorruptInventoryError(
                f"{where}: fileSchema has no {', '.join(missing)} column"
                f" (scope {scope.value!r} needs it; add it to the inventory's optional fields)"
            )
        return cls(
            bucket=index["Bucket"],
            key=index["Key"],
            etag=index.get("ETag"),
            size=index.get("Size"),
            version_id=index.get("VersionId"),
            is_latest=index.get("IsLatest"),
            is_delete_marker=index.get("IsDeleteMarker"),
        )

    @property
    def width(self) -> int:
        present = (self.etag, self.size, self.version_id, self.is_latest, self.is_delete_marker)
        return 1 + max(self.bucket, self.key, *(n for n in present if n is not None))


def csv_rows(compressed: IO[bytes]) -> Iterator[list[str]]:
    """The rows of a gzip-compressed CSV data file, streamed."""
    text = io.TextIOWrapper(gzip.GzipFile(fileobj=compressed), encoding="utf-8", newline="")
    yield from csv.reader(text)


def object_ref(row: Sequence[str], columns: Columns, where: str) -> ObjectRef | None:
    """The upload a row describes; None for a delete marker or a version not the latest."""
    if len(row) < columns.width:
        raise CorruptInventoryError(f"{where}: {len(row)} fields, the fileSchema names more")
    if _flag(row, columns.is_delete_marker) or _flag(row, columns.is_latest) is False:
        return None
    size = None
    if columns.size is not None and row[columns.size]:
        if not row[columns.size].isdigit():
            raise CorruptInventoryError(f"{where}: Size {row[columns.size][:40]!r} is no number")
        size = int(row[columns.size])
    version = row[columns.version_id] if columns.version_id is not None else ""
    return ObjectRef(
        bucket=row[columns.bucket],
        key=unquote_plus(row[columns.key]),
        etag=(row[columns.etag] or None) if columns.etag is not None else None,
        version_id=None if version in ("", NULL_VERSION) else version,
        size=size,
    )


def _flag(row: Sequence[str], column: int | None) -> bool | None:
    if column is None or not row[column]:
        return None
    return row[column].strip().lower() == "true"
