"""Turn a Lambda event into the objects it announces.

Accepted: S3 event notifications (what `@app.on_s3_event` delivers), also when wrapped in the
body of SQS messages. ObjectCreated records become `ObjectRef`s; other S3 records
(ObjectRemoved, ...) and the `s3:TestEvent` message S3 sends when a notification is configured
are ignored.

Every field is checked where it is read (`chalicelib.routes.fields`). A record that fails a check
is collected in `ParsedEvent.invalid`, named by its path, and the records after it are still
read: one bad record must not stop the others. Only a problem with the event as a whole (not a
JSON object, no `Records` list) raises `InvalidEventError` at once. Nothing else escapes,
whatever the event holds.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote_plus

from chalicelib.core.errors import InvalidEventError
from chalicelib.core.model import IgnoredRecord, ParsedEvent
from chalicelib.routes import fields as event_fields

CREATED_PREFIX = "ObjectCreated:"
# An SQS message body holds at most 1 MiB; an S3 notification nests 5 levels deep.
MAX_SQS_BODY_CHARS = 1024 * 1024
MAX_SQS_BODY_DEPTH = 32
_MAX_EVENT_NAME_CHARS = 128
_EVENT_NAME = re.compile(r"[A-Za-z0-9:_.*-]+")


def parse_event(event: object) -> ParsedEvent:
    """Read every record of `event`; raises InvalidEventError only when the event as a whole
    cannot be read (its invalid records are in the result's `invalid`)."""
    parsed = ParsedEvent()
    problem = _read_event(event, "", parsed, sqs_allowed=True)
    if problem:
        raise InvalidEventError(problem)
    times = [obj.event_time_ms for obj in parsed.objects if obj.event_time_ms is not None]
    parsed.event_time_ms = min(times, default=None)
    return parsed


def first_object_location(event: object) -> tuple[str, str]:
    """The first record's bucket and URL-decoded key, "" where the event has no such string:
    what Chalice's `S3Event` exposes, read without raising whatever the event holds (Chalice
    reads it before the handler runs; the parser then names what is wrong)."""
    records = event.get("Records") if isinstance(event, Mapping) else None
    s3 = _child(records[0] if isinstance(records, list) and records else None, "s3")
    bucket = _child(_child(s3, "bucket"), "name")
    key = _child(_child(s3, "object"), "key")
    return (
        bucket if isinstance(bucket, str) else "",
        unquote_plus(key) if isinstance(key, str) else "",
    )


def _child(value: object, name: str) -> object:
    return value.get(name) if isinstance(value, Mapping) else None


def _read_event(event: object, where: str, into: ParsedEvent, *, sqs_allowed: bool) -> str | None:
    """Read the records of `event` into `into`; returns what makes the whole event unreadable."""
    if not isinstance(event, Mapping):
        return f"{where or 'the event'} is a {type(event).__name__}, not a JSON object"
    if event.get("Event") == "s3:TestEvent":
        bucket = event.get("Bucket")
        into.ignored.append(IgnoredRecord(_plain(bucket), "", "s3:TestEvent"))
        return None
    records = event.get("Records")
    if not isinstance(records, list):
        return (where + ": " if where else "") + _describe_unsupported(event)
    for index, record in enumerate(records):
        path = f"{where}{'.' if where else ''}Records[{index}]"
        try:
            _read_record(record, path, into, sqs_allowed=sqs_allowed)
        except InvalidEventError as exc:
            into.invalid.append(str(exc))
    return None


def _read_record(record: object, where: str, into: ParsedEvent, *, sqs_allowed: bool) -> None:
    if not isinstance(record, Mapping):
        raise InvalidEventError(f"{where} is not a JSON object")
    source = record.get("eventSource")
    if source == "aws:sqs" and sqs_allowed:
        _read_sqs_body(record, where, into)
        return
    if source != "aws:s3":
        raise InvalidEventError(
            f"{where}.eventSource is {event_fields.shown(source)}, expected 'aws:s3'"
        )
    event_name = _event_name(record.get("eventName"), where)
    time_ms = event_fields.event_time_ms(record.get("eventTime"), where)
    s3 = _mapping(record, "s3", where)
    bucket = event_fields.bucket_name(
        _mapping(s3, "bucket", f"{where}.s3").get("name"), f"{where}.s3.bucket"
    )
    obj = _mapping(s3, "object", f"{where}.s3")
    at = f"{where}.s3.object"
    key = event_fields.object_key(obj.get("key"), at, url_encoded=True)
    if not event_name.startswith(CREATED_PREFIX):
        into.ignored.append(IgnoredRecord(bucket, key, event_name))
        return
    into.objects.append(
        event_fields.object_ref(
            bucket,
            key,
            obj,
            event_fields.NOTIFICATION_FIELDS,
            at,
            event_name=event_name,
            event_time_ms=time_ms,
        )
    )
    into.origins.append(at)


def _read_sqs_body(record: Mapping[str, Any], where: str, into: ParsedEvent) -> None:
    """An SQS message whose body is an S3 notification (a JSON string), read like the event
    itself; its records are named `Records[i].body.Records[j]`."""
    body = record.get("body")
    if not isinstance(body, str) or not body:
        raise InvalidEventError(f"{where}.body is missing or not a non-empty string")
    if len(body) > MAX_SQS_BODY_CHARS:
        raise InvalidEventError(f"{where}.body is longer than {MAX_SQS_BODY_CHARS} characters")
    try:
        inner = json.loads(body)
    except RecursionError:  # the decoder's own guard against deep nesting
        raise InvalidEventError(_too_deep(where)) from None
    except ValueError as exc:  # not JSON, or a number of more than 4,300 digits
        raise InvalidEventError(
            f"{where}.body is not JSON: {event_fields.shown(str(exc))}"
        ) from None
    if _nesting_depth(inner) > MAX_SQS_BODY_DEPTH:
        raise InvalidEventError(_too_deep(where))
    problem = _read_event(inner, f"{where}.body", into, sqs_allowed=False)
    if problem:
        raise InvalidEventError(problem)


def _too_deep(where: str) -> str:
    return f"{where}.body nests deeper than {MAX_SQS_BODY_DEPTH} levels"


def _nesting_depth(value: object) -> int:
    """How deep lists and objects nest in a decoded JSON value; iterative, so that no depth
    can exhaust the stack."""
    deepest = 0
    pending: list[tuple[object, int]] = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth + 1)
            if deepest > MAX_SQS_BODY_DEPTH:
                break
            children = item.values() if isinstance(item, dict) else item
            pending.extend((child, depth + 1) for child in children)
    return deepest


