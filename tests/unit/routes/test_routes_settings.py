"""The routes' import-time settings and the classification of AWS errors."""

from __future__ import annotations

import pytest
from botocore.exceptions import EndpointConnectionError, ReadTimeoutError

from chalicelib.aws.retryable import describe, is_transient
from chalicelib.core.errors import ConfigurationError
from chalicelib.routes.settings import RouteSettings
from tests.unit.routes.routes_world import client_error


def test_without_a_queue_name_the_sqs_route_is_off() -> None:
    assert RouteSettings.from_environ({}) == RouteSettings(None, 10)


def test_a_queue_name_and_batch_size_are_read() -> None:
    settings = RouteSettings.from_environ({"SQS_QUEUE_NAME": "q-1", "SQS_BATCH_SIZE": "5"})

    assert settings == RouteSettings("q-1", 5)


@pytest.mark.parametrize(
    ("environ", "name"),
    [
        ({"SQS_QUEUE_NAME": "arn:aws:sqs:us-east-1:1:q"}, "SQS_QUEUE_NAME"),
        ({"SQS_QUEUE_NAME": "q", "SQS_BATCH_SIZE": "11"}, "SQS_BATCH_SIZE"),
        ({"SQS_QUEUE_NAME": "q", "SQS_BATCH_SIZE": "ten"}, "SQS_BATCH_SIZE"),
        ({"SQS_QUEUE_NAME": "q", "SQS_BATCH_SIZE": "0"}, "SQS_BATCH_SIZE"),
    ],
)
def test_a_bad_setting_is_refused_naming_it(environ: dict[str, str], name: str) -> None:
    with pytest.raises(ConfigurationError, match=name):
        RouteSettings.from_environ(environ)


@pytest.mark.parametrize(
    "error",
    [
        client_error("ProvisionedThroughputExceededException"),
        client_error("ThrottlingException"),
        client_error("SlowDown", 503),
        client_error("Whatever", 502),
        client_error("TransactionConflictException"),
        EndpointConnectionError(endpoint_url="http://127.0.0.1:1"),
        ReadTimeoutError(endpoint_url="http://127.0.0.1:1"),
    ],
    ids=["provisioned", "throttling", "slow-down", "5xx", "conflict", "connection", "timeout"],
)
def test_passing_faults_are_transient(error: Exception) -> None:
    assert is_transient(error)


@pytest.mark.parametrize(
    "error",
    [
        client_error("AccessDenied", 403),
        client_error("ResourceNotFoundException"),
        client_error("ValidationException"),
        RuntimeError("a bug"),
    ],
    ids=["access-denied", "no-table", "validation", "not-aws"],
)
def test_other_errors_are_not(error: Exception) -> None:
    assert not is_transient(error)


def test_an_aws_error_is_described_by_its_code() -> None:
    assert describe(client_error("AccessDenied", 403)) == "AccessDenied: AccessDenied"
