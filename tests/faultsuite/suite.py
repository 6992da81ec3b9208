"""Run schedules and check them: what both `make test` and `make soak` call."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from s3once.commands.report import read_totals
from tests.faultsuite.invariants import Violation, check
from tests.faultsuite.runner import Runner, Trace
from tests.faultsuite.schedule import ACCESS_LOG, Intensity, generate
from tests.faultsuite.world import fast_throttle_backoff, new_stack, quiet_crashes_in_threads


@dataclass
class Outcome:
    seed: int
    trace: Trace
    violations: list[Violation]
    seconds: float


@dataclass
class Tally:
    """What a run of many schedules did, for the soak's summary."""

    schedules: int = 0
    failed_seeds: list[int] = field(default_factory=list)
    faults: Counter[str] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)
    attempts: int = 0
    dead_letters: int = 0
    seconds: float = 0.0

    def add(self, outcome: Outcome) -> None:
        self.schedules += 1
        self.seconds += outcome.seconds
        if outcome.violations:
            self.failed_seeds.append(outcome.seed)
        trace = outcome.trace
        self.attempts += len(trace.attempts)
        self.dead_letters += len(trace.dead_letters)
        for attempt in trace.attempts:
            self.faults.update(f"{call.fault} {call.kind}" for call in attempt.calls if call.fault)
            self.faults.update(["crashed" if attempt.crashed else ""])
            self.faults.update([attempt.plan.mode] if attempt.plan.mode != "thread" else [])
            self.outcomes.update(str(line.get("outcome")) for line in attempt.lines)
        del self.faults[""]


def run_schedule(
    seed: int,
    dynamodb_url: str,
    workdir: Path,
    lock_table: str | None = None,
    intensity: Intensity | None = None,
) -> Outcome:
    started = time.perf_counter()
    schedule = generate(seed, intensity)
    stack = new_stack(dynamodb_url, workdir, lock_table)
    with fast_throttle_backoff():
        trace = Runner(schedule, stack).run()
    totals = None
    if schedule.processor == ACCESS_LOG:
        hours = read_totals(stack.client(), stack.aggregates_table)
        totals = {hour: item.to_json() for hour, item in hours.items()}
    Path(stack.clock_file).unlink(missing_ok=True)
    return Outcome(seed, trace, check(trace, totals), time.perf_counter() - started)


def run_many(
    seeds: list[int], dynamodb_url: str, workdir: Path, lock_table: str | None = None
) -> Iterator[Outcome]:
    quiet_crashes_in_threads()
    for seed in seeds:
        yield run_schedule(seed, dynamodb_url, workdir, lock_table)


def describe(outcome: Outcome) -> str:
    """The failure report: the seed to replay, each violation, and the schedule's trace."""
    trace = outcome.trace
    lines = [
        f"schedule {trace.schedule.describe()}",
        f"replay: make soak SEED={outcome.seed}",
        *(f"  VIOLATION {violation}" for violation in outcome.violations),
        "trace:",
    ]
    for index, spec in enumerate(trace.schedule.objects):
        lines.append(f"  object {index}: {spec.key!r} {spec.hopeless or ''} pk={trace.pks[index]}")
    for attempt in sorted(trace.attempts, key=lambda a: a.at_ms):
        plan = attempt.plan
        faults = [
            f"{c.index}:{c.kind}:{c.fault}" + ("" if c.applied is None else f"/applied={c.applied}")
            for c in attempt.calls
            if c.fault
        ]
        end = "crashed" if attempt.crashed else (attempt.error or "ok")
        lines.append(
            f"  t={attempt.at_ms / 1000:g}s {attempt.invocation}#{attempt.attempt} {plan.mode}"
            f" skew={plan.skew_ms}ms fail={sorted(plan.fail_objects)} -> {end[:160]}"
        )
        for line in attempt.lines:
            lines.append(
                f"      {line.get('outcome')} object {_index(trace, line.get('pk'))}"
                f" fence={line.get('fence')} {line.get('error') or ''}"[:200]
            )
        if faults:
            lines.append(f"      faults: {' '.join(faults)}")
    lines.append(f"  on-failure queue: {trace.dead_letters}")
    return "\n".join(lines)


def summary(tally: Tally) -> dict[str, Any]:
    return {
        "schedules": tally.schedules,
        "violating schedules": len(tally.failed_seeds),
        "failed seeds": tally.failed_seeds[:20],
        "invocation attempts": tally.attempts,
        "events sent to the on-failure queue (then re-driven)": tally.dead_letters,
        "faults": dict(tally.faults.most_common()),
        "outcomes": dict(tally.outcomes.most_common()),
        "seconds": round(tally.seconds, 1),
    }


def _index(trace: Trace, pk: object) -> str:
    return str(trace.pks.index(pk)) if isinstance(pk, str) and pk in trace.pks else "?"
