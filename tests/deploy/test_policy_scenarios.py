"""End-to-end scenarios the policy proof replays on top of tests/e2e.

Each one reaches an S3 call the smoke scenarios do not: reading by version on a versioned
bucket, a key deleted before its event arrives, an object overwritten after it. Without them
the proof could not justify `s3:GetObjectVersion` or `s3:ListBucket`.
"""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.errors import IncompleteBatchError
from s3once.s3_events import created_event, put_upload


def test_an_upload_to_a_versioned_bucket_is_read_by_its_version(make_app: Any) -> None:
    app = make_app()
    app.s3.put_bucket_versioning(Bucket=app.bucket, VersioningConfiguration={"Status": "Enabled"})
    upload = put_upload(app.s3, app.bucket, "reports/v.csv", b"a,b\n", "text/csv")
    assert upload.version_id

    summary = app.invoke(created_event(upload))

    assert summary["records"][0]["outcome"] == "processed"
    (item,) = app.lock_items()
    assert item["version_id"]["S"] == upload.version_id


def test_an_object_deleted_before_its_event_is_handled_fails_without_retry(
    make_app: Any,
) -> None:
    app = make_app()
    upload = put_upload(app.s3, app.bucket, "gone.txt", b"x", "text/plain")
    app.s3.delete_object(Bucket=app.bucket, Key=upload.key)

    summary = app.invoke(created_event(upload))

    assert summary["records"][0]["outcome"] == "failed_permanently"


def test_an_object_overwritten_after_its_event_is_not_processed_as_the_old_upload(
    make_app: Any,
) -> None:
    app = make_app()
    first = put_upload(app.s3, app.bucket, "same.txt", b"first", "text/plain")
    put_upload(app.s3, app.bucket, "same.txt", b"second", "text/plain")

    try:
        summary = app.invoke(created_event(first))
    except IncompleteBatchError as exc:  # pragma: no cover - shows what went wrong
        pytest.fail(f"the stale event was retried instead of settled: {exc}")

    assert summary["records"][0]["outcome"] == "failed_permanently"
