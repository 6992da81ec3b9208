"""Validators for the fields of an S3 event, shared by every route an upload can arrive by.

Each takes the raw value as the event holds it and `where`, the path that names it in messages
(e.g. `Records[3].s3.object`), and returns the value the domain uses, or raises
`InvalidEventError` naming `where` and the field. None of them raises anything else, whatever
the value (wrong type, huge number, lone surrogate, megabytes of text).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote_plus

from chalicelib.core.errors import InvalidEventError
from chalicelib.core.model import ObjectRef

# S3's limits: https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html,
# .../object-keys.html (1,024 bytes of UTF-8), .../upload-objects.html (5 TiB).
MAX_KEY_BYTES = 1024
MAX_OBJECT_SIZE = 5 * 1024**4
# S3 eTags are 32 hex digits, "-<parts>" for multipart uploads; version ids are 32 characters.
# The bounds leave room for other S3 implementations while keeping junk out of pk and headers.
MAX_ETAG_CHARS = 128
MAX_VERSION_ID_CHARS = 256
MAX_SEQUENCER_CHARS = 64
_MAX_TIME_CHARS = 64
# With versioning suspended every overwrite gets versionId "null", which tells nothing apart.
NULL_VERSION = "null"

_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_IP_ADDRESS = re.compile(r"\d{1,3}(\.\d{1,3}){3}")
_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--table-s3")
# Visible ASCII without the quote and backslash: safe in pk, in headers and in log lines.
_TOKEN = re.compile(r"[!#-\[\]-~]+")
_HEX = re.compile(r"[0-9A-Fa-f]+")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class ObjectFields:
    """What a route calls the object's fields; "" for a field it does not carry. (A plain
    class: it is defined at every cold start, where a named tuple compiles its constructor.)"""

    __slots__ = ("etag", "sequencer", "size", "version_id")

    def __init__(self, etag: str, version_id: str, sequencer: str = "", size: str = "") -> None:
        self.etag = etag
        self.version_id = version_id
        self.sequencer = sequencer
        self.size = size


NOTIFICATION_FIELDS = ObjectFields("eTag", "versionId", "sequencer", "size")
EVENTBRIDGE_FIELDS = ObjectFields("etag", "version-id", "sequencer", "size")
HEAD_OBJECT_FIELDS = ObjectFields("ETag", "VersionId", size="ContentLength")


def object_ref(
    bucket: str,
    key: str,
    values: Mapping[str, object],
    names: ObjectFields,
    where: str,
    *,
    event_name: str = "ObjectCreated:Put",
    event_time_ms: int | None = None,
) -> ObjectRef:
    """The `ObjectRef` every route builds: `bucket` and `key` already read, the other fields
    taken from `values` by the route's `names` and checked here, messages naming `where`."""
    return ObjectRef(
        bucket=bucket,
        key=key,
        etag=etag(values.get(names.etag), where),
        version_id=version_id(values.get(names.version_id), where),
        sequencer=sequencer(values.get(names.sequencer), where) if names.sequencer else None,
        size=size(values.get(names.size), where) if names.size else None,
        event_name=event_name,
        event_time_ms=event_time_ms,
    )


def bucket_name(value: object, where: str) -> str:
    """A bucket name as S3's naming rules allow it today (3-63 of a-z 0-9 . -, ...)."""
    name = _required_string(value, where, "name")
    problem = _bucket_problem(name)
    if problem:
        raise InvalidEventError(f"{where}.name {shown(name)} is not a valid bucket name: {problem}")
    return name


def _bucket_problem(name: str) -> str | None:
    if not 3 <= len(name) <= 63:
        return "it must be 3 to 63 characters long"
    if not _BUCKET.fullmatch(name):
        return "only a-z, 0-9, '.' and '-', beginning and ending with a letter or digit"
    if ".." in name:
        return "two adjacent periods"
    if _IP_ADDRESS.fullmatch(name):
        return "formatted as an IP address"
    if name.startswith(_RESERVED_PREFIXES) or name.endswith(_RESERVED_SUFFIXES):
        return "a prefix or suffix S3 reserves"
    return None


