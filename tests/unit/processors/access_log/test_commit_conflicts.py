"""Commits that contend for the same hour items: conflicts are retried, totals stay exact.

DynamoDB rejects a transaction on an item another transaction holds (TransactionConflict), it
does not queue it; DynamoDB Local serialises transactions and never does, so the retry path is
exercised here on a stub client that behaves as DynamoDB does: a transaction touching an item
held by one in flight is cancelled, and a cancelled transaction changes nothing. It can also
cancel a share of transactions at random, at rates far above what a table would see.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from typing import Any

import pytest
from botocore.exceptions import ClientError

from chalicelib.aws.dynamodb_counters import CONFLICT_RETRIES, FencedCounterCommit
from chalicelib.core.model import JsonValue
from chalicelib.core.ports import Release
from chalicelib.processors.access_log.aggregate import HourTotals, increments

HOURS = ("2026-03-01T00", "2026-03-01T01")


class ContendedTable:
    """A stand-in for DynamoDB's TransactWriteItems on counter items (the lock action of each
    transaction always holds: each file has its own lock record and fence)."""

    def __init__(self, conflict_rate: float = 0.0, seed: int = 0, hold_seconds: float = 0.0):
        self.counters: dict[str, Counter[str]] = {}
        self.calls = 0
        self.conflicts = 0
        self._conflict_rate = conflict_rate
        self._random = random.Random(seed)
        self._hold = hold_seconds
        self._held: set[str] = set()
        self._mutex = threading.Lock()

    def transact_write_items(self, TransactItems: list[Any], ClientRequestToken: str) -> Any:
        counters = [a["Update"] for a in TransactItems if a["Update"]["TableName"] == "aggregates"]
        keys = {update["Key"]["pk"]["S"] for update in counters}
        with self._mutex:
            self.calls += 1
            if keys & self._held or self._random.random() < self._conflict_rate:
                self.conflicts += 1
                raise _conflict(len(TransactItems))
            self._held |= keys
        time.sleep(self._hold)
        with self._mutex:
            for update in counters:
                item = self.counters.setdefault(update["Key"]["pk"]["S"], Counter())
                names = update["ExpressionAttributeNames"]
                values = update["ExpressionAttributeValues"]
                for placeholder, name in names.items():
                    item[name] += int(values[":" + placeholder[1:]]["N"])
            self._held -= keys
        return {}

    def hour_totals(self) -> dict[str, dict[str, JsonValue]]:
        hours: dict[str, HourTotals] = {}
        for pk, counters in self.counters.items():
            hours.setdefault(pk.partition("#")[0], HourTotals()).merge(
                HourTotals.from_counters(counters)
            )
        return {hour: hours[hour].to_json() for hour in sorted(hours)}


def _conflict(actions: int) -> ClientError:
    reasons = [{"Code": "None"}] + [{"Code": "TransactionConflict"}] * (actions - 1)
    response: Any = {
        "Error": {"Code": "TransactionCanceledException", "Message": "conflict"},
        "CancellationReasons": reasons,
    }
    return ClientError(response, "TransactWriteItems")


def release_of(file: int, shards: int) -> Release:
    hours = {hour: HourTotals(requests=file, bytes=7 * file, status={200: file}) for hour in HOURS}
    return Release(
        pk=f"file-{file}",
        fence=1,
        now_ms=1,
        expires_at=2,
        result={"file": file},
        increments=increments(hours, None if shards == 1 else file % shards),
    )


def expected(total: int) -> dict[str, dict[str, JsonValue]]:
    if not total:
        return {}
    one = HourTotals(requests=total, bytes=7 * total, status={200: total}).to_json()
    return {hour: one for hour in HOURS}


def commit(table: ContendedTable, sleeps: list[float] | None = None) -> FencedCounterCommit:
    """The commit under test; its pauses are recorded in `sleeps`, or really slept."""
    sleep = sleeps.append if sleeps is not None else time.sleep
    return FencedCounterCommit(table, "locks", "aggregates", sleep=sleep)  # type: ignore[arg-type]


@pytest.mark.parametrize("rate", [0.5, 0.9])
def test_at_high_conflict_rates_every_commit_lands_once_with_bounded_retries(rate: float) -> None:
    table = ContendedTable(conflict_rate=rate, seed=int(rate * 10))
    sleeps: list[float] = []
    files = range(1, 41)
    landed = 0

    for file in files:
        calls_before = table.calls
        try:
            assert commit(table, sleeps).commit(release_of(file, shards=1))
            landed += file
        except ClientError:
            pass  # every retry conflicted: the record fails, Lambda retries the event
        assert table.calls - calls_before <= CONFLICT_RETRIES + 1

    assert table.hour_totals() == expected(landed)
    assert table.conflicts > 0
    assert len(set(sleeps)) > 1 and all(0 <= s <= 1.0 for s in sleeps)  # jittered, capped
    assert landed >= sum(files) // 2


def test_when_every_attempt_conflicts_the_commit_raises_and_changes_nothing() -> None:
    table = ContendedTable(conflict_rate=1.0)

    with pytest.raises(ClientError, match="TransactionCanceledException"):
        commit(table, []).commit(release_of(1, shards=1))

    assert table.calls == CONFLICT_RETRIES + 1
    assert table.counters == {}


@pytest.mark.parametrize("shards", [1, 4])
def test_concurrent_commits_on_the_same_hours_total_exactly(shards: int) -> None:
    table = ContendedTable(hold_seconds=0.002)
    files = range(1, 65)
    failures: list[BaseException] = []

    def worker(mine: list[int]) -> None:
        for file in mine:
            try:
                commit(table).commit(release_of(file, shards))
            except BaseException as exc:
                failures.append(exc)

    threads = [threading.Thread(target=worker, args=(list(files)[i::8],)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    assert table.hour_totals() == expected(sum(files))
    assert len(table.counters) == len(HOURS) * shards
    assert table.conflicts > 0  # they did contend
