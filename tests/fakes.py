"""In-memory stand-ins for the ports, held to the same contract tests as the real adapters."""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import BinaryIO, TypeVar

from chalicelib.core.errors import LockStoreError, ObjectNotFoundError
from chalicelib.core.increments import checked_increments
from chalicelib.core.model import LockRecord, LockStatus, ObjectRef
from chalicelib.core.ports import (
    Acquired,
    Acquisition,
    CounterIncrement,
    LeaseRequest,
    ObjectMetadata,
    ProcessingResult,
    Refused,
    Release,
    Settled,
    WorkContext,
)

T = TypeVar("T")


@dataclass
class StoredLock:
    record: LockRecord
    obj: ObjectRef
    token: str = ""
    acquired_from: LockStatus | None = None
    result: object = None
    last_error: str | None = None
    # A commit of effects cut short: what was left to commit, and the last key committed.
    plan: tuple[tuple[CounterIncrement, ...], object] | None = None
    through: str | None = None


class InMemoryLockRepository:
    """The lock contract in memory, effects included: a completion's increments are added to
    `counters` in the same step that completes the record, once, and only under the fence.

    `per_step` > 0 commits the increments in steps of that many keys, as DynamoDB must (100
    actions per transaction), and `before_step(n)` runs before the n-th step, so that a test
    can cut a commit short (raise) and let a takeover resume it from the stored plan.
    """

    def __init__(self, per_step: int = 0) -> None:
        self.items: dict[str, StoredLock] = {}
        self.counters: dict[str, dict[str, int]] = {}
        self.per_step = per_step
        self.before_step: Callable[[int], None] = lambda _step: None
        self._mutex = threading.RLock()

    def acquire(self, request: LeaseRequest) -> Acquisition:
        with self._mutex:
            stored = self.items.get(request.pk)
            if stored is not None:
                record = stored.record
                if record.status is LockStatus.IN_PROGRESS and stored.token == request.token:
                    return self._acquired(stored)  # a resend of this very acquisition
                expired = (
                    record.status is LockStatus.IN_PROGRESS
                    and record.lease_expires_at_ms < request.now_ms
                )
                if record.status is not LockStatus.FAILED and not expired:
                    return Refused(record)
            previous = stored.record if stored else None
            fence = (previous.attempts if previous else 0) + 1
            acquired = StoredLock(
                LockRecord(
                    pk=request.pk,
                    status=LockStatus.IN_PROGRESS,
                    attempts=fence,
                    owner=request.owner,
                    lease_expires_at_ms=request.lease_expires_at_ms,
                ),
                request.obj,
                token=request.token,
                acquired_from=previous.status if previous else None,
                plan=stored.plan if stored else None,
                through=stored.through if stored else None,
            )
            self.items[request.pk] = acquired
            return self._acquired(acquired)

    @staticmethod
    def _acquired(stored: StoredLock) -> Acquired:
        return Acquired(
            stored.record.attempts, stored.acquired_from, resume_commit=stored.plan is not None
        )

    def renew(self, pk: str, fence: int, lease_expires_at_ms: int) -> bool:
        with self._mutex:
            stored = self.items.get(pk)
            if stored is None or stored.record.attempts != fence:
                return False
            if stored.record.status is LockStatus.IN_PROGRESS:
                stored.record = stored.record._replace(lease_expires_at_ms=lease_expires_at_ms)
            return True

    def complete(self, release: Release) -> Settled:
        with self._mutex:
            refused = self._refusal(release)
            if refused is not None:
                return refused
            stored = self.items[release.pk]
            if release.resume:
                if stored.plan is None:
                    raise LockStoreError(f"{release.pk!r} has no stored commit to resume")
                increments, result = stored.plan
                checked_increments(increments)
            else:
                increments, result = checked_increments(release.increments), release.result
            pending = [i for i in increments if stored.through is None or i.key > stored.through]
            size = self.per_step or len(pending) or 1
            steps = [pending[i : i + size] for i in range(0, len(pending), size)] or [[]]
            for number, step in enumerate(steps, start=1):
                self.before_step(number)
                for increment in step:
                    counters = self.counters.setdefault(increment.key, {})
                    for name, value in increment.deltas.items():
                        counters[name] = counters.get(name, 0) + value
                if number < len(steps):
                    stored.plan, stored.through = (increments, result), step[-1].key
            stored.record = stored.record._replace(status=LockStatus.COMPLETED)
            stored.result, stored.plan, stored.through = result, None, None
            return Settled.COMPLETED

    def fail(self, release: Release) -> Settled:
        with self._mutex:
            refused = self._refusal(release)
            if refused is not None:
                return refused
            stored = self.items[release.pk]
            stored.record = stored.record._replace(status=LockStatus.FAILED)
            stored.last_error = release.error
            return Settled.FAILED

    def _refusal(self, release: Release) -> Settled | None:
        """None while the caller holds its lease; otherwise what the record says to it."""
        stored = self.items.get(release.pk)
        if stored is None or stored.record.attempts != release.fence:
            return Settled.LEASE_LOST
        if stored.record.status is LockStatus.IN_PROGRESS:
            return None
        return Settled(stored.record.status.value.lower())

    def status(self, pk: str) -> LockStatus:
        return self.items[pk].record.status


