"""The domain's values: the object an event names, lock records and outcomes."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import NamedTuple, TypeAlias

JsonValue: TypeAlias = "bool | int | float | str | list[JsonValue] | Mapping[str, JsonValue] | None"
JsonMap: TypeAlias = Mapping[str, JsonValue]


class ObjectRef(NamedTuple):
    """One uploaded object as an ObjectCreated record describes it (key already URL-decoded)."""

    bucket: str
    key: str
    etag: str | None = None
    version_id: str | None = None
    sequencer: str | None = None
    size: int | None = None
    event_name: str = "ObjectCreated:Put"
    # When S3 says the upload happened (the record's eventTime), epoch milliseconds; None when
    # the route that delivered it does not say (processors then use the current time).
    event_time_ms: int | None = None


class IgnoredRecord(NamedTuple):
    bucket: str
    key: str
    event_name: str


_PARSED_EVENT_FIELDS = ("objects", "ignored", "invalid", "event_time_ms", "origins")


class ParsedEvent:
    """The records of one event: objects to process, records to ignore, and the records that
    could not be read (`invalid`, one message each naming the record by its path, e.g.
    `Records[3].s3.object.size ...`). The valid records are processed; then the invocation fails
    with InvalidEventError naming the invalid ones.

    `event_time_ms` is the oldest `eventTime` among the records read (epoch milliseconds), how
    long ago the event began; None when no record says. Each object carries its own.

    `origins` names where each object was read, in the order of `objects` (e.g.
    `Records[0].s3.object`), so that a record refused later (no eTag where the scope needs one)
    is named by its path too; empty when the route reads its object from elsewhere."""

    # A plain class: defined at every cold start, where a dataclass compiles its methods.
    __slots__ = ("event_time_ms", "ignored", "invalid", "objects", "origins")

    def __init__(
        self,
        objects: list[ObjectRef] | None = None,
        ignored: list[IgnoredRecord] | None = None,
        invalid: list[str] | None = None,
        event_time_ms: int | None = None,
        origins: list[str] | None = None,
    ) -> None:
        self.objects: list[ObjectRef] = [] if objects is None else objects
        self.ignored: list[IgnoredRecord] = [] if ignored is None else ignored
        self.invalid: list[str] = [] if invalid is None else invalid
        self.event_time_ms = event_time_ms
        self.origins: list[str] = [] if origins is None else origins

    def _values(self) -> tuple[object, ...]:
        return (self.objects, self.ignored, self.invalid, self.event_time_ms, self.origins)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ParsedEvent) and self._values() == other._values()

    __hash__ = None  # type: ignore[assignment]  # mutable, like the lists it holds

    def __repr__(self) -> str:
        values = zip(_PARSED_EVENT_FIELDS, self._values(), strict=True)
        return "ParsedEvent(" + ", ".join(f"{name}={value!r}" for name, value in values) + ")"

    def origin(self, index: int) -> str:
        """Where `objects[index]` was read; `s3.object` when the route did not say."""
        return self.origins[index] if index < len(self.origins) else "s3.object"


class IdempotencyScope(enum.Enum):
    """What makes two deliveries "the same object" for the lock."""

    CONTENT = "content"  # bucket + key + eTag: identical re-uploads are skipped
    VERSION = "version"  # bucket + key + versionId (eTag on unversioned buckets)
    OBJECT = "object"  # bucket + key: the first upload of a key wins forever


class LockStatus(enum.Enum):
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"


class LockRecord(NamedTuple):
    """The stored state of one idempotency key."""

    pk: str
    status: LockStatus
    attempts: int
    owner: str
    lease_expires_at_ms: int


class Outcome(enum.Enum):
    PROCESSED = "processed"  # acquired, processed, completed
    TAKEN_OVER = "taken_over"  # acquired from a worker whose lease expired, then completed
    SKIPPED = "skipped"  # already COMPLETED: nothing done
    BUSY = "busy"  # another invocation holds a live lease: retried later
    FAILED = "failed"  # the processor raised: FAILED, the invocation fails and Lambda retries
    FAILED_PERMANENTLY = (
        "failed_permanently"  # the processor declared it hopeless: FAILED, no retry
    )
    LEASE_LOST = "lease_lost"  # another fence holds the record: nothing of ours stored
    IGNORED = "ignored"  # not an ObjectCreated record
    INVALID = "invalid"  # a record the event parser could not read: the invocation fails


class RecordOutcome(NamedTuple):
    bucket: str
    key: str
    outcome: Outcome
    attempts: int

    def to_dict(self) -> dict[str, JsonValue]:
        return {
            "bucket": self.bucket,
            "key": self.key,
            "outcome": self.outcome.value,
            "attempts": self.attempts,
        }
