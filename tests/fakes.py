"""In-memory stand-ins for the ports, held to the same contract tests as the real adapters."""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import BinaryIO

from chalicelib.errors import ObjectNotFoundError
from chalicelib.model import LockRecord, LockStatus, ObjectRef
from chalicelib.ports import (
    Acquired,
    Acquisition,
    LeaseRequest,
    ObjectMetadata,
    ProcessingResult,
    Refused,
    Release,
    WorkContext,
)


@dataclass
class StoredLock:
    record: LockRecord
    obj: ObjectRef
    result: object = None
    last_error: str | None = None


class InMemoryLockRepository:
    def __init__(self) -> None:
        self.items: dict[str, StoredLock] = {}
        self._mutex = threading.Lock()

    def acquire(self, request: LeaseRequest) -> Acquisition:
        with self._mutex:
            stored = self.items.get(request.pk)
            if stored is not None:
                record = stored.record
                expired = (
                    record.status is LockStatus.IN_PROGRESS
                    and record.lease_expires_at_ms < request.now_ms
                )
                if record.status is not LockStatus.FAILED and not expired:
                    return Refused(record)
            previous = stored.record if stored else None
            fence = (previous.attempts if previous else 0) + 1
            self.items[request.pk] = StoredLock(
                LockRecord(
                    pk=request.pk,
                    status=LockStatus.IN_PROGRESS,
                    attempts=fence,
                    owner=request.owner,
                    lease_expires_at_ms=request.lease_expires_at_ms,
                ),
                request.obj,
            )
            return Acquired(fence, previous.status if previous else None)

    def complete(self, release: Release) -> bool:
        return self._release(release, LockStatus.COMPLETED)

    def fail(self, release: Release) -> bool:
        return self._release(release, LockStatus.FAILED)

    def _release(self, release: Release, status: LockStatus) -> bool:
        with self._mutex:
            stored = self.items.get(release.pk)
            if (
                stored is None
                or stored.record.status is not LockStatus.IN_PROGRESS
                or stored.record.attempts != release.fence
            ):
                return False
            stored.record = replace(stored.record, status=status)
            stored.result = release.result
            stored.last_error = release.error
            return True

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

    def process(self, obj: ObjectRef, work: WorkContext) -> ProcessingResult:
        if self.behaviour is not None:
            self.behaviour(obj)
        self.processed.append(obj)
        return ProcessingResult({"key": obj.key})


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
