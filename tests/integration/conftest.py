"""Lock repositories under test (the in-memory fake and the DynamoDB adapter on both servers),
and the access-log stack."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.config import Config

from chalicelib.aws.dynamodb_lock import DynamoDBLockRepository
from s3once.aws.tables import create_lock_table
from tests.conftest import DYNAMODB_SERVERS, unique_name
from tests.fakes import InMemoryLockRepository
from tests.integration.access_log.access_log_harness import Stack, new_stack

# Few, fast retries keep the fault tests quick while still going through botocore's retry logic.
TEST_CLIENT_CONFIG = Config(retries={"mode": "standard", "max_attempts": 3})


def dynamodb_client(url: str) -> Any:
    return boto3.client("dynamodb", endpoint_url=url, config=TEST_CLIENT_CONFIG)


@pytest.fixture
def lock_table(dynamodb_url: str) -> tuple[Any, str]:
    """A new lock table on each DynamoDB server in turn: (client, table name)."""
    client = dynamodb_client(dynamodb_url)
    name = unique_name("locks")
    create_lock_table(client, name)
    return client, name


@pytest.fixture(params=("memory", *DYNAMODB_SERVERS))
def make_repository(request: pytest.FixtureRequest) -> Callable[[], Any]:
    """A factory of repositories sharing one store: the fake, or one table on a real server."""
    if request.param == "memory":
        shared = InMemoryLockRepository()
        return lambda: shared
    if request.param == "moto" and request.node.get_closest_marker("dynamodb_local_only"):
        pytest.skip("moto's DynamoDB cannot show this; checked against DynamoDB Local")
    fixture = "dynamodb_local_url" if request.param == "dynamodb-local" else "moto_url"
    url: str = request.getfixturevalue(fixture)
    name = unique_name("locks")
    create_lock_table(dynamodb_client(url), name)
    return lambda: DynamoDBLockRepository(dynamodb_client(url), name)


@pytest.fixture
def stack(dynamodb_local_url: str, moto_url: str) -> Stack:
    """The access-log pipeline's tables and bucket on DynamoDB Local and moto."""
    return new_stack(dynamodb_local_url, moto_url)
