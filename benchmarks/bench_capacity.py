"""Capacity: requests and capacity units per object, and the peak per key at 10,000 uploads/s.

The table is `benchmarks/capacity_model.py` pricing one object of each kind through the real
lock adapter on an in-memory DynamoDB that bills every write as DynamoDB does (index writes
included: the open-work entry put on acquisition, moved on failure, deleted on completion; the
by-object entry put once). "access-log table WCU" is the same object on an access-log stage,
whose completion is a fenced transaction adding to one hour's counters (twice the units). The
lines below it are the simulated peaks of 100,000 lifecycles at 10,000 uploads a second, and a
lock table of 1,000,000 records on DynamoDB Local (2% open) read by `s3once status`'s code:
every open-work shard queried, no scan. `CAPACITY_SEED_RECORDS` changes the table's size.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3

from benchmarks.capacity_model import cost_rows, simulate
from chalicelib.aws import lock_table as layout
from s3once.aws.status_reads import read_status
from s3once.aws.tables import create_lock_table
from s3once.local.servers import OFFLINE_CREDENTIALS, dynamodb_local

TABLE = "s3-once-capacity"
RECORDS = int(os.environ.get("CAPACITY_SEED_RECORDS", "1000000"))
OPEN_EVERY = 50  # 2% open: 1 in 100 FAILED, 1 in 100 IN_PROGRESS
THREADS = 8
BATCH = 25  # BatchWriteItem's limit
NOW_MS = 1_767_225_600_000

_LINES: list[str] = []


def record(number: int) -> dict[str, Any]:
    """A record as the lock adapter leaves it, COMPLETED or (one in OPEN_EVERY) open."""
    pk = f"content-type#content#uploads#incoming/{number:08d}.csv#e={number:032x}"
    item: dict[str, Any] = {
        layout.PK: {"S": pk},
        layout.BUCKET: {"S": "uploads"},
        layout.KEY: {"S": f"incoming/{number:08d}.csv"},
        layout.ETAG: {"S": f"{number:032x}"},
        layout.ATTEMPTS: {"N": "1"},
        layout.OWNER: {"S": f"request-{number}"},
        layout.LEASE_EXPIRES_AT: {"N": str(NOW_MS - 60_000)},
        layout.CREATED_AT: {"N": str(NOW_MS - number)},
        layout.UPDATED_AT: {"N": str(NOW_MS - number)},
        layout.EXPIRES_AT: {"N": str(NOW_MS // 1000 + 2_592_000)},
        layout.STATUS: {"S": layout.COMPLETED},
    }
    if number % OPEN_EVERY == 0:
        status = layout.FAILED if number % (2 * OPEN_EVERY) == 0 else layout.IN_PROGRESS
        item[layout.STATUS] = {"S": status}
        item[layout.OPEN_SHARD] = {"S": layout.open_shard(pk, status, layout.DEFAULT_OPEN_SHARDS)}
        item[layout.OPEN_SINCE] = item[layout.UPDATED_AT]
        if status == layout.FAILED:
            item[layout.LAST_ERROR] = {"S": "ValueError: not a CSV"}
    else:
        item[layout.RESULT] = {"M": {"content_type": {"S": "text/csv"}, "size": {"N": "2048"}}}
    return item


def seed(client: Any, records: int) -> int:
    """BatchWriteItem in parallel threads; returns the requests sent."""
    sent = [0]
    lock = threading.Lock()

    def write(start: int) -> None:
        pending: dict[str, Any] = {
            TABLE: [
                {"PutRequest": {"Item": record(n)}}
                for n in range(start, min(start + BATCH, records))
            ]
        }
        while pending:
            answer = client.batch_write_item(RequestItems=pending)
            with lock:
                sent[0] += 1
            pending = answer.get("UnprocessedItems") or {}

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        list(pool.map(write, range(0, records, BATCH)))
    return sent[0]


def main() -> list[dict[str, object]]:
    rows = cost_rows()
    _LINES.clear()
    run = simulate()
    for what, (peak, value) in run.peaks.items():
        _LINES.append(
            f"simulated {run.lifecycles:,} lifecycles at {run.rate:,} uploads/s: {what} peaks at"
            f" {peak} WCU/s on one value ({value[:40]}), limit 1,000"
        )
    for name, value in OFFLINE_CREDENTIALS.items():
        os.environ.setdefault(name, value)
    with dynamodb_local() as url:
        client = boto3.client("dynamodb", endpoint_url=url)
        create_lock_table(client, TABLE)
        began = time.perf_counter()
        requests = seed(client, RECORDS)
        seeded = time.perf_counter() - began
        began = time.perf_counter()
        report = read_status(client, TABLE, layout.DEFAULT_OPEN_SHARDS, False, NOW_MS)
        took = time.perf_counter() - began
    open_records = report.total("FAILED") + report.total("IN_PROGRESS")
    _LINES.append(
        f"seeded {RECORDS:,} records ({RECORDS // OPEN_EVERY:,} open) on DynamoDB Local in"
        f" {seeded:.0f} s with {requests:,} BatchWriteItem requests in {THREADS} threads"
    )
    _LINES.append(
        f"`s3once status` listed {open_records:,} open records with {report.requests} requests"
        f" (1 DescribeTable, the rest Query pages on {2 * layout.DEFAULT_OPEN_SHARDS} open-work"
        f" shards; no scan), {report.read_units:g} read units, in {took:.1f} s"
    )
    return rows


def summary(rows: Sequence[Mapping[str, object]]) -> list[str]:
    return list(_LINES)
