"""EventBridge "Object Created" events of S3, read into the same `ObjectRef` as a notification.

The fields live under `detail` with other names (`etag`, `version-id`, `reason`), and the key is
NOT URL-encoded there, unlike in a notification: decoding it again would turn `a+b.txt` into
`a b.txt`, another object. The same upload therefore gets the same `pk` by either route.
`reason` (PutObject, CompleteMultipartUpload, CopyObject, PostObject) becomes the notification's
event name (`ObjectCreated:Put`, ...). Other S3 detail types are ignored, like an ObjectRemoved
record; anything that is not an S3 event raises InvalidEventError naming the field.
"""

from __future__ import annotations

from collections.abc import Mapping

from chalicelib.core.errors import InvalidEventError
from chalicelib.core.model import IgnoredRecord, ParsedEvent
from chalicelib.routes import fields as event_fields

OBJECT_CREATED = "Object Created"
# Paths the validators name a field by (they add the field's notification name: eTag, ...).
_BUCKET = "detail.bucket"
_OBJECT = "detail.object"
_EVENT_NAMES = {
    "PutObject": "ObjectCreated:Put",
    "POST Object": "ObjectCreated:Post",
    "PostObject": "ObjectCreated:Post",
    "CopyObject": "ObjectCreated:Copy",
    "CompleteMultipartUpload": "ObjectCreated:CompleteMultipartUpload",
}


def parse_eventbridge(event: object) -> ParsedEvent:
    if not isinstance(event, Mapping):
        raise InvalidEventError(f"the event is a {type(event).__name__}, not a JSON object")
    if event.get("source") != "aws.s3":
        raise InvalidEventError(
            f"source is {event_fields.shown(event.get('source'))}, expected 'aws.s3'"
        )
    detail_type = event.get("detail-type")
    if not isinstance(detail_type, str) or not detail_type:
        raise InvalidEventError("detail-type is missing or not a non-empty string")
    detail = _mapping(event, "detail", "")
    bucket = event_fields.bucket_name(_mapping(detail, "bucket", "detail.").get("name"), _BUCKET)
    obj = _mapping(detail, "object", "detail.")
    key = event_fields.object_key(obj.get("key"), _OBJECT, url_encoded=False)
    if detail_type != OBJECT_CREATED:
        return ParsedEvent(ignored=[IgnoredRecord(bucket, key, detail_type)])
    reason = detail.get("reason")
    ref = event_fields.object_ref(
        bucket,
        key,
        obj,
        event_fields.EVENTBRIDGE_FIELDS,
        _OBJECT,
        event_name=_EVENT_NAMES.get(reason if isinstance(reason, str) else "", "ObjectCreated:Put"),
        event_time_ms=event_fields.event_time_ms(event.get("time"), "(the event's time)"),
    )
    return ParsedEvent(objects=[ref], origins=[_OBJECT])


def _mapping(parent: Mapping[str, object], name: str, where: str) -> Mapping[str, object]:
    value = parent.get(name)
    if not isinstance(value, Mapping):
        raise InvalidEventError(f"{where}{name} is missing or not an object")
    return value
