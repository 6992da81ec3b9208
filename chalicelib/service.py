"""The idempotent pipeline: acquire, process, complete or fail, one record at a time."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from chalicelib.errors import (
    IncompleteBatchError,
    InvalidEventError,
    PermanentProcessingError,
)
from chalicelib.events import ParsedEvent
from chalicelib.keys import idempotency_key
from chalicelib.logs import log
from chalicelib.metrics import emit_outcome_metrics
from chalicelib.model import (
    IdempotencyScope,
    JsonMap,
    LockStatus,
    ObjectRef,
    Outcome,
    RecordOutcome,
)
from chalicelib.ports import (
    Acquired,
    Clock,
    CounterIncrement,
    LeaseRequest,
    LockRepository,
    Processor,
    Release,
    UnguardedWork,
)

MS_PER_DAY = 86_400_000
# Without a context (local runs), assume Lambda's maximum timeout is what remains.
MAX_INVOCATION_MS = 15 * 60 * 1000


@dataclass(frozen=True)
class Invocation:
    request_id: str
    remaining_ms: int | None = None


@dataclass(frozen=True)
class LeasePolicy:
    """How long an acquisition holds the object before another worker may take it over."""

    fixed_seconds: int | None
    margin_seconds: int

    def lease_ms(self, invocation: Invocation) -> int:
        if self.fixed_seconds is not None:
            return self.fixed_seconds * 1000
        remaining = (
            invocation.remaining_ms if invocation.remaining_ms is not None else MAX_INVOCATION_MS
        )
        return remaining + self.margin_seconds * 1000


@dataclass(frozen=True)
class BatchSummary:
    records: list[RecordOutcome]

    def to_dict(self) -> dict[str, object]:
        return {"records": [record.to_dict() for record in self.records]}


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
        """Process every record; raise IncompleteBatchError afterwards if any must be retried.

        Errors of the lock store itself (throttling, access denied, ...) propagate at once: the
        records already finished are skipped when Lambda retries the event.
        """
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
        for obj in event.objects:
            outcome, error = self._handle_object(obj, invocation)
            outcomes.append(outcome)
            if outcome.outcome is Outcome.BUSY:
                busy.append(_describe(obj))
            elif error is not None:
                failures.append((_describe(obj), error))
        emit_outcome_metrics(self._processor.name, outcomes)
        if event.invalid:
            raise InvalidEventError("; ".join(event.invalid))
        if busy or failures:
            raise IncompleteBatchError(
                busy=tuple(busy),
                failed=tuple(name for name, _ in failures),
                records=[record.to_dict() for record in outcomes],
            ) from (failures[0][1] if failures else None)
        return BatchSummary(outcomes)

    def _handle_object(
        self, obj: ObjectRef, invocation: Invocation
    ) -> tuple[RecordOutcome, Exception | None]:
        started = time.perf_counter()
        pk = idempotency_key(obj, self._scope, self._processor.name)
        now_ms = self._clock.now_ms()
        acquisition = self._locks.acquire(
            LeaseRequest(
                pk=pk,
                obj=obj,
                owner=invocation.request_id,
                now_ms=now_ms,
                lease_expires_at_ms=now_ms + self._lease.lease_ms(invocation),
                expires_at=self._expires_at(now_ms),
            )
        )
        error: Exception | None = None
        if not isinstance(acquisition, Acquired):
            held = acquisition.record
            outcome = Outcome.SKIPPED if held.status is LockStatus.COMPLETED else Outcome.BUSY
            attempts = held.attempts
            extra = {"holder": held.owner} if outcome is Outcome.BUSY else {}
        else:
            attempts = acquisition.fence
            outcome, error = self._process_held(obj, pk, acquisition, invocation)
            extra = {}
        level = {
            Outcome.FAILED: logging.WARNING,
            Outcome.LEASE_LOST: logging.WARNING,
            Outcome.FAILED_PERMANENTLY: logging.ERROR,
        }.get(outcome, logging.INFO)
        log(
            self._logger,
            level,
            "record " + outcome.value,
            outcome=outcome.value,
            bucket=obj.bucket,
            key=obj.key,
            pk=pk,
            attempts=attempts,
            fence=attempts,
            duration_ms=round((time.perf_counter() - started) * 1000, 3),
            request_id=invocation.request_id,
            processor=self._processor.name,
            error=None if error is None else _error_text(error),
            **extra,
        )
        return RecordOutcome(obj.bucket, obj.key, outcome, attempts), (
            None if outcome is Outcome.FAILED_PERMANENTLY else error
        )

    def _process_held(
        self, obj: ObjectRef, pk: str, held: Acquired, invocation: Invocation
    ) -> tuple[Outcome, Exception | None]:
        if held.resume_commit:
            # The previous holder stored what it was committing; finishing that is the whole job.
            if not self._locks.complete(self._release(pk, held, resume=True)):
                return Outcome.LEASE_LOST, None
            return Outcome.TAKEN_OVER, None
        try:
            result = self._processor.process(obj, UnguardedWork(invocation.request_id))
        except PermanentProcessingError as exc:
            if not self._locks.fail(self._release(pk, held, error=_error_text(exc))):
                return Outcome.LEASE_LOST, None
            return Outcome.FAILED_PERMANENTLY, exc
        except Exception as exc:  # re-raised by handle() once the other records are done
            if not self._locks.fail(self._release(pk, held, error=_error_text(exc))):
                return Outcome.LEASE_LOST, None
            return Outcome.FAILED, exc
        release = self._release(pk, held, result=result.summary, increments=result.increments)
        if not self._locks.complete(release):
            return Outcome.LEASE_LOST, None
        return (Outcome.TAKEN_OVER if held.taken_over else Outcome.PROCESSED), None

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


def _describe(obj: ObjectRef) -> str:
    return f"s3://{obj.bucket}/{obj.key}"


def _error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:1000]
