"""`put_if_absent`, S3's conditional write, held to one contract by the S3 adapter on moto and
by the in-memory store the unit tests use, so the fake cannot drift."""

from __future__ import annotations

from collections.abc import Callable

import boto3
import pytest

from chalicelib.aws.s3_objects import S3ObjectStore
from chalicelib.processors.plugin import ObjectWriter
from tests.fakes import FakeObjectStore

Writer = tuple[ObjectWriter, str, Callable[[str], bytes]]


@pytest.fixture(params=("memory", "moto"))
def writer(request: pytest.FixtureRequest, s3_bucket: str) -> Writer:
    """The writer, the bucket it writes to, and a reader of what was stored."""
    if request.param == "memory":
        store = FakeObjectStore()
        return store, s3_bucket, lambda key: store.objects[(s3_bucket, key)][1]
    client = boto3.client("s3", endpoint_url=request.getfixturevalue("moto_url"))
    return (
        S3ObjectStore(client),
        s3_bucket,
        lambda key: client.get_object(Bucket=s3_bucket, Key=key)["Body"].read(),
    )


def test_the_first_write_of_a_key_wins_and_later_ones_say_already_written(
    writer: Writer,
) -> None:
    store, bucket, read = writer

    first = store.put_if_absent(bucket, "sidecars/a.json", b"first", "application/json")
    second = store.put_if_absent(bucket, "sidecars/a.json", b"second", "application/json")
    other = store.put_if_absent(bucket, "sidecars/b.json", b"other", "application/json")

    assert (first, second, other) == (True, False, True)
    assert read("sidecars/a.json") == b"first"
