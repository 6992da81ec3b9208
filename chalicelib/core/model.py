"""The domain's values: the object an event names, lock records and outcomes."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
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


@dataclass(frozen=True)
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

    objects: list[ObjectRef] = field(default_factory=list)
    ignored: list[IgnoredRecord] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)
    event_time_ms: int | None = None
    origins: list[str] = field(default_factory=list)

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
