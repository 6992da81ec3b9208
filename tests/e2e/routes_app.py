"""Invoking the routes' functions of the app under test, and SQS messages as Lambda gets them."""

from __future__ import annotations

from typing import Any

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
