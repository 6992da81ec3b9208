"""The checker and the fault injector can fail: each invariant is shown a trace that breaks it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError, ConnectionClosedError

from tests.conftest import unique_name
from tests.faultsuite.faults import (
    ACQUIRE,
    COMPLETE,
    FAIL,
    LOST,
    THROTTLED,
    Call,
    FaultInjector,
    FaultPlan,
)
from tests.faultsuite.invariants import Violation, check
from tests.faultsuite.runner import AttemptResult, Trace
from tests.faultsuite.schedule import (
    CONTENT_TYPE,
    Delivery,
    InvocationPlan,
    ObjectSpec,
    Schedule,
    generate,
    invocation_plan,
)
from tests.faultsuite.world import MAX_ATTEMPTS, Stack, expected_result

PK = "content-type#content#b#k#e=1"
SPEC = ObjectSpec("k", b"body", "text/plain")
SCHEDULE = Schedule(1, CONTENT_TYPE, (SPEC,), (Delivery("d0", 0, (0,)),))
RESULT = expected_result(SCHEDULE, "b", 0)


def record(status: str, fence: int, owner: str = "s1-d0", **extra: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "status": {"S": status},
        "attempts": {"N": str(fence)},
        "owner": {"S": owner},
    }
    if status == "COMPLETED":
        item["result"] = {"M": {k: _value(v) for k, v in RESULT.items()}}
    item.update({name: {"S": value} for name, value in extra.items()})
    return item


def _value(value: object) -> dict[str, str]:
    return {"N": str(value)} if isinstance(value, int) else {"S": str(value)}


def attempt(
    *lines: tuple[str, int],
    error: str | None = None,
    calls: tuple[Call, ...] = (),
    after: dict[str, Any] | None = None,
    request_id: str = "s1-d0",
) -> AttemptResult:
    return AttemptResult(
        invocation="d0",
        attempt=0,
        plan=InvocationPlan(request_id, 0, FaultPlan(seed=1)),
        at_ms=0,
        lines=[
            {"pk": PK, "outcome": outcome, "fence": fence, "holder": request_id}
            for outcome, fence in lines
        ],
        error=error,
        calls=list(calls),
        after=after if after is not None else {PK: record("COMPLETED", 1)},
    )


def trace(*attempts: AttemptResult, final: dict[str, Any] | None = None) -> Trace:
    final = final if final is not None else record("COMPLETED", 1)
    return Trace(
        SCHEDULE,
        Stack("", "b", "", "", ""),
        [PK],
        attempts=list(attempts),
        after_lambda={PK: final},
        final={PK: final},
    )


def invariants(violations: list[Violation]) -> set[str]:
    return {violation.invariant for violation in violations}


def test_a_clean_trace_keeps_every_invariant() -> None:
    assert check(trace(attempt(("processed", 1)), attempt(("skipped", 1)))) == []


def test_lease_lost_while_the_record_holds_our_fence_is_a_lie() -> None:
    found = check(trace(attempt(("lease_lost", 1))))

    assert invariants(found) == {"truthful", "completed once"}


def test_busy_on_a_lease_our_own_resent_acquisition_took_is_a_lie() -> None:
    own = Call(0, ACQUIRE, PK, "x", LOST, applied=True)
    found = check(
        trace(
            attempt(("busy", 1), error="IncompleteBatchError", calls=(own,)),
            attempt(("taken_over", 2)),
        ),
    )

    assert "truthful" in invariants(found)


def test_busy_on_a_lease_another_invocation_holds_is_true_even_after_our_own_resend() -> None:
    own = Call(1, ACQUIRE, PK, "x", LOST, applied=True)
    busy = attempt(("busy", 1), ("failed", 2), error="IncompleteBatchError", calls=(own,))
    busy.lines[0]["holder"] = "s1-other"  # the event names the object twice: busy, then ours

    found = check(trace(busy, attempt(("processed", 3)), final=record("COMPLETED", 3)))

    assert "truthful" not in invariants(found)


def test_a_completion_nobody_reported_is_allowed_only_if_its_answers_were_all_lost() -> None:
    unreported = attempt(("failed", 1), error="InternalServerError")
    lost = [Call(i, COMPLETE, PK, "c", LOST, applied=i == 0) for i in range(MAX_ATTEMPTS)]
    unknown = attempt(("failed", 1), error="InternalServerError", calls=tuple(lost))
    redelivered = attempt(("skipped", 1))

    assert "completed once" in invariants(check(trace(unreported, redelivered)))
    assert "completed once" not in invariants(check(trace(unknown, redelivered)))


def test_an_object_failed_without_a_queued_event_is_silently_lost() -> None:
    failed = record("FAILED", 1, last_error="RuntimeError: boom")
    found = check(trace(attempt(("lease_lost", 1), after={PK: failed}), final=failed))

    assert {"no silent loss", "finished", "truthful"} <= invariants(found)


def test_a_lease_left_in_progress_after_an_error_is_reported_unless_the_store_refused() -> None:
    held = record("IN_PROGRESS", 1)
    left = attempt(error="ClientError: throttled", after={PK: held})
    completion_refused = [Call(i, COMPLETE, PK, "c", THROTTLED) for i in range(MAX_ATTEMPTS)]
    still_left = attempt(error="throttled", after={PK: held}, calls=tuple(completion_refused))

    assert "no lease left" in invariants(check(trace(left, attempt(("taken_over", 2)))))
    assert "no lease left" in invariants(check(trace(still_left, attempt(("taken_over", 2)))))
    for kind in (FAIL, ACQUIRE):  # the store was down: the lease expiry frees the object
        refused = [Call(i, kind, PK, "same", THROTTLED) for i in range(MAX_ATTEMPTS)]
        excused = attempt(error="throttled", after={PK: held}, calls=tuple(refused))
        assert "no lease left" not in invariants(check(trace(excused, attempt(("taken_over", 2)))))


def test_two_successes_for_one_pk_break_completed_once_and_fences() -> None:
    found = check(trace(attempt(("processed", 1)), attempt(("processed", 1))))

    assert {"completed once", "fences"} <= invariants(found)


def test_a_stored_result_that_is_not_the_objects_own_is_reported() -> None:
    wrong = record("COMPLETED", 1)
    wrong["result"] = {"M": {"content_type": {"S": "other"}}}

    assert "completed once" in invariants(check(trace(attempt(("processed", 1)), final=wrong)))


def test_a_failure_reported_while_the_invocation_succeeds_is_a_lie() -> None:
    final = record("COMPLETED", 2)
    found = check(trace(attempt(("failed", 1)), attempt(("processed", 2)), final=final))

    assert "truthful" in invariants(found)


def test_totals_other_than_the_ground_truth_are_reported() -> None:
    logs = generate(2)
    while logs.processor != "access-log":
        logs = generate(logs.seed + 1)
    broken = Trace(logs, Stack("", "b", "", "", ""), [])

    assert "totals" in invariants(check(broken, totals={"2026-03-01T00": {"requests": 1}}))


def test_a_seed_replays_the_same_schedule_and_faults() -> None:
    first, again = generate(77), generate(77)

    assert first == again
    assert invocation_plan(first, "d0", 1, (0,)) == invocation_plan(again, "d0", 1, (0,))
    assert invocation_plan(first, "d0", 1, (0,)) != invocation_plan(first, "d0", 2, (0,))


@pytest.mark.dynamodb_local_only
def test_a_lost_answer_applies_the_write_and_botocore_resends_it(
    dynamodb_local_url: str, tmp_path: Path
) -> None:
    from s3once.aws.tables import create_lock_table

    stack = Stack(dynamodb_local_url, "b", unique_name("locks"), "", str(tmp_path / "clock"))
    client = stack.client()
    create_lock_table(client, stack.lock_table)
    faults = FaultInjector(FaultPlan(seed=3, lost_answer=1.0))
    faults.attach(client)

    with pytest.raises((ClientError, ConnectionClosedError)):
        client.update_item(
            TableName=stack.lock_table,
            Key={"pk": {"S": "counter"}},
            UpdateExpression="ADD n :one",
            ConditionExpression="attribute_not_exists(pk) OR n > :zero",
            ExpressionAttributeValues={":one": {"N": "1"}, ":zero": {"N": "0"}},
        )

    item = stack.client().get_item(TableName=stack.lock_table, Key={"pk": {"S": "counter"}})
    assert item["Item"]["n"] == {"N": str(MAX_ATTEMPTS)}  # every resend was applied
    assert [call.fault for call in faults.calls] == [LOST] * MAX_ATTEMPTS
    assert all(call.applied for call in faults.calls)
