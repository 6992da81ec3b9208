"""The capacity model (benchmarks/capacity_model.py): 100,000 object lifecycles at 10,000
uploads a second through the real lock adapter and the access-log commit, on a simulated
clock, priced write by write; no partition-key value may take more than 1,000 units a second."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.capacity_model import (
    LIMIT_WCU,
    Run,
    World,
    cost_of,
    cost_rows,
    markdown,
    simulate,
)
from chalicelib.core.ports import Acquired, LeaseRequest

PROJECT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def run() -> Run:
    return simulate(lifecycles=100_000, rate=10_000)


@pytest.mark.slow
def test_at_10000_uploads_a_second_no_partition_key_value_takes_more_than_1000_units(
    run: Run,
) -> None:
    assert (run.lifecycles, run.rate) == (100_000, 10_000)
    assert set(run.peaks) == {
        "table locks",
        "index open-work",
        "index by-object",
        "table aggregates",
    }
    for what, (peak, value) in run.peaks.items():
        assert 0 < peak <= LIMIT_WCU, f"{what} {value!r}: {peak} WCU/s"


@pytest.mark.slow
def test_the_run_sent_what_the_lifecycles_need(run: Run) -> None:
    # Of every 20: 14 fresh (2), 3 duplicates (3), 2 failing once (4), 1 taken over (3).
    per_20 = 14 * 2 + 3 * 3 + 2 * 4 + 1 * 3
    assert sum(run.requests.values()) == 100_000 // 20 * per_20
    # Every completion of an access-log stage is a fenced transaction.
    assert run.requests["TransactWriteItems"] == 100_000


def test_one_shard_would_throttle_the_open_work_index_and_the_model_says_so() -> None:
    small = simulate(lifecycles=20_000, rate=10_000, open_shards=1)

    peak, value = small.peaks["index open-work"]
    assert peak > LIMIT_WCU
    assert value == "IN_PROGRESS#0"


def test_a_fresh_object_costs_two_requests_and_a_duplicate_one_with_the_index_writes() -> None:
    fresh, duplicate = cost_of("fresh", access_log=False), cost_of("duplicate", access_log=False)

    assert (fresh.requests, fresh.table_wcu) == (2, 2)
    # open-work: put on acquisition, delete on completion; by-object: put on creation.
    assert (fresh.index_writes, fresh.index_wcu) == (3, 3)
    assert (duplicate.requests, duplicate.table_wcu, duplicate.index_writes) == (1, 1, 0)
    failure = cost_of("failure", access_log=False)
    # acquire (2: both indexes), fail (2: the key moves), retry (2), complete (1)
    assert (failure.requests, failure.index_writes) == (4, 7)


def test_the_stand_in_keeps_the_conditions_the_adapter_relies_on() -> None:
    world = World(access_log=False)
    request = LeaseRequest(world.pk(1), world.obj(1), "w1", 1_000, 31_000, 9_999, token="t1")

    first = world.locks.acquire(request)
    resent = world.locks.acquire(request)  # the answer was lost: the same token again
    other = world.locks.acquire(request._replace(owner="w2", token="t2"))

    assert isinstance(first, Acquired) and first.fence == 1
    assert isinstance(resent, Acquired) and resent.fence == 1  # recognised as its own
    assert not isinstance(other, Acquired)  # a live lease refuses another


def test_the_capacity_tables_of_the_readme_and_docs_are_the_models() -> None:
    lines = markdown(cost_rows())
    for page in ("README.md", "docs/capacity.md"):
        text = (PROJECT / page).read_text(encoding="utf-8")
        missing = [line for line in lines if line not in text]
        assert missing == [], f"{page} lacks the model's rows (make bench prints them)"
