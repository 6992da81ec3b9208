"""Inventory rows read into ObjectRefs by the manifest's fileSchema."""

from __future__ import annotations

import io

import pytest

from chalicelib.core.model import IdempotencyScope, ObjectRef
from chalicelib.reconcile.errors import CorruptInventoryError
from chalicelib.reconcile.rows import Columns, csv_rows, object_ref
from tests.inventory_data import SCHEMA, Row, data_file

NAMES = [name.strip() for name in SCHEMA.split(",")]
COLUMNS = Columns.from_schema(NAMES, IdempotencyScope.CONTENT, "manifest")


def read(rows: list[Row]) -> list[ObjectRef | None]:
    return [object_ref(r, COLUMNS, "file") for r in csv_rows(io.BytesIO(data_file(rows)))]


def test_keys_are_url_decoded_and_the_upload_identity_kept() -> None:
    refs = read([Row("b", "dir/a b+c,é #1 100%.txt", "e1", 7, "v1")])

    assert refs == [ObjectRef("b", "dir/a b+c,é #1 100%.txt", "e1", "v1", size=7)]


def test_delete_markers_and_older_versions_give_no_object() -> None:
    refs = read(
        [
            Row("b", "gone.txt", "", version_id="v3", is_delete_marker=True),
            Row("b", "doc.txt", "old", version_id="v1", is_latest=False),
            Row("b", "doc.txt", "new", version_id="v2"),
        ]
    )

    assert refs[:2] == [None, None]
    assert refs[2] == ObjectRef("b", "doc.txt", "new", "v2", size=5)


def test_a_null_or_empty_version_is_no_version() -> None:
    assert [ref.version_id if ref else "?" for ref in read([Row("b", "k", "e", 1, "null")])] == [
        None
    ]


def test_a_schema_without_the_scopes_identity_is_refused_naming_the_column() -> None:
    with pytest.raises(CorruptInventoryError, match="fileSchema has no ETag column"):
        Columns.from_schema(["Bucket", "Key", "Size"], IdempotencyScope.CONTENT, "manifest")
    assert Columns.from_schema(["Bucket", "Key"], IdempotencyScope.OBJECT, "manifest").etag is None


def test_a_short_row_or_a_size_that_is_no_number_is_refused_naming_where() -> None:
    with pytest.raises(CorruptInventoryError, match=r"^file row 3: 2 fields"):
        object_ref(["b", "k"], COLUMNS, "file row 3")
    fields = Row("b", "k", "e").fields(NAMES)
    fields[NAMES.index("Size")] = "12kB"
    with pytest.raises(CorruptInventoryError, match="Size '12kB' is no number"):
        object_ref(fields, COLUMNS, "file row 1")
