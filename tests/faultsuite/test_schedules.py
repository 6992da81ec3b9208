"""Randomized fault schedules through the real pipeline on DynamoDB Local: every invariant holds.

The default run checks a bounded number of seeds; the slow test checks more; `make soak` runs
as many as asked (`SCHEDULES=N`) and replays one (`SEED=S`). A failure names its seed.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.faultsuite.suite import Outcome, describe, run_schedule

DEFAULT_SCHEDULES = int(os.environ.get("FAULTSUITE_SCHEDULES", "40"))
SLOW_SCHEDULES = 160


def run_seeds(seeds: range, dynamodb_url: str, workdir: Path, lock_table: str) -> list[Outcome]:
    return [run_schedule(seed, dynamodb_url, workdir, lock_table) for seed in seeds]


def assert_no_violations(outcomes: list[Outcome]) -> None:
    failed = [outcome for outcome in outcomes if outcome.violations]
    report = "\n\n".join(describe(outcome) for outcome in failed[:3])
    seeds = [outcome.seed for outcome in failed]
    assert not failed, (
        f"{len(failed)} of {len(outcomes)} schedules broke invariants, seeds {seeds}:\n{report}"
    )


@pytest.mark.dynamodb_local_only
def test_fault_schedules_keep_every_invariant(
    dynamodb_local_url: str, workdir: Path, suite_lock_table: str
) -> None:
    outcomes = run_seeds(
        range(1, DEFAULT_SCHEDULES + 1), dynamodb_local_url, workdir, suite_lock_table
    )

    assert_no_violations(outcomes)


@pytest.mark.slow
@pytest.mark.dynamodb_local_only
def test_more_fault_schedules_keep_every_invariant(
    dynamodb_local_url: str, workdir: Path, suite_lock_table: str
) -> None:
    first = 10_001
    outcomes = run_seeds(
        range(first, first + SLOW_SCHEDULES), dynamodb_local_url, workdir, suite_lock_table
    )

    assert_no_violations(outcomes)
