"""The small interfaces the service depends on; adapters implement them, tests fake them."""

from __future__ import annotations

import enum
import os
import time
from collections.abc import Mapping
from typing import BinaryIO, NamedTuple, Protocol, TypeAlias

from chalicelib.core.model import JsonMap, LockRecord, LockStatus, ObjectRef


def new_lease_token() -> str:
    return os.urandom(16).hex()  # as unique as a uuid4, without building one


class _LeaseRequestFields(NamedTuple):
    pk: str
    obj: ObjectRef
    owner: str
    now_ms: int
    lease_expires_at_ms: int
    expires_at: int  # epoch seconds, the table's TTL attribute
    token: str


class LeaseRequest(_LeaseRequestFields):
    """Everything one acquisition writes.

    `token` is unique to this acquisition and stored on the record: when the answer to the
    write is lost and the resent write finds the record taken, the token tells whether it was
    taken by this very acquisition. (The owner's request id cannot tell: Lambda's retries of an
    asynchronous invocation run under the same request id.) A new one is drawn unless given.
    """

    __slots__ = ()

    def __new__(
        cls,
        pk: str,
        obj: ObjectRef,
        owner: str,
        now_ms: int,
        lease_expires_at_ms: int,
        expires_at: int,
        token: str | None = None,
    ) -> LeaseRequest:
        return super().__new__(
            cls, pk, obj, owner, now_ms, lease_expires_at_ms, expires_at, token or new_lease_token()
        )


class Acquired(NamedTuple):
    """The caller holds the lease; `fence` is the record's new `attempts` value.

    `resume_commit`: a previous holder began committing the effects that go with the completion
    (and stored all of them with the first part) before it died. The new holder completes with
    `Release(resume=True)` and does not process the object again: it may have changed or gone
    since.
    """

    fence: int
    previous_status: LockStatus | None  # None: the record is new
    resume_commit: bool = False

    @property
    def taken_over(self) -> bool:
        return self.previous_status is LockStatus.IN_PROGRESS


class Refused(NamedTuple):
    """Someone finished the object (COMPLETED) or holds a live lease (IN_PROGRESS)."""

    record: LockRecord


Acquisition: TypeAlias = Acquired | Refused


class CounterIncrement(NamedTuple):
    """Amounts to add to the named counters of one aggregate item (keyed by `key`)."""

    key: str
    deltas: Mapping[str, int]


class Release(NamedTuple):
    """How a holder ends its lease: completion with a result, or failure with an error.

    `increments` are effects committed with the completion: they take effect together with it,
    exactly once and only while `fence` is current; a completion without effects is a single
    conditional write. `resume` completes what a previous holder stored and began committing
    (see `Acquired`).
    """

    pk: str
    fence: int
    now_ms: int
    expires_at: int
    result: JsonMap | None = None
    error: str | None = None
    increments: tuple[CounterIncrement, ...] = ()
    resume: bool = False


class Settled(enum.Enum):
    """How the record stands after a completion or failure: what it says under whose fence.

    The answer is read from the record itself, so a write whose answer was lost (applied, then
    resent by the client and refused) still reads as the caller's own. Truthy unless the lease
    was lost, so that `if locks.complete(...)` reads as "it is ours".
    """

    COMPLETED = "completed"  # COMPLETED under the caller's fence (by this call or an earlier one)
    FAILED = "failed"  # FAILED under the caller's fence
    LEASE_LOST = "lease_lost"  # another fence holds the record: nothing of this release stored

    def __bool__(self) -> bool:
        return self is not Settled.LEASE_LOST


class LockRepository(Protocol):
    def acquire(self, request: LeaseRequest) -> Acquisition:
        """One conditional write; succeeds on a new, FAILED or expired IN_PROGRESS record.

        A resent write that finds the record taken by this very acquisition (same `token`)
        answers Acquired, as the first send would have.
        """
        ...

    def renew(self, pk: str, fence: int, lease_expires_at_ms: int) -> bool:
        """Move the lease's end to `lease_expires_at_ms` while the fence is the caller's.

        False only when another fence holds the record (or it is gone): the lease was lost.
        """
        ...

    def complete(self, release: Release) -> Settled:
        """Mark COMPLETED, with the effects committed with the completion, if the fence is
        still the caller's. LEASE_LOST means nothing of this release was stored.

        Effects that can never be committed (beyond the store's limits) raise
        CommitTooLargeError before anything is written.
        """
        ...

    def fail(self, release: Release) -> Settled:
        """Mark FAILED if the fence is still the caller's and the record not yet COMPLETED
        (COMPLETED: an earlier completion of the caller's was stored after all)."""
        ...


class ObjectMetadata(NamedTuple):
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


class ProcessingResult(NamedTuple):
    """What a processor returns: `summary` is stored as the record's `result`.

    `increments` are counter changes that must take effect exactly once: they are committed
    with the completion of the lock record, in one fenced transaction.
    """

    summary: JsonMap = {}  # noqa: RUF012 (never mutated: a processor returns a new map)
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
