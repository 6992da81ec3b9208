"""Event parsing: real AWS payloads, multi-record events, encoded keys, malformed input."""

from __future__ import annotations

import json

import pytest

from chalicelib.errors import InvalidEventError
from chalicelib.events import parse_event
from chalicelib.model import ObjectRef
from s3once.s3_events import Upload, created_event
from tests.conftest import FIXTURES_DIR

CREATED = {"powertools__s3Event.json", "awslambdago__s3-event.json", "powertools__s3SqsEvent.json"}
IGNORED = {"powertools__s3EventDeleteObject.json", "awsdocs__s3_test_event.json"}
REJECTED = {
    "powertools__s3EventBridgeNotificationObjectCreatedEvent.json": "EventBridge",
    "powertools__s3EventBridgeNotificationObjectDeletedEvent.json": "EventBridge",
    "powertools__s3BatchOperationEventSchemaV1.json": "Batch Operations",
    "powertools__s3BatchOperationEventSchemaV2.json": "Batch Operations",
    "awslambdago__s3-batch-job-event-response.json": "no 'Records'",
    "awsjavalibs__sqs_batch_response.json": "no 'Records'",
}


def load(name: str) -> object:
    return json.loads((FIXTURES_DIR / name).read_text())


def test_every_fixture_is_classified() -> None:
    assert FIXTURES_DIR.is_dir(), f"{FIXTURES_DIR} is missing: set S3ONCE_EVENT_FIXTURES"
    on_disk = {path.name for path in FIXTURES_DIR.glob("*.json")}
    assert on_disk == CREATED | IGNORED | set(REJECTED)


@pytest.mark.parametrize("name", sorted(CREATED))
def test_created_fixtures_yield_one_object_and_nothing_ignored(name: str) -> None:
    parsed = parse_event(load(name))
    assert len(parsed.objects) == 1
    assert parsed.ignored == []
    assert parsed.objects[0].etag


@pytest.mark.parametrize("name", sorted(IGNORED))
def test_removed_and_test_events_are_ignored(name: str) -> None:
    parsed = parse_event(load(name))
    assert parsed.objects == []
    assert len(parsed.ignored) == 1


@pytest.mark.parametrize(("name", "reason"), sorted(REJECTED.items()))
def test_other_shapes_are_rejected_with_a_reason(name: str, reason: str) -> None:
    with pytest.raises(InvalidEventError, match=reason):
        parse_event(load(name))


def test_the_lambda_docs_event_is_read_field_by_field() -> None:
    [obj] = parse_event(load("awslambdago__s3-event.json")).objects
    assert obj == ObjectRef(
        bucket="sourcebucket",
        key="Happy Face.jpg",
        etag="d41d8cd98f00b204e9800998ecf8427e",
        version_id="version",
        sequencer="Happy Sequencer",
        size=1024,
        event_name="ObjectCreated:Put",
    )


def test_an_sqs_wrapped_notification_is_unwrapped() -> None:
    [obj] = parse_event(load("powertools__s3SqsEvent.json")).objects
    assert (obj.bucket, obj.key, obj.version_id) == (
        "xxx",
        "test.pdf",
        "yd3d4HaWOT2zguDLvIQLU6ptDTwKBnQV",
    )


def test_every_record_of_a_multi_record_event_is_read() -> None:
    uploads = [Upload("bucket-a", f"k{i}", f"e{i}", i) for i in range(3)]
    parsed = parse_event(created_event(*uploads))
    assert [obj.key for obj in parsed.objects] == ["k0", "k1", "k2"]


@pytest.mark.parametrize(
    "key",
    [
        "red flower.jpg",
        "a+b.txt",
        "100%.txt",
        "tag#1/x.csv",
        "café/menü ü.html",
        "日本語.txt",
        "a%2Bb",
    ],
)
def test_url_encoded_keys_decode_to_the_uploaded_key(key: str) -> None:
    [obj] = parse_event(created_event(Upload("bucket-a", key, "etag", 1))).objects
    assert obj.key == key


def test_a_plus_in_the_event_is_a_space_and_an_encoded_plus_is_a_plus() -> None:
    event = created_event(Upload("bucket-a", "x", "etag", 1))
    record = event["Records"][0]["s3"]["object"]
    record["key"] = "red+flower%2B1.jpg"
    assert parse_event(event).objects[0].key == "red flower+1.jpg"


def test_version_null_of_a_suspended_bucket_is_no_version() -> None:
    event = created_event(Upload("bucket-a", "x", "etag", 1, version_id="null"))
    assert parse_event(event).objects[0].version_id is None


def test_removed_records_are_ignored_beside_created_ones() -> None:
    event = created_event(Upload("bucket-a", "new", "e", 1), Upload("bucket-a", "old", "e", 1))
    event["Records"][1]["eventName"] = "ObjectRemoved:Delete"
    parsed = parse_event(event)
    assert [obj.key for obj in parsed.objects] == ["new"]
    assert [(i.key, i.event_name) for i in parsed.ignored] == [("old", "ObjectRemoved:Delete")]


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda e: e["Records"][0].pop("s3"), r"Records\[0\]\.s3 is missing"),
        (lambda e: e["Records"][0]["s3"]["object"].pop("key"), r"Records\[0\]\.s3\.object\.key"),
        (lambda e: e["Records"][0]["s3"]["bucket"].update(name=""), r"s3\.bucket\.name"),
        (lambda e: e["Records"][0].update(eventSource="aws:sns"), "eventSource is 'aws:sns'"),
        (
            lambda e: e["Records"][0]["s3"]["object"].update(size="12"),
            r"size is not a whole number",
        ),
        (lambda e: e["Records"][0]["s3"]["object"].update(eTag=5), r"eTag is not a string"),
        (lambda e: e.update(Records="nope"), "no 'Records' list"),
        (lambda e: e["Records"].append("x"), r"Records\[1\] is not a JSON object"),
    ],
)
def test_malformed_events_name_what_is_wrong(mutate, message: str) -> None:  # type: ignore[no-untyped-def]
    event = created_event(Upload("bucket-a", "x", "etag", 1))
    mutate(event)
    with pytest.raises(InvalidEventError, match=message):
        parse_event(event)


def test_a_non_object_event_is_rejected() -> None:
    with pytest.raises(InvalidEventError, match="not a JSON object"):
        parse_event(["Records"])


def test_an_sqs_body_that_is_not_json_is_rejected() -> None:
    event = {"Records": [{"eventSource": "aws:sqs", "body": "{not json"}]}
    with pytest.raises(InvalidEventError, match=r"Records\[0\]\.body is not JSON"):
        parse_event(event)
