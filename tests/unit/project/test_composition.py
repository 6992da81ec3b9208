"""The composition root builds one wiring per configuration and finds it again by the values of
the variables its settings read; nothing here touches the network (clients connect lazily)."""

from __future__ import annotations

import logging
from typing import Any

import boto3
import botocore
import pytest

from chalicelib.composition import (
    USER_AGENT,
    dynamodb_client,
    pipeline_for,
    route_handlers_for,
    wiring_for,
)
from chalicelib.core.errors import ConfigurationError
from chalicelib.core.logs import get_logger

STAGE = {
    "APP_BUCKET_NAME": "uploads-composition",
    "LOCK_TABLE_NAME": "locks-composition",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
}


def test_the_same_values_find_the_same_pipeline_and_routes() -> None:
    environ = dict(STAGE)

    assert pipeline_for(environ) is pipeline_for(dict(STAGE))
    assert route_handlers_for(environ) is route_handlers_for(dict(STAGE))
    assert wiring_for(environ).pipeline is pipeline_for(environ)


def test_a_variable_the_settings_read_builds_another_pipeline_and_one_they_do_not_read_none() -> (
    None
):
    first = pipeline_for(dict(STAGE))

    assert pipeline_for(STAGE | {"LOCK_TABLE_NAME": "other-locks"}) is not first
    assert pipeline_for(STAGE | {"IDEMPOTENCY_SCOPE": "object"}) is not first
    assert pipeline_for(STAGE | {"UNRELATED_VARIABLE": "x"}) is first


def test_a_bad_value_fails_every_invocation_and_is_never_kept() -> None:
    bad = STAGE | {"IDEMPOTENCY_SCOPE": "sometimes"}

    for _ in range(2):
        with pytest.raises(ConfigurationError, match="IDEMPOTENCY_SCOPE"):
            pipeline_for(bad)


def test_the_log_level_of_the_configuration_is_applied_on_every_invocation() -> None:
    quiet = STAGE | {"AWS_LAMBDA_LOG_LEVEL": "ERROR"}
    pipeline_for(dict(STAGE))
    pipeline_for(quiet)

    assert get_logger().level == logging.ERROR
    pipeline_for(dict(STAGE))
    assert get_logger().level == logging.INFO


class Sent(Exception):
    """Stops a request once it is signed, before it leaves."""


def test_the_dynamodb_client_sends_a_fixed_user_agent_naming_the_sdk_and_the_application() -> None:
    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )
    client = dynamodb_client(session)
    seen: list[str] = []

    def capture(request: Any, **_: Any) -> None:
        seen.append(request.headers["User-Agent"].decode())
        raise Sent

    client.meta.events.register("before-send", capture)
    with pytest.raises(Sent):
        client.describe_limits()

    assert seen == [f"{USER_AGENT} Botocore/{botocore.__version__}"]
