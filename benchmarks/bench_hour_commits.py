"""Commit throughput on one hour's counters as concurrent workers grow, with K shards.

Every worker process takes the lock on files of its own and completes each with the counter
increments of one log file for the same UTC hour: the fenced `TransactWriteItems` of
`chalicelib/aws/dynamodb_counters.py`. With K shards, a file's increments go to one of K items of
that hour (chosen per file, so one transaction still carries them all under the fence).

On DynamoDB Local. It applies transactions one at a time and never answers
TransactionConflict, so this measures the client and the local server, not DynamoDB's limits on
one item (1,000 WCU/s per partition, 2 WCU per transactional write, conflicts rejected rather
than queued): with K shards an hour takes K times the commits before it reaches them.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Mapping, Sequence
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from typing import Any

import boto3

from benchmarks.wire import RequestCounter
from chalicelib import composition
from chalicelib.aws.dynamodb_counters import FencedCounterCommit
from chalicelib.aws.dynamodb_lock import DynamoDBLockRepository
from chalicelib.core.model import ObjectRef
from chalicelib.core.ports import Acquired, CounterIncrement, LeaseRequest, Release
from chalicelib.processors.access_log.aggregate import HourTotals, increments
from chalicelib.processors.access_log.processor import shard_of
from s3once.aws.tables import create_aggregates_table, create_lock_table
from s3once.local.servers import OFFLINE_CREDENTIALS, dynamodb_local

WORKERS = (1, 2, 4, 8)
SHARDS = (1, 4)  # 4: the default of ACCESS_LOG_SHARDS
FILES = 120  # per configuration, shared among its workers
HOUR = "2026-11-28T21"
LOCK_TABLE = "bench-hour-locks"
AGGREGATES_TABLE = "bench-hour-aggregates"
DELTAS = {
    "requests": 120,
    "bytes": 1_048_576,
    "errors_4xx": 9,
    "errors_5xx": 1,
    "status_200": 110,
    "status_404": 9,
    "status_503": 1,
}


def counter_key(hour: str, label: str, index: int, shards: int) -> str:
    """The item a file's increments for `hour` go to, chosen as the processor chooses it."""
    obj = ObjectRef("logs", f"{label}/{index}.log", etag=f"{index:032x}", size=1)
    (increment,) = increments({hour: HourTotals()}, shard_of(obj, shards))
    return increment.key


def worker(label: str, files: int, shards: int, start: Barrier) -> tuple[float, float, int]:
    client = composition.dynamodb_client(boto3.session.Session())
    counter = RequestCounter()
    counter.attach(client)
    locks = DynamoDBLockRepository(
        client, LOCK_TABLE, FencedCounterCommit(client, LOCK_TABLE, AGGREGATES_TABLE)
    )
    client.describe_table(TableName=LOCK_TABLE)  # the connection is open before the clock starts
    start.wait()
    started = time.perf_counter()
    sent = counter.requests
    for index in range(files):
        now = time.time_ns() // 1_000_000
        obj = ObjectRef("logs", f"{label}/{index}.log", etag=f"{index:032x}", size=1)
        pk = f"access-log#content#logs#{label}/{index}.log#e={index:032x}"
        acquired = locks.acquire(
            LeaseRequest(pk, obj, label, now, now + 60_000, now // 1000 + 3600)
        )
        assert isinstance(acquired, Acquired)
        increment = CounterIncrement(counter_key(HOUR, label, index, shards), DELTAS)
        release = Release(pk, acquired.fence, now, now // 1000 + 3600, {}, None, (increment,))
        assert locks.complete(release)
    return started, time.perf_counter(), counter.requests - sent


def _report(queue: Queue[tuple[float, float, int]], *arguments: Any) -> None:
    queue.put(worker(*arguments))


def run(workers: int, shards: int, files: int = FILES) -> dict[str, object]:
    context = multiprocessing.get_context("fork")
    start = context.Barrier(workers)
    queue: Queue[tuple[float, float, int]] = context.Queue()
    processes = [
        context.Process(
            target=_report,
            args=(queue, f"w{workers}-k{shards}-{files}-{n}", files // workers, shards, start),
        )
        for n in range(workers)
    ]
    for process in processes:
        process.start()
    results = [queue.get(timeout=600) for _ in processes]
    for process in processes:
        process.join()
        if process.exitcode != 0:
            raise RuntimeError(f"a commit worker exited with {process.exitcode}")
    files = workers * (files // workers)
    seconds = max(end for _, end, _ in results) - min(begin for begin, _, _ in results)
    return {
        "shards (K)": shards,
        "workers": workers,
        "files": files,
        "requests/file": round(sum(sent for _, _, sent in results) / files, 2),
        "files/s": round(files / seconds, 1),
    }


def main() -> list[dict[str, object]]:
    for name, value in OFFLINE_CREDENTIALS.items():
        os.environ.setdefault(name, value)
    with dynamodb_local() as url:
        os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = url
        client = boto3.client("dynamodb")
        create_lock_table(client, LOCK_TABLE)
        create_aggregates_table(client, AGGREGATES_TABLE)
        run(2, 1, files=20)  # warms DynamoDB Local's JIT up; not kept
        rows = [run(workers, shards) for shards in SHARDS for workers in WORKERS]
    floor = {int(str(r["shards (K)"])): float(str(r["files/s"])) for r in rows if r["workers"] == 1}
    for row in rows:
        one = floor[int(str(row["shards (K)"]))]
        row["vs 1 worker"] = f"{float(str(row['files/s'])) / one:.2f}x"
    return rows


def summary(rows: Sequence[Mapping[str, object]]) -> list[str]:
    best = max(rows, key=lambda r: float(str(r["files/s"])))
    return [
        f"Most commits on one hour item: {best['files/s']} files/s with {best['workers']}"
        f" workers and K={best['shards (K)']} ({best['vs 1 worker']} one worker's rate)."
    ]
