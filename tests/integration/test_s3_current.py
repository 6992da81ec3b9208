"""The HeadObject adapter of the Batch Operations route, against moto's S3, held to the same
contract as the unit tests' fake locator: the object as it is now, its version when asked."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from chalicelib.aws.s3_current import S3CurrentObjects
from chalicelib.core.errors import ObjectNotFoundError
from chalicelib.routes.notifications import parse_event
from s3once.s3_events import created_event, put_upload
from tests.unit.routes.routes_world import FakeLocator


@pytest.fixture
def s3(moto_url: str) -> Any:
    return boto3.client("s3", endpoint_url=moto_url)


def test_the_current_object_is_its_notifications_object_but_for_sequencer_and_time(
    s3: Any, s3_bucket: str
) -> None:
    upload = put_upload(s3, s3_bucket, "dir/a b+c.txt", b"hello", "text/plain")
    (notified,) = parse_event(created_event(upload)).objects

    located = S3CurrentObjects(s3).locate(s3_bucket, upload.key, None)

    assert (located.bucket, located.key, located.etag, located.version_id, located.size) == (
        notified.bucket,
        notified.key,
        notified.etag,
        None,
        5,
    )
    assert located.event_time_ms is not None


def test_a_version_is_read_as_that_version_on_a_versioned_bucket(s3: Any, s3_bucket: str) -> None:
    s3.put_bucket_versioning(Bucket=s3_bucket, VersioningConfiguration={"Status": "Enabled"})
    old = put_upload(s3, s3_bucket, "v.txt", b"old", "text/plain")
    new = put_upload(s3, s3_bucket, "v.txt", b"newer", "text/plain")

    by_version = S3CurrentObjects(s3).locate(s3_bucket, "v.txt", old.version_id)
    current = S3CurrentObjects(s3).locate(s3_bucket, "v.txt", None)

    assert (by_version.etag, by_version.version_id, by_version.size) == (
        old.etag,
        old.version_id,
        3,
    )
    assert (current.etag, current.version_id) == (new.etag, new.version_id)


@pytest.mark.parametrize("implementation", ["s3", "fake"])
def test_a_missing_object_is_not_found_in_the_adapter_and_the_fake_alike(
    s3: Any, s3_bucket: str, implementation: str
) -> None:
    locator: Any = S3CurrentObjects(s3) if implementation == "s3" else FakeLocator()

    with pytest.raises(ObjectNotFoundError, match=r"gone\.txt"):
        locator.locate(s3_bucket, "gone.txt", None)


def test_a_missing_version_is_not_found(s3: Any, s3_bucket: str) -> None:
    s3.put_bucket_versioning(Bucket=s3_bucket, VersioningConfiguration={"Status": "Enabled"})
    put_upload(s3, s3_bucket, "v.txt", b"x", "text/plain")

    with pytest.raises(ObjectNotFoundError):
        S3CurrentObjects(s3).locate(s3_bucket, "v.txt", "3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY")
