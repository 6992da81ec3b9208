"""The idempotent pipeline: acquire, process, complete or fail, one record at a time."""

from __future__ import annotations

import logging
import time
from typing import NamedTuple

from chalicelib.core.errors import (
    IncompleteBatchError,
    InvalidEventError,
    LeaseLostError,
    PermanentProcessingError,
)
from chalicelib.core.keys import idempotency_key
from chalicelib.core.lease import LeaseKeeper, LeasePolicy
from chalicelib.core.logs import log
from chalicelib.core.metrics import emit_outcome_metrics
from chalicelib.core.model import (
    IdempotencyScope,
    JsonMap,
    LockStatus,
    ObjectRef,
    Outcome,
    ParsedEvent,
    RecordOutcome,
)
from chalicelib.core.ports import (
    Acquired,
    Clock,
    CounterIncrement,
    LeaseRequest,
    LockRepository,
    Processor,
    Release,
    Settled,
)

__all__ = ["BatchSummary", "IdempotentPipeline", "Invocation", "LeasePolicy"]

MS_PER_DAY = 86_400_000
_LEVELS = {
    Outcome.FAILED: logging.WARNING,
    Outcome.LEASE_LOST: logging.WARNING,
    Outcome.FAILED_PERMANENTLY: logging.ERROR,
    Outcome.INVALID: logging.ERROR,
}


class Invocation(NamedTuple):
    request_id: str
    remaining_ms: int | None = None  # None: no deadline known (local runs)


class BatchSummary(NamedTuple):
    records: list[RecordOutcome]

    def to_dict(self) -> dict[str, object]:
        return {"records": [record.to_dict() for record in self.records]}


class _Held:
    """What happened to one acquired object: its outcome and, when it must be retried, why."""

    __slots__ = ("error", "outcome", "release_error", "renewals")

    def __init__(
        self,
        outcome: Outcome,
        error: Exception | None = None,
        release_error: Exception | None = None,  # marking FAILED failed: the lease runs out
    ) -> None:
        self.outcome = outcome
        self.error = error
        self.release_error = release_error
        self.renewals = 0


