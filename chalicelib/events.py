"""Turn a Lambda event into the objects it announces.

Accepted: S3 event notifications (what `@app.on_s3_event` delivers), also when wrapped in the
body of SQS messages. ObjectCreated records become `ObjectRef`s; other S3 records
(ObjectRemoved, ...) and the `s3:TestEvent` message S3 sends when a notification is configured
are ignored. Anything else raises `InvalidEventError` naming what is wrong.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_plus

from chalicelib.errors import InvalidEventError
from chalicelib.model import ObjectRef

CREATED_PREFIX = "ObjectCreated:"
# With versioning suspended every overwrite gets versionId "null", which tells nothing apart.
_NULL_VERSION = "null"


@dataclass(frozen=True)
class IgnoredRecord:
    bucket: str
    key: str
    event_name: str


@dataclass(frozen=True)
class ParsedEvent:
    """The records of one event: objects to process, records to ignore, and the records that
    could not be read (`invalid`, one message each naming the record by its path, e.g.
    `Records[3].s3.object.size ...`). The valid records are processed; then the invocation fails
    with InvalidEventError naming the invalid ones."""

    objects: list[ObjectRef] = field(default_factory=list)
    ignored: list[IgnoredRecord] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)


def parse_event(event: object) -> ParsedEvent:
    if not isinstance(event, Mapping):
        raise InvalidEventError(f"the event is a {type(event).__name__}, not a JSON object")
    if event.get("Event") == "s3:TestEvent":
        return ParsedEvent(
            ignored=[IgnoredRecord(str(event.get("Bucket", "")), "", "s3:TestEvent")]
        )
    records = event.get("Records")
    if not isinstance(records, list):
        raise InvalidEventError(_describe_unsupported(event))
    parsed = ParsedEvent()
    for index, record in enumerate(records):
        _parse_record(record, f"Records[{index}]", parsed)
    return parsed


def _parse_record(record: object, where: str, into: ParsedEvent) -> None:
    if not isinstance(record, Mapping):
        raise InvalidEventError(f"{where} is not a JSON object")
    source = record.get("eventSource")
    if source == "aws:sqs":
        _parse_sqs_body(record, where, into)
        return
    if source != "aws:s3":
        raise InvalidEventError(f"{where}.eventSource is {source!r}, expected 'aws:s3'")
    event_name = _string(record, "eventName", where)
    s3 = _mapping(record, "s3", where)
    bucket = _string(_mapping(s3, "bucket", f"{where}.s3"), "name", f"{where}.s3.bucket")
    obj = _mapping(s3, "object", f"{where}.s3")
    key = unquote_plus(_string(obj, "key", f"{where}.s3.object"))
    if not event_name.startswith(CREATED_PREFIX):
        into.ignored.append(IgnoredRecord(bucket, key, event_name))
        return
    version_id = _optional_string(obj, "versionId", f"{where}.s3.object")
    into.objects.append(
        ObjectRef(
            bucket=bucket,
            key=key,
            etag=_optional_string(obj, "eTag", f"{where}.s3.object"),
            version_id=None if version_id == _NULL_VERSION else version_id,
            sequencer=_optional_string(obj, "sequencer", f"{where}.s3.object"),
            size=_optional_int(obj, "size", f"{where}.s3.object"),
            event_name=event_name,
        )
    )


def _parse_sqs_body(record: Mapping[str, Any], where: str, into: ParsedEvent) -> None:
    body = _string(record, "body", where)
    try:
        inner = json.loads(body)
    except ValueError as exc:
        raise InvalidEventError(f"{where}.body is not JSON: {exc}") from None
    nested = parse_event(inner)
    into.objects.extend(nested.objects)
    into.ignored.extend(nested.ignored)


def _describe_unsupported(event: Mapping[str, Any]) -> str:
    if "detail-type" in event and event.get("source") == "aws.s3":
        return (
            f"EventBridge event {event['detail-type']!r}: this handler reads S3 event "
            "notifications (Records[].s3), not EventBridge events"
        )
    if "tasks" in event and "invocationSchemaVersion" in event:
        return "S3 Batch Operations invocation: this handler reads S3 event notifications"
    return f"no 'Records' list in the event (keys: {', '.join(sorted(map(str, event))) or 'none'})"


def _mapping(parent: Mapping[str, Any], name: str, where: str) -> Mapping[str, Any]:
    value = parent.get(name)
    if not isinstance(value, Mapping):
        raise InvalidEventError(f"{where}.{name} is missing or not an object")
    return value


def _string(parent: Mapping[str, Any], name: str, where: str) -> str:
    value = parent.get(name)
    if not isinstance(value, str) or not value:
        raise InvalidEventError(f"{where}.{name} is missing or not a non-empty string")
    return value


def _optional_string(parent: Mapping[str, Any], name: str, where: str) -> str | None:
    value = parent.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidEventError(f"{where}.{name} is not a string")
    return value or None


def _optional_int(parent: Mapping[str, Any], name: str, where: str) -> int | None:
    value = parent.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidEventError(f"{where}.{name} is not a whole number")
    return value
