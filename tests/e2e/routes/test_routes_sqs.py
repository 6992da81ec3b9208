"""The SQS route end to end: S3 notifications queued by S3 itself (moto), through the handler."""

from __future__ import annotations

import json
from typing import Any

import boto3

from chalicelib.core.keys import idempotency_key
from chalicelib.core.model import IdempotencyScope, ObjectRef
from s3once.s3_events import created_event, put_upload
from tests.conftest import unique_name
from tests.e2e.conftest import AppUnderTest
from tests.e2e.routes.routes_app import SQS_FUNCTION, app_as_deployed, invoke, lambda_sqs_event
from tests.route_events import sqs_batch, sqs_message

STAGE_BASICS = {"APP_BUCKET_NAME": "uploads-stage", "LOCK_TABLE_NAME": "locks-stage"}


def queue_for_bucket(app: AppUnderTest, moto_url: str, name: str) -> tuple[Any, str, str]:
    sqs = boto3.client("sqs", endpoint_url=moto_url)
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    app.s3.put_bucket_notification_configuration(
        Bucket=app.bucket,
        NotificationConfiguration={
            "QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:ObjectCreated:*"]}]
        },
    )
    return sqs, url, arn


def receive_all(sqs: Any, url: str) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    while batch := sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"]
    ).get("Messages", []):
        messages.extend(batch)
    return messages


def test_notifications_s3_queued_are_processed_and_its_test_event_dropped(
    make_app: Any, moto_url: str
) -> None:
    queue = unique_name("events")
    app: AppUnderTest = make_app(SQS_QUEUE_NAME=queue)
    sqs, url, arn = queue_for_bucket(app, moto_url, queue)
    put_upload(app.s3, app.bucket, "queued/a b+c.txt", b"hello", "text/plain")
    messages = receive_all(sqs, url)
    bodies = [json.loads(message["Body"]) for message in messages]

    response = invoke(app, SQS_FUNCTION, lambda_sqs_event(messages, arn))

    assert [body.get("Event", "notification") for body in bodies] == [
        "s3:TestEvent",
        "notification",
    ]
    assert response == {"batchItemFailures": []}
    (item,) = app.lock_items()
    assert (item["key"]["S"], item["status"]["S"]) == ("queued/a b+c.txt", "COMPLETED")


def test_a_message_whose_object_is_busy_is_the_only_one_delivered_again(make_app: Any) -> None:
    app: AppUnderTest = make_app(SQS_QUEUE_NAME=unique_name("events"), LEASE_SECONDS="600")
    first = put_upload(app.s3, app.bucket, "one.txt", b"1", "text/plain")
    second = put_upload(app.s3, app.bucket, "two.txt", b"2", "text/plain")
    ref = ObjectRef(app.bucket, second.key, etag=second.etag)
    app.dynamodb.update_item(  # another invocation holds two.txt with a live lease
        TableName=app.lock_table,
        Key={"pk": {"S": idempotency_key(ref, IdempotencyScope.CONTENT, "content-type")}},
        UpdateExpression="SET #s = :s, attempts = :a, lease_expires_at = :l, #o = :o",
        ExpressionAttributeNames={"#s": "status", "#o": "owner"},
        ExpressionAttributeValues={
            ":s": {"S": "IN_PROGRESS"},
            ":a": {"N": "1"},
            ":l": {"N": "99999999999999"},
            ":o": {"S": "someone-else"},
        },
    )
    batch = sqs_batch(
        sqs_message(created_event(first), "m-1"), sqs_message(created_event(second), "m-2")
    )

    response = invoke(app, SQS_FUNCTION, batch)

    assert response == {"batchItemFailures": [{"itemIdentifier": "m-2"}]}
    statuses = {item["pk"]["S"]: item["status"]["S"] for item in app.lock_items()}
    assert statuses[idempotency_key(ref, IdempotencyScope.CONTENT, "content-type")] == (
        "IN_PROGRESS"
    )
    assert sorted(statuses.values()) == ["COMPLETED", "IN_PROGRESS"]


def test_a_stage_without_a_queue_has_no_sqs_function() -> None:
    app = app_as_deployed(STAGE_BASICS)

    assert SQS_FUNCTION not in app.handler_map
    assert not [s for s in app.event_sources if type(s).__name__ == "SQSEventConfig"]


def test_a_stage_with_a_queue_subscribes_its_function_to_it() -> None:
    app = app_as_deployed({**STAGE_BASICS, "SQS_QUEUE_NAME": "q-1", "SQS_BATCH_SIZE": "5"})

    (source,) = [s for s in app.event_sources if type(s).__name__ == "SQSEventConfig"]

    assert (source.name, source.queue, source.batch_size) == (SQS_FUNCTION, "q-1", 5)
    assert SQS_FUNCTION in app.handler_map
