"""The SQS route: one fate per message, partial batch responses, test events dropped."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chalicelib.core.errors import IncompleteBatchError, InvalidEventError
from chalicelib.core.model import LockStatus, ObjectRef
from chalicelib.routes.notifications import parse_event
from s3once.s3_events import Upload, created_event
from tests.route_events import eventbridge_created, fixture, sqs_batch, sqs_message
from tests.unit.routes.routes_world import INVOCATION, RouteWorld, client_error

A = Upload("uploads", "a.txt", "e" * 32, 5)
B = Upload("uploads", "b c+d.txt", "f" * 32, 7)
C = Upload("uploads", "c.txt", "d" * 32, 9)


def ref(upload: Upload) -> ObjectRef:
    (obj,) = parse_event(created_event(upload)).objects
    return obj


def failed_ids(response: dict[str, Any]) -> list[str]:
    return [item["itemIdentifier"] for item in response["batchItemFailures"]]


def test_the_real_sqs_payload_is_processed_and_nothing_is_reported_failed() -> None:
    world = RouteWorld()
    event = fixture("powertools__s3SqsEvent.json")

    response = world.routes().sqs(event, INVOCATION)

    assert response == {"batchItemFailures": []}
    inner = parse_event(json.loads(event["Records"][0]["body"])).objects
    assert world.processor.processed == inner
    assert inner[0].key == "test.pdf" and inner[0].version_id == "yd3d4HaWOT2zguDLvIQLU6ptDTwKBnQV"


def test_the_response_has_the_shape_of_lambdas_partial_batch_response() -> None:
    world = RouteWorld()
    world.hold(ref(B))

    response = world.routes().sqs(
        sqs_batch(sqs_message(created_event(A), "id1"), sqs_message(created_event(B), "id2")),
        INVOCATION,
    )

    reference = fixture("awsjavalibs__sqs_batch_response.json")
    assert set(response) == set(reference)
    assert {frozenset(item) for item in response["batchItemFailures"]} == {
        frozenset(item) for item in reference["batchItemFailures"]
    }
    assert response == {"batchItemFailures": [{"itemIdentifier": "id2"}]}


def test_a_busy_message_is_reported_alone_and_its_redelivery_runs_only_it() -> None:
    world = RouteWorld()
    world.hold(ref(B))
    batch = sqs_batch(
        sqs_message(created_event(A), "m-a"),
        sqs_message(created_event(B), "m-b"),
        sqs_message(created_event(C), "m-c"),
    )

    first = world.routes().sqs(batch, INVOCATION)
    world.clock.advance(700_000)  # the other holder's lease expires: the redelivery takes over
    again = world.routes().sqs(sqs_batch(batch["Records"][1]), INVOCATION)

    assert failed_ids(first) == ["m-b"]
    assert again == {"batchItemFailures": []}
    assert [obj.key for obj in world.processor.processed] == ["a.txt", "c.txt", "b c+d.txt"]


def test_a_failing_message_is_reported_alone_and_recorded_failed() -> None:
    def fail_on_c(obj: ObjectRef) -> None:
        if obj.key == "c.txt":
            raise RuntimeError("processor broke")

    world = RouteWorld()
    world.processor.behaviour = fail_on_c

    response = world.routes().sqs(
        sqs_batch(sqs_message(created_event(A), "m-a"), sqs_message(created_event(C), "m-c")),
        INVOCATION,
    )

    assert failed_ids(response) == ["m-c"]
    assert world.status(ref(A)) is LockStatus.COMPLETED
    assert world.status(ref(C)) is LockStatus.FAILED


def test_the_s3_test_event_message_is_dropped_without_processing() -> None:
    world = RouteWorld()
    test_event = fixture("awsdocs__s3_test_event.json")

    response = world.routes().sqs(
        sqs_batch(sqs_message(test_event, "test"), sqs_message(created_event(A), "m-a")),
        INVOCATION,
    )

    assert response == {"batchItemFailures": []}
    assert [obj.key for obj in world.processor.processed] == ["a.txt"]


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        json.dumps(fixture("awslambdago__s3-batch-job-event-response.json")),
        "[]",
        "[" * 100_000 + "]" * 100_000,
        "1" * 5000,
    ],
    ids=["not-json", "not-a-notification", "a-list", "deeply-nested", "huge-number"],
)
def test_a_message_that_is_no_s3_notification_fails_alone(body: str) -> None:
    world = RouteWorld()

    response = world.routes().sqs(
        sqs_batch(sqs_message(body, "junk"), sqs_message(created_event(A), "m-a")), INVOCATION
    )

    assert failed_ids(response) == ["junk"]
    assert [obj.key for obj in world.processor.processed] == ["a.txt"]


def test_a_message_with_an_invalid_record_fails_and_the_others_do_not() -> None:
    world = RouteWorld()
    notification = created_event(C)
    notification["Records"][0]["s3"]["object"]["size"] = "nine"

    response = world.routes().sqs(
        sqs_batch(sqs_message(notification, "bad"), sqs_message(created_event(A), "m-a")),
        INVOCATION,
    )

    assert failed_ids(response) == ["bad"]
    assert [obj.key for obj in world.processor.processed] == ["a.txt"]


def test_a_throttled_lock_store_fails_only_the_message_it_hit() -> None:
    world = RouteWorld()
    world.locks.errors["c.txt"] = client_error("ProvisionedThroughputExceededException")

    response = world.routes().sqs(
        sqs_batch(sqs_message(created_event(C), "m-c"), sqs_message(created_event(A), "m-a")),
        INVOCATION,
    )

    assert failed_ids(response) == ["m-c"]
    assert world.status(ref(A)) is LockStatus.COMPLETED


def test_when_every_message_fails_the_invocation_fails_naming_them() -> None:
    world = RouteWorld()
    world.hold(ref(A))

    with pytest.raises(IncompleteBatchError, match="m-a"):
        world.routes().sqs(sqs_batch(sqs_message(created_event(A), "m-a")), INVOCATION)


def test_an_empty_batch_reports_nothing() -> None:
    assert RouteWorld().routes().sqs(sqs_batch(), INVOCATION) == {"batchItemFailures": []}


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({"Records": [{"eventSource": "aws:sqs", "body": "{}"}]}, r"Records\[0\]\.messageId"),
        (created_event(A), r"Records\[0\] is not an SQS message"),
        ({"records": []}, "'Records' list"),
    ],
    ids=["no-message-id", "a-direct-notification", "no-records"],
)
def test_a_batch_whose_messages_cannot_be_named_is_refused_whole(
    event: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidEventError, match=message):
        RouteWorld().routes().sqs(event, INVOCATION)


def test_a_notification_fanned_out_through_sns_is_unwrapped() -> None:
    world = RouteWorld()
    notification = created_event(B)
    envelope = {
        "Type": "Notification",
        "MessageId": "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
        "TopicArn": "arn:aws:sns:us-east-1:123456789012:uploads",
        "Subject": "Amazon S3 Notification",
        "Message": json.dumps(notification),
        "Timestamp": "2026-01-01T00:00:00.000Z",
    }

    response = world.routes().sqs(sqs_batch(sqs_message(envelope, "sns")), INVOCATION)

    assert response == {"batchItemFailures": []}
    assert world.processor.processed == parse_event(notification).objects


def test_an_eventbridge_event_queued_by_a_rule_reaches_the_same_record() -> None:
    world = RouteWorld()

    world.routes().sqs(sqs_batch(sqs_message(eventbridge_created(B), "eb")), INVOCATION)
    again = world.routes().sqs(sqs_batch(sqs_message(created_event(B), "s3")), INVOCATION)

    assert again == {"batchItemFailures": []}
    assert [obj.key for obj in world.processor.processed] == ["b c+d.txt"]