def _describe_unsupported(event: Mapping[str, Any]) -> str:
    if "detail-type" in event and event.get("source") == "aws.s3":
        return (
            f"EventBridge event {event_fields.shown(event['detail-type'])}: this handler reads S3"
            " event notifications (Records[].s3), not EventBridge events"
        )
    if "tasks" in event and "invocationSchemaVersion" in event:
        return "S3 Batch Operations invocation: this handler reads S3 event notifications"
    names = sorted(_plain(name) for name in list(event)[:20])
    return f"no 'Records' list in the event (keys: {', '.join(names) or 'none'})"


def _event_name(value: object, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidEventError(f"{where}.eventName is missing or not a non-empty string")
    if len(value) > _MAX_EVENT_NAME_CHARS or not _EVENT_NAME.fullmatch(value):
        raise InvalidEventError(
            f"{where}.eventName {event_fields.shown(value)} is not an S3 event name"
        )
    return value


def _mapping(parent: Mapping[str, Any], name: str, where: str) -> Mapping[str, Any]:
    value = parent.get(name)
    if not isinstance(value, Mapping):
        raise InvalidEventError(f"{where}.{name} is missing or not an object")
    return value


def _plain(value: object) -> str:
    """A name for an ignored record or a message: printable ASCII, bounded."""
    return ascii(value)[1:-1][:80] if isinstance(value, str) else ""