class FakeClock:
    def __init__(self, now_ms: int = 1_700_000_000_000) -> None:
        self.now = now_ms

    def now_ms(self) -> int:
        return self.now

    def advance(self, ms: int) -> None:
        self.now += ms


@dataclass
class FakeProcessor:
    """Records what it processed; `behaviour` may raise or act (e.g. move a clock) per object."""

    name: str = "fake"
    behaviour: Callable[[ObjectRef], None] | None = None
    processed: list[ObjectRef] = field(default_factory=list)
    increments: tuple[CounterIncrement, ...] = ()  # effects to commit with each completion
    contexts: list[WorkContext] = field(default_factory=list)

    def process(self, obj: ObjectRef, work: WorkContext) -> ProcessingResult:
        self.contexts.append(work)
        if self.behaviour is not None:
            self.behaviour(obj)
        self.processed.append(obj)
        return ProcessingResult({"key": obj.key}, self.increments)


class FakeObjectStore:
    """Objects by (bucket, key): content type and body."""

    def __init__(self) -> None:
        self.objects: dict[tuple[str, str], tuple[str, bytes]] = {}
        self.conditional_puts: list[tuple[str, str, bool]] = []  # (bucket, key, written)

    def put(self, bucket: str, key: str, body: bytes, content_type: str) -> None:
        self.objects[(bucket, key)] = (content_type, body)

    def head(self, obj: ObjectRef) -> ObjectMetadata:
        content_type, body = self._get(obj)
        return ObjectMetadata(content_type=content_type, size=len(body), etag=obj.etag or "")

    def open(self, obj: ObjectRef) -> BinaryIO:
        """The body in small reads, as S3 streams it."""
        return io.BufferedReader(io.BytesIO(self._get(obj)[1]), buffer_size=1024)

    def put_if_absent(self, bucket: str, key: str, body: bytes, content_type: str) -> bool:
        """S3's `If-None-Match: *`: the first write of a key wins, later ones answer False."""
        written = (bucket, key) not in self.objects
        if written:
            self.objects[(bucket, key)] = (content_type, body)
        self.conditional_puts.append((bucket, key, written))
        return written

    def _get(self, obj: ObjectRef) -> tuple[str, bytes]:
        try:
            return self.objects[(obj.bucket, obj.key)]
        except KeyError:
            raise ObjectNotFoundError(f"s3://{obj.bucket}/{obj.key} no longer exists") from None


class LostAnswers(InMemoryLockRepository):
    """Each write named in `lose` is applied, its answer lost, and sent again (as botocore
    resends a request whose answer never arrived): the caller sees the resend's answer."""

    def __init__(self, *lose: str, per_step: int = 0) -> None:
        super().__init__(per_step)
        self.lose = set(lose)

    def acquire(self, request: LeaseRequest) -> Acquisition:
        return self._resent("acquire", lambda: super(LostAnswers, self).acquire(request))

    def complete(self, release: Release) -> Settled:
        return self._resent("complete", lambda: super(LostAnswers, self).complete(release))

    def fail(self, release: Release) -> Settled:
        return self._resent("fail", lambda: super(LostAnswers, self).fail(release))

    def _resent(self, operation: str, send: Callable[[], T]) -> T:
        if operation in self.lose:
            self.lose.discard(operation)
            send()  # applied; the answer never arrives
        return send()
