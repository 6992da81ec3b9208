"""Run one schedule: deliveries on a virtual timeline, Lambda's retries, the on-failure queue.

At each moment of the timeline the runner starts every attempt due then, concurrently (threads,
or real processes it kills or stops), and waits until each has finished or stopped. A failed
attempt (an error escaped the handler, or the worker died) is retried 1 and 3 minutes later,
as Lambda does, then sent to the on-failure queue. A stopped worker resumes once its lease has
expired and others had their chance. When the timeline is empty, Lambda has given up: the
records are read (`after_lambda`), then every queued event is re-driven without faults, as an
operator would, until nothing is left to re-drive.
"""

from __future__ import annotations

import heapq
import itertools
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chalicelib.core.errors import IncompleteBatchError
from chalicelib.core.keys import idempotency_key
from chalicelib.core.model import IdempotencyScope
from chalicelib.core.service import Invocation
from chalicelib.routes.notifications import parse_event
from tests.faultsuite.faults import Call, FaultInjector, SimulatedCrash
from tests.faultsuite.processes import run_in_process
from tests.faultsuite.schedule import (
    LEASE_MS,
    RETRY_DELAYS_MS,
    SKEW_MS,
    THREAD,
    InvocationPlan,
    Schedule,
    invocation_plan,
)
from tests.faultsuite.world import (
    OutcomeLog,
    Stack,
    VirtualTime,
    build_worker,
    object_refs,
    schedule_event,
)

REDRIVE_PASSES = 3
SETTLE_TIMEOUT_S = 120
BEYOND_LEASE_MS = LEASE_MS + 2 * SKEW_MS + 1_000


@dataclass
class AttemptResult:
    invocation: str
    attempt: int  # 0 first, 1 and 2 Lambda's retries; -1 a re-drive from the queue
    plan: InvocationPlan
    at_ms: int
    lines: list[dict[str, Any]] = field(default_factory=list)  # one per record handled
    error: str | None = None  # what escaped the handler (None: success or crash)
    crashed: bool = False
    calls: list[Call] = field(default_factory=list)
    before: dict[str, dict[str, Any]] = field(default_factory=dict)  # records at the start
    after: dict[str, dict[str, Any]] = field(default_factory=dict)  # records at the end

    @property
    def failed(self) -> bool:
        return self.crashed or self.error is not None


@dataclass
class Trace:
    schedule: Schedule
    stack: Stack
    pks: list[str]
    attempts: list[AttemptResult] = field(default_factory=list)
    # The invocations Lambda gave up on (sent to the on-failure queue), with their objects.
    dead_letters: dict[str, tuple[int, ...]] = field(default_factory=dict)
    after_lambda: dict[str, dict[str, Any]] = field(default_factory=dict)
    final: dict[str, dict[str, Any]] = field(default_factory=dict)
    hung: list[str] = field(default_factory=list)


class _Attempt:
    """One attempt running in a thread; `settled` is set when it finishes or stops."""

    def __init__(self, run: Runner, result: AttemptResult, objects: tuple[int, ...]) -> None:
        self.result = result
        self.settled = threading.Event()
        self.resume = threading.Event()
        self.stopped = False
        self.done = False
        self._run = run
        self._objects = objects
        self._pipeline = None
        self._log = OutcomeLog()
        self._faults = FaultInjector(result.plan.faults, on_stop=self._stop)
        if result.plan.mode == THREAD:  # clients are made here, by the runner's thread
            self._pipeline = build_worker(
                run.stack, run.schedule, result.plan, run.time, self._faults, self._log
            )

    def start(self) -> None:
        self.result.before = self._run.records(self._objects)
        threading.Thread(target=self._main, daemon=True).start()

    def _stop(self) -> None:
        self.stopped = True
        self.settled.set()
        self.resume.wait()
        self.stopped = False

    def _main(self) -> None:
        result = self.result
        try:
            if self._pipeline is None:
                run_in_process(
                    self._run.stack, self._run.schedule, result, self._objects, self._stop
                )
            else:
                invocation = Invocation(request_id=result.plan.request_id)
                self._pipeline.handle(parse_event(self._run.event(self._objects)), invocation)
        except IncompleteBatchError as exc:
            result.error = f"IncompleteBatchError: {exc}"
        except SimulatedCrash:
            result.crashed = True
        except Exception as exc:  # an escaped error fails the invocation; Lambda retries it
            result.error = f"{type(exc).__name__}: {exc}"
        finally:
            if self._pipeline is not None:
                result.lines, result.calls = self._log.lines, self._faults.calls
                self._faults.client.close()  # its lease keeper has stopped by now
            result.after = self._run.records(self._objects)
            self.done = True
            self.settled.set()