class IdempotentPipeline:
    def __init__(
        self,
        locks: LockRepository,
        processor: Processor,
        clock: Clock,
        scope: IdempotencyScope,
        lease: LeasePolicy,
        record_ttl_days: int,
        logger: logging.Logger,
    ) -> None:
        self._locks = locks
        self._processor = processor
        self._clock = clock
        self._scope = scope
        self._lease = lease
        self._ttl_ms = record_ttl_days * MS_PER_DAY
        self._logger = logger

    def handle(self, event: ParsedEvent, invocation: Invocation) -> BatchSummary:
        """Process every record; raise afterwards if any must be retried or could not be read.

        Errors of the lock store at acquisition (throttling, access denied, ...) propagate at
        once: nothing is held, and the records already finished are skipped when Lambda retries
        the event. Whatever fails after an acquisition fails that record only.
        """
        deadline_ms = (
            None
            if invocation.remaining_ms is None
            else self._clock.now_ms() + invocation.remaining_ms
        )
        outcomes: list[RecordOutcome] = []
        busy: list[str] = []
        failures: list[tuple[str, Exception]] = []
        for ignored in event.ignored:
            log(
                self._logger,
                logging.INFO,
                "record ignored",
                outcome=Outcome.IGNORED.value,
                bucket=ignored.bucket,
                key=ignored.key,
                event_name=ignored.event_name,
                request_id=invocation.request_id,
            )
            outcomes.append(RecordOutcome(ignored.bucket, ignored.key, Outcome.IGNORED, 0))
        invalid = list(event.invalid)
        for index, obj in enumerate(event.objects):
            try:
                pk = idempotency_key(obj, self._scope, self._processor.name, event.origin(index))
            except InvalidEventError as exc:  # e.g. no eTag where the scope needs one
                invalid.append(str(exc))
                continue
            outcome, error = self._handle_object(obj, pk, invocation, deadline_ms)
            outcomes.append(outcome)
            if outcome.outcome is Outcome.BUSY:
                busy.append(_describe(obj))
            elif error is not None:
                failures.append((_describe(obj), error))
        for message in invalid:
            log(
                self._logger,
                _LEVELS[Outcome.INVALID],
                "record invalid",
                outcome=Outcome.INVALID.value,
                error=message,
                request_id=invocation.request_id,
            )
        emit_outcome_metrics(self._processor.name, outcomes, invalid=len(event.invalid))
        records = [record.to_dict() for record in outcomes]
        if busy or failures:
            raise IncompleteBatchError(
                busy=tuple(busy),
                failed=tuple(name for name, _ in failures),
                records=records,
                invalid=tuple(invalid),
            ) from (failures[0][1] if failures else None)
        if invalid:
            raise InvalidEventError("; ".join(invalid))
        return BatchSummary(outcomes)

    def _handle_object(
        self, obj: ObjectRef, pk: str, invocation: Invocation, deadline_ms: int | None
    ) -> tuple[RecordOutcome, Exception | None]:
        started = time.perf_counter()
        now_ms = self._clock.now_ms()
        acquisition = self._locks.acquire(
            LeaseRequest(
                pk=pk,
                obj=obj,
                owner=invocation.request_id,
                now_ms=now_ms,
                lease_expires_at_ms=self._lease.expiry(now_ms, deadline_ms),
                expires_at=self._expires_at(now_ms),
            )
        )
        extra: dict[str, object] = {}
        if not isinstance(acquisition, Acquired):
            record = acquisition.record
            held = _Held(Outcome.SKIPPED if record.status is LockStatus.COMPLETED else Outcome.BUSY)
            attempts = record.attempts
            if held.outcome is Outcome.BUSY:
                extra["holder"] = record.owner
        else:
            attempts = acquisition.fence
            held = self._work_under_lease(obj, pk, acquisition, invocation, deadline_ms)
            extra["renewals"] = held.renewals
            if held.release_error is not None:
                extra["release_error"] = _error_text(held.release_error)
        log(
            self._logger,
            _LEVELS.get(held.outcome, logging.INFO),
            "record " + held.outcome.value,
            outcome=held.outcome.value,
            bucket=obj.bucket,
            key=obj.key,
            pk=pk,
            attempts=attempts,
            fence=attempts,
            duration_ms=round((time.perf_counter() - started) * 1000, 3),
            request_id=invocation.request_id,
            processor=self._processor.name,
            error=None if held.error is None else _error_text(held.error),
            **extra,
        )
        return RecordOutcome(obj.bucket, obj.key, held.outcome, attempts), (
            None if held.outcome is Outcome.FAILED_PERMANENTLY else held.error
        )

    def _work_under_lease(
        self,
        obj: ObjectRef,
        pk: str,
        acquired: Acquired,
        invocation: Invocation,
        deadline_ms: int | None,
    ) -> _Held:
        """Process and complete under a renewed lease; whatever raises marks the record FAILED."""
        keeper = LeaseKeeper(
            self._locks,
            pk,
            acquired.fence,
            invocation.request_id,
            self._clock,
            self._lease,
            deadline_ms,
            self._logger,
        )
        with keeper:
            try:
                held = self._process_and_complete(obj, pk, acquired, keeper)
            except LeaseLostError:
                held = _Held(Outcome.LEASE_LOST)
            except PermanentProcessingError as exc:
                held = self._fail(pk, acquired, exc, Outcome.FAILED_PERMANENTLY)
            except Exception as exc:  # recorded, re-raised by handle()
                held = self._fail(pk, acquired, exc, Outcome.FAILED)
        held.renewals = keeper.renewals
        return held

    def _process_and_complete(
        self, obj: ObjectRef, pk: str, acquired: Acquired, keeper: LeaseKeeper
    ) -> _Held:
        if acquired.resume_commit:
            # The previous holder stored what it was committing; finishing that is the whole job.
            settled = self._locks.complete(self._release(pk, acquired, resume=True))
            return _Held(_completed(settled, taken_over=True))
        result = self._processor.process(obj, keeper)
        if keeper.lost:  # the processor did not stop by itself: nothing of it is committed
            return _Held(Outcome.LEASE_LOST)
        release = self._release(pk, acquired, result=result.summary, increments=result.increments)
        return _Held(_completed(self._locks.complete(release), taken_over=acquired.taken_over))

    def _fail(self, pk: str, acquired: Acquired, error: Exception, outcome: Outcome) -> _Held:
        """Mark the record FAILED with `error`, best effort: if the store cannot be reached,
        the lease running out is what frees the object."""
        try:
            settled = self._locks.fail(self._release(pk, acquired, error=_error_text(error)))
        except Exception as release_error:  # the invocation fails with `error`
            return _Held(Outcome.FAILED, error, release_error)
        if settled is Settled.LEASE_LOST:
            return _Held(Outcome.LEASE_LOST)
        if settled is Settled.COMPLETED:
            # Our completion was stored after all; its answer was lost before the error.
            return _Held(_completed(settled, taken_over=acquired.taken_over))
        return _Held(outcome, error)

    def _release(
        self,
        pk: str,
        held: Acquired,
        result: JsonMap | None = None,
        error: str | None = None,
        increments: tuple[CounterIncrement, ...] = (),
        resume: bool = False,
    ) -> Release:
        now_ms = self._clock.now_ms()
        return Release(
            pk=pk,
            fence=held.fence,
            now_ms=now_ms,
            expires_at=self._expires_at(now_ms),
            result=result,
            error=error,
            increments=increments,
            resume=resume,
        )

    def _expires_at(self, now_ms: int) -> int:
        return (now_ms + self._ttl_ms) // 1000


def _completed(settled: Settled, taken_over: bool) -> Outcome:
    if settled is Settled.LEASE_LOST:
        return Outcome.LEASE_LOST
    if settled is Settled.FAILED:
        raise AssertionError("a completion found the record FAILED under its own fence")
    return Outcome.TAKEN_OVER if taken_over else Outcome.PROCESSED


def _describe(obj: ObjectRef) -> str:
    return f"s3://{obj.bucket}/{obj.key}"


def _error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:1000]
