"""The checksum processor through the Chalice handler, S3 on moto (which honours
`If-None-Match: *`): one sidecar per upload, whatever is retried or taken over."""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

import pytest

from chalicelib.core.errors import IncompleteBatchError
from s3once.s3_events import created_event, put_upload
from tests.conftest import unique_name
from tests.e2e.conftest import AppUnderTest, MakeApp, outcomes
from tests.faults import (
    LOST_RESPONSE,
    THROTTLED,
    FaultProxy,
    FaultRule,
    dynamodb_operation,
    s3_method,
)

BODY = b"col1,col2\n1,2\n" * 100


def checksum_app(make_app: MakeApp, **overrides: str) -> tuple[AppUnderTest, str]:
    output = unique_name("sidecars")
    app = make_app(PROCESSOR="checksum", CHECKSUM_BUCKET_NAME=output, **overrides)
    app.s3.create_bucket(Bucket=output)
    return app, output


def sidecars(app: AppUnderTest, output: str) -> dict[str, dict[str, Any]]:
    listed = app.s3.list_objects_v2(Bucket=output).get("Contents", [])
    return {
        item["Key"]: json.loads(app.s3.get_object(Bucket=output, Key=item["Key"])["Body"].read())
        for item in listed
    }


def test_each_upload_gets_one_sidecar_and_a_changed_upload_its_own(make_app: MakeApp) -> None:
    app, output = checksum_app(make_app)
    first = put_upload(app.s3, app.bucket, "data/report.csv", BODY, "text/csv")

    assert outcomes(app.invoke(created_event(first))) == [("processed", 1)]
    assert outcomes(app.invoke(created_event(first))) == [("skipped", 1)]
    changed = put_upload(app.s3, app.bucket, "data/report.csv", BODY + b"3,4\n", "text/csv")
    assert outcomes(app.invoke(created_event(changed))) == [("processed", 1)]

    found = sidecars(app, output)
    assert sorted(found) == sorted(
        f"checksums/{app.bucket}/data/report.csv/e={upload.etag}.json"
        for upload in (first, changed)
    )
    old = found[f"checksums/{app.bucket}/data/report.csv/e={first.etag}.json"]
    assert old == {
        "bucket": app.bucket,
        "key": "data/report.csv",
        "eTag": first.etag,
        "versionId": None,
        "size": len(BODY),
        "digest": {"algorithm": "SHA-256", "hex": hashlib.sha256(BODY).hexdigest()},
    }


def test_a_versioned_upload_is_named_by_its_version(make_app: MakeApp) -> None:
    app, output = checksum_app(make_app)
    app.s3.put_bucket_versioning(Bucket=app.bucket, VersioningConfiguration={"Status": "Enabled"})
    upload = put_upload(app.s3, app.bucket, "v.bin", BODY, "application/octet-stream")

    app.invoke(created_event(upload))

    assert list(sidecars(app, output)) == [
        f"checksums/{app.bucket}/v.bin/v={upload.version_id}.json"
    ]


def test_a_sidecar_write_whose_response_is_lost_is_retried_into_a_412_and_succeeds(
    make_app: MakeApp, s3_proxy: FaultProxy
) -> None:
    app, output = checksum_app(make_app, app_s3_url=s3_proxy.url)
    upload = put_upload(app.s3, app.bucket, "lost.csv", BODY, "text/csv")
    # The write reaches S3 and takes effect; its answer is a 500, so botocore sends it again.
    s3_proxy.rules.append(FaultRule(s3_method("PUT"), LOST_RESPONSE, times=1))

    assert outcomes(app.invoke(created_event(upload))) == [("processed", 1)]

    assert len(sidecars(app, output)) == 1
    [item] = app.lock_items()
    assert item["result"]["M"]["written"] == {"BOOL": False}  # S3 said: already written


def test_a_worker_cut_off_after_writing_is_taken_over_without_a_second_sidecar(
    make_app: MakeApp, dynamodb_proxy: FaultProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    app, output = checksum_app(make_app, app_dynamodb_url=dynamodb_proxy.url, LEASE_SECONDS="1")
    upload = put_upload(app.s3, app.bucket, "died.csv", BODY, "text/csv")
    # The acquisition goes through; every later write of the lock record (completion, failure)
    # is throttled, so the record is left IN_PROGRESS to its lease, with the sidecar written.
    dynamodb_proxy.rules.append(FaultRule(dynamodb_operation("UpdateItem"), THROTTLED, after=1))

    with pytest.raises(IncompleteBatchError):
        app.invoke(created_event(upload))
    [held] = app.lock_items()
    assert held["status"]["S"] == "IN_PROGRESS"
    assert len(sidecars(app, output)) == 1
    dynamodb_proxy.rules.clear()
    time.sleep(1.1)  # the lease of the cut-off worker expires

    assert outcomes(app.invoke(created_event(upload))) == [("taken_over", 2)]
    assert len(sidecars(app, output)) == 1
    [item] = app.lock_items()
    assert item["status"]["S"] == "COMPLETED"
    assert item["result"]["M"]["written"] == {"BOOL": False}
