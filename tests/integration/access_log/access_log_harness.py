"""The access-log pipeline on DynamoDB Local and moto's S3, with workers that can be stopped.

Faults are injected from outside the application, through botocore's event hooks on a worker's
own DynamoDB client: a hook before or after its n-th TransactWriteItems either blocks (a worker
paused beyond its lease) or SIGKILLs its own process (a worker killed at an exact step).

As a program (`python -m tests.integration.access_log.access_log_harness < job.json`) it is
such a worker: it delivers the job's uploads once and, if told, kills itself at the given
transaction.
"""

from __future__ import annotations

import dataclasses
import gzip
import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from chalicelib.aws.dynamodb_counters import FencedCounterCommit
from chalicelib.aws.dynamodb_lock import DynamoDBLockRepository
from chalicelib.aws.s3_objects import S3ObjectStore
from chalicelib.core.errors import IncompleteBatchError
from chalicelib.core.model import IdempotencyScope
from chalicelib.core.service import IdempotentPipeline, Invocation, LeasePolicy
from chalicelib.processors.access_log.processor import AccessLogProcessor
from chalicelib.routes.notifications import parse_event
from s3once.aws.tables import create_aggregates_table, create_lock_table
from s3once.commands.report import read_totals
from s3once.s3_events import Upload, created_event, put_upload
from tests.access_log_data import Request, log_bytes, truth
from tests.conftest import unique_name

PROJECT_DIR = Path(__file__).resolve().parents[3]
LEASE_SECONDS = 60
# A clock this far ahead sees every lease taken by a worker on the real clock as expired.
BEYOND_LEASE_MS = (LEASE_SECONDS + 60) * 1000
CLIENT_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5})
TRANSACTION = "dynamodb.TransactWriteItems"


@dataclass(frozen=True)
class Stack:
    dynamodb_url: str
    s3_url: str
    bucket: str
    lock_table: str
    aggregates_table: str

    def dynamodb(self) -> Any:
        return boto3.client("dynamodb", endpoint_url=self.dynamodb_url, config=CLIENT_CONFIG)

    def s3(self) -> Any:
        return boto3.client("s3", endpoint_url=self.s3_url)

    def totals(self) -> dict[str, Any]:
        hours = read_totals(self.dynamodb(), self.aggregates_table)
        return {hour: totals.to_json() for hour, totals in hours.items()}

    def lock_items(self) -> list[dict[str, Any]]:
        return list(self.dynamodb().scan(TableName=self.lock_table, ConsistentRead=True)["Items"])


@dataclass(frozen=True)
class LogFile:
    key: str
    body: bytes
    requests: tuple[Request, ...]


def new_stack(dynamodb_url: str, s3_url: str) -> Stack:
    """A new bucket, lock table and aggregates table on the given servers."""
    stack = Stack(
        dynamodb_url=dynamodb_url,
        s3_url=s3_url,
        bucket=unique_name("logs"),
        lock_table=unique_name("locks"),
        aggregates_table=unique_name("aggregates"),
    )
    stack.s3().create_bucket(Bucket=stack.bucket)
    create_lock_table(stack.dynamodb(), stack.lock_table)
    create_aggregates_table(stack.dynamodb(), stack.aggregates_table)
    return stack


def log_file(key: str, items: list[Request], fmt: str, compress: bool = False) -> LogFile:
    body = log_bytes(items, fmt, garbage_every=37)
    return LogFile(key, gzip.compress(body, mtime=0) if compress else body, tuple(items))


def truth_of(files: list[LogFile]) -> dict[str, Any]:
    return truth([request for file in files for request in file.requests])


def upload(stack: Stack, file: LogFile) -> Upload:
    return put_upload(stack.s3(), stack.bucket, file.key, file.body, "text/plain")


class OffsetClock:
    def __init__(self, offset_ms: int = 0) -> None:
        self.offset_ms = offset_ms

    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000 + self.offset_ms


class TransactionCounter:
    """Counts a client's TransactWriteItems calls, and calls `action(n)` before/after the n-th."""

    def __init__(
        self, client: Any, when: str = "after", action: Callable[[int], None] | None = None
    ):
        self.calls = 0
        self._action = action
        client.meta.events.register(
            f"{'before' if when == 'before' else 'after'}-call.{TRANSACTION}", self
        )

    def __call__(self, **_: Any) -> None:
        self.calls += 1
        if self._action is not None:
            self._action(self.calls)


@dataclass
class Worker:
    pipeline: IdempotentPipeline
    dynamodb: Any
    name: str

    def deliver(self, *uploads: Upload) -> list[str]:
        """Outcomes of one invocation with these records (busy/failed ones included)."""
        event = parse_event(created_event(*uploads))
        try:
            summary = self.pipeline.handle(event, Invocation(request_id=self.name))
        except IncompleteBatchError as exc:
            return [str(record["outcome"]) for record in exc.records]
        return [record.outcome.value for record in summary.records]


def worker(stack: Stack, name: str = "worker", clock_offset_ms: int = 0) -> Worker:
    session = boto3.session.Session()
    dynamodb = session.client("dynamodb", endpoint_url=stack.dynamodb_url, config=CLIENT_CONFIG)
    s3 = session.client("s3", endpoint_url=stack.s3_url)
    counters = FencedCounterCommit(dynamodb, stack.lock_table, stack.aggregates_table)
    pipeline = IdempotentPipeline(
        locks=DynamoDBLockRepository(dynamodb, stack.lock_table, counters),
        processor=AccessLogProcessor(S3ObjectStore(s3), logger=_quiet_logger()),
        clock=OffsetClock(clock_offset_ms),
        scope=IdempotencyScope.CONTENT,
        lease=LeasePolicy(LEASE_SECONDS),
        record_ttl_days=30,
        logger=_quiet_logger(),
    )
    return Worker(pipeline, dynamodb, name)


def _quiet_logger() -> logging.Logger:
    logger = logging.getLogger("tests.access_log")
    logger.setLevel(logging.INFO)
    return logger


def run_killed_worker(stack: Stack, uploads: list[Upload], when: str, call: int) -> int:
    """Run a worker process that SIGKILLs itself before/after its `call`-th transaction."""
    job = {
        "stack": dataclasses.asdict(stack),
        "uploads": [dataclasses.asdict(u) for u in uploads],
        "when": when,
        "call": call,
    }
    process = subprocess.run(
        [sys.executable, "-m", "tests.integration.access_log.access_log_harness"],
        input=json.dumps(job).encode(),
        cwd=PROJECT_DIR,
        capture_output=True,
        timeout=120,
        check=False,
    )
    if process.returncode != -signal.SIGKILL:
        raise AssertionError(f"worker was not killed: {process.returncode} {process.stderr!r}")
    return process.returncode


def _main() -> None:
    job = json.load(sys.stdin)
    stack = Stack(**job["stack"])
    target = int(job["call"])
    me = worker(stack, name=f"killed-{os.getpid()}")

    def kill(n: int) -> None:
        if n == target:
            os.kill(os.getpid(), signal.SIGKILL)

    TransactionCounter(me.dynamodb, job["when"], kill)
    print(json.dumps(me.deliver(*(Upload(**u) for u in job["uploads"]))))


if __name__ == "__main__":
    _main()
