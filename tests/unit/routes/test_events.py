"""Event parsing: real AWS payloads, multi-record events, encoded keys, malformed input."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from chalicelib.core.errors import InvalidEventError
from chalicelib.core.model import ObjectRef
from chalicelib.routes.notifications import MAX_SQS_BODY_CHARS, parse_event
from s3once.s3_events import Upload, created_event, created_record
from tests.conftest import FIXTURES_DIR, PROJECT_DIR

CREATED = {"powertools__s3Event.json", "powertools__s3SqsEvent.json"}
IGNORED = {"powertools__s3EventDeleteObject.json", "awsdocs__s3_test_event.json"}
# aws-lambda-go's hand-written event has sequencer "Happy Sequencer": S3's are hex.
INVALID_RECORDS = {"awslambdago__s3-event.json": r"Records\[0\]\.s3\.object\.sequencer"}
REJECTED = {
    "powertools__s3EventBridgeNotificationObjectCreatedEvent.json": "EventBridge",
    "powertools__s3EventBridgeNotificationObjectDeletedEvent.json": "EventBridge",
    "powertools__s3BatchOperationEventSchemaV1.json": "Batch Operations",
    "powertools__s3BatchOperationEventSchemaV2.json": "Batch Operations",
    "awslambdago__s3-batch-job-event-response.json": "no 'Records'",
    "awsjavalibs__sqs_batch_response.json": "no 'Records'",
}


def load(name: str) -> Any:
    return json.loads((FIXTURES_DIR / name).read_text())


def one_upload(**changes: object) -> dict[str, Any]:
    event = created_event(Upload("bucket-a", "x", "etag", 1))
    event["Records"][0]["s3"]["object"].update(changes)
    return event


def sqs_event(*bodies: str) -> dict[str, Any]:
    return {"Records": [{"eventSource": "aws:sqs", "body": body} for body in bodies]}


def test_the_event_fixtures_live_in_the_repository() -> None:
    assert FIXTURES_DIR.is_relative_to(PROJECT_DIR)
    assert (FIXTURES_DIR / "SOURCES.md").is_file()


def test_every_fixture_is_classified() -> None:
    on_disk = {path.name for path in FIXTURES_DIR.glob("*.json")}
    assert on_disk == CREATED | IGNORED | set(INVALID_RECORDS) | set(REJECTED)


@pytest.mark.slow
def test_the_event_tests_pass_in_a_copy_with_nothing_beside_it(tmp_path: Path) -> None:
    """A fresh clone anywhere: the project alone, in a folder with nothing else."""
    clone = tmp_path / "alone" / "s3-once"
    for name in ("chalicelib", "s3once", "tests"):
        shutil.copytree(
            PROJECT_DIR / name,
            clone / name,
            ignore=shutil.ignore_patterns("__pycache__", ".hypothesis"),
        )
    shutil.copy(PROJECT_DIR / "pyproject.toml", clone)
    tests = ["tests/unit/routes/test_events.py", "tests/unit/routes/test_event_fields.py"]
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "not slow", *tests],
        cwd=clone,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(clone), "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert " passed" in result.stdout


@pytest.mark.parametrize("name", sorted(CREATED))
def test_created_fixtures_yield_one_object_and_nothing_ignored(name: str) -> None:
    parsed = parse_event(load(name))
    assert len(parsed.objects) == 1
    assert parsed.ignored == []
    assert parsed.invalid == []
    assert parsed.objects[0].etag


@pytest.mark.parametrize("name", sorted(IGNORED))
def test_removed_and_test_events_are_ignored(name: str) -> None:
    parsed = parse_event(load(name))
    assert parsed.objects == []
    assert len(parsed.ignored) == 1


@pytest.mark.parametrize(("name", "where"), sorted(INVALID_RECORDS.items()))
def test_fixtures_with_an_invalid_record_name_it(name: str, where: str) -> None:
    parsed = parse_event(load(name))
    assert parsed.objects == []
    [message] = parsed.invalid
    assert re.match(where, message), message


@pytest.mark.parametrize(("name", "reason"), sorted(REJECTED.items()))
def test_other_shapes_are_rejected_with_a_reason(name: str, reason: str) -> None:
    with pytest.raises(InvalidEventError, match=reason):
        parse_event(load(name))


def test_the_powertools_event_is_read_field_by_field() -> None:
    [obj] = parse_event(load("powertools__s3Event.json")).objects
    assert obj == ObjectRef(
        bucket="lambda-artifacts-deafc19498e3f2df",
        key="b21b84d653bb07b05b1e6b33684dc11b",
        etag="b21b84d653bb07b05b1e6b33684dc11b",
        sequencer="0C0F6F405D6ED209E1",
        size=1305107,
        event_name="ObjectCreated:Put",
        event_time_ms=1_567_539_447_192,  # 2019-09-03T19:37:27.192Z
    )


def test_the_lambda_go_event_with_a_hex_sequencer_is_read_field_by_field() -> None:
    event = load("awslambdago__s3-event.json")
    event["Records"][0]["s3"]["object"]["sequencer"] = "0A1B2C3D4E5F678901"
    [obj] = parse_event(event).objects
    assert obj == ObjectRef(
        bucket="sourcebucket",
        key="Happy Face.jpg",
        etag="d41d8cd98f00b204e9800998ecf8427e",
        version_id="version",
        sequencer="0A1B2C3D4E5F678901",
        size=1024,
        event_name="ObjectCreated:Put",
        event_time_ms=123,
    )


def test_the_event_time_is_the_oldest_of_its_records() -> None:
    event = created_event(Upload("bucket-a", "new", "e", 1), Upload("bucket-a", "old", "e", 1))
    event["Records"][1]["eventTime"] = "2025-12-31T23:59:59.000Z"
    parsed = parse_event(event)
    assert [obj.event_time_ms for obj in parsed.objects] == [1_767_225_600_000, 1_767_225_599_000]
    assert parsed.event_time_ms == 1_767_225_599_000


def test_an_sqs_wrapped_notification_is_unwrapped() -> None:
    [obj] = parse_event(load("powertools__s3SqsEvent.json")).objects
    assert (obj.bucket, obj.key, obj.version_id, obj.event_time_ms) == (
        "xxx",
        "test.pdf",
        "yd3d4HaWOT2zguDLvIQLU6ptDTwKBnQV",
        1_681_332_218_021,  # 2023-04-12T20:43:38.021Z
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
    assert parse_event(one_upload(key="red+flower%2B1.jpg")).objects[0].key == "red flower+1.jpg"


def test_version_null_of_a_suspended_bucket_is_no_version() -> None:
    assert parse_event(one_upload(versionId="null")).objects[0].version_id is None


def test_a_quoted_etag_is_unquoted_so_if_match_is_not_double_quoted() -> None:
    [obj] = parse_event(one_upload(eTag='"d41d8cd98f00b204e9800998ecf8427e"')).objects
    assert obj.etag == "d41d8cd98f00b204e9800998ecf8427e"


def test_removed_records_are_ignored_beside_created_ones() -> None:
    event = created_event(Upload("bucket-a", "new", "e", 1), Upload("bucket-a", "old", "e", 1))
    event["Records"][1]["eventName"] = "ObjectRemoved:Delete"
    parsed = parse_event(event)
    assert [obj.key for obj in parsed.objects] == ["new"]
    assert [(i.key, i.event_name) for i in parsed.ignored] == [("old", "ObjectRemoved:Delete")]


Mutation = Callable[[dict[str, Any]], object]
MALFORMED: list[tuple[Mutation, str]] = [
    (lambda r: r.pop("s3"), r"Records\[1\]\.s3 is missing"),
    (lambda r: r["s3"]["object"].pop("key"), r"Records\[1\]\.s3\.object\.key is missing"),
    (lambda r: r["s3"]["object"].update(key=None), r"Records\[1\]\.s3\.object\.key is missing"),
    (lambda r: r["s3"]["object"].update(key=17), r"Records\[1\]\.s3\.object\.key is missing"),
    (
        lambda r: r["s3"]["object"].update(key="a\ud800"),
        r"Records\[1\]\.s3\.object\.key .*surrogate",
    ),
    (lambda r: r["s3"]["bucket"].update(name=""), r"Records\[1\]\.s3\.bucket\.name"),
    (lambda r: r["s3"]["bucket"].update(name="b" * 3000), r"Records\[1\]\.s3\.bucket\.name"),
    (lambda r: r["s3"]["bucket"].update(name="My_Bucket"), r"not a valid bucket name"),
    (lambda r: r.update(eventSource="aws:sns"), r"Records\[1\]\.eventSource is 'aws:sns'"),
    (lambda r: r.update(eventName=["x"]), r"Records\[1\]\.eventName is missing"),
    (lambda r: r.update(eventTime="soon"), r"Records\[1\]\.eventTime 'soon' is not an ISO"),
    (lambda r: r["s3"]["object"].update(size="12"), r"Records\[1\]\.s3\.object\.size is not"),
    (lambda r: r["s3"]["object"].update(size=10**39), r"Records\[1\]\.s3\.object\.size .*38"),
    (lambda r: r["s3"]["object"].update(eTag=5), r"Records\[1\]\.s3\.object\.eTag is not a string"),
    (lambda r: r["s3"]["object"].update(eTag="e" * 3000), r"Records\[1\]\.s3\.object\.eTag"),
    (lambda r: r["s3"]["object"].update(versionId="v" * 3000), r"\.s3\.object\.versionId"),
    (lambda r: r["s3"]["object"].update(sequencer={}), r"Records\[1\]\.s3\.object\.sequencer"),
]


@pytest.mark.parametrize(("mutate", "message"), MALFORMED)
def test_a_malformed_record_is_named_and_the_records_around_it_are_read(
    mutate: Mutation, message: str
) -> None:
    uploads = [Upload("bucket-a", f"k{i}", "etag", 1) for i in range(3)]
    event = created_event(*uploads)
    mutate(event["Records"][1])
    parsed = parse_event(event)
    assert [obj.key for obj in parsed.objects] == ["k0", "k2"]
    [problem] = parsed.invalid
    assert re.search(message, problem), problem
    problem.encode("utf-8")  # printable in a log line, whatever the record held


def test_every_bad_record_is_named() -> None:
    records = [created_record(Upload("bucket-a", f"k{i}", "etag", 1)) for i in range(5)]
    records[1] = "x"  # type: ignore[call-overload]
    records[3]["s3"]["object"]["size"] = -1
    parsed = parse_event({"Records": records})
    assert [obj.key for obj in parsed.objects] == ["k0", "k2", "k4"]
    assert parsed.invalid == [
        "Records[1] is not a JSON object",
        "Records[3].s3.object.size -1 is not between 0 and 5 TiB",
    ]


@pytest.mark.parametrize(
    ("event", "message"),
    [
        (["Records"], "the event is a list, not a JSON object"),
        ({"Records": "nope"}, "no 'Records' list"),
        ({"detail-type": ["x"] * 10**5, "source": "aws.s3"}, "EventBridge event a list"),
    ],
)
def test_an_unreadable_event_as_a_whole_is_rejected_at_once(event: object, message: str) -> None:
    with pytest.raises(InvalidEventError, match=message):
        parse_event(event)


def test_sqs_messages_are_read_one_by_one() -> None:
    good = json.dumps(created_event(Upload("bucket-a", "good", "e", 1)))
    bad_record = created_event(Upload("bucket-a", "bad", "e", 1))
    bad_record["Records"][0]["s3"]["object"]["size"] = "big"
    parsed = parse_event(
        sqs_event(good, "{not json", json.dumps(bad_record), "[1]", good, '{"a": 1}')
    )
    assert [obj.key for obj in parsed.objects] == ["good", "good"]
    assert [message.split(" ")[0] for message in parsed.invalid] == [
        "Records[1].body",
        "Records[2].body.Records[0].s3.object.size",
        "Records[3].body",
        "Records[5].body:",
    ]
    assert "not JSON" in parsed.invalid[0]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("[" * 100_000 + "]" * 100_000, "nests deeper than 32 levels"),
        ("[" * 40 + "]" * 40, "nests deeper than 32 levels"),
        ('{"Records": [' + "[" * 3000 + "]" * 3000 + "]}", "nests deeper than 32 levels"),
        ("1" * 5000, "not JSON"),
        (" " * (MAX_SQS_BODY_CHARS + 1), "longer than"),
        ("", "missing or not a non-empty string"),
    ],
)
def test_hostile_sqs_bodies_are_invalid_records(body: str, message: str) -> None:
    parsed = parse_event(sqs_event(body))
    [problem] = parsed.invalid
    assert problem.startswith("Records[0].body")
    assert message in problem


def test_an_sqs_body_is_one_level_deep_only() -> None:
    inner = json.dumps(sqs_event(json.dumps(created_event(Upload("bucket-a", "k", "e", 1)))))
    parsed = parse_event(sqs_event(inner))
    assert parsed.objects == []
    assert parsed.invalid == [
        "Records[0].body.Records[0].eventSource is 'aws:sqs', expected 'aws:s3'"
    ]
