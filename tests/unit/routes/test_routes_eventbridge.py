"""EventBridge "Object Created": the real payload, keys left as they are, the same pk."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chalicelib.core.errors import IncompleteBatchError, InvalidEventError
from chalicelib.core.keys import idempotency_key
from chalicelib.core.model import IdempotencyScope, ObjectRef
from chalicelib.routes.eventbridge import parse_eventbridge
from chalicelib.routes.notifications import parse_event
from chalicelib.routes.settings import eventbridge_pattern
from s3once.s3_events import Upload, created_event
from tests.route_events import EVENT_TIME, eventbridge_created, fixture
from tests.unit.routes.routes_world import INVOCATION, RouteWorld

KEYS = ["a+b.txt", "a b.txt", "100% done #1.json", "reports/ü ß/q1.csv", "%2B.txt"]


def test_the_real_object_created_event_is_read_field_by_field() -> None:
    parsed = parse_eventbridge(
        fixture("powertools__s3EventBridgeNotificationObjectCreatedEvent.json")
    )

    assert parsed.objects == [
        ObjectRef(
            bucket="example-bucket",
            key="IMG_m7fzo3.jpg",
            etag="4e68adba0abe2dc8653dc3354e14c01d",
            version_id=None,
            sequencer="006408CAD69598B05E",
            size=184662,
            event_name="ObjectCreated:Put",
            event_time_ms=int(datetime(2023, 3, 8, 17, 50, 14, tzinfo=UTC).timestamp() * 1000),
        )
    ]
    assert parsed.ignored == [] and parsed.invalid == []


def test_the_real_object_deleted_event_is_ignored() -> None:
    parsed = parse_eventbridge(
        fixture("powertools__s3EventBridgeNotificationObjectDeletedEvent.json")
    )

    assert parsed.objects == []
    assert [(i.bucket, i.key, i.event_name) for i in parsed.ignored] == [
        ("example-bucket", "IMG_m7fzo3.jpg", "Object Deleted")
    ]


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("scope", list(IdempotencyScope))
def test_the_same_upload_gets_the_same_object_ref_and_pk_as_its_notification(
    key: str, scope: IdempotencyScope
) -> None:
    upload = Upload("uploads", key, "0123456789abcdef0123456789abcdef", 12, "v1")
    notification = created_event(upload)
    sequencer = notification["Records"][0]["s3"]["object"]["sequencer"]

    (by_eventbridge,) = parse_eventbridge(eventbridge_created(upload, sequencer=sequencer)).objects
    (by_notification,) = parse_event(notification).objects

    assert by_eventbridge.key == key
    assert by_eventbridge == by_notification  # eTag, versionId, size, sequencer, time, name
    assert idempotency_key(by_eventbridge, scope, "p") == idempotency_key(
        by_notification, scope, "p"
    )


@pytest.mark.parametrize(
    ("reason", "event_name"),
    [
        ("PutObject", "ObjectCreated:Put"),
        ("CopyObject", "ObjectCreated:Copy"),
        ("POST Object", "ObjectCreated:Post"),
        ("CompleteMultipartUpload", "ObjectCreated:CompleteMultipartUpload"),
    ],
)
def test_the_reason_becomes_the_notifications_event_name(reason: str, event_name: str) -> None:
    event = eventbridge_created(Upload("uploads", "k", "e" * 32, 1), reason=reason)

    (obj,) = parse_eventbridge(event).objects

    assert obj.event_name == event_name
    assert obj.event_time_ms == int(datetime.fromisoformat(EVENT_TIME).timestamp() * 1000)


@pytest.mark.parametrize("reason", [None, 7, "huge"])
def test_a_reason_that_is_not_text_reads_as_a_put(reason: object) -> None:
    # A number too long for str() (Python refuses past 4,300 digits) is never converted.
    event = eventbridge_created(Upload("uploads", "k", "e" * 32, 1))
    event["detail"]["reason"] = 10**5000 if reason == "huge" else reason

    (obj,) = parse_eventbridge(event).objects

    assert obj.event_name == "ObjectCreated:Put"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda e: e.update(source="aws.ec2"), "source is 'aws.ec2'"),
        (lambda e: e.pop("detail"), "detail is missing"),
        (lambda e: e["detail"]["object"].pop("key"), r"detail\.object\.key is missing"),
        (lambda e: e["detail"]["bucket"].update(name="Bad_Bucket"), r"detail\.bucket\.name"),
        (lambda e: e["detail"]["object"].update(size=-1), r"detail\.object\.size"),
    ],
    ids=["not-s3", "no-detail", "no-key", "bad-bucket", "negative-size"],
)
def test_a_malformed_event_is_refused_naming_the_field(change: object, message: str) -> None:
    event = eventbridge_created(Upload("uploads", "k", "e" * 32, 1))
    change(event)  # type: ignore[operator]

    with pytest.raises(InvalidEventError, match=message):
        parse_eventbridge(event)


def test_the_route_processes_once_and_fails_the_invocation_while_another_holds_it() -> None:
    world = RouteWorld()
    upload = Upload("uploads", "x.txt", "e" * 32, 3)
    busy = Upload("uploads", "busy.txt", "f" * 32, 3)
    (held,) = parse_event(created_event(busy)).objects
    world.hold(held)

    first = world.routes().eventbridge(eventbridge_created(upload), INVOCATION)
    again = world.routes().eventbridge(eventbridge_created(upload), INVOCATION)
    with pytest.raises(IncompleteBatchError, match=r"busy\.txt"):
        world.routes().eventbridge(eventbridge_created(busy), INVOCATION)

    assert [r["outcome"] for r in (first["records"][0], again["records"][0])] == [  # type: ignore[index]
        "processed",
        "skipped",
    ]


def test_the_rule_matches_only_object_created_events_of_the_stage_bucket() -> None:
    assert eventbridge_pattern("uploads") == {
        "source": ["aws.s3"],
        "detail-type": ["Object Created"],
        "detail": {"bucket": {"name": ["uploads"]}},
    }
