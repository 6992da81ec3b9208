"""The small interfaces the service depends on; adapters implement them, tests fake them."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import BinaryIO, Protocol, TypeAlias

from chalicelib.model import JsonMap, LockRecord, LockStatus, ObjectRef


@dataclass(frozen=True)
class LeaseRequest:
    """Everything one acquisition writes."""

    pk: str
    obj: ObjectRef
    owner: str
    now_ms: int
    lease_expires_at_ms: int
    expires_at: int  # epoch seconds, the table's TTL attribute


@dataclass(frozen=True)
class Acquired:
    """The caller holds the lease; `fence` is the record's new `attempts` value.

    `resume_commit`: a previous holder committed part of its effects (and stored what was left
    to commit) before it died. The new holder completes with `Release(resume=True)` and does
    not process the object again: it may have changed or gone since.
    """

    fence: int
    previous_status: LockStatus | None  # None: the record is new
    resume_commit: bool = False

    @property
    def taken_over(self) -> bool:
        return self.previous_status is LockStatus.IN_PROGRESS


@dataclass(frozen=True)
class Refused:
    """Someone finished the object (COMPLETED) or holds a live lease (IN_PROGRESS)."""

    record: LockRecord


Acquisition: TypeAlias = Acquired | Refused


@dataclass(frozen=True)
class CounterIncrement:
    """Amounts to add to the named counters of one aggregate item (keyed by `key`)."""

    key: str
    deltas: Mapping[str, int]


@dataclass(frozen=True)
class Release:
    """How a holder ends its lease: completion with a result, or failure with an error.

    `increments` are committed together with the completion, atomically and only while
    `fence` is current; a completion without them is a single conditional write. `resume`
    completes what a previous holder stored and began committing (see `Acquired`).
    """

    pk: str
    fence: int
    now_ms: int
    expires_at: int
    result: JsonMap | None = None
    error: str | None = None
    increments: tuple[CounterIncrement, ...] = ()
    resume: bool = False


class LockRepository(Protocol):
    def acquire(self, request: LeaseRequest) -> Acquisition:
        """One conditional write; succeeds on a new, FAILED or expired IN_PROGRESS record."""
        ...

    def complete(self, release: Release) -> bool:
        """Mark COMPLETED (adding `release.increments`) if the fence is still ours.

        False means the lease was lost and nothing of this release was stored.
        """
        ...

    def fail(self, release: Release) -> bool:
        """Mark FAILED if the fence is still ours; False means the lease was lost."""
        ...


@dataclass(frozen=True)
class ObjectMetadata:
    content_type: str
    size: int
    etag: str


class ObjectStore(Protocol):
    def head(self, obj: ObjectRef) -> ObjectMetadata:
        """Metadata of exactly the upload `obj` names (ObjectChangedError if overwritten since)."""
        ...

    def open(self, obj: ObjectRef) -> BinaryIO:
        """A stream over the body of exactly the upload `obj` names."""
        ...


@dataclass(frozen=True)
class ProcessingResult:
    """What a processor returns: `summary` is stored as the record's `result`.

    `increments` are counter changes that must take effect exactly once: they are committed
    with the completion of the lock record, in one fenced transaction.
    """

    summary: JsonMap = field(default_factory=dict)
    increments: tuple[CounterIncrement, ...] = ()


class WorkContext(Protocol):
    """What a processor may ask of the pipeline while it works on one object.

    `check()` raises LeaseLostError once another worker has taken the object over (its lease
    renewal found the fence moved): nothing of this worker will be committed, so a long-running
    processor calls it between chunks of work and stops early. `lost` tells the same without
    raising. A processor that ends quickly may ignore the context.
    """

    @property
    def request_id(self) -> str: ...

    @property
    def lost(self) -> bool: ...

    def check(self) -> None: ...


class UnguardedWork:
    """A context with no lease behind it: nothing is ever lost (unit tests, benchmarks, tools)."""

    def __init__(self, request_id: str = "local") -> None:
        self._request_id = request_id

    @property
    def request_id(self) -> str:
        return self._request_id

    @property
    def lost(self) -> bool:
        return False

    def check(self) -> None:
        return None


class Processor(Protocol):
    name: str

    def process(self, obj: ObjectRef, work: WorkContext) -> ProcessingResult:
        """Do the work for one object. Raise PermanentProcessingError if retrying cannot help."""
        ...


class Clock(Protocol):
    def now_ms(self) -> int: ...


class SystemClock:
    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000