class Runner:
    def __init__(self, schedule: Schedule, stack: Stack) -> None:
        self.schedule = schedule
        self.stack = stack
        self.time = VirtualTime(Path(stack.clock_file))
        self.start_ms = self.time.now_ms
        self._client = stack.client()
        refs = object_refs(schedule, stack.bucket)
        self.trace = Trace(
            schedule,
            stack,
            [idempotency_key(ref, IdempotencyScope.CONTENT, schedule.processor) for ref in refs],
        )
        self._timeline: list[tuple[int, int, str, Any]] = []
        self._order = itertools.count()

    def event(self, objects: tuple[int, ...]) -> dict[str, Any]:
        return schedule_event(self.schedule, self.stack, objects)

    def records(self, objects: tuple[int, ...] | None = None) -> dict[str, dict[str, Any]]:
        indices = range(len(self.trace.pks)) if objects is None else sorted(set(objects))
        found = {}
        for index in indices:
            pk = self.trace.pks[index]
            item = self._client.get_item(
                TableName=self.stack.lock_table, Key={"pk": {"S": pk}}, ConsistentRead=True
            ).get("Item")
            if item:
                found[pk] = item
        return found

    def run(self) -> Trace:
        for delivery in self.schedule.deliveries:
            self._at(delivery.at_ms, "attempt", (delivery.name, 0, delivery.objects))
        while self._timeline:
            self._step()
        self.trace.after_lambda = self.records()
        self._redrive()
        self.trace.final = self.records()
        self._client.close()
        return self.trace

    def _at(self, at_ms: int, kind: str, payload: Any) -> None:
        heapq.heappush(self._timeline, (at_ms, next(self._order), kind, payload))

    def _step(self) -> None:
        now = self._timeline[0][0]
        self.time.set(self.start_ms + now)
        running: list[_Attempt] = []
        while self._timeline and self._timeline[0][0] == now:
            _, _, kind, payload = heapq.heappop(self._timeline)
            if kind == "resume":
                payload.settled.clear()
                payload.resume.set()
                running.append(payload)
                continue
            name, attempt, objects = payload
            plan = invocation_plan(self.schedule, name, attempt, objects)
            result = AttemptResult(name, attempt, plan, now)
            running.append(_Attempt(self, result, objects))
        for each in running:
            if not each.resume.is_set():
                each.start()
        for each in running:
            self._settle(each, now)

    def _settle(self, each: _Attempt, now: int) -> None:
        result = each.result
        if not each.settled.wait(SETTLE_TIMEOUT_S):
            self.trace.hung.append(f"{result.invocation} attempt {result.attempt}")
            return
        if each.stopped:
            self._at(now + BEYOND_LEASE_MS, "resume", each)
            return
        self.trace.attempts.append(result)
        if not result.failed:
            return
        name, attempt = result.invocation, result.attempt
        objects = tuple(each._objects)
        if attempt < len(RETRY_DELAYS_MS):
            self._at(now + RETRY_DELAYS_MS[attempt], "attempt", (name, attempt + 1, objects))
        else:
            self.trace.dead_letters[name] = objects

    def _redrive(self) -> None:
        pending = dict(self.trace.dead_letters)
        for number in range(1, REDRIVE_PASSES + 1):
            if not pending:
                return
            now = self.time.now_ms - self.start_ms + BEYOND_LEASE_MS
            self.time.set(self.start_ms + now)
            failed: dict[str, tuple[int, ...]] = {}
            for name, objects in pending.items():
                redrive = f"{name}-redrive{number}"
                result = AttemptResult(
                    redrive, -1, invocation_plan(self.schedule, redrive, -1, objects), now
                )
                attempt = _Attempt(self, result, objects)
                attempt.start()
                self._settle_redrive(attempt)
                if result.failed:
                    failed[name] = objects
            pending = failed

    def _settle_redrive(self, attempt: _Attempt) -> None:
        if not attempt.settled.wait(SETTLE_TIMEOUT_S):
            self.trace.hung.append(attempt.result.invocation)
            return
        self.trace.attempts.append(attempt.result)
