"""What app.py relies on in Chalice beyond its documented API, pinned so that an upgrade that
changes it fails here, by name, rather than in production.

app.py overrides the private `S3Event._extract_attributes` (so that S3's `s3:TestEvent` and
malformed events reach the handler) and sets the handler's `event_class`."""

from __future__ import annotations

from typing import Any

import pytest
from chalice.app import BaseLambdaEvent, EventSourceHandler, S3Event

from app import S3NotificationEvent, app

TEST_EVENT = {"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": "uploads"}
RECORD = {"Records": [{"s3": {"bucket": {"name": "uploads"}, "object": {"key": "a+b%21.txt"}}}]}


def test_chalice_builds_every_lambda_event_through_extract_attributes() -> None:
    seen: list[dict[str, Any]] = []

    class Probe(BaseLambdaEvent):
        def _extract_attributes(self, event_dict: dict[str, Any]) -> None:
            seen.append(event_dict)

    event = Probe(TEST_EVENT, None)

    assert seen == [TEST_EVENT]
    assert event.to_dict() is TEST_EVENT


def test_chalices_s3_event_still_fails_on_an_event_without_records() -> None:
    """If this stops failing, Chalice handles the test event itself: drop the override."""
    with pytest.raises(KeyError):
        S3Event(TEST_EVENT, None)


def test_chalices_s3_event_reads_the_first_records_bucket_and_decoded_key() -> None:
    event = S3Event(RECORD, None)
    assert (event.bucket, event.key) == ("uploads", "a b!.txt")


def test_the_override_lets_any_event_through_unchanged() -> None:
    event = S3NotificationEvent(TEST_EVENT, None)
    assert (event.bucket, event.key, event.to_dict()) == ("", "", TEST_EVENT)
    assert S3NotificationEvent(RECORD, None).key == "a b!.txt"


def test_the_handler_builds_its_event_with_the_event_class_app_py_sets() -> None:
    handler = app.handler_map["on_object_created"]
    assert isinstance(handler, EventSourceHandler)
    assert handler.event_class is S3NotificationEvent
    received: list[Any] = []
    probe = EventSourceHandler(received.append, S3NotificationEvent)

    probe(TEST_EVENT, None)

    assert isinstance(received[0], S3NotificationEvent)
    assert received[0].to_dict() == TEST_EVENT
