"""What must hold after every schedule, checked against the trace and the tables.

- finished: once re-drives stop, every object is COMPLETED, or FAILED for good with the reason
  it is hopeless (deleted, not text);
- no silent loss: when Lambda gives up, an object that is not finished is in the on-failure
  queue;
- completed once: at most one invocation reports success for a pk, with the fence that
  completed it, and the stored result is the object's own; a COMPLETED record without a
  success is allowed only where a worker died or had every answer to its completion lost;
- fences: no two acquisitions of a pk share a fence, and the completing fence is the last;
- truthful outcomes: no `lease_lost` while the record still holds our fence, no `busy` naming
  ourselves as holder of a lease our own (resent) acquisition took, no `skipped` unless
  COMPLETED, no `failed` from a succeeding invocation, no permanent failure of an object that is
  not hopeless;
- no lease outlives an error: after an invocation ends (crashes aside), no record stays
  IN_PROGRESS under a fence it acquired, unless the store refused every try of that
  acquisition or of its FAILED write (then the lease expiry frees it);
- access-log totals equal the ground truth computed from the generated requests;
- no worker hangs.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from itertools import groupby
from typing import Any

from boto3.dynamodb.types import TypeDeserializer

from tests.access_log_data import truth
from tests.faultsuite.faults import ACQUIRE, COMMIT, COMPLETE, FAIL, LOST, THROTTLED
from tests.faultsuite.runner import AttemptResult, Trace
from tests.faultsuite.schedule import ACCESS_LOG, DELETED
from tests.faultsuite.world import MAX_ATTEMPTS, expected_result

SUCCESS = ("processed", "taken_over")
ACQUIRED = (*SUCCESS, "failed", "failed_permanently", "lease_lost")
REASONS = {DELETED: "ObjectNotFoundError", "not-text": "NotTextError"}
_DESERIALIZER = TypeDeserializer()


@dataclass(frozen=True)
class Violation:
    invariant: str
    detail: str

    def __str__(self) -> str:
        return f"{self.invariant}: {self.detail}"


def check(trace: Trace, totals: dict[str, Any] | None = None) -> list[Violation]:
    found: list[Violation] = [Violation("hung", f"{name} never settled") for name in trace.hung]
    found += _finished(trace)
    found += _no_silent_loss(trace)
    found += _completed_once(trace)
    found += _fences(trace)
    for attempt in trace.attempts:
        found += _truthful(trace, attempt)
        found += _no_lease_left(attempt)
    if trace.schedule.processor == ACCESS_LOG and totals is not None:
        expected = truth(
            request
            for spec in trace.schedule.objects
            if not spec.hopeless
            for request in spec.requests
        )
        if totals != expected:
            found.append(Violation("totals", f"stored {totals} != ground truth {expected}"))
    return found


def _settled(trace: Trace, index: int, record: dict[str, Any] | None) -> bool:
    spec = trace.schedule.objects[index]
    status = _field(record, "status")
    if spec.hopeless:
        return status == "FAILED" and REASONS[spec.hopeless] in str(_field(record, "last_error"))
    return bool(status == "COMPLETED")


def _finished(trace: Trace) -> list[Violation]:
    found = []
    for index, pk in enumerate(trace.pks):
        record = trace.final.get(pk)
        if not _settled(trace, index, record):
            found.append(
                Violation(
                    "finished",
                    f"object {index} ({trace.schedule.objects[index].hopeless or 'processable'})"
                    f" ends {_summary(record)} once re-drives stop",
                )
            )
    return found


def _no_silent_loss(trace: Trace) -> list[Violation]:
    queued = {index for objects in trace.dead_letters.values() for index in objects}
    return [
        Violation(
            "no silent loss",
            f"object {index} is {_summary(trace.after_lambda.get(pk))} when Lambda gives up,"
            " and no event naming it reached the on-failure queue",
        )
        for index, pk in enumerate(trace.pks)
        if index not in queued and not _settled(trace, index, trace.after_lambda.get(pk))
    ]


def _completed_once(trace: Trace) -> list[Violation]:
    found = []
    for index, pk in enumerate(trace.pks):
        record = trace.final.get(pk)
        successes = [
            (attempt, line)
            for attempt in trace.attempts
            for line in attempt.lines
            if line.get("pk") == pk and line.get("outcome") in SUCCESS
        ]
        completed = _field(record, "status") == "COMPLETED"
        if len(successes) > 1 or (successes and not completed):
            found.append(
                Violation(
                    "completed once",
                    f"object {index}: {len(successes)} invocations reported success"
                    f" ({', '.join(_who(a, line) for a, line in successes)});"
                    f" the record is {_summary(record)}",
                )
            )
        if completed and successes and successes[0][1].get("fence") != _field(record, "attempts"):
            found.append(
                Violation(
                    "completed once",
                    f"object {index}: success reported at fence {successes[0][1].get('fence')},"
                    f" record completed at fence {_field(record, 'attempts')}",
                )
            )
        if completed and not successes and not _completion_unknown(trace, index, pk):
            found.append(
                Violation(
                    "completed once",
                    f"object {index} is COMPLETED but no invocation reported success (none that"
                    " handled it crashed or had every answer to its completion lost)",
                )
            )
        if completed and not trace.schedule.objects[index].hopeless:
            stored = _field(record, "result")
            expected = expected_result(trace.schedule, trace.stack.bucket, index)
            if stored != expected:
                found.append(
                    Violation("completed once", f"object {index}: result {stored} != {expected}")
                )
    return found


def _fences(trace: Trace) -> list[Violation]:
    found = []
    for index, pk in enumerate(trace.pks):
        acquired = [
            (attempt, line)
            for attempt in trace.attempts
            for line in attempt.lines
            if line.get("pk") == pk and line.get("outcome") in ACQUIRED
        ]
        fences = Counter(int(line.get("fence", 0)) for _, line in acquired)
        shared = sorted(fence for fence, n in fences.items() if n > 1)
        if shared:
            found.append(Violation("fences", f"object {index}: fences {shared} acquired twice"))
        final = _field(trace.final.get(pk), "attempts") or 0
        if fences and max(fences) > final:
            found.append(
                Violation("fences", f"object {index}: fence {max(fences)} > record's {final}")
            )
    return found


def _truthful(trace: Trace, attempt: AttemptResult) -> list[Violation]:
    found = []
    for line in attempt.lines:
        pk, outcome, fence = line.get("pk"), line.get("outcome"), line.get("fence")
        index = trace.pks.index(pk) if pk in trace.pks else -1
        after = attempt.after.get(str(pk))
        who = _who(attempt, line)
        if outcome == "lease_lost" and _field(after, "attempts") == fence:
            found.append(
                Violation(
                    "truthful",
                    f"{who}: lease_lost, but the record still holds its fence: {_summary(after)}",
                )
            )
        if (
            outcome == "busy"
            and line.get("holder") == attempt.plan.request_id
            and any(
                call.kind == ACQUIRE and call.pk == pk and call.fault == LOST and call.applied
                for call in attempt.calls
            )
        ):
            found.append(
                Violation("truthful", f"{who}: busy, but the lease is its own (answer lost)")
            )
        if outcome == "skipped" and _field(after, "status") != "COMPLETED":
            found.append(Violation("truthful", f"{who}: skipped, record {_summary(after)}"))
        if outcome == "failed" and attempt.error is None and not attempt.crashed:
            found.append(
                Violation("truthful", f"{who}: failed, yet the invocation succeeded (no retry)")
            )
        if outcome == "failed_permanently" and not trace.schedule.objects[index].hopeless:
            found.append(
                Violation(
                    "truthful", f"{who}: a transient error made permanent: {line.get('error')}"
                )
            )
    return found


def _no_lease_left(attempt: AttemptResult) -> list[Violation]:
    if attempt.crashed:
        return []  # a dead worker's lease expires: that is the fallback
    found = []
    for pk, record in attempt.after.items():
        before = _field(attempt.before.get(pk), "attempts") or 0
        if (
            _field(record, "status") == "IN_PROGRESS"
            and _field(record, "owner") == attempt.plan.request_id
            and (_field(record, "attempts") or 0) > before
            and not _store_refused(attempt, pk)
        ):
            found.append(
                Violation(
                    "no lease left",
                    f"{attempt.invocation} attempt {attempt.attempt} ended"
                    f" ({attempt.error or 'success'}) leaving {_summary(record)}",
                )
            )
    return found


def _store_refused(
    attempt: AttemptResult, pk: str, kinds: tuple[str, ...] = (ACQUIRE, FAIL)
) -> bool:
    """Whether the store refused every try of one of the attempt's writes of `pk` (by default
    its acquisition or its FAILED write): every answer was lost or throttled.

    Then the worker cannot release what it holds (or does not know that it holds it), and the
    lease running out is what frees the object; or it cannot know that its completion was
    stored, and its invocation fails (the retry finds the record COMPLETED)."""
    calls = [call for call in attempt.calls if call.pk == pk and call.kind in kinds]
    for _, group in groupby(calls, key=lambda call: (call.kind, call.digest)):
        tries = list(group)
        if len(tries) >= MAX_ATTEMPTS and all(c.fault in (LOST, THROTTLED) for c in tries):
            return True
    return False


def _completion_unknown(trace: Trace, index: int, pk: str) -> bool:
    """Whether some worker may have completed the object without learning it did."""
    return any(
        (attempt.crashed and index in _objects_of(trace, attempt.invocation))
        or _store_refused(attempt, pk, (COMPLETE, COMMIT))
        for attempt in trace.attempts
    )


def _objects_of(trace: Trace, invocation: str) -> tuple[int, ...]:
    name = invocation.split("-redrive")[0]
    for delivery in trace.schedule.deliveries:
        if delivery.name == name:
            return delivery.objects
    return ()


def _field(record: dict[str, Any] | None, name: str) -> Any:
    if not record or name not in record:
        return None
    return _plain(_DESERIALIZER.deserialize(record[name]))


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def _summary(record: dict[str, Any] | None) -> str:
    if not record:
        return "absent"
    return (
        f"{_field(record, 'status')} at fence {_field(record, 'attempts')}"
        f" (owner {_field(record, 'owner')}, error {_field(record, 'last_error')})"
    )


def _who(attempt: AttemptResult, line: dict[str, Any]) -> str:
    return (
        f"{attempt.invocation} attempt {attempt.attempt} ({attempt.plan.request_id},"
        f" {attempt.plan.mode}) {line.get('outcome')} at fence {line.get('fence')}"
    )
