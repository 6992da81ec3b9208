"""Invoking the routes' functions of the app under test, and SQS messages as Lambda gets them."""

from __future__ import annotations

import functools
import importlib.util
import os
from typing import Any

from tests.conftest import PROJECT_DIR
from tests.e2e.conftest import AppUnderTest

SQS_FUNCTION = "on_sqs_message"
EVENTBRIDGE_FUNCTION = "on_eventbridge_object_created"
BATCH_FUNCTION = "on_batch_operations_task"


def invoke(app: AppUnderTest, function: str, event: dict[str, Any]) -> Any:
    return app.client.lambda_.invoke(function, event).payload


def lambda_sqs_event(messages: list[dict[str, Any]], queue_arn: str) -> dict[str, Any]:
    """What Lambda's event source mapping passes for messages from ReceiveMessage."""
    return {
        "Records": [
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": message.get("Attributes", {}),
                "messageAttributes": {},
                "md5OfBody": message["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": queue_arn.split(":")[3],
            }
            for message in messages
        ]
    }


def app_as_deployed(environment: dict[str, str]) -> Any:
    """The Chalice app object of a fresh import of app.py under `environment` alone, as
    `chalice deploy` imports it with a stage's variables: what it registers is what deploys."""
    return _imported(tuple(sorted(environment.items())))


@functools.cache
def _imported(environment: tuple[tuple[str, str], ...]) -> Any:
    saved = dict(os.environ)
    os.environ.update(dict(environment))
    try:
        spec = importlib.util.spec_from_file_location("app_as_deployed", PROJECT_DIR / "app.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return module.app
