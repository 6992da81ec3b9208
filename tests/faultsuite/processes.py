"""Workers in real processes, SIGKILLed or SIGSTOPped (and later resumed) at a random moment.

The parent sends the schedule's seed and the attempt's name; the child draws the same schedule
and plan, builds the same worker (its clock reads the virtual time from the stack's file),
says `ready`, runs the invocation and prints what happened as one JSON line.

As a program: `python -m tests.faultsuite.processes < job.json`.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chalicelib.core.errors import IncompleteBatchError
from chalicelib.core.service import Invocation
from chalicelib.routes.notifications import parse_event
from tests.faultsuite.faults import Call, FaultInjector, SimulatedCrash
from tests.faultsuite.schedule import PROCESS_KILL, Intensity, generate, invocation_plan
from tests.faultsuite.world import (
    OutcomeLog,
    Stack,
    build_worker,
    fast_throttle_backoff,
    schedule_event,
)

if TYPE_CHECKING:
    from tests.faultsuite.runner import AttemptResult
    from tests.faultsuite.schedule import Schedule

PROJECT_DIR = Path(__file__).resolve().parents[2]
READY = b"ready\n"


def run_in_process(
    stack: Stack,
    schedule: Schedule,
    result: AttemptResult,
    objects: tuple[int, ...],
    stop: Callable[[], None],
) -> None:
    """Run the attempt in a child process; kill or stop it as its plan says; fill `result`."""
    job = {
        "stack": dataclasses.asdict(stack),
        "seed": schedule.seed,
        "intensity": dataclasses.asdict(schedule.intensity),
        "invocation": result.invocation,
        "attempt": result.attempt,
        "objects": list(objects),
    }
    env = dict(os.environ, PYTHONPATH=str(PROJECT_DIR))
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.faultsuite.processes"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        cwd=PROJECT_DIR,
        env=env,
    )
    assert child.stdin is not None and child.stdout is not None
    child.stdin.write(json.dumps(job).encode())
    child.stdin.close()
    if child.stdout.readline() == READY:
        time.sleep(result.plan.signal_delay_ms / 1000)
        if child.poll() is None:
            if result.plan.mode == PROCESS_KILL:
                child.kill()
            else:
                child.send_signal(signal.SIGSTOP)
                stop()
                child.send_signal(signal.SIGCONT)
    output = child.stdout.read()
    child.wait(timeout=120)
    if child.returncode == -signal.SIGKILL:
        result.crashed = True
        return
    if child.returncode != 0:
        raise RuntimeError(f"worker process exited with {child.returncode}: {output[-2000:]!r}")
    report = json.loads(output.splitlines()[-1])
    result.lines = report["lines"]
    result.error = report["error"]
    result.calls = [Call(**call) for call in report["calls"]]


def _main() -> None:
    job = json.load(sys.stdin)
    stack = Stack(**job["stack"])
    schedule = generate(job["seed"], Intensity(**job["intensity"]))
    objects = tuple(job["objects"])
    plan = invocation_plan(schedule, job["invocation"], job["attempt"], objects)
    faults = FaultInjector(plan.faults)
    outcomes = OutcomeLog()
    error: str | None = None
    with fast_throttle_backoff():
        pipeline = build_worker(stack, schedule, plan, Path(stack.clock_file), faults, outcomes)
        event = parse_event(schedule_event(schedule, stack, objects))
        sys.stdout.buffer.write(READY)
        sys.stdout.flush()
        try:
            pipeline.handle(event, Invocation(request_id=plan.request_id))
        except IncompleteBatchError as exc:
            error = f"IncompleteBatchError: {exc}"
        except SimulatedCrash:
            os.kill(os.getpid(), signal.SIGKILL)
        except Exception as exc:  # reported to the parent, which retries like Lambda
            error = f"{type(exc).__name__}: {exc}"
    report: dict[str, Any] = {
        "lines": outcomes.lines,
        "error": error,
        "calls": [dataclasses.asdict(call) for call in faults.calls],
    }
    print(json.dumps(report, default=str))


if __name__ == "__main__":
    _main()