def object_key(value: object, where: str, *, url_encoded: bool) -> str:
    """The object key, decoded when the event URL-encodes it (S3 notifications do: `+` is a
    space, `%2B` a plus); at most 1,024 bytes of valid UTF-8, as S3 allows."""
    raw = _required_string(value, where, "key")
    if len(raw) > 3 * MAX_KEY_BYTES:  # no valid key encodes longer; spares decoding megabytes
        raise InvalidEventError(f"{where}.key is longer than S3's {MAX_KEY_BYTES}-byte limit")
    if url_encoded:
        try:
            key = unquote_plus(raw, errors="strict")
        except UnicodeDecodeError:
            raise InvalidEventError(
                f"{where}.key {shown(raw)} does not URL-decode to UTF-8"
            ) from None
    else:
        key = raw
    if not key:
        raise InvalidEventError(f"{where}.key is empty once decoded")
    try:
        size = len(key.encode("utf-8"))
    except UnicodeEncodeError:
        raise InvalidEventError(
            f"{where}.key {shown(key)} is not valid Unicode (a lone surrogate)"
        ) from None
    if size > MAX_KEY_BYTES:
        raise InvalidEventError(
            f"{where}.key is {size} bytes of UTF-8, over S3's {MAX_KEY_BYTES}-byte limit"
        )
    return key


def etag(value: object, where: str) -> str | None:
    """The eTag without surrounding quotes (HeadObject returns `"abc"`, notifications `abc`),
    so that If-Match is never double-quoted; None when absent or empty."""
    text = _optional_string(value, where, "eTag")
    if text is not None and len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1]
    return _token(text or None, where, "eTag", MAX_ETAG_CHARS)


def version_id(value: object, where: str) -> str | None:
    """The versionId; None when absent, empty or "null" (versioning suspended: every
    overwrite has that id, so it tells nothing apart)."""
    text = _optional_string(value, where, "versionId")
    if text == NULL_VERSION:
        return None
    return _token(text or None, where, "versionId", MAX_VERSION_ID_CHARS)


def sequencer(value: object, where: str) -> str | None:
    """The sequencer S3 gives each event of a key: hex digits, bounded; None when absent."""
    text = _optional_string(value, where, "sequencer")
    if not text:
        return None
    if len(text) > MAX_SEQUENCER_CHARS or not _HEX.fullmatch(text):
        raise InvalidEventError(
            f"{where}.sequencer {shown(text)} is not up to {MAX_SEQUENCER_CHARS} hex digits"
        )
    return text


def size(value: object, where: str) -> int | None:
    """The object's size in bytes: a whole number from 0 to 5 TiB; None when absent."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidEventError(f"{where}.size is not a whole number ({type(value).__name__})")
    if not 0 <= value <= MAX_OBJECT_SIZE:
        shown = str(value) if value.bit_length() < 128 else "a number of over 38 digits"
        raise InvalidEventError(f"{where}.size {shown} is not between 0 and 5 TiB")
    return value


def event_time_ms(value: object, where: str) -> int | None:
    """The record's eventTime (ISO-8601 with a time zone, as `2026-01-01T00:00:00.000Z`) in
    epoch milliseconds; None when absent."""
    text = _optional_string(value, where, "eventTime")
    if text is None:
        return None
    if len(text) > _MAX_TIME_CHARS:
        raise InvalidEventError(f"{where}.eventTime is not an ISO-8601 time (too long)")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidEventError(
            f"{where}.eventTime {shown(text)} is not an ISO-8601 time"
        ) from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidEventError(f"{where}.eventTime {shown(text)} has no time zone")
    try:
        millis = (moment - _EPOCH) // timedelta(milliseconds=1)
    except OverflowError:
        raise InvalidEventError(f"{where}.eventTime {shown(text)} is out of range") from None
    if millis < 0:
        raise InvalidEventError(f"{where}.eventTime {shown(text)} is before 1970")
    return millis


def _required_string(value: object, where: str, name: str) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidEventError(f"{where}.{name} is missing or not a non-empty string")
    return value


def _optional_string(value: object, where: str, name: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidEventError(f"{where}.{name} is not a string ({type(value).__name__})")
    return value


def _token(text: str | None, where: str, name: str, limit: int) -> str | None:
    if text is None:
        return None
    if len(text) > limit:
        raise InvalidEventError(f"{where}.{name} is longer than {limit} characters")
    if not _TOKEN.fullmatch(text):
        raise InvalidEventError(
            f"{where}.{name} {shown(text)} holds characters other than visible ASCII"
        )
    return text


def shown(value: object) -> str:
    """A value fit for a message: strings quoted, escaped (no lone surrogate reaches a log) and
    bounded; anything else by type (the repr of a deeply nested list would recurse, that of a
    5,000-digit number raise)."""
    if isinstance(value, str):
        return ascii(value if len(value) <= 80 else value[:80] + "...")
    if value is None or isinstance(value, bool | int | float):
        return ascii(value) if not isinstance(value, int) or value.bit_length() < 128 else "an int"
    return f"a {type(value).__name__}"
